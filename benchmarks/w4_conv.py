"""W4 convolution: one training epoch of two small CNNs, chainrule against PyTorch eager (CPU).

* digits as 1×8×8 images (scikit-learn's digits ÷ 16, float32, the 80/20 split of W2: 1,437
  training images): Conv2d(1, 16, 3, pad 1) → ReLU → MaxPool 2 → Conv2d(16, 32, 3, pad 1) →
  ReLU → global average → Dense(32, 10), batch 64, Adam (η = 1e-3);
* 1-d signals of length 40 (`chainrule.datasets.shifted_patterns`, 5,000 signals): three
  Conv1d(k = 5, stride 2, 25 channels) + ReLU → Dense(50, 4), batch 100, Adam.

Contenders: chainrule with its compiled kernels (the ``[fast]`` extra) loaded and on, as a
training job has them once its convolutions have done about half a second of work on NumPy
(`chainrule.fast.conv_kernels.LOAD_AFTER`) or at once after ``use_kernels(True)``; chainrule
on NumPy only (as without the extra, or ``CHAINRULE_NO_NUMBA=1``); PyTorch eager. Loading
numba and the cached machine code happens in the warm-up round, as importing PyTorch happens
before timing: the timed epochs include no import and no compilation.

Each round builds a new model of each contender (seeds 0, 1, ...; untimed) and times its
first epoch; rounds alternate contenders (see harness.py). Memory: each contender in a fresh
process, peak resident memory (VmHWM) after setup (data, model, and one step of another model
on two samples for the first-call costs) and after one epoch.

    python benchmarks/w4_conv.py [--quick] [--repeats 7] [--cpu-time] [--json w4.json]

With ``--cpu-time`` and ``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1`` (one thread for NumPy's
BLAS and for PyTorch) the figures are CPU seconds, which a busy machine disturbs less.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np

import chainrule as cr
import harness as h
from chainrule.datasets import shifted_patterns

WORKLOADS = ("digits", "signals")
NUMPY_ONLY = "chainrule (NumPy only)"
BATCH = {"digits": 64, "signals": 100}


def data(workload: str, n_signals: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    if workload == "digits":
        X_train, _, y_train, _ = h.digits_split(seed=0)
        return X_train.reshape(-1, 1, 8, 8), y_train
    return shifted_patterns(n_signals, random_state=0)


def network(nn: Any, workload: str) -> Any:
    """The workload's CNN built from `nn`: ``chainrule.nn`` or ``torch.nn`` (same names and
    arguments; chainrule's `Dense` is also called `Linear`)."""
    if workload == "digits":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(32, 10),
        )
    return nn.Sequential(
        nn.Conv1d(1, 25, 5, stride=2),
        nn.ReLU(),
        nn.Conv1d(25, 25, 5, stride=2),
        nn.ReLU(),
        nn.Conv1d(25, 25, 5, stride=2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(50, 4),
    )


def chainrule_epoch(workload: str, X: np.ndarray, y: np.ndarray, seed: int, compiled: bool = True):
    """A fresh model (untimed), and the function that trains it for one epoch, with the
    compiled kernels on (loaded by the first call) or on NumPy only."""
    cr.set_seed(seed)
    model = network(cr.nn, workload).flatten_parameters()
    loss, optimizer = cr.nn.CrossEntropyLoss(), cr.optim.Adam(model.parameters(), lr=1e-3)
    rng, batch = np.random.default_rng(seed), BATCH[workload]

    def epoch() -> None:
        with h.use_kernels(compiled):
            order = rng.permutation(len(X))
            for start in range(0, len(X), batch):
                idx = order[start : start + batch]
                optimizer.zero_grad()
                loss(model(cr.Tensor(X[idx])), y[idx]).backward()
                optimizer.step()

    return epoch


def numpy_only_epoch(workload: str, X: np.ndarray, y: np.ndarray, seed: int):
    return chainrule_epoch(workload, X, y, seed, compiled=False)


def torch_epoch(workload: str, X: np.ndarray, y: np.ndarray, seed: int):
    torch = h.torch
    torch.manual_seed(seed)
    model = network(h.torch.nn, workload)
    loss, optimizer = torch.nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt, yt = h.to_torch(X, y)
    gen, batch = torch.Generator().manual_seed(seed), BATCH[workload]

    def epoch() -> None:
        order = torch.randperm(len(Xt), generator=gen)
        for start in range(0, len(Xt), batch):
            idx = order[start : start + batch]
            optimizer.zero_grad()
            loss(model(Xt[idx]), yt[idx]).backward()
            optimizer.step()

    return epoch


MAKERS = {"chainrule": chainrule_epoch, NUMPY_ONLY: numpy_only_epoch, h.TORCH: torch_epoch}


def peak_mib() -> float:
    """This process's peak resident memory, MiB: VmHWM, which starts afresh at exec (the
    ``ru_maxrss`` of a child started from a large parent begins at the parent's size)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return h.peak_rss_mib()


def memory_child(name: str, workload: str) -> None:
    """In a fresh process: peak RSS after setup and after one epoch, as JSON on stdout."""
    if name == h.TORCH and h.load_torch() is None:  # PyTorch is imported only in its own child
        print(json.dumps(None))
        return
    X, y = data(workload)
    # Setup includes one step on two samples of another model: first-call costs (numba's
    # machine code, PyTorch's lazy allocations), as the timed rounds' warm-up takes them.
    MAKERS[name](workload, X[:2], y[:2], 1)()
    epoch = MAKERS[name](workload, X, y, 0)
    before = peak_mib()
    epoch()
    after = peak_mib()
    print(json.dumps({"setup_mib": before, "peak_mib": after, "epoch_mib": after - before}))


def memory(names: list[str], workload: str) -> dict[str, dict[str, float]]:
    out = {}
    for name in names:
        done = subprocess.run(
            [sys.executable, __file__, "--memory-child", name, workload],
            capture_output=True,
            text=True,
            check=True,
        )
        record = json.loads(done.stdout.strip().splitlines()[-1])
        if record is not None:
            out[name] = record
    return out


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--memory-child":
        memory_child(sys.argv[2], sys.argv[3])
        return
    args = h.parser(__doc__.splitlines()[0]).parse_args()
    repeats = args.repeats or (3 if args.quick else 7)
    names = ["chainrule", NUMPY_ONLY] + ([h.TORCH] if h.load_torch() is not None else [])
    names = h.selected(names, args.only)
    payload: dict[str, Any] = {"workload": "W4", "machine": h.machine(), "results": {}}
    for workload in WORKLOADS:
        X, y = data(workload, 1000 if args.quick else 5000)
        seeds = iter(range(10**6))
        factories = {
            name: (lambda n=name, w=workload, X=X, y=y, s=seeds: MAKERS[n](w, X, y, next(s)))
            for name in names
        }
        times = h.timed_rounds(factories, repeats, warmup=args.warmup, fresh=True)
        rows = h.summarize(times)
        mem = memory([n for n in names if n != NUMPY_ONLY], workload)
        for name, row in rows.items():
            row.update({f"memory_{k}": v for k, v in mem.get(name, {}).items()})
        h.print_table(
            f"W4 {workload}: {len(X):,} samples, batch {BATCH[workload]}, Adam, one epoch, "
            f"median of {repeats} rounds",
            rows,
            unit="ms",
            extra=[
                ("setup MiB", "memory_setup_mib", ".0f"),
                ("epoch adds MiB", "memory_epoch_mib", ".1f"),
            ],
        )
        payload["results"][workload] = rows
    h.write_json(args.json, payload)


if __name__ == "__main__":
    main()
