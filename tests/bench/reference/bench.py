#!/usr/bin/env python3
"""Python (Debian python3-torch 1.13.1, the same LibTorch) reference implementations of the `otcs bench`
workloads, written the way a researcher would write them in PyTorch, and timed the same way as the C++ side:
warm-up steps, then the median of repeated timings of one step.

    /usr/bin/python3 tests/bench/reference/bench.py ot-dual --threads 2 [--repeat 30] [--json]

Workloads (the C++ side is app/cli/cmd_bench_train.cpp; keep the two in step when either changes):
  ot-dual      one step of the L2-regularised OT dual (OTCS runners/OT_solver.py): batch 256 per side drawn by
               epochs of a random permutation from 4,096 source and 4,096 target points (d = 784), MLPs
               784 -> 512 -> 512 -> 512 -> 1 with SiLU for u and v, the `l2` (mean) cost of the batch by GEMM,
               Adam (lr 1e-4), loss.item() every step as the trainer reports it.
  ot-dual-toy  the same on 2-D points with 2 -> 256 -> 256 -> 1 MLPs.
  score-step   one training step of the 28x28 conditional UNet (channels 32, mult 1-2-2, one res block per
               level, attention at 7x7, the condition image concatenated to the input) at batch 64: DDPM
               schedule (T = 1000), antithetic times, eps loss summed over pixels, loss.item(),
               clip_grad_norm_(1.0), Adam (lr 2e-4), EMA 0.9999 (DDIM's EMAHelper), as OTCS runners train.
  sample-step  one ancestral reverse step (the released DDPM sampler) of that UNet at batch 256, no_grad;
               timed over a 2-step run (one step with noise, the last without) and reported per step.
  assign       512 x 512 exact linear assignment with scipy.optimize.linear_sum_assignment (if scipy is
               installed; Debian: python3-scipy).
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ------------------------------------------------------------------------------------------------ OT dual

def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


def l2_cost(x, y):
    """mean over coordinates of squared differences, through the GEMM identity (core/ot/cost.cpp)."""
    xx = (x * x).sum(1, keepdim=True)
    yy = (y * y).sum(1)
    c = torch.addmm(yy.unsqueeze(0), x, y.t(), beta=1.0, alpha=-2.0)
    return (c + xx).clamp_min(0) / x.shape[1]


class EpochSampler:
    """torch DataLoader(shuffle=True, drop_last=True) index draws: epochs of a random permutation."""

    def __init__(self, n, gen):
        self.n, self.gen, self.perm, self.pos = n, gen, None, 0

    def next(self, b):
        if self.perm is None or self.pos + b > self.n:
            self.perm, self.pos = torch.randperm(self.n, generator=self.gen), 0
        out = self.perm[self.pos:self.pos + b]
        self.pos += b
        return out


def mlp_flops(sizes, batch):
    """forward + backward GEMM flops of one MLP on `batch` rows (no input gradient for the first layer)."""
    fwd = 2 * batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 3 * fwd - 2 * batch * sizes[0] * sizes[1]


def ot_dual_workload(dim, hidden, batch=256, points=4096, epsilon=1e-2, lr=1e-4):
    torch.manual_seed(0)
    sizes = [dim] + hidden + [1]
    u, v = mlp(sizes), mlp(sizes)
    opt = torch.optim.Adam(list(u.parameters()) + list(v.parameters()), lr=lr)
    src, tgt = torch.randn(points, dim), torch.randn(points, dim)
    gen = torch.Generator().manual_seed(1)
    s_sampler, t_sampler = EpochSampler(points, gen), EpochSampler(points, gen)

    def step():
        i, j = s_sampler.next(batch), t_sampler.next(batch)
        with torch.no_grad():
            c = l2_cost(src[i], tgt[j])
        x, y = src[i], tgt[j]
        ux, vy = u(x).squeeze(1), v(y).squeeze(1)
        gap = torch.relu(ux[:, None] + vy[None, :] - c)
        dual = ux.mean() + vy.mean() - (gap * gap).mean() / (4 * epsilon)
        opt.zero_grad()
        (-dual).backward()
        opt.step()
        return dual.item()

    flops = 2 * mlp_flops(sizes, batch) + 2 * batch * batch * dim  # two networks + the cost GEMM
    params = sum(p.numel() for p in u.parameters()) + sum(p.numel() for p in v.parameters())
    return step, flops, {"parameters": params, "batch": batch, "points": points, "dim": dim}


# ------------------------------------------------------------------------------------------------ UNet
# The 28x28 conditional UNet of core/diffusion/networks.cpp (DDIM layout in miniature), module for module.

def group_count(channels, wanted):
    for g in range(min(wanted, channels), 1, -1):
        if channels % g == 0:
            return g
    return 1


def norm(c, groups):
    return nn.GroupNorm(group_count(c, groups), c, eps=1e-6)


def sinusoidal_embedding(t, dim):
    half = dim // 2
    scale = math.log(10000.0) / max(half - 1, 1)
    freqs = torch.exp(torch.arange(half, dtype=torch.float32) * -scale)
    args = t.float()[:, None] * freqs[None, :]
    emb = torch.cat([torch.sin(args), torch.cos(args)], 1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1))
    return emb


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb, dropout, groups):
        super().__init__()
        self.norm1 = norm(cin, groups)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.temb_proj = nn.Linear(temb, cout)
        self.norm2 = norm(cout, groups)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.nin_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (self.nin_shortcut(x) if self.nin_shortcut is not None else x) + h


class AttnBlock(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.norm = norm(c, groups)
        self.q, self.k, self.v = nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 1)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        h = self.norm(x)
        b, c, hh, ww = x.shape
        q = self.q(h).reshape(b, c, hh * ww).permute(0, 2, 1)
        k = self.k(h).reshape(b, c, hh * ww)
        w = torch.softmax(torch.bmm(q, k) * (c ** -0.5), 2)
        v = self.v(h).reshape(b, c, hh * ww)
        out = torch.bmm(v, w.permute(0, 2, 1)).reshape(b, c, hh, ww)
        return x + self.proj_out(out)


class UNet(nn.Module):
    def __init__(self, in_channels=1, cond_channels=1, resolution=28, ch=32, ch_mult=(1, 2, 2), num_res_blocks=1,
                 attn_resolutions=(7,), dropout=0.0, groups=8):
        super().__init__()
        self.ch = ch
        temb = 4 * ch
        self.temb_dense0, self.temb_dense1 = nn.Linear(ch, temb), nn.Linear(temb, temb)
        self.conv_in = nn.Conv2d(in_channels + cond_channels, ch, 3, 1, 1)
        skips, cur, res = [ch], ch, resolution
        self.down, self.down_kind = nn.ModuleList(), []
        for level, mult in enumerate(ch_mult):
            out = ch * mult
            for _ in range(num_res_blocks):
                self.down.append(ResBlock(cur, out, temb, dropout, groups))
                self.down_kind.append(0)
                cur = out
                if res in attn_resolutions:
                    self.down.append(AttnBlock(cur, groups))
                    self.down_kind.append(1)
                skips.append(cur)
            if level + 1 != len(ch_mult):
                self.down.append(nn.Conv2d(cur, cur, 3, 2, 0))
                self.down_kind.append(2)
                skips.append(cur)
                res = (res + 1) // 2
        self.mid = nn.ModuleList([ResBlock(cur, cur, temb, dropout, groups), AttnBlock(cur, groups),
                                  ResBlock(cur, cur, temb, dropout, groups)])
        self.up, self.up_kind = nn.ModuleList(), []
        for level in reversed(range(len(ch_mult))):
            out = ch * ch_mult[level]
            for _ in range(num_res_blocks + 1):
                self.up.append(ResBlock(cur + skips.pop(), out, temb, dropout, groups))
                self.up_kind.append(0)
                cur = out
                if res in attn_resolutions:
                    self.up.append(AttnBlock(cur, groups))
                    self.up_kind.append(1)
            if level != 0:
                self.up.append(nn.Conv2d(cur, cur, 3, 1, 1))
                self.up_kind.append(2)
                res *= 2
        self.norm_out = norm(cur, groups)
        self.conv_out = nn.Conv2d(cur, in_channels, 3, 1, 1)

    def forward(self, x, t, cond):
        temb = self.temb_dense1(F.silu(self.temb_dense0(sinusoidal_embedding(t, self.ch))))
        hs = [self.conv_in(torch.cat([x, cond], 1))]
        for m, kind in zip(self.down, self.down_kind):
            if kind == 0:
                hs.append(m(hs[-1], temb))
            elif kind == 1:
                hs[-1] = m(hs[-1])
            else:
                hs.append(m(F.pad(hs[-1], (0, 1, 0, 1))))
        h = self.mid[0](hs[-1], temb)
        h = self.mid[1](h)
        h = self.mid[2](h, temb)
        for m, kind in zip(self.up, self.up_kind):
            if kind == 0:
                h = m(torch.cat([h, hs.pop()], 1), temb)
            elif kind == 1:
                h = m(h)
            else:
                h = m(F.interpolate(h, size=hs[-1].shape[2:], mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


def unet_forward_flops(model, batch, resolution=28):
    """Multiply-add flops (x2) of the convolutions, linear layers and attention matmuls of one forward pass,
    counted with hooks on a batch-1 pass and scaled (the same count as the C++ side's)."""
    total = [0]

    def conv_hook(m, inp, out):
        total[0] += 2 * out.numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1] // m.groups

    def lin_hook(m, inp, out):
        total[0] += 2 * out.numel() * m.in_features

    def attn_hook(m, inp, out):
        b, c, hh, ww = inp[0].shape
        total[0] += 2 * 2 * b * (hh * ww) ** 2 * c

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(lin_hook))
        elif isinstance(m, AttnBlock):
            handles.append(m.register_forward_hook(attn_hook))
    with torch.no_grad():
        model(torch.zeros(1, 1, resolution, resolution), torch.zeros(1), torch.zeros(1, 1, resolution, resolution))
    for h in handles:
        h.remove()
    return total[0] * batch


