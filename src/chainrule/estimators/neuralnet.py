"""`NeuralNetClassifier` and `NeuralNetRegressor`: scikit-learn estimators around any network.

The MLP estimators build their network from `hidden_layer_sizes`; these take the network
itself (a convolutional net, say) and train it with the same loop, losses, optimizers,
stopping rules and penalties (`BaseMLP`). Only the network's making differs (`_build_model`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from chainrule import rng as _rng
from chainrule.autograd import Tensor, no_grad
from chainrule.data import n_rows, take_rows
from chainrule.estimators.base import Array, store_params
from chainrule.estimators.classifier import MLPClassifier
from chainrule.estimators.params import Config, validate
from chainrule.estimators.regressor import MLPRegressor
from chainrule.nn import Dense, Module, Sequential, Unflatten

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]

ModuleSpec = Module | Callable[[tuple[int, ...], int], Module]

# The MLP-only hyperparameters, fixed: the module says what the network is.
_NO_MLP = {
    "hidden_layer_sizes": (),
    "activation": "relu",
    "dropout": 0.0,
    "batch_norm": False,
    "init": "auto",
}

_DOC = """

    Parameters
    ----------
    module : chainrule.nn.Module or callable
        The network. A `Module` is copied for each fit, weights included (so fits differ only
        in shuffling and dropout); a function ``module(input_shape, n_outputs) -> Module`` is
        called at each fit with chainrule's generator seeded from `random_state`, so its
        layers draw fresh, reproducible weights. It maps a batch of shape
        (N, *input_shape) to (N, n_outputs): one logit per class (one per label for
        multilabel y), or one output per regression target.
    input_shape : tuple of int or None
        Reshape each flat row of X to this shape before the network, e.g. (1, 8, 8) for the
        8×8 digits as one-channel images, (C, L) for C signals of length L; its product must
        be the number of features. None: rows go in as they are, and a function `module`
        receives (n_features,).
    optimizer, learning_rate, batch_size, epochs, l1, l2, early_stopping,
    validation_fraction, patience, tol, lr_schedule, shuffle, random_state, verbose, dtype,
    warm_start, callbacks, augment
        As in the MLP estimators. The l1/l2 penalties apply to every layer's weights
        (`Dense`, `Conv1d`, `Conv2d`), not to biases or batch-norm parameters.

    Attributes
    ----------
    model_ : chainrule.nn.Module
        The trained network, with an `Unflatten` first when `input_shape` is given (so it
        takes flat rows too).
    Other fitted attributes as in the MLP estimators (``loss_curve_``, ``n_iter_``, ...).
