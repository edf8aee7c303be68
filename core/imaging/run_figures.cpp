#include "core/imaging/run_figures.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/imaging/confusion_figure.h"
#include "core/imaging/image.h"
#include "core/imaging/plot.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/metrics/confusion.h"
#include "core/ot/sparse.h"
#include "core/run/artifacts.h"
#include "core/run/curve.h"
#include "core/run/layout.h"

namespace otcs::imaging {

namespace fs = std::filesystem;

namespace {

std::vector<double> column(const torch::Tensor& t, int64_t c) {
  auto col = t.select(1, c).to(torch::kFloat64).contiguous();
  return {col.data_ptr<double>(), col.data_ptr<double>() + col.numel()};
}

Color viridis(double f) {
  static const double stops[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  f = std::clamp(f, 0.0, 1.0) * 4.0;
  const int i = std::min(3, int(f));
  const double w = f - i;
  auto mix = [&](int k) { return (unsigned char)std::lround(stops[i][k] * (1 - w) + stops[i + 1][k] * w); };
  return {mix(0), mix(1), mix(2)};
}

Color lighten(Color c, double f) {
  auto l = [f](unsigned char v) { return (unsigned char)std::lround(v + (255 - v) * f); };
  return {l(c.r), l(c.g), l(c.b)};
}

// Points coloured by a value (quantile bins on the viridis map): the potentials on finite sets.
void value_scatter(Plot& plot, const torch::Tensor& points, const torch::Tensor& values, const std::string& name) {
  const int bins = 8;
  auto v = values.to(torch::kFloat64);
  auto order = std::get<1>(v.sort());
  const int64_t n = v.numel();
  for (int b = 0; b < bins; ++b) {
    auto idx = order.slice(0, n * b / bins, n * (b + 1) / bins);
    if (idx.numel() == 0) continue;
    auto pts = points.index_select(0, idx);
    std::string label;
    if (b == 0) label = fmt::format("{} low ({:.3g})", name, v.index_select(0, idx).min().item<double>());
    if (b == bins - 1) label = fmt::format("{} high ({:.3g})", name, v.index_select(0, idx).max().item<double>());
    plot.scatter(column(pts, 0), column(pts, 1), viridis(double(b) / (bins - 1)), 2.5, label, 0.9);
  }
}

// The eval's confusion matrix (metrics.json "confusion"), when the run's test sources have classes.
void render_confusion_figure(const fs::path& run, std::vector<std::string>& written) {
  const run::RunLayout layout(run);
  const nlohmann::json metrics = run::read_metrics(layout);
  if (!metrics.is_object() || !metrics.contains("confusion")) return;
  metrics::ConfusionMatrix m;
  try {
    m = metrics::confusion_from_json(metrics["confusion"]);
  } catch (const std::invalid_argument& e) {
    spdlog::warn("figures: {}: {}; confusion.png not drawn", layout.metrics().string(), e.what());
    return;
  }
  if (m.empty()) return;
  const std::string title = fmt::format("Translated-class accuracy {:.3f} on {} test inputs", m.accuracy(), m.total());
  imaging::write_png(layout.figure(run::file::kConfusionFigure).string(), imaging::confusion_figure(m, title));
  written.push_back(run::file::kConfusionFigure);
}

void render_image_figures(const fs::path& run, std::vector<std::string>& written) {
  std::error_code ec;
  render_confusion_figure(run, written);
  if (fs::exists(run::RunLayout(run).sample_translations(), ec)) {
    auto t = io::read_npz(run::RunLayout(run).sample_translations().string());
    const int64_t per = t.at("per_class")[0].item<int64_t>();
    imaging::write_png(run::RunLayout(run).figure(run::file::kTranslationsFigure).string(),
                       imaging::translation_grid(t.at("sources"), {t.at("translations")}, per, 3));
    written.push_back(run::file::kTranslationsFigure);
  }
  if (fs::exists(run::RunLayout(run).eval_translations(), ec)) {
    // The first 10 held-out inputs of each intended class, with their translations.
    auto t = io::read_npz(run::RunLayout(run).eval_translations().string());
    if (t.count("targets")) {
      // Paired (super-resolution) eval: rows of 10 inputs (bicubic), one sample, the mean of samples, the truth.
      auto to_f = [](const torch::Tensor& u8) { return u8.to(torch::kFloat32).div(127.5).sub(1); };
      const int64_t n = std::min<int64_t>(10, t.at("sources").size(0));
      std::vector<torch::Tensor> rows;
      for (int64_t g = 0; g < 2 && (g + 1) * n <= t.at("sources").size(0); ++g)
        for (const char* key : {"sources", "translations", "mean_translations", "targets"})
          rows.push_back(to_f(t.at(key).narrow(0, g * n, n)));
      imaging::write_png(run::RunLayout(run).figure(run::file::kTestTranslationsFigure).string(),
                         imaging::image_grid(torch::cat(rows), int(n), 2, 3));
      written.push_back(run::file::kTestTranslationsFigure);
      return;
    }
    auto cls = t.at("intended_class");
    std::vector<int64_t> pick;
    const int64_t classes = cls.max().item<int64_t>() + 1;
    for (int64_t c = 0; c < classes; ++c) {
      auto idx = cls.eq(c).nonzero().squeeze(1);
      for (int64_t k = 0; k < std::min<int64_t>(10, idx.numel()); ++k) pick.push_back(idx[k].item<int64_t>());
    }
    if (!pick.empty()) {
      auto sel = torch::tensor(pick, torch::kInt64);
      imaging::write_png(run::RunLayout(run).figure(run::file::kTestTranslationsFigure).string(),
                         imaging::translation_grid(t.at("sources").index_select(0, sel),
                                                   {t.at("translations").index_select(0, sel)}, 10, 3));
      written.push_back(run::file::kTestTranslationsFigure);
    }
  }
}

std::vector<std::string> render_figures(const fs::path& run) {
  std::error_code ec0;
  const bool image_run = !fs::exists(run::RunLayout(run).source_points(), ec0);
  torch::Tensor source, target;
  if (!image_run) {
    source = io::read_npy(run::RunLayout(run).source_points().string());
    target = io::read_npy(run::RunLayout(run).target_points().string());
    if (source.size(1) != 2 || target.size(1) != 2)
      spdlog::info("figures: the data are not 2-D; only the loss curve is drawn");
  }
  std::vector<std::pair<int64_t, int64_t>> kps;
  {
    std::istringstream in(io::read_file(run::RunLayout(run).keypoints_csv().string()));
    int64_t a, b;
    char comma;
    while (in >> a >> comma >> b) kps.emplace_back(a, b);
  }
  const Color src_c = imaging::palette(0), tgt_c = imaging::palette(1), kp_c{0, 0, 0};
  std::vector<std::string> written;
  auto save = [&](const Plot& p, const std::string& name) {
    p.save_png((run / name).string());
    written.push_back(name);
  };
  // side: 0 = both ends joined by segments, 1 = source ends only, 2 = target ends only.
  auto keypoint_layer = [&](Plot& p, int side) {
    if (kps.empty()) return;
    std::vector<double> sx, sy, tx, ty;
    for (auto [a, b] : kps) {
      sx.push_back(source[a][0].item<double>());
      sy.push_back(source[a][1].item<double>());
      tx.push_back(target[b][0].item<double>());
      ty.push_back(target[b][1].item<double>());
    }
    if (side == 0) p.segments(sx, sy, tx, ty, kp_c, 1.5, "keypoint pairs", 0.8);
    if (side != 2) p.markers(sx, sy, kp_c, 8, side == 0 ? "" : "source keypoints");
    if (side != 1) p.markers(tx, ty, kp_c, 8, side == 0 ? "" : "target keypoints");
  };
  const bool two_d = !image_run && source.size(1) == 2 && target.size(1) == 2;
  if (image_run) render_image_figures(run, written);

  if (two_d) {
    Plot p(760, 600);
    p.title("Data: source, target and keypoint pairs").xlabel("x1").ylabel("x2").equal_aspect();
    p.scatter(column(source, 0), column(source, 1), src_c, 2.5, fmt::format("source ({})", source.size(0)), 0.7);
    p.scatter(column(target, 0), column(target, 1), tgt_c, 2.5, fmt::format("target ({})", target.size(0)), 0.7);
    keypoint_layer(p, 0);
    save(p, run::file::kDataFigure);

    auto u = io::read_npy(run::RunLayout(run).u().string());
    auto v = io::read_npy(run::RunLayout(run).v().string());
    Plot pu(640, 520), pv(640, 520);
    pu.title("OT potential u on the sources").xlabel("x1").ylabel("x2").equal_aspect();
    value_scatter(pu, source, u, "u");
    pv.title("OT potential v on the targets").xlabel("y1").ylabel("y2").equal_aspect();
    value_scatter(pv, target, v, "v");
    keypoint_layer(pu, 1);
    keypoint_layer(pv, 2);
    auto panel = imaging::compose({pu.render(), pv.render()}, 2);
    imaging::write_png(run::RunLayout(run).figure(run::file::kPotentialsFigure).string(), panel);
    written.push_back(run::file::kPotentialsFigure);
  }

  std::error_code ec;  // `--until STAGE` leaves later stages' artifacts absent: their figures are skipped
  if (fs::exists(run::RunLayout(run).h(), ec)) {
    auto H = ot::load_sparse(run::RunLayout(run).h().string());
    auto dense = H.to_dense();
    const int64_t rows = std::min<int64_t>(H.rows, 360), cols = std::min<int64_t>(H.cols, 360);
    auto pooled = torch::adaptive_avg_pool2d(dense.unsqueeze(0).unsqueeze(0), {rows, cols}).squeeze();
    Plot p(760, 640);
    p.title(fmt::format("Compatibility H ({} x {}, {} entries > threshold)", H.rows, H.cols, H.nnz()))
        .xlabel("target index")
        .ylabel("source index (keypoint rows last)");
    p.field(torch::flip(pooled, {0}).contiguous().clamp_min(1e-3), 0, double(H.cols), 0, double(H.rows),
            "block mean of H (log)", true);
    p.limits(0, double(H.cols), 0, double(H.rows));
    save(p, run::file::kHFigure);
  }

  {
    std::vector<torch::Tensor> panels;
    // Steps and the first value column of a curve file; none when the stage wrote no such file.
    auto read_curve = [&](const fs::path& path) {
      std::error_code ec;
      if (!fs::exists(path, ec)) return std::make_pair(std::vector<double>{}, std::vector<double>{});
      const run::Curve c = run::read_curve(path.string());
      std::vector<double> steps(c.steps.begin(), c.steps.end());
      return std::make_pair(std::move(steps), c.values.empty() ? std::vector<double>{} : c.values[0]);
    };
    auto [ls, lv] = read_curve(run::RunLayout(run).loss_curve());
    if (!ls.empty()) {
      Plot p(640, 480);
      p.title("Score matching loss (window means)").xlabel("step").ylabel("loss").log_y();
      p.line(ls, lv, imaging::palette(0), 1.5, "eps loss");
      panels.push_back(p.render());
    }
    auto [ds, dv] = read_curve(run::RunLayout(run).dual_curve());
    if (!ds.empty()) {
      Plot p(640, 480);
      p.title("OT dual objective (maximised)").xlabel("step").ylabel("D(u, v)");
      p.line(ds, dv, imaging::palette(2), 1.5, "batch dual");
      panels.push_back(p.render());
    }
    if (!panels.empty()) {
      imaging::write_png(run::RunLayout(run).figure(run::file::kLossFigure).string(),
                         imaging::compose(panels, int(panels.size())));
      written.push_back(run::file::kLossFigure);
    }
  }

  if (two_d && fs::exists(run::RunLayout(run).trajectories(), ec)) {
    auto traj = io::read_npz(run::RunLayout(run).trajectories().string());
    auto samples = io::read_npy(run::RunLayout(run).samples().string());
    auto x = traj.at("x");  // [F, S, K, 2]
    auto srcs = traj.at("sources");
    const int64_t F = x.size(0), S = x.size(1), K = x.size(2);
    Plot p(820, 660);
    p.title(fmt::format("Reverse trajectories from {} sources ({} recorded steps, {} paths each)", S, F, K))
        .xlabel("y1")
        .ylabel("y2")
        .equal_aspect();
    p.scatter(column(target, 0), column(target, 1), {200, 200, 200}, 1.8, "target data", 0.6);
    for (int64_t s = 0; s < S; ++s) {
      const Color c = imaging::palette(int(s));
      for (int64_t k = 0; k < K; ++k) {
        auto path = x.select(1, s).select(1, k);  // [F, 2]
        p.line(column(path, 0), column(path, 1), lighten(c, 0.35), 1.0, "", 0.6);
      }
      auto ys = samples[s];
      p.scatter(column(ys, 0), column(ys, 1), c, 2.2, s == 0 ? "samples y ~ p(y | x)" : "", 0.85);
      const int64_t i = srcs[s].item<int64_t>();
      p.markers({source[i][0].item<double>()}, {source[i][1].item<double>()}, c, 10,
                s == 0 ? "conditioning sources x" : "");
    }
    save(p, run::file::kTrajectoriesFigure);
  }

  if (two_d && fs::exists(run::RunLayout(run).conditionals(), ec)) {
    auto c = io::read_npz(run::RunLayout(run).conditionals().string());
    auto srcs = c.at("sources");
    auto src_points = c.at("source_points");
    auto samples = c.at("samples");
    auto ref = c.at("ref_points");
    auto off = c.at("ref_offsets");
    const int64_t S = std::min<int64_t>(srcs.numel(), 6);
    Plot p(820, 660);
    p.title("Eval: model samples (dots) vs exact pi(.|x) support (black)").xlabel("y1").ylabel("y2").equal_aspect();
    p.scatter(column(target, 0), column(target, 1), {215, 215, 215}, 1.8, "target data", 0.6);
    for (int64_t s = 0; s < S; ++s) {
      const int64_t pick = s * srcs.numel() / S;
      const Color col = imaging::palette(int(s));
      auto ys = samples[pick];
      p.scatter(column(ys, 0), column(ys, 1), col, 2.0, "", 0.5);
      auto r = ref.slice(0, off[pick].item<int64_t>(), off[pick + 1].item<int64_t>());
      p.scatter(column(r, 0), column(r, 1), {0, 0, 0}, 1.6, s == 0 ? "support of pi(.|x)" : "", 0.9);
      p.markers({src_points[pick][0].item<double>()}, {src_points[pick][1].item<double>()}, col, 10,
                s == 0 ? "source x" : "");
    }
    save(p, run::file::kConditionalsFigure);
  }
  spdlog::info("figures: {} in {}", fmt::join(written, ", "), run.string());
  return written;
}

}  // namespace

std::vector<std::string> render_run_figures(const std::string& run_dir) { return render_figures(fs::path(run_dir)); }

}  // namespace otcs::imaging
