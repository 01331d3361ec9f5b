"""SGD: worked steps by hand, and many steps against a plain reimplementation of PyTorch's rule."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.nn.parameter import Parameter
from chainrule.optim import SGD


def steps(opt_kwargs, w0, grads):
    """Run SGD from w0 through the given gradients; return the weights after the last step."""
    w = Parameter(np.array(w0, dtype=np.float64))
    opt = SGD([w], **opt_kwargs)
    for g in grads:
        w.grad = np.array(g, dtype=np.float64)
        opt.step()
    return w.data


W0 = [1.0, -2.0]
G1 = [0.5, 1.0]
G2 = [0.2, -0.4]


def test_plain_gradient_descent_step():
    # w ← w − η g = [1 − 0.1·0.5, −2 − 0.1·1] = [0.95, −2.1]
    np.testing.assert_allclose(steps({"lr": 0.1}, W0, [G1]), [0.95, -2.1], rtol=1e-15)


def test_momentum_two_steps():
    # step 1: v = g₁ = [0.5, 1]            w = [1 − 0.05, −2 − 0.1]    = [0.95, −2.1]
    # step 2: v = 0.9·[0.5, 1] + [0.2, −0.4] = [0.65, 0.5]
    #         w = [0.95 − 0.1·0.65, −2.1 − 0.1·0.5]                   = [0.885, −2.15]
    got = steps({"lr": 0.1, "momentum": 0.9}, W0, [G1, G2])
    np.testing.assert_allclose(got, [0.885, -2.15], rtol=1e-14)


def test_nesterov_step():
    # v = g = [0.5, 1]; the step uses g + μv = [0.5 + 0.45, 1 + 0.9] = [0.95, 1.9]
    # w = [1 − 0.1·0.95, −2 − 0.1·1.9] = [0.905, −2.19]
    got = steps({"lr": 0.1, "momentum": 0.9, "nesterov": True}, W0, [G1])
    np.testing.assert_allclose(got, [0.905, -2.19], rtol=1e-14)


def test_weight_decay_step():
    # g + λw = [0.5 + 0.1·1, 1 + 0.1·(−2)] = [0.6, 0.8]; w = [1 − 0.06, −2 − 0.08]
    got = steps({"lr": 0.1, "weight_decay": 0.1}, W0, [G1])
    np.testing.assert_allclose(got, [0.94, -2.08], rtol=1e-14)


def test_dampening_leaves_the_first_step_undamped():
    # step 1: v = g₁ = [0.5, 1] (not (1 − τ) g₁)      w = [0.95, −2.1]
    # step 2: v = 0.9·[0.5, 1] + (1 − 0.5)·[0.2, −0.4] = [0.55, 0.7]
    #         w = [0.95 − 0.055, −2.1 − 0.07]          = [0.895, −2.17]
    got = steps({"lr": 0.1, "momentum": 0.9, "dampening": 0.5}, W0, [G1, G2])
    np.testing.assert_allclose(got, [0.895, -2.17], rtol=1e-14)


def test_momentum_buffer_is_created_on_the_first_step():
    w = Parameter(np.array(W0))
    opt = SGD([w], lr=0.1, momentum=0.9)
    w.grad = np.array(G1)
    opt.step()
    np.testing.assert_array_equal(opt.state[w]["momentum_buffer"], G1)
    assert SGD([w], lr=0.1).state_dict()["state"] == {}  # no buffer without momentum


def reference_sgd(w, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    """PyTorch's documented SGD, written out plainly (new arrays every step)."""
    w = np.array(w, dtype=np.float64)
    b = None
    for g in grads:
        if weight_decay != 0:
            g = g + weight_decay * w
        if momentum != 0:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        w = w - lr * g
    return w


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.03},
        {"lr": 0.03, "momentum": 0.9},
        {"lr": 0.03, "momentum": 0.7, "nesterov": True},
        {"lr": 0.03, "momentum": 0.9, "dampening": 0.2},
        {"lr": 0.03, "weight_decay": 0.05},
        {"lr": 0.03, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
        {"lr": 0.03, "momentum": 0.5, "dampening": 0.9, "weight_decay": 0.3},
    ],
)
def test_many_steps_match_the_reference(kwargs):
    rng = np.random.default_rng(7)
    w0 = rng.normal(size=(3, 4))
    grads = [rng.normal(size=(3, 4)) for _ in range(25)]
    expected = reference_sgd(w0, grads, **kwargs)
    np.testing.assert_allclose(steps(kwargs, w0, grads), expected, rtol=1e-12, atol=1e-14)
    # float32 parameters follow the same path to float32 precision
    w = Parameter(w0.astype(np.float32))
    opt = SGD([w], **kwargs)
    for g in grads:
        w.grad = g.astype(np.float32)
        opt.step()
    assert w.data.dtype == np.float32
    np.testing.assert_allclose(w.data, expected, rtol=1e-4, atol=1e-5)
