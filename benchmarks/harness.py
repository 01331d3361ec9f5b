"""Shared pieces of the benchmark scripts: the contenders, timing rounds, tables and JSON.

Every workload script runs chainrule, PyTorch (CPU), scikit-learn and the hand-written NumPy
floor (`minimal_numpy.MinimalMLP`) in one process. Timing follows three rules, because a small
shared VM drifts by ±20% over a minute:

* rounds alternate: each round runs every contender once, so drift hits all of them alike;
* the first (warm-up) rounds are not counted, and figures are medians over the counted rounds;
* a short pause separates contenders, so the idle BLAS/OpenMP threads of one have stopped
  spinning before the next starts.

PyTorch and scikit-learn are benchmark-only dependencies: a contender whose library is missing
is skipped with a note.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import chainrule as cr

try:  # (older versions have no compiled kernels)
    from chainrule.fast.kernels import enabled as kernels_enabled
    from chainrule.fast.kernels import use_kernels
except ImportError:  # pragma: no cover
    import contextlib

    def use_kernels(flag: bool) -> Any:
        return contextlib.nullcontext()

    def kernels_enabled() -> bool:
        return False


TORCH, SKLEARN, MINIMAL = "torch", "sklearn", "minimal NumPy"
REFERENCES = (TORCH, SKLEARN, MINIMAL)

torch: Any = None  # set by load_torch(); imported only when a script runs PyTorch


def load_torch() -> Any:
    """PyTorch with 2 intra-op threads (the machine's cores, as NumPy's BLAS uses; or
    OMP_NUM_THREADS when set), or None."""
    global torch
    if torch is None:
        try:
            import torch as _torch
        except ImportError:  # benchmark-only dependency
            return None
        _torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", 2)))
        torch = _torch
    return torch


# ---------------------------------------------------------------------- command line
class _Parser(argparse.ArgumentParser):
    def parse_args(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        ns = super().parse_args(*args, **kwargs)
        global CLOCK
        CLOCK = time.process_time if ns.cpu_time else time.perf_counter
        return ns


# What `timed_rounds` measures: wall-clock time, or with --cpu-time this process's CPU time.
CLOCK: Callable[[], float] = time.perf_counter


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every script shares."""
    p = _Parser(description=description)
    p.add_argument(
        "--cpu-time",
        action="store_true",
        help="time the process's CPU seconds instead of wall-clock seconds: on a loaded "
        "machine, with one BLAS thread (OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1), this "
        "leaves out the time spent waiting for a core",
    )
    p.add_argument("--quick", action="store_true", help="a smaller, faster run (a smoke test)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    p.add_argument("--repeats", type=int, help="counted rounds (median is reported)")
    p.add_argument("--warmup", type=int, default=1, help="uncounted rounds first (default 1)")
    p.add_argument(
        "--only", help="comma-separated contenders to run (default: all), e.g. 'chainrule,torch'"
    )
    return p


def selected(names: Sequence[str], only: str | None) -> list[str]:
    """The contenders to run: all of `names`, or those whose name starts with an --only entry."""
    if not only:
        return list(names)
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    return [n for n in names if any(n.startswith(w) for w in wanted)]


# ---------------------------------------------------------------------- timing
def timed_rounds(
    contenders: dict[str, Callable[[], Any]],
    repeats: int,
    warmup: int = 1,
    pause: float = 0.3,
    fresh: bool = False,
) -> dict[str, list[float]]:
    """Seconds per call of each contender over `repeats` counted rounds (after `warmup`).

    With `fresh`, each contender is a factory: every round it is called first (untimed) and
    the function it returns is timed, e.g. a new model's first epoch. Training one model on
    and on would compare different states: late in training, running averages that decay
    towards 0 pass through the subnormal floats, on which x86 CPUs are ~100× slower, and the
    implementations reach that point after different numbers of epochs.
    """
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(warmup + repeats):
        for name, fn in contenders.items():
            run = fn() if fresh else fn
            time.sleep(pause)
            t0 = CLOCK()
            run()
            elapsed = CLOCK() - t0
            if r >= warmup:
                times[name].append(elapsed)
    return times


def summarize(times: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    """Median, min, max and the ratio of each median to every reference's median."""
    medians = {name: statistics.median(t) for name, t in times.items() if t}
    out: dict[str, dict[str, Any]] = {}
    for name, t in times.items():
        if not t:
            continue
        row: dict[str, Any] = {
            "median_s": medians[name],
            "min_s": min(t),
            "max_s": max(t),
            "times_s": t,
        }
        for ref in REFERENCES:
            if ref in medians:
                row[f"ratio_vs_{ref}"] = medians[name] / medians[ref]
        out[name] = row
    return out


def print_table(
    title: str,
    rows: dict[str, dict[str, Any]],
    *,
    unit: str = "s",
    extra: Sequence[tuple[str, str, str]] = (),
) -> None:
    """A plain-text table: median, min..max, ratios vs the references, extra columns.

    `extra` lists (header, key, format) for further per-row values (e.g. accuracy).
    """
    scale = {"s": 1.0, "ms": 1e3, "µs": 1e6}[unit]
    refs = [r for r in REFERENCES if r in rows]
    width = max([26, *(len(name) + 2 for name in rows)])
    header = f"{'implementation':<{width}}{'median ' + unit:>12}{'min..max':>18}"
    header += "".join(f"{'× ' + r:>16}" for r in refs)
    header += "".join(f"{h:>{max(len(h) + 2, 12)}}" for h, _, _ in extra)
    print(f"\n{title}")
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        span = f"{row['min_s'] * scale:.3f}..{row['max_s'] * scale:.3f}"
        line = f"{name:<{width}}{row['median_s'] * scale:>12.3f}{span:>18}"
        line += "".join(f"{row[f'ratio_vs_{r}']:>16.2f}" for r in refs)
        for h, key, fmt in extra:
            value = row.get(key)
            text = "-" if value is None else format(value, fmt)
            line += f"{text:>{max(len(h) + 2, 12)}}"
        print(line)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "chainrule": cr.__version__,
        "compiled_kernels": kernels_enabled(),
        "thread_env": {
            k: os.environ[k]
            for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
            if k in os.environ
        },
    }
    try:
        import numba

        info["numba"] = numba.__version__
    except ImportError:
        info["numba"] = None
    try:  # the BLAS behind NumPy (and torch, once imported): library, kernel, threads
        from threadpoolctl import threadpool_info

        info["threadpools"] = [
            {
                k: pool.get(k)
                for k in ("user_api", "internal_api", "version", "architecture", "num_threads")
            }
            | {"library": os.path.basename(pool.get("filepath", ""))}
            for pool in threadpool_info()
        ]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    try:
        import sklearn

        info["sklearn"] = sklearn.__version__
    except ImportError:  # pragma: no cover
        pass
    return info


def write_json(path: str | None, payload: dict[str, Any]) -> None:
    if not path:
        return
    payload = {"machine": machine(), "argv": sys.argv[1:], **payload}
    with open(path, "w") as f:
        json.dump(payload, f, indent=2, default=float)
    print(f"\nwrote {path}")


# ---------------------------------------------------------------------- data
def mnist_shaped(n: int, n_features: int = 784, n_classes: int = 10, seed: int = 0):
    """Synthetic float32 inputs, uniform in [0, 1), with labels a network can learn.

    The label of x is the argmax of a fixed random linear map of x (centred), so the data has
    structure; the speed of dense layers does not depend on the values.
    """
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_features), dtype=np.float32)
    proj = rng.standard_normal((n_features, n_classes)).astype(np.float32)
    y = np.empty(n, np.int64)
    for start in range(0, n, 4096):  # in chunks: the peak memory stays that of X itself
        y[start : start + 4096] = np.argmax((X[start : start + 4096] - 0.5) @ proj, axis=1)
    return X, y


