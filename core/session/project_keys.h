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

// Loads each project file as the commands do (a generation project when "kind" is "generation") and returns, per
// kind, the keys of project_keys() the reader never asked for meanwhile; empty when the files take every variant
// of every object. A listed key that no file can make the reader ask for is one it does not accept. Not
// thread-safe (records into a global while it runs); for `otcs project-keys FILE...` and the schema test.
std::map<std::string, std::vector<std::string>> project_keys_unread(const std::vector<std::string>& paths);

}  // namespace otcs::session
