#pragma once
// CSV tables: the numeric curves a run writes (a header line naming the columns, then one row of numbers a line:
// ot/dual.csv, ot/diagnostics.csv, score/loss.csv) and the quoting of cells written for spreadsheets (RFC 4180).
#include <string>
#include <vector>

namespace otcs::io {

struct NumericTable {
  std::vector<std::string> columns;         // from the header line
  std::vector<std::vector<double>> values;  // values[column][row]; "nan" and "inf" cells are kept as such
  size_t rows() const { return values.empty() ? 0 : values.front().size(); }
};

// Throws UserError naming the file and line for a missing header, a row whose length differs from the header's or
// a cell that is not a number. A last line without its newline that does not parse is dropped: a stage that is
// still writing (or was killed) leaves such a torn line, and the rows before it are complete.
NumericTable read_numeric_csv(const std::string& path);
NumericTable parse_numeric_csv(const std::string& text, const std::string& name_for_errors);
// Only the named columns (those the header has, in header order); the other cells may hold anything, but every
// row still needs as many cells as the header names.
NumericTable read_numeric_csv_columns(const std::string& path, const std::vector<std::string>& wanted);
NumericTable parse_numeric_csv_columns(const std::string& text, const std::string& name_for_errors,
                                       const std::vector<std::string>& wanted);

// One cell as RFC 4180 writes it: in double quotes (inner quotes doubled) when it holds a comma, a double quote,
// CR or LF; as it is otherwise.
std::string csv_field(const std::string& text);

}  // namespace otcs::io
