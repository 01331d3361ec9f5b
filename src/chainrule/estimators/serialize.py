"""How the estimators (`MLPClassifier`, `MLPRegressor`, `NeuralNetClassifier`,
`NeuralNetRegressor`) are stored in a model file (`cr.save` / `cr.load`).

The record is JSON: the class name (looked up in a fixed table, never imported by name), the
hyperparameters as `get_params` gives them, and the fitted state (the network's architecture,
sizes, curves, history, class labels); the network's weights go to the arrays under
``estimator.model.``. A `NeuralNet*`'s `module` hyperparameter, when it is a network, is stored
the same way (architecture in the record, its weights under ``estimator.module.``); a function
cannot be (files hold no code). Importing `chainrule.estimators` registers this kind with
`chainrule.saving.modelfile`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from chainrule.estimators.base import _architecture
from chainrule.estimators.classifier import MLPClassifier
from chainrule.estimators.inference import read_fitted
from chainrule.estimators.neuralnet import _NO_MLP, NeuralNetClassifier, NeuralNetRegressor
from chainrule.estimators.params import record_params, validate
from chainrule.estimators.regressor import MLPRegressor
from chainrule.nn import Module
from chainrule.saving.labels import labels_json
from chainrule.saving.modelfile import ESTIMATOR_NETWORK, register_kind
from chainrule.saving.modelspec import describe_network, rebuild_network
from chainrule.training import History

__all__ = ["build_estimator", "describe_estimator"]

_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (MLPClassifier, MLPRegressor, NeuralNetClassifier, NeuralNetRegressor)
}
_CLASSIFIERS = (MLPClassifier, NeuralNetClassifier)
_MODULE = "estimator.module."  # array-name prefix of a NeuralNet*'s `module` network
_FITTED_FLOATS = ("best_loss_", "best_validation_score_")


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
    if key in ("hidden_layer_sizes", "input_shape") and isinstance(value, list | tuple):
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


def _module_json(value: Any, arrays: dict[str, Any]) -> Any:
    """A `NeuralNet*`'s `module`: a network as its record (weights to `arrays`); a function
    cannot be stored: dropped, warned (the fitted network still predicts the same)."""
    if isinstance(value, Module):
        arrays.update({_MODULE + k: v for k, v in value.state_dict().items()})
        return {"network": describe_network(value)}
    if value is not None:
        warnings.warn(
            f"module={value!r} is a function, which a model file cannot hold; it is saved as "
            "module=None (the fitted network predicts the same; set module again before "
            "refitting)",
            UserWarning,
            stacklevel=4,
        )
    return None


def describe_estimator(est: Any, arrays: dict[str, Any], *, require_fitted: bool) -> dict:
    name = type(est).__name__
    if _CLASSES.get(name) is not type(est):
        raise ValueError(f"cannot save the estimator {name}")
    params = {
        k: _module_json(v, arrays) if k == "module" else _json_param(k, v)
        for k, v in est.get_params(deep=False).items()
    }
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
    if isinstance(est, _CLASSIFIERS):
        fitted["multilabel"] = bool(est._multilabel)
        fitted["classes"] = labels_json(est.classes_)
    spec["fitted"] = fitted
    arrays.update({ESTIMATOR_NETWORK + k: v for k, v in est.model_.state_dict().items()})
    return spec


def build_estimator(spec: Any, arrays: dict[str, Any]) -> Any:
    if not isinstance(spec, dict) or spec.get("class") not in _CLASSES:
        raise ValueError("the estimator record is missing or names an unknown class")
    cls = _CLASSES[spec["class"]]
    params = record_params(spec.get("params"), cls().get_params(deep=False))
    module = params.get("module")
    prefixes = (ESTIMATOR_NETWORK,) if module is None else (ESTIMATOR_NETWORK, _MODULE)
    stray = [k for k in arrays if not k.startswith(prefixes)]
    if stray:
        raise ValueError(f"the file holds arrays no part of the estimator uses: {stray[:3]}")
    if module is not None:
        if not isinstance(module, dict) or "network" not in module:
            raise ValueError("the estimator's module must be a network record or null")
        params["module"] = rebuild_network(module["network"], arrays, _MODULE)
    est = cls(**params)
    neural_net = cls in (NeuralNetClassifier, NeuralNetRegressor)
    # every value checked as fit would (a NeuralNet*'s module is checked when it is rebuilt)
    config = validate({**est.get_params(), **(_NO_MLP if neural_net else {})})
    fitted = spec.get("fitted")
    if fitted is None:
        if any(k.startswith(ESTIMATOR_NETWORK) for k in arrays):
            raise ValueError("the file holds weights but no fitted state")  # records disagree
        return est
    state = read_fitted(fitted, arrays, classifier=cls in _CLASSIFIERS)
    est.model_ = state.network
    # Private state `partial_fit` / warm starts compare against (the estimators' own record).
    est._architecture = _architecture(config)
    est._dtype = state.dtype
    est.n_features_in_, est.n_outputs_ = state.n_features_in, state.n_outputs
    if state.feature_names is not None:
        est.feature_names_in_ = state.feature_names
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
    if cls in _CLASSIFIERS:
        est._multilabel, est.classes_ = state.multilabel, state.classes
    return est


def _describe(est: Any, arrays: dict[str, Any], *, require_fitted: bool = False) -> dict:
    return {"estimator": describe_estimator(est, arrays, require_fitted=require_fitted)}


def _rebuild(meta: dict[str, Any], arrays: dict[str, Any]) -> Any:
    return build_estimator(meta.get("estimator"), arrays)


register_kind("estimator", tuple(_CLASSES.values()), _describe, _rebuild)