"""


class _NeuralNet:
    """What both estimators add to the MLP estimators: the network comes from `module`."""

    _is_classifier: bool
    module: ModuleSpec
    input_shape: tuple[int, ...] | None
    n_outputs_: int
    _dtype: np.dtype[Any]
    _rng: np.random.Generator

    def _check_params(self) -> Config:
        params = dict(self.get_params(deep=False))  # type: ignore[attr-defined]
        config = validate({**params, **_NO_MLP})
        if not isinstance(self.warm_start, bool | np.bool_):  # type: ignore[attr-defined]
            raise ValueError(f"warm_start must be True or False, got {self.warm_start!r}")  # type: ignore[attr-defined]
        callbacks = self.callbacks  # type: ignore[attr-defined]
        if callbacks is not None and not isinstance(callbacks, Sequence):
            raise ValueError(
                f"callbacks must be a list of chainrule callbacks or None, got {callbacks!r}"
            )
        if not isinstance(self.module, Module) and not callable(self.module):
            raise ValueError(
                "module must be a chainrule Module or a function (input_shape, n_outputs) -> "
                f"Module, got {self.module!r}"
            )
        shape = self.input_shape
        if shape is not None and (
            not isinstance(shape, tuple | list)
            or not shape
            or any(
                isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 1 for s in shape
            )
        ):
            raise ValueError(
                f"input_shape must be None or a tuple of positive integers, got {shape!r}"
            )
        if not self._is_classifier:
            self._loss_name()  # type: ignore[attr-defined]
        return config

    def _build_model(
        self, config: Config, X: Array, targets: Array, sample_weight: Array | None
    ) -> Module:
        n_features = X.shape[1]
        shape = (
            (n_features,) if self.input_shape is None else tuple(int(s) for s in self.input_shape)
        )
        if math.prod(shape) != n_features:
            raise ValueError(
                f"input_shape {shape} holds {math.prod(shape)} values, but X has "
                f"{n_features} features"
            )
        if isinstance(self.module, Module):
            net = copy.deepcopy(self.module)
        else:
            saved = _rng.default_rng()
            _rng.set_seed(int(self._rng.integers(2**31)))
            try:
                net = self.module(shape, self.n_outputs_)
            finally:
                _rng._default = saved  # the caller's generator, where it was
            if not isinstance(net, Module):
                raise ValueError(
                    f"module({shape}, {self.n_outputs_}) returned a {type(net).__name__}, "
                    "not a Module"
                )
        for p in net.parameters():  # the estimator's dtype, as for the MLP
            p.data = p.data.astype(self._dtype, copy=False)
        model = net if self.input_shape is None else Sequential(Unflatten(1, shape), net)
        self._check_output(model, X)
        last = [m for m in model.modules() if type(m) is Dense]
        if last and last[-1].out_features == self.n_outputs_ and last[-1].bias is not None:
            bias = self._output_bias(targets, sample_weight)  # type: ignore[attr-defined]
            last[-1].bias.data[...] = np.asarray(bias, dtype=last[-1].bias.data.dtype).reshape(-1)
        return model

    def _check_output(self, model: Module, X: Array) -> None:
        was_training = model.training
        model.eval()
        try:
            with no_grad():
                out = model(Tensor(take_rows(X, slice(0, 2))))  # sparse X: densified
        except ValueError as exc:
            raise ValueError(f"the module does not accept the input rows: {exc}") from exc
        finally:
            model.train(was_training)
        expected = (min(2, n_rows(X)), self.n_outputs_)
        if out.shape != expected:
            raise ValueError(
                f"the module maps a batch of {expected[0]} to shape {out.shape}; this task needs "
                f"{expected}: one output per {'class' if self._is_classifier else 'target'}"
            )


class NeuralNetClassifier(_NeuralNet, MLPClassifier):
    """A classifier around any chainrule network (scikit-learn API): softmax of the network's
    outputs, trained by minimising the cross-entropy as `MLPClassifier` is.

    Examples
    --------
    >>> import chainrule as cr
    >>> from sklearn.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> def cnn(shape, n_out):
    ...     return cr.nn.Sequential(
    ...         cr.nn.Conv2d(1, 8, 3, padding=1), cr.nn.ReLU(), cr.nn.MaxPool2d(2),
    ...         cr.nn.Flatten(), cr.nn.Dense(8 * 4 * 4, n_out))
    >>> clf = cr.NeuralNetClassifier(cnn, input_shape=(1, 8, 8), epochs=3, random_state=0)
    >>> clf.fit(X / 16, y).score(X / 16, y) > 0.8
    True
    """

    __doc__ = (__doc__ or "") + _DOC

    # Spelled out, not **kwargs: scikit-learn reads the hyperparameters from __init__'s signature.
    def __init__(
        self,
        module: ModuleSpec | None = None,
        input_shape: tuple[int, ...] | None = None,
        optimizer: str = "adam",
        learning_rate: float = 2e-3,
        batch_size: int | None = 64,
        epochs: int = 200,
        l1: float = 0.0,
        l2: float = 1e-3,
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
        class_weight: str | Mapping[Any, float] | None = None,
    ) -> None:
        store_params(self, locals())


class NeuralNetRegressor(_NeuralNet, MLPRegressor):
    """A regressor around any chainrule network (scikit-learn API), trained by minimising
    `loss` ("squared_error" by default) as `MLPRegressor` is."""

    __doc__ = (__doc__ or "") + _DOC + "    loss : as in MLPRegressor.\n"

    # As NeuralNetClassifier: the signature is what scikit-learn reads (get_params, clone).
    def __init__(
        self,
        module: ModuleSpec | None = None,
        input_shape: tuple[int, ...] | None = None,
        loss: str = "squared_error",
        optimizer: str = "adam",
        learning_rate: float = 2e-3,
        batch_size: int | None = 64,
        epochs: int = 200,
        l1: float = 0.0,
        l2: float = 1e-3,
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
