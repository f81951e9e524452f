"""Benchmark: build the symbolic C of a 16x16 input and a 3x3 kernel.

Prints the median wall time of several builds (after one warm-up build, so
imports and sympy's caches are not counted). The issue's target is "well
under a second"; this is a measurement, not a timed test.

Usage::

    python benchmarks/bench_symbolic.py            # 16x16 input, 3x3 kernel, 15 repeats
    python benchmarks/bench_symbolic.py --smoke    # tiny and fast: 4x4 input, 3 repeats
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# Run as a script from a checkout, the package is the repository next door.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transpose_matrix.geometry.spec import ConvSpec  # noqa: E402
from transpose_matrix.matrices.symbolic import symbolic_conv_matrix  # noqa: E402

__all__ = ["main", "measure"]


def measure(spec: ConvSpec, repeats: int) -> list[float]:
    """Seconds taken by each of ``repeats`` builds of ``symbolic_conv_matrix(spec)``."""
    symbolic_conv_matrix(spec)  # warm-up: imports, symbol cache
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        symbolic_conv_matrix(spec)
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny, fast run (4x4 input)")
    parser.add_argument("--repeats", type=int, default=None, help="number of timed builds")
    args = parser.parse_args(argv)
    size = 4 if args.smoke else 16
    repeats = args.repeats if args.repeats is not None else (3 if args.smoke else 15)
    if repeats < 1:
        parser.error(f"--repeats={repeats} must be >= 1")
    spec = ConvSpec((size, size), 3)
    times = measure(spec, repeats)
    rows, cols = spec.matrix_shape
    print(
        f"symbolic_conv_matrix {size}x{size} input, 3x3 kernel: C is {rows}x{cols}; "
        f"median {statistics.median(times) * 1e3:.1f} ms over {repeats} builds "
        f"(min {min(times) * 1e3:.1f} ms, max {max(times) * 1e3:.1f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
