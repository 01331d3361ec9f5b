"""ONNX nodes for convolutional networks: Conv, MaxPool, AveragePool, GlobalAveragePool,
Flatten and BatchNormalization, used by the ONNX exporter (``chainrule export --onnx``).

Each layer becomes the ONNX operator that computes the same thing in evaluation mode, with
the layouts both share (N, C, *S) and weights (O, C, *K). Zero padding is the operators'
``pads`` (all the begins, then all the ends), so ``padding="same"`` exports as its explicit
(asymmetric) padding.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from chainrule import nn
from chainrule.nn.conv_ops import pad_pairs

__all__ = ["input_dims", "spatial_node"]


class Builder(Protocol):
    def const(self, name: str, value: Any) -> str: ...

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str: ...


_SPATIAL = (
    nn.Conv1d,
    nn.Conv2d,
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.Flatten,
    nn.Unflatten,
)


def input_dims(network: nn.Module, input_shape: tuple[int, ...] | None) -> list[Any] | None:
    """The ONNX input's dimensions ["N", C, *S] for a network that starts with a
    convolution or pooling (None for a network of rows)."""
    for m in network.modules():
        if isinstance(m, nn.Unflatten) and m.dim in (1, -1):  # flat rows, made into (C, *S)
            return ["N", int(np.prod(m.unflattened_size))]
        if isinstance(m, nn.Dense):
            return None if input_shape is None else ["N", *input_shape]
        if isinstance(m, nn.Conv1d | nn.Conv2d):
            if input_shape is None:
                spatial = ["L"] if m._d == 1 else ["H", "W"]
                return ["N", m.in_channels, *spatial]
            if len(input_shape) != m._d + 1 or input_shape[0] != m.in_channels:
                raise ValueError(
                    f"input_shape {input_shape} does not fit {type(m).__name__}"
                    f"({m.in_channels}, ...): give (C, *spatial)"
                )
            return ["N", *input_shape]
        if isinstance(m, _SPATIAL):
            if input_shape is None:
                raise ValueError("give input_shape=(C, *spatial) to export this network")
            return ["N", *input_shape]
    return None


def spatial_node(b: Builder, m: Any, x: str, spatial: bool) -> str | None:
    """The output name of the node(s) computing layer `m` on `x`, or None if `m` is not a
    layer of this module (the caller handles it). `spatial`: the network's inputs are
    (N, C, *S), so batch normalization normalizes channels (axis 1)."""
    k = len(getattr(b, "nodes", ()))
    if isinstance(m, nn.Conv1d | nn.Conv2d):
        pads = pad_pairs(m.padding, m.kernel_size, m.stride, m.dilation)
        inputs = [x, b.const(f"W{k}", m.weight.data)]
        if m.bias is not None:
            inputs.append(b.const(f"b{k}", m.bias.data))
        return b.node(
            "Conv",
            inputs,
            kernel_shape=list(m.kernel_size),
            strides=list(m.stride),
            pads=[lo for lo, _ in pads] + [hi for _, hi in pads],
            dilations=list(m.dilation),
        )
    if isinstance(m, nn.MaxPool1d | nn.MaxPool2d):
        return b.node("MaxPool", [x], **_window(m), dilations=list(m.dilation))
    if isinstance(m, nn.AvgPool1d | nn.AvgPool2d):
        if m.divisor_override is not None:
            raise ValueError("cannot export an average pooling with divisor_override to ONNX")
        count_include_pad = int(m.count_include_pad)
        return b.node("AveragePool", [x], **_window(m), count_include_pad=count_include_pad)
    if isinstance(m, nn.AdaptiveAvgPool1d | nn.AdaptiveAvgPool2d):
        size = m.output_size
        sizes = (size,) * m._d if isinstance(size, int) else tuple(size)
        if sizes != (1,) * m._d:
            raise ValueError("ONNX export supports adaptive average pooling to size 1 only")
        return b.node("GlobalAveragePool", [x])
    if isinstance(m, nn.Flatten):
        if m.end_dim != -1 or m.start_dim < 0:
            raise ValueError("ONNX export supports Flatten(start_dim >= 0, end_dim=-1) only")
        return b.node("Flatten", [x], axis=m.start_dim)
    if isinstance(m, nn.Unflatten):
        if m.dim != 1:
            raise ValueError("ONNX export supports Unflatten(1, size) only")
        name = f"shape{k}"
        shape = np.array([0, *m.unflattened_size], dtype=np.int64)  # 0: keep the batch size
        b.initializers.append(b.onnx.numpy_helper.from_array(shape, name))  # type: ignore[attr-defined]
        return b.node("Reshape", [x, name])
    if isinstance(m, nn.BatchNorm) and (spatial or type(m) is not nn.BatchNorm):
        # evaluation mode: γ (x − μ_run)/√(σ²_run + ε) + β over axis 1, as ONNX defines it
        values = (*m.gamma_beta(), *m.running_stats())
        names = ("gamma", "beta", "mean", "var")
        inputs = [x] + [b.const(f"{n}{k}", v) for n, v in zip(names, values, strict=True)]
        return b.node("BatchNormalization", inputs, epsilon=float(np.float32(m.eps)))
    return None


def _window(m: Any) -> dict[str, list[int]]:
    """A pooling layer's window as ONNX attributes (pads: every axis's start, then its end)."""
    return {
        "kernel_shape": list(m.kernel_size),
        "strides": list(m.stride),
        "pads": list(m.padding) * 2,
    }
