"""Cold start of ``python -m transpose_matrix show`` (median of N fresh processes).

The issue asks for an answer in under a second cold. Each run is a new
interpreter, so every import is paid again; the median ignores the odd slow
run caused by the machine, not the code.

Usage::

    python benchmarks/bench_cli.py            # 15 runs
    python benchmarks/bench_cli.py --runs 5
    python benchmarks/bench_cli.py --smoke    # 2 runs, exit 1 if over the budget
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BUDGET_SECONDS = 1.0
ROOT = Path(__file__).resolve().parent.parent


def cold_runs(runs: int, command: list[str]) -> list[float]:
    """Wall times of ``runs`` fresh ``python -m transpose_matrix`` processes."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "transpose_matrix", *command],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--smoke", action="store_true", help="2 runs, for CI")
    args = parser.parse_args(argv)
    runs = 2 if args.smoke else max(1, args.runs)
    times = cold_runs(runs, ["show"])
    median = statistics.median(times)
    print(
        f"python -m transpose_matrix show: median {median * 1000:.0f} ms over {runs} cold "
        f"runs (min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms); "
        f"budget {BUDGET_SECONDS * 1000:.0f} ms"
    )
    return 0 if median < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
