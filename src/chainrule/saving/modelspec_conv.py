"""Convolution, pooling and shape layers in model files: their JSON records and builders.

The same rules as `chainrule.saving.modelspec` (which merges these tables into its own): a record
names a type of the table, never something to import; every argument is type-checked; a
layer's weights must be in the file with the shape its arguments imply before it allocates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from chainrule.nn import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    BatchNorm,
    BatchNorm1d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Flatten,
    MaxPool1d,
    MaxPool2d,
    Module,
    Unflatten,
)

__all__ = ["CONV_LAYERS", "SPATIAL", "batch_norm_builder", "describe"]

MAX_SIZE = 1 << 20  # a kernel, stride, padding or dilation beyond this is a damaged file


class Weights(Protocol):
    arrays: Mapping[str, Any]
    prefix: str

    def get(self, name: str, shape: tuple[int, ...]) -> Any: ...


Builder = Callable[[Mapping[str, Any], Weights, str], Module]


def _ints(spec: Mapping[str, Any], key: str, d: int, low: int) -> tuple[int, ...]:
    v = spec.get(key)
    ok = isinstance(v, list) and len(v) == d
    ok = ok and all(
        not isinstance(i, bool) and isinstance(i, int) and low <= i <= MAX_SIZE for i in v
    )
    if not ok:
        raise ValueError(f"{spec.get('type')}: {key} must be {d} integers >= {low}, got {v!r}")
    return tuple(v)


def _int(spec: Mapping[str, Any], key: str, low: int) -> int:
    v = spec.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= MAX_SIZE:
        raise ValueError(f"{spec.get('type')}: {key} must be an integer >= {low}, got {v!r}")
    return v


def _conv(cls: type[Conv1d] | type[Conv2d], d: int) -> Builder:
    def build(spec: Mapping[str, Any], w: Weights, path: str) -> Module:
        c_in, c_out = _int(spec, "in_channels", 1), _int(spec, "out_channels", 1)
        kernel = _ints(spec, "kernel_size", d, 1)
        padding = spec.get("padding")
        if padding not in ("same", "valid"):
            padding = _ints(spec, "padding", d, 0)
        bias = spec.get("bias")
        if not isinstance(bias, bool):
            raise ValueError(f"{spec.get('type')}: bias must be true or false, got {bias!r}")
        weight = w.get(f"{path}weight", (c_out, c_in, *kernel))
        if bias:
            w.get(f"{path}bias", (c_out,))
        return cls(
            c_in,
            c_out,
            kernel,
            stride=_ints(spec, "stride", d, 1),
            padding=padding,
            dilation=_ints(spec, "dilation", d, 1),
            bias=bias,
            init="zeros",  # no randomness drawn: the file's weights are copied in afterwards
            dtype=weight.dtype,
        )

    return build


def _pool(cls: type[Module], d: int, dilation: bool) -> Builder:
    def build(spec: Mapping[str, Any], w: Weights, path: str) -> Module:
        args = [_ints(spec, k, d, 1) for k in ("kernel_size", "stride")]
        args.append(_ints(spec, "padding", d, 0))
        if dilation:
            return cls(*args, dilation=_ints(spec, "dilation", d, 1))
        include = spec.get("count_include_pad")
        if not isinstance(include, bool):
            raise ValueError(f"{spec.get('type')}: count_include_pad must be true or false")
        return cls(*args, count_include_pad=include)

    return build


def _adaptive(cls: type[Module], d: int) -> Builder:
    def build(spec: Mapping[str, Any], w: Weights, path: str) -> Module:
        v = spec.get("output_size")
        if type(v) is int and 1 <= v <= MAX_SIZE:
            return cls(v)
        ok = isinstance(v, list) and len(v) == d
        ok = ok and all(i is None or (type(i) is int and 1 <= i <= MAX_SIZE) for i in v)
        if not ok:
            raise ValueError(f"{spec.get('type')}: output_size must be {d} sizes, got {v!r}")
        return cls(tuple(v))

    return build


def batch_norm_builder(cls: type[BatchNorm]) -> Builder:
    """The builder of `BatchNorm` and its PyTorch-named kinds (`BatchNorm1d`, `BatchNorm2d`).

    Files written before ``affine`` and ``track_running_stats`` were stored hold neither (both
    were always on) and no ``num_batches_tracked`` (a missing counter loads as PyTorch loads it).
    """

    def build(spec: Mapping[str, Any], w: Weights, path: str) -> Module:
        n = _int(spec, "num_features", 1)
        flags = [spec.get("affine", True), spec.get("track_running_stats", True)]
        if not all(isinstance(v, bool) for v in flags):
            raise ValueError(f"{spec.get('type')}: affine and track_running_stats must be booleans")
        eps, momentum = spec.get("eps"), spec.get("momentum")
        numbers = [eps] if momentum is None else [eps, momentum]
        if any(
            isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
            for v in numbers
        ):
            raise ValueError(f"{spec.get('type')}: eps and momentum must be finite numbers")
        names = ("weight", "bias")[: 2 * flags[0]] + ("running_mean", "running_var")[: 2 * flags[1]]
        dtypes = {w.get(f"{path}{name}", (n,)).dtype for name in names}
        counter = w.arrays.get(f"{w.prefix}{path}num_batches_tracked") if flags[1] else None
        if counter is not None and (
            counter.shape != () or counter.dtype.kind not in "iu" or counter < 0
        ):
            raise ValueError(f"{spec.get('type')}: num_batches_tracked must be a count")
        return cls(
            n,
            eps=float(eps),
            momentum=None if momentum is None else float(momentum),
            affine=flags[0],
            track_running_stats=flags[1],
            **({"dtype": dtypes.pop()} if len(dtypes) == 1 else {}),
        )

    return build


def _flatten(spec: Mapping[str, Any], w: Weights, path: str) -> Module:
    dims = [spec.get("start_dim"), spec.get("end_dim")]
    if any(isinstance(v, bool) or not isinstance(v, int) or not -32 <= v <= 32 for v in dims):
        raise ValueError(f"Flatten: start_dim and end_dim must be small integers, got {dims!r}")
    return Flatten(*dims)


def _unflatten(spec: Mapping[str, Any], w: Weights, path: str) -> Module:
    dim, size = spec.get("dim"), spec.get("unflattened_size")
    if isinstance(dim, bool) or not isinstance(dim, int) or not -32 <= dim <= 32:
        raise ValueError(f"Unflatten: dim must be a small integer, got {dim!r}")
    if not isinstance(size, list) or not 1 <= len(size) <= 8:
        raise ValueError(f"Unflatten: unflattened_size must be a list of sizes, got {size!r}")
    return Unflatten(dim, _ints(spec, "unflattened_size", len(size), 1))


CONV_LAYERS: dict[str, tuple[type[Module], Builder]] = {
    "Conv1d": (Conv1d, _conv(Conv1d, 1)),
    "Conv2d": (Conv2d, _conv(Conv2d, 2)),
    "MaxPool1d": (MaxPool1d, _pool(MaxPool1d, 1, dilation=True)),
    "MaxPool2d": (MaxPool2d, _pool(MaxPool2d, 2, dilation=True)),
    "AvgPool1d": (AvgPool1d, _pool(AvgPool1d, 1, dilation=False)),
    "AvgPool2d": (AvgPool2d, _pool(AvgPool2d, 2, dilation=False)),
    "AdaptiveAvgPool1d": (AdaptiveAvgPool1d, _adaptive(AdaptiveAvgPool1d, 1)),
    "AdaptiveAvgPool2d": (AdaptiveAvgPool2d, _adaptive(AdaptiveAvgPool2d, 2)),
    "BatchNorm1d": (BatchNorm1d, batch_norm_builder(BatchNorm1d)),
    "BatchNorm2d": (BatchNorm2d, batch_norm_builder(BatchNorm2d)),
    "Flatten": (Flatten, _flatten),
    "Unflatten": (Unflatten, _unflatten),
}

#: Layers whose input is not a flat row of features (a network starting with one has no
#: fixed input width).
SPATIAL = tuple(cls for cls, _ in CONV_LAYERS.values())


def describe(module: Module) -> dict[str, Any]:
    """The arguments of a layer of `CONV_LAYERS` for its JSON record."""
    if isinstance(module, Conv1d | Conv2d):
        return {
            "in_channels": module.in_channels,
            "out_channels": module.out_channels,
            "kernel_size": list(module.kernel_size),
            "stride": list(module.stride),
            "padding": module.padding if isinstance(module.padding, str) else list(module.padding),
            "dilation": list(module.dilation),
            "bias": module.bias is not None,
        }
    if isinstance(module, MaxPool1d | MaxPool2d):
        return {
            k: list(getattr(module, k)) for k in ("kernel_size", "stride", "padding", "dilation")
        }
    if isinstance(module, AvgPool1d | AvgPool2d):
        if module.divisor_override is not None:
            raise ValueError("cannot save an average pooling with divisor_override")
        spec: dict[str, Any] = {
            k: list(getattr(module, k)) for k in ("kernel_size", "stride", "padding")
        }
        spec["count_include_pad"] = module.count_include_pad
        return spec
    if isinstance(module, AdaptiveAvgPool1d | AdaptiveAvgPool2d):
        size = module.output_size
        return {"output_size": size if isinstance(size, int) else list(size)}
    if isinstance(module, BatchNorm):
        return {
            "num_features": module.num_features,
            "momentum": module.momentum,
            "eps": module.eps,
            "affine": module.affine,
            "track_running_stats": module.track_running_stats,
        }
    if isinstance(module, Flatten):
        return {"start_dim": module.start_dim, "end_dim": module.end_dim}
    if isinstance(module, Unflatten):
        return {"dim": module.dim, "unflattened_size": list(module.unflattened_size)}
    raise ValueError(f"no record for a {type(module).__name__}")
