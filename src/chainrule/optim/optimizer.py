"""`Optimizer`: the bookkeeping shared by every gradient-descent rule.

An optimizer holds the parameters in *groups* (each group a dict of its own hyperparameters, as in
PyTorch), a small *state* per parameter (moment estimates, step count) and a scratch workspace.
`step()` applies the rule w ← w − Δw to every parameter that has a gradient; the subclasses only
write the rule (`_update`).

Two promises make optimizers safe to combine with the rest of the library:

* ``p.data`` is updated in place and never rebound, so a parameter may be a view into a larger
  (flat) buffer;
* ``p.grad`` is only read, never written: the engine may share one gradient array between tensors.

Each optimizer module writes its rule twice, side by side: a plain function as the lecture
writes it (`sgd_rule`, `adam_rule`, `rmsprop_rule`: new arrays, every symbol in sight), which the
tests use as the reference, and the in-place fast path it calls from `_update`
(`chainrule.fast.updates`: NumPy ``out=``, so a step allocates no arrays after the first).
When a group's parameters are views into one flat buffer (`chainrule.fast.flatten_parameters`),
the rule runs once on the whole buffer (`chainrule.fast.groups`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, ClassVar

import numpy as np

from chainrule.autograd import Tensor
from chainrule.autograd.tensor import Array
from chainrule.fast.backup import StepBackup
from chainrule.fast.groups import GroupLayout
from chainrule.fast.updates import FLUSH_EVERY, Workspace, flush_subnormals, state_buffer

__all__ = [
    "FLUSH_EVERY",
    "Optimizer",
    "ParamsLike",
    "check_bool",
    "check_number",
    "flush_subnormals",
    "state_buffer",
]

ParamsLike = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class: parameter groups, per-parameter state, `step`, `zero_grad`, `state_dict`.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The tensors to optimise (e.g. ``model.parameters()``), or parameter groups: dicts with a
        ``"params"`` list and any hyperparameters that differ from `defaults` for that group,
        e.g. ``[{"params": body}, {"params": head, "lr": 1e-2}]``.
    defaults : dict
        The hyperparameters of every group that does not set its own.

    Attributes
    ----------
    param_groups : list of dict
        Each group's ``"params"`` (a list of Tensors) and hyperparameters. Change ``"lr"`` here to
        change the learning rate (learning-rate schedules do exactly that).
    state : dict
        Per-parameter state, keyed by the parameter, each a dict of name -> array or number.
    """

    #: Names of the per-parameter state entries this optimizer may keep (checked on loading).
    state_names: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, params: ParamsLike, defaults: Mapping[str, Any]) -> None:
        if isinstance(params, Tensor | Mapping):
            what = "Tensor" if isinstance(params, Tensor) else "dict"
            raise ValueError(
                "params must be an iterable of Tensors or of parameter-group dicts, "
                f"got a single {what} (wrap it in a list)"
            )
        self.defaults: dict[str, Any] = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        # Reusable arrays for the in-place updates (`chainrule.fast.updates`).
        self._scratch = Workspace()
        # Per group: its flat layout, if any (the fast path, `chainrule.fast.groups`).
        self._layouts: list[GroupLayout] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], Mapping):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (defaults fill the rest)."""
        if not isinstance(param_group, Mapping) or "params" not in param_group:
            raise ValueError("a parameter group must be a dict with a 'params' entry")
        unknown = set(param_group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(
                f"unknown hyperparameter(s) {sorted(unknown)} for {type(self).__name__}; "
                f"valid: {sorted(self.defaults)}"
            )
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError("a parameter group has an empty 'params' list")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise ValueError(f"optimizer params must be Tensors, got {type(p).__name__}")
            if p.dtype.kind != "f":
                raise ValueError(f"optimizer params must be floating tensors, got {p.dtype}")
            if not p.is_leaf:
                raise ValueError(
                    f"cannot optimise a non-leaf tensor (the result of {p.op!r}): "
                    "pass the parameters themselves"
                )
            if id(p) in seen:
                raise ValueError("a parameter appears more than once in the optimizer's params")
            seen.add(id(p))
            self._scratch.reserve(p.size)
        group = {**self.defaults, **param_group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)
        self._layouts.append(GroupLayout())

    #: Hyperparameters that are numbers ≥ 0 wherever an optimizer has them (η, ε, λ, μ).
    non_negative: ClassVar[tuple[str, ...]] = ("lr", "eps", "weight_decay", "momentum")
    #: Hyperparameters that switch a variant on or off, wherever an optimizer has them.
    switches: ClassVar[tuple[str, ...]] = ("amsgrad", "centered", "nesterov")

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate (and normalise in place) a group's hyperparameters; subclasses extend."""
        for name in self.non_negative:
            if name in group:
                group[name] = check_number(name, group[name], low=0.0)
        for name in self.switches:
            if name in group:
                group[name] = check_bool(name, group[name])

    # ------------------------------------------------------------------ the update
    def step(
        self, closure: Callable[[], Any] | None = None, *, backup: StepBackup | None = None
    ) -> Any:
        """Update every parameter that has a gradient (those with ``grad is None`` are skipped).

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss (called before the update, as in
            PyTorch); its result is returned.
        backup : chainrule.fast.backup.StepBackup, optional
            Receives the weights as they were before the step, to undo it (`cr.fit`'s
            divergence guard); see `chainrule.fast.backup`.
        """
        loss = closure() if closure is not None else None
        update = self._update if backup is None else partial(self._update_saving, backup)
        for group, layout in zip(self.param_groups, self._layouts, strict=True):
            # Fast path: a group laid out in one flat buffer is updated in one call of the rule
            # (`chainrule.fast.groups`); the same numbers as the loop below.
            flat = layout.flat_for_step(group["params"], self.state, self._init_state, group)
            if flat is not None:
                update(flat.data, flat.grad, flat.state, group)  # type: ignore[arg-type]
                flat.sync_state()
                continue
            # The definition: each parameter's rule, w ← w − Δw.
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g.shape != p.data.shape:
                    raise ValueError(
                        f"gradient of shape {g.shape} for a parameter of shape {p.data.shape}"
                    )
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = self._init_state(p.data, group)
                update(p.data, g, state, group)
        return loss

    _update_keeps: ClassVar[bool] = False  # the class's `_update` takes keep= (as below)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._update_keeps = "keep" in inspect.signature(cls._update).parameters

    def _update_saving(
        self, backup: StepBackup, w: Array, g: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """`_update`, with w's old values saved into `backup` first (see `step`)."""
        i = backup.slot(w) if self._update_keeps else None
        if i is None:
            backup.save_all()
            self._update(w, g, state, group)
        else:
            backup.saved(i, self._update(w, g, state, group, keep=backup.copies[i]))  # type: ignore

    def _init_state(self, w: Array, group: dict[str, Any]) -> dict[str, Any]:
        """Fresh state for parameter data `w` (before its first step)."""
        return {}

    def _update(self, w: Array, g: Array, state: dict[str, Any], group: dict[str, Any]) -> Any:
        """Apply one step to `w` in place, given its gradient `g` (read only).

        A subclass's `_update` may take ``keep=None``: an array laid out as `w`, into which it
        writes w's values before the step; it returns whether the new values are all finite
        (None: not checked). See `step`.
        """
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Clear every parameter's gradient (set it to None, so the next backward starts anew)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the optimizer, made of plain numbers, strings, lists, dicts and arrays.

        Structure::

            {"param_groups": [{"lr": 0.1, ..., "params": [0, 1]}, ...],
             "state": {0: {"step": 3, "exp_avg": ndarray, ...}, ...}}

        Parameters are numbered in order through the groups; ``"params"`` lists each group's
        numbers and ``"state"`` is keyed by them (parameters not stepped yet have no entry).
        Arrays are copies, so the snapshot does not change as training goes on. Tuples (Adam's
        ``betas``) become lists. Nothing needs pickle: arrays can go to ``.npz``, the rest to JSON
        (string keys such as ``"0"`` are accepted back).
        """
        groups: list[dict[str, Any]] = []
        state: dict[int, dict[str, Any]] = {}
        index = 0
        for group in self.param_groups:
            saved = {k: _plain(v) for k, v in group.items() if k != "params"}
            saved["params"] = list(range(index, index + len(group["params"])))
            groups.append(saved)
            for p in group["params"]:
                if p in self.state:
                    state[index] = {
                        k: v.copy() if isinstance(v, np.ndarray) else v
                        for k, v in self.state[p].items()
                    }
                index += 1
        return {"param_groups": groups, "state": state}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore hyperparameters and state saved by `state_dict` (for the same parameters).

        Raises
        ------
        ValueError
            If the structure, the number of groups or parameters, a hyperparameter name, or a
            state entry's name or shape does not match this optimizer.
        """
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"param_groups", "state"}:
            raise ValueError("an optimizer state_dict must be a dict with 'param_groups', 'state'")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, list | tuple) or not all(
            isinstance(g, Mapping) for g in saved_groups
        ):
            raise ValueError("state_dict['param_groups'] must be a list of dicts")
        if not isinstance(state_dict["state"], Mapping):
            raise ValueError("state_dict['state'] must be a dict: parameter number -> entries")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"state_dict has {len(saved_groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        params: list[tuple[Tensor, dict[str, Any]]] = []  # (parameter, its new group)
        new_groups = []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            keys = set(saved) - {"params"}
            if keys != set(self.defaults):
                raise ValueError(
                    f"parameter group {i}: saved hyperparameters {sorted(keys)} do not match "
                    f"{type(self).__name__}'s {sorted(self.defaults)}"
                )
            n_saved = len(saved.get("params", group["params"]))
            if n_saved != len(group["params"]):
                raise ValueError(
                    f"parameter group {i} has {n_saved} parameters in the state_dict, "
                    f"{len(group['params'])} here"
                )
            new = {k: v for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            self._check_group(new)
            new_groups.append(new)
            params.extend((p, new) for p in group["params"])

        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, entries in state_dict["state"].items():
            index = _as_index(key, len(params))
            p, group = params[index]
            new_state[p] = self._load_entries(index, p, entries, group)
        self.param_groups = new_groups
        self.state = new_state
        self._layouts = [GroupLayout() for _ in new_groups]  # the flat state must be gathered anew

    def _load_entries(
        self, index: int, p: Tensor, entries: Mapping[str, Any], group: dict[str, Any]
    ) -> dict[str, Any]:
        if not isinstance(entries, Mapping):
            raise ValueError(f"state of parameter {index} must be a dict of name -> value")
        unknown = set(entries) - self.state_names
        if unknown:
            raise ValueError(
                f"state of parameter {index}: unknown entries {sorted(unknown)} for "
                f"{type(self).__name__} (valid: {sorted(self.state_names)})"
            )
        missing = set(self._init_state(p.data, group)) - set(entries)
        if missing:
            raise ValueError(f"state of parameter {index}: missing entries {sorted(missing)}")
        out: dict[str, Any] = {}
        for name, value in entries.items():
            arr = np.asarray(value)
            if arr.dtype.kind not in "iuf":
                raise ValueError(f"state of parameter {index}: {name!r} is not numeric")
            if name == "step":
                if arr.ndim != 0 or not np.isfinite(arr) or arr < 0 or arr != np.floor(arr):
                    raise ValueError(f"state of parameter {index}: 'step' must be an integer >= 0")
                out[name] = int(arr)
            elif arr.shape != p.shape:
                raise ValueError(
                    f"state of parameter {index}: {name!r} has shape {arr.shape}, "
                    f"the parameter has shape {p.shape}"
                )
            else:  # a copy laid out like the parameter (column-major for Dense weights)
                out[name] = np.empty_like(p.data)
                np.copyto(out[name], arr, casting="unsafe")
        return out

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i} ({len(group['params'])} tensors)")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join([*lines, ")"])


