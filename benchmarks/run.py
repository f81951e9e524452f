"""Every benchmark of the project in one command, printed as one markdown table.

Rows (medians of repeated runs; ``ratio`` is ours / baseline, with the goal):

* ``conv_matrix`` and ``transposed_conv_matrix`` build time against the floor:
  allocating and filling, once, arrays of the matrix's own sizes and dtypes
  (goal: within 2x), on a layer with more than 1e8 nonzeros;
* peak memory while building against the matrix's own bytes, measured with
  ``tracemalloc`` in a fresh subprocess (goal: at most 2x);
* build time against the loop reference builder on a mid-size layer (goal: at
  least 1000x faster);
* the operator panel (``benchmarks/panel.py``): ``conv_operator`` matvec /
  rmatvec against torch's CPU ``convNd`` / ``conv_transposeNd`` on twelve
  layers of real networks, float32 and float64, same thread count; its
  geometric mean and worst ratio per dtype here (goals: float32 ≤ 1.0 and
  ≤ 1.5, float64 ≤ 0.6 and ≤ 1.0), its own table printed after this one;
* symbolic build time (``benchmarks/bench_symbolic.py``) and the cold start of
  ``python -m transpose_matrix show`` (``benchmarks/bench_cli.py``);
* the textbook animation's render time, in process and as a cold command
  (``benchmarks/bench_animate.py``, which also tabulates every preset);
* spectra (``benchmarks/bench_spectrum.py``): the full circular spectrum, its
  accuracy against a dense SVD of C, and ‖C‖₂ by Lanczos against torch's
  power iteration, printed as a table of their own.

Usage::

    python benchmarks/run.py              # the full tables (about 20 minutes, ~4 GB RAM)
    python benchmarks/run.py --smoke      # tiny layers, a few seconds: CI runs this
    python benchmarks/run.py --threads 1  # BLAS and torch thread count (default: all cores)

Timing runs alternate between ours and the baseline, so that a slow moment of
the machine hits both; numpy and torch blocks are separated by a short pause
because each library's idle worker threads keep spinning for a while after
their last call and would otherwise steal the other's cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from threads import use_threads  # noqa: E402  (benchmarks/threads.py, beside this file)

__all__ = ["main"]

# Layers: (name, ConvSpec arguments). "full" sizes are the issue's; "smoke"
# sizes keep every code path but run in a blink.
BIG = {
    "full": ("32->32, 3x3, pad 1, 128x128", dict(input_shape=(128, 128), kernel_size=3,
             padding=1, in_channels=32, out_channels=32)),
    "smoke": ("4->4, 3x3, pad 1, 16x16", dict(input_shape=(16, 16), kernel_size=3,
              padding=1, in_channels=4, out_channels=4)),
}
MID = {
    "full": ("8->8, 3x3, pad 1, 32x32", dict(input_shape=(32, 32), kernel_size=3,
             padding=1, in_channels=8, out_channels=8)),
    "smoke": ("2->2, 3x3, pad 1, 8x8", dict(input_shape=(8, 8), kernel_size=3,
              padding=1, in_channels=2, out_channels=2)),
}
def _median_pair(
    ours: Callable[[], Any], baseline: Callable[[], Any], rounds: int, calls: int,
    pause: float = 0.0,
) -> tuple[float, float]:
    """Median seconds per call of ``ours`` and ``baseline``, measured in alternating blocks."""
    mine, theirs = [], []
    ours()
    baseline()
    for _ in range(rounds):
        for func, store in ((ours, mine), (baseline, theirs)):
            if pause:
                time.sleep(pause)
            for _ in range(calls):
                start = time.perf_counter()
                func()
                store.append(time.perf_counter() - start)
    return statistics.median(mine), statistics.median(theirs)


def _seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


def _ratio(value: float) -> str:
    if value < 0.01:
        return f"1/{1 / value:,.0f}"
    return f"{value:.2f}"


class Table:
    """Rows of the final table. In smoke mode the layers are too small for the
    goals to mean anything, so nothing is judged."""

    def __init__(self, judge: bool = True) -> None:
        self.rows: list[tuple[str, ...]] = []
        self.judge = judge

    def add(self, what: str, layer: str, ours: str, baseline: str, ratio: str,
            goal: str, met: bool | None) -> None:
        if not self.judge:
            met = None
        verdict = "—" if met is None else ("yes" if met else "**no**")
        self.rows.append((what, layer, ours, baseline, ratio, goal, verdict))
        print(f"  measured: {what} [{layer}] {ours} vs {baseline} ({ratio})",
              file=sys.stderr, flush=True)

    def markdown(self) -> str:
        header = ("measurement", "layer", "ours", "baseline", "ratio", "goal", "met")
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def bench_build_vs_floor(table: Table, size: str, repeats: int) -> None:
    import numpy as np

    from transpose_matrix.geometry.spec import ConvSpec
    from transpose_matrix.matrices.conv import (
        conv_matrix,
        conv_matrix_nbytes,
        conv_matrix_nnz,
        index_dtype,
        transposed_conv_matrix,
    )

    name, arguments = BIG[size]
    spec = ConvSpec(**arguments)
    weight = np.random.default_rng(0).standard_normal(spec.weight_shape)
    nnz = conv_matrix_nnz(spec)
    rows, cols = spec.matrix_shape
    index = index_dtype(nnz, cols, rows)

    def floor(pointers: int) -> Callable[[], None]:
        def run() -> None:
            arrays = (
                np.empty(nnz, dtype=weight.dtype),
                np.empty(nnz, dtype=index),
                np.empty(pointers, dtype=index),
            )
            for array in arrays:
                array.fill(1)
            del arrays

        return run

    from transpose_matrix.matrices import conv as matrix

    threads = matrix._workers(nnz)
    cases = [(conv_matrix, False, rows + 1, None), (transposed_conv_matrix, True, cols + 1, None)]
    if threads > 1:
        # The builders fill with threads of their own; show one thread too.
        cases.append((conv_matrix, False, rows + 1, 1))
    for builder, transposed, pointers, limit in cases:
        nbytes = conv_matrix_nbytes(spec, weight.dtype, transposed=transposed)
        saved = matrix._MAX_THREADS
        if limit is not None:
            matrix._MAX_THREADS = limit
        try:
            ours, base = _median_pair(
                lambda b=builder: b(spec, weight), floor(pointers), rounds=repeats, calls=1
            )
        finally:
            matrix._MAX_THREADS = saved
        used = limit or threads
        table.add(
            f"`{builder.__name__}` build ({used} filling thread{'s' * (used > 1)}) vs floor",
            f"{name}; {nnz:.3g} nonzeros, {nbytes / 2**30:.2f} GiB",
            _seconds(ours), f"{_seconds(base)} (alloc + fill, 1 thread)", _ratio(ours / base),
            "≤ 2", ours / base <= 2,
        )


_PEAK_SCRIPT = """
import json, sys, tracemalloc
import numpy as np
from transpose_matrix.matrices.conv import conv_matrix, transposed_conv_matrix, conv_matrix_nbytes
from transpose_matrix.geometry.spec import ConvSpec
spec = ConvSpec(**json.loads(sys.argv[1]))
transposed = sys.argv[2] == "1"
weight = np.random.default_rng(0).standard_normal(spec.weight_shape)
build = transposed_conv_matrix if transposed else conv_matrix
tracemalloc.start()
matrix = build(spec, weight)
size, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
real = matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
print(json.dumps({"peak": peak, "nbytes": real,
                  "estimate": conv_matrix_nbytes(spec, weight.dtype, transposed=transposed)}))
