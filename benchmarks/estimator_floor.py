"""Where an estimator's fit on digits spends its time, next to scikit-learn's and the floors.

`estimators_vs_sklearn.py` compares the two estimators' default fits; this script says how
far below scikit-learn's time a fit with chainrule's defaults could go at all. Each round
splits scikit-learn's digits 75/25 (stratified; round r uses split seed r; raw pixels, as
`estimators_vs_sklearn.py`'s "raw" rows) and times, one after the other:

* ``chainrule``: ``cr.MLPClassifier(random_state=r).fit`` with its defaults (64-100-10 ReLU,
  Adam, minibatches of 64; it stops by the ``tol`` plateau rule), recording its epochs;
* ``sklearn``: scikit-learn's ``MLPClassifier(random_state=r).fit``, its defaults
  (minibatches of 200, float64);
* ``chainrule, batch_size=200``: chainrule with scikit-learn's minibatch size, everything else
  default (what changing that default would buy);
* ``minimal NumPy``: the hand-written floor (`minimal_numpy.MinimalMLP`: no loss value, no
  penalty, no checks) for the same epochs, minibatches and η as chainrule's fit: what any
  NumPy-only library pays for those steps;
* ``GEMM only``: only the matrix products of those steps (the flops a compiled step must
  still do, with NumPy's call overhead);
* ``numba load``: loading the compiled kernels in a fresh process (numba's import and the
  first call of a kernel cached on disk), as a fit through them must; ``numba load + GEMM
  only`` is then a lower bound for any fit through numba's kernels.

    python benchmarks/estimator_floor.py [--cpu-time] [--repeats 5] [--json out.json]

No assertions: this is a report (`docs/benchmarks.md`).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkClassifier

import chainrule as cr
import harness as h
from minimal_numpy import MinimalMLP

SIZES = (64, 100, 10)  # digits' 64 pixels, the estimators' default hidden layer, 10 classes
# In a fresh process: import numba, then make the first call of a compiled kernel (the Adam
# step; its machine code comes from numba's disk cache, but the first call in a process also
# sets up numba's compiler and loads the code), as a fit through the kernels must.
_LOAD_KERNELS = """
import time
import numpy as np
import chainrule
from chainrule.fast import kernels
w = np.ones(64, np.float32)
t = time.{clock}()
kernels.set_enabled(True)
kernels.adam_(w, w.copy(), np.zeros_like(w), np.zeros_like(w), betas=(0.9, 0.999),
              step_size=1e-3, eps=1e-8, weight_decay=0.0, decay=1.0, keep=None)
print(time.{clock}() - t if kernels.loaded() else "not loaded")
"""


def numba_load_s(clock: str, repeats: int) -> float | None:
    """Median seconds to load the compiled kernels in a fresh process that has imported
    chainrule (None: numba is not installed, or the kernels are switched off)."""
    times = []
    for _ in range(repeats):
        run = subprocess.run(
            [sys.executable, "-c", _LOAD_KERNELS.format(clock=clock)],
            capture_output=True,
            text=True,
        )
        if run.returncode != 0 or run.stdout.strip() == "not loaded":
            return None
        times.append(float(run.stdout))
    return statistics.median(times)


def clocked(fn: Callable[..., Any], *args: Any) -> float:
    """Seconds (by the harness's clock) of one call ``fn(*args)``."""
    return h.timed_rounds({"run": partial(fn, *args)}, repeats=1, warmup=0)["run"][0]


def fit_quietly(model: Any, X: np.ndarray, y: np.ndarray) -> None:
    """``model.fit(X, y)`` without its convergence warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "did not converge": a report, not an error
        model.fit(X, y)


def repeat(epochs: int, epoch: Callable[..., Any], *args: Any) -> None:
    """`epochs` calls of ``epoch(*args)``."""
    for _ in range(epochs):
        epoch(*args)


def main() -> None:
    args = h.parser(__doc__.splitlines()[0]).parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    X, y = load_digits(return_X_y=True)
    params = cr.MLPClassifier().get_params()
    batch, eta = params["batch_size"], params["learning_rate"]

    times: dict[str, list[float]] = {}
    extra: dict[str, dict[str, list[float]]] = {}

    def record(name: str, seconds: float, **values: float) -> None:
        times.setdefault(name, []).append(seconds)
        for key, value in values.items():
            extra.setdefault(name, {}).setdefault(key, []).append(value)

    for r in range(args.warmup + repeats):
        seed = max(r - args.warmup, 0)
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.25, random_state=seed, stratify=y
        )
        ours = cr.MLPClassifier(random_state=seed)
        t_ours = clocked(fit_quietly, ours, X_tr, y_tr)
        epochs, steps = ours.n_iter_, ours.n_iter_ * -(-len(X_tr) // batch)
        theirs = SkClassifier(random_state=seed)
        t_theirs = clocked(fit_quietly, theirs, X_tr, y_tr)
        big = cr.MLPClassifier(random_state=seed, batch_size=200)
        t_big = clocked(fit_quietly, big, X_tr, y_tr)
        floor = MinimalMLP(SIZES, lr=eta, seed=seed)
        X32, rng = X_tr.astype(np.float32), np.random.default_rng(seed)
        t_floor = clocked(repeat, epochs, floor.fit_epoch, X32, y_tr, batch, rng)
        t_gemm = clocked(repeat, epochs, h.gemm_only_epoch(SIZES, len(X_tr), batch))
        if r < args.warmup:
            continue
        record("chainrule", t_ours, epochs=epochs, steps=steps, accuracy=ours.score(X_te, y_te))
        record(
            h.SKLEARN,
            t_theirs,
            epochs=theirs.n_iter_,
            steps=theirs.n_iter_ * -(-len(X_tr) // 200),
            accuracy=theirs.score(X_te, y_te),
        )
        record(
            "chainrule, batch_size=200",
            t_big,
            epochs=big.n_iter_,
            steps=big.n_iter_ * -(-len(X_tr) // 200),
            accuracy=big.score(X_te, y_te),
        )
        acc = float(np.mean(floor.predict(X_te.astype(np.float32)) == y_te))
        record(h.MINIMAL, t_floor, epochs=epochs, steps=steps, accuracy=acc)
        record("GEMM only, NumPy", t_gemm, epochs=epochs, steps=steps)

    clock = "process_time" if args.cpu_time else "perf_counter"
    numba_s = numba_load_s(clock, repeats)
    if numba_s is not None:
        gemm = statistics.median(times["GEMM only, NumPy"])
        times["numba load"] = [numba_s]
        times["numba load + GEMM only"] = [numba_s + gemm]
    else:
        print("numba not installed (or switched off): its load is not measured")

    rows = h.summarize(times)
    for name, row in rows.items():
        for key, values in extra.get(name, {}).items():
            row[key] = values
            row[f"median_{key}"] = statistics.median(values)
        if "median_steps" in row:
            row["us_per_step"] = row["median_s"] / row["median_steps"] * 1e6
    h.print_table(
        f"MLPClassifier fit on digits (raw, 75/25 splits 0..{repeats - 1}), median of {repeats}",
        rows,
        extra=[
            ("epochs", "median_epochs", ".0f"),
            ("µs/step", "us_per_step", ".0f"),
            ("test acc.", "median_accuracy", ".4f"),
        ],
    )
    h.write_json(args.json, {"workload": "estimator fit on digits", "results": rows})


if __name__ == "__main__":
    main()
