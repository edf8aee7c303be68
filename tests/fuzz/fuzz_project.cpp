// Project JSON (core/session/project.h parse_project).
#include "core/session/project.h"
#include "fuzz_common.h"

OTCS_FUZZ_ENTRY(otcs::session::parse_project(bytes, "fuzz.json", "/nonexistent-fuzz-base"))