# ---------------------------------------------------------------------- validation helpers
def hyperparameters(arguments: dict[str, Any]) -> dict[str, Any]:
    """An optimizer's hyperparameters from its constructor's ``locals()``: every argument but
    ``self`` and ``params``, by name (they become the defaults of its parameter groups).

    Call it first thing in ``__init__``, before any other local variable exists.
    """
    return {k: v for k, v in arguments.items() if k not in ("self", "params", "__class__")}


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    high_open: bool = False,
) -> float:
    """`value` as a Python float, or a ValueError naming `name` if it is not a finite number in
    [low, high] (or [low, high) with ``high_open``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    too_low = low is not None and x < low
    too_high = high is not None and (x >= high if high_open else x > high)
    if too_low or too_high:
        closing = ")" if high_open else "]"
        rule = f">= {low}" if high is None else f"in [{low}, {high}{closing}"
        raise ValueError(f"invalid {name}={x}: it must be {rule}")
    return x


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _plain(value: Any) -> Any:
    """Hyperparameters as JSON-friendly values (tuples become lists)."""
    return list(value) if isinstance(value, tuple) else value


def _as_index(key: Any, n: int) -> int:
    try:
        index = int(key)
    except (TypeError, ValueError):
        message = f"state_dict['state'] keys must be parameter numbers, not {key!r}"
        raise ValueError(message) from None
    if not 0 <= index < n or str(index) != str(key).strip():
        raise ValueError(f"state_dict['state'] has parameter number {key!r}; there are {n}")
    return index
