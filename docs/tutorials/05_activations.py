"""Tutorial 5: activation functions, their derivatives, and vanishing gradients in deep nets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from _page import Page, run_cli
from sklearn.datasets import load_digits

import chainrule as cr

TITLE = "5. Activation functions and vanishing gradients"
ACTIVATIONS = ("sigmoid", "tanh", "relu")
COLORS = {"sigmoid": "C0", "tanh": "C1", "relu": "C2", "leaky_relu": "C4"}


# excerpt: deep_net
def deep_net(activation: str, depth: int, width: int = 64) -> cr.nn.Sequential:
    """`depth` hidden layers of `width` units, then 10 outputs (logits).

    Each activation gets the initialization designed for it (tutorial 6): Xavier for
    sigmoid and tanh, He for ReLU.
    """
    init = "he_normal" if activation == "relu" else "xavier_normal"
    layers: list[cr.nn.Module] = []
    n_in = 64
    for _ in range(depth):
        layers += [cr.nn.Dense(n_in, width, init=init), cr.nn.get_activation(activation)]
        n_in = width
    layers.append(cr.nn.Dense(n_in, 10, init=init))
    return cr.nn.Sequential(*layers)


def gradient_per_layer(model: cr.nn.Sequential, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean |∂E/∂w| over the weights of each Dense layer, input layer first."""
    model.zero_grad()
    cr.nn.CrossEntropyLoss()(model(X), y).backward()
    dense = [m for m in model if isinstance(m, cr.nn.Dense)]
    return np.array([np.abs(m.weight.grad).mean() for m in dense])


# end excerpt


