#pragma once
// The score stage's artifact: the EMA network with everything needed to rebuild it (network, schedule and
// prediction), one archive. Internal to the session (LibTorch).
#include <memory>
#include <string>

#include "core/diffusion/networks.h"
#include "core/diffusion/schedule.h"
#include "core/diffusion/trainer.h"

namespace otcs::session {

struct ScoreModel {
  std::shared_ptr<diffusion::ScoreNetwork> network;  // EMA weights, eval mode
  diffusion::NetworkSpec network_spec;
  diffusion::ScheduleSpec schedule_spec;
  std::shared_ptr<diffusion::Schedule> schedule;
  diffusion::Prediction prediction = diffusion::Prediction::Eps;
  std::string config_hash;
};

void save_score_model(const std::string& path, const diffusion::ScoreTrainer& trainer, const std::string& config_hash,
                      const diffusion::ScheduleSpec& schedule_spec);
ScoreModel load_score_model(const std::string& path);  // throws UserError naming the file

std::string network_spec_json(const diffusion::NetworkSpec& spec);
diffusion::NetworkSpec network_spec_from_json(const std::string& text);
std::string schedule_spec_json(const diffusion::ScheduleSpec& spec);
diffusion::ScheduleSpec schedule_spec_from_json(const std::string& text);

}  // namespace otcs::session
