"""`cr.grad_check`: it must pass correct gradients, catch wrong ones and say where."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import Tensor
from chainrule.autograd.gradcheck import assert_grad_close


def square_with_a_bug(x: Tensor, wrong_at: int | None) -> Tensor:
    """x², whose backward is wrong (×3 instead of ×2) at one flat position."""

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        factor = np.full(x.shape, 2.0)
        if wrong_at is not None:
            factor.flat[wrong_at] = 3.0
        return (g * factor * x.data,)

    return Tensor._make(x.data**2, (x,), backward, "square")


def test_agrees_on_a_correct_gradient() -> None:
    result = cr.grad_check(
        lambda w, x: ((w @ x).tanh() ** 2).mean(), [np.ones((2, 3)), [1.0, 2.0, -1.0]]
    )
    assert result and result.ok and result.n_mismatched == 0
    assert "agree" in result.report()
    assert [g.shape for g in result.analytic] == [(2, 3), (3,)]
    np.testing.assert_allclose(result.analytic[1], result.numeric[1], rtol=1e-6)


def test_names_the_worst_entry_of_a_wrong_gradient() -> None:
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    result = cr.grad_check(lambda a, b: (a * 2).sum() + square_with_a_bug(b, 3).sum(), [x, x])
    assert not result
    assert result.n_mismatched == 1
    i, index, analytic, numeric = result.worst
    assert (i, index) == (1, (1, 1))
    assert analytic == pytest.approx(3 * 4.0) and numeric == pytest.approx(2 * 4.0)
    report = result.report()
    assert "DIFFER" in report and "input 1" in report and "(1, 1)" in report
    assert "(1, 1)" in repr(result)


def test_inputs_are_copied_to_float64_and_left_untouched() -> None:
    x32 = cr.Tensor([0.5, -1.5], requires_grad=True)
    before = x32.data.copy()
    seen = []

    def fn(t: Tensor) -> Tensor:
        seen.append(t.dtype)
        return (t * t).sum()

    assert cr.grad_check(fn, x32)  # a single tensor is accepted as well as a list
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_array_equal(x32.data, before)
    assert x32.grad is None


def test_works_inside_no_grad_and_for_constant_functions() -> None:
    with cr.no_grad():
        assert cr.grad_check(lambda t: t.exp().sum(), [[0.1, 0.2]])
    result = cr.grad_check(lambda t: Tensor(np.float64(2.0)), [[1.0, 2.0]])
    assert result and np.all(result.analytic[0] == 0)


def test_non_finite_gradients_do_not_pass() -> None:
    def nan_at_0(x: Tensor) -> Tensor:  # the identity, with a NaN in its backward
        return Tensor._make(x.data, (x,), lambda g: (g * np.array([np.nan, 1.0]),), "nan")

    result = cr.grad_check(lambda t: nan_at_0(t).sum(), [[0.0, 1.0]])
    assert not result and result.worst[:2] == (0, (0,))


@pytest.mark.parametrize(
    ("fn", "inputs", "kwargs", "message"),
    [
        (lambda t: t * 2, [[1.0, 2.0]], {}, "scalar"),
        (lambda t: 3.0, [[1.0]], {}, "must return a Tensor"),
        (lambda t: Tensor(t.data.astype(np.float32)).sum(), [[1.0]], {}, "float64"),
        (lambda t: t.sum(), [], {}, "non-empty"),
        (lambda t: t.sum(), [["a"]], {}, "not numeric"),
        (lambda t: t.sum(), [[1.0]], {"eps": 0.0}, "eps"),
        (lambda t: t.sum(), [[1.0]], {"rtol": -1.0}, "rtol"),
    ],
)
def test_bad_input_raises_value_error(fn, inputs, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        cr.grad_check(fn, inputs, **kwargs)


def test_assert_grad_close_raises_with_the_report() -> None:
    assert_grad_close(lambda t: (t**3).sum(), [[1.0, -2.0]])
    with pytest.raises(AssertionError, match=r"input 0, index \(1,\)"):
        assert_grad_close(lambda t: square_with_a_bug(t, 1).sum(), [[1.0, -2.0]])