def main(out_dir: str | Path | None = None, fast: bool = False) -> dict[str, Any]:
    """Build tutorial 5 (activations, derivatives, vanishing gradients)."""
    page = Page(__file__, TITLE, out_dir, fast)
    results: dict[str, Any] = {}
    page.text(
        """
        Each unit of a network computes a weighted sum a = Σⱼ wⱼ zⱼ + b and passes it
        through a nonlinear **activation function**, z = σ(a). Without the nonlinearity a
        stack of layers would collapse into one linear map. The choice of σ matters for a
        second reason: backpropagation multiplies by σ′(a) at every layer
        (δ⁽ᵏ⁾ = W⁽ᵏ⁺¹⁾ᵀ δ⁽ᵏ⁺¹⁾ ∘ σ′(a⁽ᵏ⁾), see [tutorial 2](02_backprop_by_hand.md)), so the
        derivative decides how well error signals travel back through a deep network.
        """
    )

    # ------------------------------------------------------------------ curves
    page.heading("The functions and their derivatives")
    page.text(
        """
        The lecture's three activations, plus the leaky ReLU that chainrule also provides:

        | name | σ(a) | σ′(a) | range of σ′ |
        |---|---|---|---|
        | sigmoid | 1 / (1 + e⁻ᵃ) | σ(a)(1 − σ(a)) | (0, ¼] |
        | tanh | (eᵃ − e⁻ᵃ) / (eᵃ + e⁻ᵃ) | 1 − tanh²(a) | (0, 1] |
        | ReLU | max(0, a) | 1 if a > 0, else 0 | {0, 1} |
        | leaky ReLU | max(αa, a), α = 0.01 | 1 if a > 0, else α | {α, 1} |

        We don't need to code the derivatives: autograd gives σ′ at many points at once. If
        a holds many values and we backpropagate from the *sum* of σ(a), each aᵢ's gradient
        is ∂(Σⱼ σ(aⱼ))/∂aᵢ = σ′(aᵢ), since only the i-th term depends on aᵢ.
        """
    )
    # excerpt: derivatives
    a_values = np.linspace(-6, 6, 601)
    curves = {}
    for name in ("sigmoid", "tanh", "relu", "leaky_relu"):
        a = cr.Tensor(a_values, requires_grad=True, dtype=np.float64)
        z = cr.nn.get_activation(name)(a)
        z.sum().backward()
        curves[name] = (z.data, a.grad)  # σ(a) and σ′(a)
    # end excerpt
    page.code("derivatives")
    s = 1 / (1 + np.exp(-a_values))
    analytic = {
        "sigmoid": s * (1 - s),
        "tanh": 1 - np.tanh(a_values) ** 2,
        "relu": (a_values > 0).astype(float),
        "leaky_relu": np.where(a_values > 0, 1.0, 0.01),
    }
    diffs = {k: float(np.max(np.abs(curves[k][1] - analytic[k]))) for k in curves}
    page.output(
        "largest |autograd - formula| for sigma'(a) on [-6, 6]:\n"
        + "\n".join(f"  {k:<10} {v:.2g}" for k, v in diffs.items())
        + f"\nlargest sigmoid'(a): {curves['sigmoid'][1].max():.4f}, "
        f"largest tanh'(a): {curves['tanh'][1].max():.4f}"
    )
    results["derivative_diffs"] = diffs
    results["max_sigmoid_prime"] = float(curves["sigmoid"][1].max())
    results["max_tanh_prime"] = float(curves["tanh"][1].max())

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, (z, dz) in curves.items():
        style = "--" if name == "leaky_relu" else "-"
        ax1.plot(a_values, z, style, color=COLORS[name], label=name, lw=1.8)
        ax2.plot(a_values, dz, style, color=COLORS[name], label=name, lw=1.8)
    ax1.set(xlabel="a", ylabel="σ(a)", title="Activation functions", ylim=(-1.5, 3))
    ax2.set(xlabel="a", ylabel="σ′(a)", title="Their derivatives (by autograd)", ylim=(-0.1, 1.15))
    ax2.axhline(0.25, color="C0", lw=0.8, ls=":")
    ax2.annotate("sigmoid′ ≤ ¼", (2.2, 0.27), color="C0")
    ax1.legend()
    fig.tight_layout()
    page.figure(fig, "functions", "Sigmoid, tanh, ReLU and leaky ReLU with their derivatives.")
    page.text(
        """
        Three things to notice:

        - The **sigmoid**'s slope is at most ¼ (at a = 0) and almost 0 once |a| > 5: a
          saturated sigmoid unit passes almost no gradient back. Its outputs are also all
          positive, which makes the next layer's gradients share one sign.
        - **tanh** is a rescaled sigmoid (tanh(a) = 2σ(2a) − 1): zero-centred, with slope 1 at
          the origin, but it saturates just the same.
        - **ReLU**'s slope is exactly 1 for every positive input: gradients pass through
          active units undiminished. It is also the cheapest to compute and gives sparse
          activations (many exact zeros), the advantages the lecture lists. Its weakness is
          a slope of 0 for negative inputs: a unit whose input is negative for every sample
          never learns again ("dead ReLU"). The leaky ReLU keeps a small slope there.
        """
    )

    # ------------------------------------------------------------------ vanishing gradients
    page.heading("Vanishing gradients in a deep network")
    depth = 10
    X, y = load_digits(return_X_y=True)
    X = ((X - X.mean(0)) / (X.std(0) + 1e-8)).astype(np.float32)  # standardized pixels
    page.text(
        f"""
        Stack {depth} hidden layers of 64 units and go backwards: each layer multiplies the
        error signal by Wᵀ and by σ′(a). With the sigmoid the second factor is at most ¼, so
        after k layers the signal has shrunk by up to 4ᵏ (the weights, scaled to keep
        the forward signal steady, cannot make up for it). We build three such networks
        and measure the average gradient magnitude |∂E/∂W⁽ᵏ⁾| of each layer on a batch of
        256 digits, before any training.
        """
    )
    page.code("deep_net")
    # excerpt: measure
    grads = {}
    for name in ACTIVATIONS:
        cr.set_seed(0)
        grads[name] = gradient_per_layer(deep_net(name, depth), X[:256], y[:256])
    # end excerpt
    page.code("measure")

    epochs = 3 if fast else 20
    n_train = 500 if fast else len(X)
    histories = {}
    for name in ACTIVATIONS:
        cr.set_seed(0)
        model = deep_net(name, depth)
        optimizer = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        histories[name] = cr.fit(
            model,
            cr.nn.CrossEntropyLoss(),
            optimizer,
            X[:n_train],
            y[:n_train],
            epochs=epochs,
            batch_size=32,
            seed=0,
            progress=False,
        )

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    layers = np.arange(1, depth + 2)
    for name in ACTIVATIONS:
        ax1.semilogy(layers, grads[name], "o-", color=COLORS[name], label=name)
        ax2.plot(
            np.arange(1, epochs + 1),
            histories[name]["loss"],
            "o-",
            ms=3,
            color=COLORS[name],
            label=name,
        )
    ax1.set(
        xlabel="layer k (1 = next to the input, 11 = output)",
        ylabel="mean |∂E/∂W⁽ᵏ⁾| (log scale)",
        title=f"Gradient per layer, {depth} hidden layers",
    )
    ax1.set_xticks(layers)
    ax2.set(
        xlabel="epoch",
        ylabel="training loss",
        title="Training the same networks (SGD + momentum)",
    )
    ax1.legend()
    ax2.legend()
    fig.tight_layout()
    page.figure(
        fig, "vanishing", "Left: gradient size per layer at initialization. Right: training."
    )
    page.table(
        [
            "activation",
            "mean |∂E/∂W| at layer 1",
            f"at layer {depth + 1}",
            "ratio layer 1 / output",
            "final training loss",
        ],
        [
            [
                name,
                float(g[0]),
                float(g[-1]),
                float(g[0] / g[-1]),
                float(histories[name]["loss"][-1]),
            ]
            for name, g in grads.items()
        ],
        fmt=".3g",
    )
    page.text(
        """
        In the sigmoid network the gradient shrinks by a factor of about four per layer, so
        the first layer's weights receive gradients more than a million times smaller than
        the output layer's. Gradient descent barely moves them: the early layers stay at
        their random start and pass on noise, and the training loss stays near
        ln 10 ≈ 2.30, the loss of guessing all ten classes with equal probability. With
        tanh (slope up to 1) and ReLU (slope exactly 1 where active) the gradient reaches
        the first layer at about the same size as the last, and the same networks train.

        Vanishing gradients are why deep networks use ReLU-like activations in hidden
        layers, and why initialization ([tutorial 6](06_initialization.md)) and batch
        normalization ([tutorial 7](07_batch_norm.md)) matter: all three keep the signal's
        scale steady from layer to layer. Sigmoids remain useful at the *output*, to turn a
        score into a probability.
        """
    )
    results["grads"] = {k: v.tolist() for k, v in grads.items()}
    results["final_loss"] = {k: float(h["loss"][-1]) for k, h in histories.items()}
    results["first_loss"] = {k: float(h["loss"][0]) for k, h in histories.items()}
    page.write()
    return results


if __name__ == "__main__":
    run_cli(main)
