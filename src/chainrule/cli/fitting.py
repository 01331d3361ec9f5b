"""One training run of ``chainrule train``: what ``train`` saves and a ``tune`` trial scores.

`fit_table` is the whole run on given training and validation rows: fit the preprocessing
on the training rows only, scale a regression target by the training rows' mean and standard
deviation, train the network with the estimator's own early stopping on the validation rows
(the best weights restored), and return the model with the matrices it was scored on.
`TrainRun` wraps it as a scikit-learn estimator, so that `chainrule.recipe.tune` can search
over exactly the runs ``chainrule train`` would make: a trial scores what training delivers.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.training.progress import is_terminal

Array = np.ndarray
# The CLI's own settings of a run; every other setting is an estimator parameter.
RUN_KEYS = ("task", "categorical", "seed", "early_stopping", "verbose", "callbacks")


def split_rows(n: int, y: Any, task: str, fraction: float, seed: int) -> tuple[Array, Any]:
    """Sorted training and validation row indices (validation None when `fraction` is 0).

    Classification splits are stratified; a class with one sample cannot be split in
    proportion, and then the split is a plain random one.
    """
    from chainrule.data import split_indices

    if fraction == 0:
        return np.arange(n), None
    labels = y if task == "classification" else None
    try:
        train, val = split_indices(n, fraction, labels=labels, rng=seed)
    except ValueError:
        if labels is None:
            raise
        train, val = split_indices(n, fraction, rng=seed)
    return np.sort(train), np.sort(val)


@dataclass
class Fitted:
    """A trained `TabularModel` and the preprocessed rows it was trained and scored on."""

    model: Any
    X_train: Array
    y_train: Array
    X_val: Array | None  # None without validation rows
    y_val: Array | None
    seconds: float


def fit_table(
    train: Any,
    y_train: Array,
    val: Any,
    y_val: Array | None,
    *,
    task: str,
    categorical: list[str],
    settings: dict[str, Any],
    seed: int,
    early_stopping: bool,
    verbose: bool = False,
    callbacks: Any = None,
    preprocessor: Any = None,
) -> Fitted:
    """Train the network of ``chainrule train`` on the DataFrame `train` (and score `val`).

    `settings` are the estimator's hyperparameters; `seed` its ``random_state``. With
    `early_stopping` and validation rows, training stops once the validation loss has not
    improved by ``tol`` for ``patience`` epochs, and the best epoch's weights are kept.
    `preprocessor`, if given, is a `TabularPreprocessor` already fitted on `train`.
    """
    from chainrule.data.tabular import TabularModel, TabularPreprocessor
    from chainrule.estimators import MLPClassifier, MLPRegressor

    dtype = np.dtype(settings.get("dtype", "float32"))
    prep = preprocessor or TabularPreprocessor(categorical).fit(train)  # training rows only
    X_train, X_val = prep.transform(train, dtype=dtype), None
    if val is not None and len(val):  # a category seen only here is encoded as all zeros
        X_val = prep.transform(val, dtype=dtype, unknown="ignore")
    else:
        y_val = None
    mean, scale = 0.0, 1.0
    if task == "regression":
        mean, scale = float(y_train.mean()), float(y_train.std()) or 1.0

    validation = None
    if X_val is not None:
        if task == "classification":  # a class absent from training cannot be scored
            keep = np.isin(y_val, np.unique(y_train))
            if keep.any():
                validation = (X_val[keep], y_val[keep])
        else:
            validation = (X_val, (y_val - mean) / scale)
    cls = MLPClassifier if task == "classification" else MLPRegressor
    estimator = cls(
        **settings,
        early_stopping=bool(early_stopping and validation is not None),
        random_state=seed,
        # The bar only, in a terminal: off one the estimator's per-epoch lines would mix
        # into the command's own output.
        verbose=verbose and is_terminal(sys.stderr),
        callbacks=callbacks,
    )
    start = time.perf_counter()
    estimator.fit(
        X_train,
        y_train if task == "classification" else (y_train - mean) / scale,
        validation_data=validation,
    )
    seconds = time.perf_counter() - start
    # The callbacks hold the validation data and the bar belongs to this run: not saved.
    estimator.set_params(verbose=False, callbacks=None)
    model = TabularModel(
        estimator, prep, task=task, target="", target_mean=mean, target_scale=scale
    )
    return Fitted(model, X_train, y_train, X_val, y_val, seconds)


def predict_encoded(model: Any, X: Any) -> Any:
    """`model`'s predictions for rows already preprocessed (in the original target units)."""
    out = model.estimator.predict(X)
    if model.task == "regression":
        return out.astype(np.float64) * model.target_scale + model.target_mean
    return out


def score_of(model: Any, X: Array, y: Array) -> float:
    """The score ``chainrule train`` reports: accuracy, or R² in the target's own units."""
    from chainrule.cli.report import classification_metrics, regression_metrics

    pred = predict_encoded(model, X)
    if model.task == "regression":
        return float(regression_metrics(y, pred)["r2"])
    labels = np.union1d(model.classes_, np.unique(y))
    return float(classification_metrics(y, pred, labels)["accuracy"])


class TrainRun:
    """``chainrule train`` as a scikit-learn estimator, for `chainrule.recipe.tune`.

    ``fit(frame, y, validation_data=(frame_val, y_val))`` is `fit_table`; ``score`` is the
    validation number ``chainrule train`` prints. Parameters: the run's own (`RUN_KEYS`)
    and every estimator hyperparameter, flat, so that a search space names them directly.
    """

    def __init__(self, **params: Any) -> None:
        self._params = dict(params)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return dict(self._params)

    def set_params(self, **params: Any) -> TrainRun:
        self._params.update(params)
        return self

    @property
    def _estimator_type(self) -> str:  # scikit-learn before 1.6 asks this
        return "classifier" if self._params.get("task") == "classification" else "regressor"

    def __sklearn_tags__(self) -> Any:  # (scikit-learn 1.6 and later)
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags

        classifier = self._params.get("task") == "classification"
        return Tags(
            estimator_type="classifier" if classifier else "regressor",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags() if classifier else None,
            regressor_tags=None if classifier else RegressorTags(),
        )

    def fit(self, X: Any, y: Any, validation_data: Any = None) -> TrainRun:
        p = self._params
        val, y_val = validation_data if validation_data is not None else (None, None)
        self.fitted_ = fit_table(
            X,
            np.asarray(y),
            val,
            None if y_val is None else np.asarray(y_val),
            task=p["task"],
            categorical=list(p.get("categorical") or ()),
            settings={k: v for k, v in p.items() if k not in RUN_KEYS},
            seed=int(p.get("seed", 0)),
            early_stopping=bool(p.get("early_stopping", True)),
            verbose=bool(p.get("verbose", False)),
            callbacks=p.get("callbacks"),
        )
        return self

    @property
    def n_iter_(self) -> int:
        return int(self.fitted_.model.estimator.n_iter_)

    def score(self, X: Any, y: Any) -> float:
        model = self.fitted_.model
        return score_of(model, model.transform(X, unknown="ignore"), np.asarray(y))
