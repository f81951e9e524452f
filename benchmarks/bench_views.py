"""Views cost what they print: ``show`` of a huge layer against ``show`` of the textbook case.

Each pair of runs is two fresh interpreters, the huge layer and the textbook
case one after the other (alternating which goes first), so a busy moment of
the machine hits both; the table gives the medians and their ratio. The goal
is a ratio near 1 (every view computes only the entries it prints, so the size
of the layer barely matters) and a huge layer under 2 s.

Usage::

    python benchmarks/bench_views.py             # 7 pairs of cold runs per row
    python benchmarks/bench_views.py --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BASELINE = ["show"]
ROWS = {
    "show, 224×224, 64→64 channels": [
        "show", "--input", "224x224", "--in-channels", "64", "--out-channels", "64",
        "--padding", "1",
    ],
    "show, 1-D, 10⁸ positions": ["show", "--input", "100000000", "--kernel", "1",
                                 "--stride", "100000000"],
    "show --format latex, 64×64, 4→4": [
        "show", "--format", "latex", "--input", "64x64", "--in-channels", "4",
        "--out-channels", "4",
    ],
    "export --fragment, 128×128, 64→64": [
        "export", "--fragment", "--input", "128x128", "--in-channels", "64",
        "--out-channels", "64", "--padding", "1",
    ],
}


def _cold(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "transpose_matrix", *command], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    print("| view | ours (s) | textbook `show` (s) | ratio | goal |")
    print("|---|---|---|---|---|")
    for name, command in ROWS.items():
        ours, base = [], []
        for run in range(max(1, args.runs)):
            pair = [(ours, command), (base, BASELINE)]
            for times, argv_ in pair if run % 2 == 0 else pair[::-1]:
                times.append(_cold(argv_))
        mine, theirs = statistics.median(ours), statistics.median(base)
        print(f"| {name} | {mine:.2f} | {theirs:.2f} | {mine / theirs:.2f} | < 2 s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
