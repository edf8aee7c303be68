#include "core/diffusion/networks.h"

#include <cmath>
#include <numeric>
#include <stdexcept>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/mixed_precision.h"

namespace otcs::diffusion {

namespace F = torch::nn::functional;

torch::Tensor sinusoidal_embedding(const torch::Tensor& t, int64_t dim) {
  const int64_t half = dim / 2;
  const double scale = std::log(10000.0) / double(std::max<int64_t>(half - 1, 1));
  auto freqs = torch::exp(torch::arange(half, t.options().dtype(torch::kFloat32)) * -scale);
  auto args = t.to(torch::kFloat32).unsqueeze(1) * freqs.unsqueeze(0);
  auto emb = torch::cat({torch::sin(args), torch::cos(args)}, 1);
  if (dim % 2 == 1) emb = F::pad(emb, F::PadFuncOptions({0, 1}));
  return emb;
}

GaussianFourierImpl::GaussianFourierImpl(int64_t dim, double scale) {
  w_ = register_buffer("W", torch::randn({dim / 2}) * scale);
}

torch::Tensor GaussianFourierImpl::forward(const torch::Tensor& t) {
  auto proj = t.to(torch::kFloat32).unsqueeze(1) * w_.unsqueeze(0) * (2.0 * M_PI);
  return torch::cat({torch::sin(proj), torch::cos(proj)}, 1);
}

// ---------------------------------------------------------------------------------------------- MLP

ScoreMlpImpl::ScoreMlpImpl(const NetworkSpec& spec) : spec_(spec) {
  if (spec.data_dim < 1 || spec.hidden < 1 || spec.blocks < 0 || spec.embed_dim < 2)
    fail("mlp network: data_dim, hidden and embed_dim must be positive");
  if (spec.time_embedding == TimeEmbedding::Fourier)
    fourier_ = register_module("fourier", GaussianFourier(spec.embed_dim, spec.fourier_scale));
  const int64_t emb_in = spec.time_embedding == TimeEmbedding::Fourier ? (spec.embed_dim / 2) * 2 : spec.embed_dim;
  time_proj_ = register_module("time_proj", torch::nn::Linear(emb_in, spec.embed_dim));
  if (spec.cond_dim > 0) {
    cond_in_ = register_module("cond_in", torch::nn::Linear(spec.cond_dim, spec.embed_dim));
    cond_out_ = register_module("cond_out", torch::nn::Linear(spec.embed_dim, spec.embed_dim));
  }
  input_ = register_module("input", torch::nn::Linear(spec.data_dim + spec.cond_dim, spec.hidden));
  for (int64_t b = 0; b < spec.blocks; ++b) {
    block_in_->push_back(torch::nn::Linear(spec.hidden, spec.hidden));
    block_emb_->push_back(torch::nn::Linear(spec.embed_dim, spec.hidden));
    block_out_->push_back(torch::nn::Linear(spec.hidden, spec.hidden));
  }
  register_module("block_in", block_in_);
  register_module("block_emb", block_emb_);
  register_module("block_out", block_out_);
  output_ = register_module("output", torch::nn::Linear(spec.hidden, spec.data_dim));
}

torch::Tensor ScoreMlpImpl::forward(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& cond) {
  auto raw = spec_.time_embedding == TimeEmbedding::Fourier ? fourier_->forward(t * spec_.time_scale)
                                                            : sinusoidal_embedding(t, spec_.embed_dim);
  auto e = torch::silu(time_proj_->forward(raw));
  torch::Tensor h;
  if (spec_.cond_dim > 0) {
    if (!cond.defined() || cond.dim() != 2 || cond.size(1) != spec_.cond_dim)
      throw std::invalid_argument("ScoreMlp: expected a condition of shape [B, cond_dim]");
    e = e + cond_out_->forward(torch::silu(cond_in_->forward(cond)));
    h = input_->forward(torch::cat({x, cond}, 1));
  } else {
    h = input_->forward(x);
  }
  for (size_t b = 0; b < block_in_->size(); ++b) {
    auto inner = block_in_[b]->as<torch::nn::Linear>()->forward(torch::silu(h)) +
                 block_emb_[b]->as<torch::nn::Linear>()->forward(e);
    h = h + block_out_[b]->as<torch::nn::Linear>()->forward(torch::silu(inner));
  }
  return output_->forward(torch::silu(h));
}

// ---------------------------------------------------------------------------------------------- UNet

namespace {

int64_t group_count(int64_t channels, int64_t wanted) {
  for (int64_t g = std::min(wanted, channels); g > 1; --g)
    if (channels % g == 0) return g;
  return 1;
}

torch::nn::GroupNorm make_norm(int64_t channels, int64_t groups) {
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(group_count(channels, groups), channels).eps(1e-6));
}

// GroupNorm in float32. Under bf16 autocast its input is bf16 while its affine parameters are float32, which the
// 1.13 CPU kernel rejects ("expected scalar type BFloat16 but found Float"): it runs with autocast paused on a
// float32 copy and returns float32 (the next convolution casts under autocast). A network converted to bf16
// (weights bf16, no autocast) gets its own dtype back. Either way the statistics are float32.
torch::Tensor norm_fp32(torch::nn::GroupNorm& norm, const torch::Tensor& x) {
  const bool autocast = autocast_active();
  if (x.scalar_type() == torch::kFloat32 && norm->weight.scalar_type() == torch::kFloat32 && !autocast)
    return norm->forward(x);
  AutocastPause pause;
  const auto& o = norm->options;
  auto y = torch::group_norm(x.to(torch::kFloat32), o.num_groups(), norm->weight.to(torch::kFloat32),
                             norm->bias.to(torch::kFloat32), o.eps());
  return autocast ? y : y.to(x.scalar_type());
}

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t pad = 0) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad));
}

