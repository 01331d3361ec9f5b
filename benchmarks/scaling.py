"""Scaling: W1's epoch time against the number of samples and the width, and peak memory.

* samples: one epoch of 784-256-128-10 on N, 2N and 4N rows (N = 15,000; 5,000 with --quick);
* width: one epoch of 784-w-w/2-10 for w = 64, 128, 256, 512, 1024 on N rows;
* memory: one W1 epoch (60,000 rows; 20,000 with --quick) per contender, each in a fresh
  process, reading the peak resident memory (``resource.getrusage``, ``ru_maxrss``) after
  loading the data and building the model, and again after the epoch. The difference is what
  an epoch itself needs: buffers, gradients, optimizer state, any copy of the data.

    python benchmarks/scaling.py [--quick] [--plot docs/benchmarks_scaling.png] [--json s.json]
    python benchmarks/scaling.py --replot benchmarks/scaling.json --plot docs/benchmarks_scaling.png

Contenders as in W1 (chainrule's loop and `cr.fit`, PyTorch, scikit-learn, the minimal NumPy
floor), in alternating rounds, each round a new model's first epoch; `--repeats` counted rounds
per point (default 2).
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

import harness as h
from minimal_numpy import MinimalMLP

BATCH = 128
CONTENDERS = ["chainrule (loop)", "chainrule (cr.fit)", h.TORCH, h.SKLEARN, h.MINIMAL]


def make_epoch(name: str, sizes: tuple[int, ...], X: np.ndarray, y: np.ndarray):
    """A function running one more training epoch of contender `name`, or None if missing."""
    if name == "chainrule (loop)":
        run = h.ChainruleLoop(sizes)
        return lambda: run.epoch(X, y, BATCH)
    if name == "chainrule (cr.fit)":
        if not h.chainrule_fit_available():
            return None
        run = h.ChainruleFit(sizes)
        return lambda: run.epoch(X, y, BATCH)
    if name == h.TORCH:
        if h.load_torch() is None:
            return None
        run = h.TorchLoop(sizes)
        Xt, yt = h.to_torch(X, y)
        return lambda: run.epoch(Xt, yt, BATCH)
    if name == h.SKLEARN:
        clf = h.sklearn_mlp(sizes, BATCH, max_iter=1)
        classes = np.arange(sizes[-1])

        def epoch() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.partial_fit(X, y, classes=classes)

        return epoch
    mm = MinimalMLP(sizes)
    rng = np.random.default_rng(0)
    return lambda: mm.fit_epoch(X, y, BATCH, rng)


def sweep(points, names, repeats, warmup) -> dict[str, dict]:
    """Median epoch seconds of every contender at every (label, sizes, n) point."""
    results: dict[str, dict] = {}
    for label, sizes, n in points:
        X, y = h.mnist_shaped(n, sizes[0], sizes[-1])
        contenders = {}  # factories: each round trains a new model for its first epoch
        for name in names:
            if make_epoch(name, sizes, X[:BATCH], y[:BATCH]) is not None:
                contenders[name] = lambda name=name, s=sizes, X=X, y=y: make_epoch(name, s, X, y)
        rows = h.summarize(h.timed_rounds(contenders, repeats, warmup, fresh=True))
        results[label] = {"sizes": sizes, "n_samples": n, "results": rows}
        cells = "  ".join(f"{k}: {v['median_s']:.3f}s" for k, v in rows.items())
        print(f"{label:>12}  {cells}", flush=True)
    return results


# ---------------------------------------------------------------------- memory (child process)
def memory_child(name: str, n: int) -> None:
    """Run in a fresh process: peak RSS after setup and after one epoch, as JSON on stdout."""
    sizes = (784, 256, 128, 10)
    X, y = h.mnist_shaped(n)
    fn = make_epoch(name, sizes, X, y)
    if fn is None:
        print(json.dumps(None))
        return
    before = h.peak_rss_mib()
    fn()
    after = h.peak_rss_mib()
    record = {"setup_mib": before, "peak_mib": after, "epoch_mib": after - before}
    if name.startswith("chainrule"):  # float32 data must not have been copied to float64
        record["X_dtype"] = str(X.dtype)
    print(json.dumps(record))


def memory(names, n: int) -> dict[str, dict]:
    out = {}
    for name in names:
        done = subprocess.run(
            [sys.executable, __file__, "--memory-child", name, "--n", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        record = json.loads(done.stdout.strip().splitlines()[-1])
        if record is not None:
            out[name] = record
    data_mib = n * 784 * 4 / 2**20
    print(f"\nPeak memory, one epoch of W1 on {n:,} rows (X is {data_mib:.0f} MiB of float32)")
    print(f"{'implementation':<26}{'after setup MiB':>17}{'peak MiB':>11}{'epoch adds MiB':>16}")
    for name, r in out.items():
        print(f"{name:<26}{r['setup_mib']:>17.0f}{r['peak_mib']:>11.0f}{r['epoch_mib']:>16.1f}")
    return out


def plot(path: str, samples: dict, width: dict, mem: dict, base: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    from chainrule.viz.plot_style import MUTED, png_bytes, style_context

    with style_context():
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
        for ax, sweep_results, key, xlabel in (
            (axes[0], samples, "n_samples", "training samples"),
            (axes[1], width, "width", "hidden width w (784-w-w/2-10)"),
        ):
            xs = [pt[key] if key in pt else pt["sizes"][1] for pt in sweep_results.values()]
            names = list(next(iter(sweep_results.values()))["results"])
            for name in names:
                ys = [pt["results"][name]["median_s"] for pt in sweep_results.values()]
                ax.plot(xs, ys, marker="o", label=name)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(xs, [f"{x:,}" for x in xs])
            ax.xaxis.set_minor_locator(NullLocator())
            # Ticks at 1, 2 and 5 times each power of ten: a range of less than a decade
            # still gets several labelled ticks.
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_locator(NullLocator())
            ax.set_xlabel(xlabel)
            ax.set_ylabel("seconds per epoch (log scale)")
        axes[0].set_title("Epoch time vs samples (784-256-128-10)")
        axes[1].set_title(f"Epoch time vs width ({base:,} samples)")
        axes[0].legend()
        names = list(mem)
        bars = axes[2].bar(range(len(names)), [mem[k]["epoch_mib"] for k in names], color=MUTED)
        axes[2].bar_label(bars, fmt="%.1f")
        axes[2].set_xticks(range(len(names)), names, rotation=20, ha="right")
        axes[2].set_ylabel("MiB added by one epoch")
        axes[2].set_title("Peak memory of one W1 epoch, above the data")
        fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(png_bytes(fig, dpi=110))
    print(f"\nwrote {path}")


def replot(json_path: str, png_path: str) -> None:
    """Draw the figure again from a ``--json`` file, without measuring anything."""
    data = json.loads(Path(json_path).read_text(encoding="utf-8"))
    base = next(iter(data["width"].values()))["n_samples"]
    plot(png_path, data["samples"], data["width"], data["memory"], base)


def main() -> None:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--plot", metavar="PNG", help="draw the three panels into this file")
    p.add_argument("--memory-child", metavar="NAME", help=argparse_hidden())
    p.add_argument("--n", type=int, default=60_000, help=argparse_hidden())
    p.add_argument(
        "--replot", metavar="JSON", help="only draw --plot again from a --json file of a run"
    )
    args = p.parse_args()
    if args.replot:
        replot(args.replot, args.plot or "docs/benchmarks_scaling.png")
        return
    if args.memory_child:
        memory_child(args.memory_child, args.n)
        return
    names = h.selected(CONTENDERS, args.only)
    repeats = args.repeats or (1 if args.quick else 2)
    base = 5_000 if args.quick else 15_000
    widths = (64, 128, 256, 512) if args.quick else (64, 128, 256, 512, 1024)

    # Memory first, while this process is small: on Linux a child's ru_maxrss starts at its
    # parent's resident size (fork copies it, exec keeps it), which would hide small peaks.
    mem = memory(names, 20_000 if args.quick else 60_000)
    print("\nepoch time vs samples (784-256-128-10), median seconds")
    samples = sweep(
        [(f"n={k * base}", (784, 256, 128, 10), k * base) for k in (1, 2, 4)],
        names,
        repeats,
        args.warmup,
    )
    print(f"\nepoch time vs width (784-w-w/2-10, {base} samples), median seconds")
    width = sweep(
        [(f"w={w}", (784, w, w // 2, 10), base) for w in widths], names, repeats, args.warmup
    )
    for pt in width.values():
        pt["width"] = pt["sizes"][1]
    if args.plot:
        plot(args.plot, samples, width, mem, base)
    h.write_json(
        args.json,
        {"workload": "scaling", "samples": samples, "width": width, "memory": mem},
    )


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
