"""Tutorial 7: batch normalization — what it computes, activation distributions, training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from _page import Page, run_cli
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import chainrule as cr

TITLE = "7. Batch normalization"
DEPTH, WIDTH = 6, 64


# excerpt: build
def build(batch_norm: bool) -> cr.nn.Sequential:
    """DEPTH sigmoid layers of WIDTH units; with batch_norm, a BatchNorm between each
    layer's a = W z + b and its sigmoid."""
    layers: list[cr.nn.Module] = []
    n_in = 64
    for _ in range(DEPTH):
        layers.append(cr.nn.Dense(n_in, WIDTH))
        if batch_norm:
            layers.append(cr.nn.BatchNorm(WIDTH))
        layers.append(cr.nn.Sigmoid())
        n_in = WIDTH
    layers.append(cr.nn.Dense(n_in, 10))
    return cr.nn.Sequential(*layers)


# end excerpt


def sigmoid_inputs(model: cr.nn.Sequential, X: np.ndarray, training: bool) -> list[np.ndarray]:
    """The input of every Sigmoid in `model` (a, or BN(a)) for the batch X.

    ``training=True`` normalizes with the statistics of X itself, as during training;
    ``False`` uses the running statistics, as for predictions. The model is left unchanged.
    """
    state = model.state_dict()  # a training-mode pass updates BN's running statistics
    inputs = []
    model.train(training)
    with cr.no_grad():
        z = cr.Tensor(X)
        for module in model:
            if isinstance(module, cr.nn.Sigmoid):
                inputs.append(z.data.copy())
            z = module(z)
    model.train()
    model.load_state_dict(state)
    return inputs


