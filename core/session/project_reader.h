// The project reader shared by both project kinds' parsers: a JSON object reader that names the JSON path in
// every error and records which keys it read, so unknown keys are reported and project_keys() stays complete.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/io/file.h"
#include "core/session/project.h"
#include "core/session/project_keys.h"

namespace otcs::session::detail {

using nlohmann::json;

// While project_keys_unread() parses, every key a Reader asks for (present in the file or not), per kind.
extern std::map<std::string, std::set<std::string>>* keys_read;

// Reads one JSON object of a kind listed in project_keys(), remembering which keys were used so the rest can be
// reported as unknown.
class Reader {
 public:
  Reader(const json& j, std::string pointer, const std::string& file, const std::string& kind)
      : j_(j), ptr_(std::move(pointer)), file_(file), kind_(kind) {
    auto it = project_keys().find(kind_);
    if (it == project_keys().end()) throw std::logic_error("project reader: no key list for object kind " + kind_);
    keys_ = &it->second;
    if (!j_.is_object()) error(ptr_, fmt::format("expected an object, got {}", j_.type_name()));
  }

  [[noreturn]] void error(const std::string& pointer, const std::string& what) const {
    fail("{}: {}: {}", file_, pointer.empty() ? "/" : pointer, what);
  }
  std::string at(const std::string& key) const { return ptr_ + "/" + key; }
  bool has(const std::string& key) const { return j_.contains(key); }

  const json* get(const std::string& key) {
    take(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  const json& require(const std::string& key) {
    const json* v = get(key);
    if (!v) error(at(key), "missing");
    return *v;
  }

  double number_value(const json& v, const std::string& path) const {
    if (!v.is_number()) error(path, fmt::format("expected a number, got {}", v.type_name()));
    return v.get<double>();
  }
  int64_t integer_value(const json& v, const std::string& path) const {
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (std::floor(d) == d && std::abs(d) < 9e15) return int64_t(d);
      error(path, fmt::format("expected an integer, got {}", d));
    }
    error(path, fmt::format("expected an integer, got {}", v.type_name()));
  }

  double number(const std::string& key, double fallback) {
    const json* v = get(key);
    return v ? number_value(*v, at(key)) : fallback;
  }
  double positive(const std::string& key, double fallback) {
    double v = number(key, fallback);
    if (!(v > 0)) error(at(key), fmt::format("must be > 0 (got {})", v));
    return v;
  }
  double non_negative(const std::string& key, double fallback) {
    double v = number(key, fallback);
    if (!(v >= 0)) error(at(key), fmt::format("must be >= 0 (got {})", v));
    return v;
  }
  double unit_interval(const std::string& key, double fallback) {
    double v = number(key, fallback);
    if (!(v >= 0 && v <= 1)) error(at(key), fmt::format("must lie in [0, 1] (got {})", v));
    return v;
  }
  int64_t integer(const std::string& key, int64_t fallback) {
    const json* v = get(key);
    return v ? integer_value(*v, at(key)) : fallback;
  }
  int64_t positive_integer(const std::string& key, int64_t fallback) {
    int64_t v = integer(key, fallback);
    if (v < 1) error(at(key), fmt::format("must be a positive integer (got {})", v));
    return v;
  }
  int64_t non_negative_integer(const std::string& key, int64_t fallback) {
    int64_t v = integer(key, fallback);
    if (v < 0) error(at(key), fmt::format("must be >= 0 (got {})", v));
    return v;
  }
  uint64_t seed(const std::string& key, uint64_t fallback) {
    int64_t v = integer(key, int64_t(fallback));
    if (v < 0) error(at(key), fmt::format("a seed must be >= 0 (got {})", v));
    return uint64_t(v);
  }
  bool boolean(const std::string& key, bool fallback) {
    const json* v = get(key);
    if (!v) return fallback;
    if (!v->is_boolean()) error(at(key), fmt::format("expected true or false, got {}", v->type_name()));
    return v->get<bool>();
  }
  std::string string(const std::string& key, const std::string& fallback) {
    const json* v = get(key);
    if (!v) return fallback;
    if (!v->is_string()) error(at(key), fmt::format("expected a string, got {}", v->type_name()));
    return v->get<std::string>();
  }
  // A string parsed by `parse`; its UserError message (the accepted values) gets the JSON path in front.
  template <typename T, typename Parse>
  T choice(const std::string& key, T fallback, Parse parse) {
    if (!has(key)) {
      take(key);
      return fallback;
    }
    std::string s = string(key, "");
    try {
      return parse(s);
    } catch (const UserError& e) {
      error(at(key), e.what());
    }
  }
  std::vector<double> numbers(const std::string& key, const std::vector<double>& fallback) {
    const json* v = get(key);
    if (!v) return fallback;
    if (v->is_number()) return {number_value(*v, at(key))};
    if (!v->is_array()) error(at(key), fmt::format("expected an array of numbers, got {}", v->type_name()));
    std::vector<double> out;
    for (size_t i = 0; i < v->size(); ++i) out.push_back(number_value((*v)[i], at(key) + "/" + std::to_string(i)));
    return out;
  }
  std::vector<int64_t> integers(const std::string& key, const std::vector<int64_t>& fallback) {
    const json* v = get(key);
    if (!v) return fallback;
    if (!v->is_array()) error(at(key), fmt::format("expected an array of integers, got {}", v->type_name()));
    std::vector<int64_t> out;
    for (size_t i = 0; i < v->size(); ++i) out.push_back(integer_value((*v)[i], at(key) + "/" + std::to_string(i)));
    return out;
  }
  // A nested object of the given kind; absent: an empty one (every key takes its default).
  Reader object(const std::string& key, const std::string& kind) {
    static const json empty = json::object();
    const json* v = get(key);
    return Reader(v ? *v : empty, at(key), file_, kind);
  }
  const json* array(const std::string& key) {
    const json* v = get(key);
    if (v && !v->is_array()) error(at(key), fmt::format("expected an array, got {}", v->type_name()));
    return v;
  }
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!used_.count(it.key())) error(at(it.key()), "unknown key");
  }
  const std::string& pointer() const { return ptr_; }
  const std::string& file() const { return file_; }
  const json& raw() const { return j_; }

