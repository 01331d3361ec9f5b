"""Adam and AdamW: worked steps by hand, and many steps against a plain reimplementation of
PyTorch's rules."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.nn.parameter import Parameter
from chainrule.optim import Adam, AdamW


def steps(cls, opt_kwargs, w0, grads):
    w = Parameter(np.array(w0, dtype=np.float64))
    opt = cls([w], **opt_kwargs)
    for g in grads:
        w.grad = np.array(g, dtype=np.float64)
        opt.step()
    return w.data, opt.state[w]


KW = {"lr": 0.3, "betas": (0.5, 0.6), "eps": 1.0}  # β₂ = 0.6 makes 1 − β₂² = 0.64 = 0.8²


def test_two_adam_steps_with_bias_correction():
    # step 1, g = [2, −4]:
    #   m = 0.5·g = [1, −2]            m̂ = m / (1 − 0.5)  = [2, −4]
    #   v = 0.4·g² = [1.6, 6.4]        v̂ = v / (1 − 0.6)  = [4, 16],  √v̂ + ε = [3, 5]
    #   w = [1 − 0.3·2/3, −2 + 0.3·4/5] = [0.8, −1.76]
    # step 2, g = [2, 4]:
    #   m = 0.5·[1, −2] + 0.5·[2, 4] = [1.5, 1]          m̂ = m / (1 − 0.25) = [2, 4/3]
    #   v = 0.6·[1.6, 6.4] + 0.4·[4, 16] = [2.56, 10.24] v̂ = v / (1 − 0.36) = [4, 16]
    #   √v̂ + ε = [3, 5];  w = [0.8 − 0.3·2/3, −1.76 − 0.3·(4/3)/5] = [0.6, −1.84]
    w, state = steps(Adam, KW, [1.0, -2.0], [[2.0, -4.0]])
    np.testing.assert_allclose(w, [0.8, -1.76], rtol=1e-15)
    w, state = steps(Adam, KW, [1.0, -2.0], [[2.0, -4.0], [2.0, 4.0]])
    np.testing.assert_allclose(w, [0.6, -1.84], rtol=1e-14)
    np.testing.assert_allclose(state["exp_avg"], [1.5, 1.0], rtol=1e-15)
    np.testing.assert_allclose(state["exp_avg_sq"], [2.56, 10.24], rtol=1e-15)
    assert state["step"] == 2


def test_adam_l2_weight_decay_goes_through_the_gradient():
    # g + λw = [2 + 0.5·1, −4 + 0.5·(−2)] = [2.5, −5]; on step 1 m̂ = g, √v̂ = |g|:
    # w = [1 − 0.3·2.5/3.5, −2 + 0.3·5/6] = [1 − 1.5/7, −1.75]
    w, _ = steps(Adam, {**KW, "weight_decay": 0.5}, [1.0, -2.0], [[2.0, -4.0]])
    np.testing.assert_allclose(w, [1 - 1.5 / 7, -1.75], rtol=1e-15)


def test_adamw_decays_the_weights_first():
    # w ← w(1 − ηλ) = [1, −2]·(1 − 0.3·0.5) = [0.85, −1.7]; then the plain Adam step of
    # test_two_adam_steps (gradient unchanged): −0.3·[2/3, −4/5] = [−0.2, +0.24]
    w, _ = steps(AdamW, {**KW, "weight_decay": 0.5}, [1.0, -2.0], [[2.0, -4.0]])
    np.testing.assert_allclose(w, [0.65, -1.46], rtol=1e-15)


def test_amsgrad_divides_by_the_largest_second_moment():
    # β₂ = 0.6: a large gradient, then a small one. step 2's v = 0.6·0.4·100 + 0.4·0.01
    # = 24.004 < max(40, 24.004) = 40, so AMSGrad keeps 40.
    _, state = steps(Adam, {**KW, "amsgrad": True}, [0.0], [[10.0], [0.1]])
    np.testing.assert_allclose(state["exp_avg_sq"], [24.004], rtol=1e-14)
    np.testing.assert_allclose(state["max_exp_avg_sq"], [40.0], rtol=1e-14)


def reference_adam(
    w,
    grads,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    decoupled=False,
):
    """PyTorch's documented Adam (decoupled=True: AdamW), written out plainly."""
    beta1, beta2 = betas
    w = np.array(w, dtype=np.float64)
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    v_max = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            w = w - lr * weight_decay * w
        elif weight_decay != 0:
            g = g + weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2**t)
        else:
            v_hat = v / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


CASES = [
    {},
    {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6},
    {"weight_decay": 0.1},
    {"amsgrad": True},
    {"lr": 0.05, "betas": (0.0, 0.5), "weight_decay": 0.3, "amsgrad": True},
]


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize("kwargs", CASES)
def test_many_steps_match_the_reference(cls, kwargs):
    rng = np.random.default_rng(11)
    w0 = rng.normal(size=(4, 3))
    grads = [rng.normal(size=(4, 3)) * 10.0 ** rng.integers(-3, 2) for _ in range(30)]
    decoupled = cls is AdamW
    if decoupled:
        kwargs = {"weight_decay": 0.01, **kwargs}  # AdamW's default λ
    expected = reference_adam(w0, grads, **kwargs, decoupled=decoupled)
    w, _ = steps(cls, kwargs, w0, grads)
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-14)


def test_adamw_without_decay_is_adam():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=3) for _ in range(10)]
    a, _ = steps(Adam, {}, [1.0, 2.0, 3.0], grads)
    b, _ = steps(AdamW, {"weight_decay": 0.0}, [1.0, 2.0, 3.0], grads)
    np.testing.assert_array_equal(a, b)
    assert AdamW([Parameter(np.zeros(1))]).param_groups[0]["weight_decay"] == 0.01
