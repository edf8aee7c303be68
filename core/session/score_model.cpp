#include "core/session/score_model.h"

#include <sstream>

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <torch/serialize.h>

#include "core/io/archive.h"
#include "core/common/error.h"
#include "core/io/file.h"

namespace otcs::session {

using nlohmann::json;

std::string network_spec_json(const diffusion::NetworkSpec& s) {
  json j = {{"kind", diffusion::network_kind_name(s.kind)},
            {"cond_dim", s.cond_dim},
            {"data_dim", s.data_dim},
            {"hidden", s.hidden},
            {"blocks", s.blocks},
            {"embed_dim", s.embed_dim},
            {"time_embedding", s.time_embedding == diffusion::TimeEmbedding::Fourier ? "fourier" : "sinusoidal"},
            {"fourier_scale", s.fourier_scale},
            {"time_scale", s.time_scale},
            {"in_channels", s.in_channels},
            {"out_channels", s.out_channels},
            {"cond_channels", s.cond_channels},
            {"cond_encoder", s.cond_encoder},
            {"cond_image_channels", s.cond_image_channels},
            {"resolution", s.resolution},
            {"channels", s.channels},
            {"channel_mult", s.channel_mult},
            {"res_blocks", s.res_blocks},
            {"attention_resolutions", s.attention_resolutions},
            {"dropout", s.dropout},
            {"groups", s.groups}};
  return j.dump();
}

diffusion::NetworkSpec network_spec_from_json(const std::string& text) {
  auto j = json::parse(text);
  diffusion::NetworkSpec s;
  s.kind = diffusion::parse_network_kind(j.at("kind").get<std::string>());
  s.cond_dim = j.at("cond_dim");
  s.data_dim = j.at("data_dim");
  s.hidden = j.at("hidden");
  s.blocks = j.at("blocks");
  s.embed_dim = j.at("embed_dim");
  s.time_embedding = diffusion::parse_time_embedding(j.at("time_embedding").get<std::string>());
  s.fourier_scale = j.at("fourier_scale");
  s.time_scale = j.value("time_scale", 1.0);  // models saved before the field existed
  s.in_channels = j.at("in_channels");
  s.out_channels = j.at("out_channels");
  s.cond_channels = j.at("cond_channels");
  s.cond_encoder = j.value("cond_encoder", std::string("linear"));  // models saved before the field existed
  s.cond_image_channels = j.value("cond_image_channels", int64_t{1});
  s.resolution = j.at("resolution");
  s.channels = j.at("channels");
  s.channel_mult = j.at("channel_mult").get<std::vector<int64_t>>();
  s.res_blocks = j.at("res_blocks");
  s.attention_resolutions = j.at("attention_resolutions").get<std::vector<int64_t>>();
  s.dropout = j.at("dropout");
  s.groups = j.at("groups");
  return s;
}

std::string schedule_spec_json(const diffusion::ScheduleSpec& s) {
  json j = {{"kind", diffusion::schedule_kind_name(s.kind)},
            {"steps", s.steps},
            {"beta_start", s.beta_start},
            {"beta_end", s.beta_end},
            {"beta_min", s.beta_min},
            {"beta_max", s.beta_max},
            {"sigma_max", s.sigma_max},
            {"t_min", s.t_min}};
  return j.dump();
}

diffusion::ScheduleSpec schedule_spec_from_json(const std::string& text) {
  auto j = json::parse(text);
  diffusion::ScheduleSpec s;
  s.kind = diffusion::parse_schedule_kind(j.at("kind").get<std::string>());
  s.steps = j.at("steps");
  s.beta_start = j.at("beta_start");
  s.beta_end = j.at("beta_end");
  s.beta_min = j.at("beta_min");
  s.beta_max = j.at("beta_max");
  s.sigma_max = j.at("sigma_max");
  s.t_min = j.at("t_min");
  return s;
}

void save_score_model(const std::string& path, const diffusion::ScoreTrainer& trainer, const std::string& config_hash,
                      const diffusion::ScheduleSpec& schedule_spec) {
  torch::serialize::OutputArchive ar;
  ar.write("format", c10::IValue(std::string("otcs-score-model")));
  ar.write("config_hash", c10::IValue(config_hash));
  ar.write("network_spec", c10::IValue(network_spec_json(trainer.network_spec())));
  ar.write("schedule_spec", c10::IValue(schedule_spec_json(schedule_spec)));
  ar.write("prediction", c10::IValue(diffusion::prediction_name(trainer.spec().prediction)));
  ar.write("steps", c10::IValue(trainer.steps_done()));
  diffusion::save_module(ar, "ema", *trainer.ema_network());
  std::ostringstream out;
  ar.save_to(out);
  io::write_file_atomic(path, out.str());
}

ScoreModel load_score_model(const std::string& path) {
  std::string bytes = io::read_file(path);
  torch::serialize::InputArchive ar;
  ScoreModel m;
  // A corrupt archive can fail anywhere here, and LibTorch throws c10::Error but also std::out_of_range and the
  // like from its unpickler (found by fuzzing the checkpoint reader): all of them mean a bad file.
  try {
    io::load_archive_bytes(bytes, path, ar);
    c10::IValue format, hash, net, sched, pred;
    if (!ar.try_read("format", format) || !format.isString() || format.toStringRef() != "otcs-score-model")
      fail("{}: not an otcs score model", path);
    if (!ar.try_read("config_hash", hash) || !ar.try_read("network_spec", net) ||
        !ar.try_read("schedule_spec", sched) || !ar.try_read("prediction", pred) || !hash.isString() ||
        !net.isString() || !sched.isString() || !pred.isString())
      fail("{}: incomplete score model", path);
    m.config_hash = hash.toStringRef();
    m.network_spec = network_spec_from_json(net.toStringRef());
    m.schedule_spec = schedule_spec_from_json(sched.toStringRef());
    m.schedule = diffusion::make_schedule(m.schedule_spec);
    m.prediction = diffusion::parse_prediction(pred.toStringRef());
  } catch (const UserError&) {
    throw;
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    fail("{}: not a readable score model ({})", path, what.substr(0, what.find('\n')));
  } catch (const std::exception& e) {
    std::string what = e.what();
    fail("{}: not a readable score model ({})", path, what.substr(0, what.find('\n')));
  }
  m.network = diffusion::with_global_rng_preserved([&] { return diffusion::make_network(m.network_spec); });
  try {
    diffusion::load_module(ar, "ema", *m.network);
  } catch (const std::exception& e) {
    fail("{}: {}", path, e.what());
  }
  m.network->eval();
  return m;
}

}  // namespace otcs::session
