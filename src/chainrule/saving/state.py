"""Nested state (an optimizer's ``state_dict()``) as arrays plus JSON that refers to them.

`flatten_state` takes the arrays out and leaves references; `unflatten_state` puts them back.
`chainrule.saving.archive` stores the two parts; nothing is pickled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.errors import ModelFileError

__all__ = ["MAX_STATE_DEPTH", "flatten_state", "unflatten_state"]

Array = npt.NDArray[Any]
# Nested state deeper than this is refused (written or read): never a RecursionError.
MAX_STATE_DEPTH = 64
_MARKERS = ("__array__", "__scalar__", "__tuple__", "__dict__")


def flatten_state(tree: Any, prefix: str = "") -> tuple[dict[str, Array], Any]:
    """Split nested state into arrays and JSON data that refers to them.

    Arrays become ``{"__array__": name}``, NumPy scalars ``{"__scalar__": name}`` (so their
    dtype survives), tuples ``{"__tuple__": [...]}`` and dicts with non-string keys (an
    optimizer's per-parameter state) ``{"__dict__": [[key, value], ...]}``. Python numbers,
    strings, booleans and None stay as they are. `unflatten_state` reverses it exactly.

    Returns
    -------
    arrays : dict of str to numpy.ndarray
        Named by their path in `tree` (after `prefix`); not copied.
    json_tree : JSON data
    """
    arrays: dict[str, Array] = {}

    def name_for(path: str) -> str:
        name, k = prefix + path.strip("/"), 1
        while name in arrays:
            name, k = f"{prefix}{path.strip('/')}#{k}", k + 1
        return name or "value"

    def walk(x: Any, path: str, depth: int = 0) -> Any:
        if x is None or isinstance(x, str | bool | int | float):
            return x
        if depth > MAX_STATE_DEPTH:
            raise ValueError(f"state nested more than {MAX_STATE_DEPTH} levels deep at {path!r}")
        if isinstance(x, np.ndarray | np.generic):
            name = name_for(path)
            arrays[name] = np.asarray(x)
            return {"__array__" if isinstance(x, np.ndarray) else "__scalar__": name}
        if isinstance(x, tuple):
            return {"__tuple__": [walk(v, f"{path}/{i}", depth + 1) for i, v in enumerate(x)]}
        if isinstance(x, list):
            return [walk(v, f"{path}/{i}", depth + 1) for i, v in enumerate(x)]
        if isinstance(x, Mapping):
            plain = all(isinstance(k, str) for k in x) and not (
                len(x) == 1 and next(iter(x)) in _MARKERS
            )
            if plain:
                return {k: walk(v, f"{path}/{k}", depth + 1) for k, v in x.items()}
            return {
                "__dict__": [
                    [walk(k, path, depth + 1), walk(v, f"{path}/{k}", depth + 1)]
                    for k, v in x.items()
                ]
            }
        raise ValueError(
            f"cannot store a {type(x).__name__} at {path or '/'!r}: state may hold only "
            "numbers, strings, None, lists, tuples, dicts and NumPy arrays"
        )

    return arrays, walk(tree, "")


def unflatten_state(json_tree: Any, arrays: Mapping[str, Array]) -> Any:
    """Rebuild the state `flatten_state` split.

    Raises ModelFileError if an array is missing or the tree is nested more than
    `MAX_STATE_DEPTH` levels deep (checked before descending, so never a RecursionError).
    """

    def get(name: Any) -> Array:
        if not isinstance(name, str) or name not in arrays:
            raise ModelFileError(f"the state refers to a missing array {name!r}")
        return arrays[name]

    def walk(x: Any, depth: int) -> Any:
        if not isinstance(x, list | dict):
            return x
        if depth > MAX_STATE_DEPTH:
            raise ModelFileError(f"the state is nested more than {MAX_STATE_DEPTH} levels deep")
        if isinstance(x, list):
            return [walk(v, depth + 1) for v in x]
        if len(x) == 1:
            ((key, value),) = x.items()
            if key == "__array__":
                return get(value)
            if key == "__scalar__":
                return get(value)[()]
            if key == "__tuple__" and isinstance(value, list):
                return tuple(walk(v, depth + 1) for v in value)
            if key == "__dict__" and isinstance(value, list):
                try:
                    return {walk(k, depth + 1): walk(v, depth + 1) for k, v in value}
                except (TypeError, ValueError) as exc:
                    raise ModelFileError(f"malformed dict in the state: {exc}") from exc
        return {k: walk(v, depth + 1) for k, v in x.items()}

    return walk(json_tree, 0)
