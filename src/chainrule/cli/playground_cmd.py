"""``chainrule playground [--port N] [--no-browser]``: train a small network live in the browser.

Starts a local web server on 127.0.0.1 (this computer only) and opens the page: a 2-D dataset,
a network you shape on the page, and the lecture's quantities live as it learns (δ, per-layer
gradient norms, one weight's chain rule, one neuron's graph). Ctrl+C stops the server. Needs the
``playground`` extra: pip install 'chainrule[playground]'.
"""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli.arguments import add_command
from chainrule.cli.values import whole_number

HELP = "train a network live in the browser (TensorFlow Playground plus the lecture)"
EXAMPLES = """examples:
  chainrule playground
  chainrule playground --port 9000 --no-browser
"""


def _port(text: str) -> int:
    return whole_number(text, 0, 65535, rule="a port from 0 to 65535")


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "playground", parents, HELP, __doc__, EXAMPLES)
    p.add_argument(
        "--port", type=_port, default=8765, help="port on 127.0.0.1 (default 8765; 0: any free)"
    )
    p.add_argument(
        "--no-browser", action="store_true", help="print the address instead of opening it"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401

        from chainrule.playground.server import serve
    except ImportError as exc:
        raise ImportError(
            f"chainrule playground needs the playground extra ({exc.name} is missing): "
            "pip install 'chainrule[playground]'"
        ) from None
    serve(args.port, open_browser=not args.no_browser)
    return 0
