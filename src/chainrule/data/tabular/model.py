"""`TabularModel`: preprocessing, a fitted estimator and the target mapping, as one model."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.data.tabular.preprocessor import TabularPreprocessor
from chainrule.data.tabular.target import TASKS

Array = npt.NDArray[Any]


class TabularModel:
    """Preprocessing, a fitted estimator and the target's mapping: raw rows in, labels out.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        Fitted on ``preprocessor.transform(frame)`` and the encoded target.
    preprocessor : TabularPreprocessor
        Fitted on the training features.
    task : {"classification", "regression"}
    target : str
        Name of the target column.
    target_mean, target_scale : float
        Regression only: the estimator learned (y − target_mean) / target_scale.
    info : dict, optional
        JSON data about the run (settings, metrics, data file, command), shown by
        ``chainrule info``.
    """

    def __init__(
        self,
        estimator: Any,
        preprocessor: TabularPreprocessor,
        *,
        task: str,
        target: str,
        target_mean: float = 0.0,
        target_scale: float = 1.0,
        info: dict[str, Any] | None = None,
    ) -> None:
        if task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        self.estimator = estimator
        self.preprocessor = preprocessor
        self.task = task
        self.target = target
        self.target_mean = float(target_mean)
        self.target_scale = float(target_scale)
        self.info = dict(info or {})

    @property
    def classes_(self) -> Array:
        return self.estimator.classes_

    def transform(self, frame: Any, unknown: str = "error") -> Array:
        """The estimator's input for the DataFrame `frame`."""
        return self.preprocessor.transform(frame, dtype=self.estimator._dtype, unknown=unknown)

    def predict(self, frame: Any, unknown: str = "error") -> Array:
        """Labels (classification) or target values (regression) for each row of `frame`."""
        out = self.estimator.predict(self.transform(frame, unknown))
        if self.task == "regression":
            return out.astype(np.float64) * self.target_scale + self.target_mean
        return out

    def predict_proba(self, frame: Any, unknown: str = "error") -> Array:
        """Class probabilities (n_rows, n_classes), columns in the order of `classes_`."""
        if self.task != "classification":
            raise ValueError("probabilities exist only for classification models")
        return self.estimator.predict_proba(self.transform(frame, unknown))

    def __repr__(self) -> str:
        n_in = len(self.preprocessor.input_columns)
        return (
            f"TabularModel({self.task}, target={self.target!r}, {n_in} input columns, "
            f"{type(self.estimator).__name__})"
        )
