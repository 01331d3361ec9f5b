"""Learning-rate schedules: change η between epochs (PyTorch's ``torch.optim.lr_scheduler``).

A schedule wraps an optimizer and rewrites ``group["lr"]`` in each of its parameter groups.
Call ``step()`` once per epoch, after that epoch's optimizer steps; `ReduceLROnPlateau` takes the
monitored value, ``step(val_loss)`` (every schedule accepts an optional metric, so a training
loop can always pass one). Creating a schedule sets the epoch-0 learning rate.

The epoch schedules compute η from closed forms of the epoch number e and the initial rate η₀,
so resuming from `state_dict` continues the same sequence exactly. Use one schedule per
optimizer: two would overwrite each other's η.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from typing import Any, ClassVar

from chainrule.optim.optimizer import Optimizer, check_number


class LRScheduler:
    """Base class: tracks the epoch and sets each group's η = `lr_at(epoch, η₀)`."""

    #: Attributes saved in `state_dict` besides the epoch and the learning rates.
    saved_attributes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"a schedule wraps an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lrs: list[float] = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._last_lr: list[float] = list(self.base_lrs)
        self._check()
        self.step()

    def _check(self) -> None:
        """Validate the hyperparameters (ValueError naming the problem)."""

    def lr_at(self, epoch: int, base_lr: float) -> float:
        """η in `epoch` (0-based) for a group whose initial η is `base_lr`."""
        raise NotImplementedError

    def step(self, metric: float | None = None) -> None:
        """Advance one epoch and set the new learning rates (`metric` is ignored here)."""
        self.last_epoch += 1
        self._set_lrs([self.lr_at(self.last_epoch, base) for base in self.base_lrs])

    def _set_lrs(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = float(lr)
        self._last_lr = [float(lr) for lr in lrs]

    def get_last_lr(self) -> list[float]:
        """The learning rate of each parameter group, as last set by this schedule."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Plain numbers and lists: the hyperparameters, the epoch, η₀ and the current η."""
        state = {name: getattr(self, name) for name in self.saved_attributes}
        state.update(last_epoch=self.last_epoch, base_lrs=list(self.base_lrs))
        state["last_lr"] = list(self._last_lr)
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a `state_dict`, and set the optimizer's η to the saved current values (so it
        does not matter whether the optimizer's own state is loaded before or after)."""
        expected = {*self.saved_attributes, "last_epoch", "base_lrs", "last_lr"}
        if not isinstance(state_dict, Mapping) or set(state_dict) != expected:
            got = sorted(state_dict) if isinstance(state_dict, Mapping) else type(state_dict)
            raise ValueError(
                f"{type(self).__name__} state_dict needs keys {sorted(expected)}, got {got}"
            )
        n = len(self.optimizer.param_groups)
        for key in ("base_lrs", "last_lr"):
            if len(state_dict[key]) != n:
                raise ValueError(f"state_dict[{key!r}] has {len(state_dict[key])} entries, not {n}")
        before = {name: getattr(self, name) for name in self.saved_attributes}
        try:
            for name in self.saved_attributes:
                setattr(self, name, state_dict[name])
            self._check()
            last_epoch = _check_int("last_epoch", state_dict["last_epoch"], low=-1)
            base_lrs = [check_number("base_lrs", x, low=0.0) for x in state_dict["base_lrs"]]
            last_lr = [check_number("last_lr", x, low=0.0) for x in state_dict["last_lr"]]
        except ValueError:
            for name, value in before.items():  # leave the schedule as it was
                setattr(self, name, value)
            raise
        self.last_epoch, self.base_lrs = last_epoch, base_lrs
        self._set_lrs(last_lr)

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.saved_attributes)
        return f"{type(self).__name__}({args})"


