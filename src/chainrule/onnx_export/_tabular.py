"""The preprocessing of a `TabularModel` as ONNX-ML operators, one graph input per column.

As sklearn-onnx does for a table of mixed columns, each column of the training table is one
input of shape (N, 1):

- a numeric column is ``float`` (float32); NaN marks a missing value. ``Imputer`` replaces
  NaN by the training mean μ and ``Scaler`` computes (x − μ) · (1 / s);
- a categorical column is ``string``, the category's text; ``OneHotEncoder`` (with
  ``zeros=1``) maps it to its one-hot block, and a missing value (the empty string) or a
  category not seen in training to all zeros, as ``chainrule predict --unknown ignore``
  does. ``Flatten`` turns its (N, 1, C) output into (N, C). A whole-number category may be
  written ``"3"`` or ``"3.0"`` (as a CSV column with gaps holds it): both spellings are
  encoded, and a ``MatMul`` with a 0/1 matrix adds their units into the category's one.

``Concat`` joins the blocks in the order of the training columns: the network's input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.onnx_export._network import Builder

MISSING_CATEGORY = ""  # what a missing categorical value is fed as


def preprocessing(b: Builder, prep: Any) -> tuple[list[Any], str]:
    """(graph inputs, name of the network's input matrix) for the fitted preprocessor `prep`."""
    helper, TensorProto = b.onnx.helper, b.onnx.TensorProto
    inputs, blocks = [], []
    for col in prep.columns_:
        name = col["name"]
        if col["kind"] == "numeric":
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", 1]))
            filled = b.node(
                "Imputer",
                [name],
                domain="ai.onnx.ml",
                imputed_value_floats=[col["mean"]],
                replaced_value_float=float("nan"),
            )
            blocks.append(
                b.node(
                    "Scaler",
                    [filled],
                    domain="ai.onnx.ml",
                    offset=[col["mean"]],
                    scale=[1.0 / col["scale"]],
                )
            )
        else:
            inputs.append(helper.make_tensor_value_info(name, TensorProto.STRING, ["N", 1]))
            if not col["categories"]:  # a column that was always empty: no features
                continue
            spellings, merge = _spellings(col["categories"])
            onehot = b.node(
                "OneHotEncoder", [name], domain="ai.onnx.ml", cats_strings=spellings, zeros=1
            )
            block = b.node("Flatten", [onehot], axis=1)
            if merge is not None:  # "3" and "3.0" are one category: add their units
                block = b.node("MatMul", [block, b.const("merge", merge, np.float32)])
            blocks.append(block)
    x = blocks[0] if len(blocks) == 1 else b.node("Concat", blocks, axis=1)
    if b.dtype != np.float32:  # the ONNX-ML operators give float32
        to = helper.np_dtype_to_tensor_dtype(b.dtype)
        x = b.node("Cast", [x], to=to)
    return inputs, x


def _spellings(categories: list[str]) -> tuple[list[str], Any]:
    """The texts that name each category, and the (n_texts, n_categories) 0/1 matrix that
    maps them back (None when each category has one text).

    A whole number names a category as ``"3"``, but a CSV column with a gap holds ``3.0``
    (pandas writes such a column as floats): both texts mean the category ``"3"``.
    """
    texts = list(categories)
    owners = list(range(len(categories)))
    for k, c in enumerate(categories):
        if c.lstrip("-").isdigit() and f"{c}.0" not in categories:
            texts.append(f"{c}.0")
            owners.append(k)
    if len(texts) == len(categories):
        return texts, None
    merge = np.zeros((len(texts), len(categories)), dtype=np.float32)
    merge[np.arange(len(texts)), owners] = 1
    return texts, merge


def onnx_inputs(prep: Any, frame: Any) -> dict[str, Any]:
    """The inputs of an exported graph for the rows of the DataFrame `frame`.

    Numeric columns as float32 (NaN where missing), categorical ones as category text
    (the empty string where missing), each of shape (n_rows, 1).
    """
    from chainrule.data.tabular.columns import category_text, to_numbers
    from chainrule.data.tabular.preprocessor import as_frame

    frame = as_frame(frame)
    feed = {}
    for col in prep.columns_:
        name = col["name"]
        if name not in frame.columns:
            raise ValueError(f"the data lacks the column {name!r} the model was trained on")
        if col["kind"] == "numeric":
            values = to_numbers(frame[name], f"column {name!r}").astype(np.float32)
        else:
            text = category_text(frame[name])
            values = np.array([MISSING_CATEGORY if v is None else v for v in text], dtype=object)
        feed[name] = values.reshape(-1, 1)
    return feed
