#pragma once
// Progress curves of a run (ot/dual.csv, ot/diagnostics.csv, score/loss.csv, a gen-train run's loss.csv): a header
// "step,<value columns>,wall_time", then one row a line. wall_time is the Unix time (seconds, UTC) the row was
// written, so curves of runs and of resumed stages can be laid on a clock. Files written before the column existed
// ("step,<value>") are read as well; their rows have no wall time (NaN). Each curve keeps its own value column
// names (dual_objective, loss, transport_cost, ...). Free of LibTorch and Qt: GUI translation units include it.
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace otcs::run {

struct Curve {
  std::vector<std::string> columns;  // the value columns, without step and wall_time
  std::vector<int64_t> steps;
  std::vector<std::vector<double>> values;  // values[column][row]
  std::vector<double> wall_time;            // one per row; NaN where the file has none
  size_t rows() const { return steps.size(); }
};

// Throws UserError naming the file for a missing header, a first column other than "step" or a malformed row; a
// torn last line (a writer still at work, or killed) is dropped.
Curve read_curve(const std::string& path);
Curve parse_curve(const std::string& text, const std::string& name_for_errors);

// The seconds since the Unix epoch now, as wall_time records it.
double wall_time_now();
// "step,<columns...>,wall_time\n".
std::string curve_header(const std::vector<std::string>& columns);
// One row; values with `digits` significant digits, the wall time to the millisecond ("nan" when unknown).
std::string curve_row(int64_t step, const std::vector<double>& values, double wall_time, int digits = 9);

// Appends rows to a curve file as a stage runs. A stage that starts at step 0 starts the file afresh; a stage
// resumed from a checkpoint at step S keeps the rows up to S (the later ones are redone, and would otherwise appear
// twice) and appends after them. Older two-column files are rewritten with the wall_time column (NaN for their
// rows); a file with other value columns (another solver) starts afresh.
class CurveWriter {
 public:
  CurveWriter(std::string path, std::vector<std::string> columns, int64_t resume_step = 0, int digits = 9);
  // The rows kept from before the resume (a stage shows them again).
  const Curve& kept() const { return kept_; }
  // Writes one row stamped with wall_time_now().
  void append(int64_t step, const std::vector<double>& values);
  void flush() { out_.flush(); }
  void close() { out_.close(); }

 private:
  std::string path_;
  size_t columns_;
  int digits_;
  Curve kept_;
  std::ofstream out_;
};

}  // namespace otcs::run
