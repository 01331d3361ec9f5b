"""The lecture's quantities for the page: δ per neuron, one weight's chain rule, one neuron's graph.

`point_details` runs one input point through the network and backpropagates its own error
Eₙ, giving every neuron's a, z and δ = ∂Eₙ/∂a (shown when hovering a neuron).
`explain_step` takes one optimizer step and spells out, for the chosen weight wᵢⱼ⁽ᵏ⁾, the chain
rule ∂E/∂wᵢⱼ = Σₙ δᵢ⁽ᵏ⁾ zⱼ⁽ᵏ⁻¹⁾ and the backward recursion δᵢ⁽ᵏ⁾ = σ′(aᵢ⁽ᵏ⁾) Σₘ wₘᵢ⁽ᵏ⁺¹⁾ δₘ⁽ᵏ⁺¹⁾
with the numbers of the batch's first sample. `neuron_graph` builds one neuron's computation
aᵢ = Σⱼ wᵢⱼ zⱼ + bᵢ, zᵢ = σ(aᵢ) from named tensors and draws it with `chainrule.viz`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import viz
from chainrule.autograd import Tensor
from chainrule.playground.config import PlaygroundError
from chainrule.playground.datasets import features
from chainrule.playground.network import Trace, trace
from chainrule.playground.session import Session

__all__ = ["derivative", "explain_step", "neuron_graph", "point_details"]


def derivative(activation: str, a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """σ′(a) of the page's activations, from a and z = σ(a)."""
    if activation == "tanh":
        return 1 - z * z
    if activation == "sigmoid":
        return z * (1 - z)
    if activation == "relu":
        return (a > 0).astype(a.dtype)
    return np.ones_like(a)


def _point_trace(session: Session, point: Any, label: float) -> tuple[Trace, float]:
    p = np.asarray(point, dtype=np.float64).reshape(1, 2)
    session.model.eval()
    t = trace(session.model, features(p, session.config.features), probe=True)
    loss, _ = session.objective(t.output, np.array([label]))
    loss.backward()
    return t, float(loss.item())


def point_details(session: Session, point: Any, label: float) -> dict[str, Any]:
    """a, z and δ of every neuron, and the error Eₙ, for one point (x₁, x₂) with `label`."""
    t, loss = _point_trace(session, point, label)
    return {
        "point": [float(v) for v in np.asarray(point).ravel()],
        "label": float(label),
        "loss": loss,
        "a": [a.data[0].tolist() for a in t.pre],
        "z": [z.data[0].tolist() for z in t.post],
        "delta": [p.grad[0].tolist() for p in t.pre_probes],
    }


def _check_weight(session: Session, layer: int, i: int, j: int) -> None:
    layers = session.layers
    if not 0 <= layer < len(layers):
        raise PlaygroundError(f"layer must be from 0 to {len(layers) - 1}, got {layer}")
    out_n, in_n = session.model[layers[layer].dense].weight.shape
    if not (0 <= i < out_n and 0 <= j < in_n):
        raise PlaygroundError(f"layer {layer} has no weight w[{i}][{j}] (W is {out_n} × {in_n})")


def explain_step(session: Session, layer: int, i: int, j: int) -> dict[str, Any]:
    """One optimizer step, with the chain rule of the weight wᵢⱼ of `layer` (0 = first)."""
    _check_weight(session, layer, i, j)
    c = session.config
    seen: dict[str, Any] = {}

    def observe(t: Trace, batch: np.ndarray) -> None:
        inputs = t.post[layer - 1].data if layer > 0 else session.x_train[batch]
        delta = t.pre_probes[layer].grad[:, i]
        z = inputs[:, j]
        weight = session.model[session.layers[layer].dense].weight
        seen.update(
            batch_size=len(batch),
            delta=delta[:3].tolist(),
            z=z[:3].tolist(),
            sum_delta_z=float(np.dot(delta, z)),
            grad=float(weight.grad[i, j]),
            w_before=float(weight.data[i, j]),
        )
        if layer + 1 < len(session.layers):  # the backward recursion for sample 0
            nxt = session.model[session.layers[layer + 1].dense].weight.data[:, i]
            d_next = t.pre_probes[layer + 1].grad[0]
            a0, z0 = t.pre[layer].data[0, i], t.post[layer].data[0, i]
            seen["recursion"] = {
                "sigma_prime": float(derivative(c.activation, np.array(a0), np.array(z0))),
                "w_next": nxt.tolist(),
                "delta_next": d_next.tolist(),
                "exact": not (c.batch_norm or c.dropout > 0),
            }

    loss = session.step(observe)
    if not seen:
        raise PlaygroundError(session.diverged or "no step was taken")
    seen["w_after"] = float(session.model[session.layers[layer].dense].weight.data[i, j])
    seen.update(layer=layer, i=i, j=j, loss=loss, learning_rate=c.learning_rate)
    seen["optimizer"], seen["regularization"] = c.optimizer, c.regularization
    return seen


