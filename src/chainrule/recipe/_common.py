"""Small helpers the recipe's tools share: task inference, estimator plumbing, seeds, tables."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

# One rule for the task: the command line's (`chainrule.data.tabular.infer_task`).
from chainrule.data.tabular.target import TASKS, task_of_numbers
from chainrule.rng import as_generator

# The recipe draws its figures as chainrule.viz.plotting does: pyplot-free, no global state.
from chainrule.viz.plotting import _axes as axes  # noqa: F401


def infer_task(y: Any) -> str:
    """ "classification" or "regression" for the target `y` (the command line's rule).

    Text, booleans and other non-numbers are labels; so is an integer-valued target with at
    most `MAX_INFERRED_CLASSES` distinct values that repeat (at most a fifth of the rows, or 2).
    Other numbers are regression targets.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "iuf":
        return "classification"
    return task_of_numbers(y[~np.isnan(y)] if y.dtype.kind == "f" else y)


def check_task(task: Any, y: Any) -> str:
    if task is None:
        return infer_task(y)
    if task not in TASKS:
        raise ValueError(f"task must be None, 'classification' or 'regression', got {task!r}")
    return str(task)


def positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def base_seed(seed: Any) -> int:
    """An int seed: `seed` itself, or one drawn from chainrule's generator (`cr.set_seed`)."""
    if seed is None:
        return int(as_generator(None).integers(2**31 - 1))
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def job_seed(seed: int, index: int) -> int:
    """The seed of job `index` (a trial, a member): independent streams from one base seed."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0] % (2**31 - 1))


# ---------------------------------------------------------------------------- estimators
def require_sklearn(tool: str) -> None:
    """An ImportError naming the extra when scikit-learn is missing."""
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f'{tool} needs scikit-learn, which is not installed: pip install "chainrule[sklearn]"'
        ) from exc


def param_keys(estimator: Any, suffix: str) -> list[str]:
    """Keys of ``estimator.get_params()`` that are `suffix` or end in ``__suffix``."""
    return [k for k in estimator.get_params(deep=True) if k == suffix or k.endswith(f"__{suffix}")]


def mlp_prefix(estimator: Any) -> str | None:
    """The parameter prefix of the chainrule network inside `estimator` ("" for the estimator
    itself, ``"mlpclassifier__"`` in a pipeline), or None if there is none.

    A chainrule MLP is recognized by its ``callbacks`` and ``epochs`` parameters.
    """
    keys = set(estimator.get_params(deep=True))
    for key in sorted(param_keys(estimator, "callbacks"), key=len):
        prefix = key[: -len("callbacks")]
        if f"{prefix}epochs" in keys:
            return prefix
    return None


def require_mlp(estimator: Any, tool: str) -> str:
    prefix = mlp_prefix(estimator)
    if prefix is None:
        raise ValueError(
            f"{tool} needs a chainrule MLPClassifier / MLPRegressor (alone or as the last step "
            f"of a Pipeline), got {type(estimator).__name__}"
        )
    return prefix


def seeded(estimator: Any, seed: int) -> Any:
    """A clone of `estimator` with every ``random_state`` parameter set to `seed`."""
    from sklearn.base import clone

    est = clone(estimator)
    keys = param_keys(est, "random_state")
    if keys:
        est.set_params(**dict.fromkeys(keys, seed))
    return est


def add_callback(estimator: Any, prefix: str, callback: Any) -> None:
    """Append `callback` to the chainrule network's callbacks (in place)."""
    key = f"{prefix}callbacks"
    existing = estimator.get_params(deep=True)[key] or []
    estimator.set_params(**{key: [*existing, callback]})


def is_classifier(estimator: Any) -> bool:
    from sklearn.base import is_classifier as _is_classifier

    return bool(_is_classifier(estimator))


def scorer(estimator: Any, scoring: Any) -> Any:
    """`sklearn.metrics.check_scoring`: accuracy or R² by default (greater is better)."""
    from sklearn.metrics import check_scoring

    return check_scoring(estimator, scoring=scoring)


def metric_name(estimator: Any, scoring: Any) -> str:
    if scoring is None:
        return "accuracy" if is_classifier(estimator) else "R²"
    return scoring if isinstance(scoring, str) else getattr(scoring, "__name__", "score")


# ---------------------------------------------------------------------------- output
def table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> Any:
    """A `pandas.DataFrame` of `rows` when pandas is installed, else the list of dicts."""
    try:
        import pandas as pd
    except ImportError:
        return list(rows)
    return pd.DataFrame(list(rows), columns=list(columns) if columns else None)


def fmt(value: Any, digits: int = 4) -> str:
    """A number for a Markdown table (general format), other values as text."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.{digits}g}"
    return str(value)


def text_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table for a terminal: columns padded to their widest cell."""
    cells = [list(header), *([fmt(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        cells = [fmt(v).replace("|", "\\|") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
