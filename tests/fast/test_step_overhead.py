"""A training step does no per-call work that costs more than its arithmetic.

A small network's step (W2 in ``benchmarks/``: 64-64-10, batch 32) takes ~100 µs, of which
the matrix products are ~20; a check worth tens of µs repeated per layer doubles it. These
tests count the calls of such checks over a few steps (no timings).
"""

from __future__ import annotations

import importlib.util

import numpy as np

import chainrule as cr
from chainrule.fast import kernels


def small_run(steps: int = 6) -> None:
    cr.set_seed(0)
    model = cr.nn.Sequential(cr.nn.Dense(8, 16), cr.nn.ReLU(), cr.nn.Dense(16, 3))
    model.flatten_parameters()
    X = np.random.default_rng(0).standard_normal((4 * steps, 8)).astype(np.float32)
    y = np.arange(len(X)) % 3
    opt = cr.optim.Adam(model.parameters())
    cr.fit(model, cr.nn.CrossEntropyLoss(), opt, X, y, epochs=1, batch_size=4, progress=False)


def test_steps_do_not_search_the_disk_for_numba(monkeypatch):
    # numba installed but not loaded (a job under kernels.MIN_SIZE parameters): whether it is
    # installed is looked up once, not by every layer of every step (~70 µs a lookup).
    looked_up: list[str] = []
    find_spec = importlib.util.find_spec

    def counting(name, *args, **kwargs):
        looked_up.append(name)
        return find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", counting)
    monkeypatch.setattr(kernels, "_module", None)
    monkeypatch.setattr(kernels, "_found", None, raising=False)
    monkeypatch.setattr(kernels, "_enabled", True)
    small_run()
    small_run()
    assert looked_up.count("numba") <= 1
