"""The estimators' hyperparameters as ``chainrule train`` options, and back to a command line.

Each option maps to one `MLPClassifier` / `MLPRegressor` hyperparameter (the table `OPTIONS`);
`estimator_kwargs` turns parsed options into keyword arguments and `command_line` writes the
exact command that repeats a run, every option spelled out.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from typing import Any

from chainrule.cli.values import (  # noqa: F401 (value types, also used from here)
    batch_size,
    fraction,
    layer_sizes,
    names,
    non_negative,
    positive,
    positive_int,
    seed,
    tolerance,
)
from chainrule.estimators.params import (
    ACTIVATION_CHOICES,
    AUGMENT_CHOICES,
    DTYPE_CHOICES,
    INIT_CHOICES,
    LR_SCHEDULE_CHOICES,
    OPTIMIZER_CHOICES,
    REGRESSION_LOSS_CHOICES,
    init_defaults,
)


# ---------------------------------------------------------------------------- value types
# The plain ones (numbers, whole numbers, sizes, names) are `chainrule.cli.values`'.
def augment(text: str) -> str | None:
    """An augmentation name (see `AUGMENT_CHOICES`), or "none"."""
    name = text.strip().lower()
    if name == "none":
        return None
    if name not in AUGMENT_CHOICES:
        valid = ", ".join(("none", *AUGMENT_CHOICES))
        raise argparse.ArgumentTypeError(f"{text!r} is not an augmentation; choose one of {valid}")
    return name


class _Unset:
    """The value of an option not given (its default then depends on other options)."""

    def __repr__(self) -> str:
        return "unset"


TOL_UNSET: Any = _Unset()


def class_weight(text: str) -> str | dict[str, float] | None:
    """ "balanced", "none", or LABEL=WEIGHT pairs, e.g. "yes=5,no=1" (labels as in the data)."""
    word = text.strip()
    if word.lower() in ("none", "balanced"):
        return None if word.lower() == "none" else "balanced"
    out: dict[str, float] = {}
    for part in word.split(","):
        label, sep, weight = part.rpartition("=")
        if not sep or not label.strip():
            raise argparse.ArgumentTypeError(
                f"{text!r} is not 'balanced', 'none' or LABEL=WEIGHT pairs such as yes=5,no=1"
            )
        out[label.strip()] = non_negative(weight)
    return out


def format_class_weight(value: Any) -> str:
    """`class_weight` as the option's text (the inverse of `class_weight`)."""
    if isinstance(value, dict):
        return ",".join(f"{label}={w:g}" for label, w in value.items())
    return "none" if value is None else str(value)


def resolve_class_weight(value: Any, labels: Any) -> Any:
    """The option's LABEL=WEIGHT pairs keyed by the data's own labels (ints stay ints)."""
    if not isinstance(value, dict) or labels is None:
        return value
    import numpy as np

    by_text = {str(label): label for label in np.unique(np.asarray(labels)).tolist()}
    unknown = [k for k in value if k not in by_text]
    if unknown:
        raise ValueError(
            f"--class-weight names {unknown!r}, which are not classes of the target; "
            f"the classes are {list(by_text)!r}"
        )
    return {by_text[k]: w for k, w in value.items()}


def _fmt_sizes(value: Any) -> str:
    return ",".join(str(n) for n in value) if value else "none"


# ---------------------------------------------------------------------------- the options
# (flag, estimator keyword, type, help, choices). Defaults are not written here: they are the
# estimators' own (`estimator_defaults`), so the command line and the Python API never drift.
Option = tuple[str, str, Callable[[str], Any] | None, str, tuple[str, ...] | None]
OPTIONS: list[Option] = [
    (
        "--hidden",
        "hidden_layer_sizes",
        layer_sizes,
        "units per hidden layer, e.g. 64,32 ('none': a linear model)",
        None,
    ),
    ("--activation", "activation", None, "σ of the hidden layers", ACTIVATION_CHOICES),
    ("--optimizer", "optimizer", None, "gradient-descent rule", OPTIMIZER_CHOICES),
    ("--lr", "learning_rate", positive, "learning rate η", None),
    (
        "--batch-size",
        "batch_size",
        batch_size,
        "samples per step; 'full' for batch gradient descent, 1 for stochastic",
        None,
    ),
    ("--epochs", "epochs", positive_int, "most passes over the training data", None),
    ("--l1", "l1", non_negative, "L1 penalty λ Σ|w|", None),
    ("--l2", "l2", non_negative, "L2 penalty ½ λ Σ w²", None),
    ("--dropout", "dropout", fraction, "fraction of hidden units dropped in training", None),
    (
        "--augment",
        "augment",
        augment,
        "augmentation of each training batch: none, noise (Gaussian input noise), mixup, "
        "or shift (rows as square images)",
        None,
    ),
    ("--init", "init", None, "weight initialization ('auto': He or Xavier)", INIT_CHOICES),
    ("--lr-schedule", "lr_schedule", None, "learning-rate schedule", LR_SCHEDULE_CHOICES),
    ("--patience", "patience", positive_int, "epochs without improvement before stopping", None),
    (
        "--tol",
        "tol",
        tolerance,
        "the least improvement of the monitored loss that counts: the validation loss with "
        "early stopping, else the training loss, and training stops after --patience epochs "
        "without one; 'none': no such rule",
        None,
    ),
    ("--dtype", "dtype", None, "floating type of weights and computations", DTYPE_CHOICES),
    ("--loss", "loss", None, "regression loss", REGRESSION_LOSS_CHOICES),
    (
        "--class-weight",
        "class_weight",
        class_weight,
        "weights of the classes in the loss, for imbalanced tables: balanced (every class "
        "weighs the same in total), LABEL=WEIGHT pairs such as yes=5,no=1, or none "
        "(classification)",
        None,
    ),
]
# On/off switches: (estimator keyword, help).
_FLAGS = [
    ("batch_norm", "batch normalization in each hidden layer"),
    ("shuffle", "reshuffle the training data every epoch"),
]


