#include "core/run/json_text.h"

#include <cmath>

#include "core/io/file.h"

namespace otcs::run {

namespace {

using nlohmann::json;

// Cleans `j` in place. A non-finite number that belongs to no nearer object is recorded in `flags` under `name`.
void clean(json& j, const std::string& name, json& flags) {
  if (j.is_number_float()) {
    const double v = j.get<double>();
    if (!std::isfinite(v)) {
      flags[name] = std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
      j = nullptr;
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) clean(j[i], name + "/" + std::to_string(i), flags);
  } else if (j.is_object()) {
    json own = json::object();
    for (auto it = j.begin(); it != j.end(); ++it) clean(it.value(), it.key(), own);
    if (own.empty()) return;
    json& existing = j["nonfinite"];
    if (!existing.is_object()) existing = json::object();
    existing.update(own);
  }
}

}  // namespace

nlohmann::json strict_json(nlohmann::json value) {
  json top = json::object();  // non-finite numbers outside any object (a bare number or array) have no place to flag
  clean(value, "", top);
  return value;
}

std::string json_text(const nlohmann::json& value) {
  return strict_json(value).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

void write_json_atomic(const std::string& path, const nlohmann::json& value) {
  io::write_file_atomic(path, json_text(value));
}

}  // namespace otcs::run
