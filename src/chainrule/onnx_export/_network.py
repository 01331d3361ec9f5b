"""The network part of an ONNX graph: one ONNX operator per chainrule layer.

Each layer becomes the operator that computes the same thing in evaluation mode: `Dense`
a = z Wᵀ + b is ``Gemm`` (transB = 1), or ``MatMul`` without a bias; `BatchNorm` with its
running statistics is a ``Mul`` and an ``Add`` (the affine map it reduces to); dropout and
`Identity` are left out; activations map one to one.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

import numpy as np

OPSET = 17
ML_OPSET = 1  # the ONNX-ML operators used (Imputer, Scaler, OneHotEncoder) are version 1
IR_VERSION = 8  # readable by onnxruntime releases since 1.10


def require(name: str) -> Any:
    """Import the optional package `name` (onnx, onnxruntime), or say how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(
            f"exporting to ONNX needs the package {name!r}, which is not installed: "
            'pip install "chainrule[onnx]" (or pip install onnx onnxruntime)'
        ) from None


def leaves(module: Any) -> list[Any]:
    """The layers of `module`, nested `Sequential`s flattened, in the order they run."""
    from chainrule.nn import Sequential

    if type(module) is Sequential:
        return [leaf for child in module for leaf in leaves(child)]
    return [module]


def parts(model: Any) -> tuple[Any, Any, Any]:
    """(TabularModel or None, estimator or None, network) of `model`."""
    from chainrule.data.tabular import TabularModel
    from chainrule.nn import Module

    if isinstance(model, TabularModel):
        return model, model.estimator, model.estimator.model_
    if isinstance(model, Module):
        return None, None, model
    network = getattr(model, "model_", None)
    if not isinstance(network, Module):
        raise ValueError(
            "export_onnx takes a chainrule network, a fitted MLPClassifier / MLPRegressor or "
            f"a model trained by 'chainrule train', got {type(model).__name__}"
        )
    return None, model, network


def network_dtype(network: Any) -> np.dtype[Any]:
    return np.dtype(next((p.data.dtype for p in network.parameters()), np.float32))


class Builder:
    """Collects the nodes and constants of a graph; every name it makes is unique.

    `taken` holds names that belong to someone else (the graph's inputs and outputs), so
    that a column called ``t1`` can never clash with an intermediate result.
    """

    def __init__(
        self, onnx: Any, dtype: np.dtype[Any], taken: Iterable[str] = (), spatial: bool = False
    ) -> None:
        # spatial: the network's input is (N, C, *S), so batch normalization is per channel.
        self.onnx, self.dtype, self.spatial = onnx, dtype, spatial
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.taken = set(taken)
        self.count = 0

    def fresh(self, stem: str) -> str:
        while True:
            self.count += 1
            name = f"{stem}{self.count}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def const(self, stem: str, value: Any, dtype: Any = None) -> str:
        """A constant tensor (in the network's dtype unless `dtype` is given)."""
        name = self.fresh(stem)
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(
        self,
        op: str,
        inputs: list[str],
        output: str | None = None,
        *,
        domain: str = "",
        **attrs: Any,
    ) -> str:
        output = output or self.fresh("t")
        extra = {"domain": domain} if domain else {}
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], **extra, **attrs))
        return output

    def layer(self, m: Any, x: str) -> str:
        """The output name of layer `m` applied to the tensor `x`."""
        from chainrule import nn
        from chainrule.onnx_export._conv import spatial_node

        out = spatial_node(self, m, x, self.spatial)  # convolution, pooling, Flatten
        if out is not None:
            return out
        kind = type(m)
        if kind is nn.Dense:
            if m.bias is None:
                return self.node("MatMul", [x, self.const("Wt", m.weight.data.T)])
            w = self.const("W", m.weight.data)
            return self.node("Gemm", [x, w, self.const("b", m.bias.data)], transB=1)
        if kind is nn.BatchNorm:  # evaluation mode: γ (x − μ_run)/σ_run + β = x·s + (β − μ s)
            (gamma, beta), (mean, var) = m.gamma_beta(), m.running_stats()
            scale = gamma * (1.0 / np.sqrt(var + m.eps))
            shift = beta - mean * scale
            x = self.node("Mul", [x, self.const("s", scale)])
            return self.node("Add", [x, self.const("c", shift)])
        simple = {nn.ReLU: "Relu", nn.Sigmoid: "Sigmoid", nn.Tanh: "Tanh"}
        if kind in simple:
            return self.node(simple[kind], [x])
        if kind is nn.LeakyReLU:
            return self.node("LeakyRelu", [x], alpha=m.negative_slope)
        if kind is nn.Softmax:
            return self.node("Softmax", [x], axis=m.axis)
        if kind in (nn.Dropout, nn.Identity):  # the identity in evaluation
            return x
        raise ValueError(f"cannot export a {kind.__name__} layer to ONNX")

    def network(self, network: Any, x: str) -> str:
        for leaf in leaves(network):
            x = self.layer(leaf, x)
        return x

    def model(
        self, inputs: list[Any], outputs: list[Any], metadata: dict[str, str], *, ml: bool
    ) -> Any:
        """The checked ``onnx.ModelProto`` of the collected nodes."""
        from chainrule._version import __version__

        helper = self.onnx.helper
        graph = helper.make_graph(self.nodes, "chainrule", inputs, outputs, self.initializers)
        opsets = [helper.make_opsetid("", OPSET)]
        if ml:
            opsets.append(helper.make_opsetid("ai.onnx.ml", ML_OPSET))
        proto = helper.make_model(
            graph, opset_imports=opsets, producer_name="chainrule", producer_version=__version__
        )
        proto.ir_version = IR_VERSION
        helper.set_model_props(proto, metadata)
        self.onnx.checker.check_model(proto)
        return proto
