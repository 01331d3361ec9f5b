"""Conv1d / Conv2d: PyTorch parity (values and every gradient), finite differences, the dense
layer with shared sparse weights, and argument checks."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import Conv1d, Conv2d, conv_ops
from chainrule.nn.conv_ops import conv

# Every test on the NumPy code and on the compiled kernels (tests/nn/conftest.py).
pytestmark = pytest.mark.usefixtures("both_paths")

CASES_2D = [
    # (N, C, H, W, O, kernel, stride, padding, dilation, bias)
    (1, 1, 5, 5, 1, 3, 1, 0, 1, True),
    (2, 3, 7, 6, 4, (3, 2), (2, 1), (1, 0), 1, True),
    (3, 2, 9, 8, 5, 3, 2, 2, (2, 1), False),
    (1, 4, 6, 7, 3, (1, 3), 3, (0, 1), (1, 2), True),
    (2, 2, 5, 9, 2, (2, 4), 1, "same", (2, 1), True),
    (2, 3, 8, 8, 6, 3, 1, "valid", 1, True),
    (4, 1, 8, 8, 16, 3, 1, 1, 1, True),
]
CASES_1D = [
    (1, 1, 7, 1, 3, 1, 0, 1, True),
    (3, 2, 40, 5, 5, 2, 0, 1, True),
    (2, 3, 11, 4, 4, 3, 2, 2, False),
    (2, 2, 10, 3, 4, 1, "same", 3, True),
    (1, 5, 13, 2, 1, 2, 1, 1, True),
]


def _torch_conv_grads(torch, x, w, b, stride, padding, dilation, g):
    d = w.ndim - 2
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = None if b is None else torch.tensor(b, requires_grad=True)
    f = torch.nn.functional.conv1d if d == 1 else torch.nn.functional.conv2d
    out = f(xt, wt, bt, stride=stride, padding=padding, dilation=dilation)
    out.backward(torch.tensor(g))
    return (
        out.detach().numpy(),
        xt.grad.numpy(),
        wt.grad.numpy(),
        None if b is None else bt.grad.numpy(),
    )


def _ours(x, w, b, stride, padding, dilation, g):
    xt = cr.Tensor(x, requires_grad=True)
    wt = cr.nn.Parameter(w)
    bt = None if b is None else cr.nn.Parameter(b)
    out = conv(xt, wt, bt, stride, padding, dilation)
    out.backward(g)
    return out.data, xt.grad, wt.grad, None if b is None else bt.grad


def _run(case, d):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    if d == 2:
        n, c, h, wd, o, k, s, p, dl, bias = case
        kk = (k, k) if isinstance(k, int) else k
        x = rng.standard_normal((n, c, h, wd))
    else:
        n, c, length, o, k, s, p, dl, bias = case
        kk = (k,)
        x = rng.standard_normal((n, c, length))
    w = rng.standard_normal((o, c, *kk))
    b = rng.standard_normal(o) if bias else None
    f = torch.nn.functional.conv1d if d == 1 else torch.nn.functional.conv2d
    shape = f(torch.tensor(x), torch.tensor(w), stride=s, padding=p, dilation=dl).shape  # of δ
    g = rng.standard_normal(tuple(shape))
    ours = _ours(x, w, b, s, p, dl, g)
    theirs = _torch_conv_grads(torch, x, w, b, s, p, dl, g)
    for a, t in zip(ours, theirs, strict=True):
        if t is None:
            assert a is None
            continue
        assert a.shape == t.shape
        np.testing.assert_allclose(a, t, rtol=0, atol=1e-10)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("case", CASES_2D)
def test_conv2d_equals_torch(case):
    _run(case, 2)


@pytest.mark.parametrize("case", CASES_1D)
def test_conv1d_equals_torch(case):
    _run(case, 1)


def test_conv_random_shapes_equal_torch():
    """Random shapes, strides, paddings, dilations (odd sizes and batch 1 included)."""
    rng = np.random.default_rng(1)
    for _ in range(15):
        k = tuple(int(v) for v in rng.integers(1, 4, 2))
        dl = tuple(int(v) for v in rng.integers(1, 3, 2))
        s = tuple(int(v) for v in rng.integers(1, 3, 2))
        p = tuple(int(v) for v in rng.integers(0, 3, 2))
        h = int(rng.integers(dl[0] * (k[0] - 1) + 1, 10))
        w = int(rng.integers(dl[1] * (k[1] - 1) + 1, 10))
        case = (
            int(rng.integers(1, 4)),
            int(rng.integers(1, 4)),
            h,
            w,
            int(rng.integers(1, 5)),
            k,
            s,
            p,
            dl,
            bool(rng.integers(2)),
        )
        _run(case, 2)


def test_layer_state_dict_and_default_init_match_torch():
    torch = pytest.importorskip("torch")
    layer = Conv2d(3, 8, (3, 5), stride=2, padding=1, dtype=np.float64, rng=0)
    ref = torch.nn.Conv2d(3, 8, (3, 5), stride=2, padding=1).double()
    assert {k: v.shape for k, v in layer.state_dict().items()} == {
        k: tuple(v.shape) for k, v in ref.state_dict().items()
    }
    # PyTorch's default: W, b ~ U(±1/√fan_in), fan_in = C·kh·kw = 45
    bound = 1 / np.sqrt(45)
    assert np.abs(layer.weight.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.9 * bound
    assert np.abs(layer.bias.data).max() <= bound
    layer.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((2, 3, 9, 11))
    np.testing.assert_allclose(layer(x).data, ref(torch.tensor(x)).detach().numpy(), atol=1e-12)


def test_conv_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 5, 6))
    w = rng.standard_normal((3, 2, 2, 3))
    b = rng.standard_normal(3)

    def f(x, w, b):
        return (conv(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2)) ** 2).sum()

    result = cr.grad_check(f, [x, w, b])
    assert result, result.report()


def test_conv1d_gradients_match_finite_differences():
    rng = np.random.default_rng(4)
    result = cr.grad_check(
        lambda x, w: conv(x, w, None, stride=2, padding="valid").tanh().sum(),
        [rng.standard_normal((1, 2, 9)), rng.standard_normal((2, 2, 3))],
    )
    assert result, result.report()


def dense_matrix(w: np.ndarray, size: tuple[int, int], stride: int, padding: int) -> np.ndarray:
    """The (O·H'·W', C·H·W) matrix of the dense layer that computes the convolution: every
    row holds the same kernel values at the positions of its window, zeros elsewhere."""
    o, c, kh, kw = w.shape
    h, wd = size
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (wd + 2 * padding - kw) // stride + 1
    M = np.zeros((o, ho, wo, c, h, wd))
    for oc, i, j, ch, a, bb in itertools.product(
        range(o), range(ho), range(wo), range(c), range(kh), range(kw)
    ):
        r, s = i * stride + a - padding, j * stride + bb - padding
        if 0 <= r < h and 0 <= s < wd:
            M[oc, i, j, ch, r, s] = w[oc, ch, a, bb]
    return M.reshape(o * ho * wo, c * h * wd)


def test_conv_is_a_dense_layer_with_shared_sparse_weights():
    rng = np.random.default_rng(5)
    layer = Conv2d(2, 3, 3, stride=2, padding=1, bias=False, dtype=np.float64, rng=1)
    x = rng.standard_normal((4, 2, 7, 6))
    M = dense_matrix(layer.weight.data, (7, 6), 2, 1)
    out = layer(x)
    np.testing.assert_allclose(out.data.reshape(4, -1), x.reshape(4, -1) @ M.T, atol=1e-12)
    # sparse: each row has only C·kh·kw = 18 non-zeros; shared: all are weights of the kernel
    assert (np.count_nonzero(M, axis=1) <= 18).all()
    assert set(np.unique(M[M != 0])) <= set(layer.weight.data.ravel())
    # and the backward pass is the dense layer's: ∂E/∂x = δ M
    xt = cr.Tensor(x, requires_grad=True)
    g = rng.standard_normal(out.shape)
    layer(xt).backward(g)
    np.testing.assert_allclose(xt.grad.reshape(4, -1), g.reshape(4, -1) @ M, atol=1e-12)


def test_input_gradient_is_full_convolution_with_flipped_kernel():
    """Stride 1, no padding: ∂E/∂x = full convolution of δ with the flipped kernel."""
    rng = np.random.default_rng(6)
    x = cr.Tensor(rng.standard_normal((1, 1, 6, 5)), requires_grad=True)
    w = cr.nn.Parameter(rng.standard_normal((1, 1, 3, 2)))
    out = conv(x, w)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    flipped = cr.nn.Parameter(w.data[:, :, ::-1, ::-1].copy())
    full = conv(cr.Tensor(g), flipped, padding=(2, 1))
    np.testing.assert_allclose(x.grad, full.data, atol=1e-12)


def test_bad_arguments_and_inputs_are_named():
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2d(1, 2, (3, 3, 3))
    with pytest.raises(ValueError, match="stride 1"):
        Conv1d(1, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="groups"):
        Conv2d(2, 2, 3, groups=2)
    with pytest.raises(ValueError, match="in_channels"):
        Conv1d(0, 2, 3)
    layer = Conv2d(3, 2, 3)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) with C = 3"):
        layer(np.zeros((2, 1, 5, 5), np.float32))
    with pytest.raises(ValueError, match="too small"):
        layer(np.zeros((2, 3, 2, 5), np.float32))


def test_same_padding_keeps_the_size_and_he_init_uses_conv_fans():
    layer = Conv1d(4, 6, 4, padding="same", dilation=2, init="he_normal", rng=0)
    assert layer(np.zeros((2, 4, 11), np.float32)).shape == (2, 6, 11)
    assert np.all(layer.bias.data == 0)
    # He: std = √(2 / fan_in), fan_in = 4 channels × 4 taps
    assert abs(layer.weight.data.std() - np.sqrt(2 / 16)) < 0.1


def test_training_keeps_no_im2col_matrix(both_paths):
    """With the kernels, the im2col matrix (N·P × C·K: here 9× the input) is built a block of
    images at a time and rebuilt by the backward pass, never kept whole: after the forward
    pass the graph holds the output, and the backward pass needs, beyond the gradients it
    returns and δ, a workspace under half of one whole matrix (NumPy's allocations, seen by
    tracemalloc)."""
    if not both_paths:
        pytest.skip("on NumPy, im2col costs as much as the products: it runs once, kept")
    rng = np.random.default_rng(7)
    x = cr.Tensor(rng.standard_normal((64, 16, 8, 8)).astype(np.float32), requires_grad=True)
    layer = Conv2d(16, 32, 3, padding=1, rng=0)
    whole = 64 * 64 * 16 * 9 * 4  # bytes of the im2col matrix, float32
    g = np.ones((64, 32, 8, 8), np.float32)
    layer(x).backward(g)  # first call: the caches (window table, numba's dispatch)
    x.grad = layer.weight.grad = layer.bias.grad = None
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        out = layer(x)
        kept = tracemalloc.get_traced_memory()[0] - before
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out.backward(g)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert kept < out.data.nbytes + whole // 8
    returned = g.nbytes + x.data.nbytes + layer.weight.data.nbytes  # δ (out.grad), ∂E/∂x, ∂E/∂W
    assert peak < returned + whole // 2


def test_a_batch_in_blocks_equals_torch(monkeypatch):
    """Blocks of images (here one to four images each, the last one shorter; a backward pass
    run twice on a retained graph) change no value and no gradient."""
    monkeypatch.setattr(conv_ops, "BLOCK", 200)
    for case in [*CASES_2D, (5, 2, 6, 5, 3, 3, 1, 1, 1, True), (7, 1, 3, 2, 2, 2, 1, 1, True)]:
        _run(case, 2 if len(case) == 10 else 1)
    for case in CASES_1D:
        _run(case, 1)
    rng = np.random.default_rng(8)
    x = cr.Tensor(rng.standard_normal((7, 3, 5, 4)), requires_grad=True)
    layer = Conv2d(3, 4, 3, padding=1, dtype=np.float64, rng=0)
    out = layer(x)
    assert len(conv_ops.image_blocks(7, 20 * 27)) == 7
    g = rng.standard_normal(out.shape)
    out.backward(g, retain_graph=True)
    once = [t.grad.copy() for t in (x, layer.weight, layer.bias)]
    out.backward(g)
    for t, first in zip((x, layer.weight, layer.bias), once, strict=True):
        np.testing.assert_allclose(t.grad, 2 * first, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "layer, shape",
    [
        (lambda: Conv2d(1, 2, 3, padding=1), (0, 1, 8, 8)),
        (lambda: Conv1d(2, 3, 3, stride=2), (0, 2, 9)),
    ],
)
def test_an_empty_batch_gives_empty_outputs_and_gradients(layer, shape):
    # As PyTorch: N = 0 is a valid batch (the last one of a filtered dataset, say).
    m = layer()
    x = cr.Tensor(np.zeros(shape, np.float32), requires_grad=True)
    out = m(x)
    assert out.shape[0] == 0 and out.shape[1] > 0
    out.sum().backward()
    assert x.grad.shape == shape
