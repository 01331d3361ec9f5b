"""`cr.save` and `cr.load`: a network, an estimator or a command-line model in one safe file.

The file is a chainrule archive (`chainrule.archive`: NumPy ``.npy`` arrays and one JSON
document in an uncompressed zip, written atomically). The arrays are the weights; the JSON
holds everything else::

    {"kind": "chainrule-model", "model_version": 1, "chainrule": "<version>",
     "content": "module" | "estimator" | "tabular",
     "network": {...}            # the architecture (chainrule.modelspec), for "module"
     "estimator": {...}          # class, hyperparameters, fitted state, for the other two
     "tabular": {...}}           # preprocessing, task, target mapping, run info

Loading executes no code from the file: no pickle anywhere, the estimator class and every
layer type are looked up in fixed tables, and every field is checked. Anything wrong with the
file raises `chainrule.ModelFileError` saying what.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from datetime import datetime, timezone
from typing import Any

import numpy as np

from chainrule._version import __version__
from chainrule.archive import read_archive, write_archive
from chainrule.errors import ModelFileError
from chainrule.modelspec import build_network, describe_network, network_io
from chainrule.nn import Module

__all__ = ["MODEL_KIND", "MODEL_VERSION", "load", "read_header", "save"]

MODEL_KIND = "chainrule-model"
MODEL_VERSION = 1
_NET = "estimator.model."  # array-name prefix of an estimator's network
_ESTIMATORS = ("MLPClassifier", "MLPRegressor")
_FITTED_FLOATS = ("best_loss_", "best_validation_score_")
# Label dtypes a file may name: bool, ints, uints, floats and fixed-width text.
_LABEL_DTYPE = re.compile(r"[<>|=]?([biufU])(\d{1,6})")
# A text label dtype may be this many characters wider than its longest label (labels cut
# from a wider array keep its width); `save` writes the exact width.
_LABEL_SLACK = 64


def save(model: Any, path: str | os.PathLike[str]) -> None:
    """Save a network, a fitted (or unfitted) estimator, or a `TabularModel` to `path`.

    Parameters
    ----------
    model : chainrule.nn.Module, MLPClassifier, MLPRegressor or TabularModel
        A module must be a `Sequential` (or a single layer) of chainrule's own layer types.
    path : str or os.PathLike
        The file to create or replace, atomically (its folder must exist).

    Raises
    ------
    ValueError
        If `model` cannot be stored (an unknown layer type, labels that are not JSON
        values); nothing is written then.
    """
    arrays: dict[str, Any] = {}
    meta: dict[str, Any] = {"kind": MODEL_KIND, "model_version": MODEL_VERSION}
    meta["chainrule"] = __version__
    meta["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if isinstance(model, Module):
        meta["content"] = "module"
        meta["network"] = describe_network(model)
        meta["training"] = bool(model.training)
        arrays.update(model.state_dict())
    elif type(model).__name__ == "TabularModel" and hasattr(model, "preprocessor"):
        meta["content"] = "tabular"
        _check_target_mapping(model.target_mean, model.target_scale)  # as `load` will
        meta["estimator"] = _describe_estimator(model.estimator, arrays, require_fitted=True)
        meta["tabular"] = {
            "task": model.task,
            "target": model.target,
            "target_mean": model.target_mean,
            "target_scale": model.target_scale,
            "preprocessing": model.preprocessor.to_json(),
            "info": model.info,
        }
    elif type(model).__name__ in _ESTIMATORS:
        meta["content"] = "estimator"
        meta["estimator"] = _describe_estimator(model, arrays, require_fitted=False)
    else:
        raise ValueError(
            f"cannot save a {type(model).__name__}: cr.save takes a chainrule.nn.Module, an "
            "MLPClassifier / MLPRegressor, or a TabularModel"
        )
    for name, value in arrays.items():  # `load` refuses such files: do not write one
        a = np.asarray(value)
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            raise ValueError(
                f"cannot save: the weights {name!r} hold NaN or infinite values "
                "(training diverged, or they were set so)"
            )
    write_archive(path, arrays, meta)


def load(path: str | os.PathLike[str]) -> Any:
    """Load what `save` wrote: the module, estimator or `TabularModel`, ready to predict.

    Raises
    ------
    FileNotFoundError
        No file at `path`.
    chainrule.ModelFileError
        The file is not a chainrule model, is damaged, or comes from a newer chainrule.
    """
    arrays, meta = read_archive(path)
    name = os.fspath(path)
    _check_kind(meta, name)
    try:
        return _rebuild(meta, arrays)
    except ModelFileError as exc:
        raise ModelFileError(f"{name!r}: {exc}") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise ModelFileError(f"{name!r} holds a malformed model description: {exc}") from exc


def read_header(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON description of a model file and its arrays, checked but not rebuilt."""
    arrays, meta = read_archive(path)
    _check_kind(meta, os.fspath(path))
    return meta, arrays