# Options whose type function checks the value: their choices, shown as argparse shows choices.
_METAVARS = {"--augment": "{" + ",".join(("none", *AUGMENT_CHOICES)) + "}"}


def estimator_defaults() -> dict[str, Any]:
    """The estimators' own hyperparameter defaults, spelled as option values.

    They are read from the signatures in the estimators' source, which holds them as plain
    values, so that ``chainrule train --help`` need not import scikit-learn; if that source
    cannot be read so, from the classes (a test checks that both agree).
    """
    try:
        defaults = {**init_defaults("MLPRegressor"), **init_defaults("MLPClassifier")}
    except (OSError, ValueError, SyntaxError, LookupError, AttributeError, StopIteration):
        from chainrule.estimators import MLPClassifier, MLPRegressor

        defaults = {**MLPRegressor().get_params(), **MLPClassifier().get_params()}
    if defaults["lr_schedule"] is None:
        defaults["lr_schedule"] = "constant"
    return defaults


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def add_hyperparameters(parser: argparse.ArgumentParser) -> None:
    """Add every estimator hyperparameter as an option of `parser`."""
    group = parser.add_argument_group("network and training (MLPClassifier / MLPRegressor)")
    defaults = estimator_defaults()
    for flag, key, kind, text, choices in OPTIONS:
        default = defaults[key]
        shown = _fmt_sizes(default) if flag == "--hidden" else default
        shown = "none" if shown is None else shown
        if key == "tol":  # decided by early stopping (`chainrule.cli.train.resolve_early_stopping`)
            default, shown = TOL_UNSET, f"{shown} with early stopping, none without"
        group.add_argument(
            flag,
            type=kind,
            default=default,
            choices=choices,
            metavar=_METAVARS.get(flag) or (None if choices else _dest(flag).upper()),
            help=f"{text} (default: {shown})",
        )
    for name, text in _FLAGS:
        default = defaults[name]
        group.add_argument(
            f"--{name.replace('_', '-')}",
            action=argparse.BooleanOptionalAction,
            default=default,
            help=f"{text} (default: {'on' if default else 'off'})",
        )


def estimator_kwargs(args: argparse.Namespace, task: str, labels: Any = None) -> dict[str, Any]:
    """Keyword arguments of the estimator for `task` from the parsed options.

    `labels` (the training targets of a classification) turn ``--class-weight`` pairs into
    a dict keyed by the data's labels.
    """
    kwargs = {key: getattr(args, _dest(flag)) for flag, key, *_ in OPTIONS}
    if task != "regression":
        kwargs.pop("loss")
        kwargs["class_weight"] = resolve_class_weight(kwargs["class_weight"], labels)
    else:
        if kwargs["class_weight"] is not None:
            raise ValueError("--class-weight applies to classification only")
        kwargs.pop("class_weight")
    if kwargs["lr_schedule"] == "constant":
        kwargs["lr_schedule"] = None
    kwargs.update({name: getattr(args, name) for name, _ in _FLAGS})
    return kwargs


def run_settings(kwargs: dict[str, Any], validation_fraction: float) -> dict[str, Any]:
    """The estimator's settings for a run holding out `validation_fraction` of the rows
    (recorded as its ``validation_fraction``, so that the model file says what was done)."""
    if 0 < validation_fraction < 1:
        return {**kwargs, "validation_fraction": validation_fraction}
    return dict(kwargs)


def hyperparameter_argv(args: argparse.Namespace, task: str) -> list[str]:
    """The hyperparameter options of `args` for `task`, all spelled out, as command-line words."""
    words: list[str] = []
    for flag, *_ in OPTIONS:
        if (flag == "--loss" and task != "regression") or (
            flag == "--class-weight" and task == "regression"
        ):
            continue
        value = getattr(args, _dest(flag))
        if flag == "--class-weight":
            value = format_class_weight(value)
        elif flag == "--hidden":
            value = _fmt_sizes(value)
        elif flag == "--batch-size" and value is None:
            value = "full"
        elif value is None:
            value = "none"
        words += [flag, str(value)]
    for name, _ in _FLAGS:
        words.append(f"--{'' if getattr(args, name) else 'no-'}{name.replace('_', '-')}")
    return words


def command_line(words: list[str]) -> str:
    """`words` as one shell command line (quoted where needed)."""
    return shlex.join(words)
