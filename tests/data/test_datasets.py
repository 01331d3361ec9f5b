"""chainrule.datasets.shifted_patterns: shapes, balance, placement, errors."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.data.datasets import pattern_templates, shifted_patterns


def test_each_signal_holds_its_template_somewhere_scaled():
    X, y = shifted_patterns(200, length=30, noise=0.0, random_state=0)
    assert X.shape == (200, 1, 30) and X.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1, 2, 3}
    templates = pattern_templates()
    width = templates.shape[1]
    starts = set()
    for row, label in zip(X[:, 0], y, strict=True):
        t = templates[label]
        # without noise the signal is a·template in one window, a in [0.6, 1.4], zero elsewhere
        fits = []
        for s in range(30 - width + 1):
            a = row[s : s + width] @ t / (t @ t)
            rest = np.delete(row, range(s, s + width))
            if np.allclose(row[s : s + width], a * t, atol=1e-5) and np.allclose(rest, 0):
                fits.append((s, a))
        assert fits, label
        s, a = fits[0]
        assert 0.6 - 1e-5 <= a <= 1.4 + 1e-5
        starts.add(s)
    assert len(starts) > 10  # the position varies


def test_same_seed_same_data_and_bad_arguments_named():
    a, b = shifted_patterns(20, random_state=3), shifted_patterns(20, random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="length"):
        shifted_patterns(10, length=5)
    with pytest.raises(ValueError, match="n_samples"):
        shifted_patterns(0)
    with pytest.raises(ValueError, match="noise"):
        shifted_patterns(10, noise=-1.0)
