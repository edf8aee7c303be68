#pragma once
// The figures of a translation run (PNG in the run directory), drawn from its artifacts once the run completes,
// whichever front end started it: point runs get data.png, potentials.png, trajectories.png and
// conditionals.png, image runs translations.png, test_translations.png and confusion.png, and both H.png and loss.png.
// A figure whose artifacts are absent (`--until STAGE`) is skipped.
#include <string>
#include <vector>

namespace otcs::imaging {

// Draws every figure the run's artifacts allow into run_dir and returns the names of the files written.
std::vector<std::string> render_run_figures(const std::string& run_dir);

}  // namespace otcs::imaging
