"""Gradient buffers (`chainrule.fast.flat`) give the plain sum-rule result.

Leaves with a gradient buffer (flattened parameters) receive their gradient in it
(`Parameter._accumulate_grad` hands over to `accumulate_in_buffer`), possibly written there
directly by an op (`grad_destination`). Both must equal ``grad ← grad + g``.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.fast.flat import grad_destination
from chainrule.nn import Parameter


def buffered(value):
    p = Parameter(np.asarray(value, dtype=np.float64))
    p._grad_buffer = np.zeros_like(p.data)
    return p


def test_grad_destination_hands_out_a_buffer_once_per_pass():
    p = buffered([1.0, 2.0])
    assert grad_destination(cr.Tensor([1.0])) is None  # no buffer
    buf = grad_destination(p)
    assert buf is p._grad_buffer
    assert grad_destination(p) is None  # already handed out in this pass
    p._grad_claimed = False
    p.grad = p._grad_buffer
    assert grad_destination(p) is None  # holds a gradient to keep


def test_leaves_with_buffers_end_with_their_buffer_as_grad():
    p = buffered([1.0, 2.0, 3.0])
    q = buffered(0.5)
    (p * q + p).sum().backward()
    assert p.grad is p._grad_buffer and q.grad is q._grad_buffer
    np.testing.assert_allclose(p.grad, [1.5, 1.5, 1.5])
    np.testing.assert_allclose(q.grad, 6.0)
    (p * p).sum().backward()  # accumulates in place
    np.testing.assert_allclose(p.grad, [3.5, 5.5, 7.5])
    assert not p._grad_claimed and not q._grad_claimed


def test_a_gradient_written_in_place_by_an_op_is_not_copied():
    d = cr.nn.Dense(3, 2, dtype=np.float64)
    cr.nn.flatten_parameters(d)
    x = cr.Tensor(np.ones((4, 3)))
    d(x).sum().backward()
    buf = d.weight._grad_buffer
    assert d.weight.grad is buf
    np.testing.assert_allclose(buf, np.full((2, 3), 4.0))  # Σₙ 1 · xₙ
    np.testing.assert_allclose(d.bias.grad, [4.0, 4.0])


def test_grad_check_accepts_column_major_inputs():
    rng = np.random.default_rng(0)
    w = np.asfortranarray(rng.normal(size=(3, 4)))  # how Dense stores its weight
    x = rng.normal(size=(5, 4))
    result = cr.grad_check(lambda t: ((cr.Tensor(x) @ t.T).tanh() ** 2).sum(), [w])
    assert result, result.report()
