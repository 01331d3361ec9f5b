"""How long the command line takes to start, as a ratio to ``python -c "import numpy"``.

Each command runs in a fresh interpreter (as a user runs it), alternating with the NumPy
baseline so that drift of a shared machine hits both alike; the median of each is compared.
``chainrule --help``, ``chainrule train --help``, ``chainrule info MODEL`` and ``chainrule
predict MODEL DATA`` (a model written by ``chainrule train``, a plain CSV file) import neither
scikit-learn nor pandas: predict reads the file with the standard library
(`chainrule.data.plain_csv`) and the network with `chainrule.estimators.inference`, and
falls back to pandas and scikit-learn only where those could answer differently. The aim for
``info`` and ``predict`` is under 3x the baseline. No assertions: this is a report.

    .venv/bin/python benchmarks/cli_startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _seconds(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory() as tmp:
        model, rows = Path(tmp, "m.chainrule"), Path(tmp, "rows.csv")
        subprocess.run(
            [sys.executable, "-m", "chainrule", "train", "--out", str(model), "--epochs", "2",
             "--quiet"],
            env=env, check=True, cwd=tmp,
        )  # fmt: skip
        rows.write_text(
            ",".join(f"pixel_{i // 8}_{i % 8}" for i in range(64)) + "\n" + "0," * 63 + "0\n"
        )
        commands = {
            "chainrule --help": ["-m", "chainrule", "--help"],
            "chainrule train --help": ["-m", "chainrule", "train", "--help"],
            "chainrule info MODEL": ["-m", "chainrule", "info", str(model)],
            "chainrule predict MODEL DATA": ["-m", "chainrule", "predict", str(model), str(rows)],
        }
        baseline: list[float] = []
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeats):
            for name, args in commands.items():
                baseline.append(_seconds(["-c", "import numpy"], env))
                times[name].append(_seconds(args, env))
    base = statistics.median(baseline)
    print(f"python -c 'import numpy'      {base:6.3f} s  (median of {len(baseline)})")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:29} {median:6.3f} s  {median / base:5.1f}x")


if __name__ == "__main__":
    main()
