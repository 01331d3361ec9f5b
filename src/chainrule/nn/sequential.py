"""`Sequential`, a chain of modules, and where the fused dense chain is switched on.

Before it had this module, `Sequential` lived in `chainrule.nn.module`; pickles made then name
it there, and `chainrule.nn` keeps that name pointing here so that they still load.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chainrule.fast.dense_chain import dense_chain, plan_chain
from chainrule.nn.module import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """A chain of modules: ``Sequential(f1, f2, f3)(x) = f3(f2(f1(x)))``.

    The lecture's K-layer network z⁽ᵏ⁾ = σ(W⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾) is
    ``Sequential(Dense(N0, N1), Sigmoid(), Dense(N1, N2), Sigmoid(), ...)``. The modules are
    named by position ("0", "1", ...), so the first weight is ``"0.weight"`` in the state dict.
    Supports ``len``, iteration, ``seq[i]`` and ``seq[i:j]`` (a new Sequential sharing modules).

    With ``fuse=True`` (the default) a chain of only `Dense` layers and ReLU / tanh / sigmoid /
    identity activations runs as one op, the fast path `chainrule.fast.dense_chain`: the same
    numbers as calling the layers one by one (tested), less overhead and memory, one node in
    the graph. ``fuse=False`` records each layer as its own op (each layer's `forward` runs).
    """

    fuse = True  # class default, for instances unpickled from before the option existed

    def __init__(self, *modules: Module, fuse: bool = True) -> None:
        super().__init__()
        self.fuse = bool(fuse)
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> Sequential:
        """Add `module` at the end; return self."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential takes Modules, got {type(module).__name__}")
        setattr(self, str(len(self._modules)), module)
        return self

    def forward(self, x: Any) -> Any:
        # Fast path, visible here: a chain of Dense layers and activations (an MLP) runs as one
        # fused op that equals the loop below (chainrule.fast.dense_chain; fuse=False skips it).
        if self.fuse:
            layers = plan_chain(self._modules.values())
            if layers is not None:
                out = dense_chain(x, layers)
                if out is not None:
                    return out
        # The definition: f_K(…f_2(f_1(x))), each module's own forward.
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        mods = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*mods[index], fuse=self.fuse)
        try:
            return mods[index]
        except IndexError:
            raise IndexError(
                f"index {index} out of range for Sequential of length {len(mods)}"
            ) from None
