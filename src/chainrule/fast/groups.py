"""One update for a whole parameter group whose parameters live in one flat buffer.

Fast path for: `Optimizer.step`'s loop ``for p in group: rule(p.data, p.grad, state[p])``.
It must give the same numbers (the rule is element-wise): ``tests/fast/test_groups.py`` steps
a flattened and a plain copy of the same model and compares weights and optimizer state.

After `chainrule.fast.flatten_parameters`, every parameter is a view into one flat array, and
``backward()`` leaves every gradient in a view of one flat gradient array. An update rule is
element-wise, so for such a group ``rule(w, g, state)`` on the two flat arrays does in one call
what the per-parameter loop does in one call per parameter: a dozen NumPy calls per step
instead of a dozen per parameter, which decides the speed of small networks.

The per-parameter state (Adam's m and v, ...) is kept in flat arrays too, and each parameter's
entry in ``optimizer.state`` is a view into them, so `state_dict`, `load_state_dict` and the
per-parameter path (used for any step where a gradient is missing or not in its buffer) see
and update the same numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.autograd import Tensor
from chainrule.autograd.tensor import Array
from chainrule.fast.flat import memory_order


def _address(a: Array) -> int:
    return int(a.__array_interface__["data"][0])


def _span(arrays: Sequence[Array | None]) -> tuple[Array, int, int] | None:
    """(base, start, stop) when `arrays` are contiguous views of one 1-d array, consecutive
    and in order: then ``base[start:stop]`` holds all of them (each in its own memory order,
    row- or column-major). Otherwise None."""
    first = arrays[0]
    if first is None:
        return None
    base = first.base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    item = base.itemsize
    start = offset = (_address(first) - _address(base)) // item
    for a in arrays:
        if (
            a is None
            or a.base is not base
            or a.dtype != base.dtype
            or not (a.flags.c_contiguous or a.flags.f_contiguous)
            or _address(a) - _address(base) != offset * item
        ):
            return None
        offset += a.size
    return base, start, offset


class FlatGroup:
    """A parameter group laid out consecutively in one parameter and one gradient buffer.

    Attributes
    ----------
    data, grad : numpy.ndarray
        1-d views of the whole group's weights and of their gradient buffers.
    views, grad_views : list of numpy.ndarray
        Each parameter's ``.data`` and gradient buffer when the layout was found; a step takes
        the flat path only while every ``p.data`` and ``p.grad`` are still these very arrays.
    state : dict or None
        The rule's state for the flat arrays (None until adopted, or after a per-parameter step).
    states : list of dict
        The per-parameter state dicts whose arrays are views into `state`.
    """

    def __init__(self, params: Sequence[Tensor], data: Array, grad: Array) -> None:
        self.params = list(params)
        self.data, self.grad = data, grad
        self.views = [p.data for p in self.params]
        self.grad_views = [p._grad_buffer for p in self.params]  # type: ignore[attr-defined]
        bounds = np.cumsum([0] + [v.size for v in self.views])
        self.slices = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        self.state: dict[str, Any] | None = None
        self.states: list[dict[str, Any]] = []
        self._checks: tuple[tuple[Any, ...], ...] = ()

    def grads_ready(self) -> bool:
        """Every parameter's gradient is its buffer (so the flat gradient is complete)."""
        return all(p.grad is b for p, b in zip(self.params, self.grad_views, strict=True))

    def ready(self, state: dict[Tensor, dict[str, Any]]) -> bool:
        """The flat path applies to this step: same layout, every gradient in its buffer, and
        the optimizer's per-parameter state still the views of the flat state (one loop, as it
        runs every step)."""
        if self.state is None:
            return False
        for p, v, b, st in self._checks:
            if p.data is not v or p.grad is not b or state.get(p) is not st:
                return False
        return True

    def adopt_state(
        self,
        state: dict[Tensor, dict[str, Any]],
        init: Callable[[Array], dict[str, Any]],
    ) -> bool:
        """Gather the group's per-parameter state into flat arrays (views left behind).

        Parameters without state get ``init(p.data)``. Returns False, changing nothing, when
        the parameters' states cannot share one flat state (different entries or step counts).
        """
        states = [state[p] if p in state else init(p.data) for p in self.params]
        keys = set(states[0])
        flat: dict[str, Any] = {}
        for name, value in states[0].items():
            if not isinstance(value, np.ndarray):
                flat[name] = value
        for st in states:
            if set(st) != keys or any(st[k] != v for k, v in flat.items()):
                return False
        for name in keys - set(flat):
            buf = np.empty(self.data.size, dtype=states[0][name].dtype)
            for st, sl, v in zip(states, self.slices, self.views, strict=True):
                buf[sl] = st[name].ravel(order=memory_order(v))  # element i ↔ weight i
            flat[name] = buf
        for p, st in zip(self.params, states, strict=True):
            state[p] = st
        self.state, self.states = flat, states
        self._checks = tuple(zip(self.params, self.views, self.grad_views, states, strict=True))
        self._link_views()
        return True

    def sync_state(self) -> None:
        """After a flat step: copy the scalar entries (step counts) to every parameter's state,
        and give each parameter views of any state array the step created."""
        assert self.state is not None
        created = False
        for name, value in self.state.items():
            if isinstance(value, np.ndarray):
                created = created or name not in self.states[0]
            else:
                for st in self.states:
                    st[name] = value
        if created:
            self._link_views()

    def _link_views(self) -> None:
        assert self.state is not None
        for name, buf in self.state.items():
            if isinstance(buf, np.ndarray):
                for st, sl, v in zip(self.states, self.slices, self.views, strict=True):
                    st[name] = buf[sl].reshape(v.shape, order=memory_order(v))


