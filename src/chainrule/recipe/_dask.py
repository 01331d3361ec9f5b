"""Where the recipe's independent jobs (tuning trials, ensemble members) run: here or on Dask.

`tune` and `Ensemble` take ``scheduler=`` (the address of a running Dask scheduler, such as
``"tcp://host:8786"``, or a `distributed.Client`) or ``n_workers=`` (a `LocalCluster` of that
many worker processes, started for the call and closed after it). With neither, jobs run one
after another in this process. On a cluster the shared data is sent to the
workers once (``client.scatter(..., broadcast=True)``) and each job gets a reference to it, so a
hundred trials do not ship the training set a hundred times. `runner` hides the difference.

Dask is an optional extra: ``pip install "chainrule[distributed]"``.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["Runner", "dask_client", "import_optuna", "runner", "worker_address"]

EXTRA_HINT = 'pip install "chainrule[distributed]"'


def import_distributed() -> Any:
    """The `distributed` module, or an ImportError that names the extra to install."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            f"running on Dask (scheduler= or n_workers=) needs dask and distributed, which are "
            f"not installed: {EXTRA_HINT}"
        ) from exc
    return distributed


def import_optuna() -> Any:
    """The `optuna` module, or an ImportError that names the extra to install."""
    try:
        import optuna
    except ImportError as exc:
        raise ImportError(
            'tune needs Optuna, which is not installed: pip install "chainrule[tune]"'
        ) from exc
    return optuna


def _check_workers(n_workers: Any) -> int:
    if isinstance(n_workers, bool) or not isinstance(n_workers, numbers.Integral) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}")
    return int(n_workers)


@contextmanager
def dask_client(scheduler: Any = None, n_workers: Any = None) -> Iterator[Any]:
    """A `distributed.Client` for the call (None: run in this process).

    Parameters
    ----------
    scheduler : str or distributed.Client, optional
        An address (``"tcp://host:8786"``): a client is opened to it and closed afterwards.
        A `Client` is used as it is and left open (the caller owns it).
    n_workers : int, optional
        Start a `LocalCluster` of `n_workers` processes with one thread each (NumPy in each
        process may use its own threads; one Python thread avoids fighting for the GIL),
        and close it afterwards.
    """
    if scheduler is not None and n_workers is not None:
        raise ValueError(
            "give scheduler= (an existing cluster) or n_workers= (a local one), not both"
        )
    if scheduler is None and n_workers is None:
        yield None
        return
    distributed = import_distributed()
    if scheduler is not None:
        if isinstance(scheduler, distributed.Client):
            yield scheduler
            return
        if not isinstance(scheduler, str) or not scheduler:
            raise ValueError(
                "scheduler must be a Dask scheduler address such as 'tcp://host:8786' or a "
                f"distributed.Client, got {scheduler!r}"
            )
        try:
            client = distributed.Client(scheduler, timeout="30s")
        except OSError as exc:
            raise OSError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from exc
        try:
            yield client
        finally:
            client.close()
        return
    n = _check_workers(n_workers)
    cluster = distributed.LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: a throwaway cluster must not clash on :8787
        silence_logs=logging.ERROR,
    )
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def worker_address() -> str | None:
    """The address of the Dask worker running the caller, or None outside a worker."""
    try:
        from distributed import get_worker
    except ImportError:
        return None
    try:
        return str(get_worker().address)
    except ValueError:  # not inside a worker task
        return None


class Runner:
    """Runs jobs ``fn(shared, *args)`` here or on a Dask cluster; see `runner`.

    On a cluster, `shared` (the data) is scattered to every worker once, when the runner is
    made, and each task receives the copy its worker holds; the jobs' own arguments are small
    (parameters, seeds). `map` returns results in the order of the jobs, whatever order the
    workers finish in, so callers stay deterministic.
    """

    def __init__(self, client: Any, shared: Any) -> None:
        self.client = client
        if client is None:
            self.shared = shared
        else:  # in a list, so that a tuple is sent as one object (one future), not per item
            self.shared = client.scatter([shared], broadcast=True, hash=False)[0]

    def map(self, fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``[fn(shared, *job) for job in jobs]``."""
        if self.client is None:
            return [fn(self.shared, *job) for job in jobs]
        futures = [self.client.submit(fn, self.shared, *job, pure=False) for job in jobs]
        return list(self.client.gather(futures))

    def close(self) -> None:
        if self.client is not None:
            self.shared.release()  # free the workers' copy, even on a client the caller keeps


@contextmanager
def runner(scheduler: Any, n_workers: Any, shared: Any) -> Iterator[Runner]:
    """A `Runner` on the cluster chosen by `scheduler` / `n_workers` (see `dask_client`)."""
    with dask_client(scheduler, n_workers) as client:
        run = Runner(client, shared)
        try:
            yield run
        finally:
            run.close()
