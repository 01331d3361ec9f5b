"""How a `TabularModel` is stored in a model file (`cr.save` / `cr.load`).

Its estimator is stored as the estimator kind stores it (`chainrule.estimators.serialize`),
beside a ``"tabular"`` record: the task, the target's name and mapping, the preprocessing
(`TabularPreprocessor.to_json`) and the run's info. Importing this module registers the kind
with `chainrule.saving.modelfile`; `chainrule.estimators` does (a `TabularModel` wraps one of
its estimators, so none can be saved before they are imported), and `load` imports it for a
file of this kind. The model itself lives in `chainrule.data.tabular`, below this package.
"""

from __future__ import annotations

import math
from typing import Any

from chainrule.data.tabular.model import TabularModel
from chainrule.data.tabular.preprocessor import TabularPreprocessor
from chainrule.saving.modelfile import describe_kind, rebuild_kind, register_kind

__all__ = ["check_target_mapping", "tabular_model"]


def check_target_mapping(mean: Any, scale: Any) -> None:
    """ValueError unless the target's mapping y = mean + scale · output is finite, scale > 0."""
    for key, value in (("target_mean", mean), ("target_scale", scale)):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"{key} must be a number")
        if not math.isfinite(value):
            raise ValueError(f"{key} is {value}, not a finite number")
    if scale <= 0:
        raise ValueError(f"target_scale must be positive, got {scale}")


def _describe(model: TabularModel, arrays: dict[str, Any]) -> dict[str, Any]:
    check_target_mapping(model.target_mean, model.target_scale)  # as `load` will
    meta = describe_kind("estimator", model.estimator, arrays, require_fitted=True)
    meta["tabular"] = {
        "task": model.task,
        "target": model.target,
        "target_mean": model.target_mean,
        "target_scale": model.target_scale,
        "preprocessing": model.preprocessor.to_json(),
        "info": model.info,
    }
    return meta


def _rebuild(meta: dict[str, Any], arrays: dict[str, Any]) -> TabularModel:
    return tabular_model(meta, rebuild_kind("estimator", meta, arrays))


def tabular_model(meta: dict[str, Any], estimator: Any) -> TabularModel:
    """The `TabularModel` of a file's description around `estimator`, the one rebuilt from
    its estimator record (or a `chainrule.estimators.inference.Predictor` of it, to predict
    only)."""
    t = meta.get("tabular")
    if not isinstance(t, dict) or not hasattr(estimator, "model_"):
        raise ValueError("the tabular model lacks its description or fitted network")
    prep = TabularPreprocessor.from_json(t.get("preprocessing"))
    if len(prep.feature_names_) != estimator.n_features_in_:
        raise ValueError("the preprocessing and the network disagree on the feature count")
    info = t.get("info", {})
    check_target_mapping(t.get("target_mean"), t.get("target_scale"))
    return TabularModel(
        estimator,
        prep,
        task=t.get("task"),
        target=str(t.get("target")),
        target_mean=t["target_mean"],
        target_scale=t["target_scale"],
        info=info if isinstance(info, dict) else {},
    )


register_kind("tabular", (TabularModel,), _describe, _rebuild)
