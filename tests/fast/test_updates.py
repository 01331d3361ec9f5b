"""The in-place optimizer updates (`chainrule.fast.updates`) equal the plain rules.

Each optimizer's plain rule (`sgd_rule`, `adam_rule`, `rmsprop_rule`) writes a step as the
lecture does and returns new arrays; it is the reference. `Optimizer.step` runs the in-place
fast path, per parameter or once over a flat group. Both are run here on random weights and
gradients of odd sizes, for several steps and every option, and must agree.
"""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.fast import flatten_parameters
from chainrule.nn import Parameter
from chainrule.optim import SGD, Adam, AdamW, RMSprop
from chainrule.optim.adam import adam_rule
from chainrule.optim.rmsprop import rmsprop_rule
from chainrule.optim.sgd import sgd_rule

# every test here runs on the NumPy code and on the compiled kernels (conftest.py)
pytestmark = pytest.mark.usefixtures("both_paths")

CASES = [
    (SGD, {"lr": 0.1}, sgd_rule),
    (SGD, {"lr": 0.1, "momentum": 0.9}, sgd_rule),
    (SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}, sgd_rule),
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}, sgd_rule),
    (Adam, {"lr": 0.01}, adam_rule),
    (Adam, {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-3, "weight_decay": 0.1}, adam_rule),
    (Adam, {"lr": 0.01, "amsgrad": True}, adam_rule),
    (AdamW, {"lr": 0.01, "weight_decay": 0.1}, adam_rule),
    (AdamW, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, adam_rule),
    (RMSprop, {"lr": 0.01}, rmsprop_rule),
    (RMSprop, {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01}, rmsprop_rule),
    (RMSprop, {"lr": 0.01, "centered": True, "eps": 1e-4}, rmsprop_rule),
    (RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.5, "alpha": 0.9}, rmsprop_rule),
]
SHAPES = [(1,), (7, 3), (3, 5), (1, 1)]  # odd sizes, a batch-1-like row


def _plain_steps(cls, options, rule, weights, grads):
    """The weights after each step of the plain rule."""
    opt = cls([Parameter(w.copy()) for w in weights], **options)  # for the full group dict
    group = opt.param_groups[0]
    decoupled = getattr(cls, "decoupled_weight_decay", False)
    states = [opt._init_state(w, group) for w in weights]
    states = [{k: v for k, v in st.items() if k != "momentum_buffer"} for st in states]
    ws = [w.copy() for w in weights]
    history = []
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            args = (ws[i], g, states[i], group) + ((decoupled,) if rule is adam_rule else ())
            ws[i], new = rule(*args)
            states[i] = {**states[i], **new}
        history.append([w.copy() for w in ws])
    return history


@pytest.mark.parametrize("flat", [False, True], ids=["per-parameter", "flat group"])
@pytest.mark.parametrize(("cls", "options", "rule"), CASES)
def test_in_place_update_equals_the_plain_rule(cls, options, rule, flat):
    rng = np.random.default_rng(7)
    weights = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(5)]
    expected = _plain_steps(cls, options, rule, weights, grads)

    params = [Parameter(w.copy()) for w in weights]
    if flat:
        flatten_parameters(params)
    opt = cls(params, **options)
    for step_grads, want in zip(grads, expected, strict=True):
        for p, g in zip(params, step_grads, strict=True):
            p.grad = None
            p._accumulate_grad(g)  # as backward() leaves it (in the buffer when flat)
        opt.step()
        for p, w in zip(params, want, strict=True):
            np.testing.assert_allclose(p.data, w, rtol=1e-12, atol=1e-14)


def test_plain_rule_does_not_change_its_inputs():
    w, g = np.ones(3), np.full(3, 0.5)
    state = {"step": 0, "exp_avg": np.zeros(3), "exp_avg_sq": np.zeros(3)}
    group = {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.1, "amsgrad": True}
    new_w, new_state = adam_rule(w, g, state, group)
    assert np.array_equal(w, np.ones(3)) and np.array_equal(state["exp_avg"], np.zeros(3))
    # The lecture's first step: m̂ = g, v̂ = g², so w moves by η·sign(g) (up to ε).
    np.testing.assert_allclose(new_w, 1 - 0.1 * np.sign(g + 0.1 * w), rtol=1e-7)
    assert new_state["step"] == 1
