#!/usr/bin/env python3
"""Python (Debian python3-torch 1.13.1, the same LibTorch) reference implementations of the `otcs bench`
workloads, timed the same way: warm-up, then the median of repeated timings of one step.

    python3 tests/bench/reference/bench.py ot-dual --threads 2 [--repeat 30] [--json]

Each workload mirrors its C++ counterpart in app/cli/cmd_bench.cpp; keep them in step when either changes.
"""
import argparse
import json
import statistics
import sys
import time

import torch


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.SiLU())
    return torch.nn.Sequential(*layers)


def l2_cost(x, y):
    # mean over coordinates of squared differences, through the GEMM identity
    xx = (x * x).sum(1, keepdim=True)
    yy = (y * y).sum(1, keepdim=True).t()
    return (xx + yy - 2.0 * x @ y.t()).clamp_min(0) / x.shape[1]


def ot_dual_workload(dim, hidden, batch=256, epsilon=1e-2):
    torch.manual_seed(0)
    u, v = mlp([dim] + hidden + [1]), mlp([dim] + hidden + [1])
    opt = torch.optim.Adam(list(u.parameters()) + list(v.parameters()), lr=1e-4)
    src, tgt = torch.randn(8 * batch, dim), torch.randn(8 * batch, dim)
    gen = torch.Generator().manual_seed(1)

    def step():
        i = torch.randint(0, src.shape[0], (batch,), generator=gen)
        j = torch.randint(0, tgt.shape[0], (batch,), generator=gen)
        x, y = src[i], tgt[j]
        ux, vy = u(x).squeeze(1), v(y).squeeze(1)
        c = l2_cost(x, y)
        gap = torch.relu(ux[:, None] + vy[None, :] - c)
        loss = -(ux.mean() + vy.mean() - (gap * gap).mean() / (4 * epsilon))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    sizes = [dim] + hidden + [1]
    fwd = 2 * batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) * 2  # two networks
    flops = 3 * fwd + 2 * batch * batch * dim  # forward + backward (2x) + the cost GEMM
    return step, flops


def gemm_peak(threads, n=1024, repeat=10):
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n ** 3 / statistics.median(times) / 1e9


WORKLOADS = {
    "ot-dual": lambda: ot_dual_workload(784, [512, 512, 512]),
    "ot-dual-toy": lambda: ot_dual_workload(2, [256, 256]),
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", choices=sorted(WORKLOADS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    step, flops = WORKLOADS[a.workload]()
    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.repeat):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    peak = gemm_peak(a.threads)
    result = {"workload": a.workload, "implementation": "python", "threads": a.threads,
              "steps_per_s": 1.0 / med, "median_s": med, "gflops": flops / med / 1e9,
              "gemm_peak_gflops": peak, "torch": torch.__version__}
    if a.json:
        print(json.dumps(result))
    else:
        print(f"{a.workload}: {result['steps_per_s']:.2f} steps/s, {result['gflops']:.1f} GFLOP/s "
              f"({100 * result['gflops'] / peak:.0f}% of the {peak:.0f} GFLOP/s GEMM peak), {a.threads} thread(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
