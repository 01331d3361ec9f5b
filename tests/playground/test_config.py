"""Settings: parsed from the page's values, refused with a message naming the problem."""

from __future__ import annotations

import math

import pytest

from chainrule.playground.config import MAX_LAYERS, Config, PlaygroundError


def test_defaults_are_tensorflow_playgrounds() -> None:
    c = Config()
    assert (c.dataset, c.activation, c.learning_rate, c.hidden) == ("circle", "tanh", 0.03, (4, 2))
    assert (c.features, c.batch_size, c.train_percent, c.regularization) == (
        ("x1", "x2"),
        10,
        50,
        "none",
    )
    assert c.effective_batch_size == 10


def test_strings_from_the_url_are_parsed() -> None:
    c = Config().update(
        {
            "learning_rate": "0.1",
            "hidden": "8,8,3",
            "features": "x1sq,x1",
            "batch_norm": "true",
            "noise": "20",
            "activation": "ReLU",
        }
    )
    assert c.learning_rate == 0.1 and c.hidden == (8, 8, 3) and c.batch_norm is True
    assert c.features == ("x1", "x1sq")  # the page's order
    assert c.noise == 20 and c.activation == "relu"


def test_round_trip_through_the_dict() -> None:
    c = Config(dataset="spiral", hidden=(3,), optimizer="adam", dropout=0.2)
    assert Config().update(c.to_dict()) == c


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"learning_rate": "-1"}, "learning rate must be a number above 0"),
        ({"learning_rate": "fast"}, "learning rate must be a number"),
        ({"learning_rate": 0}, "learning rate"),
        ({"learning_rate": math.nan}, "learning rate"),
        ({"learning_rate": "inf"}, "learning rate"),
        ({"hidden": [4] * 100}, f"at most {MAX_LAYERS} hidden layers, got 100"),
        ({"hidden": "4,9"}, "neurons per layer must be a whole number from 1 to 8, got '9'"),
        ({"hidden": [4, 0]}, "neurons per layer"),
        ({"hidden": [2.5]}, "neurons per layer"),
        ({"batch_size": 0}, "batch size"),
        ({"batch_size": True}, "batch size"),
        ({"activation": "softplus"}, "activation must be one of relu, tanh, sigmoid, linear"),
        ({"features": ""}, "at least one input feature"),
        ({"features": "x1,x3"}, "unknown input feature 'x3'"),
        ({"dropout": 0.95}, "dropout rate"),
        ({"reg_rate": -0.1}, "regularization rate"),
        ({"batch_norm": "maybe"}, "batch norm must be true or false"),
        ({"colour": "red"}, "unknown setting 'colour'"),
        ({"problem": "regression", "dataset": "xor"}, "'xor' is not a regression dataset"),
    ],
)
def test_bad_values_are_refused_with_a_message(changes: dict, message: str) -> None:
    with pytest.raises(PlaygroundError, match=message.replace("(", r"\(")):
        Config().update(changes)


def test_a_refused_update_is_a_value_error_and_changes_nothing() -> None:
    c = Config()
    with pytest.raises(ValueError):
        c.update({"learning_rate": 0.1, "hidden": [1] * 7})
    assert c == Config()


def test_dataset_and_problem_follow_each_other() -> None:
    assert Config().update({"dataset": "plane"}).problem == "regression"
    assert Config().update({"problem": "regression"}).dataset == "plane"
    c = Config(problem="regression", dataset="plane").update({"problem": "classification"})
    assert c.dataset == "circle"


def test_the_three_regimes_give_their_batch_sizes() -> None:
    sizes = [
        Config(regime=r, batch_size=7).effective_batch_size
        for r in ("stochastic", "minibatch", "batch")
    ]
    assert sizes == [1, 7, None]
