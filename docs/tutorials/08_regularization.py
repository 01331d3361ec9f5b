"""Tutorial 8: regularization — L1 vs L2 penalties, dropout, early stopping."""

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

TITLE = "8. Regularization: L1, L2, dropout and early stopping"


# excerpt: penalized
def penalized(model: cr.nn.Module, penalty: Callable | None, lam: float) -> Callable:
    """The cross-entropy plus λ Ω(W) for `model`'s weights, as a loss for `cr.fit`."""
    cross_entropy = cr.nn.CrossEntropyLoss()

    def loss(prediction, target):
        E = cross_entropy(prediction, target)
        return E if penalty is None else E + penalty(model, lam)

    return loss


# end excerpt


# excerpt: wide_net
def wide_net(dropout: float, width: int) -> cr.nn.Sequential:
    """64 → width → width → 10 with ReLU units, and dropout after each hidden layer."""
    layers: list[cr.nn.Module] = []
    n_in = 64
    for _ in range(2):
        layers += [cr.nn.Dense(n_in, width), cr.nn.ReLU()]
        if dropout > 0:
            layers.append(cr.nn.Dropout(dropout))  # drops a fraction `dropout` of the units
        n_in = width
    layers.append(cr.nn.Dense(n_in, 10))
    return cr.nn.Sequential(*layers)


# end excerpt


