"""The playground's settings: one `Config`, checked field by field.

The page sends its controls as a dict of names to values (numbers or the strings of a URL's
query); `Config.update` parses and checks them and names the first bad one in a
`PlaygroundError` (a `ValueError`), so that the page can show the message and keep training
with the old settings. `RESET_FIELDS` are the settings that change the network or its data:
changing one of them starts training again from new weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from chainrule.playground.datasets import CLASSIFICATION, DATASETS, FEATURES, REGRESSION

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "MAX_LAYERS",
    "MAX_NEURONS",
    "OPTIMIZERS",
    "REGIMES",
    "RESET_FIELDS",
    "Config",
    "PlaygroundError",
]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
INITS = ("random", "zeros", "xavier", "he")
REGULARIZATIONS = ("none", "l1", "l2")
# The lecture's three regimes of gradient descent: one sample, k samples or all per step.
REGIMES = ("stochastic", "minibatch", "batch")
PROBLEMS = ("classification", "regression")
MAX_LAYERS = 6
MAX_NEURONS = 8
N_SAMPLES = 500


class PlaygroundError(ValueError):
    """A setting the playground cannot use; the message names it and the allowed values."""


@dataclass(frozen=True)
class Config:
    """Everything that defines a playground run; defaults are TensorFlow Playground's."""

    problem: str = "classification"
    dataset: str = "circle"
    noise: int = 0  # percent of the dataset's scale, 0-50
    train_percent: int = 50
    seed: int = 0
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    init: str = "random"
    batch_norm: bool = False
    dropout: float = 0.0
    optimizer: str = "sgd"
    learning_rate: float = 0.03
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    rho: float = 0.99
    regime: str = "minibatch"
    batch_size: int = 10
    regularization: str = "none"
    reg_rate: float = 0.0
    patience: int = 50

    def __post_init__(self) -> None:
        if self.dataset in DATASETS:  # the dataset decides the problem type
            object.__setattr__(self, "problem", _problem_of(self.dataset))

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def update(self, changes: Mapping[str, Any]) -> Config:
        """A copy with `changes` applied, each parsed and checked; unknown names are refused."""
        if not isinstance(changes, Mapping):
            raise PlaygroundError("settings must be an object of names to values")
        names = {f.name for f in fields(self)}
        parsed: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in names:
                raise PlaygroundError(f"unknown setting {key!r}")
            parsed[key] = _PARSERS[key](value)
        if "problem" in parsed:
            problem, of_problem = parsed["problem"], _DATASETS_OF[parsed["problem"]]
            if "dataset" not in parsed and self.dataset not in of_problem:
                parsed["dataset"] = next(iter(of_problem))  # that problem's first dataset
            if parsed.get("dataset", self.dataset) not in of_problem:
                raise PlaygroundError(
                    f"dataset {parsed['dataset']!r} is not a {problem} dataset; choose one of "
                    f"{', '.join(of_problem)}"
                )
        return replace(self, **parsed)  # __post_init__ sets the problem from the dataset

    @property
    def effective_batch_size(self) -> int | None:
        """Samples per step: 1 (stochastic), `batch_size` (minibatch) or None (all)."""
        return {"stochastic": 1, "minibatch": self.batch_size, "batch": None}[self.regime]


_DATASETS_OF = {"classification": CLASSIFICATION, "regression": REGRESSION}

RESET_FIELDS = frozenset(
    {
        "problem",
        "dataset",
        "noise",
        "train_percent",
        "seed",
        "features",
        "hidden",
        "activation",
        "init",
        "batch_norm",
        "dropout",
    }
)


def _problem_of(dataset: str) -> str:
    return "classification" if dataset in CLASSIFICATION else "regression"


def _choice(name: str, options: tuple[str, ...] | Mapping[str, Any]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in options:
            raise PlaygroundError(f"{name} must be one of {', '.join(options)}, got {value!r}")
        return text

    return parse


def _number(name: str, low: float, high: float, *, low_open: bool = False) -> Callable:
    def parse(value: Any) -> float:
        try:
            x = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            x = math.nan
        bad_low = x <= low if low_open else x < low
        if not math.isfinite(x) or bad_low or x > high:
            where = f"{'above' if low_open else 'at least'} {low:g} and at most {high:g}"
            raise PlaygroundError(f"{name} must be a number {where}, got {value!r}")
        return x

    return parse


def _integer(name: str, low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        try:
            x = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            x = math.nan
        if not math.isfinite(x) or x != int(x) or not low <= x <= high:
            raise PlaygroundError(
                f"{name} must be a whole number from {low} to {high}, got {value!r}"
            )
        return int(x)

    return parse


def _flag(name: str) -> Callable[[Any], bool]:
    def parse(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise PlaygroundError(f"{name} must be true or false, got {value!r}")

    return parse


def _items(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [v for v in value.replace(" ", "").split(",") if v]
    if isinstance(value, list | tuple):
        return list(value)
    raise PlaygroundError(f"expected a list or comma-separated text, got {value!r}")


def _hidden(value: Any) -> tuple[int, ...]:
    sizes = _items(value)
    if len(sizes) > MAX_LAYERS:
        raise PlaygroundError(
            f"at most {MAX_LAYERS} hidden layers, got {len(sizes)}; remove some layers"
        )
    parse = _integer("neurons per layer", 1, MAX_NEURONS)
    return tuple(parse(s) for s in sizes)


def _features(value: Any) -> tuple[str, ...]:
    names = [str(v).strip().lower() for v in _items(value)]
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise PlaygroundError(
            f"unknown input feature {unknown[0]!r}; choose from {', '.join(FEATURES)}"
        )
    if not names:
        raise PlaygroundError("choose at least one input feature")
    return tuple(n for n in FEATURES if n in names)  # the page's order, no duplicates


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "problem": _choice("problem type", PROBLEMS),
    "dataset": _choice("dataset", DATASETS),
    "noise": _integer("noise (%)", 0, 50),
    "train_percent": _integer("ratio of training data (%)", 10, 90),
    "seed": _integer("seed", 0, 2**31 - 1),
    "features": _features,
    "hidden": _hidden,
    "activation": _choice("activation", ACTIVATIONS),
    "init": _choice("initialization", INITS),
    "batch_norm": _flag("batch norm"),
    "dropout": _number("dropout rate", 0.0, 0.9),
    "optimizer": _choice("optimizer", OPTIMIZERS),
    "learning_rate": _number("learning rate", 0.0, 10.0, low_open=True),
    "momentum": _number("momentum", 0.0, 0.999),
    "beta1": _number("β₁", 0.0, 0.999),
    "beta2": _number("β₂", 0.0, 0.9999),
    "rho": _number("RMSprop decay ρ", 0.0, 0.9999),
    "regime": _choice("gradient-descent regime", REGIMES),
    "batch_size": _integer("batch size", 1, N_SAMPLES),
    "regularization": _choice("regularization", REGULARIZATIONS),
    "reg_rate": _number("regularization rate", 0.0, 10.0),
    "patience": _integer("early-stopping patience", 1, 10_000),
}
