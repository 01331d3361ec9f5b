"""W2 "small net": 20 epochs on digits, where per-operation overhead decides the speed.

scikit-learn's digits (1,797 × 64, pixel values ÷ 16, float32), split 80/20 (stratified,
seed 0): 1,437 training samples, 360 test samples. Network 64-64-10 with ReLU, softmax
cross-entropy, Adam (η = 1e-3), shuffled minibatches of 32, 20 epochs: 900 steps.
Each round builds and trains a new model of every contender for 20 epochs (seeds 0, 1, 2, ...
in turn; the time includes building the model) and scores it on the test set; the accuracy
must match the peers' (0.96-0.97).

    python benchmarks/w2_small_net.py [--quick] [--repeats 5] [--json w2.json]

Contenders: chainrule with a hand-written loop (parameters flattened, as recommended for speed,
and as constructed), `cr.fit` (flattened; one call for all epochs, as it is used), both
flattened ones also with the compiled kernels switched off ("NumPy only", as without the
`[fast]` extra). This network has fewer parameters than `kernels.MIN_SIZE`, so a process loads
numba for it only when asked: the rows with the kernels ask (`use_kernels(True)`), as a
process that trains many small models would; PyTorch eager (CPU), scikit-learn's
MLPClassifier (`fit` with max_iter=20, so its time includes input validation), the minimal
NumPy floor, and an epoch of only the 5 matrix products per step at their real shapes
("GEMM only", the practical floor).
`--quick` runs 5 epochs.
"""

from __future__ import annotations

import statistics
import warnings

import numpy as np

import harness as h
from minimal_numpy import MinimalMLP

SIZES = (64, 64, 10)
BATCH = 32


def main() -> None:
    args = h.parser(__doc__.splitlines()[0]).parse_args()
    epochs = 5 if args.quick else 20
    repeats = args.repeats or (3 if args.quick else 5)
    X_train, X_test, y_train, y_test = h.digits_split(seed=0)

    # With the [fast] extra: switched on explicitly (see the docstring), else NumPy anyway.
    fast = True if h.kernels_enabled() else None

    def chainrule_run(kind: str, compiled: bool | None = fast):
        def run(seed: int) -> float:
            make = h.ChainruleFit if kind == "fit" else h.ChainruleLoop
            flatten = kind != "loop, not flattened"
            runner = make(SIZES, seed=seed, flatten=flatten, compiled=compiled)
            runner.train(X_train, y_train, BATCH, epochs)  # cr.fit: one call, all epochs
            return float(np.mean(runner.predict(X_test) == y_test))

        return run

    def torch_run(seed: int) -> float:
        runner = h.TorchLoop(SIZES, seed=seed)
        Xt, yt = h.to_torch(X_train, y_train)
        for _ in range(epochs):
            runner.epoch(Xt, yt, BATCH)
        return float(np.mean(runner.predict(h.to_torch(X_test)[0]) == y_test))

    def sklearn_run(seed: int) -> float:
        clf = h.sklearn_mlp(SIZES, BATCH, max_iter=epochs, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "did not converge" after a fixed epoch count
            clf.fit(X_train, y_train)
        return float(np.mean(clf.predict(X_test) == y_test))

    def minimal_run(seed: int) -> float:
        model = MinimalMLP(SIZES, seed=seed)
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            model.fit_epoch(X_train, y_train, BATCH, rng)
        return float(np.mean(model.predict(X_test) == y_test))

    gemm_epoch = h.gemm_only_epoch(SIZES, len(X_train), BATCH)

    def gemm_run(seed: int) -> float:
        for _ in range(epochs):
            gemm_epoch()
        return float("nan")  # (no model: only the matrix products)

    runs = {
        "chainrule (loop)": chainrule_run("loop"),
        "chainrule (loop, NumPy only)": chainrule_run("loop", compiled=False),
        "chainrule (not flattened)": chainrule_run("loop, not flattened"),
        "chainrule (cr.fit)": chainrule_run("fit"),
        "chainrule (cr.fit, NumPy only)": chainrule_run("fit", compiled=False),
        h.TORCH: torch_run,
        h.SKLEARN: sklearn_run,
        h.MINIMAL: minimal_run,
        "GEMM only, NumPy": gemm_run,
    }
    if not h.chainrule_fit_available():
        print("cr.fit not available: skipped")
        del runs["chainrule (cr.fit)"]
    if h.load_torch() is None:
        print("torch not installed: skipped")
        del runs[h.TORCH]
    runs = {name: fn for name, fn in runs.items() if name in h.selected(list(runs), args.only)}

    # Round r trains every contender with seed r (the warm-up rounds with seed 0, not counted).
    accuracy: dict[str, list[float]] = {name: [] for name in runs}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(args.warmup + repeats):
        seed, counted = max(r - args.warmup, 0), r >= args.warmup
        scores: dict[str, float] = {}
        calls = {
            name: (lambda n=name, fn=fn, s=seed, out=scores: out.__setitem__(n, fn(s)))
            for name, fn in runs.items()
        }
        one_round = h.timed_rounds(calls, repeats=1, warmup=0)
        if counted:
            for name in runs:
                times[name] += one_round[name]
                accuracy[name].append(scores[name])
    rows = h.summarize(times)
    steps = epochs * -(-len(X_train) // BATCH)
    for name, row in rows.items():
        row["us_per_step"] = row["median_s"] / steps * 1e6
        row["accuracy"] = accuracy[name]
        row["median_accuracy"] = statistics.median(accuracy[name])
    h.print_table(
        f"W2: digits 64-64-10, batch {BATCH}, Adam, {epochs} epochs ({steps} steps), "
        f"median of {repeats} seeds (0..{repeats - 1})",
        rows,
        extra=[("µs/step", "us_per_step", ".0f"), ("test acc.", "median_accuracy", ".4f")],
    )
    for name, row in rows.items():
        print(f"  {name:<26} accuracy per seed: " + " ".join(f"{a:.4f}" for a in row["accuracy"]))
    h.write_json(
        args.json,
        {
            "workload": "W2",
            "sizes": SIZES,
            "batch_size": BATCH,
            "epochs": epochs,
            "steps": steps,
            "repeats": repeats,
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
