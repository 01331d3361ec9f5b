"""Array checks: a ValueError naming the array and the problem; fit arguments converted."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.data import check_arrays, check_fit_arrays


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ((np.zeros((3, 2)), np.zeros(4)), "inconsistent numbers of samples"),
        ((np.zeros((0, 2)), np.zeros(0)), "empty"),
        ((np.array([[1.0, np.nan]]), np.zeros(1)), r"NaN at index \(0, 1\)"),
        ((np.array([[1.0], [np.inf]]), np.zeros(2)), "infinite"),
        ((np.array([["a", "b"]]), np.zeros(1)), "must be numeric"),
        ((np.float64(3.0), np.zeros(1)), "scalar"),
    ],
)
def test_bad_data_raises_value_error_naming_the_problem(arrays, message):
    with pytest.raises(ValueError, match=message):
        check_arrays(*arrays)


def test_nan_far_into_a_large_array_is_found_and_located():
    X = np.zeros((100_000, 3), dtype=np.float32)
    X[91_234, 2] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN at index \(91234, 2\)"):
        check_arrays(X, np.zeros(len(X)))


def test_fit_arrays_are_cast_to_the_parameters_dtype():
    X, y, w = check_fit_arrays(
        np.ones((4, 2)), np.array([0.5, 1, 2, 3]), np.ones(4), np.float32, ""
    )
    assert X.dtype == y.dtype == w.dtype == np.float32
    X, y, _ = check_fit_arrays([[1, 2], [3, 4]], np.array([0, 1]), None, np.float64)
    assert X.dtype == np.float64 and y.dtype.kind == "i"  # labels keep their type


def test_sparse_fit_arrays_stay_sparse():
    sp = pytest.importorskip("scipy.sparse")
    X = sp.random(5, 3, density=0.5, format="coo", random_state=0, dtype=np.float64)
    out, _, _ = check_fit_arrays(X, np.zeros(5), None, np.float32)
    assert out.format == "csr" and out.dtype == np.float32
    X = X.tocsr()
    X.data[0] = np.inf
    with pytest.raises(ValueError, match=r"validation X \(its stored values\) contains an inf"):
        check_fit_arrays(X, np.zeros(5), None, np.float32, "validation ")


@pytest.mark.parametrize(
    ("w", "message"),
    [
        (np.ones(3), r"have one entry per sample, shape \(4,\); got \(3,\)"),
        (np.array([1.0, -1, 1, 1]), "be non-negative"),
    ],
)
def test_bad_sample_weights_are_named(w, message):
    with pytest.raises(ValueError, match=f"sample_weight must {message}"):
        check_fit_arrays(np.ones((4, 2)), np.zeros(4), w)


def test_fit_arrays_of_different_lengths_are_named():
    with pytest.raises(ValueError, match="validation X has 4 samples but validation y has 3"):
        check_fit_arrays(np.ones((4, 2)), np.zeros(3), prefix="validation ")
