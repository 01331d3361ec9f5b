"""The compiled kernels themselves (numba); imported only by `chainrule.fast.kernels`.

Each loop is one pass over its arrays and does, element by element, the arithmetic of the
NumPy code it replaces, in the same order and in the arrays' own precision (the scalars are
passed in the arrays' dtype), so the results agree to rounding. The optimizers' hyperparameters
come as one small array `h`: a dozen scalar arguments cost more to pass (numba types each one
per call) than a small network's whole update. ``cache=True`` keeps the
machine code between processes: only the first run after an install compiles (a few seconds).
One thread: the loops are memory-bound, and on small parameter buffers (W1: 235,000 numbers)
the cost of waking a second thread exceeds what it saves (measured, see docs/benchmarks.md).
"""

from __future__ import annotations

import math

import numba

# Activation codes (`ACTIVATIONS` in kernels.py): 0 identity, 1 ReLU, 2 tanh, 3 sigmoid.

jit = numba.njit(cache=True, nogil=True, error_model="numpy")


# The optimizers' kernels take the divergence guard's copy (`chainrule.fast.backup`): with
# `save`, each also writes the weights before the step into `keep` and returns whether every
# new weight is finite, in the same pass (x − x is 0 for a finite x and NaN for ±inf or NaN).
# The check is written as an "any of" select, which compiles to SIMD code, where an integer
# count would not (numba widens it to 64 bits, which halves the vector width). Without `save`
# `keep` is not touched (an empty array) and the result is True: `save` is the same for every
# element, so the compiler makes two loops, and the one without it is the plain update.


@jit
def adam(w, g, m, v, h, keep, save):
    """Adam/AdamW in one pass: `chainrule.fast.updates.adam_update_`, with the hyperparameters
    h = (β₁, β₂, 1 − β₁, 1 − β₂, step size, ε, λ, decay) in w's dtype.

    No branch depends on the data, so the loop compiles to SIMD code (the steps that flush
    subnormal numbers, and AMSGrad, run on NumPy)."""
    b1, b2, c1, c2, step_size, eps_c, wd, decay = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    bad = False
    for i in range(w.size):
        wi = w[i]
        if save:
            keep[i] = wi
        gi = g[i]
        if wd != 0:
            gi = wi * wd + gi  # g + λw (Adam's coupled L2 penalty)
        wi = wi * decay  # AdamW: w(1 − ηλ)
        mi = m[i] * b1 + gi * c1
        vi = v[i] * b2 + (gi * gi) * c2
        m[i] = mi
        v[i] = vi
        wi = wi - (mi / (math.sqrt(vi) + eps_c)) * step_size
        w[i] = wi
        bad = True if save and wi - wi != 0 else bad
    return not bad


@jit
def rmsprop(w, g, s, buf, h, keep, save):
    """RMSprop in one pass: `chainrule.fast.updates.rmsprop_update_`, h = (α, 1 − α, η, ε, λ, μ)
    in w's dtype (the centered variant runs on NumPy)."""
    alpha, c, lr, eps, wd, mu = h[0], h[1], h[2], h[3], h[4], h[5]
    bad = False
    for i in range(w.size):
        wi = w[i]
        if save:
            keep[i] = wi
        gi = g[i]
        if wd != 0:
            gi = wi * wd + gi
        si = s[i] * alpha + (gi * gi) * c
        s[i] = si
        r = gi / (math.sqrt(si) + eps)
        if mu > 0:
            r = buf[i] * mu + r
            buf[i] = r
        wi = wi - r * lr
        w[i] = wi
        bad = True if save and wi - wi != 0 else bad
    return not bad


