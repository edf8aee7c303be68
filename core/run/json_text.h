#pragma once
// Every JSON file a run writes is built as an nlohmann::json and written through here, so that it is strict JSON
// (RFC 8259) whatever its numbers are. JSON has no inf or NaN: such a number is written as null, and the object
// holding it gets a "nonfinite" member mapping the member's name (for an array element, name/index) to "inf",
// "-inf" or "nan", so a reader can tell a diverged metric from a missing one.
#include <string>

#include <nlohmann/json.hpp>

namespace otcs::run {

// `value` with every non-finite number replaced by null and flagged as above.
nlohmann::json strict_json(nlohmann::json value);
// strict_json(value), indented by two spaces, with a final newline; invalid UTF-8 in strings is replaced, not thrown.
std::string json_text(const nlohmann::json& value);
// json_text(value) written with io::write_file_atomic.
void write_json_atomic(const std::string& path, const nlohmann::json& value);

}  // namespace otcs::run
