// The eval stage of paired image projects (super-resolution): every test input translated by the main sampler
// (and by the further samplers of stages.eval.also, on all inputs or an evenly spread subset), scored by PSNR and
// SSIM against its ground truth beside the input's own scores (bicubic) and a model-free control, each mean with
// a seeded bootstrap interval over the test inputs; per input values in eval/per_face.csv.
//
// Resumable: the inputs are translated in batches of stages.eval.batch, and every finished batch (its 8-bit first
// sample, 8-bit mean of samples, their scores and its sampling time) is written to
// eval/batches/<stage configuration hash>/<sampler>-<batch>.npz. A stopped eval run again with the same
// configuration loads the finished batches and goes on from the first missing one. Each batch's noise is seeded
// by (seed, index of its first input), and the uninterrupted eval takes the same batches, so the final numbers do
// not depend on where it was stopped.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/precision.h"
#include "core/common/timing.h"
#include "core/data/pack.h"
#include "core/diffusion/sampler.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/metrics/bootstrap.h"
#include "core/metrics/image_metrics.h"
#include "core/run/artifacts.h"
#include "core/run/layout.h"
#include "core/session/image_data.h"
#include "core/session/image_stage_util.h"
#include "core/session/score_model.h"
#include "core/session/stages.h"
#include "core/session/translate.h"

namespace fs = std::filesystem;