def neuron_graph(
    session: Session, layer: int, unit: int, point: Any, label: float
) -> dict[str, Any]:
    """Neuron `unit` of `layer` at one input point: nodes, edges and DOT, with Eₙ's gradients.

    The neuron's inputs zⱼ come from the traced network; its output's gradient ∂Eₙ/∂zᵢ (or, for
    the output unit, δ = ∂Eₙ/∂a) seeds backpropagation through the small graph, so every node
    shows ∂Eₙ/∂node and every edge its local derivative.
    """
    _check_weight(session, layer, unit, 0)
    t, loss = _point_trace(session, point, label)
    dense = session.model[session.layers[layer].dense]
    if layer > 0:
        inputs = t.post[layer - 1].data[0]
        names = [f"z{j + 1}" for j in range(len(inputs))]
    else:
        inputs = features(
            np.asarray(point, dtype=np.float64).reshape(1, 2), session.config.features
        )[0]
        names = list(session.config.features)
    z_in = [
        Tensor(np.float64(v), requires_grad=True, name=n)
        for v, n in zip(inputs, names, strict=True)
    ]
    w = [
        Tensor(np.float64(v), requires_grad=True, name=f"w{unit + 1}{j + 1}")
        for j, v in enumerate(dense.weight.data[unit])
    ]
    b = Tensor(np.float64(dense.bias.data[unit]), requires_grad=True, name=f"b{unit + 1}")
    products = []
    for wj, zj in zip(w, z_in, strict=True):
        p = wj * zj
        p.name = f"{wj.name}·{zj.name}"
        products.append(p)
    a = products[0]
    for p in products[1:]:
        a = a + p
    a = a + b
    a.name = "a"
    output_layer = layer == len(session.layers) - 1
    activation = "linear" if output_layer else session.config.activation
    out = {"tanh": a.tanh, "sigmoid": a.sigmoid, "relu": a.relu}.get(activation, lambda: a)()
    if out is not a:
        out.name = "z"
    seed = (t.pre_probes if output_layer else t.post_probes)[layer].grad[0, unit]
    out.backward(np.float64(seed), retain_graph=True)
    nodes = [
        {"name": v.name, "value": float(v.data), "grad": float(v.grad)}
        for v in (*z_in, *w, b, *products, a, *([out] if out is not a else []))
    ]
    edges = []
    for wj, zj, p in zip(w, z_in, products, strict=True):  # ∂(w·z)/∂w = z, ∂(w·z)/∂z = w
        edges += [(wj.name, p.name, float(zj.data)), (zj.name, p.name, float(wj.data))]
    edges += [(p.name, "a", 1.0) for p in products] + [(b.name, "a", 1.0)]
    if out is not a:
        sigma_prime = derivative(activation, np.asarray(a.data), np.asarray(out.data))
        edges.append(("a", "z", float(sigma_prime)))
    return {
        "layer": layer,
        "unit": unit,
        "activation": activation,
        "edges": [{"from": f, "to": t, "local": v} for f, t, v in edges],
        "loss": loss,
        "nodes": nodes,
        "dot": str(viz.draw_graph(out)),
    }
