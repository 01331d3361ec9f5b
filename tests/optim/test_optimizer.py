"""The `Optimizer` contract, checked for every optimizer and option: in-place updates, groups,
zero_grad, state_dict round trips, the name table, input validation, minimising a quadratic."""

from __future__ import annotations

import io
import json
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.parameter import Parameter
from chainrule.optim import OPTIMIZERS, SGD, Adam, AdamW, Optimizer, RMSprop, make_optimizer

CONFIGS = [
    (SGD, {"lr": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (SGD, {"lr": 0.1, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1}),
    (RMSprop, {"lr": 0.01}),
    (RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    (Adam, {"lr": 0.01}),
    (Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    (AdamW, {"lr": 0.01}),
    (AdamW, {"lr": 0.01, "amsgrad": True, "betas": (0.5, 0.9)}),
]
IDS = [f"{cls.__name__}-{'-'.join(map(str, kw.values()))}" for cls, kw in CONFIGS]


def make_params(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [
        Parameter(rng.normal(size=(3, 2)), dtype=dtype),
        Parameter(rng.normal(size=4), dtype=dtype),
    ]


def run(opt, params, n_steps, seed=1):
    """n_steps with pseudo-random gradients (the same for the same seed)."""
    rng = np.random.default_rng(seed)
    for _ in range(n_steps):
        for p in params:
            p.grad = rng.normal(size=p.shape).astype(p.dtype)
        opt.step()


# ---------------------------------------------------------------------- in-place updates
@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_updates_in_place_keep_dtype_and_never_write_grad(cls, kwargs):
    params = make_params(np.float32)
    arrays = [p.data for p in params]
    before = [p.data.copy() for p in params]
    opt = cls(params, **kwargs)
    rng = np.random.default_rng(0)
    for _ in range(3):
        grads = [rng.normal(size=p.shape).astype(np.float32) for p in params]
        saved = [g.copy() for g in grads]
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        opt.step()
        for p, g, s in zip(params, grads, saved, strict=True):
            assert p.grad is g  # the gradient array is neither replaced ...
            np.testing.assert_array_equal(g, s)  # ... nor written into
    for p, a, b in zip(params, arrays, before, strict=True):
        assert p.data is a  # never rebound
        assert p.data.dtype == np.float32
        assert not np.array_equal(p.data, b)  # but it did move
    for state in opt.state.values():
        for value in state.values():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32


@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_parameters_that_are_views_into_one_flat_buffer(cls, kwargs):
    flat = np.zeros(10)
    views = [flat[:6].reshape(3, 2), flat[6:]]
    separate = [Parameter(np.zeros_like(v)) for v in views]
    params = [Parameter(v) for v in views]
    assert all(p.data.base is flat for p in params)
    run(cls(params, **kwargs), params, 4)
    run(cls(separate, **kwargs), separate, 4)
    # the flat buffer saw every update, identical to the unshared parameters'
    np.testing.assert_array_equal(flat, np.concatenate([p.data.ravel() for p in separate]))


@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_a_gradient_array_shared_by_two_parameters(cls, kwargs):
    a, b = Parameter(np.ones(3)), Parameter(np.ones(3))
    a_alone = Parameter(np.ones(3))
    opt, opt_alone = cls([a, b], **kwargs), cls([a_alone], **kwargs)
    for g in ([0.5, -1.0, 2.0], [1.0, 1.0, -3.0]):
        shared = np.array(g)
        a.grad = b.grad = shared
        a_alone.grad = np.array(g)
        opt.step()
        opt_alone.step()
        np.testing.assert_array_equal(shared, g)
    np.testing.assert_array_equal(a.data, a_alone.data)
    np.testing.assert_array_equal(b.data, a_alone.data)


@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_a_step_allocates_no_arrays_after_the_first(cls, kwargs):
    p = Parameter(np.ones(100_000))  # 800 kB: any temporary array would show
    p.grad = np.full(100_000, 0.5)
    opt = cls([p], **kwargs)
    opt.step()
    opt.step()
    tracemalloc.start()
    try:
        opt.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000


def test_parameters_without_gradient_are_skipped():
    a, b = Parameter(np.array([1.0, 2.0])), Parameter(np.array([3.0]))
    opt = Adam([a, b], lr=0.1)
    a.grad = np.array([1.0, -1.0])
    opt.step()
    np.testing.assert_array_equal(b.data, [3.0])
    assert b not in opt.state
    assert opt.state[a]["step"] == 1


def test_zero_grad_sets_gradients_to_none():
    params = make_params()
    for p in params:
        p.grad = np.ones(p.shape)
    SGD(params, lr=0.1).zero_grad()
    assert all(p.grad is None for p in params)


def test_step_with_closure_returns_its_loss():
    w = Parameter(np.array([3.0]))
    opt = SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()  # E = w², ∂E/∂w = 2w = 6
        loss.backward()
        return loss.item()

    assert opt.step(closure) == 9.0
    np.testing.assert_allclose(w.data, [3.0 - 0.25 * 6.0])


def test_gradient_of_the_wrong_shape():
    p = Parameter(np.zeros(3))
    p.grad = np.zeros(4)
    with pytest.raises(ValueError, match=r"gradient of shape \(4,\)"):
        SGD([p], lr=0.1).step()


# ---------------------------------------------------------------------- parameter groups
def test_groups_have_their_own_learning_rates():
    a, b = Parameter(np.array([1.0, 1.0])), Parameter(np.array([1.0]))
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.0  # filled from the defaults
    a.grad, b.grad = np.array([1.0, -2.0]), np.array([4.0])
    opt.step()
    np.testing.assert_allclose(a.data, [1.0 - 0.1 * 1.0, 1.0 + 0.1 * 2.0])
    np.testing.assert_allclose(b.data, [1.0 - 0.5 * 4.0])


def test_params_may_be_a_generator_and_groups_can_be_added():
    params = make_params()
    opt = Adam(p for p in params[:1])
    opt.add_param_group({"params": params[1], "lr": 0.1})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["params"] == [params[1]]
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (Parameter(np.zeros(2)), "single Tensor"),
        ({"params": [Parameter(np.zeros(2))]}, "single dict"),
        ([], "empty parameter list"),
        ([np.zeros(2)], "must be Tensors"),
        ([{"params": []}], "empty 'params'"),
        ([{"lr": 0.1}], "'params' entry"),
        ([{"params": [Parameter(np.zeros(2))], "momentun": 0.9}], r"unknown .*momentun"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        SGD(params, lr=0.1)


def test_duplicate_non_leaf_and_integer_params_are_rejected():
    p = Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="more than once"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="floating"):
        SGD([cr.Tensor(np.zeros(2, dtype=np.int64), dtype=np.int64)], lr=0.1)


# ---------------------------------------------------------------------- hyperparameter checks
@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (SGD, {"lr": -0.1}, "lr"),
        (SGD, {"lr": float("nan")}, "lr must be finite"),
        (SGD, {"lr": "0.1"}, "lr must be a number"),
        (SGD, {"lr": 0.1, "momentum": -0.5}, "momentum"),
        (SGD, {"lr": 0.1, "weight_decay": -1.0}, "weight_decay"),
        (SGD, {"lr": 0.1, "dampening": 1.5}, "dampening"),
        (SGD, {"lr": 0.1, "nesterov": True}, "Nesterov"),
        (SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, "Nesterov"),
        (SGD, {"lr": 0.1, "nesterov": "yes"}, "nesterov must be True or False"),
        (RMSprop, {"alpha": 1.0}, "alpha"),
        (RMSprop, {"alpha": -0.1}, "alpha"),
        (RMSprop, {"eps": -1e-8}, "eps"),
        (RMSprop, {"momentum": -0.1}, "momentum"),
        (RMSprop, {"centered": 1}, "centered"),
        (Adam, {"betas": (0.9, 1.0)}, "beta2"),
        (Adam, {"betas": (-0.1, 0.999)}, "beta1"),
        (Adam, {"betas": (0.9,)}, "pair"),
        (Adam, {"eps": -1.0}, "eps"),
        (Adam, {"weight_decay": -0.01}, "weight_decay"),
        (AdamW, {"lr": -1e-3}, "lr"),
        (AdamW, {"amsgrad": None}, "amsgrad"),
    ],
)
def test_invalid_hyperparameters(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([Parameter(np.zeros(2))], **kwargs)


def test_invalid_hyperparameter_in_a_group():
    with pytest.raises(ValueError, match=r"invalid lr=-1\.0"):
        Adam([{"params": [Parameter(np.zeros(2))], "lr": -1.0}])


# ---------------------------------------------------------------------- state_dict
def to_npz_and_json(state_dict):
    """Save as a checkpoint would (arrays to .npz, the rest to JSON) and load it back."""
    arrays, meta = {}, {"param_groups": state_dict["param_groups"], "state": {}}
    for index, entries in state_dict["state"].items():
        meta["state"][index] = {}
        for name, value in entries.items():
            if isinstance(value, np.ndarray):
                arrays[f"{index}/{name}"] = value
                meta["state"][index][name] = None
            else:
                meta["state"][index][name] = value
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as npz:
        loaded = {key: npz[key] for key in npz.files}
    meta = json.loads(json.dumps(meta))  # keys become strings, tuples lists
    for index, entries in meta["state"].items():
        for name in entries:
            if entries[name] is None:
                entries[name] = loaded[f"{index}/{name}"]
    return meta


@pytest.mark.parametrize("through_files", [False, True])
@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_state_dict_round_trip_continues_identically(cls, kwargs, through_files):
    params = make_params()
    opt = cls(params, **kwargs)
    run(opt, params, 3, seed=1)
    saved = opt.state_dict()
    saved_weights = [p.data.copy() for p in params]
    run(opt, params, 4, seed=2)  # the uninterrupted run

    resumed = [Parameter(w) for w in saved_weights]
    opt2 = cls(resumed, lr=123.0) if cls is SGD else cls(resumed)
    opt2.load_state_dict(to_npz_and_json(saved) if through_files else saved)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    run(opt2, resumed, 4, seed=2)
    for p, q in zip(params, resumed, strict=True):
        np.testing.assert_array_equal(p.data, q.data)  # bit for bit


def test_state_dict_is_a_snapshot_of_plain_values():
    params = make_params()
    opt = Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.1}])
    run(opt, params, 2)
    sd = opt.state_dict()
    assert sd["param_groups"] == [
        {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
         "params": [0]},
        {"lr": 0.1, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
         "params": [1]},
    ]  # fmt: skip
    assert sorted(sd["state"]) == [0, 1]
    assert sd["state"][1]["step"] == 2
    m = sd["state"][0]["exp_avg"].copy()
    run(opt, params, 1)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], m)  # not changed by training


