"""tune and Ensemble on a real Dask LocalCluster of 2 worker processes (no mocks).

The jobs record the address of the worker that ran them, and the id() of the data object
they were given: one id per worker proves the data was scattered once, not shipped with
every task. Results must equal an in-process run with the same seeds.
"""

from __future__ import annotations

import socket

import numpy as np
import pytest

from chainrule.recipe import Ensemble, tune

pytest.importorskip("distributed")
pytest.importorskip("optuna")
pd = pytest.importorskip("pandas")

pytestmark = pytest.mark.slow

SPACE = {"learning_rate": (1e-4, 0.3), "hidden_layer_sizes": [(4,), (16,)]}


def _one_data_object_per_worker(workers: list, data_ids: list) -> None:
    per_worker: dict = {}
    for worker, data_id in zip(workers, data_ids, strict=True):
        per_worker.setdefault(worker, set()).add(data_id)
    assert all(len(ids) == 1 for ids in per_worker.values()), per_worker


def test_tune_runs_trials_on_the_workers(cluster, iris, small_clf) -> None:
    client, addresses = cluster
    X, y = iris
    kwargs = {"n_trials": 8, "seed": 0, "n_parallel": 4, "refit": False}
    remote = tune(small_clf(epochs=12), SPACE, X, y, scheduler=client, **kwargs)
    workers = [o.worker for o in remote.outcomes]
    assert set(workers) <= addresses and None not in workers  # each ran on a cluster worker
    assert list(remote.trials_["worker"]) == workers
    _one_data_object_per_worker(workers, [o.data_id for o in remote.outcomes])
    # Same seed, same batches: the same search as in this process, trial for trial.
    local = tune(small_clf(epochs=12), SPACE, X, y, **kwargs)
    columns = ["number", "state", "score", "epochs", "learning_rate", "hidden_layer_sizes"]
    pd.testing.assert_frame_equal(remote.trials_[columns], local.trials_[columns])
    assert remote.best_params_ == local.best_params_
    assert client.status == "running"  # a Client passed in is left open


def test_tune_by_scheduler_address(cluster, iris, small_clf) -> None:
    client, addresses = cluster
    X, y = iris
    result = tune(
        small_clf(epochs=5),
        SPACE,
        X,
        y,
        n_trials=2,
        seed=1,
        scheduler=client.scheduler.address,
        refit=False,
    )
    assert {o.worker for o in result.outcomes} <= addresses


def test_ensemble_members_train_on_the_workers(cluster, iris, small_clf) -> None:
    client, addresses = cluster
    X, y = iris
    remote = Ensemble(small_clf(), n_members=4, random_state=0, scheduler=client).fit(X, y)
    assert set(remote.workers_) <= addresses and None not in remote.workers_
    _one_data_object_per_worker(remote.workers_, remote._data_ids)
    local = Ensemble(small_clf(), n_members=4, random_state=0).fit(X, y)
    # Same seeds, same members (to rounding: BLAS may sum in another order in another process).
    np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), rtol=1e-5)


def test_n_workers_starts_and_closes_a_local_cluster(cluster, diabetes, small_reg) -> None:
    _, addresses = cluster
    X, y = diabetes
    ens = Ensemble(small_reg(epochs=5), n_members=2, random_state=0, n_workers=2).fit(X, y)
    assert all(w is not None and w.startswith("tcp://") for w in ens.workers_)
    assert not set(ens.workers_) & addresses  # a cluster of its own
    for address in set(ens.workers_):  # ... closed after fit: its workers no longer listen
        host, port = address.removeprefix("tcp://").rsplit(":", 1)
        with pytest.raises(OSError):
            socket.create_connection((host, int(port)), timeout=2).close()


def test_grid_search_under_joblibs_dask_backend(cluster, iris, small_clf) -> None:
    import joblib
    from distributed import get_task_stream
    from sklearn.model_selection import GridSearchCV

    client, addresses = cluster
    X, y = iris
    search = GridSearchCV(small_clf(epochs=5), {"learning_rate": [1e-3, 1e-2]}, cv=2, n_jobs=-1)
    with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        search.fit(X, y)
    assert {task["worker"] for task in stream.data} <= addresses
    assert len(stream.data) >= 1  # the fits ran as Dask tasks
    assert search.best_params_["learning_rate"] in (1e-3, 1e-2)
    assert search.best_score_ > 0.3


def test_the_whole_recipe_on_the_cluster(cluster, iris) -> None:
    from chainrule.recipe import run_recipe

    client, addresses = cluster
    X, y = iris
    result = run_recipe(X, y, epochs=5, n_trials=2, n_members=2, cv=2, scheduler=client)
    assert set(result.tuning.trials_["worker"]) <= addresses
    assert set(result.ensemble.workers_) <= addresses
    assert result.ensemble.scheduler is None  # the fitted ensemble does not keep the client


def test_cli_tune_on_local_workers(tmp_path, capsys) -> None:
    from chainrule.cli import main

    report = tmp_path / "tuning"
    code = main(
        [
            "tune",
            "--trials",
            "2",
            "--epochs",
            "2",
            "--hidden",
            "8",
            "--workers",
            "2",
            "--space",
            '{"batch_size": [32, 64]}',
            "--report",
            str(report),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    workers = pd.read_csv(report / "trials.csv")["worker"]
    assert workers.str.startswith("tcp://").all()
