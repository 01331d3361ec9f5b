"""`summarize(X, y)`: step 1 of the recipe, "become one with the data", as numbers and warnings.

Before any network sees the data, look at it: how many samples and features, of which types;
missing values; the target's classes or distribution; each feature's scale; constant and
duplicated columns and rows; and columns that look too good to be true (a feature that is a
copy of the target leaks the answer and makes every model look perfect). `summarize` computes
all of it and turns the findings into plain-language warnings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from chainrule.recipe import _columns as col
from chainrule.recipe._common import axes, check_task, fmt, markdown_table
from chainrule.viz.plot_style import BEST, MUTED, TRAIN, styled

__all__ = ["Summary", "summarize"]

MAX_PLOTTED = 30  # features in the scale chart

# Thresholds behind the warnings (named so the docs and tests can refer to them).
IMBALANCE_RATIO = 10.0  # majority / minority class size: "heavy imbalance"
UNIT_SCALE = (0.1, 10.0, 3.0)  # std outside [0.1, 10] or |mean| > 3: "not on a unit scale"
SKEW_LIMIT = 2.0  # |skewness| of a regression target worth a transform
MAX_TABLE_ROWS = 40


@dataclass
class Summary:
    """What `summarize` found. ``str(summary)`` is Markdown; `to_dict` gives plain data.

    Attributes
    ----------
    n_samples, n_features : int
    task : {"classification", "regression"}
    features : list of dict
        Per column: ``name``, ``dtype``, ``kind`` ("numeric"/"categorical"), ``missing``,
        ``unique``, and for numeric columns ``mean``, ``std``, ``min``, ``max``.
    target : dict
        ``missing`` and, for classification, ``classes`` (label → count) and
        ``imbalance_ratio``; for regression ``mean``, ``std``, ``min``, ``median``, ``max``,
        ``skewness``.
    constant_columns : list of str
    duplicate_columns : list of [str, str]
        Pairs of identical columns (the second repeats the first).
    duplicate_rows : int
        Rows that repeat an earlier row's features.
    conflicting_duplicates : int
        Of those, rows whose target differs from the earlier row's (label noise).
    leakage : list of dict
        ``{"column", "reason"}`` for columns that look like they leak the target.
    warnings : list of str
    """

    n_samples: int
    n_features: int
    task: str
    features: list[dict[str, Any]]
    target: dict[str, Any]
    constant_columns: list[str] = field(default_factory=list)
    duplicate_columns: list[list[str]] = field(default_factory=list)
    duplicate_rows: int = 0
    conflicting_duplicates: int = 0
    leakage: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return asdict(self)

    def to_markdown(self) -> str:
        numeric = sum(f["kind"] == "numeric" for f in self.features)
        what = (
            f"{len(self.target['classes'])} classes"
            if self.task == "classification"
            else "a numeric target"
        )
        lines = [
            f"**{self.n_samples} samples, {self.n_features} features** ({numeric} numeric, "
            f"{self.n_features - numeric} categorical); task: {self.task} ({what}).",
            "",
        ]
        if self.warnings:
            lines += ["**Warnings**", ""] + [f"- {w}" for w in self.warnings] + [""]
        else:
            lines += ["No warnings: the data looks clean.", ""]
        lines += ["**Target**", ""]
        if self.task == "classification":
            n = sum(self.target["classes"].values())
            rows = [(c, k, f"{k / n:.1%}") for c, k in self.target["classes"].items()]
            lines.append(markdown_table(["class", "samples", "share"], rows))
        else:
            keys = ("mean", "std", "min", "median", "max", "skewness")
            lines.append(markdown_table(list(keys), [[self.target[k] for k in keys]]))
        lines += ["", "**Features**", ""]
        header = ["feature", "type", "missing", "unique", "mean", "std", "min", "max"]
        rows = [
            [f["name"], f["dtype"], f["missing"], f["unique"]]
            + [f.get(k) for k in ("mean", "std", "min", "max")]
            for f in self.features[:MAX_TABLE_ROWS]
        ]
        lines.append(markdown_table(header, rows))
        if len(self.features) > MAX_TABLE_ROWS:
            lines.append(f"\n… and {len(self.features) - MAX_TABLE_ROWS} more features.")
        return "\n".join(lines) + "\n"

    __str__ = to_markdown

    def _repr_markdown_(self) -> str:  # Jupyter shows the Markdown
        return self.to_markdown()

    @styled
    def plot(self, ax: Any = None, top: int = MAX_PLOTTED) -> Any:
        """The numeric features' standard deviations on a log scale (how unscaled they are).

        One horizontal bar per feature, named on the left; with more than `top` features,
        the `top` farthest from unit scale (|log sd| largest) are shown.
        """
        feats = [f for f in self.features if f["kind"] == "numeric" and f["std"]]
        title = "feature scales (standard deviation)"
        if len(feats) > top:
            feats = sorted(feats, key=lambda f: -abs(np.log10(f["std"])))[:top]
            title += f": the {top} farthest from 1"
        ax = axes(ax, (7.0, plot_height(len(feats))))
        stds = np.array([f["std"] for f in feats], dtype=np.float64)
        ys = np.arange(len(feats))
        near = (stds >= 0.1) & (stds <= 10)
        ax.barh(ys, stds, color=np.where(near, TRAIN, BEST), height=0.7)
        ax.set_xscale("log")
        ax.axvline(1.0, color=MUTED, linewidth=1, linestyle="--", label="unit scale (sd = 1)")
        from matplotlib.patches import Patch

        handles = ax.get_legend_handles_labels()[0] + [
            Patch(color=TRAIN, label="within 10× of 1"),
            Patch(color=BEST, label="more than 10× off: standardize"),
        ]
        size = 9 if len(feats) <= 20 else 8
        ax.set_yticks(ys, [_short(f["name"]) for f in feats], fontsize=size)
        ax.invert_yaxis()  # the first feature at the top
        ax.set_xlabel("standard deviation (log scale)")
        ax.set_title(title)
        ax.grid(False, axis="y")
        ax.legend(handles=handles, loc="lower right")
        return ax


def plot_height(n_features: int) -> float:
    """Inches of figure height that keep `n_features` bar names readable."""
    return max(2.5, 1.1 + 0.22 * min(n_features, MAX_PLOTTED))


def _short(name: Any, width: int = 24) -> str:
    text = str(name)
    return text if len(text) <= width else text[: width - 1] + "…"


def summarize(X: Any, y: Any, task: str | None = None, *, preprocessed: bool = False) -> Summary:
    """Describe a dataset and warn about what would hurt training (step 1 of the recipe).

    Parameters
    ----------
    X : array_like or pandas.DataFrame, shape (n_samples, n_features)
        Numbers, or a DataFrame with numeric and categorical (text) columns; missing values
        (NaN, None) are counted, not rejected.
    y : array_like, shape (n_samples,)
        The target: class labels or numbers.
    task : {"classification", "regression"}, optional
        Inferred from `y` when omitted (labels, or few repeating integers: classification).
    preprocessed : bool
        The data will go through chainrule's preprocessing (as in `run_recipe` and
        ``chainrule train``: numbers standardized and gaps filled with the training mean,
        text one-hot encoded, a regression target standardized): the warnings then say what
        that does about scale and missing values instead of asking you to do it.

    Returns
    -------
    Summary
        Printable as Markdown (``print(summary)``), with the numbers in `Summary.to_dict`.

    Warnings raised in ``summary.warnings`` (with the thresholds of this module):
    missing values; constant and duplicated columns; duplicated rows (and conflicting ones,
    same features but another target); features not on a unit scale (some standard deviation
    outside [0.1, 10] or |mean| > 3: standardize, gradient descent converges faster on inputs
    with mean 0 and variance 1); heavy class imbalance (majority/minority ≥ 10); a skewed or
    large-scale regression target; columns that look like leaks (|r| ≥ 0.99 with the target,
    or a column whose values determine the class).
    """
    names, cols, dtypes = col.columns(X)
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.reshape(len(y), -1)
        if y.shape[1] != 1:
            raise ValueError(f"y must be one column (n_samples,), got shape {y.shape}")
        y = y[:, 0]
    n = len(y)
    if cols and len(cols[0]) != n:
        raise ValueError(f"X has {len(cols[0])} rows but y has {n}")
    if n == 0:
        raise ValueError("the data has no rows")
    task = check_task(task, y)
    target, codes = col.target(y, task)
    features = [col.describe(nm, v, dt) for nm, v, dt in zip(names, cols, dtypes, strict=True)]
    n_classes = len(target.get("classes", {}))

    # Constant: a single value everywhere (a gap counts as a value: "missing or not" informs).
    constant = [f["name"] for f in features if f["unique"] + (0 < f["missing"] < n) <= 1]
    dup_cols: list[list[str]] = []
    seen: dict[bytes, str] = {}
    for nm, v in zip(names, cols, strict=True):
        key = col.value_codes(v).tobytes() + str(v.dtype.kind).encode()
        if key in seen and nm not in constant:
            dup_cols.append([seen[key], nm])
        seen.setdefault(key, nm)
    dup_rows, conflicting = col.duplicates(cols, codes)
    leakage = []
    for nm, v in zip(names, cols, strict=True):
        reason = None if nm in constant else col.leak(v, codes, task, n_classes)
        if reason:
            leakage.append({"column": nm, "reason": reason})

    summary = Summary(
        n_samples=n,
        n_features=len(names),
        task=task,
        features=features,
        target=target,
        constant_columns=constant,
        duplicate_columns=dup_cols,
        duplicate_rows=dup_rows,
        conflicting_duplicates=conflicting,
        leakage=leakage,
    )
    summary.warnings = _warnings(summary, preprocessed)
    return summary


def _warnings(s: Summary, preprocessed: bool = False) -> list[str]:
    out = []
    missing = [f for f in s.features if f["missing"]]
    if missing:
        shown = ", ".join(f"{f['name']} ({f['missing']})" for f in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        advice = (
            "the preprocessing fills a missing number with the training mean and encodes a "
            "missing category as none (all its inputs 0); if a gap means something, add a "
            "column that says so"
            if preprocessed
            else "impute them (e.g. the training mean) or drop the rows before training"
        )
        out.append(f"missing values in {len(missing)} column(s): {shown}{more}; {advice}")
    if s.target.get("missing"):
        out.append(f"the target is missing in {s.target['missing']} row(s): drop them")
    if s.constant_columns:
        out.append(
            f"constant column(s) {', '.join(s.constant_columns[:8])}: they carry no "
            "information; drop them"
        )
    for a, b in s.duplicate_columns[:5]:
        out.append(f"column {b} repeats column {a}: drop one")
    if s.duplicate_rows:
        text = f"{s.duplicate_rows} duplicated row(s)"
        if s.conflicting_duplicates:
            text += f", {s.conflicting_duplicates} of them with a different target (label noise)"
        out.append(text + "; duplicates split across training and validation data inflate scores")
    numeric = [f for f in s.features if f["kind"] == "numeric" and f["std"]]
    if numeric:
        low, high, centre = UNIT_SCALE
        stds = [f["std"] for f in numeric]
        means = [abs(f["mean"]) for f in numeric]
        if (min(stds) < low or max(stds) > high or max(means) > centre) and not preprocessed:
            # (With chainrule's preprocessing they are standardized: nothing to do.)
            out.append(
                f"features are not on a unit scale (standard deviations {fmt(min(stds), 3)} to "
                f"{fmt(max(stds), 3)}, |means| up to {fmt(max(means), 3)}): standardize them "
                "(StandardScaler); gradient descent converges faster on inputs with mean 0 and "
                "variance 1"
            )
    if s.task == "classification":
        ratio = s.target["imbalance_ratio"]
        if ratio >= IMBALANCE_RATIO:
            out.append(
                f"heavy class imbalance (largest/smallest class = {ratio:.1f}): use stratified "
                "splits, judge by per-class metrics (F1, confusion matrix), and consider "
                "sample weights"
            )
        smallest = min(s.target["classes"].values())
        if smallest < 5:
            out.append(
                f"the smallest class has only {smallest} sample(s): cross-validation and "
                "stratified splits need more"
            )
    else:
        t = s.target
        if abs(t["skewness"]) > SKEW_LIMIT:
            out.append(
                f"the target is skewed (skewness {t['skewness']:.1f}): consider predicting "
                "log(y) (TransformedTargetRegressor)"
            )
        far = t["std"] > 10 or abs(t["mean"]) > 10 * max(t["std"], 1e-12)
        if far and not preprocessed:
            out.append(
                f"the target is far from unit scale (mean {fmt(t['mean'], 3)}, std "
                f"{fmt(t['std'], 3)}): standardize it for the network (run_recipe and the "
                "command line do)"
            )
    for leak in s.leakage:
        out.append(
            f"possible leakage, column {leak['column']}: {leak['reason']}; a feature "
            "that gives the answer away will not exist at prediction time"
        )
    if s.n_samples < 10 * max(s.n_features, 1):
        out.append(
            f"few samples for the number of features ({s.n_samples} for {s.n_features}): "
            "expect overfitting; regularize (l2, dropout, early stopping)"
        )
    return out