def test_state_dict_before_any_step_has_no_state():
    opt = SGD(make_params(), lr=0.1, momentum=0.9)
    assert opt.state_dict()["state"] == {}
    opt.load_state_dict(opt.state_dict())
    assert opt.state == {}


def good_state_dict():
    params = make_params()
    opt = Adam(params, amsgrad=False)
    run(opt, params, 1)
    return opt.state_dict()


def adam_state_dict_cases():
    def edit(fn):
        sd = good_state_dict()
        fn(sd)
        return sd

    return [
        ([1, 2], "must be a dict"),
        ({"state": {}}, "must be a dict with"),
        (edit(lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0]))), "2 parameter"),
        (edit(lambda sd: sd["param_groups"][0].update(params=[0])), "1 parameters"),
        (edit(lambda sd: sd["param_groups"][0].pop("eps")), "hyperparameters"),
        (edit(lambda sd: sd["param_groups"][0].update(momentum=0.9)), "hyperparameters"),
        (edit(lambda sd: sd["param_groups"][0].update(lr=-1.0)), "lr"),
        (edit(lambda sd: sd["state"].update({5: {}})), "parameter number 5"),
        (edit(lambda sd: sd["state"].update({"x": {}})), "parameter numbers"),
        (edit(lambda sd: sd["state"][0].update(momentum_buffer=np.zeros((3, 2)))), "unknown"),
        (edit(lambda sd: sd["state"][0].pop("exp_avg_sq")), "missing .*exp_avg_sq"),
        (edit(lambda sd: sd["state"][0].update(exp_avg=np.zeros(6))), r"shape \(6,\)"),
        (edit(lambda sd: sd["state"][0].update(step=-1)), "'step' must be an integer"),
        (edit(lambda sd: sd["state"][0].update(step=1.5)), "'step' must be an integer"),
        (edit(lambda sd: sd["state"][0].update(exp_avg="abc")), "not numeric"),
        (edit(lambda sd: sd["state"].update({0: [1, 2]})), "must be a dict"),
        (edit(lambda sd: sd.update(state=[])), r"'state'\] must be a dict"),
        (edit(lambda sd: sd.update(param_groups={})), "list of dicts"),
    ]


