"""Tutorial 11: types of layers — convolution and pooling for signals and small images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from _page import Page, run_cli
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import chainrule as cr
from chainrule import nn
from chainrule.datasets import PATTERN_NAMES, shifted_patterns

TITLE = "11. Types of layers: convolution and pooling"


# excerpt: dense-matrix
def conv_as_matrix(w: np.ndarray, length: int) -> np.ndarray:
    """The (L − k + 1) × L matrix M of the dense layer that computes the 1-d convolution of a
    signal of `length` with the kernel w (one channel, stride 1, no padding): row i holds
    w at columns i … i + k − 1 and zeros elsewhere."""
    k = len(w)
    M = np.zeros((length - k + 1, length))
    for i in range(length - k + 1):
        M[i, i : i + k] = w
    return M


# end excerpt


# excerpt: cnn
def digits_cnn(input_shape: tuple[int, ...], n_outputs: int) -> nn.Sequential:
    """Conv(1→16, 3×3) → ReLU → max-pool 2 → Conv(16→32, 3×3) → ReLU → global average → Dense."""
    return nn.Sequential(  # He initialization, for ReLU (fan-in: channels × kernel size)
        nn.Conv2d(input_shape[0], 16, 3, padding=1, init="he_uniform"),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, init="he_uniform"),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dense(32, n_outputs),
    )


def signal_cnn(input_shape: tuple[int, ...], n_outputs: int) -> nn.Sequential:
    """Three Conv1d(k = 5, stride 2, 25 channels) + ReLU, then a dense output layer."""
    length = input_shape[-1]
    layers: list[nn.Module] = []
    channels = input_shape[0]
    for _ in range(3):
        layers += [nn.Conv1d(channels, 25, 5, stride=2), nn.ReLU()]
        channels, length = 25, (length - 5) // 2 + 1
    return nn.Sequential(*layers, nn.Flatten(), nn.Dense(25 * length, n_outputs))


# end excerpt


def receptive_field(layers: list[nn.Module], shape: tuple[int, int]) -> np.ndarray:
    """Which input pixels can change one unit (the centre of channel 0) after `layers`: the
    non-zero pattern of its gradient with respect to the input. The weights are all 1 and
    pooling averages, so that no gradient cancels or is routed away by chance."""
    for layer in layers:
        for p in layer.parameters():
            p.data[...] = 1.0
    x = cr.Tensor(np.ones((1, 1, *shape)), requires_grad=True)
    out = nn.Sequential(*layers)(x)
    h, w = out.shape[2:]
    seed = np.zeros(out.shape)
    seed[0, 0, h // 2, w // 2] = 1.0
    out.backward(seed)
    return np.abs(x.grad[0, 0]) > 0


def main(out_dir: str | Path | None = None, fast: bool = False) -> dict[str, Any]:
    """Build tutorial 11 (types of layers: convolution and pooling)."""
    page = Page(__file__, TITLE, out_dir, fast)
    results: dict[str, Any] = {}
    page.text(
        """
        Every network so far was built from dense layers: each unit sees every input. The
        lecture lists the *type of layers* among the architectural choices, and for signals
        and images there is a better one. A digit is still a digit one pixel to the left, and
        a heartbeat is the same shape whenever it happens: the patterns that matter are
        **local** (a few neighbouring values) and can sit **anywhere**. A convolutional layer
        builds both facts in; a pooling layer then summarises where exactly a pattern was.

        chainrule's layers follow PyTorch's signatures and layouts, so code ports both ways:
        `nn.Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1)`
        on signals of shape (N, C, L), `nn.Conv2d` on images (N, C, H, W), weights of shape
        (out, in, *kernel), `nn.MaxPool2d`, `nn.AvgPool2d`, `nn.AdaptiveAvgPool2d(1)` (the
        global average) and `nn.Flatten`.
        """
    )

    # ------------------------------------------------------------------ dense view
    page.heading("A convolution is a dense layer with shared, sparse weights")
    page.text(
        """
        A 1-d convolution slides a kernel w = (w₀, …, w_{k−1}) along the signal x and takes a
        dot product at every position: aᵢ = Σⱼ wⱼ x_{i+j} + b. (Deep learning's "convolution"
        is this *cross-correlation*: the kernel is not flipped. Nothing is lost, since the
        kernel is learned.) Written as a matrix, it is the lecture's dense layer a = W z + b
        with a very particular W: every row holds the same k numbers, shifted one column per
        row, and zeros everywhere else.
        """
    )
    # excerpt: compare-dense
    rng = np.random.default_rng(0)
    x = rng.standard_normal(8)
    w = np.array([1.0, -2.0, 0.5])
    M = conv_as_matrix(w, len(x))
    weight = nn.Parameter(w.reshape(1, 1, 3))  # (out channels, in channels, kernel)
    conv = nn.functional.conv1d(cr.Tensor(x.reshape(1, 1, 8)), weight).data.ravel()
    dense = M @ x
    # end excerpt
    page.code("dense-matrix")
    page.code("compare-dense")
    np.set_printoptions(precision=3, suppress=True)
    page.output(f"M =\n{M}\n\nconvolution  {conv}\nM @ x        {dense}")
    results["dense_vs_conv"] = float(np.max(np.abs(conv - dense)))
    page.text(
        f"""
        Both give the same numbers (largest difference {results["dense_vs_conv"]:.1e}). The
        dense layer would have {M.size} free weights; the convolution has {w.size}. That is
        the whole idea: **sparse** connections (each output sees only k inputs, its receptive
        field) and **shared** weights (every position uses the same kernel, so a pattern
        learned in one place is recognised everywhere). A 2-d convolution is the same with
        windows of pixels; for a 3×3 kernel on a 6×6 image the matrix is 16 × 36 with nine
        distinct values:
        """
    )
    k2 = np.arange(1, 10, dtype=float).reshape(1, 1, 3, 3)
    M2 = np.stack(
        [
            nn.functional.conv2d(cr.Tensor(e.reshape(1, 1, 6, 6)), nn.Parameter(k2)).data.ravel()
            for e in np.eye(36)
        ],
        axis=1,
    )  # column j: the output for the j-th unit image, i.e. the j-th column of M
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.imshow(np.where(M2 == 0, np.nan, M2), cmap="viridis", aspect="equal")
    ax.set_xlabel("input pixel (6×6 image, row by row)")
    ax.set_ylabel("output (4×4)")
    ax.set_title("Conv2d(1, 1, 3) as a dense 16 × 36 matrix: blank = 0, colour = which of w₁…w₉")
    ax.grid(False)
    page.figure(fig, "dense_matrix", "The weight matrix of a 3×3 convolution on a 6×6 image.")
    results["matrix_nonzeros_per_row"] = int(np.count_nonzero(M2, axis=1).max())

    # ------------------------------------------------------------------ backprop
    page.heading("Backpropagation through a convolution")
    page.text(
        """
        Because the convolution *is* a = M x, the lecture's rules apply unchanged: the layer
        passes back ∂E/∂x = Mᵀ δ, and the weight gradient is δ xᵀ, only summed over the
        entries of M that share a weight. Read back as convolutions:

        - ∂E/∂wⱼ = Σᵢ δᵢ x_{i+j}: a **correlation of the input with δ**;
        - ∂E/∂x = Mᵀ δ: a **full convolution of δ with the flipped kernel** (δ padded by
          k − 1 zeros on both sides, correlated with (w_{k−1}, …, w₀)).

        So the δ recursion δ⁽ᵏ⁻¹⁾ = W⁽ᵏ⁾ᵀ δ⁽ᵏ⁾ ∘ σ′(a⁽ᵏ⁻¹⁾) becomes: convolve δ with the flipped
        kernels, then multiply by σ′. chainrule's `conv` op computes exactly these (see
        [the table of local derivatives](../derivatives.md)); here they are by hand:
        """
    )
    # excerpt: backprop
    x_t = cr.Tensor(x.reshape(1, 1, 8), requires_grad=True)
    out = nn.functional.conv1d(x_t, weight)
    delta = rng.standard_normal(out.shape)  # some δ = ∂E/∂a arriving from above
    out.backward(delta)
    d = delta.ravel()
    grad_x_by_hand = np.correlate(np.pad(d, 2), w[::-1], mode="valid")  # full conv, flipped w
    grad_w_by_hand = np.correlate(x, d, mode="valid")  # correlation of x with δ
    # end excerpt
    page.code("backprop")
    results["grad_x_diff"] = float(np.max(np.abs(x_t.grad.ravel() - grad_x_by_hand)))
    results["grad_x_dense_diff"] = float(np.max(np.abs(x_t.grad.ravel() - M.T @ d)))
    results["grad_w_diff"] = float(np.max(np.abs(weight.grad.ravel() - grad_w_by_hand)))
    page.output(
        f"∂E/∂x  autograd {x_t.grad.ravel()}\n"
        f"       by hand  {grad_x_by_hand}\n"
        f"       Mᵀ δ     {M.T @ d}\n"
        f"∂E/∂w  autograd {weight.grad.ravel()}\n"
        f"       by hand  {grad_w_by_hand}"
    )
    page.text(
        """
        In the library, the forward pass copies every window into a row of a matrix once
        (*im2col*, from NumPy's `sliding_window_view`) and multiplies it by the kernels: one
        matrix product per layer. The backward pass is two more products, δᵀ·im2col for the
        weights and δ·W for the windows, which are added back where they came from. (With the
        compiled kernels both passes take a block of images at a time, and the backward pass
        copies the windows again rather than keep the matrix: memory for a little time.) The
        tests check all of it against PyTorch to 1e-10 and against finite differences.
        """
    )

    # ------------------------------------------------------------------ pooling
    page.heading("Pooling")
    page.text(
        """
        A pooling layer has no weights: it summarises each window of a feature map, by its
        maximum (`MaxPool2d(2)`: every 2×2 block becomes its largest value) or its average.
        It halves the resolution, so later layers see more of the image per unit, and it
        makes the output tolerant of small shifts. The derivative of a maximum is 1 for the
        winner and 0 for the rest, so **max pooling routes δ to the arg-max** of each window:
        """
    )
    # excerpt: pool
    fmap = cr.Tensor(np.array([[[[1.0, 5.0, 0.0, 2.0],
                                 [3.0, 2.0, 1.0, 4.0],
                                 [0.0, 1.0, 7.0, 1.0],
                                 [2.0, 6.0, 0.0, 3.0]]]]), requires_grad=True)  # fmt: skip
    pooled = nn.MaxPool2d(2)(fmap)
    pooled.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))  # δ of the four outputs
    # end excerpt
    page.code("pool")
    page.output(f"pooled =\n{pooled.data[0, 0]}\n\n∂E/∂input =\n{fmap.grad[0, 0]}")
    results["pool_grad"] = fmap.grad[0, 0].tolist()

    # ------------------------------------------------------------------ receptive fields
    page.heading("Receptive fields")
    cr.set_seed(0)
    model = digits_cnn((1, 8, 8), 10)

    def conv3() -> nn.Conv2d:  # the CNN's 3×3 geometry; one channel is enough to trace it
        return nn.Conv2d(1, 1, 3, padding=1, dtype=np.float64)

    fields = {
        "after conv 1": receptive_field([conv3()], (8, 8)),
        "after pooling": receptive_field([conv3(), nn.AvgPool2d(2)], (8, 8)),
        "after conv 2": receptive_field([conv3(), nn.AvgPool2d(2), conv3()], (8, 8)),
    }
    sizes = {name: int(f.sum()) for name, f in fields.items()}
    results["receptive_fields"] = sizes
    page.text(
        f"""
        The receptive field of a unit is the part of the input it can see. One 3×3
        convolution sees 3×3 pixels; after a 2×2 pooling, a unit covers a 4×4 block; a 3×3
        convolution on the pooled map then sees 3×3 pooled units, which is 8×8 pixels, the
        size of the whole digit. Each layer widens the view by (k − 1) times the stride of
        everything below it. Traced here by backpropagation (the input pixels whose gradient
        is not zero for the unit in the middle of channel 0, with all weights 1 and average
        pooling, so that no gradient vanishes by chance): {sizes}. The last is 7×7, not 8×8,
        because one row and one column of its window lie in the zero padding outside the
        image.
        """
    )
    fig, axes = plt.subplots(1, 3, figsize=(8, 2.8))
    for ax, (name, f) in zip(axes, fields.items(), strict=True):
        ax.imshow(f, cmap="Blues", vmin=0, vmax=1.3)
        ax.set_title(f"{name}: {f.sum()} pixels")
        ax.set_xticks(range(8))
        ax.set_yticks(range(8))
        ax.grid(False)
    fig.tight_layout()
    page.figure(
        fig, "receptive_fields", "Input pixels one central unit depends on, layer by layer."
    )

    # ------------------------------------------------------------------ digits CNN
    page.heading("A small CNN on the digits")
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    epochs = 8 if fast else 150
    page.text(
        f"""
        The 8×8 digits as one-channel images: two 3×3 convolutions (16 and 32 filters) with a
        max-pool between them, the global average of each of the 32 feature maps, and a dense
        output layer, {model.num_parameters():,} weights in all. `cr.NeuralNetClassifier`
        trains any network with the estimators' training loop; `input_shape=(1, 8, 8)`
        reshapes the 64 pixels of each row into an image. He initialization
        ([tutorial 6](06_initialization.md); a convolution's fan-in is its input channels
        times its kernel size, 9 and 144 here), Adam, η = 5·10⁻³ with a cosine schedule,
        {epochs} epochs, 75% of the images for training:
        """
    )
    page.code("cnn")
    # excerpt: fit-digits
    cnn = cr.NeuralNetClassifier(
        digits_cnn,
        input_shape=(1, 8, 8),
        epochs=epochs,
        learning_rate=5e-3,
        lr_schedule="cosine",
        l2=0.0,
        tol=None,
        random_state=0,
    ).fit(X_tr, y_tr)
    mlp = cr.MLPClassifier(hidden_layer_sizes=(64,), epochs=epochs, tol=None, random_state=0)
    mlp.fit(X_tr, y_tr)
    # end excerpt
    page.code("fit-digits")
    acc = {"CNN": cnn.score(X_te, y_te), "MLP 64-64-10": mlp.score(X_te, y_te)}
    params = {"CNN": cnn.model_.num_parameters(), "MLP 64-64-10": mlp.model_.num_parameters()}
    results["digits_accuracy"] = acc
    page.table(
        ["network", "weights", "test accuracy"],
        [[name, f"{params[name]:,}", f"{acc[name]:.4f}"] for name in acc],
    )

    conv1 = cnn.model_[1][0]
    filters = conv1.weight.data[:, 0]
    fig, axes = plt.subplots(2, 8, figsize=(8, 2.4))
    for i, ax in enumerate(axes.ravel()):
        ax.imshow(
            filters[i], cmap="RdBu_r", vmin=-np.abs(filters).max(), vmax=np.abs(filters).max()
        )
        ax.set_axis_off()
    fig.suptitle("The 16 learned 3×3 filters of the first layer (red > 0, blue < 0)")
    page.figure(fig, "filters", "Learned first-layer filters.")
    sample = X_te[:1].reshape(1, 1, 8, 8)
    with cr.no_grad():
        maps = cnn.model_[1][:2](cr.Tensor(sample)).data[0]  # conv 1 + ReLU
    fig, axes = plt.subplots(2, 9, figsize=(9, 2.4))
    axes[0, 0].imshow(sample[0, 0], cmap="gray_r")
    axes[0, 0].set_title(f"input ({y_te[0]})", fontsize=8)
    axes[1, 0].set_axis_off()
    for i in range(16):
        ax = axes[i % 2, 1 + i // 2]
        ax.imshow(maps[i], cmap="magma")
        ax.set_title(f"map {i}", fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.suptitle("Feature maps: each filter slid over one test digit, after ReLU")
    page.figure(fig, "feature_maps", "The first layer's feature maps for one test digit.")
    page.text(
        f"""
        Several filters are oriented contrasts (positive on one side, negative on the
        other): edge detectors for strokes of some direction. Each feature map lights up
        where its filter's pattern occurs in the digit, wherever that is. The second layer
        combines them, and the global average asks only *whether* a combination occurs, not
        where. On these small, centred digits that buys little over a dense network of the
        same size ({acc["CNN"]:.4f} against {acc["MLP 64-64-10"]:.4f}): the digits hardly move,
        so there is little shift to be invariant to. The next task is built so that there is.
        """
    )

    # ------------------------------------------------------------------ signals
    page.heading("When position varies: CNN against MLP of equal size")
    n_train = 500
    Xs, ys = shifted_patterns(n_train + 1000, random_state=0)
    Xs_flat = Xs.reshape(len(Xs), -1)
    clean, y_clean = shifted_patterns(200, noise=0.0, random_state=1)  # the shapes alone
    fig, axes = plt.subplots(1, 4, figsize=(10, 2.6), sharey=True)
    for c, ax in enumerate(axes):
        ax.plot(Xs[ys == c][0, 0], color="0.6", lw=1, label="a training signal")
        for i, row in enumerate(clean[y_clean == c][:3, 0]):
            ax.plot(row, lw=1.8, label="without noise" if i == 0 else None)
        ax.set_title(PATTERN_NAMES[c])
    axes[0].legend(loc="lower left", fontsize=7)
    fig.suptitle("shifted_patterns: each shape at three positions and sizes, and with noise")
    fig.tight_layout()
    page.figure(fig, "signals", "The 1-d task: a shape anywhere along a noisy signal.")
    sig_epochs = 10 if fast else 150
    page.text(
        f"""
        A task built for the point (`chainrule.datasets.shifted_patterns`): each signal of 40
        values holds one of four shapes (a bump, a dip, an up-down wave, two bumps), scaled by
        a random amplitude, at a random position, in noise. {n_train} signals train, 1000
        test. The CNN is three `Conv1d(k=5, stride 2, 25 channels)` + ReLU layers and a dense
        output layer; the MLPs have about as many weights. All train for {sig_epochs} epochs
        with Adam (η = 5·10⁻³ for the CNN, the estimators' default 2·10⁻³ for the MLPs).
        """
    )
    # excerpt: fit-signals
    contenders = {
        "CNN": cr.NeuralNetClassifier(signal_cnn, input_shape=(1, 40), learning_rate=5e-3),
        "MLP 40-147-4": cr.MLPClassifier(hidden_layer_sizes=(147,)),
        "MLP 40-62-62-4": cr.MLPClassifier(hidden_layer_sizes=(62, 62)),
    }
    scores = {}
    for name, est in contenders.items():
        est.set_params(epochs=sig_epochs, batch_size=100, tol=None, random_state=0)
        est.fit(Xs_flat[:n_train], ys[:n_train])
        scores[name] = est.score(Xs_flat[n_train:], ys[n_train:])
    # end excerpt
    page.code("fit-signals")
    weights = {name: est.model_.num_parameters() for name, est in contenders.items()}
    page.table(
        ["network", "weights", "test accuracy"],
        [[name, f"{weights[name]:,}", f"{scores[name]:.3f}"] for name in scores],
    )
    best_mlp = max(v for k, v in scores.items() if k != "CNN")
    results["signals_accuracy"] = scores
    results["signals_weights"] = weights
    page.text(
        f"""
        The CNN reaches {scores["CNN"]:.3f}, the best MLP with the same number of weights
        {best_mlp:.3f}. The MLP has to learn every shape at every one of the 30 positions,
        from the examples that happen to show it there; the CNN learns each shape once,
        because the same filters slide over every position.

        **Which layer when.** Dense layers for tabular data, where the columns have no order
        and no neighbours. Convolutions where they do: signals, images, spectra, sequences,
        anything where a pattern means the same wherever it appears. Pooling (or strides)
        to grow the receptive field and to forget exact positions. Batch norm works over
        channels too (`BatchNorm1d`, `BatchNorm2d`); dropout works unchanged.
        """
    )
    page.write()
    return results


if __name__ == "__main__":
    run_cli(main)
