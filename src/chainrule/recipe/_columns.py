"""Per-column facts for `summarize`: types, gaps, codes, the target, leaks and duplicates.

Columns are NumPy arrays: numeric ones as float64 with NaN for a gap, others as object
arrays. Comparing values through integer codes (`value_codes`) lets one routine handle both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

LEAK_CORRELATION = 0.99  # |Pearson r| with the target: "nearly identical to the target"


def columns(X: Any) -> tuple[list[str], list[np.ndarray], list[str]]:
    """(names, values, dtype names) per column; numeric columns as float64 with NaN gaps."""
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # a pandas DataFrame
        names = [str(c) for c in X.columns]
        values, dtypes = [], []
        for c in X.columns:
            s = X[c]
            if s.dtype.kind in "iufb":
                values.append(s.to_numpy(dtype=np.float64, na_value=np.nan))
            else:
                values.append(s.to_numpy(dtype=object))
            dtypes.append(str(s.dtype))
        return names, values, dtypes
    X = np.asarray(X)
    if X.ndim == 1:
        raise ValueError(
            f"X must be 2-d (n_samples, n_features), got a 1-d array of {len(X)} values; "
            "use X.reshape(-1, 1) for a single feature"
        )
    if X.ndim > 2:
        X = X.reshape(len(X), -1)  # images: one column per pixel
    names = [f"x{j}" for j in range(X.shape[1])]
    if X.dtype.kind in "iufb":
        cols = [X[:, j].astype(np.float64) for j in range(X.shape[1])]
    else:
        cols = [X[:, j].astype(object) for j in range(X.shape[1])]
    return names, cols, [str(X.dtype)] * X.shape[1]


def missing(v: np.ndarray) -> np.ndarray:
    if v.dtype.kind == "f":
        return np.isnan(v)
    return np.array([x is None or (isinstance(x, float) and x != x) for x in v], dtype=bool)


def value_codes(v: np.ndarray) -> np.ndarray:
    """Integer codes of a column's values (missing values get their own code)."""
    if v.dtype.kind == "f":
        return np.unique(np.nan_to_num(v, nan=np.inf), return_inverse=True)[1].reshape(-1)
    return np.unique(v.astype(str), return_inverse=True)[1].reshape(-1)


def describe(name: str, v: np.ndarray, dtype: str) -> dict[str, Any]:
    miss = missing(v)
    present = v[~miss]
    record: dict[str, Any] = {
        "name": name,
        "dtype": dtype,
        "kind": "numeric" if v.dtype.kind == "f" else "categorical",
        "missing": int(miss.sum()),
        "unique": len(np.unique(present.astype(str) if v.dtype.kind == "O" else present)),
    }
    if v.dtype.kind == "f":
        ok = len(present) > 0
        record.update(
            mean=float(present.mean()) if ok else None,
            std=float(present.std()) if ok else None,
            min=float(present.min()) if ok else None,
            max=float(present.max()) if ok else None,
        )
    return record


def target(y: np.ndarray, task: str) -> tuple[dict[str, Any], np.ndarray]:
    """The target's description and its codes (class index, or the value for regression)."""
    if task == "classification":
        labels, codes, counts = np.unique(y.astype(str), return_inverse=True, return_counts=True)
        info = {
            "missing": 0,
            "classes": {str(c): int(k) for c, k in zip(labels, counts, strict=True)},
            "imbalance_ratio": float(counts.max() / counts.min()),
        }
        return info, codes.reshape(-1).astype(np.float64)
    v = y.astype(np.float64)
    ok = v[np.isfinite(v)]
    std = float(ok.std())
    skew = float(np.mean(((ok - ok.mean()) / std) ** 3)) if std > 0 else 0.0
    info = {
        "missing": int(len(v) - len(ok)),
        "mean": float(ok.mean()),
        "std": std,
        "min": float(ok.min()),
        "median": float(np.median(ok)),
        "max": float(ok.max()),
        "skewness": skew,
    }
    return info, v


def leak(v: np.ndarray, codes: np.ndarray, task: str, n_classes: int) -> str | None:
    """Why column `v` looks like a leak of the target, or None."""
    miss = missing(v)
    if miss.all():
        return None
    v, t = v[~miss], codes[~miss]
    n = len(v)
    linear = task == "regression" or n_classes == 2  # a correlation with the target means something
    if linear and v.dtype.kind == "f" and np.std(v) > 0 and np.std(t) > 0:
        r = float(np.corrcoef(v, t)[0, 1])
        if abs(r) >= LEAK_CORRELATION:
            return f"it is nearly identical to the target (correlation {r:+.3f})"
    if task != "classification" or n < 20:
        return None
    col = value_codes(v)
    n_values = int(col.max()) + 1
    # Each value of the column belongs to a single class: the column names the class.
    pure = np.all(np.bincount(col, minlength=n_values) == pairs(col, t, n_values))
    if pure and n_values <= n // 2:
        return f"each of its {n_values} values belongs to a single class: it determines the target"
    if v.dtype.kind == "f" and n_values > n // 2:
        # Sorted by the column, the classes form one block each: thresholds separate them.
        order = np.argsort(v, kind="stable")
        vs, ts = v[order], t[order]
        change = np.flatnonzero(ts[1:] != ts[:-1])
        if len(change) == n_classes - 1 and np.all(vs[change] < vs[change + 1]):
            return "thresholds on it alone separate the classes perfectly"
    return None


def pairs(col: np.ndarray, t: np.ndarray, n_values: int) -> np.ndarray:
    """Per value of `col`, the count of its most common class."""
    t_codes = np.unique(t, return_inverse=True)[1].reshape(-1)
    joint = np.zeros((n_values, int(t_codes.max()) + 1), dtype=np.int64)
    np.add.at(joint, (col, t_codes), 1)
    return joint.max(axis=1)


def duplicates(cols: list[np.ndarray], codes: np.ndarray) -> tuple[int, int]:
    """(rows repeating an earlier row, of which with a different target)."""
    if not cols:
        return 0, 0
    coded = np.stack([value_codes(c) for c in cols], axis=1)
    _, first, inverse = np.unique(coded, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    repeat = first[inverse] != np.arange(len(coded))
    same = np.where(
        np.isnan(codes), np.isnan(codes[first[inverse]]), codes == codes[first[inverse]]
    )
    return int(repeat.sum()), int((repeat & ~same).sum())
