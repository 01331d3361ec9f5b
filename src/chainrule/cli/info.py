"""``chainrule info MODEL``: what a model file holds, without running it.

Architecture (layers and parameter counts), the estimator's hyperparameters, the
preprocessing, the label mapping, training settings and metrics, and the chainrule version
that wrote the file. The file is checked first (its networks rebuilt and run), without
importing scikit-learn.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from chainrule.cli import io
from chainrule.cli.arguments import add_command

HELP = "show what a model file holds"
EXAMPLES = """examples:
  chainrule info out/model.chainrule
  chainrule info iris.chainrule --json
"""
MAX_COLUMNS = 8


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "info", parents, HELP, __doc__, EXAMPLES)
    p.add_argument("model", metavar="MODEL", help="a chainrule model file")
    p.add_argument("--json", action="store_true", help="print the file's description as JSON")
    p.set_defaults(run=run)


def _layers(spec: Any, arrays: dict[str, Any], prefix: str, path: str = "") -> list[str]:
    if spec.get("type") == "Sequential":
        lines = []
        for i, child in enumerate(spec.get("layers", [])):
            lines += _layers(child, arrays, prefix, f"{path}{i}.")
        return lines
    args = ", ".join(f"{k}={v}" for k, v in spec.items() if k != "type")
    n = sum(a.size for k, a in arrays.items() if k.startswith(prefix + path))
    count = f"  ({n:,} parameters)" if n else ""
    return [f"  {path.rstrip('.') or '-':>4}  {spec['type']}({args}){count}"]


def describe(meta: dict[str, Any], arrays: dict[str, Any]) -> str:
    """The text `chainrule info` prints for a model file's description and arrays."""
    content = meta["content"]
    lines = [
        f"chainrule model ({content}), written by chainrule {meta.get('chainrule')} "
        f"on {meta.get('created', '?')}"
    ]
    est = meta.get("estimator") or {}
    fitted = est.get("fitted") or {}
    network, prefix = (
        (meta.get("network"), "")
        if content == "module"
        else (fitted.get("network"), "estimator.model.")
    )
    tab = meta.get("tabular") or {}
    if tab:
        lines.append(f"task          {tab['task']} of {tab['target']!r}")
        if tab["task"] == "regression":
            lines.append(
                f"target scale  mean {tab['target_mean']:.6g}, sd {tab['target_scale']:.6g}"
            )
    if "classes" in fitted:
        classes = fitted["classes"]["values"]
        shown = ", ".join(map(str, classes[:20])) + (", ..." if len(classes) > 20 else "")
        lines.append(f"classes       {len(classes)}: {shown}")
    if est:
        lines.append(f"estimator     {est['class']}")
        params = dict(est.get("params", {}))
        if not params.get("early_stopping"):  # unused without early stopping: not shown
            params.pop("validation_fraction", None)
        if isinstance(params.get("module"), dict):  # a NeuralNet*'s network: listed below
            params["module"] = "(the network below, before training)"
        lines.append("  " + ", ".join(f"{k}={v}" for k, v in params.items() if v is not None))
    columns = (tab.get("preprocessing") or {}).get("columns", [])
    if columns:
        kinds = [c["kind"] for c in columns]
        lines.append(
            f"inputs        {len(columns)} columns: {kinds.count('numeric')} numeric "
            f"(standardized), {kinds.count('categorical')} categorical (one-hot)"
        )
    for col in columns[:MAX_COLUMNS]:
        if col["kind"] == "numeric":
            lines.append(
                f"  {col['name']!r}: numeric, mean {col['mean']:.4g}, sd {col['scale']:.4g}"
            )
        else:
            cats = col["categories"]
            shown = ", ".join(cats[:6]) + (", ..." if len(cats) > 6 else "")
            lines.append(f"  {col['name']!r}: categorical, {len(cats)} categories ({shown})")
    if len(columns) > MAX_COLUMNS:
        lines.append(f"  ... and {len(columns) - MAX_COLUMNS} more columns (--json lists all)")
    if network:
        total = sum(int(np.prod(a.shape)) for k, a in arrays.items() if k.startswith(prefix))
        lines.append(f"network       {total:,} parameters")
        lines += _layers(network, arrays, prefix)
    lines += _run_lines(tab.get("info") or {})
    return "\n".join(lines)


