"""Tutorial 6: weight initialization — zero-init symmetry, too small / too large, Xavier and He."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from _page import Page, run_cli

import chainrule as cr

TITLE = "6. Weight initialization"


# excerpt: activation_stats
def activation_stats(activation: str, init: Any, depth: int, X: np.ndarray) -> dict:
    """Push X through `depth` layers of width X.shape[1]; record each layer's z⁽ᵏ⁾ and
    the mean |∂E/∂W⁽ᵏ⁾| for a fixed random error signal at the top."""
    width = X.shape[1]
    cr.set_seed(0)
    layers = [cr.nn.Dense(width, width, init=init) for _ in range(depth)]
    sigma = cr.nn.get_activation(activation)
    z, zs = cr.Tensor(X), []
    for layer in layers:
        z = sigma(layer(z))
        zs.append(z)
    R = np.random.default_rng(1).normal(size=z.shape).astype(np.float32)
    (z * R).sum().backward()  # E = Σ z⁽ᴷ⁾ ∘ R: any fixed error signal would do
    return {
        "z": [t.data for t in zs],
        "std": np.array([t.data.std() for t in zs]),
        "grad": np.array([np.abs(layer.weight.grad).mean() for layer in layers]),
    }


# end excerpt


def main(out_dir: str | Path | None = None, fast: bool = False) -> dict[str, Any]:
    """Build tutorial 6 (weight initialization)."""
    page = Page(__file__, TITLE, out_dir, fast)
    results: dict[str, Any] = {}
    page.text(
        """
        Gradient descent has to start somewhere. The lecture gives two rules for choosing
        the initial weights: **not all the same** (not all zeros, in particular), and random
        numbers that are **neither too small nor too big**, for which heuristics exist
        (Xavier, He). This page shows what goes wrong when either rule is broken.
        """
    )

    # ------------------------------------------------------------------ symmetry
    page.heading("Zero initialization: every hidden unit stays the same")
    page.text(
        """
        If every weight starts at 0, every hidden unit of a layer computes the same
        a = W z + b from the same inputs, so they all produce the same output. In the
        backward pass they all receive the same δ (their outgoing weights are equal too),
        so ∂E/∂W = δ zᵀ gives every one of them the same update. After the step they are
        still identical, and by induction they stay identical for ever: the layer behaves
        like a single unit, however wide it is. Random initialization **breaks the symmetry**.

        We fit y = sin(x) on [−3, 3] with a 1 → 8 → 1 network (sigmoid hidden units),
        once with `init="zeros"` and once with the default Xavier initialization, and
        train both identically.
        """
    )
    epochs = 300 if fast else 3000
    x = np.linspace(-3, 3, 200, dtype=np.float32).reshape(-1, 1)
    y = np.sin(x)
    models = {}
    for init in ("zeros", "xavier_uniform"):
        # excerpt: symmetry
        cr.set_seed(0)
        model = cr.nn.Sequential(
            cr.nn.Dense(1, 8, init=init), cr.nn.Sigmoid(), cr.nn.Dense(8, 1, init=init)
        )
        optimizer = cr.optim.Adam(model.parameters(), lr=0.02)
        cr.fit(
            model, cr.nn.MSELoss(), optimizer, x, y, epochs=epochs, batch_size=None, progress=False
        )
        W1 = model[0].weight.data  # (8, 1): one row per hidden unit
        spread = np.abs(W1 - W1[0]).max()  # how much the units' weights differ
        # end excerpt
        models[init] = model
        results[f"spread_{init}"] = float(spread)
        results[f"bias_spread_{init}"] = float(np.ptp(model[0].bias.data))
        results[f"out_spread_{init}"] = float(np.ptp(model[2].weight.data))
        with cr.no_grad():
            results[f"mse_{init}"] = float(np.mean((model(x).data - y) ** 2))
    page.code("symmetry")
    zero, rand = models["zeros"], models["xavier_uniform"]

    def show(values: np.ndarray) -> str:
        return "[" + ", ".join(f"{float(v) + 0.0:.4g}" for v in np.ravel(values)) + "]"

    page.output(
        f"""
        zero init:   hidden weights W1 = {show(zero[0].weight.data)}
                     hidden biases  b1 = {show(zero[0].bias.data)}
                     output weights W2 = {show(zero[2].weight.data)}
                     largest difference between two hidden units: {results["spread_zeros"]:g}
        Xavier init: hidden weights W1 = {show(rand[0].weight.data)}
                     largest difference between two hidden units: {results["spread_xavier_uniform"]:.3g}
        mean squared error: zero init {results["mse_zeros"]:.4f}, Xavier {results["mse_xavier_uniform"]:.4f}
        """  # noqa: E501
    )
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, (init, model), title in zip(
        axes[:2], models.items(), ("zero initialization", "Xavier initialization"), strict=True
    ):
        with cr.no_grad():
            hidden = model[1](model[0](x)).data  # z⁽¹⁾: one column per hidden unit
        for i in range(hidden.shape[1]):
            ax.plot(
                x,
                hidden[:, i],
                lw=4 if init == "zeros" and i == 0 else 1.2,
                alpha=0.5 if init == "zeros" and i == 0 else 1,
            )
        ax.set(xlabel="x", ylabel="hidden unit output z_i(x)", ylim=(-0.05, 1.05))
        ax.set_title(f"The 8 hidden units, {title}")
    for init, model in models.items():
        with cr.no_grad():
            axes[2].plot(x, model(x).data, lw=2, label=f"{init} (MSE {results['mse_' + init]:.3f})")
    axes[2].plot(x, y, "k:", label="target sin(x)")
    axes[2].set(xlabel="x", ylabel="prediction", title="The fitted functions")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    page.figure(fig, "symmetry", "After training: with zero init all 8 hidden units are one curve.")
    page.text(
        """
        With zero initialization the eight hidden units are exact copies of each other:
        the same weights to the last bit, so in the middle panel the eight curves are one.
        The network has learned, but only what a single sigmoid unit can represent, and
        the fit shows it. With random weights the units start different, receive different
        gradients, and specialize into the bumps and ramps that together make a sine. (With
        tanh or ReLU units, zero weights are even worse: tanh(0) = 0 and ReLU(0) = 0, so the
        hidden layer outputs zeros, no gradient reaches any weight, and only the output bias
        ever changes.)
        """
    )

    # ------------------------------------------------------------------ scale
    page.heading("Too small, too large, and just right")
    depth, width = 10, (128 if fast else 256)
    X = np.random.default_rng(0).normal(size=(500 if fast else 1000, width)).astype(np.float32)
    page.text(
        f"""
        Random weights solve the symmetry problem, but their *scale* matters, and it matters
        more the deeper the network. Each unit sums n inputs: if the inputs have variance v
        and the weights variance s², then Var(a) = n s² v. Unless n s² ≈ 1, the signal's
        variance is multiplied by the same factor at every layer and shrinks or grows
        exponentially with depth.

        We push {len(X)} random inputs through {depth} tanh layers of {width} units and
        record the activations z⁽ᵏ⁾ of every layer and the gradient that reaches each
        layer's weights, for three initializations:

        - **too small:** w ~ N(0, 0.01²), so n s² = {width} × 10⁻⁴ ≈ {width * 1e-4:.2f};
        - **too large:** w ~ N(0, 1), so n s² = {width};
        - **Xavier (Glorot):** Var(w) = 2 / (n_in + n_out) = 1/n for square layers, chosen
          so that both the forward signal and the backward δ keep their variance (for units
          that are linear near 0, as tanh is).
        """
    )
    page.code("activation_stats")
    inits = {
        "too small, N(0, 0.01²)": partial(cr.nn.init.normal, std=0.01),
        "too large, N(0, 1)": partial(cr.nn.init.normal, std=1.0),
        "Xavier": "xavier_normal",
    }
    # excerpt: run_stats
    tanh_stats = {name: activation_stats("tanh", init, depth, X) for name, init in inits.items()}
    # end excerpt
    page.code("run_stats")

    colors = ["C0", "C3", "C2"]
    fig, axes = plt.subplots(len(inits), 4, figsize=(11, 6.5), sharex=True)
    show = [0, 2, 5, depth - 1]
    for row, (name, st) in enumerate(tanh_stats.items()):
        for col, k in enumerate(show):
            ax = axes[row, col]
            ax.hist(st["z"][k].ravel(), bins=np.linspace(-1, 1, 41), color=colors[row])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"layer {k + 1}")
            if col == 0:
                ax.set_ylabel(name, fontsize=9)
            ax.text(0.02, 0.9, f"std {st['std'][k]:.2g}", transform=ax.transAxes, fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("z = tanh(a)")
    fig.suptitle("Distribution of the activations of a 10-layer tanh network")
    fig.tight_layout()
    page.figure(fig, "tanh_histograms", "Histograms of z⁽ᵏ⁾ at layers 1, 3, 6 and 10.")
    page.text(
        """
        - **Too small:** each layer multiplies the standard deviation by about
          √(n s²) = 0.01 √n, a small factor, so by layer 10 every activation is essentially 0
          and carries no information about the input.
        - **Too large:** the sums a are huge, tanh saturates, and almost every unit outputs
          −1 or +1, whatever the input.
        - **Xavier:** the distribution keeps its shape from layer to layer (it narrows only
          slowly, because tanh flattens large values).
        """
    )

    page.heading("He initialization for ReLU")
    page.text(
        """
        Xavier's derivation assumes units that are linear near 0. A ReLU zeroes half of its
        inputs, which halves the variance at every layer, so He et al. doubled the weight
        variance to Var(w) = 2 / n_in. We repeat the experiment with ReLU layers, comparing
        Xavier with He:
        """
    )
    relu_stats = {
        "Xavier": activation_stats("relu", "xavier_normal", depth, X),
        "He": activation_stats("relu", "he_normal", depth, X),
    }
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    layers = np.arange(1, depth + 1)
    for (name, st), c in zip(tanh_stats.items(), colors, strict=True):
        ax1.semilogy(layers, st["std"], "o-", color=c, label=f"tanh, {name}")
        ax2.semilogy(layers, st["grad"], "o-", color=c, label=f"tanh, {name}")
    for (name, st), c in zip(relu_stats.items(), ("C1", "C4"), strict=True):
        ax1.semilogy(layers, st["std"], "s--", color=c, label=f"ReLU, {name}")
        ax2.semilogy(layers, st["grad"], "s--", color=c, label=f"ReLU, {name}")
    ax1.set(xlabel="layer k", ylabel="std of z⁽ᵏ⁾ (log scale)", title="Forward: activation scale")
    ax2.set(
        xlabel="layer k", ylabel="mean |∂E/∂W⁽ᵏ⁾| (log scale)", title="Backward: gradient scale"
    )
    ax1.set_xticks(layers)
    ax2.set_xticks(layers)
    ax1.legend(fontsize=7.5)
    fig.tight_layout()
    page.figure(fig, "scale_by_depth", "Activation and gradient scale across depth, per init.")
    rows = [[f"tanh, {n}", float(s["std"][0]), float(s["std"][-1])] for n, s in tanh_stats.items()]
    rows += [[f"ReLU, {n}", float(s["std"][0]), float(s["std"][-1])] for n, s in relu_stats.items()]
    page.table(["network, initialization", "std of z⁽¹⁾", f"std of z⁽{depth}⁾"], rows, fmt=".3g")
    page.text(
        f"""
        With Xavier weights a ReLU network loses a factor of about √2 in scale per layer
        (here from {relu_stats["Xavier"]["std"][0]:.2g} at layer 1 to
        {relu_stats["Xavier"]["std"][-1]:.2g} at layer {depth}); He weights hold it steady.

        The right panel shows what the backward pass sees. With Xavier (tanh) and He (ReLU)
        every layer receives gradients of about the same size, so one learning rate suits
        them all. With too-small weights the gradients ∂E/∂W⁽ᵏ⁾ = δ⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ᵀ are tiny
        everywhere: the δ's shrink on the way back through the small weights, and the z's
        are already near 0, so learning hardly starts. With too-large weights the gradients
        *explode* towards the input: every step back multiplies δ by large weights, and the
        few units that are not saturated let it through. No single η fits layers whose
        gradients differ by a factor of 10⁴: either the first layers jump around or the last
        ones do not move.

        In chainrule every `Dense` layer takes an `init` argument (`"xavier_uniform"` by
        default, `"he_normal"`, `"zeros"`, … or any function `init(shape, rng, dtype)`), and
        the estimators' `init="auto"` picks He for ReLU and Xavier for tanh and sigmoid.
        Batch normalization, next, attacks the same problem from another side: it rescales
        the activations during training instead of relying on the initial weights.
        """
    )
    results["tanh_std"] = {k: v["std"].tolist() for k, v in tanh_stats.items()}
    results["tanh_grad"] = {k: v["grad"].tolist() for k, v in tanh_stats.items()}
    results["relu_std"] = {k: v["std"].tolist() for k, v in relu_stats.items()}
    results["tanh_grad_ratio"] = {
        k: float(v["grad"][0] / v["grad"][-1]) for k, v in tanh_stats.items()
    }
    results["saturated_large"] = float(
        np.mean(np.abs(tanh_stats["too large, N(0, 1)"]["z"][-1]) > 0.99)
    )
    page.write()
    return results


if __name__ == "__main__":
    run_cli(main)
