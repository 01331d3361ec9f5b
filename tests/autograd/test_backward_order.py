"""`backward()` visits nodes in decreasing creation number instead of sorting the graph first.

It must give the plain sum-rule result: every path's contribution, each node after all of its
users.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr


def test_values_reused_on_many_paths_sum_their_contributions():
    x = cr.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    early = x * x  # created first, used last
    mid = (x + 1.0).exp()
    late = mid * early
    out = (late + early * 3.0 + mid).sum() + (early * early).sum()
    out.backward()
    v = x.data
    # out = Σ e^(v+1) v² + 3v² + e^(v+1) + v⁴
    expected = np.exp(v + 1) * (v * v + 2 * v) + 6 * v + np.exp(v + 1) + 4 * v**3
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)
    np.testing.assert_allclose(early.grad, np.exp(v + 1) + 3.0 + 2 * v * v, rtol=1e-12)


def test_backward_from_an_intermediate_reaches_only_its_inputs():
    a = cr.Tensor(2.0, requires_grad=True, dtype=np.float64)
    b = cr.Tensor(3.0, requires_grad=True, dtype=np.float64)
    h = a * b
    other = b * b  # created later, not an input of h
    h.backward(retain_graph=True)
    assert a.grad == 3.0 and b.grad == 2.0 and other.grad is None
    (h + other).backward()
    assert b.grad == 2.0 + 2.0 + 6.0