def digits_split(seed: int = 0):
    """scikit-learn's digits, scaled to [0, 1] (÷16), float32, split 80/20 (stratified)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y.astype(np.int64), test_size=0.2, random_state=seed, stratify=y)


# ---------------------------------------------------------------------- contenders
def chainrule_mlp(sizes: Sequence[int], seed: int = 0) -> cr.nn.Sequential:
    """Dense → ReLU → ... → Dense (logits), float32, Xavier-uniform weights."""
    cr.set_seed(seed)
    layers: list[cr.nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(cr.nn.Dense(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(cr.nn.ReLU())
    return cr.nn.Sequential(*layers)


class ChainruleLoop:
    """chainrule trained with a loop written out with its public API.

    With `flatten` (the recommended setup for speed) the parameters are laid out in one flat
    buffer before the optimizer is made, so each step updates them with one call. `compiled`
    False runs the NumPy code only (as without the ``[fast]`` extra); None leaves the
    setting alone.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        lr: float = 1e-3,
        seed: int = 0,
        flatten: bool = True,
        compiled: bool | None = None,
    ) -> None:
        self.model = chainrule_mlp(sizes, seed)
        if flatten and hasattr(self.model, "flatten_parameters"):  # (older versions lack it)
            self.model.flatten_parameters()
        self.loss = cr.nn.CrossEntropyLoss()
        self.optimizer = cr.optim.Adam(self.model.parameters(), lr=lr)
        self.rng = np.random.default_rng(seed)
        self._xbuf: np.ndarray | None = None
        self.compiled = compiled
        if compiled is not None:
            for name in ("epoch", "train"):
                setattr(self, name, self._switched(getattr(self, name), compiled))

    @staticmethod
    def _switched(method: Any, compiled: bool) -> Any:
        def switched(*args: Any) -> None:
            with use_kernels(compiled):
                method(*args)

        return switched

    def train(self, X: np.ndarray, y: np.ndarray, batch_size: int, epochs: int) -> None:
        """`epochs` passes over (X, y)."""
        for _ in range(epochs):
            self.epoch(X, y, batch_size)

    def epoch(self, X: np.ndarray, y: np.ndarray, batch_size: int) -> None:
        model, loss, optimizer = self.model, self.loss, self.optimizer
        n = len(X)
        if self._xbuf is None or self._xbuf.shape != (batch_size, X.shape[1]):
            self._xbuf = np.empty((batch_size, X.shape[1]), X.dtype)
            self._ybuf = np.empty(batch_size, y.dtype)
        order = self.rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            k = len(idx)
            xb = np.take(X, idx, axis=0, out=self._xbuf[:k])  # gather into a reused buffer
            yb = np.take(y, idx, out=self._ybuf[:k])
            optimizer.zero_grad()
            E = loss(model(cr.Tensor(xb)), yb)
            E.backward()
            optimizer.step()

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.model.eval()
        with cr.no_grad():
            logits = self.model(cr.Tensor(X)).data
        self.model.train()
        return logits.argmax(axis=1)