class ResBlockImpl : public torch::nn::Module {
 public:
  ResBlockImpl(int64_t in, int64_t out, int64_t temb, double dropout, int64_t groups) {
    norm1_ = register_module("norm1", make_norm(in, groups));
    conv1_ = register_module("conv1", conv(in, out, 3, 1, 1));
    temb_proj_ = register_module("temb_proj", torch::nn::Linear(temb, out));
    norm2_ = register_module("norm2", make_norm(out, groups));
    dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
    conv2_ = register_module("conv2", conv(out, out, 3, 1, 1));
    if (in != out) shortcut_ = register_module("nin_shortcut", conv(in, out, 1));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb) {
    auto h = conv1_->forward(torch::silu(norm_fp32(norm1_, x)));
    h = h + temb_proj_->forward(torch::silu(temb)).unsqueeze(-1).unsqueeze(-1);
    h = conv2_->forward(dropout_->forward(torch::silu(norm_fp32(norm2_, h))));
    return (shortcut_ ? shortcut_->forward(x) : x) + h;
  }

 private:
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
  torch::nn::Linear temb_proj_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(ResBlock);

class AttnBlockImpl : public torch::nn::Module {
 public:
  AttnBlockImpl(int64_t c, int64_t groups) {
    norm_ = register_module("norm", make_norm(c, groups));
    q_ = register_module("q", conv(c, c, 1));
    k_ = register_module("k", conv(c, c, 1));
    v_ = register_module("v", conv(c, c, 1));
    proj_ = register_module("proj_out", conv(c, c, 1));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = norm_fp32(norm_, x);
    const int64_t b = x.size(0), c = x.size(1), hh = x.size(2), ww = x.size(3);
    auto q = q_->forward(h).reshape({b, c, hh * ww}).permute({0, 2, 1});
    auto k = k_->forward(h).reshape({b, c, hh * ww});
    // The softmax in float32 (bf16 logits lose the small differences the weights depend on).
    auto v = v_->forward(h).reshape({b, c, hh * ww});
    auto w = torch::softmax(torch::bmm(q, k) * std::pow(double(c), -0.5), 2, torch::kFloat32).to(v.scalar_type());
    auto out = torch::bmm(v, w.permute({0, 2, 1})).reshape({b, c, hh, ww});
    return x + proj_->forward(out);
  }

