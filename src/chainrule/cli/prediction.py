"""What ``chainrule predict`` writes for a model and a table, shared by its two paths.

`chainrule.cli.predict.run_full` (pandas, `chainrule.load`) and `chainrule.cli.lean_predict`
(the standard library, `chainrule.estimators.inference`) both turn rows into output columns here; so
does ``chainrule evaluate``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.cli import io


def numeric_matrix(frame: Any, n_features: int, names: Any, source: str) -> Any:
    """The rows of `frame` as the float matrix a bare estimator or network takes."""
    from chainrule.data.tabular import first_row
    from chainrule.data.tabular.columns import quote

    if names is not None:
        for name in names:
            io.require_column(frame, str(name), source)
        frame = frame[[str(n) for n in names]]
    if frame.shape[1] != n_features:
        raise ValueError(
            f"{source} has {frame.shape[1]} columns; the model takes {n_features} numbers per row"
        )
    for name in frame.columns:
        if frame[name].dtype.kind not in "biuf":
            import pandas as pd

            bad = pd.to_numeric(frame[name], errors="coerce").isna() & frame[name].notna()
            row = first_row(bad.to_numpy()) or 1
            raise ValueError(
                f"column {name!r}, row {row}: {quote(frame[name].iloc[row - 1])} is not a number"
            )
    X = frame.to_numpy(dtype=np.float64)
    if not np.isfinite(X).all():
        row = first_row(~np.isfinite(X).all(axis=1))
        raise ValueError(f"{source}, row {row}: missing or infinite value")
    return X


def warn_missing(frame: Any, columns: list[str], source: str) -> None:
    """Warn about empty cells in the model's input columns (filled in as in training)."""
    import warnings

    from chainrule.data.tabular.columns import rows_text

    for name in columns:
        gaps = frame[name].isna().to_numpy() if name in frame.columns else None
        if gaps is not None and gaps.any():
            warnings.warn(
                f"{source}: column {name!r}, {rows_text(gaps)}: missing value(s) filled in as "
                "in training (numbers: the training mean; categories: none of them)",
                UserWarning,
                stacklevel=2,
            )


def predictions(model: Any, frame: Any, *, proba: bool, unknown: str, source: str) -> Any:
    """A DataFrame with the predictions for the rows of `frame` (and probabilities)."""
    import pandas as pd

    return pd.DataFrame(
        prediction_columns(model, frame, proba=proba, unknown=unknown, source=source)
    )


def prediction_columns(
    model: Any, frame: Any, *, proba: bool, unknown: str, source: str
) -> dict[str, Any]:
    """The columns of `predictions` by name: the predictions, then any probabilities."""
    from chainrule.data.tabular import TabularModel
    from chainrule.nn import Module

    if isinstance(model, Module):
        from chainrule.autograd import Tensor, no_grad
        from chainrule.saving.modelspec import network_io

        n_in = network_io(model)[0] or frame.shape[1]
        X = numeric_matrix(frame, n_in, None, source)
        dtype = next((p.data.dtype for p in model.parameters()), np.float32)
        with no_grad():
            out = np.asarray(model.eval()(Tensor(X.astype(dtype))).data).reshape(len(X), -1)
        return {f"output_{i}": out[:, i] for i in range(out.shape[1])}
    if isinstance(model, TabularModel):
        column = model.target
        warn_missing(frame, model.preprocessor.input_columns, source)
        pred = model.predict(frame, unknown)
        p = model.predict_proba(frame, unknown) if proba else None
    else:  # a bare estimator: numeric columns, by name when it was fitted on a DataFrame
        column = "prediction"
        X = numeric_matrix(
            frame, model.n_features_in_, getattr(model, "feature_names_in_", None), source
        )
        pred = model.predict(X)
        p = model.predict_proba(X) if proba and hasattr(model, "predict_proba") else None
    if proba and p is None:
        raise ValueError("--proba needs a classification model")
    pred = np.asarray(pred)
    if pred.ndim == 2:  # several regression targets: one column each
        result = {f"{column}_{i}": pred[:, i] for i in range(pred.shape[1])}
    else:  # .tolist(): labels as Python values, so they print as in the training file
        result = {column: pred.tolist()}
    if p is not None:
        for k, label in enumerate(model.classes_):
            result[f"proba_{label}"] = p[:, k]
    return result


def id_columns(frame: Any, text: str, source: str) -> list[str]:
    """The columns named by ``--id`` (ValueError naming one that `frame` lacks)."""
    from chainrule.cli.options import names

    columns = list(names(text))
    for name in columns:
        io.require_column(frame, name, source)
    return columns


def number_text(values: Any, digits: int | None, dtype: Any) -> list[str]:
    """Each float as text: `digits` significant digits, or else the shortest text that reads
    back as the same number in `dtype` (float32: at most 9 digits, not float64's 17).
    """
    values = np.asarray(values, dtype=np.float64)
    if digits is not None:
        return ["" if np.isnan(v) else f"{v:.{digits}g}" for v in values]
    # str of a NumPy float is its shortest round-trip text in its own precision
    return ["" if np.isnan(v) else str(v) for v in values.astype(dtype)]


def finish(result: Any, frame: Any, ids: list[str], digits: int | None, dtype: Any) -> Any:
    """`result` as written: the ``--id`` columns first, then floats as `number_text`."""
    for column in result.columns:
        if result[column].dtype.kind == "f":
            result[column] = number_text(result[column].to_numpy(), digits, dtype)
    check_id_names(ids, result.columns)
    for k, name in enumerate(ids):
        result.insert(k, name, frame[name].to_numpy())
    return result


def check_id_names(ids: list[str], columns: Any) -> None:
    """ValueError if an ``--id`` column has the name of one of the prediction `columns`."""
    clash = [c for c in ids if c in columns]
    if clash:
        raise ValueError(f"--id column {clash[0]!r} has the name of a prediction column")


def model_dtype(model: Any) -> Any:
    """The floating type of the network `model` computes in (float32 if it has none)."""
    from chainrule.nn import Module

    network = model if isinstance(model, Module) else getattr(model, "estimator", model)
    network = getattr(network, "model_", network)
    if isinstance(network, Module):
        return next((p.data.dtype for p in network.parameters()), np.float32)
    return np.float32


def unused(model: Any, ids: list[str]) -> list[str]:
    """The ``--id`` columns that are not inputs of the model (left out of its input)."""
    from chainrule.data.tabular import TabularModel

    if isinstance(model, TabularModel):
        return [c for c in ids if c not in model.preprocessor.input_columns]
    names = getattr(model, "feature_names_in_", None)
    return [c for c in ids if names is None or c not in list(names)]
