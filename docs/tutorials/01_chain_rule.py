"""Tutorial 1: the chain rule and the sum rule on computational graphs.

Builds the lecture's examples 1-3 and its "simple example" f = 1/(w0 x0 + w1) with cr.Tensor,
draws each graph and compares autograd's gradients with the numbers the lecture works out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from _page import Page, run_cli

import chainrule as cr

TITLE = "1. The chain rule and the sum rule"


def main(out_dir: str | Path | None = None, fast: bool = False) -> dict[str, Any]:
    """Build tutorial 1 (the chain rule and the sum rule on computational graphs)."""
    page = Page(__file__, TITLE, out_dir, fast)
    results: dict[str, Any] = {}

    page.text(
        """
        Backpropagation is nothing more than the chain rule applied again and again. To see
        it, the lecture writes every computation as a **computational graph**: each node is a
        value produced by one simple operation, and each edge carries a value from one
        operation into the next. Two rules are all we need:

        - **Chain rule, along a path:** derivatives of consecutive steps *multiply*.
        - **Sum rule, across paths:** when a value reaches the output along several paths,
          the contributions of the paths *add*.

        chainrule records such a graph whenever you compute with a `cr.Tensor` that has
        `requires_grad=True`. Calling `.backward()` on the result walks the graph from the
        output back to the inputs and leaves ∂output/∂t in `t.grad` for every tensor `t`.
        `cr.viz.draw_graph` draws the graph the way the lecture does: each box shows a
        node's name, the operation that made it, its value and its gradient; each edge is
        labelled with its *local* derivative ∂(node)/∂(input).
        """
    )

    # ------------------------------------------------------------------ example 1
    page.heading("Example 1: the chain rule along a path")
    page.text(
        """
        The lecture starts with y = 2a and a = 3x. Along the single path x → a → y the
        local derivatives are ∂a/∂x = 3 and ∂y/∂a = 2, so ∂y/∂x = (2)(3) = 6.
        """
    )
    # excerpt: example1
    x = cr.Tensor(1.0, requires_grad=True, name="x")
    a = 3 * x
    a.name = "a"
    y = 2 * a
    y.name = "y"
    y.backward()  # frees the graph's saved arrays; a small graph still draws
    # end excerpt
    page.code("example1")
    page.output(f"dy/dx = {x.grad.item():g}    (lecture: (2)(3) = 6)")
    page.graph(
        cr.viz.draw_graph(y), "example1", "Example 1: y = 2a, a = 3x. Dashed boxes are constants."
    )
    results["example1"] = {"dy/dx": float(x.grad)}
    page.text(
        """
        Read the graph from right to left. The output's gradient is ∂y/∂y = 1. Each node's
        gradient is the gradient of the node it feeds times the label of the edge between
        them: ∂y/∂a = 1 · 2 = 2, then ∂y/∂x = 2 · 3 = 6. That right-to-left sweep *is*
        backpropagation.
        """
    )

    # ------------------------------------------------------------------ example 2
    page.heading("Example 2: the sum rule across paths")
    page.text(
        """
        Now x reaches y along two paths: a₁ = 3x, a₂ = −x and y = 2a₁ + a₂. The chain rule
        gives each path's product and the sum rule adds them:
        ∂y/∂x = (∂y/∂a₁)(∂a₁/∂x) + (∂y/∂a₂)(∂a₂/∂x) = (2)(3) + (1)(−1) = 5.
        """
    )
    # excerpt: example2
    x = cr.Tensor(1.0, requires_grad=True, name="x")
    a1 = 3 * x
    a2 = -x
    a1.name, a2.name = "a1", "a2"
    y = 2 * a1 + a2
    y.name = "y"
    y.backward()
    # end excerpt
    page.code("example2")
    page.output(f"dy/dx = {x.grad.item():g}    (lecture: (2)(3) + (1)(-1) = 5)")
    page.graph(cr.viz.draw_graph(y), "example2", "Example 2: two paths from x to y.")
    results["example2"] = {"dy/dx": float(x.grad)}
    page.text(
        """
        In the drawing, x has two outgoing edges. Its gradient is the sum over those edges of
        (gradient at the far end) × (edge label). Autograd does the same: every time a
        gradient flows into a tensor it is *added* to what is already in `.grad`.
        """
    )

    # ------------------------------------------------------------------ example 3
    page.heading("Example 3: one input, N units, summed back")
    page.text(
        """
        Example 3 is a tiny network with no nonlinearity: one input x, N hidden units
        aᵢ = wᵢ⁽¹⁾ x and one output y = Σⱼ wⱼ⁽²⁾ aⱼ. There are N paths from x to y, so

        - ∂y/∂x = Σⱼ (∂y/∂aⱼ)(∂aⱼ/∂x) = Σⱼ wⱼ⁽²⁾ wⱼ⁽¹⁾ (sum rule over the N paths),
        - ∂y/∂wᵢ⁽²⁾ = aᵢ (the weight multiplies aᵢ directly),
        - ∂y/∂wᵢ⁽¹⁾ = (∂y/∂aᵢ)(∂aᵢ/∂wᵢ⁽¹⁾) = wᵢ⁽²⁾ x (chain rule along one path).

        The lecture keeps the weights symbolic; we pick N = 3 and some numbers so that the
        formulas can be checked. Each unit is its own scalar tensor, so the drawing shows all
        three paths.
        """
    )
    # excerpt: example3
    x_val, w1_vals, w2_vals = 2.0, [0.5, -1.0, 2.0], [1.5, 2.0, -0.5]
    x = cr.Tensor(x_val, requires_grad=True, name="x")
    w1 = [cr.Tensor(v, requires_grad=True, name=f"w1_{i + 1}") for i, v in enumerate(w1_vals)]
    w2 = [cr.Tensor(v, requires_grad=True, name=f"w2_{i + 1}") for i, v in enumerate(w2_vals)]
    units = []
    for i in range(3):
        a_i = w1[i] * x  # a_i = w_i^(1) x
        a_i.name = f"a{i + 1}"
        units.append(a_i)
    products = [w2[i] * units[i] for i in range(3)]  # w_i^(2) a_i
    for i, p in enumerate(products):
        p.name = f"p{i + 1}"
    y = products[0] + products[1] + products[2]
    y.name = "y"
    y.backward()
    # end excerpt
    page.code("example3")
    page.graph(cr.viz.draw_graph(y), "example3", "Example 3 with N = 3: three paths from x to y.")
    rows = [
        [
            "∂y/∂x",
            float(x.grad),
            "Σ w2_j w1_j",
            sum(u * v for u, v in zip(w1_vals, w2_vals, strict=True)),
        ]
    ]
    for i in range(3):
        rows.append([f"∂y/∂w2_{i + 1}", float(w2[i].grad), f"a_{i + 1}", w1_vals[i] * x_val])
        rows.append([f"∂y/∂w1_{i + 1}", float(w1[i].grad), f"w2_{i + 1} x", w2_vals[i] * x_val])
    page.table(["gradient", "autograd", "lecture's formula", "formula's value"], rows, fmt=".6g")
    results["example3"] = {r[0]: (r[1], r[3]) for r in rows}

    # ------------------------------------------------------------------ simple example
    page.heading("The simple example: f(x, w) = 1 / (w₀x₀ + w₁)")
    page.text(
        """
        The lecture then works through a function with three kinds of node, at x₀ = 3,
        w₀ = −2, w₁ = 4. Forward: y₁ = w₀x₀ = −6, y₂ = y₁ + w₁ = −2, f = 1/y₂ = −0.5.
        Backward, one local derivative at a time:

        - ∂f/∂y₂ = −1/y₂² = −1/4 = −0.25 (the reciprocal node),
        - ∂f/∂y₁ = (∂f/∂y₂)(∂y₂/∂y₁) = (−0.25)(1) = −0.25 and ∂f/∂w₁ = (−0.25)(1) = −0.25
          (an addition passes the gradient through unchanged),
        - ∂f/∂w₀ = (∂f/∂y₁)(∂y₁/∂w₀) = (−0.25)(x₀) = −0.75 and
          ∂f/∂x₀ = (−0.25)(w₀) = 0.5 (a product sends each input the *other* input).

        With chainrule this is four lines:
        """
    )
    # excerpt: simple
    x0 = cr.Tensor(3.0, requires_grad=True, name="x0")
    w0 = cr.Tensor(-2.0, requires_grad=True, name="w0")
    w1_ = cr.Tensor(4.0, requires_grad=True, name="w1")
    y1 = w0 * x0
    y2 = y1 + w1_
    f = 1 / y2
    y1.name, y2.name, f.name = "y1", "y2", "f"
    f.backward()
    # end excerpt
    page.code("simple")
    page.graph(cr.viz.draw_graph(f), "simple", "The simple example f = 1/(w0 x0 + w1).")
    lecture = {"y1": -0.25, "y2": -0.25, "w0": -0.75, "x0": 0.5, "w1": -0.25}
    tensors = {"y1": y1, "y2": y2, "w0": w0, "x0": x0, "w1": w1_}
    page.table(
        ["gradient", "autograd", "lecture"],
        [[f"∂f/∂{k}", float(tensors[k].grad), v] for k, v in lecture.items()],
        fmt=".6g",
    )
    results["simple"] = {
        "values": {"y1": float(y1.data), "y2": float(y2.data), "f": float(f.data)},
        "grads": {k: float(t.grad) for k, t in tensors.items()},
        "lecture": lecture,
    }

    # ------------------------------------------------------------------ backprop by hand
    page.heading("The same backward pass, by hand")
    page.text(
        """
        To make sure nothing magic happens inside `backward()`, here is the backward pass of
        the simple example written out as the lecture does it, one local derivative per line.
        Every node's gradient needs only the gradient of the node after it and a local
        derivative that uses values saved in the forward pass.
        """
    )
    # excerpt: by_hand
    x0_, w0_, w1v = 3.0, -2.0, 4.0
    y1_ = w0_ * x0_  # forward: save every intermediate value
    y2_ = y1_ + w1v
    df_df = 1.0  # backward: start from ∂f/∂f = 1
    df_dy2 = df_df * (-1 / y2_**2)  # f = 1/y2
    df_dy1 = df_dy2 * 1.0  # y2 = y1 + w1
    df_dw1 = df_dy2 * 1.0
    df_dw0 = df_dy1 * x0_  # y1 = w0 x0
    df_dx0 = df_dy1 * w0_
    # end excerpt
    page.code("by_hand")
    page.output(
        f"by hand: df/dy2 = {df_dy2:g}, df/dy1 = {df_dy1:g}, df/dw1 = {df_dw1:g}, "
        f"df/dw0 = {df_dw0:g}, df/dx0 = {df_dx0:g}"
    )
    results["by_hand"] = {"w0": df_dw0, "x0": df_dx0, "w1": df_dw1}

    # ------------------------------------------------------------------ gradient check
    page.heading("Checking against finite differences")
    page.text(
        """
        A third, independent check is numerical: nudge one input by ±ε and watch f change,
        ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε. `cr.grad_check` does this for every input
        (in float64) and compares with autograd. Whenever you write a new operation, run it:
        it catches almost every backpropagation bug.
        """
    )
    # excerpt: grad_check
    check = cr.grad_check(lambda x0, w0, w1: 1 / (w0 * x0 + w1), [3.0, -2.0, 4.0])
    print(check.report())
    # end excerpt
    page.code("grad_check")
    page.output(check.report())
    results["grad_check_ok"] = bool(check)
    results["grad_check_numeric"] = [float(np.asarray(g)) for g in check.numeric]

    page.text(
        """
        **Takeaways.** A gradient is a sum over paths of products of local derivatives.
        Backpropagation computes all of them in one backward sweep, reusing each node's
        gradient for every input behind it, so the whole gradient costs about as much as one
        forward pass. Next, [tutorial 2](02_backprop_by_hand.md) writes that sweep for a
        whole network in the lecture's δ notation.
        """
    )
    page.write()
    return results


if __name__ == "__main__":
    run_cli(main)
