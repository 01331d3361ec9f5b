"""Pooling layers and Flatten: PyTorch parity (values and gradients), finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Flatten,
    MaxPool1d,
    MaxPool2d,
)

# Every test on the NumPy code and on the compiled kernels (tests/nn/conftest.py).
pytestmark = pytest.mark.usefixtures("both_paths")


def _compare(ours, theirs, shape, seed=0):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    xt = cr.Tensor(x, requires_grad=True)
    out = ours(xt)
    ref_x = torch.tensor(x, requires_grad=True)
    ref = theirs(ref_x)
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=0, atol=1e-10)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad, ref_x.grad.numpy(), rtol=0, atol=1e-10)


POOL_2D = [  # kernel, stride, padding, dilation, shape
    (2, None, 0, 1, (2, 3, 8, 8)),
    (3, 2, 1, 1, (1, 2, 7, 9)),
    ((2, 3), (1, 2), (1, 1), (2, 1), (3, 1, 6, 7)),
    (3, 1, 0, 1, (1, 1, 5, 5)),  # overlapping windows
]


@pytest.mark.parametrize(("k", "s", "p", "d", "shape"), POOL_2D)
def test_max_pool2d_equals_torch(k, s, p, d, shape):
    torch = pytest.importorskip("torch")
    _compare(MaxPool2d(k, s, p, d), torch.nn.MaxPool2d(k, s, p, d), shape)


@pytest.mark.parametrize(
    ("k", "s", "p", "shape"), [(2, None, 0, (2, 3, 10)), (3, 2, 1, (1, 2, 9)), (4, 1, 2, (3, 1, 7))]
)
def test_max_pool1d_equals_torch(k, s, p, shape):
    torch = pytest.importorskip("torch")
    _compare(MaxPool1d(k, s, p), torch.nn.MaxPool1d(k, s, p), shape)


@pytest.mark.parametrize("include", [True, False])
@pytest.mark.parametrize(("k", "s", "p", "d", "shape"), POOL_2D)
def test_avg_pool2d_equals_torch(k, s, p, d, shape, include):
    torch = pytest.importorskip("torch")
    _compare(
        AvgPool2d(k, s, p, count_include_pad=include),
        torch.nn.AvgPool2d(k, s, p, count_include_pad=include),
        shape,
    )


@pytest.mark.parametrize("include", [True, False])
def test_avg_pool1d_equals_torch(include):
    torch = pytest.importorskip("torch")
    _compare(
        AvgPool1d(3, 2, 1, count_include_pad=include),
        torch.nn.AvgPool1d(3, 2, 1, count_include_pad=include),
        (2, 3, 11),
    )


def test_avg_pool_divisor_override_equals_torch():
    torch = pytest.importorskip("torch")
    _compare(
        AvgPool2d(2, divisor_override=3), torch.nn.AvgPool2d(2, divisor_override=3), (2, 2, 6, 6)
    )


@pytest.mark.parametrize("size", [1, 3, (2, 5), (None, 2)])
def test_adaptive_avg_pool2d_equals_torch(size):
    torch = pytest.importorskip("torch")
    _compare(AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size), (2, 3, 7, 9))


@pytest.mark.parametrize("size", [1, 3, 4])
def test_adaptive_avg_pool1d_equals_torch(size):
    torch = pytest.importorskip("torch")
    _compare(AdaptiveAvgPool1d(size), torch.nn.AdaptiveAvgPool1d(size), (2, 3, 10))


def test_flatten_equals_torch():
    torch = pytest.importorskip("torch")
    _compare(Flatten(), torch.nn.Flatten(), (2, 3, 4, 5))
    _compare(Flatten(2, 3), torch.nn.Flatten(2, 3), (2, 3, 4, 5))


@pytest.mark.parametrize(
    "layer",
    [
        MaxPool2d(2, 1, 1),
        AvgPool2d(3, 2, 1, count_include_pad=False),
        AdaptiveAvgPool2d((2, 3)),
        AdaptiveAvgPool1d(1),
    ],
)
def test_pool_gradients_match_finite_differences(layer):
    rng = np.random.default_rng(7)
    shape = (2, 2, 5) if isinstance(layer, AdaptiveAvgPool1d) else (2, 2, 5, 6)
    weights = rng.standard_normal(layer(np.zeros(shape)).shape)
    result = cr.grad_check(lambda x: (layer(x) * weights).sum(), [rng.standard_normal(shape)])
    assert result, result.report()


def test_max_pool_routes_delta_to_the_argmax():
    x = np.array([[[[1.0, 5.0], [2.0, 0.0]]]])
    xt = cr.Tensor(x, requires_grad=True)
    out = MaxPool2d(2)(xt)
    assert out.data.item() == 5.0
    out.backward(np.array([[[[3.0]]]]))
    np.testing.assert_array_equal(xt.grad, [[[[0.0, 3.0], [0.0, 0.0]]]])


def test_bad_pool_arguments_are_named():
    with pytest.raises(ValueError, match="half the kernel"):
        MaxPool2d(2, padding=2)(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="ceil_mode"):
        AvgPool1d(2, ceil_mode=True)
    with pytest.raises(ValueError, match=r"\(N, C, L\)"):
        MaxPool1d(2)(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="output_size"):
        AdaptiveAvgPool2d((1, 2, 3))
    with pytest.raises(ValueError, match="does not fit"):
        Flatten(2)(np.zeros((3, 4)))


def test_unflatten_equals_torch_and_inverts_flatten():
    torch = pytest.importorskip("torch")
    from chainrule.nn import Unflatten

    _compare(Unflatten(1, (2, 3, 4)), torch.nn.Unflatten(1, (2, 3, 4)), (5, 24))
    x = np.random.default_rng(0).standard_normal((3, 2, 4, 5))
    np.testing.assert_array_equal(Unflatten(1, (2, 4, 5))(Flatten()(x)).data, x)
    with pytest.raises(ValueError, match="needs 24 values"):
        Unflatten(1, (2, 3, 4))(np.zeros((2, 23)))


@pytest.mark.parametrize(
    "layer, shape",
    [
        (lambda: cr.nn.MaxPool2d(2), (0, 1, 8, 8)),
        (lambda: cr.nn.MaxPool1d(3, stride=2), (0, 2, 9)),
        (lambda: cr.nn.AvgPool2d(2), (0, 1, 8, 8)),
        (lambda: cr.nn.AdaptiveAvgPool1d(1), (0, 2, 9)),
    ],
)
def test_an_empty_batch_gives_empty_outputs_and_gradients(layer, shape):
    # As PyTorch: N = 0 is a valid batch (the last one of a filtered dataset, say).
    m = layer()
    x = cr.Tensor(np.zeros(shape, np.float32), requires_grad=True)
    out = m(x)
    assert out.shape[0] == 0 and out.shape[1] == shape[1]
    out.sum().backward()
    assert x.grad.shape == shape
