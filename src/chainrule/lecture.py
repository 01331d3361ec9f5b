"""The lecture's worked examples, built with `cr.Tensor` (``python -m chainrule`` prints them).

Each builder returns an `Example`: the named tensors of the forward pass and, for every
gradient the lecture works out by hand, its formula and the value that formula gives, computed
with plain Python floats (independent of the engine). `Example.backward()` runs autograd, so
the two can be compared; the tests do exactly that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.autograd import Tensor
from chainrule.viz import draw_graph

__all__ = [
    "Example",
    "all_examples",
    "example_1",
    "example_2",
    "example_3",
    "format_example",
    "main",
    "sigmoid_chain",
    "simple_example",
]


@dataclass
class Example:
    """One worked example: its tensors (inputs first, output last) and the lecture's answers."""

    title: str
    formula: str
    tensors: dict[str, Tensor]
    output: str
    expected: dict[str, tuple[str, Any]]  # tensor name -> (the lecture's formula, its value)

    def backward(self) -> Example:
        """Backpropagate from the output, keeping the graph so that it can still be drawn."""
        for t in self.tensors.values():
            t.grad = None
        self.tensors[self.output].backward(retain_graph=True)
        return self


def _leaf(value: Any, name: str, dtype: npt.DTypeLike) -> Tensor:
    return Tensor(value, requires_grad=True, dtype=dtype, name=name)


def _named(t: Tensor, name: str) -> Tensor:
    t.name = name
    return t


def example_1(x: float = 1.0, dtype: npt.DTypeLike = np.float32) -> Example:
    """y = 2a, a = 3x: along a path the chain rule multiplies, ∂y/∂x = (∂y/∂a)(∂a/∂x) = 6."""
    xt = _leaf(x, "x", dtype)
    a = _named(3 * xt, "a")
    y = _named(2 * a, "y")
    return Example(
        "Example 1: the chain rule along a path",
        "y = 2a, a = 3x",
        {"x": xt, "a": a, "y": y},
        "y",
        {"x": ("(2)(3)", 6.0)},
    )


def example_2(x: float = 1.0, dtype: npt.DTypeLike = np.float32) -> Example:
    """y = 2a₁ + a₂, a₁ = 3x, a₂ = −x: across paths the sum rule adds, ∂y/∂x = 6 − 1 = 5."""
    xt = _leaf(x, "x", dtype)
    a1 = _named(3 * xt, "a1")
    a2 = _named(-xt, "a2")
    y = _named(2 * a1 + a2, "y")
    return Example(
        "Example 2: the sum rule across paths",
        "y = 2 a1 + a2, a1 = 3x, a2 = -x",
        {"x": xt, "a1": a1, "a2": a2, "y": y},
        "y",
        {"x": ("(2)(3) + (1)(-1)", 5.0)},
    )


def example_3(
    x: float = 2.0,
    w1: tuple[float, ...] = (0.5, -1.0, 2.0),
    w2: tuple[float, ...] = (1.5, 2.0, -0.5),
    dtype: npt.DTypeLike = np.float32,
) -> Example:
    """y = Σⱼ wⱼ⁽²⁾ aⱼ, aᵢ = wᵢ⁽¹⁾ x: one input fanning out to N units and summed back."""
    if len(w1) != len(w2):
        raise ValueError(f"w1 and w2 need the same length, got {len(w1)} and {len(w2)}")
    xt, w1t, w2t = _leaf(x, "x", dtype), _leaf(w1, "w1", dtype), _leaf(w2, "w2", dtype)
    a = _named(w1t * xt, "a")
    y = _named((w2t * a).sum(), "y")
    return Example(
        "Example 3: one input, N paths",
        "y = sum_j w2_j a_j, a_i = w1_i x",
        {"x": xt, "w1": w1t, "w2": w2t, "a": a, "y": y},
        "y",
        {
            "x": ("sum_j w2_j w1_j", sum(v * u for v, u in zip(w2, w1, strict=True))),
            "w2": ("a_i = w1_i x", [u * x for u in w1]),
            "w1": ("w2_i x", [v * x for v in w2]),
        },
    )


def simple_example(
    x0: float = 3.0, w0: float = -2.0, w1: float = 4.0, dtype: npt.DTypeLike = np.float32
) -> Example:
    """The lecture's "simple example" f(x, w) = 1 / (w₀x₀ + w₁), node by node."""
    x0t, w0t, w1t = _leaf(x0, "x0", dtype), _leaf(w0, "w0", dtype), _leaf(w1, "w1", dtype)
    y1 = _named(w0t * x0t, "y1")
    y2 = _named(y1 + w1t, "y2")
    f = _named(1 / y2, "f")
    df_dy2 = -1 / (w0 * x0 + w1) ** 2  # ∂(1/y2)/∂y2 = −1/y2²
    return Example(
        "The simple example",
        f"f(x, w) = 1 / (w0 x0 + w1) at x0 = {x0:g}, w0 = {w0:g}, w1 = {w1:g}",
        {"x0": x0t, "w0": w0t, "w1": w1t, "y1": y1, "y2": y2, "f": f},
        "f",
        {
            "y2": ("(1)(-1/y2^2)", df_dy2),
            "y1": ("(df/dy2)(1)", df_dy2),
            "w0": ("(df/dy1)(x0)", df_dy2 * x0),
            "x0": ("(df/dy1)(w0)", df_dy2 * w0),
            "w1": ("(df/dy2)(1)", df_dy2),
        },
    )


