#pragma once
// Live previews of the score stage: every `preview_every` steps the EMA network translates a fixed set of
// sources with the same noise each time (a fast sampler), written as RUN/score/previews/step_<step>.png (and
// .npz, the data), indexed in previews.json and announced with a PreviewEvent. Internal to the session.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "core/diffusion/networks.h"
#include "core/diffusion/schedule.h"
#include "core/session/stages.h"

namespace otcs::session {

class ScorePreviewer {
 public:
  ScorePreviewer(StageContext& ctx, const diffusion::NetworkSpec& spec, std::shared_ptr<diffusion::Schedule> schedule,
                 diffusion::Prediction prediction);
  bool enabled() const { return every_ > 0; }
  bool due(int64_t step, int64_t total) const { return enabled() && (step % every_ == 0 || step == total); }
  // Removes the previews of an earlier configuration (a forced or restarted stage).
  void clear();
  // Keeps the index entries up to `step` (a resumed stage redoes the later ones).
  void truncate(int64_t step);
  // Translates the preview sources and writes the files; returns the seconds it took. The EMA weights are used
  // once the random initialisation's share of them (ema_decay^step) is below 10 %; before that the EMA is mostly
  // the untrained network and the preview uses the online weights (each preview records which).
  double write(int64_t step, const std::shared_ptr<diffusion::ScoreNetwork>& ema,
               const std::shared_ptr<diffusion::ScoreNetwork>& online, double ema_decay);
  double seconds() const { return seconds_; }

 private:
  void save_index() const;

  StageContext& ctx_;
  diffusion::NetworkSpec spec_;
  std::shared_ptr<diffusion::Schedule> schedule_;
  diffusion::Prediction prediction_;
  int64_t every_ = 0;
  std::string dir_;
  std::string origin_;            // where the sources come from, for the index
  torch::Tensor sources_;         // images: [K, D] flattened, 2-D: [K, d]
  std::vector<int64_t> indices_;  // the sources' indices in their set
  nlohmann::json entries_ = nlohmann::json::array();
  double seconds_ = 0;
};

}  // namespace otcs::session
