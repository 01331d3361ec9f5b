"""Tutorial 3: batch, stochastic and minibatch gradient descent on the same problem.

Trains one network three ways with `cr.fit` (batch_size=None, 1, 32), records the full
training loss against epochs, optimizer steps and wall-clock time, and measures how noisy a
minibatch gradient is as a function of the batch size.
"""

from __future__ import annotations

import gc
import math
import time
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from _page import Page, run_cli
from sklearn.datasets import load_digits

import chainrule as cr

TITLE = "3. Batch, stochastic and minibatch gradient descent"


# excerpt: tracker
class LossTracker(cr.callbacks.Callback):
    """Every `every` optimizer steps, record the loss on the *whole* training set.

    The clock excludes the time spent on these extra evaluations, so that the time axis
    shows training time only. It is this process's CPU time (`time.process_time`), which
    other programs running on the machine do not inflate as they do wall-clock time.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, every: int) -> None:
        self.X, self.y, self.every = cr.Tensor(X), y, every
        self.loss = cr.nn.CrossEntropyLoss()

    def on_train_begin(self, trainer: Any) -> None:
        self.steps, self.paused = 0, 0.0
        self.record = {"step": [], "seconds": [], "loss": []}
        self.batch_losses: list[float] = []
        self.start = time.process_time()
        self._measure(trainer)

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, Any]) -> None:
        self.steps += 1
        self.batch_losses.append(float(logs["loss"]))  # the loss of this batch only
        if self.steps % self.every == 0:
            self._measure(trainer)

    def _measure(self, trainer: Any) -> None:
        begin = time.process_time()
        with cr.no_grad():
            loss = self.loss(trainer.model(self.X), self.y).item()
        self.record["step"].append(self.steps)
        self.record["seconds"].append(begin - self.start - self.paused)
        self.record["loss"].append(loss)
        self.paused += time.process_time() - begin


# end excerpt


def make_model(seed: int) -> cr.nn.Module:
    cr.set_seed(seed)  # the same initial weights for every regime
    return cr.nn.Sequential(cr.nn.Dense(64, 32), cr.nn.Tanh(), cr.nn.Dense(32, 10))


def main(out_dir: str | Path | None = None, fast: bool = False) -> dict[str, Any]:
    """Build tutorial 3 (batch vs stochastic vs minibatch gradient descent)."""
    page = Page(__file__, TITLE, out_dir, fast)
    results: dict[str, Any] = {}
    page.text(
        """
        Backpropagation gives the gradient of the error of *one* sample, ∂Eₙ/∂w. Gradient
        descent needs a direction to step in, and the lecture names three ways to build it
        from the per-sample gradients:

        - **Batch gradient descent:** average ∂Eₙ/∂w over all N training samples, take one
          step w ← w − η · (1/N) Σₙ ∂Eₙ/∂w, repeat. The direction is exact but each step
          costs a full pass over the data.
        - **Stochastic gradient descent (SGD):** shuffle the samples, then step after each
          single sample. Steps are cheap and there are N of them per pass, but each one
          follows a noisy estimate of the true gradient.
        - **Minibatch gradient descent:** step after each small batch of B samples (here
          B = 32), averaging their gradients. This is what almost everyone uses.

        In chainrule the three are one argument of `cr.fit`: `batch_size=None` (batch),
        `batch_size=1` (stochastic) or `batch_size=32` (minibatch). Everything else stays
        the same: the data, the network, its initial weights and the learning rate η.
        """
    )

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)  # pixel intensities 0..16 -> [0, 1]
    if fast:
        X, y = X[:300], y[:300]
    n = len(X)
    page.text(
        f"""
        **The problem.** The handwritten digits bundled with scikit-learn: {n} images of
        8 × 8 pixels, 10 classes. The network is 64 → 32 (tanh) → 10 with a softmax
        cross-entropy loss, trained with plain SGD updates, η = 0.1. A callback measures
        the loss on the whole training set as training goes, so that the three runs are
        compared on the same yardstick (the loss of one batch alone would be noisy).
        """
    )
    page.code("tracker")
    eta = 0.1
    epochs = {"batch": 60, "stochastic": 2, "minibatch": 10} if fast else None
    if epochs is None:
        epochs = {"batch": 400, "stochastic": 8, "minibatch": 60}
    sizes = {"batch": None, "stochastic": 1, "minibatch": 32}
    runs: dict[str, dict[str, Any]] = {}
    for regime, batch_size in sizes.items():
        steps_per_epoch = n_steps = math.ceil(n / (batch_size or n))
        n_steps = steps_per_epoch * epochs[regime]
        tracker = LossTracker(X, y, every=max(1, n_steps // 150))
        gc.collect()
        gc.disable()  # a garbage-collection pause in the middle would distort the clock
        # excerpt: fit
        model = make_model(seed=0)
        optimizer = cr.optim.SGD(model.parameters(), lr=eta)
        history = cr.fit(
            model,
            cr.nn.CrossEntropyLoss(),
            optimizer,
            X,
            y,
            epochs=epochs[regime],
            batch_size=batch_size,  # None, 1 or 32
            callbacks=[tracker],
            seed=0,
            progress=False,
        )
        # end excerpt
        gc.enable()
        rec = {k: np.array(v) for k, v in tracker.record.items()}
        rec["seconds"] = page.timing(f"{regime}: seconds", rec["seconds"])
        runs[regime] = {
            "batch_size": batch_size,
            "steps_per_epoch": steps_per_epoch,
            "epochs": epochs[regime],
            "record": rec,
            "batch_losses": np.array(tracker.batch_losses),
            "history": history,
            "seconds_per_epoch": rec["seconds"][-1] / epochs[regime],
        }
    page.code("fit")

    # ------------------------------------------------------------------ curves
    page.heading("Loss against epochs, steps and seconds")
    colors = {"batch": "C0", "stochastic": "C3", "minibatch": "C2"}
    labels = {
        "batch": "batch (B = N)",
        "stochastic": "stochastic (B = 1)",
        "minibatch": "minibatch (B = 32)",
    }
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True)
    for regime, run in runs.items():
        rec = run["record"]
        kw = {"color": colors[regime], "label": labels[regime], "lw": 1.5}
        axes[0].plot(rec["step"] / run["steps_per_epoch"], rec["loss"], **kw)
        axes[1].plot(np.maximum(rec["step"], 1), rec["loss"], **kw)
        axes[2].plot(rec["seconds"], rec["loss"], **kw)
    axes[0].set(xlabel="epochs (passes over the data)", ylabel="training loss (all samples)")
    axes[0].set_title("per epoch")
    axes[1].set(xscale="log", xlabel="optimizer steps (log scale)", title="per step")
    axes[2].set(xlabel="training time (CPU seconds)", title="per second of training")
    axes[0].set_xlim(0, epochs["minibatch"])
    axes[2].set_xlim(0, max(r["record"]["seconds"][-1] for r in runs.values()) * 0.6)
    for ax in axes:
        ax.set_yscale("log")
    axes[0].legend()
    fig.tight_layout()
    page.figure(fig, "loss_curves", "Full training loss for the three regimes, same η = 0.1.")

    target = 0.3 if not fast else 1.0
    rows = []
    for regime, run in runs.items():
        rec = run["record"]
        below = np.flatnonzero(rec["loss"] < target)
        reach = f"{rec['seconds'][below[0]]:.3f} s" if below.size else "not reached"
        reach_ep = f"{rec['step'][below[0]] / run['steps_per_epoch']:.2f}" if below.size else "-"
        rows.append(
            [
                labels[regime],
                run["steps_per_epoch"],
                f"{1000 * run['seconds_per_epoch']:.1f} ms",
                f"{1e6 * run['seconds_per_epoch'] / run['steps_per_epoch']:.0f} µs",
                f"{1e6 * run['seconds_per_epoch'] / n:.1f} µs",
                reach_ep,
                reach,
                float(rec["loss"][-1]),
            ]
        )
    page.table(
        [
            "regime",
            "steps per epoch",
            "time per epoch",
            "time per step",
            "time per sample",
            f"epochs to loss < {target}",
            f"time to loss < {target}",
            "final loss",
        ],
        rows,
        fmt=".3f",
    )
    page.text(
        """
        What the three panels show:

        - **Per epoch** (left), SGD and minibatch descent are far ahead: in one pass over
          the data they take N and N/32 steps, batch descent takes one. With the same η,
          batch gradient descent converges slowly, as the lecture warns.
        - **Per step** (middle), the order reverses: a batch step uses the exact gradient
          and is worth more than a noisy one-sample step. But steps are not what we pay for.
        - **Per second** (right) is the honest comparison. A batch step costs a full pass;
          a stochastic step is cheap in arithmetic but pays the fixed overhead of one
          forward and backward pass (Python, graph building, many small NumPy calls) for
          a single sample. Minibatches amortize that overhead over 32 samples and let the
          matrix products do real work, so they win on the clock.

        Compare the "time per sample" column: a batch step processes every sample in a few
        large matrix products, so its cost per sample is a small fraction of a one-sample
        step's. The timings depend on the machine (and on what else it is doing); the shape
        of the comparison does not.
        """
    )

    # ------------------------------------------------------------------ noise
    page.heading("How noisy is a minibatch gradient?")
    page.text(
        """
        SGD "injects noise into the training process". We can measure that noise directly.
        At the initial weights, compute the exact gradient g over all samples, then the
        gradient ĝ of many random minibatches of size B, and compare their directions with
        the cosine similarity cos(ĝ, g) = ĝ·g / (‖ĝ‖ ‖g‖) (1 = same direction).
        """
    )

    # excerpt: noise
    def flat_gradient(model: cr.nn.Module, Xb: np.ndarray, yb: np.ndarray) -> np.ndarray:
        model.zero_grad()
        cr.nn.CrossEntropyLoss()(model(Xb), yb).backward()
        return np.concatenate([p.grad.ravel() for p in model.parameters()])

    model = make_model(seed=0)
    g_full = flat_gradient(model, X, y)
    rng = np.random.default_rng(0)
    cosines = {}
    for B in [1, 2, 4, 8, 16, 32, 64, 128, 256]:
        sims = []
        for _ in range(50):
            idx = rng.choice(n, size=B, replace=False)
            g = flat_gradient(model, X[idx], y[idx])
            sims.append(g @ g_full / (np.linalg.norm(g) * np.linalg.norm(g_full)))
        cosines[B] = (np.mean(sims), np.std(sims))
    # end excerpt
    page.code("noise")
    Bs = np.array(list(cosines))
    mean = np.array([v[0] for v in cosines.values()])
    std = np.array([v[1] for v in cosines.values()])

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax1.errorbar(Bs, mean, yerr=std, marker="o", capsize=3)
    ax1.set(
        xscale="log",
        xlabel="batch size B (log scale)",
        ylabel="cos(minibatch gradient, full gradient)",
        title="Gradient direction vs batch size",
        ylim=(-0.1, 1.05),
    )
    show = min(len(runs["stochastic"]["batch_losses"]), 3 * runs["minibatch"]["steps_per_epoch"])
    for regime in ("stochastic", "minibatch"):
        bl = runs[regime]["batch_losses"][:show]
        ax2.plot(
            np.arange(1, len(bl) + 1),
            bl,
            color=colors[regime],
            lw=0.6,
            alpha=0.8,
            label=labels[regime],
        )
    ax2.set(
        xlabel="optimizer step",
        ylabel="loss of the batch just used",
        title=f"Per-step batch loss, first {show} steps",
        yscale="log",
    )
    ax2.legend()
    fig.tight_layout()
    page.figure(
        fig, "gradient_noise", "Left: the minibatch gradient's direction. Right: batch losses."
    )
    page.text(
        """
        A single sample's gradient points only loosely in the direction of the true gradient
        (cosine well below 1, with a large spread); averaging B samples shrinks the noise
        roughly like 1/√B, so the direction improves quickly and then saturates. On the right,
        the loss of each batch as training proceeds: one-sample losses jump around by orders
        of magnitude, 32-sample losses form a much tighter band.

        **The trade-offs, as the lecture lists them.** Batch gradient descent follows the
        exact gradient and works well when the loss is convex and η is tuned, but it
        converges slowly per pass over the data. SGD makes fast progress per pass and its
        noise can shake it out of poor local minima and saddle points, but the noise also
        keeps it jittering around a minimum unless η is lowered. Minibatches balance the
        two, and make the best use of vectorized hardware. The batch size is a
        hyperparameter: larger batches give smoother gradients and allow a larger η.
        """
    )
    results["steps_per_epoch"] = {k: r["steps_per_epoch"] for k, r in runs.items()}
    results["history_steps"] = {k: r["history"].params.get("steps") for k, r in runs.items()}
    results["n"] = n
    results["loss_first_last"] = {
        k: (float(r["record"]["loss"][0]), float(r["record"]["loss"][-1])) for k, r in runs.items()
    }
    results["n_batch_losses"] = {k: len(r["batch_losses"]) for k, r in runs.items()}
    results["epochs"] = epochs
    results["cosine"] = {int(b): float(m) for b, m in zip(Bs, mean, strict=True)}
    results["batch_loss_spread"] = {
        k: float(np.std(np.log(runs[k]["batch_losses"][show // 2 : show])))
        for k in ("stochastic", "minibatch")
    }
    page.write()
    return results


if __name__ == "__main__":
    run_cli(main)
