"""``chainrule graph [EXPR] [NAME=VALUE ...] [--out FILE]``: draw a computational graph.

With no EXPR, the lecture's simple example f(x, w) = 1 / (w₀x₀ + w₁) at x₀ = 3, w₀ = −2,
w₁ = 4. Otherwise EXPR is a formula in a tiny language: numbers, names, ``+ - * / **``
(the exponent a number), parentheses and the functions exp, log, sqrt, tanh, sigmoid, relu and
abs, optionally named as ``"f = ..."``. Each name needs a value (``x0=3``). The formula is parsed
with Python's `ast` and only those node types are accepted; nothing is evaluated by Python.
The graph is drawn after backpropagation, so every node shows its value and gradient and every
edge its local derivative. Without ``--out`` the Graphviz DOT text goes to standard output
(``chainrule graph | dot -Tsvg > graph.svg``); ``--out`` writes .dot, .svg, .png or .pdf: the
pictures are drawn by Graphviz when it is installed and by chainrule itself otherwise (SVG needs
nothing, PNG and PDF need matplotlib).
"""

from __future__ import annotations

import argparse
import ast
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.cli.arguments import add_command

HELP = "draw a computational graph with values and gradients (default: the lecture's example)"
EXAMPLES = """examples:
  chainrule graph                                   # the lecture's simple example, DOT text
  chainrule graph --out simple.svg
  chainrule graph "E = 0.5 * (sigmoid(w * x) - y) ** 2" w=0.5 x=1 y=1 --out chain.dot
"""
MAX_LENGTH = 500
MAX_NODES = 200
FUNCTIONS = ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs")
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "graph", parents, HELP, __doc__, EXAMPLES)
    p.add_argument("expr", nargs="?", metavar="EXPR", help="formula, e.g. 'f = 1 / (w0*x0 + w1)'")
    p.add_argument("values", nargs="*", metavar="NAME=VALUE", help="the value of each name")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="write .dot, .svg, .png or .pdf instead of printing the DOT text",
    )
    p.set_defaults(run=run)


def parse_values(words: list[str]) -> dict[str, float]:
    """{"x0": 3.0, ...} from ["x0=3", ...] (ValueError naming a malformed word)."""
    values: dict[str, float] = {}
    for word in words:
        name, sep, text = word.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ValueError(f"{word!r} is not NAME=VALUE (e.g. x0=3)")
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{word!r}: {text.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{word!r}: the value must be finite")
        values[name] = value
    return values


_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Name,
    ast.Call,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
)


def _check_node(node: ast.AST) -> None:
    """ValueError unless `node` belongs to the tiny language (checked before anything runs)."""
    ok = isinstance(node, _ALLOWED)
    if isinstance(node, ast.Constant):
        ok = type(node.value) in (int, float)
    elif isinstance(node, ast.Call):
        ok = (
            isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
            and len(node.args) == 1
            and not node.keywords
        )
    elif isinstance(node, ast.Name):
        ok = not node.id.startswith("_")
    if not ok:
        shown = ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__
        raise ValueError(
            f"{shown[:60]!r} is not allowed: use numbers, names, + - * / ** and "
            f"{', '.join(FUNCTIONS)}"
        )


