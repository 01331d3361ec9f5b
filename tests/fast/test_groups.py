"""Optimizers on flattened parameters (`flatten_parameters`) take the same steps as without.

When a group's parameters and gradients are consecutive views of one buffer each, `step()`
updates the whole group with one call of the rule (`chainrule.fast.groups`); these tests pin
that down against the per-parameter loop, including the awkward cases: a step where some
gradient is missing, checkpoints, flattening after the optimizer exists, several groups.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.fast.groups import find_flat_group
from chainrule.nn import Dense, ReLU, Sequential, flatten_parameters
from chainrule.optim import SGD, Adam, AdamW, RMSprop
from chainrule.optim.optimizer import FLUSH_EVERY

# every test here runs on the NumPy code and on the compiled kernels (conftest.py)
pytestmark = pytest.mark.usefixtures("both_paths")

CASES = [
    (SGD, {"lr": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (SGD, {"lr": 0.1, "momentum": 0.8, "dampening": 0.3}),
    (RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    (Adam, {"lr": 0.01}),
    (Adam, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    (AdamW, {"lr": 0.01, "weight_decay": 0.1}),
]


def net(seed=0):
    cr.set_seed(seed)
    return Sequential(Dense(4, 5, dtype=np.float64), ReLU(), Dense(5, 3, dtype=np.float64))


def data(seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(6, 4)), rng.integers(0, 3, 6)) for _ in range(8)]


def train(model, optimizer, batches, skip=None):
    """One step per batch; at step `skip` the first layer's gradients are dropped."""
    loss = cr.nn.CrossEntropyLoss()
    for i, (x, y) in enumerate(batches):
        optimizer.zero_grad()
        loss(model(cr.Tensor(x)), y).backward()
        if i == skip:
            model[0].weight.grad = None
            model[0].bias.grad = None
        optimizer.step()


def assert_same_weights(a, b, rtol=1e-12):
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-15, err_msg=name)


@pytest.mark.parametrize(("make", "kwargs"), CASES)
def test_flat_steps_equal_per_parameter_steps(make, kwargs):
    plain, flat = net(), net()
    flatten_parameters(flat)
    opt_plain, opt_flat = make(plain.parameters(), **kwargs), make(flat.parameters(), **kwargs)
    train(plain, opt_plain, data())
    train(flat, opt_flat, data())
    assert opt_flat._layouts[0].flat is not None  # the flat path was found
    assert_same_weights(plain, flat)
    sd_plain, sd_flat = opt_plain.state_dict(), opt_flat.state_dict()
    assert sd_plain["state"].keys() == sd_flat["state"].keys()
    for i, entries in sd_plain["state"].items():
        for name, value in entries.items():
            np.testing.assert_allclose(sd_flat["state"][i][name], value, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("make", "kwargs"), CASES)
def test_a_step_with_a_missing_gradient_is_taken_parameter_by_parameter(make, kwargs):
    plain, flat = net(), net()
    flatten_parameters(flat)
    opt_plain, opt_flat = make(plain.parameters(), **kwargs), make(flat.parameters(), **kwargs)
    train(plain, opt_plain, data(), skip=3)
    train(flat, opt_flat, data(), skip=3)
    assert_same_weights(plain, flat)
    steps = [s.get("step") for s in opt_flat.state.values()]
    if steps[0] is not None:  # Adam counts steps per parameter; the skipped ones lag by one
        assert steps == [7, 7, 8, 8]


def test_state_is_shared_between_the_flat_arrays_and_each_parameter():
    model = net()
    flatten_parameters(model)
    opt = Adam(model.parameters(), lr=0.01)
    train(model, opt, data()[:2])
    flat = opt._layouts[0].flat
    for p, sl in zip(model.parameters(), flat.slices, strict=True):
        m = opt.state[p]["exp_avg"]
        assert np.shares_memory(m, flat.state["exp_avg"])
        np.testing.assert_array_equal(m.ravel(order="A"), flat.state["exp_avg"][sl])
        assert m.flags.f_contiguous == p.data.flags.f_contiguous  # laid out like the weight
        assert opt.state[p]["step"] == 2


def test_checkpoint_round_trip_continues_identically():
    a, b = net(), net()
    flatten_parameters(a)
    flatten_parameters(b)
    opt_a, opt_b = Adam(a.parameters(), lr=0.01), Adam(b.parameters(), lr=0.01)
    batches = data()
    train(a, opt_a, batches[:4])
    b.load_state_dict(a.state_dict())
    opt_b.load_state_dict(opt_a.state_dict())
    train(a, opt_a, batches[4:])
    train(b, opt_b, batches[4:])
    assert_same_weights(a, b, rtol=0)


