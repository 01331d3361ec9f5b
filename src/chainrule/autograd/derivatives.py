"""The table of local derivatives: every primitive op of chainrule and its ∂out/∂in.

Backpropagation needs, for each primitive, only its local derivative (the lecture's
∂out/∂in); the chain rule in `Tensor.backward` does the rest. The primitives live beside the
code that uses them (`autograd/ops.py` for the calculus the engine knows, `nn/` for layers and
losses written as one fused op each, `fast/` for fused chains), and this module is their
index: it reads the package's source, finds every function that records an op with a
backward pass (``Tensor._make(value, parents, backward, name)``) and lists it with the
derivative its docstring states. Nothing is imported, so the index sits at the bottom of the
layers and still sees every package.

``python -m chainrule.autograd.derivatives`` prints the table as Markdown; `docs/derivatives.md`
is that output, and a test keeps it current and checks that every primitive states its
derivative. Adding a primitive (a convolution, a pooling) needs no step here: write its
function with a docstring that gives ∂out/∂in, rerun the command, commit the page.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

__all__ = ["Primitive", "markdown_table", "primitives"]

PACKAGE = Path(__file__).resolve().parent.parent


class Primitive(NamedTuple):
    """One primitive op: its graph name, where it is defined, and its docstring."""

    op: str  # the name recorded in the graph (``Tensor.op``)
    module: str  # dotted module path
    function: str
    doc: str


def _op_name(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ast.unparse(node)  # e.g. an f-string "**{p}" or a variable for a family of ops


def _records_backward(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "_make"
        and isinstance(func.value, ast.Name)
        and func.value.id == "Tensor"
        and len(call.args) == 4
        and not (isinstance(call.args[2], ast.Constant) and call.args[2].value is None)
    )


def primitives(package: Path = PACKAGE) -> list[Primitive]:
    """Every primitive op in the package's source, in file and line order."""
    found: list[Primitive] = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        for top in tree.body:
            # A function, or a class whose methods record ops (a layer such as BatchNorm,
            # whose class docstring gives the backward pass).
            if not isinstance(top, ast.FunctionDef | ast.ClassDef):
                continue
            names: list[str] = []
            for node in ast.walk(top):
                if isinstance(node, ast.Call) and _records_backward(node):
                    name = _op_name(node.args[3])
                    if name not in names:
                        names.append(name)
            doc = ast.get_docstring(top) or ""
            found += [Primitive(name, module, top.name, doc) for name in names]
    return found


MARKS = ("∂", "′", "erivative", "radient")  # how a docstring states a local derivative


def _derivative_text(doc: str) -> str:
    """The docstring's paragraph that gives the derivative (the first with ∂, ′, "derivative"
    or "gradient"; with the next one when it ends in ":", "," or "is", introducing formulas)."""
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n") if p.strip()]
    for i, p in enumerate(paragraphs):
        if any(mark in p for mark in MARKS):
            if p.endswith((":", ",", " is")) and i + 1 < len(paragraphs):
                p = f"{p} {paragraphs[i + 1]}"
            return p
    return ""


def markdown_table(found: list[Primitive] | None = None) -> str:
    """The index page: one row per primitive (op, where, its local derivative)."""
    found = primitives() if found is None else found
    lines = [
        "# Local derivatives",
        "",
        "Every primitive op of chainrule and the local derivative ∂out/∂in its backward pass",
        "applies; `Tensor.backward` chains them. Generated from the docstrings by",
        "`python -m chainrule.autograd.derivatives` (a test keeps this page current).",
        "",
        "| op | function | local derivative |",
        "|---|---|---|",
    ]
    for p in found:
        text = _derivative_text(p.doc).replace("|", "\\|")
        lines.append(f"| `{p.op}` | `{p.module}.{p.function}` | {text} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
