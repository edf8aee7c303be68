#pragma once
// Start-up of otcs-workbench: command line, logging, threads, settings, main window, and the test/automation
// options (--screenshot, --screenshot-views, --quit-after).
namespace otcs::workbench {

int runWorkbench(int argc, char** argv);

// Makes the compiled-in resources (icons) available; needed once per process because they live in a static
// library. Tests that build a MainWindow call it too.
void initResources();

}  // namespace otcs::workbench