def _run_lines(info: dict[str, Any]) -> list[str]:
    """The training run's record, each line only from what the file holds (never "None")."""
    from chainrule.cli.summary import training_length

    lines = []
    rows = info.get("rows") or {}
    if info.get("data") is not None:
        split = ""
        if rows.get("train") is not None:
            split = (
                f": {rows['train']} training rows, {rows.get('validation') or 0} validation rows"
            )
        lines.append(f"trained on    {info['data']}{split}")
    if info.get("epochs") is not None:
        seconds = f", {info['time_s']} s" if info.get("time_s") is not None else ""
        lines.append(f"epochs        {training_length(info)}{seconds}")
    for part in ("train", "validation", "test"):
        m = (info.get("metrics") or {}).get(part)
        if m:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in m.items() if isinstance(v, float))
            lines.append(f"{part:14}{shown}")
    if info.get("command"):
        lines.append(f"command       {info['command']}")
    return lines


def _check(meta: dict[str, Any], arrays: dict[str, Any]) -> None:
    """What `chainrule.load` checks that `describe` relies on, without building the estimator.

    The networks are rebuilt from their arrays and run on a zero input, and the labels and
    the preprocessing are read back; the estimator classes (and scikit-learn, which they
    import, most of the start-up time) are not needed for that.
    """
    from chainrule.saving.labels import labels_from_json
    from chainrule.saving.modelfile import ESTIMATOR_NETWORK, check_network
    from chainrule.saving.modelspec import rebuild_network

    content = meta.get("content")
    if content == "module":
        check_network(rebuild_network(meta.get("network"), arrays), None, None)
        return
    fitted = (meta.get("estimator") or {}).get("fitted")
    if not isinstance(fitted, dict):
        if arrays or content == "tabular":
            raise ValueError("the file holds weights but no fitted state")
        return
    n_in, n_out = fitted.get("n_features_in_"), fitted.get("n_outputs_")
    for key, v in (("n_features_in_", n_in), ("n_outputs_", n_out)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{key} must be a positive integer")
    check_network(rebuild_network(fitted.get("network"), arrays, ESTIMATOR_NETWORK), n_in, n_out)
    if "classes" in fitted:
        labels_from_json(fitted.get("classes"), n_out)
    if content == "tabular":
        from chainrule.data.tabular import TabularPreprocessor

        prep = TabularPreprocessor.from_json((meta.get("tabular") or {}).get("preprocessing"))
        if len(prep.feature_names_) != n_in:
            raise ValueError("the preprocessing and the network disagree on the feature count")


def run(args: argparse.Namespace) -> int:
    from chainrule.errors import ModelFileError
    from chainrule.saving.modelfile import read_header

    meta, arrays = read_header(io.check_input(args.model))
    try:  # the file is checked as 'predict' would use it
        _check(meta, arrays)
    except ModelFileError as exc:
        raise ModelFileError(f"{str(args.model)!r}: {exc}") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise ModelFileError(
            f"{str(args.model)!r} holds a malformed model description: {exc}"
        ) from exc
    if args.json:
        print(json.dumps(meta, indent=2))
        return 0
    try:
        text = describe(meta, arrays)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        # Notes that loading does not need (the run's record) were edited into odd shapes.
        raise ModelFileError(
            f"{str(args.model)!r} holds a malformed description ({type(exc).__name__}: "
            f"{exc}); 'chainrule info --json' shows it as stored"
        ) from exc
    print(text)
    return 0
