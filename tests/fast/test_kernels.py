"""Each compiled kernel (`chainrule.fast.kernels`) equals the NumPy code it replaces.

Both run on the same random inputs — float32 and float64, odd sizes, a batch of one, and
column-major weights as `Dense` stores them — and must agree to float32 rounding: relative
2e-6 (a few units in the last place; the kernels do each formula's operations in the NumPy
code's order, in the arrays' precision) and absolute 1e-6 for float32; 1e-12 for float64.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.fast import kernels
from chainrule.fast.updates import Workspace, adam_update_, rmsprop_update_, sgd_update_
from chainrule.nn import Parameter
from chainrule.nn.losses import cross_entropy
from chainrule.optim import SGD, Adam, AdamW, RMSprop

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba (the [fast] extra)")

DTYPES = [np.float32, np.float64]
SHAPES = [(1,), (1, 1), (7, 3), (235,), (5, 13)]
BATCHES = [(1, 1), (1, 10), (7, 3), (33, 10), (128, 17)]


def tol(dtype):
    if dtype == np.float32:
        return {"rtol": 2e-6, "atol": 1e-6}
    return {"rtol": 1e-12, "atol": 1e-14}


def both(fn):
    """fn() with the NumPy code, then with the compiled kernels."""
    with kernels.use_kernels(False):
        plain = fn()
    with kernels.use_kernels(True):
        fast = fn()
    return plain, fast


# ---------------------------------------------------------------------- optimizer steps
UPDATES = [
    (Adam, {"lr": 0.01}, adam_update_, False),
    (Adam, {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-3, "weight_decay": 0.1}, adam_update_, 0),
    (Adam, {"lr": 0.01, "amsgrad": True}, adam_update_, False),
    (AdamW, {"lr": 0.01, "weight_decay": 0.1}, adam_update_, True),
    (AdamW, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, adam_update_, True),
    (RMSprop, {"lr": 0.01}, rmsprop_update_, None),
    (RMSprop, {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01}, rmsprop_update_, None),
    (RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.5, "alpha": 0.9}, rmsprop_update_, None),
    (SGD, {"lr": 0.1}, sgd_update_, None),
    (SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}, sgd_update_, None),
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}, sgd_update_, None),
]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("cls", "options", "update", "decoupled"), UPDATES)
def test_update_kernel_equals_numpy(cls, options, update, decoupled, shape, dtype):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal(shape).astype(dtype)
    if len(shape) == 2:
        w0 = np.asfortranarray(w0)  # Dense's weights are column-major
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(40)]  # past FLUSH_EVERY
    grads[5][...] = 0  # a zero gradient: the averages decay

    def run():
        opt = cls([Parameter(w0.copy())], **options)
        group = opt.param_groups[0]
        w = w0.copy(order="K")
        state = opt._init_state(w, group)
        scratch = Workspace()
        for g in grads:
            args = (w, g, state, group, scratch) + (
                (bool(decoupled),) if decoupled is not None else ()
            )
            update(*args)
        return w, {k: v for k, v in state.items() if isinstance(v, np.ndarray)}

    (w_plain, s_plain), (w_fast, s_fast) = both(run)
    np.testing.assert_allclose(w_fast, w_plain, **tol(dtype))
    assert s_fast.keys() == s_plain.keys()
    for name in s_plain:
        np.testing.assert_allclose(s_fast[name], s_plain[name], **tol(dtype), err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("cls", "options", "update", "decoupled"), UPDATES)
def test_update_saving_the_old_weights_equals_numpy(cls, options, update, decoupled, shape, dtype):
    # With keep= (the divergence guard's copy) every step writes the weights before it into
    # keep and, compiled, tells whether the new ones are finite; the numbers are unchanged.
    rng = np.random.default_rng(4)
    w0 = rng.standard_normal(shape).astype(dtype)
    if len(shape) == 2:
        w0 = np.asfortranarray(w0)
    # past FLUSH_EVERY; laid out as w (column-major for 2-d), so the kernels run on them
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(35)]
    grads = [np.asfortranarray(g) if len(shape) == 2 else g for g in grads]
    grads[-1].flat[-1] = np.inf  # the last step makes a weight non-finite

    def run(save):
        opt = cls([Parameter(w0.copy())], **options)
        group = opt.param_groups[0]
        w = w0.copy(order="K")
        state = opt._init_state(w, group)
        scratch, keep, results = Workspace(), np.empty_like(w), []
        extra = (bool(decoupled),) if decoupled is not None else ()
        for g in grads:
            before = w.copy()
            if save:  # (the last step's inf makes NumPy warn: cr.fit silences that too)
                results.append(update(w, g, state, group, scratch, *extra, keep=keep))
                np.testing.assert_array_equal(keep, before)  # exactly the old weights
            else:
                assert update(w, g, state, group, scratch, *extra) is None
        return w, {k: v for k, v in state.items() if isinstance(v, np.ndarray)}, results

    with np.errstate(all="ignore"), kernels.use_kernels(False):
        w_plain, s_plain, _ = run(save=False)
        w_numpy, s_numpy, numpy_results = run(save=True)
    with np.errstate(all="ignore"), kernels.use_kernels(True):
        w_fast, s_fast, fast_results = run(save=True)
    assert numpy_results == [None] * len(grads)  # NumPy copies, and leaves the check
    np.testing.assert_array_equal(w_numpy, w_plain)
    assert not np.isfinite(w_plain).all()
    np.testing.assert_allclose(w_fast, w_plain, **tol(dtype))
    for name in s_plain:
        np.testing.assert_array_equal(s_numpy[name], s_plain[name], err_msg=name)
        np.testing.assert_allclose(s_fast[name], s_plain[name], **tol(dtype), err_msg=name)
    # compiled steps report True, the last False; the rest ran on NumPy (flush steps, SGD's
    # first momentum step; AMSGrad and centered RMSprop always)
    if options.get("amsgrad") or options.get("centered"):
        assert fast_results == [None] * len(grads)
    else:
        assert fast_results[-1] is False
        assert set(fast_results[:-1]) <= {True, None} and True in fast_results[:-1]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [Adam, AdamW])
def test_the_step_that_flushes_subnormal_averages_is_compiled_and_equals_numpy(
    monkeypatch, cls, dtype
):
    from chainrule.fast.updates import FLUSH_EVERY

    calls = []
    real = kernels.adam_
    monkeypatch.setattr(kernels, "adam_", lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(6)
    tiny = np.finfo(dtype).tiny
    w0, g = rng.standard_normal(101).astype(dtype), rng.standard_normal(101).astype(dtype)
    g[:60] = 0  # silent weights: their averages only decay
    # averages around the smallest normal number: some subnormal, some not, some 0, a NaN
    m0 = (rng.uniform(-4, 4, 101) * tiny).astype(dtype)
    v0 = (rng.uniform(0, 4, 101) * tiny).astype(dtype)
    m0[:3], v0[3:6], m0[7] = 0, 0, np.nan
    assert ((np.abs(m0) < tiny) & (m0 != 0)).any() and ((v0 < tiny) & (v0 != 0)).any()

    def run():
        opt = cls([Parameter(w0.copy())], lr=0.01, weight_decay=0.1)
        w, group = w0.copy(), opt.param_groups[0]
        state = {"step": FLUSH_EVERY - 1, "exp_avg": m0.copy(), "exp_avg_sq": v0.copy()}
        adam_update_(w, g, state, group, Workspace(), cls is AdamW)
        return w, state["exp_avg"], state["exp_avg_sq"]

    with np.errstate(all="ignore"):
        plain, fast = both(run)
    assert calls, "the flush step ran on NumPy"
    for a, b in zip(fast, plain, strict=True):
        np.testing.assert_allclose(a, b, **tol(dtype))
        assert ((a == 0) == (b == 0)).all()  # the same numbers flushed to 0
    for a in fast[1:]:  # m and v: no subnormal number left
        assert not ((np.abs(a) < tiny) & (a != 0)).any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("order", ["C", "F"])
def test_flush_subnormals_kernel_equals_numpy(dtype, order):
    from chainrule.fast.updates import flush_subnormals

    tiny = np.finfo(dtype).tiny
    a = np.asarray(np.random.default_rng(7).uniform(-3, 3, (17, 5)) * tiny, dtype, order=order)
    a[0, :3] = [np.nan, np.inf, -0.0]
    plain, fast = both(lambda: (flush_subnormals(b := a.copy(order="K")), b)[1])
    np.testing.assert_array_equal(fast, plain)
    assert ((plain == 0) & (a != 0)).any() and (plain != 0).any()


def test_the_optimizer_step_takes_the_compiled_path(monkeypatch):
    calls = []
    real = kernels.adam_
    monkeypatch.setattr(kernels, "adam_", lambda *a, **k: calls.append(1) or real(*a, **k))
    model = cr.nn.Sequential(cr.nn.Dense(3, 4), cr.nn.ReLU(), cr.nn.Dense(4, 2))
    model.flatten_parameters()
    opt = Adam(model.parameters())
    cross_entropy(model(np.ones((2, 3), np.float32)), [0, 1]).backward()
    with kernels.use_kernels(True):
        ones = [np.ones(2) for _ in range(4)]
        assert kernels.adam_(
            *ones, betas=(0.9, 0.9), step_size=0.1, eps=0.1, weight_decay=0, decay=1
        )
        calls.clear()
        opt.step()
    assert calls == [1]  # one call for the whole flat group


def test_the_fused_chain_runs_its_kernels_and_equals_numpy(monkeypatch):
    # dense_chain's inner calls go to the kernel module directly (kernels.unchecked, without
    # the wrappers' checks): the kernels must still run, once per layer, and equal NumPy.
    from chainrule.fast import _numba_kernels as compiled

    calls = []
    for name in ("bias_relu", "delta_and_bias_grad", "delta_and_bias_grad_in_place"):
        real = getattr(compiled, name)
        monkeypatch.setattr(
            compiled, name, lambda *a, real=real, name=name: calls.append(name) or real(*a)
        )
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 7)).astype(np.float32)

    def grads():
        cr.set_seed(0)
        model = cr.nn.Sequential(
            cr.nn.Dense(7, 6), cr.nn.ReLU(), cr.nn.Dense(6, 5), cr.nn.Tanh(), cr.nn.Dense(5, 3)
        )
        model.flatten_parameters()
        cross_entropy(model(X), [0, 2, 1, 1, 0]).backward()
        return [p.grad.copy() for p in model.parameters()]

    plain, fast = both(grads)
    assert calls.count("bias_relu") == 2  # the ReLU and the identity layers (tanh: NumPy)
    # one sweep per layer: the last layer's δ into a new array, the others' in place
    assert calls.count("delta_and_bias_grad") == 1
    assert calls.count("delta_and_bias_grad_in_place") == 2
    for g_fast, g_plain in zip(fast, plain, strict=True):
        np.testing.assert_allclose(g_fast, g_plain, **tol(np.float32))


# ---------------------------------------------------------------------- dense layers
def numpy_activation(a, act):
    if act == "relu":
        return np.maximum(a, 0)
    if act == "tanh":
        return np.tanh(a)
    if act == "sigmoid":
        return cr.autograd.ops.stable_sigmoid(a)
    return a


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BATCHES)
@pytest.mark.parametrize("act", ["relu", None])
@pytest.mark.parametrize("bias", [True, False])
def test_bias_activation_kernel_equals_numpy(act, bias, shape, dtype):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal(shape) * 30).astype(dtype)  # large values: exp must not overflow
    b = rng.standard_normal(shape[1]).astype(dtype) if bias else None
    want = numpy_activation(a + b if bias else a, act)
    got = a.copy()
    with kernels.use_kernels(True):
        assert kernels.bias_activation_(got, b, act)
    np.testing.assert_array_equal(got, want)  # exactly: the fused chain equals the ops


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BATCHES)
@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", None])
@pytest.mark.parametrize("in_place", [True, False])
def test_delta_and_bias_grad_kernel_equals_numpy(act, in_place, shape, dtype):
    rng = np.random.default_rng(2)
    g = rng.standard_normal(shape).astype(dtype)
    z = numpy_activation(rng.standard_normal(shape).astype(dtype), act)
    derivative = {"relu": z > 0, "tanh": 1 - z * z, "sigmoid": z * (1 - z), None: 1}[act]
    want = g * derivative
    want_db = want.sum(axis=0)
    out = g.copy() if in_place else np.empty_like(g)
    db = np.full(shape[1], np.nan, dtype)  # the kernel must overwrite, not add
    with kernels.use_kernels(True):
        assert kernels.delta_and_bias_grad(g.copy() if not in_place else out, z, act, out, db)
    np.testing.assert_allclose(out, want, **tol(dtype))
    np.testing.assert_allclose(
        db, want_db, rtol=tol(dtype)["rtol"] * 10, atol=tol(dtype)["atol"] * 10
    )


def test_kernels_decline_what_they_do_not_handle():
    with kernels.use_kernels(True):
        a = np.ones((4, 6), np.float32)
        assert not kernels.bias_activation_(a[:, ::2], None, "relu")  # not contiguous
        assert not kernels.bias_activation_(a.astype(np.float16), None, "relu")
        assert not kernels.bias_activation_(a, None, "tanh")  # NumPy's tanh, bit for bit
        assert not kernels.delta_and_bias_grad(a, a.astype(np.float64), "relu", a, None)
        w = np.ones(5, np.float32)
        assert not kernels.sgd_(
            w, np.ones(5), None, lr=0.1, weight_decay=0, momentum=0, dampening=0, nesterov=False
        )  # fmt: skip  (mixed dtypes)
        assert kernels.softmax_cross_entropy(a, np.zeros(4, np.int8)) is None
    with kernels.use_kernels(False):
        assert not kernels.enabled()
        assert not kernels.bias_activation_(a, None, "relu")


# ---------------------------------------------------------------------- loss
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (1, 10), (7, 3), (128, 10), (33, 17)])
@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_softmax_cross_entropy_kernel_equals_numpy(shape, scale, dtype):
    rng = np.random.default_rng(4)
    a = (rng.standard_normal(shape) * scale).astype(dtype)
    y = rng.integers(0, shape[1], shape[0])

    def run():
        x = cr.Tensor(a.copy(), requires_grad=True)
        E = cross_entropy(x, y)
        E.backward()
        return E.item(), x.grad

    (e_plain, g_plain), (e_fast, g_fast) = both(run)
    assert np.isfinite(e_fast)
    np.testing.assert_allclose(e_fast, e_plain, **tol(dtype))
    np.testing.assert_allclose(g_fast, g_plain, **tol(dtype))


def test_cross_entropy_still_checks_labels_with_the_kernel():
    with kernels.use_kernels(True), pytest.raises(ValueError, match="labels must lie"):
        cross_entropy(np.zeros((2, 3), np.float32), [0, 3])


def test_the_environment_variable_switches_the_kernels_off():
    code = "from chainrule.fast import kernels; print(kernels.enabled())"
    env = {**os.environ, "CHAINRULE_NO_NUMBA": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1, 7, 235])
@pytest.mark.parametrize("order", ["C", "F"])
def test_all_finite_finds_every_non_finite_value(size, dtype, order):
    rng = np.random.default_rng(5)
    shape = (size, 3)
    src = np.asarray((rng.standard_normal(shape) * 1e30).astype(dtype), order=order)
    with kernels.use_kernels(True):
        assert kernels.all_finite(src) is True
        for pos in {0, size // 2, size - 1}:
            for bad in (np.inf, -np.inf, np.nan):
                s = src.copy(order="K")
                s[pos, 1] = bad
                assert kernels.all_finite(s) is False
        # finite, even where a sum would overflow
        assert kernels.all_finite(np.full(size, np.finfo(dtype).max, dtype)) is True
        assert kernels.all_finite(src[:, ::2]) is None  # not contiguous: NumPy checks


def _numba_loaded_after(code: str) -> bool:
    import os
    import subprocess
    import sys

    script = f"import sys\n{code}\nprint('numba' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if k != "CHAINRULE_NO_NUMBA"}  # kernels on
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    return out.stdout.strip().endswith("True")


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_small_jobs_do_not_load_numba_and_large_ones_do() -> None:
    # Loading numba costs seconds per process. Prediction (`chainrule info`'s check, `predict`)
    # and training a small network stay on NumPy; an optimizer step over MIN_SIZE parameters
    # loads the kernels.
    job = (
        "import numpy as np\nfrom chainrule import nn, optim, Tensor\n"
        "m = nn.Sequential(nn.Dense(4, WIDTH), nn.ReLU(), nn.Dense(WIDTH, 2))\n"
        "m(Tensor(np.zeros((50_000, 4), np.float32)))\n"
        "opt = optim.Adam(m.parameters())\n"
        "nn.CrossEntropyLoss()(m(Tensor(np.ones((8, 4), np.float32))), np.zeros(8, int))"
        ".backward()\nopt.step()"
    )
    assert not _numba_loaded_after(job.replace("WIDTH", "8"))
    assert _numba_loaded_after(job.replace("WIDTH", str(kernels.MIN_SIZE // 4)))