@jit
def sgd(w, g, buf, h, nesterov, keep, save):
    """SGD with momentum, one pass: see `chainrule.fast.updates.sgd_update_`, h = (η, λ, μ,
    1 − τ) in w's dtype."""
    lr, wd, mu, keep_g = h[0], h[1], h[2], h[3]
    bad = False
    for i in range(w.size):
        wi = w[i]
        if save:
            keep[i] = wi
        gi = g[i]
        if wd != 0:
            gi = wi * wd + gi
        if mu != 0:
            vi = buf[i] * mu + gi * keep_g
            buf[i] = vi
            gi = vi * mu + gi if nesterov else vi
        wi = wi - gi * lr
        w[i] = wi
        bad = True if save and wi - wi != 0 else bad
    return not bad


@jit
def bias_relu(a, b, relu, with_bias):
    """a ← a + b, then max(·, 0) if `relu`, row by row, in place (a: (n, k) row-major)."""
    n, k = a.shape
    for r in range(n):
        for j in range(k):
            x = a[r, j] + b[j] if with_bias else a[r, j]
            if relu:
                x = x if x > 0 or x != x else 0.0  # max(x, 0), NaN kept as np.maximum does
            a[r, j] = x


@numba.njit(inline="always")
def _times_derivative(d, zj, act):
    """d · σ′(a), σ′ written through z = σ(a) (`ops.derivative_from_output`)."""
    if act == 1:
        return d if zj > 0 else d * 0
    if act == 2:
        return d * (1 - zj * zj)
    if act == 3:
        return d * (zj * (1 - zj))
    return d


@jit
def delta_and_bias_grad(g, z, out, db, act, with_bias):
    """out ← g ∘ σ′ (σ′ through z = σ(a)), and db ← Σₙ out, in one sweep (all (n, k) row-major).

    `out` must not be `g` (that is `delta_and_bias_grad_in_place`): the vectorised loop checks
    at run time that what it writes does not overlap what it reads, and runs one element at a
    time (three times slower) when it does."""
    n, k = g.shape
    if with_bias:
        for j in range(k):
            db[j] = 0
    for r in range(n):
        for j in range(k):  # unit stride over out, g, z and the accumulator db
            d = _times_derivative(g[r, j], z[r, j], act)
            out[r, j] = d
            if with_bias:
                db[j] += d


@jit
def delta_and_bias_grad_in_place(g, z, db, act, with_bias):
    """`delta_and_bias_grad` with out = g: g ← g ∘ σ′, db ← Σₙ g."""
    n, k = g.shape
    if with_bias:
        for j in range(k):
            db[j] = 0
    for r in range(n):
        for j in range(k):
            d = _times_derivative(g[r, j], z[r, j], act)
            g[r, j] = d
            if with_bias:
                db[j] += d


@jit
def softmax_cross_entropy(a, y, p):
    """p ← softmax(a) − onehot(y) row by row; returns Σₙ −log softmax(a)ₙ,ᵧₙ (float64).

    Returns NaN if a label lies outside [0, C) (the caller checks the labels first)."""
    n, c = a.shape
    total = 0.0
    for r in range(n):
        m = a[r, 0]
        for j in range(1, c):
            if a[r, j] > m or a[r, j] != a[r, j]:
                m = a[r, j]
        s = 0.0
        for j in range(c):
            e = math.exp(a[r, j] - m)
            p[r, j] = e
            s += e
        label = y[r]
        if label < 0 or label >= c:
            return math.nan
        total += math.log(s) - (a[r, label] - m)
        for j in range(c):
            p[r, j] = p[r, j] / s
        p[r, label] -= 1
    return total


@jit
def flush_subnormals(a, tiny):
    """a ← 0 where |a| < tiny (`chainrule.fast.updates.flush_subnormals`), in place; a select,
    so SIMD code (x − x: a 0 of x's type, x finite there)."""
    for i in range(a.size):
        x = a[i]
        a[i] = x - x if abs(x) < tiny else x


@jit
def all_finite(bits, exponent):
    """True if no element of a float array, read as unsigned integers of its width (`bits`),
    is ±inf or NaN (all exponent bits set). Integer arithmetic only, so the loop is SIMD code."""
    bad = 0
    for i in range(bits.size):
        bad += (bits[i] & exponent) == exponent
    return bad == 0
