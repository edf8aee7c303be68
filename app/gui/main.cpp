#include "app/gui/workbenchapp.h"

int main(int argc, char** argv) { return otcs::workbench::runWorkbench(argc, argv); }