def main(out_dir: str | Path | None = None, fast: bool = False) -> dict[str, Any]:
    """Build tutorial 7 (batch normalization)."""
    page = Page(__file__, TITLE, out_dir, fast)
    results: dict[str, Any] = {}
    page.text(
        """
        [Tutorial 6](06_initialization.md) chose the initial weights so that activations keep
        a sensible scale from layer to layer. But the weights change as soon as training
        starts, and with them the distribution of every layer's inputs. **Batch
        normalization** (Ioffe and Szegedy, 2015) enforces the scale during training: as the
        lecture puts it, it makes the activations unit Gaussian at each layer.
        """
    )

    # ------------------------------------------------------------------ mechanics
    page.heading("What a batch-norm layer computes")
    page.text(
        """
        For each unit, over the N samples of the current minibatch, a `BatchNorm` layer

        1. subtracts the minibatch mean μ = (1/N) Σₙ aₙ,
        2. divides by the minibatch standard deviation √(σ² + ε), σ² = (1/N) Σₙ (aₙ − μ)²,
        3. then scales and shifts with two learned parameters per unit: out = γ â + β.

        γ and β (`weight` and `bias`, starting at 1 and 0) let the network undo the
        normalization where that helps; what it can no longer do is drift into a bad scale
        by accident. Because a sample's output now depends on the other samples in its
        batch, a prediction for one sample needs something else: in evaluation mode
        (`model.eval()`) the layer uses running averages of μ and σ² collected during
        training instead.
        """
    )
    # excerpt: mechanics
    rng = np.random.default_rng(0)
    a = rng.normal(loc=3.0, scale=5.0, size=(256, 4)).astype(np.float32)  # 4 badly scaled units
    bn = cr.nn.BatchNorm(4)
    out = bn(cr.Tensor(a)).data  # training mode: this batch's statistics
    print("before: mean", a.mean(0), "std", a.std(0))
    print("after:  mean", out.mean(0), "std", out.std(0))
    print("running mean after one batch (momentum 0.1):", bn.running_mean)
    # end excerpt
    page.code("mechanics")

    def row(v: np.ndarray) -> str:
        return "[" + ", ".join(f"{round(float(x), 3) + 0.0:6.3f}" for x in v) + "]"

    page.output(
        f"""
        before: mean {row(a.mean(0))} std {row(a.std(0))}
        after:  mean {row(out.mean(0))} std {row(out.std(0))}
        running mean after one batch (momentum 0.1): {row(bn.running_mean)}
        """
    )
    results["bn_mean"] = out.mean(0).tolist()
    results["bn_std"] = out.std(0).tolist()
    results["running_mean"] = bn.running_mean.tolist()
    results["batch_mean"] = a.mean(0).tolist()

    # ------------------------------------------------------------------ training
    page.heading("A deep sigmoid network, with and without batch norm")
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    n_train = 512 if fast else 1344  # a multiple of the batch size 32 (see the note below)
    X_tr, y_tr = X_tr[:n_train], y_tr[:n_train]
    epochs = 5 if fast else 20
    page.text(
        f"""
        Sigmoid networks are where the problem is worst ([tutorial 5](05_activations.md)), so
        we take one with {DEPTH} hidden layers of {WIDTH} units and train it on the digits
        ({len(X_tr)} training, {len(X_val)} validation images) with plain SGD, η = 0.1,
        minibatches of 32, for {epochs} epochs, once as is and once with batch norm before
        each sigmoid. Same seed, same data order.
        """
    )
    page.code("build")
    models, histories, before = {}, {}, {}
    for batch_norm in (False, True):
        label = "with batch norm" if batch_norm else "without"
        cr.set_seed(0)
        model = build(batch_norm)
        before[label] = sigmoid_inputs(model, X_val, training=True)
        # excerpt: train
        optimizer = cr.optim.SGD(model.parameters(), lr=0.1)
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
        models[label], histories[label] = model, history
    page.code("train")
    after = {label: sigmoid_inputs(m, X_val, training=False) for label, m in models.items()}

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ep = np.arange(1, epochs + 1)
    for (label, h), c in zip(histories.items(), ("C0", "C1"), strict=True):
        ax1.plot(ep, h["loss"], "o-", ms=3, color=c, label=f"{label}: training")
        ax1.plot(ep, h["val_loss"], "--", color=c, label=f"{label}: validation")
        ax2.plot(ep, h["val_accuracy"], "o-", ms=3, color=c, label=label)
    ax1.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    ax2.set(xlabel="epoch", ylabel="validation accuracy", title="Validation accuracy", ylim=(0, 1))
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    page.figure(fig, "training", f"Training a {DEPTH}-layer sigmoid network with and without BN.")
    page.table(
        ["network", "final training loss", "final validation loss", "final validation accuracy"],
        [
            [label, float(h["loss"][-1]), float(h["val_loss"][-1]), float(h["val_accuracy"][-1])]
            for label, h in histories.items()
        ],
        fmt=".3g",
    )
    page.text(
        """
        Without batch norm the network is stuck at ln 10 ≈ 2.30, the loss of a uniform guess:
        the gradients that reach its early layers are too small to move them. With batch
        norm the same architecture, the same optimizer and the same η train within an
        epoch or two.
        """
    )

    # ------------------------------------------------------------------ distributions
    page.heading("What the sigmoids see")
    page.text(
        """
        Why the difference? A unit can only pass on information about the image if its
        input *varies* from image to image. For every sigmoid layer we measure, for each
        unit, the standard deviation of its input over the validation images, and average
        over the units. Before training, the batch-norm network normalizes with the batch's
        own statistics (as in training); after training it uses its running statistics
        (as for predictions).
        """
    )
    # excerpt: variation
    variation = {}
    for label in models:
        for when, inputs in (("before", before[label]), ("after", after[label])):
            # inputs[k] has shape (n_images, n_units): std over images, mean over units
            variation[f"{label}, {when} training"] = [float(v.std(axis=0).mean()) for v in inputs]
    # end excerpt
    page.code("variation")
    page.table(
        ["network", *(f"layer {k + 1}" for k in range(DEPTH))],
        [[label, *v] for label, v in variation.items()],
        fmt=".2g",
    )
    show = [0, 2, DEPTH - 1]
    fig, axes = plt.subplots(2, len(show), figsize=(11, 5.2), sharex=True)
    bins = np.linspace(-6, 6, 61)
    for r, (label, c) in enumerate(zip(after, ("C0", "C1"), strict=True)):
        for col, k in enumerate(show):
            ax = axes[r, col]
            ax.hist(
                np.clip(after[label][k].ravel(), -6, 6),
                bins=bins,
                color=c,
                alpha=0.75,
                density=True,
                label=f"{label}: after training",
            )
            ax.hist(  # an outline on top, so the two never hide each other
                np.clip(before[label][k].ravel(), -6, 6),
                bins=bins,
                color="black",
                histtype="step",
                linewidth=1.2,
                density=True,
                label="before training",
            )
            ax.set_yticks([])
            ax.set_title(f"{label}: input of sigmoid {k + 1}")
        axes[r, 0].legend(loc="upper left")  # one legend per row: each row has its colour
    for ax in axes[-1]:
        ax.set_xlabel("input of the sigmoid (clipped to [-6, 6])")
    fig.tight_layout()
    page.figure(
        fig, "distributions", "Values entering the sigmoids of layers 1, 3 and 6, all units."
    )
    page.text(
        """
        Without batch norm the variation shrinks by a factor of about four per layer (the
        sigmoid's slope is at most ¼), so by layer 6 every unit's input is practically the
        same number for every image: the histogram is a handful of spikes, one per unit,
        and training does not change that. The network's output hardly depends on its
        input, and the tiny gradients cannot repair it. With batch norm every layer's units
        vary by about 1 across the images, in the range where the sigmoid is steep, before
        and after training, because the normalization is part of the forward pass rather
        than a property of the initial weights only.

        **In practice.** Batch norm usually allows larger learning rates and makes training
        less sensitive to initialization; its noise (each batch's μ and σ differ a little)
        also acts as a mild regularizer. Two cautions:

        - Call `model.eval()` before predicting, so that the running statistics are used;
          `cr.fit` and the estimators do this for validation automatically.
        - The statistics of a very small batch are unreliable. Here the training set size is
          a multiple of 32 on purpose: with a last batch of only three samples, that batch's
          normalization is noisy enough to upset training every epoch. Keep batches large
          enough, or avoid tiny remainder batches.
        """
    )
    results["histories"] = {
        label: {k: list(h[k]) for k in ("loss", "val_loss", "val_accuracy")}
        for label, h in histories.items()
    }
    results["variation"] = variation
    page.write()
    return results


if __name__ == "__main__":
    run_cli(main)