def contiguous_view(arrays: Sequence[Array]) -> Array | None:
    """One 1-d view covering all of `arrays`, when they are consecutive views of one buffer
    (as `flatten_parameters` lays out parameters); None otherwise.

    For code that visits every parameter each step (a copy, a finiteness check): one NumPy
    call on this view instead of one per parameter.
    """
    if not arrays:
        return None
    span = _span(list(arrays))
    if span is None:
        return None
    base, start, stop = span
    return base[start:stop]


def find_flat_group(params: Sequence[Tensor]) -> FlatGroup | None:
    """The flat layout of `params`, or None when they are not consecutive views of one buffer
    (data and gradient buffers alike); a group of one parameter gains nothing and gives None."""
    if len(params) < 2:
        return None
    data = _span([p.data for p in params])
    if data is None:
        return None
    grad = _span([getattr(p, "_grad_buffer", None) for p in params])
    if grad is None:
        return None
    base, start, stop = data
    gbase, gstart, gstop = grad
    return FlatGroup(params, base[start:stop], gbase[gstart:gstop])


class GroupLayout:
    """What an optimizer remembers of one parameter group's flat layout between steps.

    The layout is looked for again only when a parameter's ``.data`` has been rebound. A copy
    (pickle, deepcopy, joblib) remembers nothing: it keeps the identity of the parameters'
    arrays but gives every view its own memory, so a remembered layout would update a buffer
    that no parameter uses any more; the copy looks for its own.
    """

    def __init__(self) -> None:
        self.datas: list[Array] = []  # the parameters' .data when the layout was examined
        self.flat: FlatGroup | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"datas": [], "flat": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def flat_for_step(
        self,
        params: Sequence[Tensor],
        state: dict[Tensor, dict[str, Any]],
        init_state: Callable[[Array, dict[str, Any]], dict[str, Any]],
        group: dict[str, Any],
    ) -> FlatGroup | None:
        """The group's flat layout if this step can use it (state gathered), else None."""
        flat = self.flat
        if flat is not None and flat.ready(state):
            return flat
        if len(self.datas) != len(params) or any(
            p.data is not d for p, d in zip(params, self.datas, strict=True)
        ):
            flat = self.flat = find_flat_group(params)
            self.datas = [p.data for p in params]
        if flat is None:
            return None
        if not flat.grads_ready():
            flat.state = None  # this step goes parameter by parameter: gather the state later
            return None
        if not flat.adopt_state(state, lambda w: init_state(w, group)):
            return None
        return flat