@pytest.mark.parametrize(("state_dict", "match"), adam_state_dict_cases())
def test_load_state_dict_mismatch(state_dict, match):
    opt = Adam(make_params())
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(state_dict)
    assert opt.state == {}  # unchanged by the failed load


# ---------------------------------------------------------------------- the name table
@pytest.mark.parametrize(
    ("name", "cls", "extra"),
    [
        ("sgd", SGD, {"momentum": 0.0, "nesterov": False}),
        ("momentum", SGD, {"momentum": 0.9, "nesterov": False}),
        ("nesterov", SGD, {"momentum": 0.9, "nesterov": True}),
        ("rmsprop", RMSprop, {}),
        ("adam", Adam, {"weight_decay": 0.0}),
        ("adamw", AdamW, {"weight_decay": 0.01}),
    ],
)
def test_make_optimizer(name, cls, extra):
    opt = make_optimizer(name, make_params(), lr=0.05)
    assert type(opt) is cls
    group = opt.param_groups[0]
    assert group["lr"] == 0.05
    assert {k: group[k] for k in extra} == extra
    opt = make_optimizer(name, make_params(), lr=0.05, weight_decay=0.3)
    assert opt.param_groups[0]["weight_decay"] == 0.3


def test_make_optimizer_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"'lbfgs'.*sgd, momentum, nesterov, rmsprop, adam, adamw"):
        make_optimizer("lbfgs", make_params(), lr=0.1)
    assert set(OPTIMIZERS) == {"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"}
    assert cr.optim.schedules.StepLR is not None  # the subpackage is exported


