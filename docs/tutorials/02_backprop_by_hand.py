"""Tutorial 2: backpropagation by hand (NumPy, δ notation) next to chainrule's autograd.

The two-layer sigmoid chain of the lecture, then a K-layer network in matrix form:
δ⁽ᴷ⁾ = (z⁽ᴷ⁾ − y) ∘ σ′(a⁽ᴷ⁾), δ⁽ᵏ⁾ = W⁽ᵏ⁺¹⁾ᵀ δ⁽ᵏ⁺¹⁾ ∘ σ′(a⁽ᵏ⁾), ∂E/∂W⁽ᵏ⁾ = δ⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ᵀ,
computed by hand and by autograd, side by side, equal; then both trained by gradient descent.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from _page import Page, run_cli

import chainrule as cr

TITLE = "2. Backpropagation by hand and by autograd"


# excerpt: numpy_sigmoid
def sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = 1 / (1 + e^(−a)), written so that e^(−a) never overflows."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_prime(a: np.ndarray) -> np.ndarray:
    """σ′(a) = σ(a) (1 − σ(a))."""
    s = sigmoid(a)
    return s * (1 - s)


# end excerpt


# excerpt: hand_forward
def forward(W: list, b: list, x: np.ndarray) -> tuple[list, list]:
    """Forward propagation for one sample x (a column vector of N_0 numbers).

    W[k] is W⁽ᵏ⁾ (N_k × N_{k−1}) and b[k] is b⁽ᵏ⁾ for k = 1 … K; index 0 is unused so that
    the code reads like the math. Returns the lists a[k] and z[k] (z[0] = x).
    """
    K = len(W) - 1
    a, z = [None] * (K + 1), [None] * (K + 1)
    z[0] = x
    for k in range(1, K + 1):
        a[k] = W[k] @ z[k - 1] + b[k]  # a⁽ᵏ⁾ = W⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾
        z[k] = sigmoid(a[k])  # z⁽ᵏ⁾ = σ(a⁽ᵏ⁾)
    return a, z


# end excerpt


# excerpt: hand_backward
def backward(W: list, a: list, z: list, y: np.ndarray) -> tuple[list, list, list, np.ndarray]:
    """Backpropagation of Eₙ = ½ ‖z⁽ᴷ⁾ − y‖² for one sample: δ's and gradients."""
    K = len(W) - 1
    delta, dW, db = [None] * (K + 1), [None] * (K + 1), [None] * (K + 1)
    delta[K] = (z[K] - y) * sigmoid_prime(a[K])  # δ⁽ᴷ⁾ = (z⁽ᴷ⁾ − y) ∘ σ′(a⁽ᴷ⁾)
    for k in range(K - 1, 0, -1):
        delta[k] = (W[k + 1].T @ delta[k + 1]) * sigmoid_prime(a[k])  # δ⁽ᵏ⁾ = W⁽ᵏ⁺¹⁾ᵀδ⁽ᵏ⁺¹⁾ ∘ σ′
    for k in range(1, K + 1):
        dW[k] = np.outer(delta[k], z[k - 1])  # ∂Eₙ/∂W⁽ᵏ⁾ = δ⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ᵀ
        db[k] = delta[k]  # ∂Eₙ/∂b⁽ᵏ⁾ = δ⁽ᵏ⁾
    dx = W[1].T @ delta[1]  # ∂Eₙ/∂x = W⁽¹⁾ᵀ δ⁽¹⁾
    return delta, dW, db, dx


# end excerpt


