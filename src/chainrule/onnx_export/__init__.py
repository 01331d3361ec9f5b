"""chainrule models as ONNX graphs, to run them anywhere onnxruntime runs.

Needs the optional extra ``pip install "chainrule[onnx]"`` (onnx; onnxruntime to check and
run the result).

`export_onnx(model, path)` writes, for a model trained by ``chainrule train`` (a
`TabularModel`, as `chainrule.load` returns it), a graph whose inputs are the raw table's
columns, one input of shape (N, 1) per column, by name: numeric columns float32 (NaN where
missing), categorical ones string (the empty string where missing). Imputation,
standardization and one-hot encoding run inside the graph with the ONNX-ML operators
``Imputer``, ``Scaler`` and ``OneHotEncoder`` (see `chainrule.onnx_export._tabular`); then
the network. With ``features_only=True`` (and for a bare network or estimator) the single
input ``input`` is the network's input matrix (n, n_features) instead, already preprocessed.

Outputs:

- classifiers: ``label`` (N,), the predicted class in the model's own label values;
  ``probabilities`` (N, K), columns in the order of the classes; ``logits`` (N, K) and
  ``label_index`` (N,), the class's position (multilabel models: ``logits`` and
  ``probabilities`` only, one sigmoid per label);
- regressors: ``prediction`` (N, n_targets), in the target's units;
- bare networks: ``output``.

The metadata (keys ``chainrule.*``) holds the class labels, the target's name, the feature
names and the preprocessing as JSON.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from chainrule.onnx_export._network import (
    IR_VERSION,
    ML_OPSET,
    OPSET,
    Builder,
    network_dtype,
    parts,
    require,
)
from chainrule.onnx_export._tabular import MISSING_CATEGORY
from chainrule.onnx_export._tabular import onnx_inputs as _tabular_inputs

__all__ = [
    "IR_VERSION",
    "MISSING_CATEGORY",
    "ML_OPSET",
    "OPSET",
    "check_with_onnxruntime",
    "export_onnx",
    "onnx_inputs",
    "to_onnx",
]

OUTPUT_NAMES = ("label", "probabilities", "logits", "label_index", "prediction", "output")


def to_onnx(
    model: Any, *, features_only: bool = False, input_shape: tuple[int, ...] | None = None
) -> Any:
    """An ``onnx.ModelProto`` computing `model` (see the module documentation).

    `model` is a `TabularModel` (its inputs are then the table's columns, unless
    `features_only`), a fitted `MLPClassifier` / `MLPRegressor` or a `Module`. `input_shape`
    (C, *S) fixes the sizes of a convolutional network's input (else they are symbolic).
    """
    from chainrule._version import __version__
    from chainrule.onnx_export._conv import input_dims
    from chainrule.saving.modelspec import network_io

    onnx = require("onnx")
    tabular, estimator, network = parts(model)
    dtype = network_dtype(network)
    elem = onnx.helper.np_dtype_to_tensor_dtype
    raw = tabular is not None and not features_only
    columns = tabular.preprocessor.input_columns if raw else ["input"]
    clash = sorted(set(columns) & set(OUTPUT_NAMES))
    if clash:
        raise ValueError(
            f"the column {clash[0]!r} has the name of an output of the ONNX graph; rename "
            "it, or export with features only (--features-only)"
        )
    dims = None if raw or estimator is not None else input_dims(network, input_shape)
    b = Builder(onnx, dtype, taken=[*columns, *OUTPUT_NAMES], spatial=dims is not None)
    if raw:
        inputs, x = _preprocessing(b, tabular.preprocessor)
    else:
        if dims is None:
            n_in = network_io(network)[0] if estimator is None else estimator.n_features_in_
            if n_in is None:
                raise ValueError(
                    "the network has no Dense or BatchNorm layer to fix its input width"
                )
            dims = ["N", n_in]
        inputs, x = [onnx.helper.make_tensor_value_info("input", elem(dtype), dims)], "input"
    x = b.network(network, x)
    n_out: int | str = network_io(network)[1] or "K"
    meta = {"chainrule.version": __version__}
    outputs: list[Any] = []

    def output(name: str, kind: Any, shape: list[Any]) -> None:
        outputs.append(onnx.helper.make_tensor_value_info(name, kind, shape))

    if estimator is not None and hasattr(estimator, "classes_"):
        classes = np.asarray(estimator.classes_)
        meta["chainrule.classes"] = json.dumps(classes.tolist())
        multilabel = getattr(estimator, "_multilabel", False)
        b.node("Identity", [x], "logits")
        output("logits", elem(dtype), ["N", n_out])
        if multilabel:
            b.node("Sigmoid", ["logits"], "probabilities")
        else:
            b.node("Softmax", ["logits"], "probabilities", axis=1)
        output("probabilities", elem(dtype), ["N", n_out])
        if not multilabel:
            b.node("ArgMax", ["logits"], "label_index", axis=1, keepdims=0)
            output("label_index", onnx.TensorProto.INT64, ["N"])
            table, kind = _label_table(classes, onnx)
            b.node("Gather", [b.const("classes", table, table.dtype), "label_index"], "label")
            output("label", kind, ["N"])
    elif estimator is not None:
        if tabular is not None and tabular.task == "regression":
            x = b.node("Mul", [x, b.const("target_scale", tabular.target_scale)])
            x = b.node("Add", [x, b.const("target_mean", tabular.target_mean)])
        b.node("Identity", [x], "prediction")
        output("prediction", elem(dtype), ["N", n_out])
    else:
        b.node("Identity", [x], "output")
        output("output", elem(dtype), ["N", n_out])
    if tabular is not None:
        meta["chainrule.preprocessing"] = json.dumps(tabular.preprocessor.to_json())
        meta["chainrule.feature_names"] = json.dumps(tabular.preprocessor.feature_names_)
        meta["chainrule.target"] = tabular.target
        meta["chainrule.inputs"] = "columns" if raw else "features"
    return b.model(inputs, outputs, meta, ml=raw)


def _preprocessing(b: Builder, prep: Any) -> tuple[list[Any], str]:
    from chainrule.onnx_export._tabular import preprocessing

    if not prep.feature_names_:
        raise ValueError("the model's preprocessing produces no features to export")
    return preprocessing(b, prep)


def _label_table(classes: Any, onnx: Any) -> tuple[Any, Any]:
    """The class labels as a constant tensor for ``Gather``, and its ONNX element type."""
    kind = classes.dtype.kind
    if kind in "US":
        return classes.astype(object), onnx.TensorProto.STRING
    if kind == "b":
        return classes.astype(bool), onnx.TensorProto.BOOL
    if kind in "iu":
        return classes.astype(np.int64), onnx.TensorProto.INT64
    if kind == "f":
        return classes.astype(np.float64), onnx.TensorProto.DOUBLE
    return np.array([str(c) for c in classes], dtype=object), onnx.TensorProto.STRING


def export_onnx(
    model: Any,
    path: str | os.PathLike[str],
    *,
    features_only: bool = False,
    input_shape: tuple[int, ...] | None = None,
) -> Any:
    """Write `model` to `path` as ONNX (atomically); return the ``onnx.ModelProto``.

    A model trained by ``chainrule train`` takes the raw table's columns as inputs, its
    preprocessing inside the graph; ``features_only=True`` exports the network alone, which
    takes the preprocessed feature matrix; `input_shape` (C, *S) fixes a convolutional
    network's input sizes. See the module documentation for the outputs.

    Examples
    --------
    >>> model = cr.load("iris.chainrule")                     # doctest: +SKIP
    >>> cr.export_onnx(model, "iris.onnx")                    # doctest: +SKIP
    >>> session = onnxruntime.InferenceSession("iris.onnx")   # doctest: +SKIP
    >>> session.run(["label"], onnx_inputs(model, frame))      # doctest: +SKIP
    """
    from chainrule.saving.atomic import atomic_open

    proto = to_onnx(model, features_only=features_only, input_shape=input_shape)
    with atomic_open(path) as f:
        f.write(proto.SerializeToString())
    return proto


def onnx_inputs(model: Any, frame: Any) -> dict[str, Any]:
    """The inputs of `model`'s column-wise ONNX graph for the rows of the DataFrame `frame`.

    Numeric columns as float32 arrays (NaN where missing), categorical ones as category
    text (the empty string where missing), each of shape (n_rows, 1), keyed by column name.
    """
    from chainrule.data.tabular import TabularModel

    if not isinstance(model, TabularModel):
        raise ValueError("onnx_inputs needs a model trained by 'chainrule train'")
    return _tabular_inputs(model.preprocessor, frame)


def check_with_onnxruntime(proto: Any, model: Any, n_rows: int = 64) -> float | None:
    """Largest |difference| between onnxruntime and chainrule on random inputs (None: no ort).

    For a column-wise graph the rows are random raw values: numbers around each column's
    mean, categories drawn from those seen in training, and some of each missing.
    """
    from chainrule.onnx_export._check import largest_difference

    return largest_difference(proto, model, n_rows)