def main(out_dir: str | Path | None = None, fast: bool = False) -> dict[str, Any]:
    """Build tutorial 8 (regularization)."""
    page = Page(__file__, TITLE, out_dir, fast)
    results: dict[str, Any] = {}
    page.text(
        """
        A network with enough weights can memorize its training set: the training loss
        goes to zero while the error on new data stops improving or gets worse. This is
        **overfitting**, and the techniques that fight it are called **regularization**. The
        lecture lists weight penalties (L2 and L1), dropout and early stopping; this page
        tries each one on the handwritten digits.
        """
    )
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)

    # ------------------------------------------------------------------ L1 / L2
    page.heading("Weight penalties: L2 and L1")
    page.text(
        """
        A penalty adds a term to the error that grows with the size of the weights:

        - **L2** ("weight decay"): E + ½ λ Σ w². Its gradient λw pulls every weight towards 0
          in proportion to its size, so large weights shrink fast and small ones slowly;
          weights become small but rarely exactly zero.
        - **L1:** E + λ Σ |w|. Its gradient λ sign(w) pulls every weight towards 0 with the
          *same* force, however small it already is. A weight the data does not need
          enough to resist that constant pull is driven to 0: L1 produces **sparse**
          networks.

        `cr.nn.l2_penalty(model, lam)` and `cr.nn.l1_penalty(model, lam)` compute these
        terms over the weights (not the biases) as tensors, so autograd differentiates them
        along with the error. We wrap them into a loss for `cr.fit`:
        """
    )
    page.code("penalized")
    epochs = 25 if fast else 60
    settings = {
        "no penalty": (None, 0.0),
        "L2, λ = 3e-3": (cr.nn.l2_penalty, 3e-3),
        "L1, λ = 3e-4": (cr.nn.l1_penalty, 3e-4),
    }
    weights, accuracy = {}, {}
    for name, (penalty, lam) in settings.items():
        # excerpt: penalty_fit
        cr.set_seed(0)
        model = cr.nn.Sequential(cr.nn.Dense(64, 64), cr.nn.ReLU(), cr.nn.Dense(64, 10))
        optimizer = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        cr.fit(
            model,
            penalized(model, penalty, lam),
            optimizer,
            X_tr,
            y_tr,
            epochs=epochs,
            batch_size=32,
            seed=0,
            progress=False,
        )
        # end excerpt
        weights[name] = model[0].weight.data.copy()  # first layer: (64 units, 64 pixels)
        model.eval()
        with cr.no_grad():
            accuracy[name] = float(np.mean(model(X_val).data.argmax(axis=1) == y_val))
    page.code("penalty_fit")
    page.text(
        f"""
        Three copies of a 64 → 64 → 10 ReLU network, trained for {epochs} epochs with SGD
        and momentum, without a penalty, with L2 and with L1. The λ's were chosen so that
        both penalized networks are about as accurate as the plain one. Here is what
        happens to the 4,096 weights of the first layer:
        """
    )
    fig = plt.figure(figsize=(12, 6.2))
    grid = fig.add_gridspec(2, 3, height_ratios=[1.1, 1])
    bins = np.linspace(-0.6, 0.6, 61)
    colors = ("0.4", "C0", "C3")
    for col, ((name, W), c) in enumerate(zip(weights.items(), colors, strict=True)):
        ax = fig.add_subplot(grid[0, col])
        ax.hist(np.clip(W.ravel(), -0.6, 0.6), bins=bins, color=c)
        ax.set_yscale("log")
        ax.set(xlabel="weight value (clipped to ±0.6)", title=name, ylim=(0.8, 5000))
        if col == 0:
            ax.set_ylabel("number of weights (log scale)")
        share = float(np.mean(np.abs(W) < 1e-3))
        ax.text(0.03, 0.92, f"|w| < 0.001: {100 * share:.0f}%", transform=ax.transAxes)
        ax2 = fig.add_subplot(grid[1, col])
        pixel_norm = np.sqrt((W**2).sum(axis=0)).reshape(8, 8)  # weights leaving each pixel
        im = ax2.imshow(pixel_norm, cmap="magma", vmin=0)
        ax2.set_title("‖weights from each pixel‖", fontsize=9)
        ax2.set_xticks([])
        ax2.set_yticks([])
        ax2.grid(False)
        fig.colorbar(im, ax=ax2, fraction=0.046)
    fig.tight_layout()
    page.figure(fig, "l1_l2", "First-layer weights: histograms (top) and per input pixel (bottom).")
    rows = []
    for name, W in weights.items():
        rows.append(
            [
                name,
                float(np.mean(np.abs(W) < 1e-3)),
                float(np.mean(np.abs(W))),
                float(np.abs(W).max()),
                accuracy[name],
            ]
        )
    page.table(
        ["training", "share of |w| < 0.001", "mean |w|", "largest |w|", "validation accuracy"],
        rows,
        fmt=".3g",
    )
    page.text(
        """
        L2 shrinks the whole distribution towards 0 and caps the largest weights. L1 does
        something qualitatively different: a large share of the weights sits at (almost
        exactly) zero, while the weights that matter stay large. The pixel maps show where
        the zeros are: the digits' border pixels are blank in nearly every image, so nothing
        but the penalty acts on their weights. L2 lets them decay geometrically, a constant
        fraction per step; L1 subtracts a constant amount per step and reaches zero in
        finite time, and it also silences pixels that carry a little information but not
        enough to pay for their weights. L1 works as built-in feature selection. (With a
        subgradient method like SGD the "zeros" jitter around 0 by about η·λ per step
        rather than being exactly 0.)
        """
    )
    results["l1_l2"] = {
        name: {"share_zero": r[1], "mean_abs": r[2], "max_abs": r[3], "accuracy": r[4]}
        for name, r in zip(weights, rows, strict=True)
    }

    # ------------------------------------------------------------------ dropout
    page.heading("Dropout")
    n_small = 300
    width = 128 if fast else 256
    epochs = 25 if fast else 120
    page.text(
        f"""
        Dropout works on the units rather than the weights. While training, each hidden
        unit is kept with probability p and set to zero otherwise, with a new random choice
        for every minibatch. No unit can rely on any particular other unit being present,
        so the network cannot build fragile co-adapted features; it behaves like an
        average of many thinned networks. chainrule's `Dropout(rate)` takes the fraction
        *dropped*, rate = 1 − p, scales the kept units by 1/p during training so that
        their expected sum is unchanged, and does nothing in evaluation mode.

        To provoke overfitting we train a large network (two hidden layers of {width} ReLU
        units) on only {n_small} training images, with Adam for {epochs} epochs, with and
        without dropout (rate 0.5).
        """
    )
    page.code("wide_net")
    histories = {}
    for rate in (0.0, 0.5):
        cr.set_seed(0)
        # excerpt: dropout_fit
        model = wide_net(dropout=rate, width=width)
        optimizer = cr.optim.Adam(model.parameters(), lr=1e-3)
        history = cr.fit(
            model,
            cr.nn.CrossEntropyLoss(),
            optimizer,
            X_tr[:n_small],
            y_tr[:n_small],
            epochs=epochs,
            batch_size=32,
            validation_data=(X_val, y_val),
            metrics=["accuracy"],
            seed=0,
            progress=False,
        )
        # end excerpt
        histories[rate] = history
    page.code("dropout_fit")

    # ------------------------------------------------------------------ early stopping
    page.heading("Early stopping")
    page.text(
        """
        The simplest regularizer watches the validation loss and stops training when it
        has not improved for a while (the *patience*), then goes back to the weights of the
        best epoch. In chainrule it is a callback:
        """
    )
    cr.set_seed(0)
    # excerpt: early_stopping
    model = wide_net(dropout=0.0, width=width)
    optimizer = cr.optim.Adam(model.parameters(), lr=1e-3)
    stopper = cr.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
    early = cr.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        optimizer,
        X_tr[:n_small],
        y_tr[:n_small],
        epochs=epochs,
        batch_size=32,
        validation_data=(X_val, y_val),
        metrics=["accuracy"],
        callbacks=[stopper],
        seed=0,
        progress=False,
    )
    # end excerpt
    page.code("early_stopping")
    model.eval()
    with cr.no_grad():
        restored_val_loss = cr.nn.CrossEntropyLoss()(model(X_val), y_val).item()
        restored_acc = float(np.mean(model(X_val).data.argmax(axis=1) == y_val))
    best_epoch = int(np.argmin(early["val_loss"]))
    page.output(
        f"""
        stopped after {len(early)} of {epochs} epochs; best epoch {best_epoch + 1} with
        validation loss {min(early["val_loss"]):.4f}; the restored model scores validation loss
        {restored_val_loss:.4f} and accuracy {restored_acc:.3f}
        """
    )
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ep = np.arange(1, epochs + 1)
    for (rate, h), c in zip(histories.items(), ("C0", "C1"), strict=True):
        label = "no dropout" if rate == 0 else f"dropout {rate}"
        ax1.semilogy(ep, h["loss"], color=c, lw=1, label=f"{label}: training")
        ax1.semilogy(ep, h["val_loss"], color=c, lw=2, ls="--", label=f"{label}: validation")
        ax2.plot(ep, h["val_accuracy"], color=c, label=label)
    for ax in (ax1, ax2):
        ax.axvline(best_epoch + 1, color="k", lw=0.8, ls=":")
        ax.axvline(len(early), color="C3", lw=1.2)
    ax1.annotate(
        "early stopping:\nbest epoch (dotted),\nstop (red)", (len(early) + 2, 0.5), fontsize=8
    )
    ax1.set(
        xlabel="epoch", ylabel="cross-entropy (log scale)", title="Training and validation loss"
    )
    ax2.set(xlabel="epoch", ylabel="validation accuracy", title="Validation accuracy")
    ax1.legend(fontsize=7.5, loc="lower left")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    page.figure(fig, "dropout_early_stopping", "Dropout and early stopping on 300 training images.")
    rows = []
    for rate, h in histories.items():
        vl = np.array(h["val_loss"])
        rows.append(
            [
                "no dropout" if rate == 0 else f"dropout {rate}",
                float(h["loss"][-1]),
                float(vl.min()),
                int(vl.argmin()) + 1,
                float(vl[-1]),
                float(h["val_accuracy"][-1]),
            ]
        )
    rows.append(
        [
            "early stopping (no dropout)",
            float(early["loss"][best_epoch]),
            float(min(early["val_loss"])),
            best_epoch + 1,
            restored_val_loss,
            restored_acc,
        ]
    )
    page.table(
        [
            "training",
            "final training loss",
            "best validation loss",
            "at epoch",
            "final validation loss",
            "final validation accuracy",
        ],
        rows,
        fmt=".3g",
    )
    page.text(
        """
        Without regularization the training loss keeps falling towards zero: the network
        memorizes its 300 images. The validation loss reaches its minimum early and then
        *rises*: the network grows ever more confident, including on the validation images
        it gets wrong. The gap between the two curves is overfitting.

        With dropout the training loss stays higher (the network is handicapped on every
        training step) and the validation loss keeps improving for much longer and ends
        lower. Early stopping needs no change to the network at all: it ends the unregularized
        run shortly after the validation minimum and restores the weights of that epoch, at
        the cost of holding out validation data to watch.

        In practice these combine: the estimators take `l1=`, `l2=`, `dropout=` and
        `early_stopping=True`, and [tutorial 9](09_training_recipe.md) uses them as step 4 of
        the training recipe.
        """
    )
    results["dropout"] = {
        rate: {k: list(h[k]) for k in ("loss", "val_loss", "val_accuracy")}
        for rate, h in histories.items()
    }
    results["early"] = {
        "epochs_run": len(early),
        "max_epochs": epochs,
        "best_epoch": best_epoch,
        "best_val_loss": float(min(early["val_loss"])),
        "restored_val_loss": restored_val_loss,
        "stopped_epoch": stopper.stopped_epoch,
    }
    page.write()
    return results


if __name__ == "__main__":
    run_cli(main)
