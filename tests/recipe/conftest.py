"""Small real datasets, small networks and a real two-process Dask cluster for the recipe tests."""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.preprocessing import StandardScaler

import chainrule as cr


def standardized(X: np.ndarray) -> np.ndarray:
    return StandardScaler().fit_transform(X).astype(np.float32)


@pytest.fixture(scope="session")
def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return standardized(X), y


@pytest.fixture(scope="session")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    return standardized(X), y


@pytest.fixture(scope="session")
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    """Diabetes with the target standardized (the networks learn on a unit scale)."""
    X, y = load_diabetes(return_X_y=True)
    return standardized(X), ((y - y.mean()) / y.std()).astype(np.float32)


@pytest.fixture(scope="session")
def small_clf():
    """make(**params): a small, quick MLPClassifier (16 hidden units, 20 epochs, seed 0)."""

    def make(**kwargs: object) -> cr.MLPClassifier:
        params = {"hidden_layer_sizes": (16,), "epochs": 20, "random_state": 0, **kwargs}
        return cr.MLPClassifier(**params)

    return make


@pytest.fixture(scope="session")
def small_reg():
    """make(**params): a small, quick MLPRegressor."""

    def make(**kwargs: object) -> cr.MLPRegressor:
        params = {"hidden_layer_sizes": (16,), "epochs": 20, "random_state": 0, **kwargs}
        return cr.MLPRegressor(**params)

    return make


@pytest.fixture(scope="module")
def cluster():
    """A real LocalCluster: 2 worker processes, 1 thread each; yields (client, addresses)."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as local,
        distributed.Client(local) as client,
    ):
        client.wait_for_workers(2)
        yield client, set(client.scheduler_info()["workers"])
