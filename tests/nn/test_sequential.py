"""Sequential: a chain of modules, and pickles that name it at its old place."""

from __future__ import annotations

import base64
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import Dense, ReLU, Sequential, Sigmoid, Tanh

# pickle.dumps(Sequential(ReLU(), Tanh(), fuse=False), protocol=2), made while `Sequential`
# lived in chainrule.nn.module (its pickle names the class "chainrule.nn.module Sequential").
OLD_PICKLE = base64.b64decode(
    "gAJjY2hhaW5ydWxlLm5uLm1vZHVsZQpTZXF1ZW50aWFsCnEAKYFxAX1xAihYCwAAAF9wYXJhbWV0ZXJzcQN9cQRY"
    "CAAAAF9idWZmZXJzcQV9cQZYCAAAAF9tb2R1bGVzcQd9cQgoWAEAAAAwcQljY2hhaW5ydWxlLm5uLmFjdGl2YXRp"
    "b25zClJlTFUKcQopgXELfXEMKGgDfXENaAV9cQ5oB31xD1gIAAAAdHJhaW5pbmdxEIh1YlgBAAAAMXERY2NoYWlu"
    "cnVsZS5ubi5hY3RpdmF0aW9ucwpUYW5oCnESKYFxE31xFChoA31xFWgFfXEWaAd9cRdoEIh1YnVoEIhYBAAAAGZ1"
    "c2VxGIloCWgLaBFoE3ViLg=="
)


def test_sequential_indexing_iteration_and_length():
    layers = [Dense(2, 3, rng=0), Sigmoid(), Dense(3, 1, rng=1)]
    seq = Sequential(*layers)
    assert len(seq) == 3
    assert list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    head = seq[:2]
    assert isinstance(head, Sequential) and list(head) == layers[:2]
    with pytest.raises(IndexError, match="length 3"):
        seq[3]
    with pytest.raises(TypeError):
        Sequential(Dense(1, 1), lambda x: x)
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = cr.Tensor(np.ones((4, 2), dtype=np.float32))
    expected = layers[2](layers[1](layers[0](x)))
    np.testing.assert_array_equal(seq(x).data, expected.data)


def test_sequential_lives_in_its_own_module_and_keeps_its_old_name():
    assert Sequential.__module__ == "chainrule.nn.sequential"
    from chainrule.nn.module import Sequential as old_name

    assert old_name is Sequential


def test_a_pickle_made_at_the_old_place_loads():
    assert b"chainrule.nn.module\nSequential" in OLD_PICKLE
    seq = pickle.loads(OLD_PICKLE)
    assert type(seq) is Sequential and not seq.fuse
    assert [type(m) for m in seq] == [ReLU, Tanh]
    x = cr.Tensor(np.array([[-1.0, 0.5, 2.0]]))
    np.testing.assert_allclose(seq(x).data, np.tanh(np.maximum(x.data, 0.0)))


def test_a_trained_network_pickled_under_the_old_name_loads_with_its_weights():
    # The bytes of an old pickle, built by hand: protocol 2 names a class as one line
    # "module\nname", so the new name is rewritten to the old one.
    seq = Sequential(Dense(3, 4, rng=0), ReLU(), Dense(4, 1, rng=1), Sigmoid())
    new = pickle.dumps(seq, protocol=2)
    assert new.count(b"chainrule.nn.sequential\nSequential\n") == 1
    old = new.replace(
        b"chainrule.nn.sequential\nSequential\n", b"chainrule.nn.module\nSequential\n"
    )
    assert b"chainrule.nn.sequential" not in old
    loaded = pickle.loads(old)
    assert type(loaded) is Sequential
    for (name, a), (_, b) in zip(
        seq.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        np.testing.assert_array_equal(a, b, err_msg=name)
    x = cr.Tensor(np.random.default_rng(2).normal(size=(5, 3)))
    np.testing.assert_array_equal(loaded(x).data, seq(x).data)


def test_an_unknown_name_in_the_old_module_still_fails():
    with pytest.raises(AttributeError):
        pickle.loads(OLD_PICKLE.replace(b"module\nSequential", b"module\nSequentia_"))
