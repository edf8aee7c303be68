#include "core/imaging/compare_figures.h"

#include <algorithm>
#include <string>

#include <torch/torch.h>

#include "core/imaging/plot.h"
#include "core/run/layout.h"

namespace otcs::imaging {

namespace {

using Curve = std::optional<io::NumericTable> session::ComparedRun::*;

// One panel: column `column` of each run's table against its first column (the step).
torch::Tensor curve_panel(const std::vector<session::ComparedRun>& runs, Curve curve, const std::string& column,
                          const std::string& title, bool log_y) {
  Plot p(960, 380);
  // No y label: the title names the quantity, and a y label would cover the wide log-axis ticks ("1e-04").
  p.title(title).xlabel("step").log_y(log_y);
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& table = runs[i].*curve;
    if (!table) continue;
    auto it = std::find(table->columns.begin() + 1, table->columns.end(), column);
    if (it == table->columns.end()) continue;
    p.line(table->values.front(), table->values[size_t(it - table->columns.begin())], palette(int(i)), 1.5,
           runs[i].name);
  }
  return p.render();
}

// The value columns (all but the step and the wall time) that any run's table has, in the order they first appear.
std::vector<std::string> value_columns(const std::vector<session::ComparedRun>& runs, Curve curve) {
  std::vector<std::string> out;
  for (const auto& r : runs)
    if (const auto& table = r.*curve; table && table->rows() > 0)
      for (size_t c = 1; c < table->columns.size(); ++c)
        if (table->columns[c] != run::column::kWallTime &&
            std::find(out.begin(), out.end(), table->columns[c]) == out.end())
          out.push_back(table->columns[c]);
  return out;
}

}  // namespace

torch::Tensor compare_losses_figure(const std::vector<session::ComparedRun>& runs) {
  std::vector<torch::Tensor> panels;
  // The dual objective is the second column of ot/dual.csv; later columns (a wall time) are not curves to compare.
  if (auto cols = value_columns(runs, &session::ComparedRun::dual); !cols.empty())
    panels.push_back(curve_panel(runs, &session::ComparedRun::dual, cols.front(),
                                 "OT dual objective (maximised): " + cols.front(), false));
  for (const auto& c : value_columns(runs, &session::ComparedRun::diagnostics))
    panels.push_back(curve_panel(runs, &session::ComparedRun::diagnostics, c, "OT diagnostics: " + c, true));
  if (auto cols = value_columns(runs, &session::ComparedRun::loss); !cols.empty())
    panels.push_back(
        curve_panel(runs, &session::ComparedRun::loss, cols.front(), "Score matching loss: " + cols.front(), true));
  if (panels.empty()) return {};
  return compose(panels, 1);
}

torch::Tensor compare_translations_figure(const std::vector<session::ComparedRun>& runs, int64_t k,
                                          bool shared_sources) {
  std::vector<const session::ComparedRun*> with;
  for (const auto& r : runs)
    if (r.translations) with.push_back(&r);
  if (with.empty()) return {};
  for (const auto* r : with) k = std::min<int64_t>(k, r->translations->sources.size(0));
  k = std::max<int64_t>(k, 1);
  const int64_t h = with.front()->translations->sources.size(2);
  const int scale = int(std::clamp<int64_t>(96 / std::max<int64_t>(h, 1), 1, 4));
  auto first = [k](const torch::Tensor& t) { return t.narrow(0, 0, std::min(k, t.size(0))); };
  if (shared_sources) {
    std::vector<torch::Tensor> translations;
    std::vector<std::string> labels = {"sources"};
    for (const auto* r : with) {
      translations.push_back(first(r->translations->translations));
      labels.push_back(r->name);
    }
    return translation_grid(first(with.front()->translations->sources), translations, k, scale, labels);
  }
  std::vector<torch::Tensor> blocks;
  for (const auto* r : with)
    blocks.push_back(translation_grid(first(r->translations->sources), {first(r->translations->translations)}, k, scale,
                                      {r->name + " sources", r->name}));
  // The label columns differ in width: pad each block on the left so that the image columns line up.
  int64_t width = 0;
  for (const auto& b : blocks) width = std::max(width, b.size(1));
  for (auto& b : blocks)
    if (b.size(1) < width) b = torch::cat({torch::full({b.size(0), width - b.size(1), 3}, 255, torch::kUInt8), b}, 1);
  return compose(blocks, 1);
}

}  // namespace otcs::imaging