def chainrule_fit_available() -> bool:
    try:
        return callable(cr.fit)
    except (AttributeError, ImportError):
        return False


class ChainruleFit(ChainruleLoop):
    """chainrule trained with `cr.fit`, to show the loop's overhead: `epoch` is one call of one
    epoch; `train` one call for all epochs, as `cr.fit` is used (its checks of the data, the
    divergence guard's setup and the like then run once, not once per epoch)."""

    def epoch(self, X: np.ndarray, y: np.ndarray, batch_size: int) -> None:
        self._fit(X, y, batch_size, 1)

    def train(self, X: np.ndarray, y: np.ndarray, batch_size: int, epochs: int) -> None:
        self._fit(X, y, batch_size, epochs)

    def _fit(self, X: np.ndarray, y: np.ndarray, batch_size: int, epochs: int) -> None:
        cr.fit(
            self.model,
            self.loss,
            self.optimizer,
            X,
            y,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=True,
            seed=self.rng,
            progress=False,
        )


class TorchLoop:
    """PyTorch eager on the CPU: nn.Sequential, nn.CrossEntropyLoss, optim.Adam."""

    def __init__(self, sizes: Sequence[int], lr: float = 1e-3, seed: int = 0) -> None:
        torch.manual_seed(seed)
        layers: list[Any] = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(torch.nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.loss = torch.nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.gen = torch.Generator().manual_seed(seed)

    def epoch(self, X: Any, y: Any, batch_size: int) -> None:
        model, loss, optimizer = self.model, self.loss, self.optimizer
        n = len(X)
        order = torch.randperm(n, generator=self.gen)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad()
            loss(model(X[idx]), y[idx]).backward()
            optimizer.step()

    def predict(self, X: Any) -> np.ndarray:
        self.model.eval()
        with torch.inference_mode():
            out = self.model(X).argmax(dim=1).numpy()
        self.model.train()
        return out


def to_torch(X: np.ndarray, y: np.ndarray | None = None) -> tuple[Any, Any]:
    """Tensors sharing memory with the NumPy arrays (labels as int64)."""
    return torch.from_numpy(X), None if y is None else torch.from_numpy(y.astype(np.int64))


def sklearn_mlp(sizes: Sequence[int], batch_size: int, max_iter: int, seed: int = 0) -> Any:
    """scikit-learn's MLPClassifier set up like the others: ReLU, Adam, no L2, no early stop."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=tuple(sizes[1:-1]),
        activation="relu",
        solver="adam",
        alpha=0.0,
        batch_size=batch_size,
        learning_rate_init=1e-3,
        max_iter=max_iter,
        shuffle=True,
        tol=0.0,
        n_iter_no_change=10**9,
        random_state=seed,
    )


def gemm_only_epoch(sizes: Sequence[int], n: int, batch: int, lib: str = "numpy"):
    """An epoch of just the matrix products a dense network must do: the practical floor.

    Per step, for each layer: a = z W (forward), ∂E/∂W = zᵀ δ, and ∂E/∂z = δ Wᵀ except for the
    first layer (the data needs no gradient), at the real shapes, into preallocated arrays.
    """
    rng = np.random.default_rng(0)
    ops = []
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        z = rng.random((batch, n_in), dtype=np.float32)
        d = rng.random((batch, n_out), dtype=np.float32)
        W = rng.random((n_in, n_out), dtype=np.float32)
        a, dW, dz = np.empty((batch, n_out), np.float32), np.empty_like(W), np.empty_like(z)
        if lib == "torch":
            z, d, W, a, dW, dz = (torch.from_numpy(x) for x in (z, d, W, a, dW, dz))
            mm = torch.mm
            ops.append((mm, z, W, a))
            ops.append((mm, z.t(), d, dW))
            if k:
                ops.append((mm, d, W.t(), dz))
        else:
            ops.append((np.matmul, z, W, a))
            ops.append((np.matmul, z.T, d, dW))
            if k:
                ops.append((np.matmul, d, W.T, dz))
    steps = -(-n // batch)

    def epoch() -> None:
        for _ in range(steps):
            for fn, x, w, out in ops:
                fn(x, w, out=out)

    return epoch


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, MiB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def fmt_ratio(x: float) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.2f}"
