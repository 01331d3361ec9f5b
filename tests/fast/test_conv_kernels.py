"""The compiled convolution and pooling kernels (`chainrule.fast.conv_kernels`) equal the NumPy
code they replace, and numba is loaded only by enough training work.

Data movement is compared exactly (`assert_array_equal`): the kernels copy the same numbers
and add them in the NumPy code's order. The one stated exception is max-pool's backward over
overlapping windows, summed in the input's precision where NumPy's bincount uses float64:
there float32 agrees to rtol 1e-6 (float64 to 1e-15). Random shapes, strides, paddings
(asymmetric "same" included), dilations, odd sizes, batch 1, float32 and float64, 1-d and 2-d.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.fast import conv_kernels, kernels
from chainrule.nn.conv_ops import _col2im, _im2col, conv, out_size, pad_pairs
from chainrule.nn.pool_ops import max_pool

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba (the [fast] extra)")

DTYPES = [np.float32, np.float64]


def _geometries(d: int, count: int, seed: int):
    """Random (shape, kernel, stride, padding pairs, dilation) with a non-empty output."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        k = tuple(int(v) for v in rng.integers(1, 4, d))
        s = tuple(int(v) for v in rng.integers(1, 3, d))
        dl = tuple(int(v) for v in rng.integers(1, 3, d))
        if rng.random() < 0.2:
            pads = pad_pairs("same", k, (1,) * d, dl)  # asymmetric for even spans
            s = (1,) * d
        else:
            pads = tuple((p, p) for p in (int(v) for v in rng.integers(0, 3, d)))
        size = tuple(int(v) for v in rng.integers(1, 10, d))
        n, c = (1, int(rng.integers(1, 4))) if len(out) % 4 == 0 else tuple(rng.integers(1, 5, 2))
        try:
            osz = out_size(size, k, s, pads, dl)
        except ValueError:
            continue
        out.append(((int(n), int(c), *size), k, s, pads, dl, osz))
    return out


CASES = [g for d in (1, 2) for g in _geometries(d, 12, seed=d)]


@pytest.fixture
def loaded():
    """The kernels loaded and on for the test, as `use_kernels(True)` leaves them."""
    with kernels.use_kernels(True):
        assert conv_kernels._conv() is not None
        yield


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_im2col_and_col2im_equal_numpy(case, dtype, loaded):
    shape, k, s, pads, dl, osz = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    low = tuple(lo for lo, _ in pads)
    cols = conv_kernels.im2col(x, k, s, low, dl, osz)
    expected = _im2col(x, k, s, pads, dl, int(np.prod(osz)))
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, expected)
    dcols = rng.standard_normal(cols.shape).astype(dtype)
    gx = conv_kernels.col2im(dcols, shape, k, s, low, dl, osz)
    np.testing.assert_array_equal(gx, _col2im(dcols, shape, k, s, pads, dl, osz))


@pytest.mark.parametrize("dtype", DTYPES)
def test_layout_kernels_equal_numpy(dtype, loaded):
    rng = np.random.default_rng(1)
    for n, o, osz in [(1, 1, (1,)), (3, 5, (7,)), (2, 4, (3, 5)), (1, 7, (2, 1))]:
        p = int(np.prod(osz))
        rows = rng.standard_normal((n * p, o)).astype(dtype)
        b = rng.standard_normal(o).astype(dtype)
        want = np.moveaxis((rows + b).reshape(n, *osz, o), -1, 1)
        got = conv_kernels.rows_to_channels(rows, b, n, p).reshape(want.shape)
        np.testing.assert_array_equal(got, want)
        got = conv_kernels.rows_to_channels(rows, None, n, p).reshape(want.shape)
        np.testing.assert_array_equal(got, np.moveaxis(rows.reshape(n, *osz, o), -1, 1))
        g = rng.standard_normal((n, o, *osz)).astype(dtype)
        np.testing.assert_array_equal(
            conv_kernels.channels_to_rows(g), np.moveaxis(g, 1, -1).reshape(n * p, o)
        )