def main(out_dir: str | Path | None = None, fast: bool = False) -> dict[str, Any]:
    """Build tutorial 2 (backpropagation by hand vs autograd)."""
    page = Page(__file__, TITLE, out_dir, fast)
    results: dict[str, Any] = {}
    page.text(
        """
        [Tutorial 1](01_chain_rule.md) showed that a gradient is a sum over paths of products
        of local derivatives. In a neural network the same few products appear over and over,
        so the lecture gives them a name: **δ** (delta), the derivative of the error with
        respect to a unit's *activation* a (the value before the nonlinearity),

        δᵢ⁽ᵏ⁾ ≜ ∂Eₙ/∂aᵢ⁽ᵏ⁾.

        Once every δ is known, every weight gradient is a single product, because a weight
        wᵢⱼ⁽ᵏ⁾ touches the error only through aᵢ⁽ᵏ⁾: ∂Eₙ/∂wᵢⱼ⁽ᵏ⁾ = δᵢ⁽ᵏ⁾ zⱼ⁽ᵏ⁻¹⁾. This page
        computes the δ's by hand, in plain NumPy, and puts them next to what chainrule's
        autograd computes. They agree to the last bits of float64.

        Notation (the lecture's): z⁽⁰⁾ = x is the input, a⁽ᵏ⁾ = W⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾ and
        z⁽ᵏ⁾ = σ(a⁽ᵏ⁾) for layers k = 1 … K, the prediction is ŷ = z⁽ᴷ⁾ and the error of one
        sample is Eₙ = ½ Σᵢ (ŷᵢ − yᵢ)². W⁽ᵏ⁾ has N_k rows and N_{k−1} columns: wᵢⱼ⁽ᵏ⁾ connects
        unit j of layer k − 1 to unit i of layer k. (The lecture's networks have no biases;
        chainrule's `Dense` layers add b⁽ᵏ⁾, whose gradient is simply δ⁽ᵏ⁾.)
        """
    )

    # ------------------------------------------------------------------ the sigmoid chain
    page.heading("Part 1: the two-layer sigmoid chain")
    page.text(
        """
        The lecture's first network has one unit per layer: ŷ = σ(w₂ σ(w₁ z₀)). Its chain of
        local derivatives is

        ∂E/∂w₁ = (∂E/∂ŷ)(∂ŷ/∂a₂)(∂a₂/∂z₁)(∂z₁/∂a₁)(∂a₁/∂w₁) = (ŷ − y) σ′(a₂) w₂ σ′(a₁) z₀.

        Grouping the first two factors gives δ₂ = (ŷ − y) σ′(a₂); the first four give
        δ₁ = δ₂ w₂ σ′(a₁). Then ∂E/∂w₂ = δ₂ z₁ and ∂E/∂w₁ = δ₁ z₀. Everything on the right
        is known after the forward pass. We take z₀ = 1, w₁ = 0.5, w₂ = −1.5 and target y = 1.
        """
    )
    # excerpt: chain_hand
    z0, w1, w2, y = 1.0, 0.5, -1.5, 1.0
    a1 = w1 * z0  # forward
    z1 = 1 / (1 + math.exp(-a1))
    a2 = w2 * z1
    y_hat = 1 / (1 + math.exp(-a2))
    delta2 = (y_hat - y) * y_hat * (1 - y_hat)  # backward: σ′(a) = σ(a)(1 − σ(a))
    delta1 = delta2 * w2 * z1 * (1 - z1)
    dE_dw2, dE_dw1 = delta2 * z1, delta1 * z0
    # end excerpt
    page.code("chain_hand")
    page.text("And with chainrule, where `a.grad` *is* δ once `E.backward()` has run:")
    # excerpt: chain_autograd
    z0_t = cr.Tensor(z0, dtype=np.float64, name="z0")
    w1_t = cr.Tensor(w1, requires_grad=True, dtype=np.float64, name="w1")
    w2_t = cr.Tensor(w2, requires_grad=True, dtype=np.float64, name="w2")
    a1_t = w1_t * z0_t
    z1_t = a1_t.sigmoid()
    a2_t = w2_t * z1_t
    y_hat_t = a2_t.sigmoid()
    E = 0.5 * (y_hat_t - y) ** 2
    E.backward()
    # end excerpt
    page.code("chain_autograd")
    for t, n in ((a1_t, "a1"), (z1_t, "z1"), (a2_t, "a2"), (y_hat_t, "y_hat"), (E, "E")):
        t.name = n
    rows = [
        ["δ₂ = ∂E/∂a₂", delta2, float(a2_t.grad)],
        ["∂E/∂w₂ = δ₂ z₁", dE_dw2, float(w2_t.grad)],
        ["δ₁ = ∂E/∂a₁", delta1, float(a1_t.grad)],
        ["∂E/∂w₁ = δ₁ z₀", dE_dw1, float(w1_t.grad)],
    ]
    page.table(["quantity", "by hand", "autograd"], rows, fmt=".12g")
    page.graph(
        cr.viz.draw_graph(E),
        "sigmoid_chain",
        "The sigmoid chain after backward(): the gradient stored at a1 and a2 is δ₁ and δ₂.",
    )
    results["chain"] = {r[0]: (r[1], r[2]) for r in rows}

    # ------------------------------------------------------------------ K layers
    page.heading("Part 2: a K-layer network in matrix form")
    page.text(
        """
        With many units per layer the same reasoning runs on vectors. The lecture's quick
        reference gives the recursion, for k = K − 1 down to 1:

        - δ⁽ᴷ⁾ = (z⁽ᴷ⁾ − y) ∘ σ′(a⁽ᴷ⁾)
        - δ⁽ᵏ⁾ = W⁽ᵏ⁺¹⁾ᵀ δ⁽ᵏ⁺¹⁾ ∘ σ′(a⁽ᵏ⁾)  — each unit collects the δ's of the units it feeds,
          weighted by the connecting weights (the sum rule), times its own slope (the chain
          rule)
        - ∂Eₙ/∂W⁽ᵏ⁾ = δ⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ᵀ (an outer product), ∂Eₙ/∂b⁽ᵏ⁾ = δ⁽ᵏ⁾ and
          ∂Eₙ/∂x = W⁽¹⁾ᵀ δ⁽¹⁾.

        Here ∘ is the element-wise product. In NumPy, for one sample (the lists are indexed
        from 1 so that `W[k]` is W⁽ᵏ⁾):
        """
    )
    page.code("numpy_sigmoid")
    page.code("hand_forward")
    page.code("hand_backward")

    sizes = [3, 4, 4, 2]  # N_0 … N_K: K = 3 layers
    n_samples = 5
    rng = np.random.default_rng(0)
    page.text(
        f"""
        We build a network with layer sizes {" → ".join(map(str, sizes))} (K = {len(sizes) - 1})
        in chainrule, in float64, and take a batch of {n_samples} random samples. The
        chainrule forward pass is written layer by layer so that we can keep each a⁽ᵏ⁾ and
        look at its gradient afterwards.
        """
    )
    # excerpt: cr_network
    cr.set_seed(0)
    layers = [
        cr.nn.Dense(n_in, n_out, dtype=np.float64) for n_in, n_out in itertools.pairwise(sizes)
    ]
    X = rng.normal(size=(n_samples, sizes[0]))  # one sample per row
    Y = rng.uniform(size=(n_samples, sizes[-1]))

    x_t = cr.Tensor(X, requires_grad=True)  # so that we also get ∂E/∂x
    z_t, a_t = x_t, []
    for layer in layers:
        a_t.append(layer(z_t))  # a⁽ᵏ⁾ = W⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾, one row per sample
        z_t = a_t[-1].sigmoid()
    E = cr.nn.SquaredError()(z_t, Y)  # (1/N) Σₙ ½ ‖ŷₙ − yₙ‖²
    E.backward()
    # end excerpt
    page.code("cr_network")
    page.text(
        """
        `SquaredError` averages the per-sample errors over the batch, E = (1/N) Σₙ Eₙ, which
        is exactly the lecture's batch gradient: the average of the per-sample gradients.
        So the hand computation loops over the samples, runs the recursion for each, and
        averages. The δ autograd stores for sample n is that sample's δ divided by N.
        """
    )
    # excerpt: compare
    K = len(layers)
    W = [None] + [layer.weight.data for layer in layers]  # the very same weights
    b = [None] + [layer.bias.data for layer in layers]
    dW_hand = [None] + [np.zeros_like(W[k]) for k in range(1, K + 1)]
    db_hand = [None] + [np.zeros_like(b[k]) for k in range(1, K + 1)]
    deltas = [[] for _ in range(K + 1)]
    dx_hand = []
    for n in range(n_samples):
        a, z = forward(W, b, X[n])
        delta, dW, db, dx = backward(W, a, z, Y[n])
        for k in range(1, K + 1):
            dW_hand[k] += dW[k] / n_samples  # batch gradient: the average over samples
            db_hand[k] += db[k] / n_samples
            deltas[k].append(delta[k] / n_samples)
        dx_hand.append(dx / n_samples)
    # end excerpt
    page.code("compare")

    rows = []
    diffs: dict[str, float] = {}
    for k in range(1, K + 1):
        pairs = {
            f"δ⁽{k}⁾": (np.array(deltas[k]), a_t[k - 1].grad),
            f"∂E/∂W⁽{k}⁾": (dW_hand[k], layers[k - 1].weight.grad),
            f"∂E/∂b⁽{k}⁾": (db_hand[k], layers[k - 1].bias.grad),
        }
        for name, (hand, auto) in pairs.items():
            d = float(np.max(np.abs(hand - auto)))
            diffs[name] = d
            rows.append([name, "×".join(map(str, hand.shape)), float(np.abs(hand).max()), d])
    d = float(np.max(np.abs(np.array(dx_hand) - x_t.grad)))
    diffs["∂E/∂x"] = d
    rows.append(["∂E/∂x", "×".join(map(str, x_t.grad.shape)), float(np.abs(x_t.grad).max()), d])
    page.table(["quantity", "shape", "largest entry", "max |hand − autograd|"], rows, fmt=".3g")
    results["max_diff"] = diffs
    page.text(
        """
        The differences are at the level of float64 rounding (far below 10⁻¹⁵): the two
        computations are the same arithmetic in a different order. Look at the first column
        as well: every δ⁽ᵏ⁾ has one entry per unit *and per sample*; autograd's batched
        version just stacks the per-sample column vectors as rows, which is why the
        weight gradient there is written `delta.T @ z` rather than an outer product.
        """
    )
    page.text(
        """
        Before trusting a hand derivation, check it numerically too; one line with
        `cr.grad_check` (central finite differences) covers the whole network:
        """
    )

    # excerpt: grad_check
    def error_of(W1, W2, W3):
        z = cr.Tensor(X)
        for Wk, layer in zip((W1, W2, W3), layers, strict=True):
            z = (z @ Wk.T + layer.bias.data).sigmoid()
        return cr.nn.SquaredError()(z, Y)

    check = cr.grad_check(error_of, [layer.weight.data for layer in layers])
    # end excerpt
    page.code("grad_check")
    page.output(check.report())
    results["grad_check_ok"] = bool(check)

    # ------------------------------------------------------------------ training
    page.heading("Part 3: gradient descent, by hand and with an optimizer")
    page.text(
        """
        With gradients in hand, the lecture's gradient descent is one line per weight,
        w ← w − η ∂E/∂w. We train two copies of a 2 → 4 → 4 → 1 sigmoid network on the four
        points of XOR with batch gradient descent: one with the NumPy functions above and
        the update written out, the other with chainrule and `cr.optim.SGD`. Both start from
        the same weights.
        """
    )
    steps = 300 if fast else 3000
    eta = 2.0
    X_xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y_xor = np.array([[0.0], [1.0], [1.0], [0.0]])
    cr.set_seed(1)
    # excerpt: train
    model = cr.nn.Sequential(
        cr.nn.Dense(2, 4, dtype=np.float64),
        cr.nn.Sigmoid(),
        cr.nn.Dense(4, 4, dtype=np.float64),
        cr.nn.Sigmoid(),
        cr.nn.Dense(4, 1, dtype=np.float64),
        cr.nn.Sigmoid(),
    )
    dense = [m for m in model if isinstance(m, cr.nn.Dense)]
    W = [None] + [m.weight.data.copy() for m in dense]  # the hand-trained copy
    b = [None] + [m.bias.data.copy() for m in dense]
    optimizer = cr.optim.SGD(model.parameters(), lr=eta)
    loss_fn = cr.nn.SquaredError()

    E_hand, E_auto = [], []
    for _ in range(steps):
        # by hand: average the per-sample gradients, then step
        grads_W = [None] + [np.zeros_like(W[k]) for k in range(1, 4)]
        grads_b = [None] + [np.zeros_like(b[k]) for k in range(1, 4)]
        E_sum = 0.0
        for x, y in zip(X_xor, Y_xor, strict=True):
            a, z = forward(W, b, x)
            E_sum += 0.5 * float(np.sum((z[3] - y) ** 2))
            _, dW, db, _ = backward(W, a, z, y)
            for k in range(1, 4):
                grads_W[k] += dW[k] / len(X_xor)
                grads_b[k] += db[k] / len(X_xor)
        for k in range(1, 4):
            W[k] -= eta * grads_W[k]  # w ← w − η ∂E/∂w
            b[k] -= eta * grads_b[k]
        E_hand.append(E_sum / len(X_xor))

        # with chainrule
        optimizer.zero_grad()
        E = loss_fn(model(X_xor), Y_xor)
        E.backward()
        optimizer.step()
        E_auto.append(E.item())
    # end excerpt
    page.code("train")
    weight_diff = max(float(np.max(np.abs(W[k] - dense[k - 1].weight.data))) for k in (1, 2, 3))
    with cr.no_grad():
        pred = model(X_xor).data.ravel()
    E_hand_a, E_auto_a = np.array(E_hand), np.array(E_auto)
    loss_gap = float(np.max(np.abs(E_hand_a - E_auto_a)))

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    ax1.plot(E_hand_a, lw=3, alpha=0.5, label="NumPy, by hand")
    ax1.plot(E_auto_a, "--", color="k", lw=1.2, label="chainrule autograd + SGD")
    ax1.set(xlabel="gradient-descent step", ylabel="training error E", title="XOR: E per step")
    ax1.set_yscale("log")
    ax1.legend()
    gap = np.abs(E_hand_a - E_auto_a)
    nonzero = np.flatnonzero(gap)
    ax2.scatter(nonzero, gap[nonzero], s=3, color="C3")
    ax2.set_yscale("log")
    ax2.set(
        xlabel="gradient-descent step",
        ylabel="|E_hand − E_autograd|",
        title=f"Difference (exactly 0 at {steps - len(nonzero)} of {steps} steps)",
    )
    fig.tight_layout()
    page.figure(fig, "xor_training", "The two training runs lie on top of each other.")
    page.output(
        f"after {steps} steps: E = {E_auto[-1]:.3g}; predictions {np.round(pred, 3).tolist()} "
        f"for targets {Y_xor.ravel().tolist()}\n"
        f"largest |E_hand - E_autograd| over the run: {loss_gap:.2g}\n"
        f"largest weight difference at the end:      {weight_diff:.2g}"
    )
    results.update(
        xor_loss_gap=loss_gap,
        xor_weight_diff=weight_diff,
        xor_first_loss=E_auto[0],
        xor_last_loss=E_auto[-1],
    )
    page.text(
        """
        The two losses differ at most by a few units of float64 rounding, and at many steps
        they are identical bit for bit: the hand-written and the automatic backward pass do
        the same arithmetic.

        **Takeaways.** Backpropagation is three lines of algebra: δ at the output, the δ
        recursion backwards, and one outer product per layer. Autograd does exactly this,
        but derives the local rules from the operations you used, so you never have to
        re-derive them when the network changes. The δ's are also the key to the problems
        later tutorials study: each step back multiplies by σ′(a) ≤ ¼ for the sigmoid, which is
        why gradients can vanish in deep networks ([tutorial 5](05_activations.md)).
        """
    )
    page.write()
    return results


if __name__ == "__main__":
    run_cli(main)