def sigmoid_chain(
    z0: float = 1.0,
    w1: float = 0.5,
    w2: float = -1.5,
    y: float = 1.0,
    dtype: npt.DTypeLike = np.float32,
) -> Example:
    """Two sigmoid units in a chain: ŷ = σ(w₂ σ(w₁ z₀)), E = ½(ŷ − y)²."""
    z0t, w1t, w2t = _leaf(z0, "z0", dtype), _leaf(w1, "w1", dtype), _leaf(w2, "w2", dtype)
    a1 = _named(w1t * z0t, "a1")
    z1 = _named(a1.sigmoid(), "z1")
    a2 = _named(w2t * z1, "a2")
    y_hat = _named(a2.sigmoid(), "y_hat")
    E = _named(0.5 * (y_hat - y) ** 2, "E")

    def sigma(a: float) -> float:
        return 1 / (1 + math.exp(-a))

    s1, s2 = sigma(w1 * z0), sigma(w2 * sigma(w1 * z0))
    delta2 = (s2 - y) * s2 * (1 - s2)  # δ₂ = ∂E/∂a₂ = (ŷ − y) σ′(a₂), σ′ = σ(1 − σ)
    delta1 = delta2 * w2 * s1 * (1 - s1)  # δ₁ = δ₂ w₂ σ′(a₁)
    return Example(
        "The two-layer sigmoid chain",
        f"y_hat = sigma(w2 sigma(w1 z0)), E = 1/2 (y_hat - y)^2 at z0 = {z0:g}, w1 = {w1:g}, "
        f"w2 = {w2:g}, y = {y:g}",
        {"z0": z0t, "w1": w1t, "w2": w2t, "a1": a1, "z1": z1, "a2": a2, "y_hat": y_hat, "E": E},
        "E",
        {
            "a2": ("delta2 = (y_hat - y) sigma'(a2)", delta2),
            "w2": ("delta2 z1", delta2 * s1),
            "a1": ("delta1 = delta2 w2 sigma'(a1)", delta1),
            "w1": ("(y_hat - y) sigma'(a2) w2 sigma'(a1) z0", delta1 * z0),
        },
    )


def all_examples() -> list[Example]:
    """Every worked example at the lecture's numbers, in the lecture's order."""
    return [example_1(), example_2(), example_3(), simple_example(), sigmoid_chain()]


def _num(x: Any) -> str:
    x = np.asarray(x, dtype=np.float64)
    if x.size == 1:
        return f"{x.item():.6g}"
    return "[" + ", ".join(f"{v:.6g}" for v in x.ravel().tolist()) + "]"


def format_example(ex: Example) -> str:
    """The example as text: its values, autograd's gradients and the lecture's formulas."""
    out = ex.tensors[ex.output]
    if out.requires_grad and out.grad is None:
        ex.backward()
    lines = [ex.title, f"  {ex.formula}"]
    lines.append("  values: ")
    for name, t in ex.tensors.items():  # "name = value" items, wrapped between items only
        item = f"{name} = {_num(t.data)}"
        if len(lines[-1]) + len(item) > 96:
            lines[-1] = lines[-1].rstrip()
            lines.append(" " * 10)
        lines[-1] += item + ", "
    lines[-1] = lines[-1].rstrip(", ")
    for name, t in ex.tensors.items():
        if name == ex.output:
            continue
        line = f"  d{ex.output}/d{name} = {_num(t.grad)}"
        if name in ex.expected:
            formula, value = ex.expected[name]
            line = f"{line:<36} lecture: {formula} = {_num(value)}"
        lines.append(line)
    return "\n".join(lines)


def main(out_dir: str | Path = "out") -> int:
    """Print every worked example; write the simple example's graph to `out_dir`."""
    examples = all_examples()
    for ex in examples:
        print(format_example(ex.backward()), end="\n\n")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    graph = draw_graph(examples[3].tensors["f"])
    written = [graph.render(out / f"simple_example.{fmt}") for fmt in ("dot", "svg")]
    try:
        written.append(graph.render(out / "simple_example.png"))
    except ImportError:  # PNG needs matplotlib (the [plot] extra); the SVG needs nothing
        print('(matplotlib is not installed: no PNG; pip install "chainrule[plot]")')
    print("The simple example's graph: " + ", ".join(str(p) for p in written))
    return 0
