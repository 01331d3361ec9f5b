"""When the training loop may run a step without a graph (`chainrule.fast.train_step`).

The generic step, ``E = loss(model(x), y); E.backward()``, works for every model and loss. For
the commonest case, a multilayer perceptron trained on a plain loss, `plan_step` returns a
`DenseStep` that gives the same E and the same gradients without building the graph. It does
so only when nothing could tell the difference:

* the model is a `Sequential` whose own `forward` runs the fused dense chain (`fuse=True`,
  only `Dense` layers and ReLU / tanh / sigmoid / identity, no subclass that changes how it is
  called);
* the loss is `cross_entropy` (no class weights, no label smoothing), `mse_loss` or
  `squared_error`, as a function or a module, or an object whose ``terms()`` gives such a
  loss plus l1/l2 penalties over weights of the chain (the estimators' objective);
* all targets of the run were checked once, up front (the generic step checks each batch's;
  when some target is invalid the generic step runs, and raises where it always did).

The trainer also keeps the generic step for weighted samples, batch transforms and any step
where `DenseStep.ready` says no (a gradient already there, a frozen parameter, `no_grad`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.fast.dense_chain import plan_chain
from chainrule.fast.train_step import DenseStep, Penalty
from chainrule.nn.losses import (
    CrossEntropyLoss,
    MSELoss,
    SquaredError,
    cross_entropy,
    mse_loss,
    squared_error,
    squared_terms,
)
from chainrule.nn.module import Module
from chainrule.nn.regularizers import PENALTY_TERMS
from chainrule.nn.sequential import Sequential
from chainrule.nn.softmax import check_labels, softmax_cross_entropy

__all__ = ["plan_step"]


def plan_step(model: Any, loss: Any, y: Any) -> DenseStep | None:
    """A `DenseStep` equal to the generic step of `model` and `loss` on targets from `y` (all
    the run's targets), or None when the generic step must run."""
    cls = type(model)
    if (
        not isinstance(model, Sequential)
        or cls.forward is not Sequential.forward
        or cls.__call__ is not Module.__call__
        or "forward" in vars(model)
        or not model.fuse
    ):
        return None
    layers = plan_chain(model._modules.values())
    if layers is None:
        return None
    terms = getattr(loss, "terms", None)
    data_loss, penalties = terms() if callable(terms) else (loss, ())
    n_out = layers[-1][0].data.shape[0]
    loss_grad = _loss_grad(data_loss, y, n_out)
    if loss_grad is None:
        return None
    plans = []
    chain_params = {id(p) for W, b, _ in layers for p in (W, b) if p is not None}
    for fn, lam, weights in penalties:
        parts = PENALTY_TERMS.get(fn)
        weights = list(weights)
        if parts is None or not lam >= 0 or any(id(w) not in chain_params for w in weights):
            return None
        plans.append(Penalty(float(lam), *parts, weights))
    return DenseStep(layers, loss_grad, plans)


def _loss_grad(loss: Any, y: Any, n_out: int) -> Any:
    """(ŷ, y, g) -> (E, ∂E/∂ŷ · g) computed as `loss`'s op does, when `loss` is a plain loss
    and every target in `y` is one it takes; else None."""
    if loss is cross_entropy or (
        type(loss) is CrossEntropyLoss and loss.weight is None and not loss.label_smoothing
    ):
        if not _valid_labels(y, n_out):
            return None
        return _cross_entropy_grad
    if loss is mse_loss or type(loss) is MSELoss:
        per_element = True
    elif loss is squared_error or type(loss) is SquaredError:
        per_element = False
    else:
        return None
    y = np.asarray(y)
    columns = y.shape[1] if y.ndim == 2 else 1 if y.ndim == 1 else None
    if y.dtype.kind not in "biuf" or columns != n_out:
        return None

    def squared_grad(out: Any, target: Any, g: Any) -> tuple[float, Any]:
        # as `_regression_pair`: the target in ŷ's dtype and shape (a column for (N,))
        diff = out - np.asarray(target, out.dtype).reshape(out.shape)
        value, coef = squared_terms(diff, per_element)
        return value, diff * (coef * g)

    return squared_grad


def _valid_labels(y: Any, n_classes: int) -> bool:
    """Every label a class index in [0, n_classes) (as `cross_entropy` checks each batch)."""
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iuf":
        return False
    try:
        check_labels(y, len(y), n_classes)
    except ValueError:
        return False
    return True


def _cross_entropy_grad(out: Any, y: Any, g: Any) -> tuple[float, Any]:
    labels = y if y.dtype == np.intp else y.astype(np.intp)
    value, p_minus_onehot = softmax_cross_entropy(out, labels)
    return value, np.multiply(p_minus_onehot, g / len(out), out=p_minus_onehot)


def still_planned(step: DenseStep, model: Any) -> bool:
    """`step` still runs `model`'s layers (callbacks may have replaced some)."""
    layers = plan_chain(model._modules.values()) if model.fuse else None
    return (
        layers is not None
        and len(layers) == len(step.layers)
        and all(
            a[0] is b[0] and a[1] is b[1] and a[2] == b[2]
            for a, b in zip(layers, step.layers, strict=True)
        )
    )
