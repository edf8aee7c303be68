#include "core/run/curve.h"

#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/common/error.h"
#include "core/io/csv.h"
#include "core/io/file.h"
#include "core/run/layout.h"

namespace otcs::run {

Curve parse_curve(const std::string& text, const std::string& name) {
  const io::NumericTable table = io::parse_numeric_csv(text, name);
  if (table.columns.front() != column::kStep)
    fail("{}: the first column is '{}', expected '{}'", name, table.columns.front(), column::kStep);
  const bool timed = table.columns.size() > 2 && table.columns.back() == column::kWallTime;
  const size_t last = timed ? table.columns.size() - 1 : table.columns.size();
  Curve c;
  c.columns.assign(table.columns.begin() + 1, table.columns.begin() + std::ptrdiff_t(last));
  c.values.assign(table.values.begin() + 1, table.values.begin() + std::ptrdiff_t(last));
  for (double s : table.values.front()) c.steps.push_back(int64_t(s));
  c.wall_time =
      timed ? table.values.back() : std::vector<double>(c.steps.size(), std::numeric_limits<double>::quiet_NaN());
  return c;
}

Curve read_curve(const std::string& path) { return parse_curve(io::read_file(path), path); }

double wall_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string curve_header(const std::vector<std::string>& columns) {
  std::string out = column::kStep;
  for (const auto& c : columns) out += "," + c;
  return out + "," + column::kWallTime + "\n";
}

std::string curve_row(int64_t step, const std::vector<double>& values, double wall_time, int digits) {
  std::string out = std::to_string(step);
  for (double v : values) out += fmt::format(",{:.{}g}", v, digits);
  out += std::isfinite(wall_time) ? fmt::format(",{:.3f}\n", wall_time) : std::string(",nan\n");
  return out;
}

CurveWriter::CurveWriter(std::string path, std::vector<std::string> columns, int64_t resume_step, int digits)
    : path_(std::move(path)), columns_(columns.size()), digits_(digits) {
  kept_.columns = columns;
  kept_.values.resize(columns.size());
  std::string text = curve_header(columns);
  if (resume_step > 0) {
    try {
      const Curve old = read_curve(path_);
      if (old.columns == columns)
        for (size_t r = 0; r < old.rows() && old.steps[r] <= resume_step; ++r) {
          std::vector<double> row;
          for (size_t c = 0; c < columns_; ++c) row.push_back(old.values[c][r]);
          text += curve_row(old.steps[r], row, old.wall_time[r], digits_);
          kept_.steps.push_back(old.steps[r]);
          kept_.wall_time.push_back(old.wall_time[r]);
          for (size_t c = 0; c < columns_; ++c) kept_.values[c].push_back(row[c]);
        }
    } catch (const std::exception&) {
      // No curve yet, or one that does not parse: the resumed stage's curve starts here.
    }
  }
  io::write_file_atomic(path_, text);
  out_.open(path_, std::ios::app);
  if (!out_) fail("{}: cannot open the curve for writing", path_);
}

void CurveWriter::append(int64_t step, const std::vector<double>& values) {
  if (values.size() != columns_) fail("{}: {} values for {} columns", path_, values.size(), columns_);
  out_ << curve_row(step, values, wall_time_now(), digits_);
}

}  // namespace otcs::run
