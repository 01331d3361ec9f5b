"""W1 "MNIST-shaped": one training epoch of a 784-256-128-10 ReLU network.

60,000 × 784 float32 inputs (synthetic, uniform in [0, 1)), 10 classes, softmax cross-entropy,
Adam (η = 1e-3), shuffled minibatches of 128 (the last one partial). Contenders: chainrule
with a hand-written loop over its public API (parameters flattened, the recommended setup for
speed, and as constructed), chainrule's `cr.fit` (flattened), each flattened one also with its
compiled kernels switched off ("NumPy only": as without the `[fast]` extra), PyTorch eager (CPU, 2
threads), scikit-learn's MLPClassifier (`partial_fit`, one epoch per call, float32) and the
minimal NumPy floor; and, as the practical floor, an epoch of only the 8 matrix products per
step at their real shapes (NumPy's OpenBLAS and PyTorch's MKL). Each round trains a new model
of every contender for one epoch.

    python benchmarks/w1_mnist_shaped.py [--quick] [--repeats 5] [--json w1.json]

`--quick` uses 10,000 samples. Prints the median epoch time, samples per second and the ratios.
"""

from __future__ import annotations

import warnings

import numpy as np

import harness as h
from minimal_numpy import MinimalMLP

SIZES = (784, 256, 128, 10)
BATCH = 128


def main() -> None:
    args = h.parser(__doc__.splitlines()[0]).parse_args()
    n = 10_000 if args.quick else 60_000
    repeats = args.repeats or (2 if args.quick else 5)
    X, y = h.mnist_shaped(n)
    classes = np.arange(SIZES[-1])

    # Factories: every round trains a new model of each contender for its first epoch.
    contenders = {}
    names = [
        "chainrule (loop)",
        "chainrule (loop, NumPy only)",
        "chainrule (not flattened)",
        "chainrule (cr.fit)",
        "chainrule (cr.fit, NumPy only)",
        h.TORCH,
        h.SKLEARN,
        h.MINIMAL,
        "GEMM only, NumPy",
        "GEMM only, torch",
    ]
    sk_dtypes = []
    for name in h.selected(names, args.only):
        if name.startswith(("chainrule (loop", "chainrule (not")):

            def make(flatten=name != "chainrule (not flattened)", numpy_only="NumPy" in name):
                run = h.ChainruleLoop(
                    SIZES, flatten=flatten, compiled=False if numpy_only else None
                )
                return lambda: run.epoch(X, y, BATCH)

        elif name.startswith("chainrule (cr.fit"):
            if not h.chainrule_fit_available():
                print("cr.fit not available: skipped")
                continue

            def make(numpy_only="NumPy" in name):
                run = h.ChainruleFit(SIZES, compiled=False if numpy_only else None)
                return lambda: run.epoch(X, y, BATCH)

        elif name == h.TORCH:
            if h.load_torch() is None:
                print("torch not installed: skipped")
                continue
            Xt, yt = h.to_torch(X, y)

            def make(Xt=Xt, yt=yt):
                run = h.TorchLoop(SIZES)
                return lambda: run.epoch(Xt, yt, BATCH)

        elif name == h.SKLEARN:

            def make():
                run = h.sklearn_mlp(SIZES, BATCH, max_iter=1)

                def epoch() -> None:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        run.partial_fit(X, y, classes=classes)
                    sk_dtypes.append(run.coefs_[0].dtype)

                return epoch

        elif name.startswith("GEMM only"):
            lib = "torch" if name.endswith("torch") else "numpy"
            if lib == "torch" and h.load_torch() is None:
                continue

            def make(lib=lib):
                return h.gemm_only_epoch(SIZES, n, BATCH, lib)

        else:

            def make():
                run = MinimalMLP(SIZES)
                rng = np.random.default_rng(0)
                return lambda: run.fit_epoch(X, y, BATCH, rng)

        contenders[name] = make

    times = h.timed_rounds(contenders, repeats, args.warmup, fresh=True)
    rows = h.summarize(times)
    for row in rows.values():
        row["samples_per_s"] = n / row["median_s"]
    h.print_table(
        f"W1: one epoch, {n} x 784 float32, 784-256-128-10, batch {BATCH}, Adam "
        f"(median of {repeats}, after {args.warmup} warm-up)",
        rows,
        extra=[("samples/s", "samples_per_s", ",.0f")],
    )
    if sk_dtypes:
        print(f"scikit-learn trained in {sk_dtypes[-1]} (float32 input kept as float32)")
    h.write_json(
        args.json,
        {
            "workload": "W1",
            "n_samples": n,
            "sizes": SIZES,
            "batch_size": BATCH,
            "repeats": repeats,
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
