"""Helpers for the training-loop tests: small real models and data, a recording callback.

Imported by the tests (``from trainkit import ...``) and by the crash-resume subprocess script.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr


def make_data(n: int = 60, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A two-class problem: class 1 where x₀ + x₁ > 0."""
    X = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def make_model(d: int = 3, hidden: int = 8, dropout: float = 0.0, seed: int = 0) -> cr.nn.Module:
    cr.set_seed(seed)
    layers = [cr.nn.Dense(d, hidden), cr.nn.Tanh()]
    if dropout:
        layers.append(cr.nn.Dropout(dropout))
    return cr.nn.Sequential(*layers, cr.nn.Dense(hidden, 2))


def weights(model: cr.nn.Module) -> dict[str, np.ndarray]:
    return model.state_dict()


def same_weights(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    """Bit-for-bit equality (dtype, shape and every byte)."""
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes() for k in a
    )


class Recorder(cr.callbacks.Callback):
    """Records what the loop did: hooks called, batch sizes, epoch logs, weights per epoch."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.batch_sizes: list[int] = []
        self.logs: list[dict] = []
        self.snapshots: list[dict] = []

    def on_train_begin(self, trainer):
        self.calls.append("train_begin")

    def on_epoch_begin(self, trainer, epoch):
        self.calls.append(f"epoch_begin {epoch}")

    def on_batch_end(self, trainer, step, logs):
        self.batch_sizes.append(logs["size"])

    def on_epoch_end(self, trainer, epoch, logs):
        self.calls.append(f"epoch_end {epoch}")
        self.logs.append(dict(logs))
        self.snapshots.append(trainer.model.state_dict())

    def on_train_end(self, trainer):
        self.calls.append("train_end")