class StepLR(LRScheduler):
    """Step decay: η_e = η₀ · γ^⌊e / step_size⌋ (η multiplied by γ every `step_size` epochs)."""

    saved_attributes = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)

    def _check(self) -> None:
        self.step_size = _check_int("step_size", self.step_size, low=1)
        self.gamma = check_number("gamma", self.gamma, low=0.0)

    def lr_at(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """Exponential decay: η_e = η₀ · γ^e."""

    saved_attributes = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = gamma
        super().__init__(optimizer)

    def _check(self) -> None:
        self.gamma = check_number("gamma", self.gamma, low=0.0)

    def lr_at(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing (Loshchilov & Hutter, 2017, SGDR, arXiv:1608.03983), optional warm-up.

    For the first W = `warmup_epochs` epochs η rises linearly, η_e = η₀ (e + 1) / (W + 1); then,
    with t = e − W and T = `T_max`,

    .. math:: η_e = η_{min} + (η_0 − η_{min}) (1 + \cos(π t / T)) / 2,

    which falls from η₀ at t = 0 to η_min at t = T. As in PyTorch the formula keeps going after
    T (η rises again); choose T_max = epochs − W to end at η_min. With W = 0 this is
    PyTorch's ``CosineAnnealingLR``.
    """

    saved_attributes = ("T_max", "eta_min", "warmup_epochs")

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, warmup_epochs: int = 0
    ) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        self.warmup_epochs = warmup_epochs
        super().__init__(optimizer)

    def _check(self) -> None:
        self.T_max = _check_int("T_max", self.T_max, low=1)
        self.eta_min = check_number("eta_min", self.eta_min, low=0.0)
        self.warmup_epochs = _check_int("warmup_epochs", self.warmup_epochs, low=0)

    def lr_at(self, epoch: int, base_lr: float) -> float:
        if epoch < self.warmup_epochs:
            return base_lr * (epoch + 1) / (self.warmup_epochs + 1)
        t = epoch - self.warmup_epochs
        cosine = (1 + math.cos(math.pi * t / self.T_max)) / 2  # from 1 at t = 0 to 0 at t = T
        return self.eta_min + (base_lr - self.eta_min) * cosine


class ReduceLROnPlateau(LRScheduler):
    """Multiply η by `factor` when a monitored value stops improving (PyTorch's rule).

    ``step(metric)`` once per epoch. An epoch improves if the metric beats the best so far by
    more than `threshold`: relatively (``threshold_mode="rel"``: below best · (1 − threshold) in
    ``"min"`` mode, above best · (1 + threshold) in ``"max"`` mode) or absolutely (``"abs"``:
    by ± threshold). After more than `patience` epochs without improvement, η ← max(η · factor,
    `min_lr`) and the count restarts; then `cooldown` epochs pass before counting again.
    A NaN metric counts as no improvement.
    """

    saved_attributes = (
        "mode",
        "factor",
        "patience",
        "threshold",
        "threshold_mode",
        "cooldown",
        "min_lr",
        "eps",
        "best",
        "num_bad_epochs",
        "cooldown_counter",
    )

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lr, self.eps = cooldown, min_lr, eps
        self.best: float | None = None  # None: no metric seen yet
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        super().__init__(optimizer)

    def _check(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {self.mode!r}")
        if self.threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {self.threshold_mode!r}")
        self.factor = check_number("factor", self.factor, low=0.0, high=1.0, high_open=True)
        self.patience = _check_int("patience", self.patience, low=0)
        self.threshold = check_number("threshold", self.threshold, low=0.0)
        self.cooldown = _check_int("cooldown", self.cooldown, low=0)
        self.min_lr = check_number("min_lr", self.min_lr, low=0.0)
        self.eps = check_number("eps", self.eps, low=0.0)
        if self.best is not None:
            self.best = float(self.best)
        self.num_bad_epochs = _check_int("num_bad_epochs", self.num_bad_epochs, low=0)
        self.cooldown_counter = _check_int("cooldown_counter", self.cooldown_counter, low=0)

    def step(self, metric: float | None = None) -> None:
        """Record this epoch's `metric` and reduce η after more than `patience` bad epochs."""
        if self.last_epoch < 0:  # the constructor's call: nothing to judge yet
            self.last_epoch = 0
            return
        if metric is None:
            raise ValueError("ReduceLROnPlateau.step() needs the monitored metric, e.g. val_loss")
        current = float(metric)
        self.last_epoch += 1
        if self._improves(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:  # bad epochs do not count while cooling down
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            lrs = []
            for group in self.optimizer.param_groups:
                old = group["lr"]
                new = max(old * self.factor, self.min_lr)
                lrs.append(new if old - new > self.eps else old)  # skip negligible changes
            self._set_lrs(lrs)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        else:
            self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _improves(self, current: float) -> bool:
        if math.isnan(current):
            return False
        if self.best is None:
            return True
        best, th = self.best, self.threshold
        if self.mode == "min":
            return current < (best * (1 - th) if self.threshold_mode == "rel" else best - th)
        return current > (best * (1 + th) if self.threshold_mode == "rel" else best + th)


# Schedules by name, for the estimators and the command line (None: a constant η).
SCHEDULES: dict[str | None, type[LRScheduler] | None] = {
    "step": StepLR,
    "exponential": ExponentialLR,
    "cosine": CosineAnnealingLR,
    "plateau": ReduceLROnPlateau,
    None: None,
}


def get_schedule(name: str | None) -> type[LRScheduler] | None:
    """The schedule class called `name` (None for a constant learning rate)."""
    if name not in SCHEDULES:
        valid = ", ".join(repr(k) for k in SCHEDULES)
        raise ValueError(f"unknown learning-rate schedule {name!r}; valid: {valid}")
    return SCHEDULES[name]


def make_schedule(
    name: str | None, optimizer: Optimizer, epochs: int, **kwargs: Any
) -> LRScheduler | None:
    """Build the schedule `name` for a run of `epochs` epochs, with defaults that suit it.

    Defaults (override any through `kwargs`): ``"step"``: η × 0.1 every ⌈epochs / 3⌉ epochs;
    ``"exponential"``: γ = 0.01^(1/epochs), so η ends near η₀/100; ``"cosine"``: T_max = epochs
    (minus any warm-up), down to 0; ``"plateau"``: PyTorch's (factor 0.1, patience 10).
    Returns None for ``name=None``.
    """
    cls = get_schedule(name)
    if cls is None:
        return None
    epochs = _check_int("epochs", epochs, low=1)
    if cls is StepLR:
        defaults: dict[str, Any] = {"step_size": max(1, math.ceil(epochs / 3)), "gamma": 0.1}
    elif cls is ExponentialLR:
        defaults = {"gamma": 0.01 ** (1 / epochs)}
    elif cls is CosineAnnealingLR:
        warmup = _check_int("warmup_epochs", kwargs.get("warmup_epochs", 0), low=0)
        defaults = {"T_max": max(1, epochs - warmup)}
    else:
        defaults = {}
    return cls(optimizer, **{**defaults, **kwargs})


def _check_int(name: str, value: Any, *, low: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if number < low:
        raise ValueError(f"invalid {name}={number}: it must be >= {low}")
    return number
