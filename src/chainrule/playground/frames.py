"""What the server sends the page: frames of training, the data points, and compact heat maps.

Heat maps are computed on the server, on a `GRID` × `GRID` grid over the domain, by one batched
forward pass per frame that keeps every neuron's output (`Session.grid_outputs`); the neurons'
small maps are averaged down to `NEURON_GRID` × `NEURON_GRID`. Each map is sent as bytes (values
in [−1, 1] scaled to 0..255) in base64. `benchmarks/playground_frames.py` measures the rate.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from chainrule.playground.datasets import grid
from chainrule.playground.inspect import point_details
from chainrule.playground.session import Session

__all__ = ["GRID", "data_message", "encode_map", "frame_message"]

GRID = 50
NEURON_GRID = GRID // 2  # the neurons' maps are drawn 40 px wide: 2 × 2 cells averaged into one
_POINTS = grid(GRID)


def encode_map(values: np.ndarray) -> str:
    """Values in [−1, 1] (NaN as 0) as base64 bytes, v ↦ round((v + 1) · 127.5)."""
    v = np.nan_to_num(np.clip(np.asarray(values, dtype=np.float64), -1, 1))
    return base64.b64encode(np.round((v + 1) * 127.5).astype(np.uint8).tobytes()).decode("ascii")


def _pooled(z: np.ndarray) -> np.ndarray:
    """A GRID × GRID map (flat) averaged over 2 × 2 blocks into NEURON_GRID × NEURON_GRID."""
    return z.reshape(NEURON_GRID, 2, NEURON_GRID, 2).mean(axis=(1, 3)).ravel()


def _number(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def data_message(session: Session) -> dict[str, Any]:
    """The training and test points with their labels, [x₁, x₂, y] each."""

    def rows(points: np.ndarray, y: np.ndarray) -> list[list[float]]:
        return np.round(np.column_stack([points, y]), 4).tolist()

    return {
        "type": "data",
        "problem": session.config.problem,
        "train": rows(session.train_points, session.train_y),
        "test": rows(session.test_points, session.test_y),
    }


def frame_message(
    session: Session, *, history_from: int, point: tuple[float, float], label: float
) -> dict[str, Any]:
    """One frame: epoch, losses, new loss-curve points, heat maps, weights, δ at `point`."""
    output, neurons = session.grid_outputs(_POINTS)
    h = session.history
    train, test = session.losses()
    try:
        with np.errstate(all="ignore"):
            details: dict[str, Any] | None = point_details(session, point, label)
    except ValueError:  # a diverged network's NaN output is no loss
        details = None
    if details and not all(math.isfinite(v) for row in details["delta"] for v in row):
        details = None
    return {
        "type": "frame",
        "epoch": session.epoch,
        "steps": session.steps,
        "train_loss": _number(train),
        "test_loss": _number(test),
        "history": {
            "start": history_from,
            "train": h["train"][history_from:],
            "test": h["test"][history_from:],
            "grad_norms": h["grad_norms"][history_from:],
        },
        "step_losses": [_number(v) for v in session.step_losses],
        "best_epoch": session.best_epoch,
        "stop_epoch": session.stop_epoch,
        "diverged": session.diverged,
        "grad_norms": [_number(v) for v in session.last_norms],
        "grid": GRID,
        "boundary": encode_map(output),
        "neuron_grid": NEURON_GRID,
        "neurons": [[encode_map(_pooled(z)) for z in layer] for layer in neurons],
        "weights": _finite_weights(session),
        "point": details,
    }


def _finite_weights(session: Session) -> list[dict[str, Any]]:
    layers = session.weights()
    for layer in layers:
        layer["weight"] = [[_number(v) for v in row] for row in layer["weight"]]
        layer["bias"] = [_number(v) for v in layer["bias"]]
    return layers
