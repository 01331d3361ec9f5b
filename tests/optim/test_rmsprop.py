"""RMSprop: worked steps by hand, and many steps against a plain reimplementation of PyTorch's
rule."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.nn.parameter import Parameter
from chainrule.optim import RMSprop


def steps(opt_kwargs, w0, grads):
    w = Parameter(np.array(w0, dtype=np.float64))
    opt = RMSprop([w], **opt_kwargs)
    for g in grads:
        w.grad = np.array(g, dtype=np.float64)
        opt.step()
    return w.data, opt.state[w]


def test_one_step_with_eps_outside_the_square_root():
    # α = 0.75, ε = 1, η = 0.3, w = [1, −2], g = [2, −4]
    # s = 0.75·0 + 0.25·g² = [1, 4];  √s + ε = [1 + 1, 2 + 1] = [2, 3]
    # g / (√s + ε) = [1, −4/3];        w = [1 − 0.3·1, −2 + 0.3·4/3] = [0.7, −1.6]
    # (ε inside the root would divide by √(s + ε) = [√2, √5] instead)
    w, state = steps({"lr": 0.3, "alpha": 0.75, "eps": 1.0}, [1.0, -2.0], [[2.0, -4.0]])
    np.testing.assert_allclose(w, [0.7, -1.6], rtol=1e-15)
    np.testing.assert_allclose(state["square_avg"], [1.0, 4.0], rtol=1e-15)
    assert state["step"] == 1


def test_two_steps_with_momentum():
    # step 1 as above: g/(√s + ε) = [1, −4/3], v = [1, −4/3], w = [0.7, −1.6]
    # step 2, g = [1, 2]: s = 0.75·[1, 4] + 0.25·[1, 4] = [1, 4]; √s + ε = [2, 3]
    #   g/(√s + ε) = [0.5, 2/3];  v = 0.5·[1, −4/3] + [0.5, 2/3] = [1, 0]
    #   w = [0.7 − 0.3·1, −1.6 − 0.3·0] = [0.4, −1.6]
    kwargs = {"lr": 0.3, "alpha": 0.75, "eps": 1.0, "momentum": 0.5}
    w, state = steps(kwargs, [1.0, -2.0], [[2.0, -4.0], [1.0, 2.0]])
    np.testing.assert_allclose(w, [0.4, -1.6], rtol=1e-14)
    np.testing.assert_allclose(state["momentum_buffer"], [1.0, 0.0], atol=1e-15)


def test_one_centered_step():
    # α = 0.5, g = [2, −4]: s = 0.5·g² = [2, 8], ḡ = 0.5·g = [1, −2]
    # √(s − ḡ²) + ε = √[1, 4] + 1 = [2, 3];  w = [1 − 0.3·2/2, −2 + 0.3·4/3] = [0.7, −1.6]
    kwargs = {"lr": 0.3, "alpha": 0.5, "eps": 1.0, "centered": True}
    w, state = steps(kwargs, [1.0, -2.0], [[2.0, -4.0]])
    np.testing.assert_allclose(w, [0.7, -1.6], rtol=1e-15)
    np.testing.assert_allclose(state["grad_avg"], [1.0, -2.0], rtol=1e-15)


def reference_rmsprop(
    w, grads, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False
):
    """PyTorch's documented RMSprop, written out plainly."""
    w = np.array(w, dtype=np.float64)
    v = np.zeros_like(w)
    b = np.zeros_like(w)
    g_ave = np.zeros_like(w)
    for g in grads:
        if weight_decay != 0:
            g = g + weight_decay * w
        v = alpha * v + (1 - alpha) * g**2
        v_tilde = v
        if centered:
            g_ave = alpha * g_ave + (1 - alpha) * g
            v_tilde = v - g_ave**2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            w = w - lr * b
        else:
            w = w - lr * g / (np.sqrt(v_tilde) + eps)
    return w


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"lr": 0.02, "alpha": 0.9, "eps": 1e-3},
        {"momentum": 0.9},
        {"centered": True},
        {"weight_decay": 0.1},
        {"lr": 0.05, "alpha": 0.8, "momentum": 0.5, "centered": True, "weight_decay": 0.2},
    ],
)
def test_many_steps_match_the_reference(kwargs):
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(2, 5))
    grads = [rng.normal(size=(2, 5)) for _ in range(25)]
    expected = reference_rmsprop(w0, grads, **kwargs)
    w, _ = steps(kwargs, w0, grads)
    np.testing.assert_allclose(w, expected, rtol=1e-11, atol=1e-13)


def test_centered_with_a_constant_gradient_stays_finite():
    # A constant gradient has zero variance: s − ḡ² is 0 in exact arithmetic, and here (float32,
    # α = 0.5) rounding makes it slightly negative; the root must not turn it into NaN.
    w = Parameter(np.zeros(3, dtype=np.float32))
    opt = RMSprop([w], lr=1e-3, alpha=0.5, eps=1e-3, centered=True)
    for _ in range(40):
        w.grad = np.array([0.01, 0.02, 0.04], dtype=np.float32)
        opt.step()
    state = opt.state[w]
    assert (state["square_avg"] - state["grad_avg"] ** 2 < 0).any()  # the case is exercised
    assert np.isfinite(w.data).all()
