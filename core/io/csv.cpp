#include "core/io/csv.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "core/common/error.h"
#include "core/io/file.h"

namespace otcs::io {

namespace {

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t b = 0;
  while (true) {
    const size_t comma = line.find(',', b);
    out.push_back(trim(line.substr(b, comma == std::string_view::npos ? std::string_view::npos : comma - b)));
    if (comma == std::string_view::npos) return out;
    b = comma + 1;
  }
}

// std::from_chars: the same in every locale (strtod reads "0.5" as 0 under a decimal-comma LC_NUMERIC).
bool parse_cell(std::string_view s, double& out) {
  if (s.size() > 1 && s.front() == '+') s.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

NumericTable parse_numeric_csv(const std::string& text, const std::string& name) {
  return parse_numeric_csv_columns(text, name, {});
}

NumericTable parse_numeric_csv_columns(const std::string& text, const std::string& name,
                                       const std::vector<std::string>& wanted) {
  NumericTable table;
  std::vector<bool> keep;  // per header column
  size_t pos = 0, line_no = 0;
  bool header = true;
  std::vector<double> row;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    const bool torn = end == std::string::npos;
    if (torn) end = text.size();
    const std::string_view line = trim(std::string_view(text).substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    const auto cells = split(line);
    if (header) {
      if (cells.size() < 2) fail("{}: line {}: expected a header naming two or more columns", name, line_no);
      for (auto c : cells) {
        keep.push_back(wanted.empty() || std::find(wanted.begin(), wanted.end(), c) != wanted.end());
        if (keep.back()) table.columns.emplace_back(c);
      }
      table.values.resize(table.columns.size());
      header = false;
      continue;
    }
    row.assign(cells.size(), 0.0);
    bool ok = cells.size() == keep.size();
    size_t bad = cells.size();
    for (size_t c = 0; ok && c < cells.size(); ++c)
      if (keep[c] && !parse_cell(cells[c], row[c])) ok = false, bad = c;
    if (!ok) {
      if (torn) break;
      if (cells.size() != keep.size())
        fail("{}: line {}: {} cells where the header names {} columns", name, line_no, cells.size(), keep.size());
      fail("{}: line {}: cell {} ('{}') is not a number", name, line_no, bad + 1, std::string(cells[bad]));
    }
    for (size_t c = 0, k = 0; c < row.size(); ++c)
      if (keep[c]) table.values[k++].push_back(row[c]);
  }
  if (header) fail("{}: empty (expected a header line naming the columns)", name);
  return table;
}

NumericTable read_numeric_csv(const std::string& path) { return parse_numeric_csv(read_file(path), path); }

NumericTable read_numeric_csv_columns(const std::string& path, const std::vector<std::string>& wanted) {
  return parse_numeric_csv_columns(read_file(path), path, wanted);
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

}  // namespace otcs::io
