"""The exported graph run by onnxruntime and compared with chainrule on the same rows."""

from __future__ import annotations

from typing import Any

import numpy as np


def _random_frame(prep: Any, n_rows: int, rng: np.random.Generator) -> Any:
    """Raw rows like the training table's: every column, a fifth of each column missing."""
    import pandas as pd

    data: dict[str, Any] = {}
    for col in prep.columns_:
        gaps = rng.random(n_rows) < 0.2
        if col["kind"] == "numeric":
            values = col["mean"] + col["scale"] * rng.normal(size=n_rows)
            data[col["name"]] = np.where(gaps, np.nan, values)
        else:
            cats = col["categories"] or [None]
            picks = rng.integers(len(cats), size=n_rows)
            data[col["name"]] = [None if g else cats[k] for g, k in zip(gaps, picks, strict=True)]
    return pd.DataFrame(data)


def largest_difference(proto: Any, model: Any, n_rows: int = 64) -> float | None:
    """Largest |onnxruntime − chainrule| over the first output, on `n_rows` random rows.

    None when onnxruntime is not installed or the input's sizes are symbolic. Classifiers
    compare probabilities (and count a differing label as a difference of 1); regressors the
    prediction.
    """
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    import warnings

    from chainrule.autograd import Tensor, no_grad
    from chainrule.onnx_export._network import network_dtype, parts
    from chainrule.onnx_export._tabular import onnx_inputs

    tabular, estimator, network = parts(model)
    rng = np.random.default_rng(0)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    raw = any(p.key == "chainrule.inputs" and p.value == "columns" for p in proto.metadata_props)
    if raw:
        frame = _random_frame(tabular.preprocessor, n_rows, rng)
        X = tabular.transform(frame, unknown="ignore")
        feed = onnx_inputs(tabular.preprocessor, frame)
    else:
        shape = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim[1:]]
        if not all(shape):  # symbolic sizes (a convolutional network without input_shape)
            return None
        X = rng.normal(size=(n_rows, *shape)).astype(network_dtype(network))
        feed = {"input": X}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the random rows may overflow a sigmoid: compare anyway
        got = dict(zip(names, session.run(names, feed), strict=True))
        network.eval()
        with no_grad():
            out = np.asarray(network(Tensor(X)).data)
    if "probabilities" in got:
        expected = estimator.predict_proba(X)
        difference = float(np.max(np.abs(got["probabilities"] - expected), initial=0.0))
        if "label" in got and not np.array_equal(got["label"], estimator.predict(X)):
            difference = max(difference, 1.0)
        return difference
    if "prediction" in got and tabular is not None and tabular.task == "regression":
        out = out * tabular.target_scale + tabular.target_mean
    first = got.get("prediction", got.get("output"))
    return float(np.max(np.abs(first - out), initial=0.0))
