"""Render time and file size of the animations: the textbook budget and every preset.

The issue asks that the 4x4 input / 3x3 kernel animation renders in under a
second. Two measurements of it: warm (``tm.animate(...).to_bytes('gif')`` in
this process, frame model + drawing + palette + GIF encoding, median of N)
and cold (``python -m transpose_matrix animate --preset no_padding_no_strides
--out x.gif`` in a fresh interpreter, imports included, median of N), side by
side with a cold ``show`` run alternately, which pays the same interpreter and
numpy/scipy start: their ratio holds when the machine is busy. Then
one row per preset of the classic convolution-arithmetic set: frames, GIF and
APNG bytes, warm render time.

Usage::

    python benchmarks/bench_animate.py            # the budget rows and every preset
    python benchmarks/bench_animate.py --smoke    # the budget rows only, 2 runs
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS = 1.0
ROOT = Path(__file__).resolve().parent.parent


def warm_runs(runs: int, name: str = "no_padding_no_strides", format: str = "gif") -> list[float]:
    """In-process render times of a preset (a new Animation each time, nothing cached)."""
    import transpose_matrix as tm
    from transpose_matrix.render.animate import preset

    chosen = preset(name)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        tm.animate(chosen.spec, chosen.view).to_bytes(format)
        times.append(time.perf_counter() - start)
    return times


def cold_runs(runs: int) -> tuple[list[float], list[float]]:
    """Wall times of fresh processes, alternating: ``animate`` (textbook GIF) and ``show``.

    ``show`` pays the same interpreter start and numpy/scipy imports, so the
    pair shows what the animation itself adds.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_cli import cold_runs as fresh

    animate, show = [], []
    with tempfile.TemporaryDirectory() as folder:
        command = ["animate", "--preset", "no_padding_no_strides", "--out",
                   str(Path(folder) / "textbook.gif")]
        for _ in range(runs):
            animate += fresh(1, command)
            show += fresh(1, ["show"])
    return animate, show


def preset_rows(runs: int) -> list[tuple[str, int, int, int, float]]:
    """(name, frames, GIF bytes, APNG bytes, median warm GIF render seconds) per preset."""
    import transpose_matrix as tm
    from transpose_matrix.render.animate import PRESETS

    rows = []
    for name, chosen in PRESETS.items():
        animation = tm.animate(chosen.spec, chosen.view)
        gif, apng = animation.to_bytes("gif"), animation.to_bytes("apng")
        seconds = statistics.median(warm_runs(runs, name))
        rows.append((name, len(animation), len(gif), len(apng), seconds))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="budget rows only, 2 runs (CI)")
    args = parser.parse_args(argv)
    runs = 2 if args.smoke else max(1, args.runs)
    sys.path.insert(0, str(ROOT))
    warm = statistics.median(warm_runs(runs))
    animate, show = (statistics.median(times) for times in cold_runs(runs))
    cold = animate
    print(f"textbook animation (4x4 input, 3x3 kernel, GIF): warm {warm * 1000:.0f} ms; "
          f"cold `animate` {animate * 1000:.0f} ms vs cold `show` {show * 1000:.0f} ms "
          f"(ratio {animate / show:.2f}); medians of {runs}; budget "
          f"{BUDGET_SECONDS * 1000:.0f} ms")
    if not args.smoke:
        print("\n| preset | frames | GIF | APNG | render (GIF) |\n|---|---|---|---|---|")
        for name, frames, gif, apng, seconds in preset_rows(max(1, runs // 2)):
            print(f"| `{name}` | {frames} | {gif / 1024:.0f} KB | {apng / 1024:.0f} KB | "
                  f"{seconds * 1000:.0f} ms |")
    return 0 if cold < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