class EMAHelper:
    """DDIM / OTCS functions/ema.py: shadow = (1 - mu) * param + mu * shadow."""

    def __init__(self, module, mu):
        self.mu = mu
        self.shadow = {n: p.data.clone() for n, p in module.named_parameters() if p.requires_grad}

    def update(self, module):
        for name, param in module.named_parameters():
            if param.requires_grad:
                self.shadow[name].data = (1.0 - self.mu) * param.data + self.mu * self.shadow[name].data


def ddpm_alphas_cumprod(steps=1000, beta_start=1e-4, beta_end=0.02):
    betas = torch.linspace(beta_start, beta_end, steps, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, 0)


def score_step_workload(batch=64):
    torch.manual_seed(0)
    model = UNet()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    ema = EMAHelper(model, 0.9999)
    ab = ddpm_alphas_cumprod()
    T = ab.numel()
    y0 = torch.rand(batch, 1, 28, 28) * 2 - 1
    cond = torch.rand(batch, 1, 28, 28) * 2 - 1
    gen = torch.Generator().manual_seed(2)

    def step():
        half = torch.randint(0, T, (batch // 2 + 1,), generator=gen)
        idx = torch.cat([half, T - 1 - half])[:batch]
        a = ab.index_select(0, idx).sqrt().float().view(-1, 1, 1, 1)
        s = (1.0 - ab.index_select(0, idx)).sqrt().float().view(-1, 1, 1, 1)
        z = torch.randn(y0.shape, generator=gen)
        xt = y0 * a + z * s
        out = model(xt, idx.float(), cond)
        loss = (z - out).square().sum(dim=(1, 2, 3)).mean(dim=0)
        value = loss.item()
        if not math.isfinite(value):
            raise RuntimeError("diverged")
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema.update(model)
        return value

    flops = 3 * unet_forward_flops(model, batch)
    return step, flops, {"parameters": sum(p.numel() for p in model.parameters()), "batch": batch}


def sample_step_workload(batch=256, steps=2):
    torch.manual_seed(0)
    model = UNet()
    model.eval()
    ab = ddpm_alphas_cumprod()
    T = ab.numel()
    skip = T // steps
    seq = list(range(0, T, skip))[::-1]  # the released ddpm_steps grid
    cond = torch.rand(batch, 1, 28, 28) * 2 - 1
    gen = torch.Generator().manual_seed(3)

    def run():
        with torch.no_grad():
            x = torch.randn(batch, 1, 28, 28, generator=gen)
            for k, i in enumerate(seq):
                j = seq[k + 1] if k + 1 < len(seq) else -1
                at = ab[i].item()
                an = ab[j].item() if j >= 0 else 1.0
                e = model(x, torch.full((batch,), float(i)), cond)
                x0 = (x - math.sqrt(1 - at) * e) / math.sqrt(at)
                a_ts2 = at / an
                var = max(0.0, (1 - at) - a_ts2 * (1 - an))
                mean = (math.sqrt(a_ts2) * (1 - an) / (1 - at)) * x + (math.sqrt(an) * var / (1 - at)) * x0
                x = mean if j < 0 else mean + math.sqrt(var) * torch.randn(x.shape, generator=gen)
        return x

    flops = unet_forward_flops(model, batch)
    return run, flops, {"parameters": sum(p.numel() for p in model.parameters()), "batch": batch,
                        "steps_per_call": steps}


def assign_workload(n=512):
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:
        return None, 0, {"note": "scipy is not installed (Debian: python3-scipy); no Python reference"}
    import numpy as np
    rng = np.random.default_rng(0)
    cost = rng.random((n, n))

    def step():
        r, c = linear_sum_assignment(cost)
        return cost[r, c].sum()

    return step, 0, {"n": n}


WORKLOADS = {
    "ot-dual": lambda: ot_dual_workload(784, [512, 512, 512]),
    "ot-dual-toy": lambda: ot_dual_workload(2, [256, 256]),
    "score-step": score_step_workload,
    "sample-step": sample_step_workload,
    "assign": assign_workload,
}


def gemm_peak(seconds=1.0, n=2048):
    """best float32 n^3 GEMM rate over `seconds`, as measure_gemm_peak() in app/cli/cmd_bench.cpp."""
    a, b = torch.rand(n, n), torch.rand(n, n)
    c = torch.empty(n, n)
    torch.mm(a, b, out=c)
    best, t_all = 0.0, time.perf_counter()
    while True:
        t = time.perf_counter()
        torch.mm(a, b, out=c)
        best = max(best, 2 * n ** 3 / (time.perf_counter() - t) / 1e9)
        if time.perf_counter() - t_all >= seconds:
            return best


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", choices=list(WORKLOADS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=0, help="timed steps (default: per workload)")
    p.add_argument("--warmup", type=int, default=0, help="untimed steps first (default: per workload)")
    p.add_argument("--no-peak", action="store_true", help="skip the GEMM peak measurement")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    defaults = {"ot-dual": (5, 30), "ot-dual-toy": (20, 200), "score-step": (3, 10), "sample-step": (1, 5),
                "assign": (2, 10)}
    warmup, repeat = defaults[a.workload]
    warmup, repeat = a.warmup or warmup, a.repeat or repeat
    step, flops, info = WORKLOADS[a.workload]()
    result = {"workload": a.workload, "implementation": "python", "threads": a.threads, "torch": torch.__version__}
    result.update(info)
    if step is None:
        result["steps_per_s"] = None
    else:
        per_call = info.get("steps_per_call", 1)
        for _ in range(warmup):
            step()
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            step()
            times.append((time.perf_counter() - t) / per_call)
        med = statistics.median(times)
        result.update({"steps_per_s": 1.0 / med, "median_s": med, "repeat": repeat})
        if flops:
            result["gflop_per_step"] = flops / 1e9
            result["achieved_gflops"] = flops / med / 1e9
    if flops and not a.no_peak:
        result["gemm_peak_gflops"] = gemm_peak()
        result["fraction_of_peak"] = result["achieved_gflops"] / result["gemm_peak_gflops"]
    if a.json:
        print(json.dumps(result))
    elif result["steps_per_s"] is None:
        print(f"{a.workload}: {info['note']}")
    else:
        line = f"{a.workload}: {result['steps_per_s']:.2f} steps/s, {a.threads} thread(s)"
        if "parameters" in info:
            line += f", {info['parameters']} parameters"
        if "achieved_gflops" in result:
            line += f", {result['achieved_gflops']:.1f} GFLOP/s"
        if "gemm_peak_gflops" in result:
            line += f" ({100 * result['fraction_of_peak']:.0f}% of the {result['gemm_peak_gflops']:.0f} GFLOP/s peak)"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
