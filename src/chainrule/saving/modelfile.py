"""`cr.save` and `cr.load`: a network, an estimator or a command-line model in one safe file.

The file is a chainrule archive (`chainrule.saving.archive`: NumPy ``.npy`` arrays and one JSON
document in an uncompressed zip, written atomically). The arrays are the weights; the JSON
holds everything else::

    {"kind": "chainrule-model", "model_version": 1, "chainrule": "<version>",
     "content": "module" | "estimator" | "tabular",
     "network": {...}            # the architecture (chainrule.saving.modelspec), for "module"
     "estimator": {...}          # class, hyperparameters, fitted state, for the other two
     "tabular": {...}}           # preprocessing, task, target mapping, run info

Each kind of content other than a bare network registers its own (de)serializer with
`register_kind` when its package is imported: `chainrule.estimators` the estimators,
`chainrule.saving.tabular` the command line's `TabularModel` (imported by the estimators).
Loading imports the package for a content from a fixed table (`_PROVIDERS`), never a module
the file names.

Loading executes no code from the file: no pickle anywhere, the estimator class and every
layer type are looked up in fixed tables, and every field is checked. Anything wrong with the
file raises `chainrule.ModelFileError` saying what.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, NamedTuple

import numpy as np

from chainrule._version import __version__
from chainrule.errors import ModelFileError
from chainrule.nn import Module
from chainrule.saving.archive import read_archive, write_archive
from chainrule.saving.modelspec import describe_network, network_io, rebuild_network
from chainrule.saving.versions import check_version

__all__ = [
    "ESTIMATOR_NETWORK",
    "MODEL_KIND",
    "MODEL_VERSION",
    "check_network",
    "load",
    "read_header",
    "register_kind",
    "save",
]

MODEL_KIND = "chainrule-model"
MODEL_VERSION = 1
ESTIMATOR_NETWORK = "estimator.model."  # array-name prefix of an estimator's network
# The package that registers each content kind: `load` imports it from this table only.
_PROVIDERS = {"estimator": "chainrule.estimators.serialize", "tabular": "chainrule.saving.tabular"}


class _Kind(NamedTuple):
    types: tuple[type, ...]
    describe: Callable[..., dict[str, Any]]  # (obj, arrays, **options) -> meta entries
    rebuild: Callable[[dict[str, Any], dict[str, Any]], Any]  # (meta, arrays) -> obj


_KINDS: dict[str, _Kind] = {}


def register_kind(
    content: str,
    types: tuple[type, ...],
    describe: Callable[..., dict[str, Any]],
    rebuild: Callable[[dict[str, Any], dict[str, Any]], Any],
) -> None:
    """Teach `save` / `load` a kind of content (a package calls this when it is imported).

    `save` stores an object whose exact type is in `types` with ``"content": content`` and the
    JSON entries ``describe(obj, arrays)`` returns (it adds the weights to `arrays`); `load`
    calls ``rebuild(meta, arrays)``. `content` must be a key of `_PROVIDERS`, the fixed table
    of packages `load` may import.
    """
    if content not in _PROVIDERS:
        raise ValueError(f"unknown content kind {content!r}: add it to _PROVIDERS")
    _KINDS[content] = _Kind(tuple(types), describe, rebuild)


def _content_of(model: Any) -> str | None:
    # Exact types: a subclass may hold state its base cannot rebuild.
    found = next((c for c, k in _KINDS.items() if type(model) in k.types), None)
    if found is None and type(model).__module__.startswith("chainrule."):
        # Its class was imported from its own module, before the kind registered itself.
        for module in _PROVIDERS.values():
            with contextlib.suppress(ImportError):
                importlib.import_module(module)
        found = next((c for c, k in _KINDS.items() if type(model) in k.types), None)
    return found


def describe_kind(content: str, obj: Any, arrays: dict[str, Any], **options: Any) -> dict:
    """The JSON entries the kind `content` stores for `obj` (its weights go to `arrays`)."""
    return _KINDS[content].describe(obj, arrays, **options)


def rebuild_kind(content: str, meta: dict[str, Any], arrays: dict[str, Any]) -> Any:
    """The object of kind `content` that `meta` and `arrays` describe."""
    importlib.import_module(_PROVIDERS[content])  # registers the kind
    return _KINDS[content].rebuild(meta, arrays)


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
    elif (content := _content_of(model)) is not None:
        meta["content"] = content
        meta.update(describe_kind(content, model, arrays))
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
    writer = meta.get("chainrule", "?")
    check_version(meta.get("model_version"), MODEL_VERSION, "model format", writer, f"{name!r}: ")


def _rebuild(meta: dict[str, Any], arrays: dict[str, Any]) -> Any:
    content = meta.get("content")
    if content == "module":
        module = rebuild_network(meta.get("network"), arrays)
        check_network(module, None, None)
        return module.train(meta.get("training") is True)
    if isinstance(content, str) and content in _PROVIDERS:
        return rebuild_kind(content, meta, arrays)
    raise ValueError(f"unknown content {str(content)[:40]!r}")


def check_network(module: Module, n_in: int | None, n_out: int | None) -> None:
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
