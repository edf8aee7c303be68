#pragma once
// The figures of `otcs compare`, drawn from runs already read into plain data (core/session/run_compare.h).
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "core/session/run_compare.h"

namespace otcs::imaging {

// Every curve of every run overlaid, one colour per run and a legend by run name, one panel per kind of curve,
// stacked vertically: the OT dual objective, each OT diagnostics column (log y) and the score loss (log y).
// uint8 [H, W, 3]; undefined when no run has any curve.
torch::Tensor compare_losses_figure(const std::vector<session::ComparedRun>& runs);

// The first k sources and each run's translations of them, every row labelled: one row of sources above one row
// per run when `shared_sources`, otherwise each run's own sources above its translations. Runs without
// translations are left out; k is at most the smallest number of translations a run has. uint8 [H, W, 3].
torch::Tensor compare_translations_figure(const std::vector<session::ComparedRun>& runs, int64_t k,
                                          bool shared_sources);

}  // namespace otcs::imaging
