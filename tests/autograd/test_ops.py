"""Every op: forward value against NumPy, gradient against central differences (hypothesis)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

import chainrule as cr
from chainrule.autograd import ops


def floats(lo: float = -3.0, hi: float = 3.0) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


# Kinks (abs, relu) and poles (1/x) sit at 0, where a finite difference straddles them.
AWAY_FROM_ZERO = st.one_of(floats(0.2, 3.0), floats(-3.0, -0.2))
POSITIVE = floats(0.2, 5.0)
ANY = floats()
SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
PAIRS = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


def arr(shape: tuple[int, ...], elements: st.SearchStrategy[float] = ANY) -> st.SearchStrategy:
    return arrays(np.float64, shape, elements=elements)


def assert_grads(fn: Callable[..., cr.Tensor], *inputs: np.ndarray) -> None:
    """∂/∂inputs of Σ probe · fn(inputs) agrees with central differences.

    A random probe weights each output element, so every entry of the Jacobian matters
    (a plain sum would only test the column sums).
    """
    out = fn(*(cr.Tensor(x) for x in inputs))
    probe = np.random.default_rng(0).normal(size=out.shape)
    result = cr.grad_check(lambda *ts: (fn(*ts) * probe).sum(), list(inputs))
    assert result, result.report()


# ---------------------------------------------------------------------- elementwise, one input
UNARY = {
    "neg": (lambda t: -t, np.negative, floats()),
    "exp": (lambda t: t.exp(), np.exp, floats()),
    "log": (lambda t: t.log(), np.log, POSITIVE),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, POSITIVE),
    "abs": (lambda t: t.abs(), np.abs, AWAY_FROM_ZERO),
    "relu": (lambda t: t.relu(), lambda x: np.maximum(x, 0), AWAY_FROM_ZERO),
    "sigmoid": (lambda t: t.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), floats(-8, 8)),
    "tanh": (lambda t: t.tanh(), np.tanh, floats()),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary(name: str, data: st.DataObject) -> None:
    fn, reference, elements = UNARY[name]
    x = data.draw(arr(data.draw(SHAPES), elements))
    np.testing.assert_allclose(fn(cr.Tensor(x)).data, reference(x), rtol=1e-12)
    assert_grads(fn, x)


@given(data=st.data(), p=st.sampled_from([2, 3, -1, 0.5, 1.5, -2.5]))
def test_power(data: st.DataObject, p: float) -> None:
    elements = AWAY_FROM_ZERO if float(p).is_integer() else POSITIVE
    x = data.draw(arr(data.draw(SHAPES), elements))
    np.testing.assert_allclose((cr.Tensor(x) ** p).data, x**p, rtol=1e-12)
    assert_grads(lambda t: t**p, x)


# ---------------------------------------------------------------------- arithmetic, broadcasting
BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
}


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data(), shapes=PAIRS)
def test_binary_broadcasting(name: str, data: st.DataObject, shapes) -> None:
    fn, reference = BINARY[name]
    a = data.draw(arr(shapes.input_shapes[0]))
    b = data.draw(arr(shapes.input_shapes[1], AWAY_FROM_ZERO if name == "div" else floats()))
    out = fn(cr.Tensor(a), cr.Tensor(b))
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.data, reference(a, b), rtol=1e-12)
    assert_grads(fn, a, b)


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data(), shapes=PAIRS, c=AWAY_FROM_ZERO)
def test_binary_with_constants_both_sides(name: str, data: st.DataObject, shapes, c) -> None:
    """Python numbers and NumPy arrays on either side (reflected operators) are constants."""
    fn, reference = BINARY[name]
    x = data.draw(arr(shapes.input_shapes[0], AWAY_FROM_ZERO))
    const = data.draw(arr(shapes.input_shapes[1], AWAY_FROM_ZERO))
    for k in (c, const):
        left, right = fn(k, cr.Tensor(x)), fn(cr.Tensor(x), k)
        assert isinstance(left, cr.Tensor) and isinstance(right, cr.Tensor)
        np.testing.assert_allclose(left.data, reference(k, x), rtol=1e-12)
        np.testing.assert_allclose(right.data, reference(x, k), rtol=1e-12)
        assert_grads(lambda t, k=k: fn(k, t), x)
        assert_grads(lambda t, k=k: fn(t, k), x)


# ---------------------------------------------------------------------- matmul
MATMUL_CASES = {
    "1d@1d": lambda b, c, n, k, m: ((k,), (k,)),
    "1d@2d": lambda b, c, n, k, m: ((k,), (k, m)),
    "2d@1d": lambda b, c, n, k, m: ((n, k), (k,)),
    "2d@2d": lambda b, c, n, k, m: ((n, k), (k, m)),
    "3d@2d": lambda b, c, n, k, m: ((b, n, k), (k, m)),
    "3d@3d": lambda b, c, n, k, m: ((b, n, k), (b, k, m)),
    "batch broadcast": lambda b, c, n, k, m: ((b, 1, n, k), (c, k, m)),
    "1d@3d": lambda b, c, n, k, m: ((k,), (b, k, m)),
    "3d@1d": lambda b, c, n, k, m: ((b, n, k), (k,)),
}


@pytest.mark.parametrize("case", MATMUL_CASES)
@given(data=st.data(), sizes=st.tuples(*[st.integers(1, 3)] * 5))
def test_matmul(case: str, data: st.DataObject, sizes: tuple[int, ...]) -> None:
    shape_a, shape_b = MATMUL_CASES[case](*sizes)
    a, b = data.draw(arr(shape_a)), data.draw(arr(shape_b))
    np.testing.assert_allclose((cr.Tensor(a) @ cr.Tensor(b)).data, a @ b, rtol=1e-12)
    assert_grads(lambda s, t: s @ t, a, b)
    assert_grads(lambda t: a @ t, b)  # reflected: ndarray @ Tensor


def test_matmul_rejects_scalars() -> None:
    with pytest.raises(ValueError, match="matmul"):
        cr.Tensor(2.0) @ cr.Tensor([1.0, 2.0])


# ---------------------------------------------------------------------- reductions
@st.composite
def axis_for(draw: st.DrawFn, ndim: int) -> int | tuple[int, ...] | None:
    if ndim == 0:
        return None
    return draw(
        st.one_of(
            st.none(),
            st.integers(-ndim, ndim - 1),
            st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
        )
    )


@st.composite
def distinct_arrays(draw: st.DrawFn) -> np.ndarray:
    """Arrays without ties (max is not differentiable where two entries tie)."""
    shape = draw(SHAPES)
    order = draw(st.permutations(range(int(np.prod(shape)))))
    return (np.array(order, dtype=np.float64) - len(order) / 2).reshape(shape) * 0.37


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@given(x=distinct_arrays(), data=st.data(), keepdims=st.booleans())
def test_reductions(name: str, x: np.ndarray, data: st.DataObject, keepdims: bool) -> None:
    axis = data.draw(axis_for(x.ndim))
    out = getattr(cr.Tensor(x), name)(axis=axis, keepdims=keepdims)
    assert isinstance(out.data, np.ndarray)
    np.testing.assert_allclose(out.data, getattr(np, name)(x, axis=axis, keepdims=keepdims))
    assert_grads(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), x)


def test_max_splits_the_gradient_between_ties() -> None:
    x = cr.Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [0.5, 0, 0.5]])


# ---------------------------------------------------------------------- shape
@given(x=arr(SHAPES.filter(lambda s: len(s) > 0)), data=st.data())
def test_reshape_and_transpose(x: np.ndarray, data: st.DataObject) -> None:
    new_shape = x.shape[::-1]
    np.testing.assert_array_equal(cr.Tensor(x).reshape(*new_shape).data, x.reshape(new_shape))
    assert_grads(lambda t: t.reshape(new_shape), x)
    assert_grads(lambda t: t.reshape(-1), x)

    perm = data.draw(st.permutations(range(x.ndim)))
    # Negative axes are valid too; the gradient must undo the same permutation.
    axes = tuple(a - x.ndim if data.draw(st.booleans()) else a for a in perm)
    np.testing.assert_array_equal(cr.Tensor(x).transpose(*axes).data, x.transpose(axes))
    assert_grads(lambda t: t.transpose(*axes), x)
    assert_grads(lambda t: t.T, x)


@given(data=st.data())
def test_getitem(data: st.DataObject) -> None:
    x = data.draw(arr(array_shapes(min_dims=1, max_dims=3, max_side=4)))
    n = x.shape[0]
    positions = st.integers(-n, n - 1)
    index = data.draw(
        st.one_of(
            positions,
            st.slices(n),
            st.tuples(st.slices(n), st.just(Ellipsis)),
            st.lists(positions, min_size=1, max_size=8).map(np.array),  # repeats accumulate
            arrays(bool, x.shape),
        )
    )
    np.testing.assert_array_equal(cr.Tensor(x)[index].data, x[index])
    assert_grads(lambda t: t[index], x)


def test_getitem_repeated_indices_accumulate() -> None:
    x = cr.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 2, 0, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    m = cr.Tensor(np.zeros((2, 2)), requires_grad=True)
    m[[0, 0, 1], [1, 1, 0]].sum().backward()  # a pair of integer arrays
    np.testing.assert_array_equal(m.grad, [[0.0, 2.0], [1.0, 0.0]])


# ---------------------------------------------------------------------- joining and selecting
@given(data=st.data(), base=array_shapes(min_dims=1, max_dims=3, max_side=3))
def test_concatenate_and_stack(data: st.DataObject, base: tuple[int, ...]) -> None:
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    k = axis % len(base)
    shapes = [(*base[:k], s, *base[k + 1 :]) for s in sizes]
    xs = [data.draw(arr(s)) for s in shapes]
    got = ops.concatenate([cr.Tensor(x) for x in xs], axis=axis)
    np.testing.assert_array_equal(got.data, np.concatenate(xs, axis=axis))
    assert_grads(lambda *ts: ops.concatenate(ts, axis=axis), *xs)

    new_axis = data.draw(st.integers(-len(base) - 1, len(base)))
    ys = [data.draw(arr(base)) for _ in sizes]
    np.testing.assert_array_equal(
        ops.stack([cr.Tensor(y) for y in ys], axis=new_axis).data, np.stack(ys, axis=new_axis)
    )
    assert_grads(lambda *ts: ops.stack(ts, axis=new_axis), *ys)


@given(data=st.data(), shapes=mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
def test_where(data: st.DataObject, shapes) -> None:
    cond_shape, a_shape, b_shape = shapes.input_shapes
    cond = data.draw(arrays(bool, cond_shape))
    a, b = data.draw(arr(a_shape)), data.draw(arr(b_shape))
    np.testing.assert_array_equal(
        ops.where(cond, cr.Tensor(a), cr.Tensor(b)).data, np.where(cond, a, b)
    )
    assert_grads(lambda s, t: ops.where(cond, s, t), a, b)
    assert_grads(lambda t: ops.where(cond, t, 0.0), a)
