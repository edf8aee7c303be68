#include "core/metrics/confusion.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>

namespace otcs::metrics {

int64_t ConfusionMatrix::total() const {
  int64_t n = 0;
  for (size_t r = 0; r < counts.size(); ++r) n += row_total(r);
  return n;
}

int64_t ConfusionMatrix::row_total(size_t row) const {
  return std::accumulate(counts[row].begin(), counts[row].end(), int64_t(0));
}

int ConfusionMatrix::expected_column(size_t row) const {
  auto it = std::find(columns.begin(), columns.end(), expected[row]);
  return it == columns.end() ? -1 : int(it - columns.begin());
}

int64_t ConfusionMatrix::expected_count(size_t row) const {
  const int c = expected_column(row);
  return c < 0 ? 0 : counts[row][size_t(c)];
}

double ConfusionMatrix::row_accuracy(size_t row) const {
  const int64_t n = row_total(row);
  return n > 0 ? double(expected_count(row)) / double(n) : 0.0;
}

double ConfusionMatrix::accuracy() const {
  int64_t n = 0, hit = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    n += row_total(r);
    hit += expected_count(r);
  }
  return n > 0 ? double(hit) / double(n) : 0.0;
}

ConfusionMatrix confusion_matrix(const std::vector<std::pair<int64_t, int64_t>>& class_map,
                                 const std::vector<int64_t>& source_class, const std::vector<int64_t>& predicted,
                                 std::vector<int64_t> target_classes) {
  if (source_class.size() != predicted.size())
    throw std::invalid_argument("confusion matrix: " + std::to_string(source_class.size()) + " source classes but " +
                                std::to_string(predicted.size()) + " predictions");
  ConfusionMatrix m;
  std::map<int64_t, size_t> row_of;
  for (auto [cs, ct] : class_map) {
    if (!row_of.emplace(cs, m.rows.size()).second) continue;  // a class listed twice keeps its first target
    m.rows.push_back(cs);
    m.expected.push_back(ct);
  }
  std::sort(target_classes.begin(), target_classes.end());
  target_classes.erase(std::unique(target_classes.begin(), target_classes.end()), target_classes.end());
  m.columns = target_classes;
  std::vector<int64_t> others;
  for (size_t i = 0; i < predicted.size(); ++i)
    if (row_of.count(source_class[i]) &&
        !std::binary_search(target_classes.begin(), target_classes.end(), predicted[i]))
      others.push_back(predicted[i]);
  std::sort(others.begin(), others.end());
  others.erase(std::unique(others.begin(), others.end()), others.end());
  m.columns.insert(m.columns.end(), others.begin(), others.end());
  std::map<int64_t, size_t> column_of;
  for (size_t c = 0; c < m.columns.size(); ++c) column_of[m.columns[c]] = c;
  m.counts.assign(m.rows.size(), std::vector<int64_t>(m.columns.size(), 0));
  for (size_t i = 0; i < predicted.size(); ++i) {
    auto r = row_of.find(source_class[i]);
    if (r == row_of.end()) continue;
    ++m.counts[r->second][column_of.at(predicted[i])];
  }
  return m;
}

nlohmann::json to_json(const ConfusionMatrix& m) {
  return {{"rows", m.rows}, {"columns", m.columns}, {"expected", m.expected}, {"counts", m.counts}};
}

ConfusionMatrix confusion_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("confusion: not an object");
  ConfusionMatrix m;
  try {
    m.rows = j.at("rows").get<std::vector<int64_t>>();
    m.columns = j.at("columns").get<std::vector<int64_t>>();
    m.expected = j.at("expected").get<std::vector<int64_t>>();
    m.counts = j.at("counts").get<std::vector<std::vector<int64_t>>>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("confusion: ") + e.what());
  }
  if (m.expected.size() != m.rows.size())
    throw std::invalid_argument("confusion: " + std::to_string(m.rows.size()) + " rows but " +
                                std::to_string(m.expected.size()) + " expected classes");
  if (m.counts.size() != m.rows.size())
    throw std::invalid_argument("confusion: " + std::to_string(m.rows.size()) + " rows but " +
                                std::to_string(m.counts.size()) + " rows of counts");
  for (const auto& row : m.counts) {
    if (row.size() != m.columns.size())
      throw std::invalid_argument("confusion: a row of counts has " + std::to_string(row.size()) + " entries for " +
                                  std::to_string(m.columns.size()) + " columns");
    for (int64_t v : row)
      if (v < 0) throw std::invalid_argument("confusion: a negative count");
  }
  return m;
}

}  // namespace otcs::metrics
