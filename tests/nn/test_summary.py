"""`Module.summary`: the Keras-style table of layers, output shapes and parameter counts."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule import nn


def network() -> nn.Sequential:
    return nn.Sequential(
        nn.Dense(4, 8), nn.ReLU(), nn.BatchNorm(8), nn.Dropout(0.5), nn.Dense(8, 3)
    )


def test_rows_shapes_and_counts() -> None:
    s = network().summary((4,))
    assert [(r.name, r.layer) for r in s.rows] == [
        ("0", "Dense"), ("1", "ReLU"), ("2", "BatchNorm"), ("3", "Dropout"), ("4", "Dense"),
    ]  # fmt: skip
    assert [r.output_shape for r in s.rows] == [(None, 8)] * 4 + [(None, 3)]
    # Dense(4, 8): 4·8 + 8 = 40; batch norm: γ, β (16 trainable) and running mean, var (16)
    assert [r.params for r in s.rows] == [40, 0, 32, 0, 27]
    assert (s.trainable_params, s.non_trainable_params, s.total_params) == (83, 16, 99)
    assert sum(r.params for r in s.rows) == s.total_params


def test_text_table() -> None:
    text = str(network().summary())  # the input shape comes from the first Dense layer
    lines = text.splitlines()
    assert lines[0] == 'Model: "Sequential", input shape (None, 4)'
    assert lines[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#"]
    assert lines[4].split() == ["0", "(Dense)", "(None,", "8)", "40"]
    assert "Total params: 99" in lines and "Trainable params: 83" in lines
    assert "Non-trainable params: 16" in lines
    assert repr(network().summary()) == text


def test_frozen_parameters_are_non_trainable_and_modes_are_restored() -> None:
    model = network()
    model[4].weight.requires_grad = False
    model[2].eval()
    s = model.summary(4)
    assert (s.trainable_params, s.non_trainable_params) == (83 - 24, 16 + 24)
    assert model.training and model[0].training and not model[2].training
    assert model.fuse is True and "forward" not in vars(model[0])
    x = np.ones((3, 4), dtype=np.float32)
    assert model(x).shape == (3, 3)  # still a working network


def test_nested_modules_are_indented_and_html() -> None:
    model = nn.Sequential(nn.Sequential(nn.Dense(2, 5), nn.Tanh()), nn.Dense(5, 1))
    s = model.summary((2,))
    assert [(r.name, r.depth, r.output_shape) for r in s.rows] == [
        ("0", 0, (None, 5)), ("0.0", 1, (None, 5)), ("0.1", 1, (None, 5)), ("1", 0, (None, 1)),
    ]  # fmt: skip
    assert [r.params for r in s.rows] == [0, 15, 0, 6]
    assert "\n  0.0 (Dense)" in str(s)
    html = s._repr_html_()
    assert "<th>Output Shape</th>" in html and ">15<" in html and "Total params: 21" in html


def test_without_input_shape_shapes_are_unknown() -> None:
    s = nn.Sequential(nn.ReLU()).summary()
    assert s.rows[0].output_shape is None and "?" in str(s)


def test_bad_input_shapes() -> None:
    with pytest.raises(ValueError, match="positive integers"):
        network().summary((0,))
    with pytest.raises(ValueError, match=r"inputs of shape \(3,\).*4 features"):
        network().summary((3,))