namespace otcs::session {

namespace {

// One sampler of the eval: the main one ("main", on all inputs) or one of stages.eval.also.
struct EvalUnit {
  std::string name;
  diffusion::SamplerSpec sampler;
  std::vector<int64_t> inputs;  // test input indices, ascending
  int64_t average = 1;
  uint64_t seed = 0;
  torch::Tensor low_res;  // [N, C, H/f, W/f] of all test inputs, or undefined
  // Results over `inputs`, in order.
  std::vector<torch::Tensor> first, mean;  // uint8 per batch
  std::vector<double> psnr_one, ssim_one, psnr_mean, ssim_mean;
  double seconds = 0;  // sampling time of all batches (also those a stopped eval had finished)
  int64_t nfe = 0, batches = 0, resumed = 0;
};

std::vector<double> as_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Translates (or loads) every batch of `unit`; false when stopped.
bool run_unit(StageContext& ctx, const ScoreModel& model, EvalUnit& unit, const data::Pack& test_src,
              const torch::Tensor& truth, const fs::path& batch_dir) {
  const auto& shape = ctx.image_shape;
  const int64_t n = int64_t(unit.inputs.size()), batch = std::max<int64_t>(1, ctx.project.eval.batch);
  unit.batches = (n + batch - 1) / batch;
  metrics::SsimOptions so;
  auto sources = test_src.as_float();
  for (int64_t c = 0; c < unit.batches; ++c) {
    const int64_t lo = c * batch, len = std::min(batch, n - lo);
    const fs::path file = batch_dir / fmt::format("{}-{:05d}.npz", unit.name, c);
    std::map<std::string, torch::Tensor> saved;
    if (fs::exists(file)) {
      try {
        saved = io::read_npz(file.string());
        if (saved.at("first").size(0) != len || saved.at("mean").size(0) != len) saved.clear();
      } catch (const std::exception& e) {
        ctx.log(LogEvent::Level::Warning, fmt::format("eval: batch file {} not reused ({})", file.string(), e.what()));
        saved.clear();
      }
    }
    if (!saved.empty()) {
      ++unit.resumed;
    } else {
      if (ctx.stop.load()) return false;
      auto sel =
          torch::tensor(std::vector<int64_t>(unit.inputs.begin() + lo, unit.inputs.begin() + lo + len), torch::kInt64);
      auto src = sources.index_select(0, sel).flatten(1);
      const auto ts = std::chrono::steady_clock::now();
      torch::Tensor sum, first;
      int64_t nfe = 0;
      for (int64_t r = 0; r < unit.average; ++r) {
        ProgressClock clock(0, 1);
        bool ready = false;
        auto to =
            stage_translate_options(ctx, Stage::Eval, unit.sampler, unit.seed + uint64_t(r) * 7919u, clock, ready);
        to.batch = len;
        to.first_index = lo;
        to.nfe = &nfe;
        if (unit.low_res.defined()) to.low_res = unit.low_res.index_select(0, sel);
        auto y = translate_images(model, src, shape, to);
        if (!y.defined()) return false;
        if (r == 0) first = y;
        sum = r == 0 ? y.clone() : sum + y;
      }
      const double seconds = seconds_since(ts);
      auto first_u8 = to_uint8(first), mean_u8 = to_uint8(sum / double(unit.average));
      auto t = truth.index_select(0, sel);
      saved = {{"first", first_u8},
               {"mean", mean_u8},
               {"psnr_one", metrics::psnr_batch(first_u8.to(torch::kFloat32), t, 255.0).to(torch::kFloat64)},
               {"ssim_one", metrics::ssim_batch(first_u8.to(torch::kFloat32), t, so).to(torch::kFloat64)},
               {"psnr_mean", metrics::psnr_batch(mean_u8.to(torch::kFloat32), t, 255.0).to(torch::kFloat64)},
               {"ssim_mean", metrics::ssim_batch(mean_u8.to(torch::kFloat32), t, so).to(torch::kFloat64)},
               {"seconds", torch::tensor({seconds}, torch::kFloat64)},
               {"nfe", torch::tensor({nfe}, torch::kInt64)}};
      io::write_npz(file.string(), saved);
      ctx.log(LogEvent::Level::Info, fmt::format("eval: {} batch {}/{} ({} inputs) in {:.1f} s", unit.name, c + 1,
                                                 unit.batches, len, seconds));
    }
    unit.first.push_back(saved.at("first"));
    unit.mean.push_back(saved.at("mean"));
    for (const char* key : {"psnr_one", "ssim_one", "psnr_mean", "ssim_mean"}) {
      auto v = as_vector(saved.at(key));
      auto& out = std::string(key) == "psnr_one"    ? unit.psnr_one
                  : std::string(key) == "ssim_one"  ? unit.ssim_one
                  : std::string(key) == "psnr_mean" ? unit.psnr_mean
                                                    : unit.ssim_mean;
      out.insert(out.end(), v.begin(), v.end());
    }
    unit.seconds += saved.at("seconds").item<double>();
    unit.nfe = saved.at("nfe").item<int64_t>();
  }
  return true;
}

// Scores of several methods on the same inputs, bootstrapped together (the same resampled inputs for each).
struct Scores {
  std::vector<std::string> names;
  std::vector<std::vector<double>> psnr, ssim;
  void add(const std::string& name, std::vector<double> p, std::vector<double> s) {
    names.push_back(name);
    psnr.push_back(std::move(p));
    ssim.push_back(std::move(s));
  }
  // {name: {psnr, psnr_std, psnr_ci95, ssim, ssim_std, ssim_ci95}}
  nlohmann::json rows(int64_t resamples, uint64_t seed) const {
    std::vector<std::vector<double>> columns = psnr;
    columns.insert(columns.end(), ssim.begin(), ssim.end());
    auto ci = metrics::bootstrap_means(columns, resamples, seed);
    nlohmann::json out = nlohmann::json::object();
    auto sd = [](const std::vector<double>& v) {
      return torch::tensor(v, torch::kFloat64).std().item<double>();  // sample std (n - 1), as before
    };
    for (size_t j = 0; j < names.size(); ++j) {
      const auto& p = ci[j];
      const auto& s = ci[names.size() + j];
      out[names[j]] = {{"psnr", p.mean}, {"psnr_std", sd(psnr[j])}, {"psnr_ci95", {p.low, p.high}},
                       {"ssim", s.mean}, {"ssim_std", sd(ssim[j])}, {"ssim_ci95", {s.low, s.high}}};
    }
    return out;
  }
};

std::vector<double> pick(const std::vector<double>& all, const std::vector<int64_t>& rows) {
  std::vector<double> out;
  out.reserve(rows.size());
  for (int64_t r : rows) out.push_back(all[size_t(r)]);
  return out;
}

double share_greater(const std::vector<double>& a, const std::vector<double>& b) {
  int64_t k = 0;
  for (size_t i = 0; i < a.size(); ++i) k += a[i] > b[i];
  return a.empty() ? 0.0 : double(k) / double(a.size());
}

nlohmann::json sampler_settings(const diffusion::SamplerSpec& s, int64_t nfe) {
  return {{"sampler", diffusion::sampler_kind_name(s.kind)},
          {"sampler_steps", s.steps},
          {"sampler_nfe", nfe},
          {"precision", precision_name(s.precision)},
          {"sdedit_t0", s.sdedit_t0},
          {"sdedit_refined", s.sdedit_refined},
          {"consistency", s.consistency},
          {"guidance", s.guidance}};
}

void write_per_face_csv(const fs::path& path, const data::Pack& test_src, const std::vector<std::string>& columns,
                        const std::vector<std::vector<double>>& values, const std::vector<std::vector<bool>>& present) {
  std::string text = "face,name";
  for (const auto& c : columns) text += "," + c;
  text += "\n";
  for (int64_t i = 0; i < test_src.size(); ++i) {
    const std::string& name = test_src.names[size_t(i)];
    const int64_t number = file_number(name);
    text += fmt::format("{},{}", number >= 0 ? number : i, name);
    for (size_t j = 0; j < columns.size(); ++j)
      text += present[j][size_t(i)] ? fmt::format(",{:.6f}", values[j][size_t(i)]) : std::string(",");
    text += "\n";
  }
  io::write_file_atomic(path.string(), text);
}

}  // namespace

StageOutcome run_paired_eval(StageContext& ctx, const data::Pack& test_src, const data::Pack& test_tgt,
                             std::chrono::steady_clock::time_point t0) {
  const auto& ie = ctx.project.image_eval;
  const auto& ev = ctx.project.eval;
  const std::string where = ctx.project.path.empty() ? "project" : ctx.project.path;
  if (test_src.size() != test_tgt.size())
    fail("{}: /stages/eval/paired: test_source has {} images and test_target {}; paired sets must match", where,
         test_src.size(), test_tgt.size());
  if (test_src.images.sizes() != test_tgt.images.sizes())
    fail("{}: /stages/eval/paired: test_source and test_target images differ in shape", where);
  const int64_t n = test_src.size();
  auto model = load_score_model(ctx.layout().score_model().string());
  const auto& sampler = ev.has_sampler ? ev.sampler : ctx.project.sample.sampler;

  // The finished batches of this configuration; those of other configurations (or all, when forced) go.
  const fs::path batch_dir = ctx.layout().eval_batches(ctx.hash);
  std::error_code ec;
  if (fs::is_directory(ctx.layout().eval_batches_root(), ec))
    for (const auto& e : fs::directory_iterator(ctx.layout().eval_batches_root(), ec))
      if (ctx.forced || e.path().filename() != ctx.hash) fs::remove_all(e.path(), ec);
  fs::create_directories(batch_dir);

  std::vector<EvalUnit> units;
  {
    EvalUnit u;
    u.name = "main";
    u.sampler = sampler;
    u.average = std::max<int64_t>(1, ie.average);
    u.seed = ev.seed;
    for (int64_t i = 0; i < n; ++i) u.inputs.push_back(i);
    units.push_back(std::move(u));
  }
  for (size_t j = 0; j < ev.also.size(); ++j) {
    const auto& a = ev.also[j];
    EvalUnit u;
    u.name = a.name;
    u.sampler = a.sampler;
    u.average = a.average;
    u.seed = ev.seed + uint64_t(j + 1) * 104729u;
    const int64_t m = a.subset > 0 ? std::min(a.subset, n) : n;
    for (int64_t k = 0; k < m; ++k) u.inputs.push_back(k * n / m);
    units.push_back(std::move(u));
  }
  std::map<int64_t, torch::Tensor> low_by_factor;
  for (auto& u : units) {
    const int64_t f = u.sampler.consistency;
    if (f <= 1) continue;
    if (!low_by_factor.count(f))
      low_by_factor[f] = low_resolution_inputs(ctx, ie.test_source.images, u.sampler, where + ": /data/test_source");
    u.low_res = low_by_factor[f];
  }
  auto truth = test_tgt.images.to(torch::kFloat32);
  for (auto& u : units) {
    ctx.log(LogEvent::Level::Info,
            fmt::format("eval: {} sampler ({}, {} steps) on {} paired test inputs, {} sample(s) each, batches of {}",
                        u.name, diffusion::sampler_kind_name(u.sampler.kind), u.sampler.steps, u.inputs.size(),
                        u.average, ev.batch));
    if (!run_unit(ctx, model, u, test_src, truth, batch_dir))
      return {StageOutcome::Status::Stopped,
              fmt::format("eval: stopped while translating ({}); finished batches are kept in {} and a run with the "
                          "same configuration goes on from there",
                          u.name, batch_dir.string())};
    if (u.resumed > 0)
      ctx.log(LogEvent::Level::Info, fmt::format("eval: {}: {} of {} batches loaded from an earlier, stopped eval",
                                                 u.name, u.resumed, u.batches));
  }

  // Model-free scores on every input: the bicubic input itself, and the control for data consistency (the input
  // projected onto the same constraint: its block means replaced by the low-resolution image's).
  metrics::SsimOptions so;  // data range 255 on 8-bit images
  const auto& main = units.front();
  auto input_f = test_src.images.to(torch::kFloat32);
  auto p_in = as_vector(metrics::psnr_batch(input_f, truth, 255.0));
  auto s_in = as_vector(metrics::ssim_batch(input_f, truth, so));
  std::vector<double> p_proj, s_proj;
  const int64_t main_f = main.sampler.consistency;
  if (main.low_res.defined()) {
    auto projected = diffusion::project_block_means(test_src.as_float(), main.low_res, main_f).clamp(-1, 1);
    auto u8 = to_uint8(projected).to(torch::kFloat32);
    p_proj = as_vector(metrics::psnr_batch(u8, truth, 255.0));
    s_proj = as_vector(metrics::ssim_batch(u8, truth, so));
  }
  const int64_t k = main.average;
  Scores all;
  all.add("input_bicubic", p_in, s_in);
  if (!p_proj.empty()) all.add("input_bicubic_consistent", p_proj, s_proj);
  all.add("one_sample", main.psnr_one, main.ssim_one);
  all.add("mean_of_samples", main.psnr_mean, main.ssim_mean);
  nlohmann::json m = all.rows(ev.bootstrap, ev.seed);
  m["paired"] = true;
  m["test_inputs"] = n;
  m["mean_of_samples"]["samples"] = k;
  m["wins_over_input"] = {{"psnr_one_sample", share_greater(main.psnr_one, p_in)},
                          {"ssim_one_sample", share_greater(main.ssim_one, s_in)},
                          {"psnr_mean", share_greater(main.psnr_mean, p_in)},
                          {"ssim_mean", share_greater(main.ssim_mean, s_in)}};
  m["metric_definitions"] =
      "PSNR on 8-bit pixels (peak 255); SSIM of Wang et al. 2004 (11x11 Gaussian window, "
      "sigma 1.5, K1 0.01, K2 0.03, L 255), colour channels averaged; per image, then the mean";
  m["bootstrap"] = {{"resamples", ev.bootstrap},
                    {"seed", ev.seed},
                    {"level", 0.95},
                    {"what",
                     "percentile interval of the mean over resampled test inputs (the same resampled "
                     "inputs for every method of a block)"}};
  m["settings"] = sampler_settings(main.sampler, main.nfe);
  m["settings"]["pair_mode"] = data::pair_mode_name(ctx.project.score.mode);
  m["settings"]["score_precision"] = precision_name(ctx.project.score.trainer.precision);
  m["settings"]["batch"] = ev.batch;

  // Per input values: one column per method and score; the further samplers' cells are empty off their subset.
  std::vector<std::string> columns = {"bicubic_psnr", "bicubic_ssim"};
  std::vector<std::vector<double>> values = {p_in, s_in};
  std::vector<std::vector<bool>> present(2, std::vector<bool>(size_t(n), true));
  auto column = [&](const std::string& name, const std::vector<double>& v, const std::vector<int64_t>& rows) {
    std::vector<double> full(size_t(n), 0.0);
    std::vector<bool> has(size_t(n), false);
    for (size_t i = 0; i < rows.size(); ++i) {
      full[size_t(rows[i])] = v[i];
      has[size_t(rows[i])] = true;
    }
    columns.push_back(name);
    values.push_back(std::move(full));
    present.push_back(std::move(has));
  };
  if (!p_proj.empty()) {
    column("consistent_psnr", p_proj, main.inputs);
    column("consistent_ssim", s_proj, main.inputs);
  }
  column("one_psnr", main.psnr_one, main.inputs);
  column("one_ssim", main.ssim_one, main.inputs);
  column(fmt::format("mean{}_psnr", k), main.psnr_mean, main.inputs);
  column(fmt::format("mean{}_ssim", k), main.ssim_mean, main.inputs);

  nlohmann::json also = nlohmann::json::object();
  nlohmann::json seconds = {{"sampling", main.seconds},
                            {"sampling_per_input", main.seconds / double(std::max<int64_t>(1, n))}};
  for (size_t j = 1; j < units.size(); ++j) {
    const auto& u = units[j];
    Scores sub;
    sub.add("input_bicubic", pick(p_in, u.inputs), pick(s_in, u.inputs));
    if (!p_proj.empty()) sub.add("input_bicubic_consistent", pick(p_proj, u.inputs), pick(s_proj, u.inputs));
    sub.add("main_one_sample", pick(main.psnr_one, u.inputs), pick(main.ssim_one, u.inputs));
    sub.add("main_mean_of_samples", pick(main.psnr_mean, u.inputs), pick(main.ssim_mean, u.inputs));
    sub.add("one_sample", u.psnr_one, u.ssim_one);
    if (u.average > 1) sub.add("mean_of_samples", u.psnr_mean, u.ssim_mean);
    nlohmann::json a = sub.rows(ev.bootstrap, ev.seed + uint64_t(j));
    a["test_inputs"] = u.inputs.size();
    a["inputs"] = "test input k * N / subset for k = 0 .. subset - 1 (0-based, in test-set order)";
    a["settings"] = sampler_settings(u.sampler, u.nfe);
    a["settings"]["samples"] = u.average;
    a["seconds"] = {{"sampling", u.seconds},
                    {"sampling_per_input", u.seconds / double(std::max<size_t>(1, u.inputs.size()))}};
    also[u.name] = a;
    column(u.name + "_one_psnr", u.psnr_one, u.inputs);
    column(u.name + "_one_ssim", u.ssim_one, u.inputs);
    if (u.average > 1) {
      column(fmt::format("{}_mean{}_psnr", u.name, u.average), u.psnr_mean, u.inputs);
      column(fmt::format("{}_mean{}_ssim", u.name, u.average), u.ssim_mean, u.inputs);
    }
  }
  if (!also.empty()) m["also"] = also;
  seconds["total"] = seconds_since(t0);
  m["seconds"] = seconds;
  m["per_face"] = run::RunLayout().eval_per_face().string();
  write_per_face_csv(ctx.layout().eval_per_face(), test_src, columns, values, present);
  run::write_metrics(ctx.layout(), m);
  io::write_npz(ctx.layout().eval_translations().string(), {{"sources", test_src.images.contiguous()},
                                                            {"translations", torch::cat(main.first)},
                                                            {"mean_translations", torch::cat(main.mean)},
                                                            {"targets", test_tgt.images.contiguous()}});
  const double pa = m["mean_of_samples"]["psnr"], sa = m["mean_of_samples"]["ssim"];
  const double pi = m["input_bicubic"]["psnr"], si = m["input_bicubic"]["ssim"];
  ctx.log(LogEvent::Level::Info,
          fmt::format("eval: PSNR {:.3f} dB / SSIM {:.4f} (mean of {} samples), one sample {:.3f} / {:.4f}; the "
                      "bicubic input {:.3f} / {:.4f}",
                      pa, sa, k, m["one_sample"]["psnr"].get<double>(), m["one_sample"]["ssim"].get<double>(), pi, si));
  MetricsEvent me;
  me.values = {{"psnr", pa}, {"ssim", sa}, {"psnr_bicubic", pi}, {"ssim_bicubic", si}};
  me.path = ctx.layout().metrics().string();
  ctx.emit(me);
  mark_done(ctx, Stage::Eval, {{"psnr", pa}, {"ssim", sa}});
  fs::remove_all(ctx.layout().eval_batches_root(), ec);  // the stage is done: its batches are in the results
  return {StageOutcome::Status::Done,
          fmt::format("PSNR {:.3f} dB, SSIM {:.4f} (bicubic {:.3f} / {:.4f})", pa, sa, pi, si)};
}

}  // namespace otcs::session
