#include "app/cli/command.h"

int main(int argc, char** argv) { return otcs::cli::main_entry(argc, argv); }
