"""The engine itself: backward(), graph bookkeeping, grad modes, dtypes and the Tensor API."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import is_grad_enabled


def leaf(value, dtype=np.float64) -> cr.Tensor:
    return cr.Tensor(value, requires_grad=True, dtype=dtype)


# ---------------------------------------------------------------------- backward
def test_reused_node_receives_the_sum_of_its_paths() -> None:
    x = leaf(2.0)
    a = x * 3.0  # a feeds y on two paths: a·a and + a
    y = a * a + a
    y.backward()
    # ∂y/∂a = 2a + 1 = 13, ∂a/∂x = 3
    assert a.grad == pytest.approx(13.0)
    assert x.grad == pytest.approx(39.0)
    z = leaf(1.5)
    (z + z + z * z).backward()
    assert z.grad == pytest.approx(2 + 2 * 1.5)


@pytest.mark.slow
def test_deep_chain_runs_without_recursion() -> None:
    n = 100_000
    assert n > sys.getrecursionlimit()
    x = leaf(1.0)
    y = x
    for _ in range(n):
        y = y * 1.00001
    y.backward(retain_graph=True)
    assert x.grad == pytest.approx(1.00001**n, rel=1e-9)
    del y  # freeing a retained 100,000-deep graph must not overflow the C stack either


def test_gradients_accumulate_across_calls_until_cleared() -> None:
    w = leaf([1.0, -2.0])
    for expected in (1, 2, 3):
        (w * w).sum().backward()
        np.testing.assert_allclose(w.grad, expected * 2 * w.data)
    w.zero_grad()
    assert w.grad is None
    (3 * w).sum().backward()
    np.testing.assert_allclose(w.grad, [3.0, 3.0])


def test_retain_graph_allows_a_second_backward() -> None:
    x = leaf(3.0)
    y = (x * x).exp().log()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == pytest.approx(2 * 2 * 3.0)


def test_a_released_graph_refuses_a_second_backward() -> None:
    x = leaf(3.0)
    h = x * x
    y = h + 1.0
    y.backward()
    assert x.grad == pytest.approx(6.0)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    assert x.grad == pytest.approx(6.0)  # nothing was accumulated by the failed call
    assert y.grad == pytest.approx(1.0)
    with pytest.raises(RuntimeError, match="released"):
        (h * 2.0).backward()  # a new output over the released part of the graph


def test_backward_with_an_explicit_gradient() -> None:
    # For out = 2x, backward(g) gives gᵀ ∂out/∂x = 2g.
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    (2 * x).backward(np.array([[1.0, 0.0], [0.5, -1.0]]))
    np.testing.assert_array_equal(x.grad, [[2.0, 0.0], [1.0, -2.0]])


def test_backward_input_errors() -> None:
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        cr.Tensor(1.0).backward()
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError, match="grad="):
        (x * 2).backward()
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(np.ones(3))


def test_intermediate_gradient_is_delta() -> None:
    """After E.backward(), a.grad is δ = ∂E/∂a for the pre-activation a."""
    W = leaf([[0.5, -1.0], [2.0, 0.25]])
    z = cr.Tensor([[1.0, 2.0]], dtype=np.float64)
    a = z @ W.T
    E = 0.5 * (a.sigmoid() ** 2).sum()
    E.backward()
    s = 1 / (1 + np.exp(-a.data))
    np.testing.assert_allclose(a.grad, s * s * (1 - s))  # ∂E/∂a = σ(a) σ'(a)
    np.testing.assert_allclose(W.grad, a.grad.T @ z.data)  # ∂E/∂W = δ zᵀ


def test_scalar_results_and_gradients_are_ndarrays() -> None:
    x = leaf(2.0)
    s = (x * x).sum()
    s.backward()
    assert type(s.data) is np.ndarray and type(x.grad) is np.ndarray
    v = leaf([1.0, 2.0])
    m = v.mean()
    m.backward()
    assert type(m.data) is np.ndarray and type(v.grad) is np.ndarray


# ---------------------------------------------------------------------- grad modes
def test_no_grad_records_nothing_and_restores_the_mode() -> None:
    x = leaf([1.0, 2.0])
    with cr.no_grad():
        assert not is_grad_enabled()
        y = x * 2
        with cr.enable_grad():
            z = x * 2
    assert is_grad_enabled()
    assert not y.requires_grad and y.parents == ()
    assert z.requires_grad and z.parents
    with pytest.raises(KeyError), cr.no_grad():
        raise KeyError("boom")
    assert is_grad_enabled()

    @cr.no_grad()
    def infer(t: cr.Tensor) -> cr.Tensor:
        return t.exp()

    assert not infer(x).requires_grad


def test_detach_shares_data_but_stops_the_gradient() -> None:
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.data, x.data)
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad, x.data)  # only the tracked factor contributes


def test_requires_grad_propagates() -> None:
    c = cr.Tensor([1.0, 2.0])
    w = cr.Tensor([0.5, 0.5], requires_grad=True)
    assert not (c * 2 + c).requires_grad
    assert (c * w).requires_grad and (c * w).sum().requires_grad
    assert w.is_leaf and not (c * w).is_leaf
    with pytest.raises(ValueError, match="floating"):
        cr.Tensor([1, 2], dtype=np.int64, requires_grad=True)


# ---------------------------------------------------------------------- dtypes
def test_dtype_rules() -> None:
    assert cr.Tensor([1, 2]).dtype == np.float32  # ints -> float32
    assert cr.Tensor([1.0, 2.0]).dtype == np.float32  # Python lists -> float32
    assert cr.Tensor(3.0).dtype == np.float32  # Python numbers -> float32
    assert cr.Tensor(np.array([True])).dtype == np.float32
    assert cr.Tensor(np.arange(3)).dtype == np.float32  # integer arrays -> float32
    assert cr.Tensor(np.zeros(2)).dtype == np.float64  # NumPy floating data keeps precision
    assert cr.Tensor(np.float64(1.0)).dtype == np.float64
    assert cr.Tensor(np.zeros(2, np.float16)).dtype == np.float16
    assert cr.Tensor([1, 2], dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="numeric"):
        cr.Tensor(["a", "b"])


def test_python_scalars_keep_the_tensor_dtype() -> None:
    t32 = cr.Tensor(np.ones(3, np.float32), requires_grad=True)
    for out in (t32 * 2.5, 2.5 * t32, 1 / t32, t32 - 1, 3 + t32, t32**2, t32 / 7):
        assert out.dtype == np.float32
    t64 = cr.Tensor(np.ones(3), requires_grad=True)
    assert (t64 * 2.5).dtype == np.float64
    mixed = t32 * np.ones(3)  # NumPy promotion: float32 · float64 -> float64
    assert mixed.dtype == np.float64
    mixed.sum().backward()
    assert t32.grad.dtype == np.float32  # a gradient always has its tensor's dtype


# ---------------------------------------------------------------------- numerics
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_tanh_are_stable_for_huge_inputs(dtype) -> None:
    x = cr.Tensor(np.array([-1e4, -30.0, 0.0, 30.0, 1e4], dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any overflow warning fails the test
        s, t = x.sigmoid(), x.tanh()
        (s + t).sum().backward()
    assert s.dtype == t.dtype == dtype
    np.testing.assert_allclose(
        s.data, [0.0, 1 / (1 + np.exp(30.0)), 0.5, 1 / (1 + np.exp(-30.0)), 1.0]
    )
    np.testing.assert_allclose(t.data, [-1.0, -1.0, 0.0, 1.0, 1.0])
    assert np.all(np.isfinite(x.grad))
    assert x.grad[0] == 0.0 and x.grad[-1] == 0.0 and x.grad[2] == pytest.approx(1.25)


# ---------------------------------------------------------------------- the Tensor API
def test_reflected_operators_return_tensors() -> None:
    t = cr.Tensor([1.0, 2.0, 4.0])
    arr = np.array([2.0, 2.0, 2.0], np.float32)
    cases = {
        "1/t": (1 / t, [1.0, 0.5, 0.25]),
        "2*t": (2 * t, [2.0, 4.0, 8.0]),
        "2-t": (2 - t, [1.0, 0.0, -2.0]),
        "2+t": (2 + t, [3.0, 4.0, 6.0]),
        "array*t": (arr * t, [2.0, 4.0, 8.0]),
        "array-t": (arr - t, [1.0, 0.0, -2.0]),
        "array@t": (arr @ t, 14.0),
    }
    for name, (got, want) in cases.items():
        assert isinstance(got, cr.Tensor), name
        np.testing.assert_allclose(got.data, want, err_msg=name)


def test_comparisons_return_plain_boolean_arrays() -> None:
    t = cr.Tensor([1.0, 2.0, 3.0])
    for got in (t > 2, t >= 2, t < 2, t <= 2, t == 2, t != 2, t > cr.Tensor(1.5)):
        assert type(got) is np.ndarray and got.dtype == bool
    np.testing.assert_array_equal(t > 1.5, [False, True, True])
    assert {t: 1}[t] == 1  # still hashable by identity


def test_attributes_and_conversions() -> None:
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = cr.Tensor(data, name="t")
    assert t.shape == (2, 3) and t.ndim == 2 and t.dtype == np.float32 and len(t) == 2
    assert t.numpy() is t.data and np.shares_memory(t.data, data)
    assert t.T.shape == (3, 2) and t.reshape(3, 2).shape == (3, 2) and t.reshape((6,)).shape == (6,)
    assert t.transpose(1, 0).shape == (3, 2)
    assert cr.Tensor([[2.5]]).item() == 2.5
    with pytest.raises(ValueError, match="one-element"):
        t.item()
    assert "name='t'" in repr(t) and "requires_grad" not in repr(t)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


def test_power_needs_a_constant_exponent() -> None:
    with pytest.raises(ValueError, match="constant number"):
        cr.Tensor([1.0]) ** cr.Tensor([2.0])