def _pool_cases():
    """Max-pool geometries: padding at most half the kernel, as the layers require."""
    for shape, k, s, pads, dl, _ in CASES:
        pad = tuple(min(lo, kk // 2) for (lo, _), kk in zip(pads, k, strict=True))
        try:
            osz = out_size(shape[2:], k, s, tuple((p, p) for p in pad), dl)
        except ValueError:
            continue
        yield shape, k, s, pad, dl, osz


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(_pool_cases()))
def test_max_pool_equals_numpy(case, dtype):
    shape, k, s, pad, dl, osz = case
    d = len(k)
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[:: max(1, x.size // 3)] = x.flat[0]  # ties: the first maximum wins
    g = rng.standard_normal((shape[0], shape[1], *osz)).astype(dtype)

    def run():
        xt = cr.Tensor(x, requires_grad=True)
        out = max_pool(xt, d, k, s, pad, dl)
        out.backward(g)
        return out.data, xt.grad

    with kernels.use_kernels(False):
        want, want_grad = run()
    with kernels.use_kernels(True):
        got, got_grad = run()
    np.testing.assert_array_equal(got, want)
    span = [dd * (kk - 1) + 1 for kk, dd in zip(k, dl, strict=True)]
    if all(ss >= sp for ss, sp in zip(s, span, strict=True)):  # windows do not overlap
        np.testing.assert_array_equal(got_grad, want_grad)
    else:
        tol = 1e-6 if dtype == np.float32 else 1e-15
        np.testing.assert_allclose(got_grad, want_grad, rtol=tol, atol=tol)


def test_max_pool_nan_and_padding_as_numpy():
    x = np.array([[[[1.0, np.nan, 3.0, np.nan], [-np.inf, -np.inf, 0.0, 2.0]]]])
    x = np.concatenate([x, x[..., ::-1]], axis=1)
    outs = []
    for flag in (False, True):
        with kernels.use_kernels(flag):
            xt = cr.Tensor(x, requires_grad=True)
            out = max_pool(xt, 2, 2, 1, 1)
            out.backward(np.arange(out.data.size, dtype=float).reshape(out.shape) + 1)
            outs.append((out.data, xt.grad))
    np.testing.assert_array_equal(outs[1][0], outs[0][0])
    np.testing.assert_array_equal(outs[1][1], outs[0][1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_convolution_gives_the_same_numbers_with_the_kernels(dtype):
    """Same data movement, same BLAS products: the whole op agrees exactly."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 7, 6)).astype(dtype)
    w = rng.standard_normal((5, 4, 3, 2)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)

    def run():
        xt = cr.Tensor(x, requires_grad=True)
        wt, bt = cr.nn.Parameter(w), cr.nn.Parameter(b)
        out = conv(xt, wt, bt, stride=(2, 1), padding=(1, 0), dilation=(1, 2))
        out.backward(np.ones(out.shape, dtype))
        return out.data, xt.grad, wt.grad, bt.grad

    with kernels.use_kernels(False):
        want = run()
    with kernels.use_kernels(True):
        got = run()
    for a, e in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, e)


def test_unsupported_dtypes_fall_back_to_numpy(loaded):
    x = np.ones((1, 1, 4, 4), dtype=np.float16)
    assert conv_kernels.im2col(x, (2, 2), (1, 1), (0, 0), (1, 1), (3, 3)) is None
    assert conv_kernels.max_pool_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), (2, 2)) is None
    out = max_pool(cr.Tensor(x), 2, 2)
    assert out.data.dtype == np.float16 and out.data.shape == (1, 1, 2, 2)


# ---------------------------------------------------------------------- when numba loads
@pytest.fixture
def unloaded(monkeypatch):
    """As a fresh process with numba not yet loaded, and a small `LOAD_AFTER`."""
    monkeypatch.setattr(kernels, "_module", None)
    monkeypatch.setattr(kernels, "_enabled", True)
    monkeypatch.setattr(conv_kernels, "_module", None)
    monkeypatch.setattr(conv_kernels, "_work", 0)
    monkeypatch.setattr(conv_kernels, "LOAD_AFTER", 1000)


def _step(model, x):
    model(cr.Tensor(x)).sum().backward()


def test_training_loads_the_kernels_after_load_after_numbers(unloaded):
    model = cr.nn.Sequential(cr.nn.Conv2d(1, 2, 3, padding=1), cr.nn.Conv2d(2, 2, 3))
    x = np.ones((2, 1, 5, 5), np.float32)
    with cr.no_grad():
        for _ in range(20):
            model(cr.Tensor(x))  # predicting moves numbers too, but never loads numba
    assert conv_kernels._module is None and conv_kernels._work == 0
    _step(model, x)  # im2col matrices of 2·25·9 and 2·9·18 numbers: 774 < 1000
    assert conv_kernels._module is None and conv_kernels._work == 774
    _step(model, x)
    assert conv_kernels._module is not None  # 1,548 ≥ 1000: loaded, used from here on


def test_kernels_switched_off_never_load(unloaded, monkeypatch):
    monkeypatch.setattr(kernels, "_enabled", False)
    model = cr.nn.Conv2d(1, 2, 3)
    for _ in range(3):
        _step(model, np.ones((4, 1, 9, 9)))
    assert conv_kernels._module is None


def test_a_short_cnn_job_does_not_import_numba():
    """In a fresh process: predicting many images and a few training steps stay on NumPy."""
    import os
    import subprocess
    import sys

    script = (
        "import sys\nimport numpy as np\nimport chainrule as cr\nnn = cr.nn\n"
        "m = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),"
        " nn.Flatten(), nn.Dense(128, 3))\n"
        "with cr.no_grad():\n    m(cr.Tensor(np.zeros((2000, 1, 8, 8), np.float32)))\n"
        "opt = cr.optim.Adam(m.parameters())\nfor _ in range(5):\n"
        "    nn.CrossEntropyLoss()(m(cr.Tensor(np.ones((64, 1, 8, 8), np.float32))),"
        " np.zeros(64, int)).backward()\n    opt.step()\n"
        "print('numba' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "CHAINRULE_NO_NUMBA"}  # kernels on
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True,
        timeout=120, env=env,
    )  # fmt: skip
    assert out.stdout.strip().endswith("False")


def test_kernels_write_into_given_arrays_the_same_numbers(loaded):
    """`out=`: what a convolution uses to rewrite one block buffer block after block."""
    shape, k, s, pads, dl, osz = CASES[5]
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape)
    low = tuple(lo for lo, _ in pads)
    want = conv_kernels.im2col(x, k, s, low, dl, osz)
    into = np.full((want.shape[0] + 3, want.shape[1]), np.nan)[: want.shape[0]]
    assert np.shares_memory(conv_kernels.im2col(x, k, s, low, dl, osz, into), into)
    np.testing.assert_array_equal(into, want)
    dcols = rng.standard_normal(want.shape)
    gx = np.full(shape, np.nan)
    assert conv_kernels.col2im(dcols, shape, k, s, low, dl, osz, gx) is gx
    np.testing.assert_array_equal(gx, conv_kernels.col2im(dcols, shape, k, s, low, dl, osz))
    rows, b = rng.standard_normal((6, 4)), rng.standard_normal(4)
    res = np.full((2, 4, 3), np.nan)
    assert conv_kernels.rows_to_channels(rows, b, 2, 3, res) is res
    np.testing.assert_array_equal(res, conv_kernels.rows_to_channels(rows, b, 2, 3))


def test_running_says_whether_the_kernels_run_for_a_dtype(loaded):
    assert conv_kernels.running(np.float32) and conv_kernels.running(np.dtype(np.float64))
    assert not conv_kernels.running(np.float16)
    with kernels.use_kernels(False):
        assert not conv_kernels.running(np.float32)
