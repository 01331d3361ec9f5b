"""Where one W1 training step of `cr.fit` spends its time: a cProfile of 100 steps.

784-256-128-10 ReLU network, Adam, batch 128, float32, parameters flattened: `cr.fit` for one
epoch over 12,800 samples (100 steps) after a warm-up epoch, profiled with cProfile. Prints
the functions with the most time of their own, as microseconds per step.

    python benchmarks/profile_w1_step.py [--numpy-only] [--top 12]

`--numpy-only` switches the compiled kernels off (as without the `[fast]` extra).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats

import harness as h

SIZES = (784, 256, 128, 10)
BATCH, STEPS = 128, 100


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--numpy-only", action="store_true", help="compiled kernels off")
    p.add_argument("--top", type=int, default=12, help="how many functions to list")
    args = p.parse_args()
    X, y = h.mnist_shaped(BATCH * STEPS)
    run = h.ChainruleFit(SIZES, compiled=False if args.numpy_only else None)
    run.epoch(X, y, BATCH)  # warm-up: first-call costs (compilation, buffers) not profiled
    profiler = cProfile.Profile()
    profiler.enable()
    run.epoch(X, y, BATCH)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in stats.values())
    rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[: args.top]
    mode = "NumPy only" if args.numpy_only else "compiled kernels"
    print(f"cr.fit, W1, {mode}: {total / STEPS * 1e6:.0f} µs per step in all (cProfile)")
    print(f"{'µs/step':>8} {'calls/step':>10}  function")
    for (path, line, name), (_, ncalls, tottime, _, _) in rows:
        where = f"{os.path.basename(path)}:{line}" if line else ""
        print(f"{tottime / STEPS * 1e6:>8.0f} {ncalls / STEPS:>10.1f}  {name} {where}")


if __name__ == "__main__":
    main()
