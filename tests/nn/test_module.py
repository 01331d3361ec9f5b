"""Module registration, traversal, modes, state dicts and repr."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import (
    BatchNorm,
    Dense,
    Dropout,
    Module,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
)


class TwoLayer(Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = Dense(3, 4, rng=0)
        self.act = ReLU()
        self.norm = BatchNorm(4)
        self.out = Dense(4, 2, rng=1)
        self.scale = Parameter(np.ones(1))
        self.note = "not registered"

    def forward(self, x):
        return self.out(self.norm(self.act(self.hidden(x)))) * self.scale


def test_attribute_assignment_registers_parameters_and_modules():
    net = TwoLayer()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "scale",
        "hidden.weight",
        "hidden.bias",
        "norm.weight",
        "norm.bias",
        "out.weight",
        "out.bias",
    ]
    assert [n for n, _ in net.named_children()] == ["hidden", "act", "norm", "out"]
    assert [n for n, _ in net.named_buffers()] == [
        "norm.running_mean",
        "norm.running_var",
        "norm.num_batches_tracked",
    ]
    assert len(list(net.modules())) == 5
    assert net.num_parameters() == 1 + (12 + 4) + (4 + 4) + (8 + 2)
    assert all(isinstance(p, Parameter) for p in net.parameters())
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]


def test_shared_parameters_are_listed_once():
    layer = Dense(2, 2, rng=0)
    seq = Sequential(layer, Sigmoid(), layer)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias"]


def test_reassignment_and_deletion_update_the_registries():
    net = TwoLayer()
    net.out = Dense(4, 5, rng=0)
    assert net.out.out_features == 5
    del net.act
    assert "act" not in dict(net.named_children())
    with pytest.raises(TypeError, match="parameter 'scale'"):
        net.scale = np.zeros(1)
    net.scale = None  # switching a parameter off is allowed
    assert "scale" not in dict(net.named_parameters())


def test_assigning_before_super_init_says_what_to_do():
    class Broken(Module):
        def __init__(self) -> None:
            self.w = Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_call_runs_forward_and_base_forward_is_abstract():
    x = cr.Tensor(np.ones((5, 3)))
    net = TwoLayer()
    np.testing.assert_array_equal(net(x).data, net.forward(x).data)
    with pytest.raises(NotImplementedError):
        Module()(x)


def test_train_and_eval_are_recursive_and_return_self():
    net = TwoLayer()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not net.norm.training


def test_zero_grad_clears_every_parameter():
    net = TwoLayer()
    net(cr.Tensor(np.random.default_rng(0).normal(size=(6, 3)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_holds_copies_of_parameters_and_buffers():
    net = TwoLayer()
    net(cr.Tensor(np.random.default_rng(0).normal(size=(6, 3))))  # moves the running stats
    state = net.state_dict()
    assert set(state) == {n for n, _ in net.named_parameters()} | {
        "norm.running_mean",
        "norm.running_var",
        "norm.num_batches_tracked",
    }
    np.testing.assert_array_equal(state["norm.running_mean"], net.norm.running_mean)
    assert not np.shares_memory(state["hidden.weight"], net.hidden.weight.data)
    state["hidden.weight"][:] = 7.0
    assert not np.any(net.hidden.weight.data == 7.0)


def test_load_state_dict_round_trip_copies_in_place():
    source, target = TwoLayer(), TwoLayer()
    source(cr.Tensor(np.random.default_rng(0).normal(size=(6, 3))))
    for p in source.parameters():
        p.data += 0.5
    # The target's weight is a view into a flat buffer: loading must keep it a view.
    flat = np.zeros(12, dtype=np.float32)
    target.hidden.weight.data = flat.reshape(4, 3)
    weight_array = target.hidden.weight.data
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.hidden.weight.data is weight_array
    np.testing.assert_array_equal(flat.reshape(4, 3), source.hidden.weight.data)
    for (name, a), (_, b) in zip(
        source.state_dict().items(), target.state_dict().items(), strict=True
    ):
        np.testing.assert_array_equal(a, b, err_msg=name)
    x = cr.Tensor(np.random.default_rng(1).normal(size=(5, 3)))
    np.testing.assert_array_equal(source.eval()(x).data, target.eval()(x).data)


def test_load_state_dict_strict_names_missing_and_unexpected_keys():
    net = TwoLayer()
    state = net.state_dict()
    del state["out.bias"]
    state["extra.weight"] = np.zeros(3)
    before = net.hidden.weight.data.copy()
    state["hidden.weight"] = before + 1
    with pytest.raises(
        ValueError, match=r"missing keys: out\.bias.*unexpected keys: extra\.weight"
    ):
        net.load_state_dict(state)
    np.testing.assert_array_equal(net.hidden.weight.data, before)  # nothing was loaded
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["out.bias"]
    assert result.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(net.hidden.weight.data, before + 1)


def test_load_state_dict_reports_shape_mismatch_even_when_not_strict():
    net = TwoLayer()
    state = net.state_dict()
    state["out.weight"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"out\.weight: got \(3, 3\), expected \(2, 4\)"):
        net.load_state_dict(state, strict=False)
    with pytest.raises(ValueError, match="dict"):
        net.load_state_dict([("out.weight", np.zeros((2, 4)))])


def test_repr_shows_architecture_and_parameter_count():
    model = Sequential(Dense(2, 3), Sigmoid(), Dropout(0.25), Dense(3, 1, bias=False))
    text = repr(model)
    assert text.splitlines()[0] == "Sequential("
    assert "(0): Dense(in_features=2, out_features=3, bias=True)" in text
    assert "(2): Dropout(rate=0.25)" in text
    assert "(3): Dense(in_features=3, out_features=1, bias=False)" in text
    assert text.endswith(f"# {2 * 3 + 3 + 3} parameters")
    nested = repr(Sequential(Sequential(ReLU())))
    assert "(0): Sequential(\n    (0): ReLU()\n  )" in nested
    assert repr(ReLU()) == "ReLU()"


def test_apply_visits_every_module():
    seq = Sequential(Dense(2, 2), Sequential(ReLU(), Dense(2, 1)))
    visited = []
    assert seq.apply(lambda m: visited.append(type(m).__name__)) is seq
    assert sorted(visited) == sorted(["Sequential", "Dense", "Sequential", "ReLU", "Dense"])
    assert visited[-1] == "Sequential"  # children before their parent


def test_register_buffer_validates_names():
    m = Module()
    m.register_buffer("count", np.zeros(()))
    assert list(m.state_dict()) == ["count"]
    with pytest.raises(ValueError, match="identifier"):
        m.register_buffer("a.b", np.zeros(1))
    m.p = Parameter(np.zeros(1))
    with pytest.raises(ValueError, match="already"):
        m.register_buffer("p", np.zeros(1))


def test_deepcopy_and_pickle_keep_registrations_consistent():
    import copy
    import pickle

    net = TwoLayer()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert clone.hidden.weight is dict(clone.named_parameters())["hidden.weight"]
        assert clone.hidden.weight is not net.hidden.weight
        for (name, a), (_, b) in zip(
            net.state_dict().items(), clone.state_dict().items(), strict=True
        ):
            np.testing.assert_array_equal(a, b, err_msg=name)
        clone.hidden.weight.data += 1.0
        assert not np.array_equal(clone.hidden.weight.data, net.hidden.weight.data)
