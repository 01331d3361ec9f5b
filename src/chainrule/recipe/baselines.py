"""`baselines(X, y)`: step 2 of the recipe, the scores any network has to beat.

A network's 95 % accuracy means little until we know that always answering the majority class
scores 94 %. Before tuning a network, cross-validate the simple models: the constant
prediction (majority class / mean), a linear model (logistic / linear regression), k-nearest
neighbours, a random forest, and a default chainrule MLP. The linear and k-NN models (and the
MLP) get standardized inputs inside each fold, so no fold sees another's statistics.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from chainrule.recipe._common import check_task, metric_name, require_sklearn, table

__all__ = ["baseline_models", "baselines"]


def baseline_models(task: str, random_state: int = 0, mlp: Any = None) -> dict[str, Any]:
    """The baseline estimators for `task`, by display name (scikit-learn objects)."""
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from chainrule.estimators import MLPClassifier, MLPRegressor

    def scaled(est: Any) -> Any:
        return make_pipeline(StandardScaler(), est)

    if task == "classification":
        return {
            "majority class": DummyClassifier(strategy="most_frequent"),
            "logistic regression": scaled(LogisticRegression(max_iter=1000)),
            "k-nearest neighbours (k=5)": scaled(KNeighborsClassifier()),
            "random forest": RandomForestClassifier(n_estimators=100, random_state=random_state),
            "chainrule MLP": mlp
            if mlp is not None
            else scaled(MLPClassifier(random_state=random_state)),
        }
    from sklearn.compose import TransformedTargetRegressor

    # The network trains on a standardized target too: its loss is on y's own scale.
    mlp_reg = mlp
    if mlp_reg is None:
        mlp_reg = TransformedTargetRegressor(
            scaled(MLPRegressor(random_state=random_state)), transformer=StandardScaler()
        )
    return {
        "mean": DummyRegressor(strategy="mean"),
        "linear regression": scaled(LinearRegression()),
        "k-nearest neighbours (k=5)": scaled(KNeighborsRegressor()),
        "random forest": RandomForestRegressor(n_estimators=100, random_state=random_state),
        "chainrule MLP": mlp_reg,
    }


def baselines(
    X: Any,
    y: Any,
    task: str | None = None,
    cv: Any = 5,
    *,
    scoring: Any = None,
    random_state: int = 0,
    mlp: Any = None,
    n_jobs: int | None = None,
) -> Any:
    """Cross-validated scores of the simple baselines (step 2 of the recipe).

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Numeric features (encode categorical columns first).
    y : array_like, shape (n_samples,)
    task : {"classification", "regression"}, optional
        Inferred from `y` when omitted.
    cv : int or cross-validation splitter
        Folds: an int k gives (stratified, for classification) k-fold cross-validation,
        shuffled with `random_state`, so every model sees the same folds.
    scoring : str or callable, optional
        A scikit-learn scorer; default accuracy (classification) or R² (regression).
    random_state : int
        Seeds the folds, the random forest and the MLP.
    mlp : estimator, optional
        The network to include instead of the default ``MLPClassifier()`` / ``MLPRegressor()``
        (standardized inputs, and for regression a standardized target).
    n_jobs : int, optional
        Folds fitted in parallel (joblib), as in `sklearn.model_selection.cross_validate`.

    Returns
    -------
    pandas.DataFrame (a list of dicts without pandas)
        One row per model: ``model``, ``score`` (mean over folds), ``std``, ``fit_time_s``
        (mean per fold); ``.attrs["metric"]`` names the score.
    """
    require_sklearn("baselines")
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate

    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-d (n_samples, n_features), got shape {X.shape}")
    if X.dtype.kind not in "iufb":
        raise ValueError(
            f"X must be numeric, got dtype {X.dtype}: encode categorical columns first "
            "(e.g. chainrule.data.tabular.TabularPreprocessor or OneHotEncoder)"
        )
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    task = check_task(task, y)
    if isinstance(cv, int) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds, got {cv}")
        splitter = StratifiedKFold if task == "classification" else KFold
        cv = splitter(n_splits=cv, shuffle=True, random_state=random_state)
    models = baseline_models(task, random_state, mlp)
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        result = cross_validate(model, X, y, cv=cv, scoring=scoring, n_jobs=n_jobs)
        scores = np.asarray(result["test_score"], dtype=np.float64)
        rows.append(
            {
                "model": name,
                "score": float(scores.mean()),
                "std": float(scores.std()),
                "fit_time_s": float(np.mean(result["fit_time"])),
                "total_time_s": time.perf_counter() - start,
            }
        )
    out = table(rows, ["model", "score", "std", "fit_time_s", "total_time_s"])
    metric = metric_name(models["majority class" if task == "classification" else "mean"], scoring)
    if hasattr(out, "attrs"):
        out.attrs["metric"] = metric
        out.attrs["task"] = task
    return out