# ---------------------------------------------------------------------- minimising a quadratic
@pytest.mark.parametrize(
    ("name", "lr", "steps"),
    [
        ("sgd", 0.05, 300),
        ("momentum", 0.01, 300),
        ("nesterov", 0.01, 300),
        ("rmsprop", 0.01, 1000),
        ("adam", 0.05, 600),
        ("adamw", 0.05, 600),
    ],
)
def test_each_optimizer_minimises_an_ill_conditioned_quadratic(name, lr, steps):
    # E(w) = ½ Σᵢ aᵢ (wᵢ − cᵢ)², minimum at w = c, curvatures 1 and 20 (condition number 20)
    a = np.array([1.0, 20.0])
    c = np.array([2.0, -1.0])
    w = Parameter(np.array([-3.0, 3.0]))
    opt = make_optimizer(name, [w], lr=lr, weight_decay=0.0)
    for _ in range(steps):
        opt.zero_grad()
        E = (0.5 * a * (w - c) ** 2).sum()
        E.backward()
        opt.step()
    np.testing.assert_allclose(w.data, c, atol=1e-3)


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"])
def test_weight_decay_pulls_the_minimum_towards_zero(name):
    # E = ½ (w − 2)²: L2 decay λ moves the minimum to 2 / (1 + λ); AdamW's decoupled decay does
    # not (its fixed point depends on the gradient scale) but still pulls w below 2.
    w = Parameter(np.array([2.0]))
    opt = make_optimizer(name, [w], lr=0.01, weight_decay=1.0)
    for _ in range(3000):
        w.grad = w.data - 2.0
        opt.step()
    if name == "adamw":
        assert 0.0 < w.data[0] < 1.99
    else:
        np.testing.assert_allclose(w.data, [1.0], atol=2e-2)


def test_optimizer_base_class_needs_an_update_rule():
    p = Parameter(np.zeros(2))
    p.grad = np.ones(2)
    with pytest.raises(NotImplementedError):
        Optimizer([p], {"lr": 0.1}).step()
    assert "lr: 0.1" in repr(SGD([p], lr=0.1))


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, RMSprop])
def test_the_constructor_arguments_are_the_group_defaults(cls: type) -> None:
    import inspect

    signature = inspect.signature(cls)
    given = {"lr": 0.25} if cls is SGD else {}
    opt = cls([Parameter(np.zeros(2))], **given)
    expected = {
        name: given.get(name, p.default)
        for name, p in signature.parameters.items()
        if name != "params"
    }
    assert opt.defaults == expected
    assert opt.param_groups[0]["lr"] == expected["lr"]