def test_flattening_after_the_optimizer_exists():
    plain, late = net(), net()
    opt_plain, opt_late = Adam(plain.parameters(), lr=0.01), Adam(late.parameters(), lr=0.01)
    batches = data()
    train(plain, opt_plain, batches[:3])
    train(late, opt_late, batches[:3])
    flatten_parameters(late)  # the optimizer's state moves into flat arrays at the next step
    train(plain, opt_plain, batches[3:])
    train(late, opt_late, batches[3:])
    assert opt_late._layouts[0].flat is not None
    assert_same_weights(plain, late)


def test_groups_are_flat_only_when_their_parameters_are_consecutive():
    model = net()
    weights = [model[0].weight, model[2].weight]
    biases = [model[0].bias, model[2].bias]
    flatten_parameters(model)  # laid out W0 b0 W2 b2: the weights are not consecutive
    assert find_flat_group(weights) is None
    flatten_parameters([*weights, *biases])  # now they are
    assert find_flat_group(weights) is not None and find_flat_group(biases) is not None
    reference = net()
    groups = [{"params": weights}, {"params": biases, "weight_decay": 0.0}]
    ref_groups = [
        {"params": [reference[0].weight, reference[2].weight]},
        {"params": [reference[0].bias, reference[2].bias], "weight_decay": 0.0},
    ]
    opt, ref = AdamW(groups, lr=0.01), AdamW(ref_groups, lr=0.01)
    train(model, opt, data())
    train(reference, ref, data())
    assert all(layout.flat is not None for layout in opt._layouts)
    assert_same_weights(model, reference)


def test_a_group_of_one_parameter_or_plain_arrays_has_no_flat_layout():
    d = Dense(2, 2)
    assert find_flat_group([d.weight, d.bias]) is None  # separate arrays
    flatten_parameters(d)
    assert find_flat_group([d.weight]) is None
    assert find_flat_group([d.bias, d.weight]) is None  # out of order
    assert find_flat_group([d.weight, d.bias]) is not None


def test_contiguous_view_covers_consecutive_parameters_only():
    from chainrule.fast.groups import contiguous_view

    model = net()
    assert contiguous_view([p.data for p in model.parameters()]) is None
    (buffer,) = flatten_parameters(model)
    view = contiguous_view([p.data for p in model.parameters()])
    assert view is not None and view.size == buffer.data.size
    assert np.shares_memory(view, buffer.data)
    view[0] = 42.0
    assert model[0].weight.data.flat[0] == 42.0
    assert contiguous_view([model[2].weight.data, model[0].weight.data]) is None
    assert contiguous_view([]) is None


def test_flush_subnormals_zeroes_only_subnormal_numbers():
    from chainrule.optim.optimizer import flush_subnormals

    for dtype in (np.float32, np.float64):
        tiny = np.finfo(dtype).tiny
        a = np.array([tiny / 4, -tiny / 1024, tiny, -tiny, 1.0, 0.0, 1e-30], dtype)
        flush_subnormals(a)
        np.testing.assert_array_equal(a, np.array([0, 0, tiny, -tiny, 1, 0, 1e-30], dtype))


def test_adam_keeps_the_averages_of_a_silent_parameter_out_of_the_subnormal_range():
    # A weight whose gradient becomes exactly 0 (a dead unit): m decays as 0.9ᵗ and would
    # spend ~150 steps as a (slow) subnormal number before reaching 0.
    p = cr.nn.Parameter(np.ones(3, np.float32))
    opt = Adam([p], lr=1e-3)
    tiny = np.finfo(np.float32).tiny
    p.grad = np.full(3, 1e-3, np.float32)
    opt.step()
    p.grad = np.zeros(3, np.float32)
    seen_subnormal_for = 0
    for _ in range(1200):
        opt.step()
        m = opt.state[p]["exp_avg"]
        if np.any((m != 0) & (np.abs(m) < tiny)):
            seen_subnormal_for += 1
    assert seen_subnormal_for < FLUSH_EVERY  # flushed at the next multiple of FLUSH_EVERY
    assert np.all(opt.state[p]["exp_avg"] == 0)
    assert np.all(np.isfinite(p.data))
