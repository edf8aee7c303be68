#include "core/session/gen_project.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/session/project_reader.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace otcs::session {

using namespace detail;

GenProject parse_gen_project(const std::string& text, const std::string& name, const std::string& base_dir) {
  json root = parse_json(text, name);
  GenProject p;
  p.text = text;
  Reader r(root, "", name, "generation");
  read_schema_version(r);
  if (r.string("kind", "") != "generation")
    r.error("/kind", "expected \"generation\" (a generation project; translation projects are for otcs run)");
  p.name = r.string("name", fs::path(name).stem().string());
  p.description = r.string("description", "");
  {
    Reader d = r.object("data", "generation_data");
    if (!d.has("train")) d.error(d.at("train"), "missing");
    if (!d.has("test")) d.error(d.at("test"), "missing");
    p.train = parse_dataset(d.object("train", "dataset"), base_dir);
    p.test = parse_dataset(d.object("test", "dataset"), base_dir);
    if (!p.train.is_images()) d.error(d.at("train"), "expected an image dataset ({\"images\": {...}})");
    if (!p.test.is_images()) d.error(d.at("test"), "expected an image dataset ({\"images\": {...}})");
    d.finish();
  }
  {
    Reader m = r.object("model", "generation_model");
    p.network.kind = diffusion::NetworkKind::UNet;
    parse_network(m.object("network", "network"), p.network);
    if (p.network.kind != diffusion::NetworkKind::UNet) m.error(m.at("network") + "/kind", "expected unet");
    p.conditional = m.boolean("conditional", false);
    p.sigma_data = m.positive("sigma_data", p.sigma_data);
    p.p_mean = m.number("p_mean", p.p_mean);
    p.p_std = m.positive("p_std", p.p_std);
    m.finish();
  }
  {
    Reader t = r.object("train", "generation_train");
    p.method = t.string("method", p.method);
    if (p.method != "edm" && p.method != "aot")
      t.error(t.at("method"), fmt::format("expected edm or aot, got '{}'", p.method));
    p.aot = t.positive_integer("aot", p.aot);
    p.steps = t.positive_integer("steps", p.steps);
    p.batch = t.positive_integer("batch", p.batch);
    p.lr = t.positive("lr", p.lr);
    p.lr_rampup = t.non_negative_integer("lr_rampup", p.lr_rampup);
    p.grad_clip = t.non_negative("grad_clip", p.grad_clip);
    p.ema_halflife = t.positive("ema_halflife", p.ema_halflife);
    p.seed = t.seed("seed", p.seed);
    p.log_every = t.positive_integer("log_every", p.log_every);
    p.fd_every = t.non_negative_integer("fd_every", p.fd_every);
    p.fd_samples = t.positive_integer("fd_samples", p.fd_samples);
    p.fd_nfe = t.positive_integer("fd_nfe", p.fd_nfe);
    if (p.fd_nfe % 2 == 0)
      t.error(t.at("fd_nfe"), fmt::format("expected an odd number (Heun with N steps uses 2N - 1), got {}", p.fd_nfe));
    t.finish();
  }
  {
    Reader s = r.object("sample", "generation_sample");
    p.sample_steps = s.positive_integer("steps", p.sample_steps);
    p.rho = s.positive("rho", p.rho);
    s.finish();
  }
  {
    Reader e = r.object("eval", "generation_eval");
    p.eval_samples = e.positive_integer("samples", p.eval_samples);
    p.classifier_epochs = e.positive_integer("classifier_epochs", p.classifier_epochs);
    p.eval_seed = e.seed("seed", p.eval_seed);
    e.finish();
  }
  {
    Reader o = r.object("dpmot", "generation_dpmot");
    p.dpmot_latents = o.positive_integer("latents", p.dpmot_latents);
    p.dpmot_m = o.positive_integer("M", p.dpmot_m);
    p.dpmot_source = o.string("source", p.dpmot_source);
    if (p.dpmot_source != "uniform" && p.dpmot_source != "gaussian")
      o.error(o.at("source"), fmt::format("expected uniform or gaussian, got '{}'", p.dpmot_source));
    p.dpmot_max_iter = o.positive_integer("max_iter", p.dpmot_max_iter);
    if (o.has("lr")) p.dpmot_lr = o.positive("lr", p.dpmot_lr);
    p.dpmot_seed = o.seed("seed", p.dpmot_seed);
    o.finish();
  }
  r.finish();
  p.canonical_model =
      json{{"data", root.value("data", json::object())}, {"model", root.value("model", json::object())}}.dump();
  return p;
}

GenProject load_gen_project(const std::string& path) { return load_from_file<GenProject>(path, parse_gen_project); }

}  // namespace otcs::session
