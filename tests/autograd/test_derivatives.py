"""The table of local derivatives lists every primitive op, each with its derivative."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.autograd.derivatives import PACKAGE, _derivative_text, markdown_table, primitives
from chainrule.nn import BatchNorm, Dense, ReLU, Sequential
from chainrule.nn import functional as F

PAGE = Path(__file__).resolve().parents[2] / "docs" / "derivatives.md"


def test_every_primitive_states_its_local_derivative():
    found = primitives()
    assert len(found) >= 30
    # ∂out/∂in, σ′, or in words ("the gradient is reshaped back")
    missing = [f"{p.module}.{p.function}" for p in found if not _derivative_text(p.doc)]
    assert not missing, f"primitives whose docstring gives no derivative: {missing}"


def test_index_finds_every_op_that_records_a_backward_pass():
    # An independent count from the raw text: each `Tensor._make(..., backward, "<name>")`.
    pattern = re.compile(r'Tensor\._make\([^;]*?,\s*backward,\s*"([^"]+)"\)')
    expected = set()
    for path in PACKAGE.rglob("*.py"):
        expected.update(pattern.findall(path.read_text(encoding="utf-8")))
    assert {"+", "relu", "linear", "batch_norm", "cross_entropy", "dense_chain"} <= expected
    listed = {p.op for p in primitives()}
    assert expected <= listed, expected - listed


def test_ops_seen_in_real_graphs_are_listed():
    listed = {p.op for p in primitives()}
    x = cr.Tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    seen = {
        Sequential(Dense(3, 2), ReLU())(x).op,  # the fused chain
        Sequential(Dense(3, 2), ReLU(), fuse=False)(x).op,
        Dense(3, 2)(x).op,
        BatchNorm(3)(x).op,
        F.cross_entropy(x, np.array([0, 1, 2, 0])).op,
        F.softmax(x).op,
        (x * x).sum().op,
        x.tanh().op,
    }
    assert seen <= listed, seen - listed


def test_the_docs_page_is_current():
    assert PAGE.read_text(encoding="utf-8") == markdown_table(), (
        "docs/derivatives.md is stale: run python -m chainrule.autograd.derivatives "
        "> docs/derivatives.md"
    )
