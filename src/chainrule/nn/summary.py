"""`summarize(module, input_shape)`: a Keras-style table of a network's layers.

One row per module (nested ones indented under their container): its name and class, the
shape of its output for a batch of the given input shape (the batch dimension shown as
``None``), and its parameter count. Below the table, the totals: trainable parameters (those
the optimizer updates, ``requires_grad=True``) and non-trainable ones (frozen parameters and
buffers such as batch norm's running mean and variance, counted as Keras counts them).

The output shapes come from one forward pass on a batch of two zero rows, in evaluation mode
and without gradient; the modules' training flags are restored afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.autograd.grad_mode import no_grad

__all__ = ["ModelSummary", "SummaryRow", "summarize"]


@dataclass(frozen=True)
class SummaryRow:
    """One module: its dotted name, class, nesting depth, output shape and parameter count."""

    name: str
    layer: str
    depth: int
    output_shape: tuple[int | None, ...] | None
    params: int


@dataclass(frozen=True)
class ModelSummary:
    """What `Module.summary` returns: shows itself as a table (text, or HTML in a notebook)."""

    title: str
    rows: tuple[SummaryRow, ...]
    trainable_params: int
    non_trainable_params: int
    input_shape: tuple[int, ...] | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    def _cells(self) -> list[tuple[str, str, str]]:
        return [
            ("  " * r.depth + f"{r.name} ({r.layer})", _shape(r.output_shape), f"{r.params:,}")
            for r in self.rows
        ]

    def _totals(self) -> list[str]:
        return [
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            *self.notes,
        ]

    def __str__(self) -> str:
        headers = ("Layer (type)", "Output Shape", "Param #")
        cells = self._cells()
        widths = [max([len(h)] + [len(c[j]) for c in cells]) for j, h in enumerate(headers)]
        line = "  ".join(
            (h.ljust(w) if j < 2 else h.rjust(w))
            for j, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
        rule = "=" * len(line)
        body = [
            "  ".join(
                (c.ljust(w) if j < 2 else c.rjust(w))
                for j, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            for row in cells
        ]
        title = f'Model: "{self.title}"'
        if self.input_shape is not None:
            title += f", input shape {_shape((None, *self.input_shape))}"
        return "\n".join([title, rule, line, rule, *body, rule, *self._totals(), rule[: len(line)]])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from chainrule.viz.html import html_table

        rows = [
            [name, shape, r.params]
            for (name, shape, _), r in zip(self._cells(), self.rows, strict=True)
        ]
        caption = f"Model: {self.title}"
        return html_table(
            ["Layer (type)", "Output Shape", "Param #"], rows, caption, footer=self._totals()
        )


def _shape(shape: Sequence[int | None] | None) -> str:
    if shape is None:
        return "?"
    inner = ", ".join("None" if s is None else str(s) for s in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def summarize(module: Any, input_shape: Sequence[int] | int | None = None) -> ModelSummary:
    """The table of `module`'s layers; output shapes for inputs of `input_shape` per sample.

    Parameters
    ----------
    module : Module
    input_shape : int or sequence of int, optional
        The shape of one sample (without the batch dimension), e.g. ``(64,)``. Omitted: taken
        from the first layer's ``in_features`` when it has one; otherwise shapes show as ``?``.

    Raises
    ------
    ValueError
        If `input_shape` is not positive integers, or the network cannot take such inputs
        (the message says which layer refused them).
    """
    if isinstance(input_shape, int | np.integer):
        input_shape = (int(input_shape),)
    if input_shape is None:
        first = next((m for _, m in module.named_modules() if hasattr(m, "in_features")), None)
        if first is not None:
            input_shape = (int(first.in_features),)
    shapes: dict[int, tuple[int | None, ...]] = {}
    if input_shape is not None:
        input_shape = tuple(input_shape)
        if not input_shape or not all(
            isinstance(s, int | np.integer) and s > 0 for s in input_shape
        ):
            raise ValueError(
                f"input_shape must be positive integers, e.g. (64,), got {input_shape!r}"
            )
        input_shape = tuple(int(s) for s in input_shape)
        shapes = _output_shapes(module, input_shape)

    rows = []
    for name, m in module.named_modules():
        if m is module and next(m.named_children(), None) is not None:
            continue  # the container itself is the table
        depth = name.count(".") if name else 0
        leaf = next(m.named_children(), None) is None
        own = sum(p.data.size for p in m.parameters(recurse=leaf))
        if leaf:  # statistics count as non-trainable parameters, as Keras counts them
            own += _statistics(m)
        rows.append(
            SummaryRow(
                name or type(m).__name__.lower(), type(m).__name__, depth, shapes.get(id(m)), own
            )
        )
    trainable = sum(p.data.size for p in module.parameters() if p.requires_grad)
    frozen = sum(p.data.size for p in module.parameters() if not p.requires_grad)
    buffers = _statistics(module)
    notes = (
        (f"(non-trainable: {buffers:,} in buffers, e.g. batch-norm running statistics)",)
        if buffers
        else ()
    )
    return ModelSummary(
        type(module).__name__, tuple(rows), trainable, frozen + buffers, input_shape, notes
    )


def _statistics(module: Any) -> int:
    """The number of floating values in `module`'s buffers (running statistics; not counters
    such as batch norm's `num_batches_tracked`)."""
    return sum(b.size for b in map(np.asarray, module.buffers()) if b.dtype.kind == "f")


def _output_shapes(module: Any, input_shape: tuple[int, ...]) -> dict[int, tuple[int | None, ...]]:
    """id(module) -> the shape of its output (batch dimension None), from one forward pass."""
    from chainrule.autograd.tensor import Tensor

    shapes: dict[int, tuple[int | None, ...]] = {}
    modules = [m for _, m in module.named_modules()]
    saved = [(m, m.training, m.__dict__.get("forward"), m.__dict__.get("fuse")) for m in modules]

    def recording(m: Any) -> Any:
        inner = type(m).forward.__get__(m)

        def forward(*args: Any, **kwargs: Any) -> Any:
            out = inner(*args, **kwargs)
            data = out.data if isinstance(out, Tensor) else np.asarray(out)
            shapes[id(m)] = (None, *data.shape[1:])
            return out

        return forward

    try:
        for m in modules:
            m.eval()
            object.__setattr__(m, "forward", recording(m))
            if "fuse" in vars(type(m)):  # a fused chain would skip the layers' own forward
                object.__setattr__(m, "fuse", False)
        with no_grad():
            try:
                module(Tensor(np.zeros((2, *input_shape), dtype=np.float32)))
            except Exception as exc:
                raise ValueError(
                    f"cannot run {type(module).__name__} on inputs of shape {input_shape}: {exc}"
                ) from exc
    finally:
        for m, training, forward, fuse in saved:
            object.__setattr__(m, "training", training)
            for attr, value in (("forward", forward), ("fuse", fuse)):
                if value is None:
                    m.__dict__.pop(attr, None)
                else:
                    object.__setattr__(m, attr, value)
    return shapes
