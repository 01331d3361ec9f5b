"""``chainrule lecture [--out DIR]``: print the lecture's worked examples with autograd's answers.

Each example shows its values, the gradients autograd computes and the lecture's hand-worked
formulas; the simple example's graph is written to DIR as DOT, SVG and PNG.
"""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli.arguments import add_command

HELP = "print the lecture's worked examples, checked against autograd"
EXAMPLES = """examples:
  chainrule lecture                      # the examples; the simple example's graph into out/
  chainrule lecture --out lecture-graphs
"""


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "lecture", parents, HELP, __doc__, EXAMPLES)
    p.add_argument(
        "--out",
        metavar="DIR",
        default="out",
        help="folder for the simple example's graph (default: out)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chainrule.lecture import main

    return int(main(args.out))
