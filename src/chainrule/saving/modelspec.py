"""Networks as JSON and back: the architecture part of a model file.

A network is described by a tree of plain records, one per layer, holding the layer's type
and constructor arguments::

    {"type": "Sequential", "layers": [
        {"type": "Dense", "in_features": 64, "out_features": 32, "bias": true},
        {"type": "ReLU"}, ...]}

`rebuild_network` rebuilds the modules from such a tree. Only the types in `LAYERS` exist for it:
the type name is a key of that table, never something to import, so a file cannot make
loading run code. Each argument is type-checked, and each layer's weights must be present in
the file with the shapes its arguments imply *before* the layer allocates anything, so an
absurd declared size cannot exhaust memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.nn import (
    BatchNorm,
    Dense,
    Dropout,
    Identity,
    LeakyReLU,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from chainrule.saving.modelspec_conv import CONV_LAYERS, SPATIAL, batch_norm_builder
from chainrule.saving.modelspec_conv import describe as describe_spatial

__all__ = ["LAYERS", "describe_network", "network_io", "rebuild_network"]

Array = npt.NDArray[Any]
MAX_DEPTH = 32
MAX_LAYERS = 100_000
_FLOAT_KINDS = "f"


def _int(spec: Mapping[str, Any], key: str, low: int = 1) -> int:
    v = spec.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise ValueError(f"{spec.get('type')}: {key} must be an integer >= {low}, got {v!r}")
    return v


def _float(spec: Mapping[str, Any], key: str) -> float:
    v = spec.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"{spec.get('type')}: {key} must be a finite number, got {v!r}")
    return float(v)


def _bool(spec: Mapping[str, Any], key: str) -> bool:
    v = spec.get(key)
    if not isinstance(v, bool):
        raise ValueError(f"{spec.get('type')}: {key} must be true or false, got {v!r}")
    return v


class _Weights:
    """The file's arrays, looked up by state-dict name with the shape a layer expects."""

    def __init__(self, arrays: Mapping[str, Array], prefix: str) -> None:
        self.arrays = arrays
        self.prefix = prefix

    def get(self, name: str, shape: tuple[int, ...]) -> Array:
        a = self.arrays.get(self.prefix + name)
        if a is None:
            raise ValueError(f"the weights {name!r} are missing")
        if a.shape != shape:
            raise ValueError(f"the weights {name!r} have shape {a.shape}, the layer needs {shape}")
        if a.dtype.kind not in _FLOAT_KINDS:
            raise ValueError(f"the weights {name!r} have the non-float dtype {a.dtype}")
        if not np.isfinite(a).all():  # `save` never writes such weights: the file is damaged
            raise ValueError(f"the weights {name!r} hold NaN or infinite values")
        return a


def _dense(spec: Mapping[str, Any], w: _Weights, path: str) -> Module:
    n_in, n_out, bias = _int(spec, "in_features"), _int(spec, "out_features"), _bool(spec, "bias")
    weight = w.get(f"{path}weight", (n_out, n_in))
    if bias:
        w.get(f"{path}bias", (n_out,))
    # "zeros": no randomness drawn; the file's weights are copied in afterwards.
    return Dense(n_in, n_out, bias=bias, init="zeros", dtype=weight.dtype)


def _no_args(cls: type[Module]) -> Callable[[Mapping[str, Any], _Weights, str], Module]:
    return lambda spec, w, path: cls()


# Layer type name -> (the class, its builder). The only types a model file can name.
LAYERS: dict[str, tuple[type[Module], Callable[[Mapping[str, Any], _Weights, str], Module]]] = {
    "Dense": (Dense, _dense),
    "BatchNorm": (BatchNorm, batch_norm_builder(BatchNorm)),
    "Dropout": (Dropout, lambda spec, w, path: Dropout(_float(spec, "rate"))),
    "Sigmoid": (Sigmoid, _no_args(Sigmoid)),
    "Tanh": (Tanh, _no_args(Tanh)),
    "ReLU": (ReLU, _no_args(ReLU)),
    "Identity": (Identity, _no_args(Identity)),
    "LeakyReLU": (
        LeakyReLU,
        lambda spec, w, path: LeakyReLU(_float(spec, "negative_slope")),
    ),
    "Softmax": (Softmax, lambda spec, w, path: Softmax(_int(spec, "axis", low=-32))),
}
LAYERS.update(CONV_LAYERS)  # Conv1d/2d, pooling, Flatten, BatchNorm1d/2d (modelspec_conv)
_NAMES = {cls: name for name, (cls, _) in LAYERS.items()}


