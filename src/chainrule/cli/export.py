"""``chainrule export MODEL --onnx FILE``: a saved model as an ONNX graph.

Needs the optional extra ``pip install "chainrule[onnx]"`` (the packages onnx and, to check
the result, onnxruntime). For a model trained by ``chainrule train`` the graph takes the raw
table: one input per column, named as the column, of shape (N, 1): numeric columns float32
(NaN where missing), categorical ones string (the empty string where missing). Imputation,
standardization and one-hot encoding run inside the graph (the ONNX-ML operators Imputer,
Scaler and OneHotEncoder); an unseen category is encoded as all zeros, and a whole-number
category may be written 3 or 3.0. Outputs: "label" and "probabilities" (also "logits",
"label_index") for classifiers, "prediction" (in the target's units) for regressors,
"output" for a bare network.

``--features-only`` exports the network alone: its one input, named "input", is the matrix of
preprocessed features (numeric columns standardized, categories one-hot); the preprocessing
is then stored as JSON in the metadata (keys ``chainrule.*``), as it is in every export.
The written graph is run with onnxruntime, when installed, and compared with chainrule.
"""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli import io
from chainrule.cli.arguments import add_command

__all__ = ["add_parser", "run"]

HELP = "export a model to ONNX, its preprocessing inside (needs the onnx extra)"
EXAMPLES = """examples:
  chainrule export out/model.chainrule --onnx model.onnx
  chainrule export iris.chainrule --onnx iris-features.onnx --features-only
"""


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "export", parents, HELP, __doc__, EXAMPLES)
    p.add_argument("model", metavar="MODEL", help="a chainrule model file")
    p.add_argument("--onnx", metavar="FILE", required=True, help="the ONNX file to write")
    p.add_argument(
        "--features-only",
        action="store_true",
        help="export the network alone: its input is the preprocessed feature matrix",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # here, not at the top: every command line would load the exporter otherwise
    from chainrule.onnx_export import OPSET, check_with_onnxruntime, to_onnx
    from chainrule.saving.atomic import atomic_open

    model = io.read_model(args.model)
    proto = to_onnx(model, features_only=args.features_only)
    difference = check_with_onnxruntime(proto, model)
    with atomic_open(args.onnx) as f:
        f.write(proto.SerializeToString())
    inputs = [i.name for i in proto.graph.input]
    shown = ", ".join(inputs[:6]) + (f", ... ({len(inputs)} in all)" if len(inputs) > 6 else "")
    print(f"wrote {args.onnx} (ONNX opset {OPSET}); inputs: {shown}")
    if difference is None:
        print("not checked: onnxruntime is not installed")
    else:
        print(f"checked with onnxruntime: largest difference from chainrule {difference:.3g}")
    return 0
