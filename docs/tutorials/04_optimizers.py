"""Tutorial 4: SGD, momentum, RMSprop and Adam on 2-D loss surfaces and on a real network."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from _page import Page, run_cli
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import chainrule as cr

TITLE = "4. Optimizers: SGD, momentum, RMSprop and Adam"


# excerpt: surfaces
def ravine(x, y):
    """A long, narrow valley: 40 times steeper across (y) than along (x)."""
    return 0.05 * x**2 + 2.0 * y**2


def banana(x, y):
    """A Rosenbrock-style curved valley with its minimum at (1, 1)."""
    return (1 - x) ** 2 + 20 * (y - x**2) ** 2


# end excerpt


# excerpt: descend
def descend(surface: Callable, optimizer_factory: Callable, start: tuple, steps: int):
    """Minimize surface(x, y) from `start`; return the path of (x, y) and the losses."""
    p = cr.nn.Parameter(np.array(start, dtype=np.float64))  # the two "weights" (x, y)
    optimizer = optimizer_factory([p])
    path, losses = [p.data.copy()], []
    for _ in range(steps):
        optimizer.zero_grad()
        E = surface(p[0], p[1])
        E.backward()
        optimizer.step()
        path.append(p.data.copy())
        losses.append(E.item())
    return np.array(path), np.array(losses)


# end excerpt


COLORS = {"SGD": "C0", "Momentum": "C1", "RMSprop": "C2", "Adam": "C3"}


def optimizers_for(lrs: dict[str, float]) -> dict[str, Callable]:
    return {
        "SGD": lambda ps: cr.optim.SGD(ps, lr=lrs["SGD"]),
        "Momentum": lambda ps: cr.optim.SGD(ps, lr=lrs["Momentum"], momentum=0.9),
        "RMSprop": lambda ps: cr.optim.RMSprop(ps, lr=lrs["RMSprop"]),
        "Adam": lambda ps: cr.optim.Adam(ps, lr=lrs["Adam"]),
    }


def main(out_dir: str | Path | None = None, fast: bool = False) -> dict[str, Any]:
    """Build tutorial 4 (optimizers on 2-D loss surfaces and on a network)."""
    page = Page(__file__, TITLE, out_dir, fast)
    results: dict[str, Any] = {}
    page.text(
        """
        Plain gradient descent, w ← w − η g with g = ∂E/∂w, uses nothing but the current
        gradient. It struggles in two common situations: in a **narrow valley** the gradient
        points mostly across the valley, so the steps zigzag from wall to wall while
        progress along the valley floor is slow; and a single η has to suit every weight,
        even when some see gradients a hundred times larger than others. The lecture names
        three refinements, all available in `cr.optim` (with PyTorch's update rules):

        | optimizer | update (g = ∂E/∂w, all operations element-wise) |
        |---|---|
        | `SGD(params, lr)` | w ← w − η g |
        | `SGD(params, lr, momentum=μ)` | v ← μ v + g,  w ← w − η v |
        | `RMSprop(params, lr, alpha=α)` | s ← α s + (1 − α) g²,  w ← w − η g / (√s + ε) |
        | `Adam(params, lr, betas)` | m ← β₁m + (1−β₁)g, s ← β₂s + (1−β₂)g², w ← w − η m̂/(√ŝ + ε) |

        **Momentum** keeps a running sum of past gradients (a velocity): components that
        keep their sign add up, the zigzag components cancel. **RMSprop** divides each
        weight's step by the root of a running average of its squared gradients, so every
        weight moves at a similar pace whatever the scale of its gradient. **Adam** does
        both, with m̂ = m / (1 − β₁ᵗ) and ŝ = s / (1 − β₂ᵗ) correcting the bias of the
        averages, which start at zero, in the first steps t.
        """
    )

    # ------------------------------------------------------------------ 2-D surfaces
    page.heading("Trajectories on two loss surfaces")
    page.text(
        """
        A loss surface with two weights can be drawn. The "weights" here are the two
        coordinates of a single `Parameter`, and the surface is an ordinary chainrule
        expression, so the optimizers work exactly as they do on a network:
        """
    )
    page.code("surfaces")
    page.code("descend")
    settings = {
        "ravine": {
            "fn": ravine,
            "start": (-9.0, 2.0),
            "steps": 60,
            "lrs": {"SGD": 0.45, "Momentum": 0.05, "RMSprop": 0.3, "Adam": 0.3},
            "box": (-10, 2, -2.6, 2.6),
        },
        "banana": {
            "fn": banana,
            "start": (-1.5, 2.5),
            "steps": 500,
            "lrs": {"SGD": 0.004, "Momentum": 0.002, "RMSprop": 0.01, "Adam": 0.1},
            "box": (-2.0, 2.0, -0.6, 3.2),
        },
    }
    page.text(
        """
        Each optimizer gets a learning rate picked by hand to do well on each surface (see
        the legends); comparing optimizers at one shared η would mostly compare how well that
        η happens to suit each of them.
        """
    )
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1.2, 1, 0.9]})
    final: dict[str, dict[str, float]] = {}
    curves: dict[str, dict[str, np.ndarray]] = {}
    for ax, (name, s) in zip(axes[:2], settings.items(), strict=True):
        x0, x1, y0, y1 = s["box"]
        gx, gy = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
        levels = np.quantile(s["fn"](gx, gy), np.linspace(0.0, 0.95, 16) ** 2)
        ax.contour(gx, gy, s["fn"](gx, gy), levels=np.unique(levels), cmap="Greys", linewidths=0.7)
        final[name], curves[name] = {}, {}
        for opt_name, factory in optimizers_for(s["lrs"]).items():
            path, losses = descend(s["fn"], factory, s["start"], s["steps"])
            final[name][opt_name] = float(s["fn"](*path[-1]))
            curves[name][opt_name] = np.append(losses, final[name][opt_name])
            label = f"{opt_name} (η = {s['lrs'][opt_name]:g})"
            ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1.3, color=COLORS[opt_name], label=label)
            ax.plot(*path[-1], "o", ms=9, mfc="none", mec=COLORS[opt_name], mew=2)  # the end
        ax.plot(*s["start"], "ko", ms=5)
        minimum = (0.0, 0.0) if name == "ravine" else (1.0, 1.0)
        ax.plot(*minimum, "k*", ms=12)
        ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="w₁", ylabel="w₂")
        ax.set_title(f"{name}: {s['steps']} steps from ● (ends: ○), minimum ★")
        ax.legend(loc="lower right" if name == "ravine" else "upper right", fontsize=10)
    for opt_name, c in curves["banana"].items():
        axes[2].semilogy(np.maximum(c, 1e-12), color=COLORS[opt_name], label=opt_name)
    axes[2].set(xlabel="step", ylabel="loss", title="banana: loss per step")
    axes[2].legend(fontsize=10)
    fig.tight_layout()
    page.figure(fig, "trajectories", "Optimizer trajectories on the ravine and the banana.")
    page.table(
        ["surface", *COLORS],
        [[name, *(final[name][k] for k in COLORS)] for name in settings],
        fmt=".2e",
    )
    page.text(
        """
        On the **ravine**, plain SGD's η is limited by the steep direction: any larger and
        the y-steps would grow instead of shrink. So it bounces across the valley and crawls
        along it. Momentum starts slowly but gathers speed along the floor, overshoots, and
        settles. RMSprop rescales each coordinate by its own gradient size, so it heads
        almost diagonally to the minimum, as if the valley were round. Adam does the same
        and adds momentum, which carries it past the minimum before it turns back.

        The **banana** is harder: the valley floor curves, so the right direction keeps
        changing. Plain SGD's η is again capped by the steep walls, and after 500 steps it
        is still creeping along the floor. Momentum follows the curve with growing speed.
        RMSprop's normalized steps help, but without momentum they stay small and noisy
        across the narrow floor. Adam combines the two and reaches the minimum first.
        The loss curves on the right tell the same story on a log scale.
        """
    )

    # ------------------------------------------------------------------ by hand
    page.heading("The update rules, by hand")
    page.text(
        """
        The optimizers are short. Here is Adam written out in NumPy next to `cr.optim.Adam`,
        on the ravine, from the same start; the trajectories agree to rounding error:
        """
    )
    # excerpt: adam_by_hand
    eta, beta1, beta2, eps = 0.5, 0.9, 0.999, 1e-8
    w = np.array([-9.0, 2.0])
    m, s = np.zeros(2), np.zeros(2)
    hand_path = [w.copy()]
    for t in range(1, 61):
        g = np.array([0.1 * w[0], 4.0 * w[1]])  # ∇ of 0.05 x² + 2 y²
        m = beta1 * m + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * g**2
        m_hat, s_hat = m / (1 - beta1**t), s / (1 - beta2**t)  # bias correction
        w = w - eta * m_hat / (np.sqrt(s_hat) + eps)
        hand_path.append(w.copy())
    auto_path, _ = descend(ravine, lambda ps: cr.optim.Adam(ps, lr=eta), (-9.0, 2.0), 60)
    # end excerpt
    page.code("adam_by_hand")
    adam_diff = float(np.max(np.abs(np.array(hand_path) - auto_path)))
    page.output(f"largest difference between the two trajectories: {adam_diff:.2g}")
    results["adam_hand_vs_cr"] = adam_diff

    # ------------------------------------------------------------------ a real network
    page.heading("On a real network")
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    if fast:
        X_tr, y_tr = X_tr[:400], y_tr[:400]
    epochs = 6 if fast else 30
    lrs = {"SGD": 0.01, "Momentum": 0.01, "RMSprop": 1e-3, "Adam": 1e-3}
    page.text(
        f"""
        Surfaces with two weights build intuition, but a network has thousands of weights.
        We train the same network, 64 → 64 → 64 → 10 with tanh units, on the digits
        ({len(X_tr)} training and {len(X_val)} validation images), in minibatches of 32 for
        {epochs} epochs, with each optimizer at a common default learning rate: η = 0.01 for
        SGD (with and without momentum μ = 0.9), η = 0.001 for RMSprop and Adam.
        """
    )
    histories = {}
    for opt_name, factory in optimizers_for(lrs).items():
        # excerpt: network
        cr.set_seed(0)  # the same initial weights for every optimizer
        model = cr.nn.Sequential(
            cr.nn.Dense(64, 64),
            cr.nn.Tanh(),
            cr.nn.Dense(64, 64),
            cr.nn.Tanh(),
            cr.nn.Dense(64, 10),
        )
        optimizer = factory(model.parameters())  # e.g. cr.optim.Adam(model.parameters(), lr=1e-3)
        history = cr.fit(
            model,
            cr.nn.CrossEntropyLoss(),
            optimizer,
            X_tr,
            y_tr,
            epochs=epochs,
            batch_size=32,
            validation_data=(X_val, y_val),
            metrics=["accuracy"],
            seed=0,
            progress=False,
        )
        # end excerpt
        histories[opt_name] = history
    page.code("network")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ep = np.arange(1, epochs + 1)
    for opt_name, h in histories.items():
        label = f"{opt_name} (η = {lrs[opt_name]:g})"
        ax1.semilogy(ep, h["loss"], color=COLORS[opt_name], label=label)
        ax2.plot(ep, h["val_accuracy"], color=COLORS[opt_name], label=label)
    ax1.set(xlabel="epoch", ylabel="training loss", title="Training loss")
    ax2.set(xlabel="epoch", ylabel="validation accuracy", title="Validation accuracy")
    ax1.legend()
    fig.tight_layout()
    page.figure(fig, "network", "Four optimizers training the same network from the same start.")
    page.table(
        ["optimizer", "η", "final training loss", "final validation accuracy"],
        [
            [k, lrs[k], float(h["loss"][-1]), float(h["val_accuracy"][-1])]
            for k, h in histories.items()
        ],
        fmt=".3g",
    )
    page.text(
        """
        At these common defaults plain SGD is by far the slowest. Momentum closes most of
        the gap: along a direction where the gradient keeps its sign, its velocity makes
        steps up to 1/(1 − μ) = 10 times longer. The adaptive methods do as well or better
        at their standard η = 0.001, with no tuning at all; that robustness is why Adam is
        the usual first choice. It is not the last word: well-tuned SGD with momentum
        (often with a decaying η) frequently matches or beats it at the end of long
        training runs. And the learning rate still matters more than the choice of
        optimizer; [tutorial 9](09_training_recipe.md) shows how to search for it.
        """
    )
    results["surfaces"] = final
    results["network"] = {
        k: {"loss": list(h["loss"]), "val_accuracy": list(h["val_accuracy"])}
        for k, h in histories.items()
    }
    page.write()
    return results


if __name__ == "__main__":
    run_cli(main)
