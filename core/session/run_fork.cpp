#include "core/session/run_fork.h"

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/diffusion/networks.h"
#include "core/io/file.h"
#include "core/run/layout.h"

namespace fs = std::filesystem;

namespace otcs::session {

LinkedFiles link_tree(const fs::path& from, const fs::path& to) {
  LinkedFiles n;
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::create_directories(to);
  for (fs::recursive_directory_iterator it(from), end; it != end; ++it) {
    const fs::path target = to / fs::relative(it->path(), from);
    if (it->is_directory()) {
      fs::create_directories(target);
    } else if (it->is_regular_file()) {
      std::error_code link_error;
      fs::create_hard_link(it->path(), target, link_error);
      if (!link_error) {
        ++n.linked;
      } else {
        fs::copy_file(it->path(), target, fs::copy_options::overwrite_existing);
        ++n.copied;
      }
    }
  }
  return n;
}

int64_t unshare_tree(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  int64_t n = 0;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file() || fs::hard_link_count(it->path(), ec) <= 1) continue;
    // A copy beside it, renamed over the link: the base run's inode is never opened for writing.
    const fs::path tmp = it->path().parent_path() / ("." + it->path().filename().string() + ".unshare");
    fs::copy_file(it->path(), tmp, fs::copy_options::overwrite_existing);
    fs::rename(tmp, it->path());
    ++n;
  }
  return n;
}

std::string init_model_path(const std::string& init_from) {
  std::error_code ec;
  if (fs::is_directory(init_from, ec)) return run::RunLayout(init_from).score_model().string();
  return init_from;
}

std::string describe_network(const diffusion::NetworkSpec& s) {
  if (s.kind == diffusion::NetworkKind::UNet)
    return fmt::format(
        "UNet of {} channels x [{}], {} res block(s), {} input channel(s) at {}x{}, condition {} ({} "
        "values)",
        s.channels, fmt::join(s.channel_mult, ", "), s.res_blocks, s.in_channels, s.resolution, s.resolution,
        s.cond_encoder, s.cond_dim);
  return fmt::format("MLP of {} hidden x {} blocks, embedding {}, data {}-D, condition {}-D", s.hidden, s.blocks,
                     s.embed_dim, s.data_dim, s.cond_dim);
}

ScoreModel load_init_model(const std::string& init_from, const diffusion::NetworkSpec& spec, const std::string& where) {
  const std::string path = init_model_path(init_from);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    fail("{}: /stages/score/init_from: {} has no trained score model ({} is missing)", where, init_from, path);
  ScoreModel base = load_score_model(path);
  auto fresh = diffusion::make_network(spec);
  std::map<std::string, std::vector<int64_t>> theirs;
  for (const auto& p : base.network->named_parameters()) theirs[p.key()] = p.value().sizes().vec();
  std::string mismatch;
  size_t ours = 0;
  for (const auto& p : fresh->named_parameters()) {
    ++ours;
    auto it = theirs.find(p.key());
    const auto shape = p.value().sizes().vec();
    if (it == theirs.end()) {
      mismatch = fmt::format("parameter {} [{}] is not in the base model", p.key(), fmt::join(shape, ", "));
      break;
    }
    if (it->second != shape) {
      mismatch = fmt::format("parameter {} is [{}] there and [{}] here", p.key(), fmt::join(it->second, ", "),
                             fmt::join(shape, ", "));
      break;
    }
  }
  if (mismatch.empty() && ours != theirs.size())
    mismatch = fmt::format("the base model has {} parameter tensors, this project's network {}", theirs.size(), ours);
  if (!mismatch.empty())
    fail(
        "{}: /stages/score/init_from: the model in {} is a {}, this project's network is a {} ({}); a warm start "
        "needs the same architecture",
        where, path, describe_network(base.network_spec), describe_network(spec), mismatch);
  return base;
}

}  // namespace otcs::session
