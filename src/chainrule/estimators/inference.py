"""Prediction from a fitted network, without scikit-learn: the one copy of that arithmetic.

`MLPClassifier` / `MLPRegressor` validate their input with scikit-learn and then call the
functions here; `Predictor` calls the same functions on a network read from a model file, so
``chainrule predict`` can answer without importing scikit-learn (most of its start-up time).

For logits a = (a₁, …, a_K) of a row:

- classes: p_k = exp(a_k − max a) / Σ_j exp(a_j − max a) (softmax), the label of argmax p;
- multilabel: p_k = σ(a_k) = 1 / (1 + e^(−a_k)) for each label, predicted where p_k > 0.5;
- regression: the outputs themselves (one column per target).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.autograd import Tensor, no_grad
from chainrule.autograd.ops import stable_sigmoid
from chainrule.data import chunk_rows, take_rows
from chainrule.nn import Module

__all__ = [
    "PREDICT_CHUNK",
    "FittedState",
    "Predictor",
    "class_labels",
    "class_probabilities",
    "forward",
    "read_fitted",
    "regression_values",
]

Array = npt.NDArray[Any]

# Rows per forward pass when predicting: bounds the memory of the activations.
PREDICT_CHUNK = 16384


def forward(network: Module, X: Any, dtype: Any, chunk: int = PREDICT_CHUNK) -> Array:
    """The outputs of `network` (in evaluation mode) for the rows of the validated `X`.

    The network computes in `dtype`; the outputs come back in the floating dtype of `X`.
    A sparse `X` is densified one chunk of rows at a time.
    """
    out_dtype = X.dtype
    X = X.astype(dtype, copy=False)
    rows = chunk_rows(X, chunk)
    if X.shape[0] <= rows:
        out = _forward_chunk(network, take_rows(X, slice(None)))
    else:
        out = np.concatenate(
            [
                _forward_chunk(network, take_rows(X, slice(i, i + rows)))
                for i in range(0, X.shape[0], rows)
            ]
        )
    return out.astype(out_dtype, copy=False)


def _forward_chunk(network: Module, X: Array) -> Array:
    with no_grad():
        out = network(Tensor(X))
    return out.data


def class_probabilities(logits: Array, multilabel: bool) -> Array:
    """Softmax of each row of `logits` (σ of each logit when `multilabel`)."""
    if multilabel:
        return stable_sigmoid(logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted, out=shifted)
    p /= p.sum(axis=1, keepdims=True)
    return p


def class_labels(proba: Array, classes: Array, multilabel: bool) -> Array:
    """The most probable class of each row (multilabel: a 0/1 column per label, p > 0.5)."""
    if multilabel:
        return (proba > 0.5).astype(int)
    return classes[proba.argmax(axis=1)]


def regression_values(out: Array, n_outputs: int) -> Array:
    """Shape (n_rows,) for one target, else (n_rows, n_targets)."""
    return out.ravel() if n_outputs == 1 else out


@dataclass
class FittedState:
    """What a model file's estimator record says prediction needs (see `read_fitted`)."""

    network: Module
    dtype: np.dtype
    n_features_in: int
    n_outputs: int
    feature_names: Array | None
    multilabel: bool
    classes: Array | None


def read_fitted(fitted: Any, arrays: dict[str, Any], classifier: bool) -> FittedState:
    """The network, sizes, dtype and labels of an estimator record's ``"fitted"`` part.

    Every field is checked (ValueError saying which is wrong); the network is rebuilt from
    `arrays` (`chainrule.saving.modelspec.rebuild_network`) and run on a zero row.
    """
    from chainrule.saving.labels import labels_from_json
    from chainrule.saving.modelfile import ESTIMATOR_NETWORK, check_network
    from chainrule.saving.modelspec import rebuild_network

    if not isinstance(fitted, dict):
        raise ValueError("the fitted state is malformed")
    network = rebuild_network(fitted.get("network"), arrays, ESTIMATOR_NETWORK)
    n_in, n_out = fitted.get("n_features_in_"), fitted.get("n_outputs_")
    for key, v in (("n_features_in_", n_in), ("n_outputs_", n_out)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{key} must be a positive integer")
    check_network(network, n_in, n_out)
    dtype = np.dtype(fitted.get("dtype"))
    if dtype.name not in ("float32", "float64"):
        raise ValueError(f"unsupported dtype {dtype}")
    names = fitted.get("feature_names_in_")
    if names is not None:
        if not isinstance(names, list) or len(names) != n_in:
            raise ValueError("feature_names_in_ does not match n_features_in_")
        names = np.array([str(v) for v in names], dtype=object)
    multilabel = classifier and fitted.get("multilabel") is True
    classes = labels_from_json(fitted.get("classes"), n_out) if classifier else None
    return FittedState(network.eval(), dtype, n_in, n_out, names, multilabel, classes)


class Predictor:
    """A fitted `MLPClassifier` / `MLPRegressor` as a model file holds it, for prediction only.

    It answers `predict` / `predict_proba` exactly as the estimator does for a NumPy matrix
    that needs no validation (a float matrix of the right width, finite and within the
    network's dtype, as `chainrule.data.tabular.TabularPreprocessor.transform` makes), and needs
    no scikit-learn. It has the estimator's fitted attributes that prediction reads
    (``model_``, ``n_features_in_``, ``n_outputs_``, ``classes_``, ``_dtype``,
    ``_multilabel``).
    """

    def __init__(self, state: FittedState, classifier: bool) -> None:
        self.model_ = state.network
        self._dtype = state.dtype
        self.n_features_in_ = state.n_features_in
        self.n_outputs_ = state.n_outputs
        self._multilabel = state.multilabel
        self.classifier = classifier
        if state.feature_names is not None:
            self.feature_names_in_ = state.feature_names
        if classifier:
            self.classes_ = state.classes

    @classmethod
    def from_record(cls, spec: Any, arrays: dict[str, Any]) -> Predictor:
        """The predictor of an estimator record (``meta["estimator"]`` of a model file)."""
        if not isinstance(spec, dict) or spec.get("class") not in ("MLPClassifier", "MLPRegressor"):
            raise ValueError("the estimator record is missing or names an unknown class")
        classifier = spec["class"] == "MLPClassifier"
        return cls(read_fitted(spec.get("fitted"), arrays, classifier), classifier)

    def _forward(self, X: Array) -> Array:
        if (
            not isinstance(X, np.ndarray)
            or X.ndim != 2
            or X.dtype.kind != "f"
            or X.shape[1] != self.n_features_in_
        ):
            raise TypeError(f"Predictor takes a float matrix of {self.n_features_in_} columns")
        if not np.isfinite(X).all():
            raise ValueError("Predictor takes finite values only")
        return forward(self.model_, X, self._dtype)

    def predict_proba(self, X: Array) -> Array:
        if not self.classifier:
            raise AttributeError("a regressor has no predict_proba")
        return class_probabilities(self._forward(X), self._multilabel)

    def predict(self, X: Array) -> Array:
        if self.classifier:
            return class_labels(self.predict_proba(X), self.classes_, self._multilabel)
        return regression_values(self._forward(X), self.n_outputs_)
