"""`Module`, the base of every layer and network (`Sequential`, a chain of modules, is in
`chainrule.nn.sequential`).

A module owns parameters (`Parameter`), buffers (plain arrays such as batch-norm running
statistics) and sub-modules, all registered by assigning them as attributes, as in PyTorch.
Names are dotted paths: in ``Sequential(Dense(2, 3), Sigmoid())`` the first weight is
``"0.weight"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar, NamedTuple

import numpy as np

from chainrule.autograd.tensor import Array
from chainrule.fast.flat import flatten_parameters
from chainrule.nn.parameter import Parameter

__all__ = ["IncompatibleKeys", "Module"]


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict` did not match (both empty after a strict load)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class for layers and networks: subclasses set attributes and define `forward`.

    Assigning a `Parameter` or a `Module` to an attribute registers it; `register_buffer`
    registers a non-learned array that belongs in the state dict. Registered objects are also
    ordinary attributes, so ``self.weight`` in `forward` costs no more than any attribute.

    Attributes
    ----------
    training : bool
        True in training mode (the default), False after `eval()`. Dropout and batch norm act
        differently in the two modes.
    penalized_parameters : tuple of str
        Names of this module's own parameters that `l1_penalty` / `l2_penalty` regularize
        (``("weight",)`` for `Dense`; nothing for biases and batch-norm parameters).
    optional_buffers : tuple of str
        Names of this module's own buffers that `load_state_dict` does not require.
    """

    penalized_parameters: ClassVar[tuple[str, ...]] = ()
    #: Buffers that a loaded state may lack (they keep their value), as PyTorch lets a
    #: BatchNorm state come without its batch counter.
    optional_buffers: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        # object.__setattr__: our __setattr__ needs these registries to exist already.
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        try:
            params, buffers, modules = self._parameters, self._buffers, self._modules
        except AttributeError:
            raise AttributeError(
                f"assign {name!r} after calling super().__init__() in {type(self).__name__}"
            ) from None
        if isinstance(value, Parameter):
            buffers.pop(name, None)
            modules.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in params:
            if value is not None:  # None switches a parameter off (e.g. bias=False)
                raise TypeError(
                    f"cannot assign {type(value).__name__} to parameter {name!r}: "
                    "use a Parameter, or update it in place through .data"
                )
            params[name] = None
        elif name in buffers:
            buffers[name] = None if value is None else np.asarray(value)
            value = buffers[name]
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to sub-module {name!r}")
            modules[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: Any) -> None:
        """Register a state array that is not learned (it goes into `state_dict`)."""
        if not name.isidentifier() or "." in name:
            raise ValueError(f"buffer name must be an identifier without dots, got {name!r}")
        if name in self._parameters or name in self._modules:
            raise ValueError(f"{name!r} is already a parameter or sub-module")
        self._buffers[name] = None if value is None else np.asarray(value)
        object.__setattr__(self, name, self._buffers[name])

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` under `name` (same as assigning it as an attribute)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter needs a Parameter, got {type(param).__name__}")
        self._parameters.setdefault(name, None)
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register `module` under `name` (same as assigning it as an attribute)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module needs a Module, got {type(module).__name__}")
        self._modules.setdefault(name, None)
        setattr(self, name, module)

    # ------------------------------------------------------------------ forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ traversal
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct sub-module."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module ('') and every module below it, each once."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            # Reversed so that the stack yields children in registration order.
            for child_name, child in reversed(list(module.named_children())):
                stack.append((f"{name}.{child_name}" if name else child_name, child))

    def modules(self) -> Iterator[Module]:
        """This module and every module below it."""
        for _, module in self.named_modules():
            yield module

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs; a parameter shared by two modules is listed once."""
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_name, module in mods:
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The learnable parameters (what an optimizer updates)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Array]]:
        """(dotted name, array) for every buffer."""
        for mod_name, module in self.named_modules(prefix):
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self) -> Iterator[Array]:
        """The buffers (non-learned state) of this module and its sub-modules."""
        for _, b in self.named_buffers():
            yield b

    def num_parameters(self) -> int:
        """The number of learnable scalars."""
        return sum(p.data.size for p in self.parameters())

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (`mode=True`) or evaluation mode on every sub-module; return self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off, batch norm uses running statistics); returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Clear the gradients of all parameters (``p.grad = None``)."""
        for p in self.parameters():
            p.grad = None

    def flatten_parameters(self) -> Module:
        """Lay every parameter out in one flat buffer, gradients in another; return self.

        The optimizer then updates the whole model with one call per step instead of one per
        parameter (see `chainrule.fast.flatten_parameters`, which also explains the caveats).
        """
        flatten_parameters(self)
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn(module)`` on every sub-module and then on this one; return self."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # ------------------------------------------------------------------ state
    def _named_state(self) -> Iterator[tuple[str, Array]]:
        """Every array of the state dict, without copying: parameters' data and buffers."""
        seen: set[int] = set()
        for mod_name, module in self.named_modules():
            items = [(n, p.data if p is not None else None) for n, p in module._parameters.items()]
            items += list(module._buffers.items())
            for name, arr in items:
                if arr is None or id(arr) in seen:
                    continue
                seen.add(id(arr))
                yield (f"{mod_name}.{name}" if mod_name else name), arr

    def state_dict(self) -> dict[str, Array]:
        """Name -> copy of every parameter and buffer (e.g. ``"0.weight"``, ``"1.running_mean"``).

        The arrays are copies, so later training does not change a saved state.
        """
        return {name: arr.copy() for name, arr in self._named_state()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy the arrays of `state_dict` into this module's parameters and buffers, in place.

        Parameters
        ----------
        state_dict : dict
            Name -> array, as `state_dict()` returns.
        strict : bool
            Require exactly the module's keys. With ``strict=False``, missing and unexpected
            keys are skipped and returned.

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)``.

        Raises
        ------
        ValueError
            Naming the missing and unexpected keys (strict) or any shape mismatch. Nothing is
            changed when it is raised.
        """
        if not isinstance(state_dict, dict):
            raise ValueError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        own = dict(self._named_state())
        optional = {
            f"{prefix}.{b}" if prefix else b
            for prefix, m in self.named_modules()
            for b in m.optional_buffers
        }
        missing = [k for k in own if k not in state_dict and k not in optional]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {', '.join(unexpected)}")
        values: dict[str, Array] = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = np.asarray(state_dict[key])
            if value.shape != target.shape:
                problems.append(
                    f"shape mismatch for {key}: got {value.shape}, expected {target.shape}"
                )
            elif value.dtype.kind not in "biuf":
                problems.append(f"non-numeric array for {key}: dtype {value.dtype}")
            values[key] = value
        if problems:
            raise ValueError(
                f"cannot load state into {type(self).__name__}: " + "; ".join(problems)
            )
        # In place: parameters may be views into a larger buffer, and optimizers hold them.
        for key, value in values.items():
            np.copyto(own[key], value, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The layer's settings shown inside its parentheses (override in subclasses)."""
        return ""

    def _repr_tree(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in children:
            body = child._repr_tree().replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"

    def __repr__(self) -> str:
        n = self.num_parameters()
        tree = self._repr_tree()
        return f"{tree}  # {n:,} parameter{'s' if n != 1 else ''}" if n else tree

    def summary(self, input_shape: Any = None) -> Any:
        """A Keras-style table: each layer, its output shape for samples of `input_shape`
        (default: the first layer's ``in_features``) and its parameter count, then the
        trainable and non-trainable totals. Print it, or show it in a notebook."""
        from chainrule.nn.summary import summarize  # the table code lives beside, not here

        return summarize(self, input_shape)
