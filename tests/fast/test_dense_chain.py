"""The fast paths give the same numbers as the general, layer-by-layer ops.

* `Sequential` runs a chain of Dense layers and activations as one fused op
  (`chainrule.fast.dense_chain`), which must equal calling each layer's `forward`;
* `flatten_parameters` puts parameters and their gradients into flat buffers
  (`chainrule.fast.flat`);
* `cross_entropy` shifts the logits by the batch maximum when that is safe.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import (
    BatchNorm,
    Dense,
    Dropout,
    Identity,
    LeakyReLU,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    flatten_parameters,
)
from chainrule.nn import functional as F

# every test here runs on the NumPy code and on the compiled kernels (conftest.py)
pytestmark = pytest.mark.usefixtures("both_paths")

ACTS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "identity": Identity, None: None}


def mlp(sizes, acts, *, fuse=True, bias=True, dtype=np.float64, seed=0):
    """Dense layers of `sizes` with activation acts[k] after layer k (None: no module)."""
    layers = []
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(Dense(n_in, n_out, bias=bias, rng=seed + k, dtype=dtype))
        if acts[k] is not None:
            layers.append(ACTS[acts[k]]())
    return Sequential(*layers, fuse=fuse)


def twin(model):
    """The same network (same weights) recorded layer by layer."""
    other = Sequential(*[type(m)() if not isinstance(m, Dense) else m for m in model], fuse=False)
    return other


def grads_of(model, x, y, loss=None):
    for p in model.parameters():
        p.grad = None
    out = model(x)
    E = (loss or cr.nn.CrossEntropyLoss())(out, y)
    E.backward()
    return out, E, [None if p.grad is None else p.grad.copy() for p in model.parameters()]


# ---------------------------------------------------------------------- the fused chain
@pytest.mark.parametrize(
    "acts",
    [
        ("relu", "relu", None),
        ("tanh", "sigmoid", None),
        ("sigmoid", "identity", "tanh"),
        (None, "relu", "sigmoid"),
        ("relu", None, "relu"),
    ],
)
@pytest.mark.parametrize("bias", [True, False])
def test_fused_chain_equals_the_layer_by_layer_ops(acts, bias, rng):
    sizes = (5, 7, 6, 4)
    fused = mlp(sizes, acts, bias=bias)
    layered = twin(fused)
    x = rng.normal(size=(9, 5))
    y = rng.integers(0, 4, 9)
    out_f, E_f, g_f = grads_of(fused, cr.Tensor(x), y)
    out_l, E_l, g_l = grads_of(layered, cr.Tensor(x), y)
    assert out_f.op == "dense_chain" and out_l.op != "dense_chain"
    np.testing.assert_allclose(out_f.data, out_l.data, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(E_f.item(), E_l.item(), rtol=1e-12)
    for a, b in zip(g_f, g_l, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("batch", [1, 2, 13])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("flat", [False, True])
def test_fused_chain_equals_each_layers_forward_on_random_inputs(batch, dtype, flat):
    rng = np.random.default_rng(batch)
    sizes = (3, 7, 1, 5)  # odd sizes, a one-unit layer
    acts = tuple(rng.choice(["relu", "tanh", "sigmoid", "identity", None], size=3))
    fused = mlp(sizes, acts, dtype=dtype, seed=batch)
    layered = twin(fused)
    if flat:  # gradients then go into the flat buffer, partly written there by the fused op
        flatten_parameters(fused)
    x = rng.normal(size=(batch, 3)).astype(dtype)
    y = rng.integers(0, 5, batch)
    out_f, E_f, g_f = grads_of(fused, cr.Tensor(x), y)
    out_l, E_l, g_l = grads_of(layered, cr.Tensor(x), y)
    assert out_f.op == "dense_chain" and out_l.op != "dense_chain"
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-13}
    np.testing.assert_allclose(out_f.data, out_l.data, **tol)
    np.testing.assert_allclose(E_f.item(), E_l.item(), **tol)
    for a, b in zip(g_f, g_l, strict=True):
        np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("acts", [("relu", None), ("tanh", "sigmoid"), ("sigmoid", "relu")])
def test_fused_chain_passes_a_gradient_check(acts, rng, grads_match):
    model = mlp((3, 4, 2), acts)
    x = rng.normal(size=(5, 3))
    weights = rng.normal(size=(5, 2))

    # the input too: ∂E/∂x = δ⁽¹⁾ W⁽¹⁾ comes out of the fused op as well
    result = cr.grad_check(lambda x_t: (model(x_t) * weights).sum(), [x])
    assert result, result.report()
    out = model(cr.Tensor(x))
    assert out.op == "dense_chain"
    grads_match(lambda: (model(cr.Tensor(x)) * weights).sum(), list(model.parameters()))


def test_fused_chain_input_gradient_and_shared_weights(rng):
    shared = Dense(4, 4, rng=1, dtype=np.float64)
    fused = Sequential(shared, Tanh(), shared, ReLU(), Dense(4, 2, rng=2, dtype=np.float64))
    layered = Sequential(*fused, fuse=False)
    x_data = rng.normal(size=(6, 4))
    grads = []
    for model in (fused, layered):
        x = cr.Tensor(x_data, requires_grad=True)
        for p in model.parameters():
            p.grad = None
        out = model(x)
        (out * out).sum().backward()
        grads.append([x.grad, *[p.grad for p in model.parameters()]])
    assert len(grads[0]) == 1 + 4  # x, the shared W and b (listed once), the last layer's
    for a, b in zip(*grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


def test_frozen_parameters_get_no_gradient(rng):
    model = mlp((3, 4, 2), ("relu", None))
    model[0].weight.requires_grad = False
    out, _, _ = grads_of(model, cr.Tensor(rng.normal(size=(5, 3))), np.array([0, 1, 1, 0, 1]))
    assert out.op == "dense_chain"
    assert model[0].weight.grad is None
    assert model[0].bias.grad is not None


def test_fused_inference_equals_layer_by_layer(rng):
    model = mlp((6, 5, 3), ("relu", None), dtype=np.float32)
    x = rng.normal(size=(10, 6)).astype(np.float32)
    with cr.no_grad():
        fast = model(x)
        slow = twin(model)(x)
    assert not fast.requires_grad and fast.dtype == np.float32
    np.testing.assert_array_equal(fast.data, slow.data)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Sequential(Dense(3, 4), Dropout(0.5), Dense(4, 2)),
        lambda: Sequential(Dense(3, 4), BatchNorm(4), ReLU(), Dense(4, 2)),
        lambda: Sequential(Dense(3, 4), LeakyReLU(), Dense(4, 2)),
        lambda: Sequential(ReLU(), Dense(3, 2)),
        lambda: Sequential(Dense(3, 4), ReLU(), ReLU(), Dense(4, 2)),
        lambda: Sequential(Dense(3, 4), type("MyReLU", (ReLU,), {})(), Dense(4, 2)),
        lambda: Sequential(Dense(3, 4), ReLU(), Dense(4, 2), fuse=False),
    ],
)
def test_other_chains_run_layer_by_layer(build, rng):
    model = build()
    out = model(cr.Tensor(rng.normal(size=(5, 3)).astype(np.float32)))
    assert out.op != "dense_chain"


def test_inputs_the_fused_op_does_not_take_fall_back(rng):
    model = mlp((3, 4, 2), ("relu", None), dtype=np.float32)
    batch3d = cr.Tensor(rng.normal(size=(2, 5, 3)).astype(np.float32))
    assert model(batch3d).shape == (2, 5, 2)  # (..., in) inputs, as Dense accepts
    mixed = model(rng.normal(size=(5, 3)))  # float64 input, float32 weights
    assert mixed.op != "dense_chain" and mixed.dtype == np.float64
    assert model[0:3].fuse and not Sequential(*model, fuse=False)[0:3].fuse


# ---------------------------------------------------------------------- flat parameters
def test_flatten_keeps_values_and_makes_views():
    model = mlp((4, 3, 2), ("relu", None), dtype=np.float32)
    before = model.state_dict()
    (buffer,) = flatten_parameters(model)
    assert buffer.data.size == sum(p.data.size for p in model.parameters()) == 4 * 3 + 3 + 3 * 2 + 2
    for p in model.parameters():
        assert np.shares_memory(p.data, buffer.data)
        assert np.shares_memory(p._grad_buffer, buffer.grad)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    model.load_state_dict({k: v + 1 for k, v in before.items()})
    # Dense keeps W column-major (W.T row-major, for faster products), in the buffer too
    assert model[0].weight.data.flags.f_contiguous and model[0].weight.grad is None
    assert model[0].weight._grad_buffer.flags.f_contiguous
    np.testing.assert_array_equal(buffer.data[:12], (before["0.weight"] + 1).ravel(order="F"))


def test_flat_gradients_equal_plain_ones_and_land_in_the_buffer(rng):
    plain = mlp((5, 6, 3), ("tanh", None))
    flat = mlp((5, 6, 3), ("tanh", None))
    (buffer,) = flatten_parameters(flat)
    x, y = cr.Tensor(rng.normal(size=(7, 5))), rng.integers(0, 3, 7)
    for fuse in (True, False):
        plain.fuse = flat.fuse = fuse
        _, _, g_plain = grads_of(plain, x, y)
        _, _, g_flat = grads_of(flat, x, y)
        for p, a, b in zip(flat.parameters(), g_flat, g_plain, strict=True):
            assert p.grad is p._grad_buffer  # the optimizer can read all of them at once
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
        offset = 0
        for p in flat.parameters():
            stored = buffer.grad[offset : offset + p.data.size]
            np.testing.assert_array_equal(stored, p.grad.ravel(order="A"))  # memory order
            offset += p.data.size


def test_flat_gradients_accumulate_across_backward_calls(rng):
    model = mlp((3, 4, 2), ("relu", None))
    flatten_parameters(model)
    x, y = cr.Tensor(rng.normal(size=(5, 3))), rng.integers(0, 2, 5)
    _, _, once = grads_of(model, x, y)
    loss = cr.nn.CrossEntropyLoss()
    loss(model(x), y).backward()  # no zero_grad: adds to the buffers in place
    for p, g in zip(model.parameters(), once, strict=True):
        assert p.grad is p._grad_buffer
        np.testing.assert_allclose(p.grad, 2 * g, rtol=1e-12)
    E = loss(model(x), y)
    E.backward(retain_graph=True)
    E.backward()
    for p, g in zip(model.parameters(), once, strict=True):
        np.testing.assert_allclose(p.grad, 4 * g, rtol=1e-12)


def test_a_parameter_used_twice_sums_both_contributions(rng):
    d = Dense(3, 3, rng=0, dtype=np.float64)
    flatten_parameters(d.parameters())
    x = cr.Tensor(rng.normal(size=(4, 3)))
    for p in d.parameters():
        p.grad = None
    E = (d(d(x)) ** 2).sum() + (d.weight * d.weight).sum()  # W reaches E three ways
    E.backward()
    W, b = d.weight.data, d.bias.data
    h = x.data @ W.T + b
    out = h @ W.T + b
    g_out = 2 * out
    expected = g_out.T @ h + (g_out @ W).T @ x.data + 2 * W
    np.testing.assert_allclose(d.weight.grad, expected, rtol=1e-10)
    assert d.weight.grad is d.weight._grad_buffer


def test_a_gradient_set_by_hand_is_added_to(rng):
    d = Dense(2, 2, rng=0, dtype=np.float64)
    flatten_parameters(d)
    d.weight.grad = np.ones((2, 2))
    (d(cr.Tensor(np.eye(2))).sum()).backward()
    np.testing.assert_allclose(d.weight.grad, 2 * np.ones((2, 2)))  # 1 + ∂E/∂W = 1 + 1
    assert d.weight.grad is d.weight._grad_buffer


def test_flatten_groups_dtypes_and_rejects_bad_input():
    a, b = Dense(2, 2, dtype=np.float32), Dense(2, 2, dtype=np.float64)
    buffers = flatten_parameters([*a.parameters(), *b.parameters()])
    assert [buf.data.dtype for buf in buffers] == [np.float32, np.float64]
    assert Sequential(a).flatten_parameters() is not None
    with pytest.raises(ValueError, match="no parameters"):
        flatten_parameters(ReLU())
    with pytest.raises(ValueError, match="twice"):
        flatten_parameters([a.weight, a.weight])
    with pytest.raises(ValueError, match="Parameters"):
        flatten_parameters([cr.Tensor(1.0, requires_grad=True)])


# ---------------------------------------------------------------------- cross-entropy shift
def _reference_ce(a, y):
    m = a.max(axis=1, keepdims=True)
    lse = np.log(np.exp(a - m).sum(axis=1)) + m[:, 0]
    p = np.exp(a - m)
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(a.shape[1])[y]
    return np.mean(lse - a[np.arange(len(y)), y]), (p - onehot) / len(y)


@pytest.mark.parametrize("spread", [1.0, 30.0, 80.0, 500.0])
def test_cross_entropy_agrees_with_per_row_shift_for_any_spread(spread, rng):
    # Rows whose logits lie far below the batch's maximum take the per-row path.
    a = rng.normal(size=(8, 5)) * 3 + rng.uniform(-spread, spread, size=(8, 1))
    y = rng.integers(0, 5, 8)
    t = cr.Tensor(a, requires_grad=True)
    E = F.cross_entropy(t, y)
    E.backward()
    value, grad = _reference_ce(a, y)
    np.testing.assert_allclose(E.item(), value, rtol=1e-12)
    np.testing.assert_allclose(t.grad, grad, rtol=1e-9, atol=1e-15)


def test_cross_entropy_float32_far_apart_rows_stay_finite():
    a = np.array([[0.0, 1.0, 2.0], [-300.0, -299.0, -310.0]], np.float32)
    t = cr.Tensor(a, requires_grad=True)
    E = F.cross_entropy(t, np.array([2, 0]))
    E.backward()
    value, grad = _reference_ce(a.astype(np.float64), np.array([2, 0]))
    np.testing.assert_allclose(E.item(), value, rtol=1e-6)
    np.testing.assert_allclose(t.grad, grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("fuse", [True, False])
@pytest.mark.parametrize("flat", [True, False])
def test_weight_memory_layout_changes_no_number(fuse, flat, rng):
    # Dense stores W column-major for speed; a row-major W (e.g. assigned by a user) must
    # give the same outputs, gradients and optimizer steps.
    col = mlp((5, 4, 3), ("relu", None), fuse=fuse)
    row = mlp((5, 4, 3), ("relu", None), fuse=fuse)
    for d in (row[0], row[2]):
        d.weight = cr.nn.Parameter(np.ascontiguousarray(d.weight.data))
    assert col[0].weight.data.flags.f_contiguous and row[0].weight.data.flags.c_contiguous
    opts = []
    for model in (col, row):
        if flat:
            flatten_parameters(model)
        opts.append(cr.optim.Adam(model.parameters(), lr=0.01))
    x, y = cr.Tensor(rng.normal(size=(6, 5))), rng.integers(0, 3, 6)
    for _ in range(3):
        grads = []
        for model, opt in zip((col, row), opts, strict=True):
            opt.zero_grad()
            cr.nn.CrossEntropyLoss()(model(x), y).backward()
            grads.append([p.grad.copy() for p in model.parameters()])
            opt.step()
        for a, b in zip(*grads, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    for a, b in zip(col.state_dict().values(), row.state_dict().values(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert col[0].weight.data.flags.f_contiguous  # kept through flattening and updates
