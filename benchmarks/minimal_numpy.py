"""The floor: a hand-written NumPy MLP with no autograd, no modules and no checks.

It does exactly what a ReLU network trained with softmax cross-entropy and Adam must do and
nothing else, so its time is what any NumPy-based library should aim for:

* forward  a⁽ᵏ⁾ = z⁽ᵏ⁻¹⁾ W⁽ᵏ⁾ + b⁽ᵏ⁾, z⁽ᵏ⁾ = max(a⁽ᵏ⁾, 0), written into preallocated buffers;
* δ⁽ᴷ⁾ = (softmax(a⁽ᴷ⁾) − onehot(y)) / N, then δ⁽ᵏ⁻¹⁾ = δ⁽ᵏ⁾ W⁽ᵏ⁾ᵀ ∘ [z⁽ᵏ⁻¹⁾ > 0];
* ∂E/∂W⁽ᵏ⁾ = z⁽ᵏ⁻¹⁾ᵀ δ⁽ᵏ⁾ and ∂E/∂b⁽ᵏ⁾ = Σₙ δ⁽ᵏ⁾ written straight into one flat gradient
  buffer, and Adam updating one flat parameter buffer (every weight is a view into it);
* minibatches gathered with ``np.take(..., out=)`` into a reused buffer.

Weights are stored (n_in, n_out) here (the transpose of chainrule's layout) so that the forward
product reads both operands row-major; BLAS is as fast either way.
Adam uses scikit-learn's form w ← w − η_t m / (√v + ε) with η_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


class MinimalMLP:
    """A ReLU MLP with softmax output, trained by minibatch Adam; `sizes` = (n_in, ..., n_out)."""

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        seed: int = 0,
        dtype: Any = np.float32,
    ) -> None:
        self.sizes = tuple(int(s) for s in sizes)
        self.dtype = np.dtype(dtype)
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        shapes = [((i, o), (o,)) for i, o in zip(self.sizes[:-1], self.sizes[1:], strict=True)]
        total = sum(i * o + o for (i, o), _ in shapes)
        self.params = np.zeros(total, self.dtype)
        self.grads = np.zeros(total, self.dtype)
        self.W, self.b, self.dW, self.db = [], [], [], []
        rng = np.random.default_rng(seed)
        offset = 0
        for (n_in, n_out), _ in shapes:
            pieces = ((self.W, self.dW, (n_in, n_out)), (self.b, self.db, (n_out,)))
            for store, gstore, shape in pieces:
                size = math.prod(shape)
                store.append(self.params[offset : offset + size].reshape(shape))
                gstore.append(self.grads[offset : offset + size].reshape(shape))
                offset += size
            bound = math.sqrt(6.0 / (n_in + n_out))  # Glorot uniform, as scikit-learn
            self.W[-1][...] = rng.uniform(-bound, bound, (n_in, n_out))
        self.m = np.zeros_like(self.params)
        self.v = np.zeros_like(self.params)
        self.scratch = np.empty_like(self.params)
        self.t = 0
        self._acts: dict[int, list[np.ndarray]] = {}

    def _activations(self, n: int) -> list[np.ndarray]:
        """Per-batch-size buffers: one (n, n_k) array per layer output, reused every step."""
        bufs = self._acts.get(n)
        if bufs is None:
            bufs = self._acts[n] = [np.empty((n, k), self.dtype) for k in self.sizes[1:]]
        return bufs

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The logits a⁽ᴷ⁾; hidden outputs z⁽ᵏ⁾ stay in the activation buffers."""
        acts = self._activations(len(x))
        z = x
        last = len(self.W) - 1
        for k, (W, b, a) in enumerate(zip(self.W, self.b, acts, strict=True)):
            np.matmul(z, W, out=a)
            a += b
            if k < last:
                np.maximum(a, 0, out=a)  # z = ReLU(a), in place
            z = a
        return z

    def train_step(self, x: np.ndarray, y: np.ndarray) -> None:
        """One forward pass, backpropagation and Adam step on the batch (x, y)."""
        n = len(x)
        logits = self.forward(x)
        acts = self._acts[n]
        # δ⁽ᴷ⁾ = (softmax(a) − onehot(y)) / n, computed in the logits buffer
        delta = logits
        delta -= delta.max(axis=1, keepdims=True)
        np.exp(delta, out=delta)
        delta /= delta.sum(axis=1, keepdims=True)
        delta[np.arange(n), y] -= 1.0
        delta *= 1.0 / n
        for k in range(len(self.W) - 1, -1, -1):
            z = acts[k - 1] if k else x
            np.matmul(z.T, delta, out=self.dW[k])
            np.sum(delta, axis=0, out=self.db[k])
            if k:
                # δ⁽ᵏ⁻¹⁾ = δ W ᵀ ∘ [z > 0], written over z (no longer needed)
                mask = z > 0
                np.matmul(delta, self.W[k].T, out=z)
                z *= mask
                delta = z
        self._adam()

    def _adam(self) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        g, m, v, e = self.grads, self.m, self.v, self.scratch
        m *= b1
        np.multiply(g, 1.0 - b1, out=e)
        m += e  # m ← β₁m + (1 − β₁)g
        np.multiply(g, g, out=e)
        e *= 1.0 - b2
        v *= b2
        v += e  # v ← β₂v + (1 − β₂)g²
        lr_t = self.lr * math.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        np.sqrt(v, out=e)
        e += self.eps
        np.divide(m, e, out=e)
        e *= lr_t
        self.params -= e

    def fit_epoch(self, X: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator):
        """One shuffled pass over (X, y) in minibatches (the last one partial)."""
        n = len(X)
        order = rng.permutation(n)
        xbuf = np.empty((batch_size, X.shape[1]), X.dtype)
        ybuf = np.empty(batch_size, y.dtype)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            k = len(idx)
            xb = np.take(X, idx, axis=0, out=xbuf[:k])
            yb = np.take(y, idx, out=ybuf[:k])
            self.train_step(xb, yb)

    def predict(self, X: np.ndarray, chunk: int = 2048) -> np.ndarray:
        """Class indices (argmax of the logits), computed `chunk` rows at a time."""
        out = np.empty(len(X), np.intp)
        for start in range(0, len(X), chunk):
            out[start : start + chunk] = self.forward(X[start : start + chunk]).argmax(axis=1)
        return out
