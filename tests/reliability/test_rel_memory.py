"""Promise 7: training and predicting on 10⁶ rows in batches needs memory for the batches, not
for copies of the data.

Each case runs in a fresh process on 10⁶ × 20 float32 inputs (76 MiB): it trains one epoch
in minibatches of 256 (after a warm-up on 1000 rows, so that imports and first-call buffers
count in the baseline), then predicts every row. The peak resident memory (ru_maxrss) above
the baseline must stay far below the data: a fraction of it for the int64 bookkeeping of the
rows (a shuffling permutation, encoded labels, split indices: 8 bytes per row each, 10% of a
row of 20 float32 here), never a second copy. The figures are in docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy as np
    import chainrule as cr
    import sklearn.utils.validation  # noqa: F401  (imported before the baseline)

    def peak_mib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    case = sys.argv[1]
    n, d = 10**6, 20
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d), dtype=np.float32)
    y_reg = X[:, :5].sum(axis=1, dtype=np.float32)
    y_cls = (y_reg > 0).astype(np.int64)
    early = case.endswith("-es")

    def run(rows):
        if case.startswith("fit"):
            model = cr.nn.Sequential(cr.nn.Dense(d, 32), cr.nn.ReLU(), cr.nn.Dense(32, 2))
            opt = cr.optim.Adam(model.parameters(), lr=1e-3)
            cr.fit(model, cr.nn.CrossEntropyLoss(), opt, X[rows], y_cls[rows], epochs=1,
                   batch_size=256, seed=0, progress=False,
                   validation_split=0.1 if early else 0.0)
            mark = peak_mib()
            with cr.no_grad():  # prediction in batches, as a user would write it
                out = [model(cr.Tensor(X[rows][i : i + 65536])).data.argmax(axis=1)
                       for i in range(0, len(X[rows]), 65536)]
            return mark, np.concatenate(out)
        regressor = case.startswith("regressor")
        cls = cr.MLPRegressor if regressor else cr.MLPClassifier
        est = cls(hidden_layer_sizes=(32,), epochs=1, batch_size=256, random_state=0,
                  tol=None, early_stopping=early)
        est.fit(X[rows], (y_reg if regressor else y_cls)[rows])
        mark = peak_mib()
        return mark, est.predict(X[rows]) if regressor else est.predict_proba(X[rows])

    run(slice(0, 1000))
    base = peak_mib()
    start = time.perf_counter()
    after_fit, out = run(slice(None))
    after_predict = peak_mib()
    print(json.dumps({
        "data_mib": X.nbytes / 2**20, "base_mib": base,
        "fit_mib": after_fit - base, "total_mib": after_predict - base,
        "output_mib": out.nbytes / 2**20, "seconds": time.perf_counter() - start,
    }))
    """
)
CASES = ["fit", "fit-es", "regressor", "regressor-es", "classifier", "classifier-es"]


@pytest.fixture(scope="module")
def figures() -> dict[str, dict[str, float]]:
    """Run the cases, two at a time (each in its own process: peaks are per process)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    results = {}
    for i in range(0, len(CASES), 2):
        procs = {
            case: subprocess.Popen(
                [sys.executable, "-c", SCRIPT, case],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for case in CASES[i : i + 2]
        }
        for case, proc in procs.items():
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            results[case] = json.loads(out)
    return results


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss is in KiB on Linux")
@pytest.mark.parametrize("case", CASES)
def test_training_and_prediction_on_a_million_rows_stay_within_bounded_memory(figures, case):
    f = figures[case]
    print(case, json.dumps({k: round(v, 1) for k, v in f.items()}))  # the figures, with -s
    data = f["data_mib"]
    assert data > 75
    # Plain minibatch training: one permutation of the rows (8 bytes each) and the batches.
    # With a held-out validation set or encoded labels: a few more index arrays, and the
    # (10%) validation copy. Never a copy of X: that alone would be +76 MiB.
    share = 0.25 if case in ("fit", "regressor") else 0.5
    assert f["fit_mib"] < share * data + 16
    # Prediction goes in chunks: beyond training, the outputs and a chunk's activations.
    assert f["total_mib"] - f["fit_mib"] < 2 * f["output_mib"] + 16
    assert f["total_mib"] < 0.5 * data + 16