def build(expr: str, values: dict[str, float]) -> Any:
    """The output Tensor of `expr` with leaves `values`, after ``backward(retain_graph=True)``."""
    from chainrule.autograd import Tensor

    if len(expr) > MAX_LENGTH:
        raise ValueError(f"the expression is longer than {MAX_LENGTH} characters")
    output, sep, body = expr.partition("=")
    if not sep or not output.strip().isidentifier():
        output, body = "f", expr
    try:
        tree = ast.parse(body.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise ValueError(f"cannot parse the expression {body.strip()!r}: {exc}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ValueError(f"the expression has more than {MAX_NODES} parts")
    for node in ast.walk(tree):
        _check_node(node)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in FUNCTIONS}
    missing = sorted(names - set(values))
    if missing:
        raise ValueError(
            f"no value for {', '.join(missing)} (give NAME=VALUE, e.g. {missing[0]}=1)"
        )
    unused = sorted(set(values) - names)
    if unused:
        raise ValueError(f"{', '.join(unused)} does not appear in the expression")
    leaves = {n: Tensor(v, requires_grad=True, dtype=np.float64, name=n) for n, v in values.items()}
    taken = set(leaves) | {output.strip()}
    counter = [0]

    def name_next(t: Any) -> Any:  # intermediate results y1, y2, ... as the lecture names them
        if isinstance(t, Tensor) and t.name is None:
            counter[0] += 1
            while f"y{counter[0]}" in taken:
                counter[0] += 1
            t.name = f"y{counter[0]}"
        return t

    def number(node: ast.AST) -> float | None:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = number(node.operand)
            if inner is not None:
                return -inner if isinstance(node.op, ast.USub) else inner
        return None

    def walk(node: ast.AST) -> Any:
        constant = number(node)
        if constant is not None:
            return constant
        if isinstance(node, ast.Name) and node.id in leaves:
            return leaves[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            if isinstance(node.op, ast.Pow):
                exponent = number(node.right)
                if exponent is None:
                    raise ValueError("the exponent of ** must be a number")
                base = walk(node.left)
                return name_next(base**exponent) if isinstance(base, Tensor) else base**exponent
            left, right = walk(node.left), walk(node.right)
            op = type(node.op)
            if op is ast.Add:
                result = left + right
            elif op is ast.Sub:
                result = left - right
            elif op is ast.Mult:
                result = left * right
            else:
                result = left / right
            return name_next(result)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return name_next(-walk(node.operand))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
            and len(node.args) == 1
            and not node.keywords
        ):
            arg = walk(node.args[0])
            if not isinstance(arg, Tensor):
                arg = Tensor(arg, dtype=np.float64)
            return name_next(getattr(arg, node.func.id)())
        shown = ast.unparse(node) if hasattr(ast, "unparse") else type(node).__name__
        raise ValueError(
            f"{shown!r} is not allowed: use numbers, names, + - * / ** and {', '.join(FUNCTIONS)}"
        )

    try:
        with np.errstate(all="ignore"):
            out = walk(tree.body)
    except (ZeroDivisionError, OverflowError) as exc:  # arithmetic on two plain numbers
        raise ValueError(f"cannot compute the expression: {exc}") from None
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise ValueError("the expression has no variables to differentiate")
    out.name = output.strip()
    if not np.isfinite(out.data).all():
        raise ValueError(f"{out.name} = {out.item()} at these values: nothing to draw")
    with np.errstate(all="ignore"):
        out.backward(retain_graph=True)
    return out, leaves


def _lecture() -> tuple[Any, dict[str, Any]]:
    from chainrule.lecture import simple_example

    ex = simple_example(dtype=np.float64).backward()
    return ex.tensors[ex.output], {k: ex.tensors[k] for k in ("x0", "w0", "w1")}


def _write(graph: Any, path: Path) -> None:
    """Write the DOT text or its rendering to `path` atomically."""
    from chainrule.cli.report import write_text

    suffix = path.suffix.lower().lstrip(".") or "dot"
    if suffix in ("dot", "gv"):
        write_text(path, graph.source)
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        graph.render(tmp, format=suffix)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def run(args: argparse.Namespace) -> int:
    from chainrule.viz import draw_graph

    if args.expr is None:
        if args.values:
            raise ValueError("NAME=VALUE needs an EXPR before it")
        out, leaves = _lecture()
    else:
        out, leaves = build(args.expr, parse_values(args.values))
    graph = draw_graph(out)
    if args.out is None:
        print(graph.source, end="")
        return 0
    _write(graph, Path(args.out))
    print(f"{out.name} = {out.item():.6g}")
    for name, leaf in leaves.items():
        print(f"d{out.name}/d{name} = {float(leaf.grad):.6g}")
    print(f"graph written to {args.out}")
    return 0