def describe_network(module: Module) -> dict[str, Any]:
    """The JSON record of `module`: a `Sequential` of the layers in `LAYERS`, nested freely.

    Raises
    ------
    ValueError
        For any other module type (subclasses included: their `forward` could differ).
    """
    kind = type(module)
    if kind is Sequential:
        return {"type": "Sequential", "layers": [describe_network(m) for m in module]}
    name = _NAMES.get(kind)
    if name is None:
        known = ", ".join(["Sequential", *LAYERS])
        raise ValueError(
            f"cannot save a {kind.__name__}: model files hold networks built from {known}"
        )
    spec: dict[str, Any] = {"type": name}
    if kind is Dense:
        spec.update(
            in_features=module.in_features,
            out_features=module.out_features,
            bias=module.bias is not None,
        )
    elif kind is Dropout:
        spec["rate"] = module.rate
    elif kind is LeakyReLU:
        spec["negative_slope"] = module.negative_slope
    elif kind is Softmax:
        spec["axis"] = module.axis
    elif kind is BatchNorm or kind in SPATIAL:
        spec.update(describe_spatial(module))
    return spec


def rebuild_network(spec: Any, arrays: Mapping[str, Array], prefix: str = "") -> Module:
    """The module described by `spec`, holding the weights ``arrays[prefix + name]``.

    Raises
    ------
    ValueError
        A malformed description, an unknown layer type, or weights that are missing or do
        not fit the layers.
    """
    weights = _Weights(arrays, prefix)
    count = [0]

    def build(node: Any, path: str, depth: int) -> Module:
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > MAX_LAYERS:
            raise ValueError("the network is nested too deeply or has too many layers")
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise ValueError(f"malformed layer record {str(node)[:80]}")
        if node["type"] == "Sequential":
            layers = node.get("layers")
            if not isinstance(layers, list):
                raise ValueError("Sequential: 'layers' must be a list")
            return Sequential(*(build(c, f"{path}{i}.", depth + 1) for i, c in enumerate(layers)))
        entry = LAYERS.get(node["type"])
        if entry is None:
            raise ValueError(f"unknown layer type {node['type'][:40]!r}")
        return entry[1](node, weights, path)

    module = build(spec, "", 0)
    own = {k for k, _ in module._named_state()}
    stored = sorted(k[len(prefix) :] for k in arrays if k.startswith(prefix))
    unexpected = [k for k in stored if k not in own]
    if unexpected:
        raise ValueError(f"the file holds weights no layer uses: {', '.join(unexpected[:3])}")
    # (only optional buffers may be absent: load_state_dict names any other missing array)
    module.load_state_dict({k: arrays[prefix + k] for k in own if prefix + k in arrays})
    return module


def network_io(module: Module) -> tuple[int | None, int | None]:
    """(input width, output width) of a chain of layers, None where no layer fixes it.

    A network that starts with a convolution, pooling or `Flatten` takes (N, C, *S) arrays,
    not rows of a fixed width: its input width is None.
    """
    widths: list[tuple[int, int]] = []
    spatial_first = False
    for m in module.modules():
        if type(m) in SPATIAL:
            spatial_first = spatial_first or not widths
            if widths:  # a layer after the last Dense changes the output's shape
                widths.append((widths[0][0], 0))
        elif type(m) is Dense:
            widths.append((m.in_features, m.out_features))
        elif type(m) is BatchNorm:
            widths.append((m.num_features, m.num_features))
    if not widths:
        return None, None
    return (None if spatial_first else widths[0][0]), (widths[-1][1] or None)