 private:
  // Marks KEY as read; the reader may only read keys that project_keys() lists for this kind of object.
  void take(const std::string& key) {
    if (std::find(keys_->begin(), keys_->end(), key) == keys_->end())
      throw std::logic_error(
          fmt::format("project reader: key {} of a {} object is missing from project_keys()", key, kind_));
    used_.insert(key);
    if (keys_read) (*keys_read)[kind_].insert(key);
  }

  const json& j_;
  std::string ptr_;
  const std::string& file_;
  std::string kind_;
  const std::vector<std::string>* keys_ = nullptr;
  std::set<std::string> used_;
};

std::string project_path(Reader& r, const std::string& key, const std::string& base_dir, bool required);
ImageSetSpec parse_image_set(Reader r, const std::string& base_dir);
DatasetSpec parse_dataset(Reader r, const std::string& base_dir);
void parse_network(Reader q, diffusion::NetworkSpec& n);
diffusion::SamplerSpec parse_sampler(Reader r);
json parse_json(const std::string& text, const std::string& name);
int read_schema_version(Reader& r);

// Reads PATH and parses it with relative paths resolved against its folder; records where it came from.
template <class P, class Parse>
P load_from_file(const std::string& path, Parse parse) {
  const std::string text = io::read_file(path);
  const std::filesystem::path abs = std::filesystem::absolute(path);
  const std::string base = project_base_dir(path);
  P p = parse(text, path, base);
  p.path = abs.string();
  p.dir = base;
  return p;
}

}  // namespace otcs::session::detail
