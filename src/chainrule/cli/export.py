"""``chainrule export MODEL --onnx FILE``: the trained network as an ONNX model.

Needs the optional extra ``pip install "chainrule[onnx]"`` (the packages onnx and, to check
the result, onnxruntime). Each layer becomes the ONNX operator that computes the same thing
in evaluation mode: `Dense` a = z Wᵀ + b is ``Gemm`` (transB = 1), `BatchNorm` with its
running statistics is a ``Mul`` and an ``Add`` (the affine map it reduces to), dropout is
left out, activations map one to one.

The ONNX input ``input`` is the network's input matrix (n, n_features). For a model trained
by ``chainrule train`` these are the preprocessed features (numeric columns standardized,
categories one-hot); the preprocessing, feature names and class labels are stored as JSON in
the ONNX metadata (keys ``chainrule.*``). Outputs: ``probabilities`` (and ``logits``,
``label_index``) for classifiers, ``prediction`` for regressors (in the target's units),
``output`` for a bare network.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from chainrule._version import __version__
from chainrule.cli import io
from chainrule.cli.errors import description

HELP = "export a model's network to ONNX (needs the onnx extra)"
OPSET = 17
IR_VERSION = 8  # readable by onnxruntime releases since 1.10


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export",
        help=HELP,
        description=description(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=parents,
    )
    p.add_argument("model", metavar="MODEL", help="a chainrule model file")
    p.add_argument("--onnx", metavar="FILE", required=True, help="the ONNX file to write")
    p.set_defaults(run=run)


def _require(name: str) -> Any:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(
            f"exporting to ONNX needs the package {name!r}, which is not installed: "
            'pip install "chainrule[onnx]" (or pip install onnx onnxruntime)'
        ) from None


def _leaves(module: Any) -> list[Any]:
    from chainrule.nn import Sequential

    if type(module) is Sequential:
        return [leaf for child in module for leaf in _leaves(child)]
    return [module]


class _Builder:
    def __init__(self, onnx: Any, dtype: np.dtype[Any], spatial: bool = False) -> None:
        self.onnx, self.dtype, self.spatial = onnx, dtype, spatial
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.count = 0

    def const(self, name: str, value: Any) -> str:
        name = f"{name}_{len(self.initializers)}"  # unique, whatever the caller's counter
        array = np.asarray(value, dtype=self.dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        self.count += 1
        output = output or f"t{self.count}"
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], **attrs))
        return output

    def layer(self, m: Any, x: str) -> str:
        from chainrule import nn
        from chainrule.onnx_conv import spatial_node

        out = spatial_node(self, m, x, self.spatial)  # convolution, pooling, Flatten
        if out is not None:
            return out
        kind, k = type(m), self.count
        if kind is nn.Dense:
            if m.bias is None:
                return self.node("MatMul", [x, self.const(f"Wt{k}", m.weight.data.T)])
            w = self.const(f"W{k}", m.weight.data)
            return self.node("Gemm", [x, w, self.const(f"b{k}", m.bias.data)], transB=1)
        if kind is nn.BatchNorm:  # evaluation mode: γ (x − μ_run)/σ_run + β = x·s + (β − μ s)
            scale = m.weight.data * (1.0 / np.sqrt(m.running_var + m.eps))
            shift = m.bias.data - m.running_mean * scale
            x = self.node("Mul", [x, self.const(f"s{k}", scale)])
            return self.node("Add", [x, self.const(f"c{k}", shift)])
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


def to_onnx(model: Any, input_shape: tuple[int, ...] | None = None) -> Any:
    """An ``onnx.ModelProto`` computing `model` (a Module, an estimator or a TabularModel).

    `input_shape` (C, *S) fixes the sizes of a convolutional network's input (else they are
    symbolic)."""
    from chainrule.modelspec import network_io
    from chainrule.nn import Module
    from chainrule.onnx_conv import input_dims
    from chainrule.tabular import TabularModel

    onnx = _require("onnx")
    tabular = model if isinstance(model, TabularModel) else None
    estimator = tabular.estimator if tabular else None if isinstance(model, Module) else model
    network = model if isinstance(model, Module) else estimator.model_
    n_in = network_io(network)[0] if estimator is None else estimator.n_features_in_
    dims = input_dims(network, input_shape) if estimator is None else None
    if n_in is None and dims is None:
        raise ValueError("the network has no Dense or BatchNorm layer to fix its input width")
    dtype = np.dtype(next((p.data.dtype for p in network.parameters()), np.float32))
    n_out: int | str = network_io(network)[1] or "K"
    b = _Builder(onnx, dtype, spatial=dims is not None)
    x = "input"
    for leaf in _leaves(network):
        x = b.layer(leaf, x)
    meta = {"chainrule.version": __version__}
    outputs = []
    if estimator is not None and hasattr(estimator, "classes_"):
        meta["chainrule.classes"] = json.dumps(np.asarray(estimator.classes_).tolist())
        multilabel = getattr(estimator, "_multilabel", False)
        b.node("Identity", [x], "logits")
        b.node(
            "Sigmoid" if multilabel else "Softmax",
            ["logits"],
            "probabilities",
            **({} if multilabel else {"axis": 1}),
        )
        outputs = [("logits", dtype), ("probabilities", dtype)]
        if not multilabel:
            b.node("ArgMax", ["logits"], "label_index", axis=1, keepdims=0)
            outputs.append(("label_index", np.dtype(np.int64)))
    elif estimator is not None:
        if tabular is not None and tabular.task == "regression":
            x = b.node("Mul", [x, b.const("target_scale", tabular.target_scale)])
            x = b.node("Add", [x, b.const("target_mean", tabular.target_mean)])
        b.node("Identity", [x], "prediction")
        outputs = [("prediction", dtype)]
    else:
        b.node("Identity", [x], "output")
        outputs = [("output", dtype)]
    if tabular is not None:
        meta["chainrule.preprocessing"] = json.dumps(tabular.preprocessor.to_json())
        meta["chainrule.feature_names"] = json.dumps(tabular.preprocessor.feature_names_)
        meta["chainrule.target"] = tabular.target
    elem = onnx.helper.np_dtype_to_tensor_dtype
    graph = onnx.helper.make_graph(
        b.nodes,
        "chainrule",
        [onnx.helper.make_tensor_value_info("input", elem(dtype), dims or ["N", n_in])],
        [
            onnx.helper.make_tensor_value_info(
                n, elem(t), ["N"] if n == "label_index" else ["N", n_out]
            )
            for n, t in outputs
        ],
        b.initializers,
    )
    proto = onnx.helper.make_model(
        graph,
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="chainrule",
        producer_version=__version__,
    )
    proto.ir_version = IR_VERSION
    onnx.helper.set_model_props(proto, meta)
    onnx.checker.check_model(proto)
    return proto


def check_with_onnxruntime(proto: Any, model: Any, n_rows: int = 64) -> float | None:
    """Largest |difference| between onnxruntime and chainrule on random inputs (None: no ort)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    from chainrule.autograd import Tensor, no_grad
    from chainrule.nn import Module

    network = model if isinstance(model, Module) else getattr(model, "estimator", model).model_
    shape = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim[1:]]
    if not all(shape):  # symbolic sizes (a convolutional network exported without input_shape)
        return None
    dtype = np.dtype(next((p.data.dtype for p in network.parameters()), np.float32))
    X = np.random.default_rng(0).normal(size=(n_rows, *shape)).astype(dtype)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    name = session.get_outputs()[0].name
    got = session.run([name], {"input": X})[0]
    network.eval()
    with no_grad():
        expected = network(Tensor(X)).data
    if name == "prediction" and hasattr(model, "target_scale"):
        expected = expected * model.target_scale + model.target_mean
    return float(np.max(np.abs(got - expected))) if got.size else 0.0


def run(args: argparse.Namespace) -> int:
    from chainrule.archive import atomic_open

    model = io.read_model(args.model)
    proto = to_onnx(model)
    difference = check_with_onnxruntime(proto, model)
    with atomic_open(args.onnx) as f:
        f.write(proto.SerializeToString())
    print(f"wrote {args.onnx} (ONNX opset {OPSET})")
    if difference is None:
        print("not checked: onnxruntime is not installed, or the input sizes are symbolic")
    else:
        print(f"checked with onnxruntime: largest difference from chainrule {difference:.3g}")
    return 0