def _check_kind(meta: dict[str, Any], name: str) -> None:
    kind = meta.get("kind")
    if kind != MODEL_KIND:
        if kind == "chainrule-checkpoint":
            raise ModelFileError(
                f"{name!r} is a training checkpoint, not a saved model: resume it with "
                "cr.fit(..., resume_from=path)"
            )
        raise ModelFileError(f"{name!r} is a chainrule archive but not a saved model")
    version = meta.get("model_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{name!r} has an invalid model format version {version!r}")
    if version > MODEL_VERSION:
        raise ModelFileError(
            f"{name!r} was written by a newer chainrule ({meta.get('chainrule', '?')}, model "
            f"format {version}); this one ({__version__}) reads up to format {MODEL_VERSION}: "
            "upgrade chainrule"
        )


def _check_target_mapping(mean: Any, scale: Any) -> None:
    """ValueError unless the target's mapping y = mean + scale · output is finite, scale > 0."""
    for key, value in (("target_mean", mean), ("target_scale", scale)):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"{key} must be a number")
        if not math.isfinite(value):
            raise ValueError(f"{key} is {value}, not a finite number")
    if scale <= 0:
        raise ValueError(f"target_scale must be positive, got {scale}")


def _rebuild(meta: dict[str, Any], arrays: dict[str, Any]) -> Any:
    content = meta.get("content")
    if content == "module":
        module = build_network(meta.get("network"), arrays)
        _smoke_test(module, None, None)
        return module.train(meta.get("training") is True)
    if content == "estimator":
        return _build_estimator(meta.get("estimator"), arrays)
    if content == "tabular":
        from chainrule.tabular import TabularModel, TabularPreprocessor

        estimator = _build_estimator(meta.get("estimator"), arrays)
        t = meta.get("tabular")
        if not isinstance(t, dict) or not hasattr(estimator, "model_"):
            raise ValueError("the tabular model lacks its description or fitted network")
        prep = TabularPreprocessor.from_json(t.get("preprocessing"))
        if len(prep.feature_names_) != estimator.n_features_in_:
            raise ValueError("the preprocessing and the network disagree on the feature count")
        info = t.get("info", {})
        _check_target_mapping(t.get("target_mean"), t.get("target_scale"))
        return TabularModel(
            estimator,
            prep,
            task=t.get("task"),
            target=str(t.get("target")),
            target_mean=t["target_mean"],
            target_scale=t["target_scale"],
            info=info if isinstance(info, dict) else {},
        )
    raise ValueError(f"unknown content {str(content)[:40]!r}")


def _smoke_test(module: Module, n_in: int | None, n_out: int | None) -> None:
    """Run one zero row through the network: its layers must fit together."""
    from chainrule.autograd import Tensor, no_grad

    width = network_io(module)[0]
    width = n_in if n_in is not None else width
    if width is None:
        return
    was_training = module.training
    module.eval()
    try:
        # Only the shapes matter here: odd but finite weights (a forged running variance
        # below 0) may give NaN, which is the model's business, not a warning of `load`.
        with no_grad(), np.errstate(all="ignore"):
            out = module(Tensor(np.zeros((1, width), dtype=np.float32)))
    except (ValueError, IndexError) as exc:
        raise ModelFileError(f"the network's layers do not fit together: {exc}") from exc
    finally:
        module.train(was_training)
    if n_out is not None and out.shape != (1, n_out):
        raise ModelFileError(f"the network has {out.shape[-1]} outputs, the estimator {n_out}")


