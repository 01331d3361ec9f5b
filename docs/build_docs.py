"""Build the tutorials: run every ``docs/tutorials/NN_*.py`` and write its Markdown page.

    python docs/build_docs.py                  # all tutorials, pages and figures beside them
    python docs/build_docs.py --only 1,4       # tutorials 1 and 4
    python docs/build_docs.py --fast           # quick check (small data) into a temporary folder
    python docs/build_docs.py --fast --out DIR # ... into DIR
    python docs/build_docs.py --remeasure      # measure the times shown again

The pages are deterministic: the same code rebuilds them to the same text and figures (fixed
seeds, one thread, the library's fixed figure style). Measured times are the exception, so
they are measured once and kept in ``tutorials/timings.json`` (see ``Page.timing``).

Each tutorial is a plain script with ``main(out_dir, fast) -> dict`` that writes
``NN_name.md`` and ``figures/NN_*.png`` into `out_dir` and returns its key numbers (which the
tests in ``tests/docs`` check). Fast mode uses less data and fewer epochs; its pages say so,
so never commit them.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

DOCS = Path(__file__).resolve().parent
TUTORIALS_DIR = DOCS / "tutorials"
TUTORIALS = sorted(TUTORIALS_DIR.glob("[0-9][0-9]_*.py"))


def load(path: Path) -> ModuleType:
    """Import a tutorial script as a module (its name starts with a digit, so no `import`)."""
    if str(TUTORIALS_DIR) not in sys.path:
        sys.path.insert(0, str(TUTORIALS_DIR))  # for `from _page import Page`
    spec = importlib.util.spec_from_file_location(f"tutorial_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def find(number: int) -> Path:
    """The script of tutorial `number`."""
    for path in TUTORIALS:
        if int(path.name[:2]) == number:
            return path
    raise ValueError(f"no tutorial {number}; there are {', '.join(p.name for p in TUTORIALS)}")


def run(number: int, out_dir: str | Path | None = None, fast: bool = False) -> dict[str, Any]:
    """Run tutorial `number`, write its page into `out_dir` (default: beside the script)."""
    import matplotlib.pyplot as plt

    import chainrule as cr

    module = load(find(number))  # also puts docs/tutorials on sys.path, for _page
    from _page import build_environment

    cr.set_seed(0)  # each tutorial seeds itself too; this keeps runs independent of order
    try:
        with build_environment():
            return module.main(out_dir=out_dir, fast=fast)
    finally:
        plt.close("all")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the tutorials and write their pages.")
    parser.add_argument("--fast", action="store_true", help="small data, few epochs (for tests)")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    parser.add_argument("--only", default="", help="comma-separated tutorial numbers")
    parser.add_argument(
        "--remeasure",
        action="store_true",
        help="measure the times the pages show again (else: those in tutorials/timings.json)",
    )
    args = parser.parse_args(argv)
    if args.remeasure:
        load(TUTORIALS[0])  # puts docs/tutorials on sys.path
        import _page

        _page.REMEASURE = True

    numbers = [int(n) for n in args.only.split(",") if n.strip()] or [
        int(p.name[:2]) for p in TUTORIALS
    ]
    out = args.out
    if out is None and args.fast:  # fast pages must not overwrite the committed ones
        out = Path(tempfile.mkdtemp(prefix="chainrule-docs-"))
    start = time.perf_counter()
    for number in numbers:
        t0 = time.perf_counter()
        run(number, out_dir=out, fast=args.fast)
        where = out if out is not None else TUTORIALS_DIR
        print(f"tutorial {number:2d}: {time.perf_counter() - t0:6.1f} s -> "
              f"{where / find(number).with_suffix('.md').name}")  # fmt: skip
    print(f"built {len(numbers)} tutorial(s) in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
