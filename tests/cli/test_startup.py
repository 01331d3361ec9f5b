"""``chainrule --help`` and ``chainrule info`` start without importing the heavy extras.

(Their start-up time, as a ratio to importing NumPy, is measured in
benchmarks/cli_startup.py; here only what is imported is checked.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")
HEAVY = ("sklearn", "pandas", "scipy", "matplotlib")


def _imported(*argv: str) -> list[str]:
    code = (
        "import sys, json\n"
        "from chainrule.cli import main\n"
        f"status = main({list(argv)!r})\n"
        f"print(json.dumps([status, [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    status, heavy = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0, done.stderr
    return heavy


def test_help_imports_no_heavy_extra():
    assert _imported("--help") == []


def test_info_imports_no_heavy_extra(trained_clf):
    assert _imported("info", str(trained_clf)) == []
