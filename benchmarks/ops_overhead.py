"""Per-op overhead of the autograd engine against bare NumPy (and PyTorch, when installed).

Small networks are decided by the fixed cost of each operation, not by arithmetic: this times
one (32, 64) float32 add, forward only and forward + backward, with gradients tracked.

    python benchmarks/ops_overhead.py [--number 20000] [--repeat 5]

Prints the median over `repeat` runs of `number` calls, in µs per call. No assertions.
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from collections.abc import Callable

import numpy as np

import chainrule as cr


def per_call_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    fn()  # warm up (allocator, caches)
    runs = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def cases(shape: tuple[int, int]) -> dict[str, dict[str, Callable[[], object]]]:
    rng = np.random.default_rng(0)
    a_np, b_np = (rng.standard_normal(shape, dtype=np.float32) for _ in range(2))
    out = np.empty_like(a_np)
    a = cr.Tensor(a_np, requires_grad=True)
    b = cr.Tensor(b_np, requires_grad=True)
    a_const, b_const = cr.Tensor(a_np), cr.Tensor(b_np)  # no graph recorded
    ones = np.ones(shape, np.float32)

    def cr_fwd_bwd() -> None:
        (a + b).backward(ones)

    table = {
        "add": {
            "numpy a + b": lambda: a_np + b_np,
            "numpy add(out=)": lambda: np.add(a_np, b_np, out=out),
            "chainrule a + b, untracked": lambda: a_const + b_const,
            "chainrule a + b, grads tracked": lambda: a + b,
        },
        "add + backward": {"chainrule": cr_fwd_bwd},
    }
    try:
        import torch
    except ImportError:
        return table
    ta = torch.from_numpy(a_np).requires_grad_()
    tb = torch.from_numpy(b_np).requires_grad_()
    tones = torch.from_numpy(ones)
    table["add"]["torch a + b"] = lambda: ta + tb
    table["add + backward"]["torch"] = lambda: (ta + tb).backward(tones)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000, help="calls per timing run")
    parser.add_argument("--repeat", type=int, default=5, help="timing runs (median is shown)")
    args = parser.parse_args()
    shape = (32, 64)
    print(f"per-op overhead, shape {shape} float32, µs per call (median of {args.repeat})")
    print(f"{'case':<34}{'µs':>9}")
    for group, fns in cases(shape).items():
        print(f"-- {group}")
        for name, fn in fns.items():
            print(f"{name:<34}{per_call_us(fn, args.number, args.repeat):>9.2f}")


if __name__ == "__main__":
    main()