 private:
  torch::nn::GroupNorm norm_{nullptr};
  torch::nn::Conv2d q_{nullptr}, k_{nullptr}, v_{nullptr}, proj_{nullptr};
};
TORCH_MODULE(AttnBlock);

bool contains(const std::vector<int64_t>& v, int64_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

// The UNet's stages are kept in ModuleLists in execution order; the kind vectors say how each one is called.
// Down kinds: 0 res block (then push), 1 attention on the block just pushed (replaces it), 2 downsample (push).
// Up kinds: 0 res block on cat(h, pop), 1 attention, 2 upsample to the next skip's size.
UNetImpl::UNetImpl(const NetworkSpec& spec) : spec_(spec) {
  if (spec.in_channels < 1 || spec.channels < 1 || spec.channel_mult.empty() || spec.res_blocks < 1)
    fail("unet: in_channels, channels, channel_mult and res_blocks must be positive");
  const int64_t ch = spec.channels, temb = 4 * ch, groups = spec.groups;
  const int64_t out_ch = spec.out_channels > 0 ? spec.out_channels : spec.in_channels;
  temb0_ = register_module("temb_dense0", torch::nn::Linear(ch, temb));
  temb1_ = register_module("temb_dense1", torch::nn::Linear(temb, temb));
  if (spec.cond_dim > 0 && spec.cond_encoder == "conv") {
    // The condition vector is a flattened [c, r, r] image: three 3x3 convolutions (two of stride 2) and SiLU
    // give a [2ch, r/4, r/4] feature map whose flattening replaces the raw pixels below.
    const int64_t c = std::max<int64_t>(1, spec.cond_image_channels);
    cond_side_ = static_cast<int64_t>(std::lround(std::sqrt(double(spec.cond_dim) / double(c))));
    if (cond_side_ < 4 || c * cond_side_ * cond_side_ != spec.cond_dim)
      fail("unet: cond_encoder conv needs a square condition image: cond_dim {} is not {} x r x r", spec.cond_dim, c);
    cenc_ = register_module(
        "cond_encoder",
        torch::nn::Sequential(conv(c, ch, 3, 1, 1), torch::nn::SiLU(), conv(ch, 2 * ch, 3, 2, 1), torch::nn::SiLU(),
                              conv(2 * ch, 2 * ch, 3, 2, 1), torch::nn::SiLU(), torch::nn::Flatten()));
    const int64_t r4 = ((cond_side_ + 1) / 2 + 1) / 2;
    cemb0_ = register_module("cond_embed0", torch::nn::Linear(2 * ch * r4 * r4, temb));
    cemb1_ = register_module("cond_embed1", torch::nn::Linear(temb, temb));
  } else if (spec.cond_dim > 0) {
    cemb0_ = register_module("cond_embed0", torch::nn::Linear(spec.cond_dim, temb));
    cemb1_ = register_module("cond_embed1", torch::nn::Linear(temb, temb));
  }
  conv_in_ = register_module("conv_in", conv(spec.in_channels + spec.cond_channels, ch, 3, 1, 1));

  std::vector<int64_t> skip_channels = {ch};
  int64_t cur = ch, res = spec.resolution;
  const size_t levels = spec.channel_mult.size();
  for (size_t l = 0; l < levels; ++l) {
    const int64_t out = ch * spec.channel_mult[l];
    for (int64_t b = 0; b < spec.res_blocks; ++b) {
      down_->push_back(ResBlock(cur, out, temb, spec.dropout, groups));
      down_kind_.push_back(0);
      cur = out;
      if (contains(spec.attention_resolutions, res)) {
        down_->push_back(AttnBlock(cur, groups));
        down_kind_.push_back(1);
      }
      skip_channels.push_back(cur);
    }
    if (l + 1 != levels) {
      down_->push_back(conv(cur, cur, 3, 2, 0));  // asymmetric (0, 1, 0, 1) padding as DDIM's Downsample
      down_kind_.push_back(2);
      skip_channels.push_back(cur);
      res = (res + 1) / 2;
    }
  }
  mid_->push_back(ResBlock(cur, cur, temb, spec.dropout, groups));
  mid_->push_back(AttnBlock(cur, groups));
  mid_->push_back(ResBlock(cur, cur, temb, spec.dropout, groups));

  for (size_t li = levels; li-- > 0;) {
    const int64_t out = ch * spec.channel_mult[li];
    for (int64_t b = 0; b <= spec.res_blocks; ++b) {
      const int64_t skip = skip_channels.back();
      skip_channels.pop_back();
      up_->push_back(ResBlock(cur + skip, out, temb, spec.dropout, groups));
      up_kind_.push_back(0);
      cur = out;
      if (contains(spec.attention_resolutions, res)) {
        up_->push_back(AttnBlock(cur, groups));
        up_kind_.push_back(1);
      }
    }
    if (li != 0) {
      up_->push_back(conv(cur, cur, 3, 1, 1));
      up_kind_.push_back(2);
      res = res * 2;
    }
  }
  register_module("down", down_);
  register_module("mid", mid_);
  register_module("up", up_);
  norm_out_ = register_module("norm_out", make_norm(cur, groups));
  conv_out_ = register_module("conv_out", conv(cur, out_ch, 3, 1, 1));
}

torch::Tensor UNetImpl::forward(const torch::Tensor& x_in, const torch::Tensor& t, const torch::Tensor& cond_in) {
  // Inputs in the weights' dtype (a network converted to bf16 computes in it without autocast; float32: as given)
  // and, where the convolution weights are channels-last, in that layout.
  const auto dtype = conv_in_->weight.scalar_type();
  const bool channels_last =
      conv_in_->weight.dim() == 4 && conv_in_->weight.suggest_memory_format() == torch::MemoryFormat::ChannelsLast;
  const torch::Tensor x = x_in.to(dtype), cond = cond_in.defined() ? cond_in.to(dtype) : cond_in;
  auto temb = temb1_->forward(torch::silu(temb0_->forward(sinusoidal_embedding(t, spec_.channels).to(dtype))));
  torch::Tensor input = x;
  if (spec_.cond_channels > 0 || spec_.cond_dim > 0) {
    if (!cond.defined()) throw std::invalid_argument("UNet: this network needs a condition");
  }
  if (spec_.cond_channels > 0) {
    // A flattened condition image (the session keeps rows flat) is viewed with the input's spatial size.
    if (cond.dim() == 2 && x.dim() == 4 && cond.size(1) == spec_.cond_channels * x.size(2) * x.size(3))
      return forward(x, t, cond.view({cond.size(0), spec_.cond_channels, x.size(2), x.size(3)}));
    if (cond.dim() != 4 || cond.size(1) != spec_.cond_channels || cond.size(2) != x.size(2))
      throw std::invalid_argument("UNet: expected a condition image [B, cond_channels, H, W]");
    input = torch::cat({x, cond}, 1);
  } else if (spec_.cond_dim > 0) {
    if (cond.dim() != 2 || cond.size(1) != spec_.cond_dim)
      throw std::invalid_argument("UNet: expected a condition vector [B, cond_dim]");
    auto features = cond;
    if (cenc_) {
      const int64_t c = spec_.cond_dim / (cond_side_ * cond_side_);
      features = cenc_->forward(cond.reshape({cond.size(0), c, cond_side_, cond_side_}));
    }
    temb = temb + cemb1_->forward(torch::silu(cemb0_->forward(features)));
  }
  if (channels_last) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
  std::vector<torch::Tensor> hs = {conv_in_->forward(input)};
  for (size_t i = 0; i < down_->size(); ++i) {
    switch (down_kind_[i]) {
      case 0:
        hs.push_back(down_[i]->as<ResBlockImpl>()->forward(hs.back(), temb));
        break;
      case 1:
        hs.back() = down_[i]->as<AttnBlockImpl>()->forward(hs.back());
        break;
      default:
        hs.push_back(
            down_[i]->as<torch::nn::Conv2dImpl>()->forward(F::pad(hs.back(), F::PadFuncOptions({0, 1, 0, 1}))));
    }
  }
  auto h = mid_[0]->as<ResBlockImpl>()->forward(hs.back(), temb);
  h = mid_[1]->as<AttnBlockImpl>()->forward(h);
  h = mid_[2]->as<ResBlockImpl>()->forward(h, temb);
  for (size_t i = 0; i < up_->size(); ++i) {
    switch (up_kind_[i]) {
      case 0: {
        auto skip = hs.back();
        hs.pop_back();
        h = up_[i]->as<ResBlockImpl>()->forward(torch::cat({h, skip}, 1), temb);
        break;
      }
      case 1:
        h = up_[i]->as<AttnBlockImpl>()->forward(h);
        break;
      default: {
        const auto& next = hs.back();
        h = F::interpolate(
            h,
            F::InterpolateFuncOptions().size(std::vector<int64_t>{next.size(2), next.size(3)}).mode(torch::kNearest));
        h = up_[i]->as<torch::nn::Conv2dImpl>()->forward(h);
      }
    }
  }
  return conv_out_->forward(torch::silu(norm_fp32(norm_out_, h)));
}

std::shared_ptr<ScoreNetwork> make_network(const NetworkSpec& spec) {
  switch (spec.kind) {
    case NetworkKind::Mlp:
      return std::make_shared<ScoreMlpImpl>(spec);
    case NetworkKind::UNet:
      return std::make_shared<UNetImpl>(spec);
  }
  throw std::invalid_argument("unknown network kind");
}

int64_t parameter_count(torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace otcs::diffusion
