#pragma once
// The keys a project file may hold, per kind of JSON object. The project reader (project.cpp) reads every
// object through this list: asking for a key it does not list is an internal error, and a key in a file that the
// object's reader did not take is "unknown key". `otcs project-keys` prints it, so a test can hold the JSON Schema
// (resources/project.schema.json, whose $defs carry the same names) against what the reader accepts.
// Free of LibTorch.
#include <map>
#include <string>
#include <vector>

namespace otcs::session {

// Object kind ("translation", "generation", "dataset", "image_set", "ot_stage", ...) -> its keys.
const std::map<std::string, std::vector<std::string>>& project_keys();

}  // namespace otcs::session
