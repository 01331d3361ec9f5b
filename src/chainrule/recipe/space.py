"""Search spaces for `tune`: plain Python values in, Optuna distributions out.

A space is a dict from estimator parameter names to:

- a **list** — the choices of a categorical parameter: ``"activation": ["relu", "tanh"]``,
  ``"hidden_layer_sizes": [(64,), (128,), (64, 32)]`` (any values, tuples included);
- a **(low, high) tuple** — a range: ints give an integer range, otherwise a float range.
  Rates are searched on a log scale (log-uniform: each decade equally likely), recognized by
  name: a parameter whose name (after any ``step__`` prefix) contains ``learning_rate`` or
  ``lr``, or is ``l1``, ``l2``, ``alpha``, ``weight_decay`` or ``tol``;
- an explicit marker, `log_uniform(low, high)` or `uniform(low, high)` (``integer=True`` for
  ints), to choose the scale yourself;
- any other single value — fixed, not searched.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Range", "SearchSpace", "default_space", "log_uniform", "uniform"]

_LOG_NAMES = ("l1", "l2", "alpha", "weight_decay", "tol")


@dataclass(frozen=True)
class Range:
    """A numeric range [low, high]; `log` searches it log-uniformly."""

    low: float
    high: float
    log: bool = False
    integer: bool = False


def log_uniform(low: float, high: float, *, integer: bool = False) -> Range:
    """A range searched on a log scale: log x uniform in [log low, log high] (low > 0)."""
    return Range(low, high, log=True, integer=integer)


def uniform(low: float, high: float, *, integer: bool = False) -> Range:
    """A range searched on a linear scale."""
    return Range(low, high, log=False, integer=integer)


def is_rate(name: str) -> bool:
    """Whether `name` is searched on a log scale by default (see the module doc)."""
    base = name.rsplit("__", 1)[-1].lower()
    words = base.split("_")
    return base in _LOG_NAMES or "learning_rate" in base or "lr" in words


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _range(name: str, spec: Any) -> Range:
    if isinstance(spec, Range):
        r = spec
    else:
        low, high = spec
        integer = isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral)
        r = Range(low, high, log=is_rate(name), integer=integer)
    if not (_is_number(r.low) and _is_number(r.high)) or not r.low < r.high:
        raise ValueError(f"space[{name!r}]: a range needs numbers low < high, got {spec!r}")
    if r.log and r.low <= 0:
        raise ValueError(
            f"space[{name!r}]: {name} is searched on a log scale, which needs low > 0, got "
            f"{spec!r} (e.g. (1e-6, 1e-2), or uniform(low, high) for a linear scale)"
        )
    return r


class SearchSpace:
    """A parsed space: `suggest(trial)` draws one set of parameters from an Optuna trial."""

    def __init__(self, space: Mapping[str, Any], valid: Any = None) -> None:
        if not isinstance(space, Mapping) or not space:
            raise ValueError("space must be a non-empty dict of parameter name -> values")
        self.ranges: dict[str, Range] = {}
        self.choices: dict[str, list[Any]] = {}
        self.fixed: dict[str, Any] = {}
        for name, spec in space.items():
            if not isinstance(name, str):
                raise ValueError(f"space keys must be parameter names, got {name!r}")
            if valid is not None and name not in valid:
                close = ", ".join(difflib.get_close_matches(name, list(valid), n=3))
                hint = f" (did you mean: {close}?)" if close else ""
                raise ValueError(f"space[{name!r}]: the estimator has no parameter {name!r}{hint}")
            if isinstance(spec, list):
                if not spec:
                    raise ValueError(f"space[{name!r}]: an empty list of choices")
                self.choices[name] = list(spec)
            elif isinstance(spec, Range) or (
                isinstance(spec, tuple) and len(spec) == 2 and all(_is_number(v) for v in spec)
            ):
                self.ranges[name] = _range(name, spec)
            else:
                self.fixed[name] = spec
        if not self.ranges and not self.choices:
            raise ValueError("space has nothing to search: give lists of choices or (low, high)")

    @staticmethod
    def _label(value: Any) -> Any:
        """Optuna stores only None/bool/int/float/str choices: other values by their text."""
        if value is None or isinstance(value, bool | int | float | str):
            return value
        return str(value)

    def suggest(self, trial: Any) -> dict[str, Any]:
        """One point of the space, drawn through `trial` (an Optuna trial)."""
        params: dict[str, Any] = dict(self.fixed)
        for name, r in self.ranges.items():
            if r.integer:
                params[name] = trial.suggest_int(name, int(r.low), int(r.high), log=r.log)
            else:
                params[name] = trial.suggest_float(name, float(r.low), float(r.high), log=r.log)
        for name, options in self.choices.items():
            labels = [self._label(v) for v in options]
            if len(set(map(repr, labels))) != len(labels):
                raise ValueError(f"space[{name!r}]: the choices {options!r} repeat a value")
            picked = trial.suggest_categorical(name, labels)
            params[name] = options[labels.index(picked)]
        return params

    def names(self) -> list[str]:
        """Every parameter the space sets (searched or fixed)."""
        return [*self.fixed, *self.ranges, *self.choices]

    def describe(self) -> dict[str, str]:
        """Each searched parameter and how (for reports)."""
        out = {}
        for name, r in self.ranges.items():
            kind = "integers" if r.integer else "reals"
            out[name] = f"{kind} in [{r.low:.3g}, {r.high:.3g}]{', log scale' if r.log else ''}"
        for name, options in self.choices.items():
            out[name] = "one of " + ", ".join(str(v) for v in options)
        return out


def default_space(lr: float | None = None) -> dict[str, Any]:
    """The recipe's search space for an `MLPClassifier` / `MLPRegressor`.

    η is searched log-uniformly over two decades centred on `lr` (the range test's
    suggestion), or over [1e-4, 0.1] without one; then the architecture, σ, the batch size,
    the L2 penalty λ and the dropout rate.
    """
    if lr is None:
        eta = (1e-4, 1e-1)
    else:
        if not (isinstance(lr, int | float) and 0 < lr < float("inf")):
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        low = min(max(lr / 10, 1e-6), 0.1)
        eta = (low, max(min(lr * 10, 1.0), low * 10))
    return {
        "learning_rate": eta,
        "hidden_layer_sizes": [(32,), (64,), (128,), (64, 32)],
        "activation": ["relu", "tanh"],
        "batch_size": [16, 32, 64],
        "l2": (1e-6, 1e-2),
        "dropout": (0.0, 0.4),
    }
