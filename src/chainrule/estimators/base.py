"""`BaseMLP`: what `MLPClassifier` and `MLPRegressor` share.

The estimator is a thin scikit-learn shell around the library: it checks the input with
scikit-learn's validation helpers, builds a `chainrule.nn.Sequential` network
(`network.build_network`), and trains it with `chainrule.fit` (`loop.train`). Subclasses say
how targets are encoded, which loss is minimised and how the network's outputs become
predictions.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from chainrule.estimators import inference, loop, network, ranges
from chainrule.estimators.params import Config, validate
from chainrule.rng import as_generator

Array = np.ndarray

_PREDICT_CHUNK = inference.PREDICT_CHUNK  # rows per forward pass when predicting


def make_generator(random_state: Any) -> np.random.Generator:
    """A NumPy generator from scikit-learn's ``random_state`` conventions.

    An int seeds a fresh generator (so two fits with the same seed are identical); None draws
    from chainrule's default generator, which `cr.set_seed` seeds; a `numpy.random.Generator`
    is used as is; a legacy `numpy.random.RandomState` supplies a seed.
    """
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(random_state, np.random.Generator):
        return as_generator(random_state)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise ValueError(
        "random_state must be None, an int, a numpy.random.Generator or a "
        f"numpy.random.RandomState, got {random_state!r}"
    )


def _architecture(config: Config) -> tuple[Any, ...]:
    """What must stay the same for training to continue on a fitted network."""
    return (config.hidden_layer_sizes, config.activation, config.batch_norm, config.dropout)


def store_params(estimator: BaseEstimator, arguments: dict[str, Any]) -> None:
    """Keep each argument of `estimator`'s ``__init__`` (its ``locals()``) as the attribute of
    the same name, unchanged: all that scikit-learn allows ``__init__`` to do (validation
    waits for ``fit``), written once for every estimator. Call it first in ``__init__``."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class BaseMLP(BaseEstimator):
    """Shared `fit`, `partial_fit` and forward pass of the multilayer-perceptron estimators.

    See `MLPClassifier` for the meaning of every hyperparameter.
    """

    # Class-level defaults, documented once in MLPClassifier's docstring.
    # scikit-learn reads the hyperparameters from __init__'s signature (get_params, clone):
    # each estimator must spell all of them out, hence the repeated signature.
    def __init__(
        self,
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

    # ------------------------------------------------------------------ hooks for subclasses
    _is_classifier = False

    def _encode_targets(self, y: Any, first: bool, classes: Any, *, warm: bool = False) -> Array:
        """Targets as the loss wants them; on the first fit also sets ``n_outputs_`` (the
        output units) and, for classifiers, ``classes_``. `warm`: a `warm_start` refit."""
        raise NotImplementedError

    def _loss_name(self) -> str:
        raise NotImplementedError

    def _class_weights(self, targets: Array, incremental: bool) -> Array | None:
        """Per-sample weights from `class_weight` (classifiers), or None."""
        return None

    def _output_bias(self, targets: Array, sample_weight: Array | None) -> Array:
        """The output layer's starting b, so that the untrained network predicts the base rate."""
        raise NotImplementedError

    def _validation_score(
        self, outputs: Array, targets: Array, sample_weight: Array | None
    ) -> float:
        """The score (accuracy or R²) of raw network outputs on held-out targets."""
        raise NotImplementedError

    def _build_model(
        self, config: Config, X: Array, targets: Array, sample_weight: Array | None
    ) -> Any:
        """The network a first fit trains: here the MLP of `config`, its output bias set."""
        model = network.build_network(config, X.shape[1], self.n_outputs_, self._dtype, self._rng)
        network.set_output_bias(model, self._output_bias(targets, sample_weight))
        return model

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> Config:
        config = validate(self.get_params())
        if not isinstance(self.warm_start, bool | np.bool_):
            raise ValueError(f"warm_start must be True or False, got {self.warm_start!r}")
        if self.callbacks is not None and not isinstance(self.callbacks, Sequence):
            raise ValueError(
                f"callbacks must be a list of chainrule callbacks or None, got {self.callbacks!r}"
            )
        return config

    def _fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        *,
        incremental: bool,
        classes: Any = None,
        validation_data: Any = None,
    ) -> BaseMLP:
        """`fit` (``incremental=False``) and `partial_fit` (one epoch, ``incremental=True``)."""
        config = self._check_params()
        if incremental and config.early_stopping:
            # As scikit-learn: one epoch has no held-out set to stop on.
            raise ValueError(
                "partial_fit does not support early_stopping=True: it trains one epoch on the "
                "data it is given; set early_stopping=False to train incrementally"
            )
        first = not hasattr(self, "model_") or (not incremental and not self.warm_start)
        if not first and self._architecture != _architecture(config):
            raise ValueError(
                "warm_start and partial_fit continue training the fitted network, but "
                "hidden_layer_sizes, activation, batch_norm or dropout changed since it was "
                "built; set warm_start=False (or refit) to start afresh"
            )
        X, targets, sample_weight = self._check_data(
            X,
            y,
            sample_weight,
            first,
            classes,
            config,
            warm=not first and not incremental,
            incremental=incremental,
        )
        if not incremental or not hasattr(self, "_rng"):
            self._rng = make_generator(self.random_state)
        if first:
            self._architecture = _architecture(config)
            self.model_ = self._build_model(config, X, targets, sample_weight)
        if first or not incremental or not hasattr(self, "optimizer_"):
            self.optimizer_ = network.make_optimizer(config, self.model_)
        validation = None
        if validation_data is not None:  # checked and encoded like the training data
            X_val, y_val = validation_data
            X_val = validate_data(self, X_val, reset=False, dtype=self._dtype)
            validation = (X_val, self._encode_targets(np.asarray(y_val), False, None), None)

        result = loop.train(
            self.model_,
            network.make_loss(self._loss_name(), self.model_, config),
            self.optimizer_,
            X,
            targets,
            sample_weight,
            config=config,
            epochs=1 if incremental else config.epochs,
            early_stopping=config.early_stopping,
            plateau_stop=not incremental,
            stratify=self._is_classifier and targets.ndim == 1,
            score=self._validation_score,
            callbacks=list(self.callbacks or ()),
            rng=self._rng,
            validation=validation,
            labels=getattr(self, "classes_", None),
        )
        self.model_.eval()
        self._record(result, continuing=not first)
        if not incremental and result.converging and not result.stopped:
            warnings.warn(
                f"{type(self).__name__} ran all epochs={config.epochs} without its stopping "
                "rule being met (the loss still fell by more than tol); raise epochs, or set "
                "tol=None to run a fixed number of epochs without this warning",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _check_data(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        first: bool,
        classes: Any,
        config: Config,
        *,
        warm: bool = False,
        incremental: bool = False,
    ) -> tuple[Array, Array, Array | None]:
        """Validated inputs in the network's dtype, encoded targets and normalized weights."""
        dtype = config.dtype if first else self._dtype
        X, y = validate_data(
            self,
            X,
            y,
            reset=first,
            accept_sparse="csr",  # kept sparse: training densifies one minibatch at a time
            dtype=[dtype, np.float64],  # checked for range before the cast (no overflow)
            multi_output=True,
            y_numeric=not self._is_classifier,
        )
        names = getattr(self, "feature_names_in_", None)
        ranges.check_range(X, ranges.train_limit(dtype), dtype, "X", names)
        X = X.astype(dtype, copy=False)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # scikit-learn's DataConversionWarning
        if first:
            self._dtype = dtype
        targets = self._encode_targets(y, first, classes, warm=warm)
        class_w = self._class_weights(targets, incremental)
        if sample_weight is None and class_w is None:
            return X, targets, None
        # In float64 until the end: one rounding to the network's dtype, however made.
        w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if class_w is not None:  # as scikit-learn: the two weights multiply
            w = w * class_w
        if not np.any(w > 0):
            raise ValueError("every sample has weight 0 (sample_weight times class_weight)")
        if np.any(w == 0):
            # Weight 0 removes a sample; dropping it also keeps all-zero batches out.
            keep = w > 0
            X, targets, w = X[keep], targets[keep], w[keep]
        # Scale to mean 1: in batch gradient descent the loss is then Σ wₙEₙ / Σ wₙ, exactly as
        # if sample n were repeated wₙ times; equal weights change nothing at all.
        w = (w / w.mean(dtype=np.float64)).astype(dtype, copy=False)
        return X, targets, None if np.all(w == 1) else w

    def _record(self, result: loop.RunResult, continuing: bool) -> None:
        """Set the fitted attributes that describe training (curves continue when continuing)."""
        self.history_ = result.history
        self.loss_curve_ = (self.loss_curve_ if continuing else []) + result.losses
        self.best_loss_ = min(self.loss_curve_)
        if result.scores is None:
            if not continuing:
                self.validation_scores_ = self.best_validation_score_ = None
        else:
            previous = (self.validation_scores_ or []) if continuing else []
            self.validation_scores_ = previous + result.scores
            self.best_validation_score_ = max(self.validation_scores_)
        # As scikit-learn: the epochs of this call (the curves above span all calls).
        self.n_iter_ = len(result.losses)
        # Which epoch's weights the network holds (1-based, this run) and what ended the run.
        self.best_epoch_, self.stopped_by_ = result.best_epoch, result.stopped_by

    # ------------------------------------------------------------------ prediction
    def _forward(self, X: Any) -> Array:
        """Raw network outputs (logits for classifiers) for the rows of X, in evaluation mode.

        The network computes in its own dtype; the outputs come back in the floating dtype of
        `X` (float32 in, float32 out; float64 in, float64 out), as scikit-learn expects.
        """
        check_is_fitted(self)
        other = np.float64 if self._dtype == np.float32 else np.float32
        X = validate_data(self, X, reset=False, accept_sparse="csr", dtype=[self._dtype, other])
        names = getattr(self, "feature_names_in_", None)
        ranges.check_range(X, ranges.predict_limit(self._dtype), self._dtype, "X", names)
        return inference.forward(self.model_, X, self._dtype, _PREDICT_CHUNK)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR, densified a minibatch at a time
        return tags
