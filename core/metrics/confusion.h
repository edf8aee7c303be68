#pragma once
// The confusion matrix of a translation eval: for each source class of the project's class map (a row), how many
// translations of its held-out inputs the project's classifier reads as each class (a column), and the target
// class each row should land in. Plain integers and nlohmann JSON: no LibTorch, so the figure code and the GUI's
// adapter read it with the same code that writes it.
//
// In metrics.json under "confusion":
//   {"rows": [source class, ...], "columns": [class read, ...], "expected": [target class of each row, ...],
//    "counts": [[count per column] per row]}
// Columns are the target set's classes in increasing order, followed by any other class the classifier read (it is
// trained on the target classes only, so such columns are rare); every translated input is counted once.
#include <cstdint>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace otcs::metrics {

struct ConfusionMatrix {
  std::vector<int64_t> rows;                 // source classes, in the class map's order
  std::vector<int64_t> columns;              // classes the classifier read
  std::vector<int64_t> expected;             // per row: the target class the class map sends it to
  std::vector<std::vector<int64_t>> counts;  // [rows.size()][columns.size()]

  bool empty() const { return rows.empty(); }
  int64_t total() const;
  int64_t row_total(size_t row) const;
  // The column of a row's expected class; -1 when the classifier never read that class and it is no target class.
  int expected_column(size_t row) const;
  // Inputs of the row read as its expected class (0 when expected_column is -1).
  int64_t expected_count(size_t row) const;
  // expected_count / row_total (0 for an empty row) and over all rows: the translated-class accuracy.
  double row_accuracy(size_t row) const;
  double accuracy() const;
};

// Counts each input i (source class source_class[i], classifier reading predicted[i]) in the row of its source
// class. `class_map` gives the rows (source class -> expected target class, in order); inputs of a class outside
// it are left out. `target_classes` are the columns (sorted, duplicates dropped); a read class outside them adds a
// column after them. source_class and predicted must have the same length.
ConfusionMatrix confusion_matrix(const std::vector<std::pair<int64_t, int64_t>>& class_map,
                                 const std::vector<int64_t>& source_class, const std::vector<int64_t>& predicted,
                                 std::vector<int64_t> target_classes);

nlohmann::json to_json(const ConfusionMatrix& matrix);
// The inverse of to_json; throws std::invalid_argument naming what is wrong when `j` is no such object (sizes that
// do not match, negative counts).
ConfusionMatrix confusion_from_json(const nlohmann::json& j);

}  // namespace otcs::metrics
