"""`MLPRegressor`: a multilayer perceptron with linear outputs, as a scikit-learn regressor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import RegressorMixin

from chainrule.estimators import inference, ranges
from chainrule.estimators.base import Array, BaseMLP, store_params
from chainrule.estimators.params import REGRESSION_LOSS_CHOICES, Config
from chainrule.training.metrics import r2


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multilayer perceptron regressor trained by backpropagation (scikit-learn API).

    The lecture's network a⁽ᵏ⁾ = W⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾, z⁽ᵏ⁾ = σ(a⁽ᵏ⁾) with a linear output layer,
    ŷ = a⁽ᴷ⁾ (one unit per target), trained by gradient descent on the lecture's squared error
    E = (1/N) Σₙ ½ Σₖ (ŷₙₖ − yₙₖ)² (``loss="squared_error"``) or on the mean squared error
    (1/(N K)) Σₙₖ (ŷₙₖ − yₙₖ)² (``loss="mse"``), plus the penalties. The output bias starts at
    the (weighted) mean of the targets, so the untrained network predicts the mean.

    Parameters
    ----------
    loss : {"squared_error", "mse"}, default="squared_error"
        The loss minimised.
    hidden_layer_sizes, activation, optimizer, learning_rate, batch_size, epochs, l1, l2, \
dropout, batch_norm, init, early_stopping, validation_fraction, patience, tol, lr_schedule, \
shuffle, random_state, verbose, dtype, warm_start, callbacks, augment
        As in `MLPClassifier`; the validation score is R². With mixup the loss is mixed as
        λ E(ŷ, y_a) + (1 − λ) E(ŷ, y_b), which for squared error has the same gradient as
        E(ŷ, λ y_a + (1 − λ) y_b).

    Attributes
    ----------
    model_, optimizer_, history_, loss_curve_, best_loss_, validation_scores_, \
best_validation_score_, n_iter_, best_epoch_, stopped_by_, n_features_in_, feature_names_in_
        As in `MLPClassifier`.
    n_outputs_ : int
        Number of targets (`predict` returns shape (n,) when it is 1).

    Notes
    -----
    The features and the targets are used as given. Neural networks train best when both are on
    a unit scale: ``make_pipeline(StandardScaler(), cr.MLPRegressor())`` for the features and
    ``sklearn.compose.TransformedTargetRegressor`` for targets far from unit scale.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> import chainrule as cr
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = cr.MLPRegressor(random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> reg.score(X, y) > 0.5
    True
    """

    # The signature scikit-learn requires (see the note on BaseMLP.__init__).
    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: Sequence[int] | int = (100,),
        activation: str = "relu",
        optimizer: str = "adam",
        learning_rate: float = 2e-3,
        batch_size: int | None = 64,
        epochs: int = 200,
        l1: float = 0.0,
        l2: float = 1e-3,
        dropout: float = 0.0,
        batch_norm: bool = False,
        init: str = "auto",
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 10,
        tol: float | None = 1e-4,
        lr_schedule: str | None = None,
        shuffle: bool = True,
        random_state: Any = None,
        verbose: bool = False,
        dtype: Any = "float32",
        warm_start: bool = False,
        callbacks: Sequence[Any] | None = None,
        augment: Any = None,
    ) -> None:
        store_params(self, locals())

    def _check_params(self) -> Config:
        config = super()._check_params()
        self._loss_name()  # a bad loss fails before any work
        return config

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, *, validation_data: Any = None
    ) -> MLPRegressor:
        """Train on X (n_samples, n_features) and targets y (n_samples,) or (n_samples, n_targets).

        `sample_weight` (n_samples,) weighs each sample's term of the loss. Returns self.
        `validation_data` ``(X_val, y_val)`` is scored after every epoch (``"val_loss"`` and
        ``"val_score"`` in `history_`, `validation_scores_`) and, with `early_stopping`, used
        for it instead of holding out `validation_fraction` of X.
        """
        return self._fit(X, y, sample_weight, incremental=False, validation_data=validation_data)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch of training on (X, y), continuing from the current weights."""
        return self._fit(X, y, sample_weight, incremental=True)

    # ------------------------------------------------------------------ targets
    def _encode_targets(self, y: Any, first: bool, classes: Any, *, warm: bool = False) -> Array:
        y = np.asarray(y)
        ranges.check_range(y, ranges.train_limit(self._dtype), self._dtype, "y")
        targets = (y.reshape(-1, 1) if y.ndim == 1 else y).astype(self._dtype, copy=False)
        if first:
            self.n_outputs_ = targets.shape[1]
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {targets.shape[1]} targets, but the model was fitted with {self.n_outputs_}"
            )
        return targets

    def _loss_name(self) -> str:
        if isinstance(self.loss, str) and self.loss.lower() in REGRESSION_LOSS_CHOICES:
            return self.loss.lower()
        valid = ", ".join(repr(c) for c in REGRESSION_LOSS_CHOICES)
        raise ValueError(f"loss={self.loss!r} is not valid; choose one of {valid}")

    def _output_bias(self, targets: Array, sample_weight: Array | None) -> Array:
        return np.average(targets, axis=0, weights=sample_weight)

    def _validation_score(
        self, outputs: Array, targets: Array, sample_weight: Array | None
    ) -> float:
        return r2(targets, outputs, sample_weight)

    # ------------------------------------------------------------------ prediction
    def predict(self, X: Any) -> Array:
        """Predicted targets, shape (n_samples,) for one target, else (n_samples, n_targets)."""
        return inference.regression_values(self._forward(X), self.n_outputs_)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