# ---------------------------------------------------------------------------- estimators
def _json_param(key: str, value: Any) -> Any:
    """A hyperparameter as JSON (None where it cannot be stored: callbacks, generators)."""
    if key == "callbacks":
        return None
    if key == "augment":
        return _augment_json(value)
    if key == "dtype":
        return np.dtype(value).name
    if key == "class_weight" and isinstance(value, dict):
        # [[label, weight], ...]: JSON object keys would turn int labels into strings.
        return [[_json_param("label", k), float(w)] for k, w in value.items()]
    if key == "hidden_layer_sizes" and not isinstance(value, int | np.integer):
        return [int(n) for n in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return None  # e.g. random_state=np.random.Generator: not reproducible from a file


def _augment_json(value: Any) -> Any:
    """`augment` by name(s); a function cannot be stored (files hold no code): dropped, warned.

    It only shapes training, so the loaded estimator predicts the same; a refit of it trains
    without that augmentation unless `augment` is set again.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    warnings.warn(
        f"augment={value!r} includes a function, which a model file cannot hold; it is saved "
        "as augment=None (predictions are unaffected; set augment again before refitting)",
        UserWarning,
        stacklevel=4,
    )
    return None


def _labels_json(labels: np.ndarray) -> dict[str, Any]:
    labels = np.asarray(labels)
    if labels.dtype.kind == "O":
        values = labels.tolist()
        if not all(isinstance(v, str | bool | int | float) for v in values):
            raise ValueError("class labels must be strings, numbers or booleans to be saved")
        return {"dtype": "object", "values": values}
    if not _LABEL_DTYPE.fullmatch(labels.dtype.str):
        raise ValueError(f"class labels of dtype {labels.dtype} cannot be saved")
    if labels.dtype.kind == "U":  # the exact width, which `load` bounds by the labels held
        labels = labels.astype(f"<U{max(max((len(v) for v in labels.tolist()), default=1), 1)}")
    return {"dtype": labels.dtype.str, "values": labels.tolist()}


def _labels_from_json(data: Any, n: int) -> np.ndarray:
    if not isinstance(data, dict) or not isinstance(data.get("values"), list):
        raise ValueError("the class labels are malformed")
    values, dtype = data["values"], data.get("dtype")
    if len(values) != n:
        raise ValueError(f"{len(values)} class labels for {n} outputs")
    scalar = (str, bool, int, float)
    if dtype == "object":
        if not all(isinstance(v, scalar) for v in values):
            raise ValueError("class labels must be strings, numbers or booleans")
        out = np.empty(n, dtype=object)
        out[:] = values
        return out
    match = _LABEL_DTYPE.fullmatch(dtype) if isinstance(dtype, str) else None
    if match is None:
        raise ValueError(f"class labels have an unsupported dtype {str(dtype)[:20]!r}")
    expected = {"b": bool, "i": int, "u": int, "f": (int, float), "U": str}[match.group(1)]
    if not all(
        isinstance(v, expected) and (expected is bool) == isinstance(v, bool) for v in values
    ):
        raise ValueError(f"class labels do not match their dtype {dtype}")
    if match.group(1) == "U":
        # The width allocates n × width × 4 bytes: bound it by the text the file holds, so a
        # few bytes declaring "<U999999" cannot ask for gigabytes.
        longest = max((len(v) for v in values), default=0)
        if int(match.group(2)) > max(longest, 1) + _LABEL_SLACK:
            raise ModelFileError(
                f"class labels declare the dtype {dtype}, but the longest of them holds "
                f"{longest} characters"
            )
    try:
        return np.array(values, dtype=np.dtype(dtype))
    except (TypeError, ValueError, OverflowError) as exc:  # "<i3", or 300 as an "<i1"
        raise ModelFileError(f"class labels do not fit their dtype {dtype}: {exc}") from exc


def _describe_estimator(est: Any, arrays: dict[str, Any], *, require_fitted: bool) -> dict:
    name = type(est).__name__
    if name not in _ESTIMATORS:
        raise ValueError(f"cannot save the estimator {name}")
    params = {k: _json_param(k, v) for k, v in est.get_params(deep=False).items()}
    spec: dict[str, Any] = {"class": name, "params": params, "fitted": None}
    if not hasattr(est, "model_"):
        if require_fitted:
            raise ValueError(f"the {name} is not fitted")
        return spec
    fitted: dict[str, Any] = {
        "network": describe_network(est.model_),
        "dtype": np.dtype(est._dtype).name,
        "n_features_in_": int(est.n_features_in_),
        "n_outputs_": int(est.n_outputs_),
        "n_iter_": int(getattr(est, "n_iter_", 0)),
        "best_epoch_": int(getattr(est, "best_epoch_", getattr(est, "n_iter_", 0))),
        "stopped_by_": str(getattr(est, "stopped_by_", "epochs")),
        "loss_curve_": [float(v) for v in getattr(est, "loss_curve_", [])],
        "validation_scores_": (
            None
            if getattr(est, "validation_scores_", None) is None
            else [float(v) for v in est.validation_scores_]
        ),
    }
    for key in _FITTED_FLOATS:
        value = getattr(est, key, None)
        fitted[key] = None if value is None else float(value)
    if hasattr(est, "feature_names_in_"):
        fitted["feature_names_in_"] = [str(v) for v in est.feature_names_in_]
    if hasattr(est, "history_"):
        fitted["history"] = est.history_.state_dict()
    if name == "MLPClassifier":
        fitted["multilabel"] = bool(est._multilabel)
        fitted["classes"] = _labels_json(est.classes_)
    spec["fitted"] = fitted
    arrays.update({_NET + k: v for k, v in est.model_.state_dict().items()})
    return spec


def _build_estimator(spec: Any, arrays: dict[str, Any]) -> Any:
    from chainrule.estimators import MLPClassifier, MLPRegressor
    from chainrule.estimators.params import validate
    from chainrule.training import History

    if not isinstance(spec, dict) or spec.get("class") not in _ESTIMATORS:
        raise ValueError("the estimator record is missing or names an unknown class")
    cls = MLPClassifier if spec["class"] == "MLPClassifier" else MLPRegressor
    stored = spec.get("params")
    if not isinstance(stored, dict):
        raise ValueError("the estimator's hyperparameters are missing")
    known = cls().get_params(deep=False)
    params = {k: v for k, v in stored.items() if k in known and k != "callbacks"}
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    weights = params.get("class_weight")
    if isinstance(weights, list):
        if not all(isinstance(p, list) and len(p) == 2 for p in weights):
            raise ValueError(f"class_weight must be [[label, weight], ...], got {weights!r}")
        params["class_weight"] = {label: w for label, w in weights}
    seed = params.get("random_state")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"random_state must be a non-negative integer or null, got {seed!r}")
    est = cls(**params)
    config = validate(est.get_params())  # every value checked as fit would
    fitted = spec.get("fitted")
    if fitted is None:
        if arrays:  # an unfitted estimator has no weights: the two records disagree
            raise ValueError("the file holds weights but no fitted state")
        return est
    if not isinstance(fitted, dict):
        raise ValueError("the fitted state is malformed")
    model = build_network(fitted.get("network"), arrays, _NET)
    n_in, n_out = fitted.get("n_features_in_"), fitted.get("n_outputs_")
    for key, v in (("n_features_in_", n_in), ("n_outputs_", n_out)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{key} must be a positive integer")
    _smoke_test(model, n_in, n_out)
    est.model_ = model.eval()
    # Private state `partial_fit` / warm starts compare against (the estimators' own record).
    from chainrule.estimators import base

    if hasattr(base, "_architecture"):
        est._architecture = base._architecture(config)
    est._dtype = np.dtype(fitted.get("dtype"))
    if est._dtype.name not in ("float32", "float64"):
        raise ValueError(f"unsupported dtype {est._dtype}")
    est.n_features_in_, est.n_outputs_ = n_in, n_out
    names = fitted.get("feature_names_in_")
    if names is not None:
        if not isinstance(names, list) or len(names) != n_in:
            raise ValueError("feature_names_in_ does not match n_features_in_")
        est.feature_names_in_ = np.array([str(v) for v in names], dtype=object)
    est.n_iter_ = int(fitted.get("n_iter_", 0))
    est.best_epoch_ = int(fitted.get("best_epoch_", est.n_iter_))  # files before 0.2: the last
    est.stopped_by_ = str(fitted.get("stopped_by_", "epochs"))
    est.loss_curve_ = [float(v) for v in fitted.get("loss_curve_", [])]
    scores = fitted.get("validation_scores_")
    est.validation_scores_ = None if scores is None else [float(v) for v in scores]
    for key in _FITTED_FLOATS:
        value = fitted.get(key)
        setattr(est, key, None if value is None else float(value))
    est.history_ = History()
    if isinstance(fitted.get("history"), dict):
        est.history_.load_state_dict(fitted["history"])
    if cls is MLPClassifier:
        est._multilabel = fitted.get("multilabel") is True
        est.classes_ = _labels_from_json(fitted.get("classes"), n_out)
    return est
