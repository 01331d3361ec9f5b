"""`grad_check`: compare autograd's gradients with central finite differences.

For every element xᵢ of every input, the numerical derivative is the central difference

    ∂f/∂xᵢ ≈ (f(x + ε eᵢ) − f(x − ε eᵢ)) / (2ε),

whose error is O(ε²), computed in float64 so that rounding (about 1e-16 / ε) stays small.
An entry agrees when |analytic − numeric| ≤ atol + rtol · |numeric| (the rule of `np.isclose`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.autograd.grad_mode import enable_grad, no_grad
from chainrule.autograd.tensor import Array, Tensor

__all__ = ["GradCheckResult", "assert_grad_close", "grad_check", "numerical_grad"]


@dataclass(frozen=True, repr=False)
class GradCheckResult:
    """The outcome of `grad_check`: truthy when every entry agrees.

    Attributes
    ----------
    ok : bool
        Whether every analytic entry is within ``atol + rtol · |numeric|`` of the numeric one.
    analytic, numeric : list of ndarray
        One float64 gradient per input, from autograd and from central differences.
    worst : tuple or None
        ``(input index, element index, analytic, numeric)`` of the entry with the largest
        error relative to its tolerance (None when the inputs have no elements).
    """

    ok: bool
    analytic: list[Array]
    numeric: list[Array]
    worst: tuple[int, tuple[int, ...], float, float] | None
    n_mismatched: int
    rtol: float
    atol: float

    def __bool__(self) -> bool:
        return self.ok

    def report(self) -> str:
        """A one-paragraph account: agreement, how many entries differ, and the worst one."""
        total = sum(g.size for g in self.analytic)
        verdict = "gradients agree" if self.ok else "gradients DIFFER"
        text = f"grad_check: {verdict} ({self.n_mismatched} of {total} entries mismatched"
        text += f", rtol={self.rtol:g}, atol={self.atol:g})"
        if self.worst is not None:
            i, idx, a, n = self.worst
            text += (
                f"; worst: input {i}, index {idx}: analytic {a:.10g}, numeric {n:.10g}, "
                f"difference {abs(a - n):.3g}"
            )
        return text

    def __repr__(self) -> str:
        return (
            f"GradCheckResult(ok={self.ok}, worst={self.worst}, n_mismatched={self.n_mismatched})"
        )

    __str__ = report


def _as_float64_inputs(inputs: Any) -> list[Tensor]:
    if isinstance(inputs, Tensor | np.ndarray):
        inputs = [inputs]
    if not isinstance(inputs, Sequence) or len(inputs) == 0:
        raise ValueError("grad_check needs a non-empty sequence of input tensors or arrays")
    xs = []
    for k, x in enumerate(inputs):
        try:  # np.array copies, so the caller's data is never perturbed; row-major, so
            # that numerical_grad's flat view is a view (Dense weights are column-major)
            data = np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64, order="C")
        except (TypeError, ValueError) as err:
            raise ValueError(f"grad_check: input {k} is not numeric ({err})") from None
        xs.append(Tensor(data, requires_grad=True))
    return xs


def _evaluate(fn: Callable[..., Any], xs: list[Tensor]) -> Tensor:
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise ValueError(f"grad_check: fn must return a Tensor, got {type(out).__name__}")
    if out.data.size != 1:
        raise ValueError(
            f"grad_check: fn must return a one-element (scalar) Tensor, got shape {out.shape}; "
            "reduce it first, e.g. with .sum()"
        )
    if out.data.dtype != np.float64:
        raise ValueError(
            f"grad_check: fn returned {out.data.dtype}, but the check needs float64 throughout; "
            "does fn cast its inputs to a lower precision?"
        )
    return out


def numerical_grad(fn: Callable[..., Tensor], xs: list[Tensor], eps: float = 1e-6) -> list[Array]:
    """Central-difference gradient of the scalar ``fn(*xs)`` with respect to each input.

    The inputs' ``.data`` is perturbed in place, one element at a time, and restored.
    """
    grads = []
    with no_grad():
        for x in xs:
            flat = x.data.reshape(-1)  # a view: x.data is a contiguous copy
            g = np.empty_like(flat)
            for j in range(flat.size):
                v = flat[j]
                flat[j] = v + eps
                f_plus = _evaluate(fn, xs).item()
                flat[j] = v - eps
                f_minus = _evaluate(fn, xs).item()
                flat[j] = v
                g[j] = (f_plus - f_minus) / (2 * eps)
            grads.append(g.reshape(x.data.shape))
    return grads


def grad_check(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor | Array] | Tensor | Array,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-6,
) -> GradCheckResult:
    """Check autograd's gradient of ``fn(*inputs)`` against central finite differences.

    Parameters
    ----------
    fn : callable
        Takes one Tensor per input and returns a one-element Tensor f.
    inputs : sequence of Tensor or array_like (or a single one)
        The point x at which ∂f/∂x is checked. Each is copied to float64 and differentiated;
        the originals are not modified. Close over constants inside `fn`.
    eps : float
        The step ε of the central difference (f(x + ε) − f(x − ε)) / 2ε.
    rtol, atol : float
        An entry agrees when |analytic − numeric| ≤ atol + rtol · |numeric|.

    Returns
    -------
    GradCheckResult
        Truthy when all entries agree; ``report()`` names the worst entry (input index,
        element index, analytic and numeric value).

    Examples
    --------
    >>> import chainrule as cr
    >>> bool(cr.grad_check(lambda w, x: (w * x).sigmoid().sum(), [[1.0, -2.0], [0.5, 3.0]]))
    True
    """
    if not eps > 0:
        raise ValueError(f"grad_check: eps must be positive, got {eps}")
    if not (rtol >= 0 and atol >= 0):
        raise ValueError(f"grad_check: rtol and atol must be non-negative, got {rtol}, {atol}")
    xs = _as_float64_inputs(inputs)

    with enable_grad():  # the check works inside a caller's no_grad block too
        out = _evaluate(fn, xs)
        if out.requires_grad:
            out.backward()
    analytic = [x.grad if x.grad is not None else np.zeros_like(x.data) for x in xs]
    numeric = numerical_grad(fn, xs, eps)

    worst, worst_score, n_bad = None, -1.0, 0
    for i, (a, n) in enumerate(zip(analytic, numeric, strict=True)):
        if a.size == 0:
            continue
        with np.errstate(invalid="ignore"):
            score = np.abs(a - n) / (atol + rtol * np.abs(n))  # > 1 means the entry differs
        score = np.where(np.isfinite(a) & np.isfinite(n), score, np.inf)
        score = np.nan_to_num(score, nan=np.inf)  # 0/0 when atol = rtol = 0 and a = n
        n_bad += int(np.count_nonzero(~np.isclose(a, n, rtol=rtol, atol=atol)))
        j = int(np.argmax(score))
        if score.flat[j] > worst_score:
            idx = tuple(int(k) for k in np.unravel_index(j, a.shape))
            worst, worst_score = (i, idx, float(a.flat[j]), float(n.flat[j])), score.flat[j]
    return GradCheckResult(n_bad == 0, analytic, numeric, worst, n_bad, rtol, atol)


def assert_grad_close(fn: Callable[..., Tensor], inputs: Any, **tolerances: float) -> None:
    """`grad_check` for tests: raise AssertionError with the report when gradients differ."""
    result = grad_check(fn, inputs, **tolerances)
    if not result:
        raise AssertionError(result.report())