"""


def bench_peak_memory(table: Table, size: str) -> None:
    name, arguments = BIG[size]
    for label, flag in (("conv_matrix", "0"), ("transposed_conv_matrix", "1")):
        # A fresh interpreter: nothing else is allocated, and tracemalloc sees
        # every numpy array (numpy reports its buffers to it).
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_SCRIPT, json.dumps(arguments), flag],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True, capture_output=True, text=True,
        )
        result = json.loads(done.stdout)
        ratio = result["peak"] / result["nbytes"]
        exact = "estimate exact" if result["estimate"] == result["nbytes"] else "ESTIMATE OFF"
        table.add(
            f"`{label}` peak memory vs its bytes",
            f"{name}",
            f"{result['peak'] / 2**30:.3f} GiB", f"{result['nbytes'] / 2**30:.3f} GiB ({exact})",
            _ratio(ratio), "≤ 2", ratio <= 2,
        )


def bench_reference(table: Table, size: str, repeats: int) -> None:
    import numpy as np

    from transpose_matrix.geometry.spec import ConvSpec
    from transpose_matrix.matrices.conv import conv_matrix
    from transpose_matrix.matrices.reference import reference_conv_matrix

    name, arguments = MID[size]
    spec = ConvSpec(**arguments)
    weight = np.random.default_rng(0).standard_normal(spec.weight_shape)
    slow = []
    for _ in range(repeats):
        start = time.perf_counter()
        reference = reference_conv_matrix(spec, weight)
        slow.append(time.perf_counter() - start)
    fast = []
    conv_matrix(spec, weight)
    for _ in range(max(5, 5 * repeats)):
        start = time.perf_counter()
        matrix = conv_matrix(spec, weight)
        fast.append(time.perf_counter() - start)
    if (matrix != reference).nnz:
        raise SystemExit("conv_matrix differs from the reference builder")
    ratio = statistics.median(fast) / statistics.median(slow)
    table.add(
        "`conv_matrix` build vs loop reference", f"{name}; {matrix.nnz:.3g} nonzeros",
        _seconds(statistics.median(fast)), _seconds(statistics.median(slow)),
        _ratio(ratio), "≤ 1/1000", ratio <= 1e-3,
    )


def bench_panel(table: Table, size: str, repeats: int) -> str:
    """The operator panel (``benchmarks/panel.py``): its summary rows here, its table returned."""
    try:
        import torch  # noqa: F401

        panel = _load("panel")
    except (ImportError, OSError) as error:
        table.add("`conv_operator` panel vs torch", "—", "—", f"unavailable: {error}", "—",
                  "—", None)
        return ""
    rows = panel.measure(size, rounds=repeats, pause=0.25 if size == "full" else 0.0)
    for dtype in ("float32", "float64"):
        mean, worst = panel.summary(rows, dtype)
        goal_mean, goal_worst = panel.GOALS[dtype]
        count = sum(row["dtype"] == dtype for row in rows)
        table.add(f"`conv_operator` panel vs torch, geometric mean of {count} ratios",
                  f"12 layers, {dtype}", "—", "—", _ratio(mean), f"≤ {goal_mean}",
                  mean <= goal_mean)
        table.add(f"`conv_operator` panel vs torch, worst row ({worst['direction']})",
                  f"{worst['network']} {worst['layer']}, {dtype}", _seconds(worst["ours"]),
                  _seconds(worst["torch"]), _ratio(worst["ratio"]), f"≤ {goal_worst}",
                  worst["ratio"] <= goal_worst)
    return panel.markdown(rows, judge=size == "full")


def _load(name: str) -> Any:
    """Import ``benchmarks/<name>.py``, written and kept by its own author."""
    path = HERE / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench_symbolic(table: Table, size: str) -> None:
    from transpose_matrix.geometry.spec import ConvSpec

    try:
        module = _load("bench_symbolic")
    except (ImportError, OSError) as error:
        table.add("`symbolic_conv_matrix` build", "—", "—", f"unavailable: {error}", "—",
                  "< 1 s", None)
        return
    n = 16 if size == "full" else 4
    times = module.measure(ConvSpec((n, n), 3), 15 if size == "full" else 3)
    median = statistics.median(times)
    table.add("`symbolic_conv_matrix` build", f"{n}x{n}, 3x3", _seconds(median), "—", "—",
              "< 1 s", median < 1)


def bench_cli(table: Table, size: str) -> None:
    try:
        module = _load("bench_cli")
    except (ImportError, OSError) as error:
        table.add("cold `python -m transpose_matrix show`", "—", "—",
                  f"unavailable: {error}", "—", "< 1 s", None)
        return
    times = module.cold_runs(15 if size == "full" else 2, ["show"])
    median = statistics.median(times)
    table.add("cold `python -m transpose_matrix show`", "fresh interpreter",
              _seconds(median), "—", "—", "< 1 s", median < 1)


def bench_animate(table: Table, size: str) -> None:
    try:
        module = _load("bench_animate")
        runs = 7 if size == "full" else 2
        warm = statistics.median(module.warm_runs(runs))
        cold, show = (statistics.median(times) for times in module.cold_runs(runs))
    except (ImportError, OSError) as error:
        table.add("textbook animation (GIF)", "—", "—", f"unavailable: {error}", "—",
                  "< 1 s", None)
        return
    layer = "4x4, 3x3: 4 frames"
    table.add("`tm.animate(...).to_bytes('gif')`", layer, _seconds(warm), "—", "—", "< 1 s",
              warm < 1)
    table.add("cold `python -m transpose_matrix animate --preset no_padding_no_strides`",
              layer, _seconds(cold), f"{_seconds(show)} (cold `show`)", _ratio(cold / show),
              "< 1 s", cold < 1)


def bench_spectrum(size: str) -> str:
    """The spectrum benchmarks (``benchmarks/bench_spectrum.py``), as their own table."""
    try:
        import torch  # noqa: F401

        module = _load("bench_spectrum")
    except (ImportError, OSError) as error:
        return f"unavailable: {error}"
    return module.table(size, 1 if size == "smoke" else 3, judge=size == "full",
                        progress=lambda what: print(f"  spectrum: {what}", file=sys.stderr,
                                                    flush=True))


def machine(threads: int) -> str:
    import numpy as np
    import scipy

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
        memory = f", {total / 2**30:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        import torch

        torch_text = f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        torch_text = "torch not installed"
    return (
        f"{model}, {os.cpu_count()} logical CPUs{memory}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, numpy {np.__version__} "
        f"(OpenBLAS threads: {_load('panel').blas_threads()}), scipy {scipy.__version__}, "
        f"{torch_text}; requested threads: {threads}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny layers, a few seconds (CI)")
    parser.add_argument("--repeats", type=int, default=None, help="timing rounds per row")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and torch threads (default: every core this process may use)")
    args = parser.parse_args(argv)
    size = "smoke" if args.smoke else "full"
    repeats = args.repeats if args.repeats is not None else (2 if args.smoke else 7)
    if repeats < 1:
        parser.error(f"--repeats={repeats} must be >= 1")
    threads = use_threads(args.threads, parser)
    sys.path.insert(0, str(ROOT))

    table = Table(judge=not args.smoke)
    bench_build_vs_floor(table, size, repeats)
    bench_peak_memory(table, size)
    bench_reference(table, size, 1 if args.smoke else 3)
    panel = bench_panel(table, size, repeats)
    bench_symbolic(table, size)
    bench_cli(table, size)
    bench_animate(table, size)
    spectrum = bench_spectrum(size)
    print(f"Machine: {machine(threads)}.")
    print(f"Mode: {size}; medians of {repeats} alternating rounds; ratio = ours / baseline.\n")
    print(table.markdown())
    if panel:
        print(f"\nThe operator panel (`benchmarks/panel.py`):\n\n{panel}")
    print(f"\nSpectra (`benchmarks/bench_spectrum.py`):\n\n{spectrum}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
