"""`History`: the per-epoch record of a training run (loss, validation loss, metrics)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any


class History:
    """Per-epoch lists of the logged numbers, as Keras's ``History``.

    ``history["loss"][e]`` is the mean training loss of epoch e (0-based), averaged over its
    batches weighted by their sizes; ``history["val_loss"]`` and each metric (``"accuracy"``,
    ``"val_accuracy"``, ...) likewise, and ``"lr"`` is the learning rate the epoch ran with.
    ``history.history`` is the dict behind them and ``history.epoch`` the epoch numbers. A key
    that appears only in some epochs holds NaN in the others, so all lists have one entry per
    epoch.
    """

    def __init__(self, history: Mapping[str, list[float]] | None = None) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.params: dict[str, Any] = {}
        if history:
            lengths = {len(v) for v in history.values()}
            if len(lengths) != 1:
                raise ValueError("every history list must have one entry per epoch")
            self.history = {str(k): [float(x) for x in v] for k, v in history.items()}
            self.epoch = list(range(lengths.pop()))

    def append(self, epoch: int, logs: Mapping[str, Any]) -> None:
        """Record the numbers in `logs` for `epoch` (non-numeric entries are skipped)."""
        n = len(self.epoch)
        for key, value in logs.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                try:
                    value = float(value)  # NumPy scalars, 0-d arrays
                except (TypeError, ValueError):
                    continue
            self.history.setdefault(key, [math.nan] * n).append(float(value))
        self.epoch.append(int(epoch))
        for values in self.history.values():
            if len(values) == n:  # key absent from this epoch's logs
                values.append(math.nan)

    def __getitem__(self, key: str) -> list[float]:
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(
                f"no {key!r} in the history; recorded: {', '.join(self.history) or 'nothing'}"
            ) from None

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __iter__(self) -> Iterator[str]:
        return iter(self.history)

    def __len__(self) -> int:
        """The number of epochs recorded."""
        return len(self.epoch)

    def keys(self) -> list[str]:
        return list(self.history)

    def state_dict(self) -> dict[str, Any]:
        """JSON data from which `load_state_dict` rebuilds this history exactly."""
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        history, epoch = state["history"], state["epoch"]
        if any(len(v) != len(epoch) for v in history.values()):
            raise ValueError("every history list must have one entry per epoch")
        self.history = {str(k): [float(x) for x in v] for k, v in history.items()}
        self.epoch = [int(e) for e in epoch]

    def _repr_html_(self) -> str:
        """A table in notebooks: one row per epoch (the first and last few of a long run)."""
        from chainrule.viz.html import html_table

        keys = list(self.history)
        rows = [[e + 1, *(self.history[k][i] for k in keys)] for i, e in enumerate(self.epoch)]
        if len(rows) > 20:
            rows = [*rows[:5], ["…", *([""] * len(keys))], *rows[-10:]]
        return html_table(["epoch", *keys], rows, caption=f"History: {len(self)} epochs")

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History({len(self)} epochs{': last ' + last if last else ''})"
