"""The operator panel: ``conv_operator`` against torch on twelve layers of real networks.

Each layer runs in float32 and float64, ``matvec`` (against torch's
``convNd``) and ``rmatvec`` (against ``conv_transposeNd``, no autograd), one
sample, with both engines of ``conv_operator`` (``engine='numpy'`` and, when
numba is installed, ``engine='numba'``), all libraries on the same thread
count. Times are medians of alternating blocks (numpy engine, numba engine,
torch, ...); the ratio is ours / torch. Per dtype and engine the panel
reports the geometric mean of its 24 ratios and the worst, and the numba
engine's first call per dtype (compiling, or loading numba's disk cache).

Usage (also run by ``benchmarks/run.py``)::

    python benchmarks/panel.py              # one thread, then every core (two processes)
    python benchmarks/panel.py --threads 1  # numpy's BLAS, numba and torch on one thread
    python benchmarks/panel.py --smoke      # tiny layers: checks, times mean nothing
    python benchmarks/panel.py --compare --threads 1 --clock cpu  # every method side by side
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from threads import use_threads  # noqa: E402  (benchmarks/threads.py, beside this file)

__all__ = ["ENGINES", "FIRST_CALLS", "GOALS", "LAYERS", "blas_threads", "compare", "main",
           "markdown", "measure", "summary"]

# label, network, ConvSpec arguments (full size, smoke size); ConvTranspose
# layers are given by their own arguments, marked "transposed". The table
# describes each layer from its spec (``describe``).
LAYERS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("stem", "ResNet",
     dict(input_shape=(224, 224), kernel_size=7, stride=2, padding=3, in_channels=3,
          out_channels=64),
     dict(input_shape=(16, 16), kernel_size=7, stride=2, padding=3, in_channels=3,
          out_channels=4)),
    ("downsampling 3x3", "ResNet",
     dict(input_shape=(56, 56), kernel_size=3, stride=2, padding=1, in_channels=64,
          out_channels=128),
     dict(input_shape=(8, 8), kernel_size=3, stride=2, padding=1, in_channels=4,
          out_channels=8)),
    ("bottleneck 1x1", "ResNet",
     dict(input_shape=(56, 56), kernel_size=1, in_channels=256, out_channels=64),
     dict(input_shape=(8, 8), kernel_size=1, in_channels=8, out_channels=4)),
    ("projection 1x1", "ResNet",
     dict(input_shape=(56, 56), kernel_size=1, stride=2, in_channels=256, out_channels=512),
     dict(input_shape=(8, 8), kernel_size=1, stride=2, in_channels=4, out_channels=8)),
    ("depthwise 3x3", "MobileNetV2",
     dict(input_shape=(56, 56), kernel_size=3, padding=1, in_channels=144, out_channels=144,
          groups=144),
     dict(input_shape=(8, 8), kernel_size=3, padding=1, in_channels=6, out_channels=6,
          groups=6)),
    ("grouped 3x3", "ResNeXt",
     dict(input_shape=(56, 56), kernel_size=3, padding=1, in_channels=128, out_channels=128,
          groups=32),
     dict(input_shape=(8, 8), kernel_size=3, padding=1, in_channels=8, out_channels=8,
          groups=4)),
    ("atrous 3x3", "DeepLab",
     dict(input_shape=(33, 33), kernel_size=3, padding=2, dilation=2, in_channels=256,
          out_channels=256),
     dict(input_shape=(9, 9), kernel_size=3, padding=2, dilation=2, in_channels=4,
          out_channels=4)),
    ("ConvTranspose2d(4, 2, 1)", "DCGAN",
     dict(transposed=True, input_shape=(16, 16), in_channels=128, out_channels=64,
          kernel_size=4, stride=2, padding=1),
     dict(transposed=True, input_shape=(4, 4), in_channels=8, out_channels=4, kernel_size=4,
          stride=2, padding=1)),
    ("up-conv 2x2", "U-Net",
     dict(transposed=True, input_shape=(32, 32), in_channels=128, out_channels=64,
          kernel_size=2, stride=2),
     dict(transposed=True, input_shape=(4, 4), in_channels=8, out_channels=4, kernel_size=2,
          stride=2)),
    ("3x3", "U-Net",
     dict(input_shape=(64, 64), kernel_size=3, padding=1, in_channels=64, out_channels=64),
     dict(input_shape=(8, 8), kernel_size=3, padding=1, in_channels=4, out_channels=4)),
    ("causal dilated", "WaveNet",
     dict(input_shape=(4096,), kernel_size=2, padding=[(16, 0)], dilation=16, in_channels=64,
          out_channels=128),
     dict(input_shape=(64,), kernel_size=2, padding=[(4, 0)], dilation=4, in_channels=4,
          out_channels=8)),
    ("3x3x3", "3-D U-Net",
     dict(input_shape=(16, 32, 32), kernel_size=3, padding=1, in_channels=32, out_channels=32),
     dict(input_shape=(4, 5, 6), kernel_size=3, padding=1, in_channels=4, out_channels=4)),
]

#: Goals on the ratios ours / torch: (geometric mean, worst row) per dtype.
GOALS = {"float32": (0.8, 1.5), "float64": (0.6, 1.0)}
#: Seconds of the numba engine's slowest first call per (dtype, direction) over the
#: layers in this process: compiling its kernels, or loading them from numba's disk cache.
FIRST_CALLS: dict[tuple[str, str], float] = {}
#: The engines the panel times (numba's only when installed).
ENGINES = ("numpy", "numba") if importlib.util.find_spec("numba") else ("numpy",)


def _spec(arguments: dict[str, Any]) -> Any:
    from transpose_matrix import ConvSpec

    arguments = dict(arguments)
    if arguments.pop("transposed", False):
        return ConvSpec.from_transposed(**arguments)
    return ConvSpec(**arguments)


def describe(arguments: dict[str, Any]) -> str:
    """``ConvTranspose 4x4 s2 p1, 128->64, 16x16``-style text from a layer's arguments."""
    spec = _spec(arguments)
    transposed = arguments.get("transposed", False)
    shape = "x".join(map(str, arguments["input_shape"]))
    kernel = "x".join(map(str, spec.kernel_size))
    parts = [("ConvTranspose " if transposed else "") + kernel]
    if max(spec.stride) > 1:
        parts.append(f"s{max(spec.stride)}")
    if max(spec.dilation) > 1:
        parts.append(f"d{max(spec.dilation)}")
    padding = arguments.get("padding", 0)
    if padding:
        parts.append(f"p{padding}" if isinstance(padding, int) else f"p{padding[0]}")
    if spec.groups > 1:
        parts.append(f"g{spec.groups}")
    channels = (arguments["in_channels"], arguments["out_channels"])
    return f"{' '.join(parts)}, {channels[0]}->{channels[1]}, {shape}"


def _torch_calls(torch: Any, spec: Any, weight: Any, x: Any, y: Any) -> tuple[Callable, Callable]:
    """torch's own ``convNd`` and ``conv_transposeNd`` of the layer, as a user would call them."""
    functional = torch.nn.functional
    conv = (functional.conv1d, functional.conv2d, functional.conv3d)[spec.ndim - 1]
    conv_t = (functional.conv_transpose1d, functional.conv_transpose2d,
              functional.conv_transpose3d)[spec.ndim - 1]
    layer = dict(stride=spec.stride, dilation=spec.dilation, groups=spec.groups)
    transposed = spec.transposed_arguments()
    if spec.is_symmetric_padding:
        padding = [before for before, _ in spec.padding]

        def forward() -> Any:
            return conv(x, weight, padding=padding, **layer)
    else:
        amounts = [amount for pair in reversed(spec.padding) for amount in pair]

        def forward() -> Any:
            return conv(functional.pad(x, amounts), weight, **layer)
    if transposed is not None:
        arguments = dict(padding=transposed["padding"],
                         output_padding=transposed["output_padding"])

        def adjoint() -> Any:
            return conv_t(y, weight, **arguments, **layer)
    else:
        # A causal (one-sided) padding: the full transposed convolution, cropped.
        extra = [n + b + e - ((o - 1) * s + d * (k - 1) + 1) for n, (b, e), o, s, d, k in zip(
            spec.input_shape, spec.padding, spec.output_shape, spec.stride, spec.dilation,
            spec.kernel_size)]
        crop = (Ellipsis, *(slice(b, b + n) for (b, _), n in zip(spec.padding, spec.input_shape)))

        def adjoint() -> Any:
            return conv_t(y, weight, output_padding=extra, **layer)[crop]

    def no_grad(call: Callable) -> Callable:
        def run() -> Any:
            with torch.no_grad():
                return call()
        return run

    return no_grad(forward), no_grad(adjoint)


def _alternate(candidates: list[Callable], rounds: int, pause: float, calls: int | None = None,
               clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Median seconds per call of each candidate, from alternating blocks of about 100 ms."""
    for call in candidates:
        call()
    if calls is None:
        start = time.perf_counter()
        for call in candidates:
            call()
        spent = (time.perf_counter() - start) / len(candidates)
        calls = max(1, min(20, int(0.1 / max(spent, 1e-6))))
    times: list[list[float]] = [[] for _ in candidates]
    for _ in range(rounds):
        for call, store in zip(candidates, times):
            # Both libraries' idle worker threads spin for a while after a
            # call; the pause keeps them from stealing the other's cores.
            time.sleep(pause)
            for _ in range(calls):
                begin = clock()
                call()
                store.append(clock() - begin)
    return [statistics.median(store) for store in times]


def _layer(number: int, size: str, dtype: str) -> tuple[Any, ...]:
    """Spec, weight, x, y of panel layer ``number`` and torch's two calls on them."""
    import numpy as np
    import torch

    label, network, full, smoke = LAYERS[number]
    arguments = full if size == "full" else smoke
    spec = _spec(arguments)
    rng = np.random.default_rng(number)
    weight = rng.standard_normal(spec.weight_shape).astype(dtype)
    x = rng.standard_normal(spec.matrix_shape[1]).astype(dtype)
    y = rng.standard_normal(spec.matrix_shape[0]).astype(dtype)
    forward, adjoint = _torch_calls(
        torch, spec, torch.from_numpy(weight),
        torch.from_numpy(x.reshape(1, spec.in_channels, *spec.input_shape)),
        torch.from_numpy(y.reshape(1, spec.out_channels, *spec.output_shape)))
    return f"{label}: {describe(arguments)}", network, spec, weight, x, y, forward, adjoint


def _check(name: str, dtype: str, direction: str, mine: Any, reference: Any) -> None:
    """Stop unless ours computed what torch did (the comparison means nothing otherwise)."""
    import numpy as np

    error = np.abs(mine - reference).max() / max(1.0, np.abs(reference).max())
    if mine.dtype != np.dtype(dtype) or error > (1e-4 if dtype == "float32" else 1e-10):
        raise SystemExit(f"conv_operator differs from torch on {name} {dtype} {direction}: "
                         f"{mine.dtype}, relative error {error:.2e}")


def measure(size: str = "full", rounds: int = 7, dtypes: tuple[str, ...] = ("float32", "float64"),
            layers: list[int] | None = None, pause: float = 0.25,
            clock: Callable[[], float] = time.perf_counter,
            method: str = "auto", engines: tuple[str, ...] = ENGINES,
            threads: int | None = None) -> list[dict[str, Any]]:
    """Time every layer; one row per (layer, dtype, direction, engine), checked against torch.

    ``clock`` is wall time by default; ``time.process_time`` (the CPU time
    of the whole process) is steadier on a shared machine, but only
    comparable when every library runs one thread. Each row's engines and
    torch alternate in one loop. The numba engine's first call per dtype is
    printed (its compile time, or its disk cache's load time).
    """
    from transpose_matrix import conv_operator

    rows = []
    for number in range(len(LAYERS)):
        if layers is not None and number not in layers:
            continue
        for dtype in dtypes:
            name, network, spec, weight, x, y, forward, adjoint = _layer(number, size, dtype)
            ops = [conv_operator(spec, weight, method, engine=engine, threads=threads)
                   for engine in engines]
            for direction, theirs, data in (("matvec", forward, x), ("rmatvec", adjoint, y)):
                calls = [lambda op=op, data=data, direction=direction:
                         getattr(op, direction)(data) for op in ops]
                for engine, call in zip(engines, calls):
                    begin = time.perf_counter()
                    mine = call()
                    first = time.perf_counter() - begin
                    if engine == "numba":
                        FIRST_CALLS[dtype, direction] = max(
                            first, FIRST_CALLS.get((dtype, direction), 0.0))
                    _check(name, dtype, direction, mine, theirs().numpy().reshape(-1))
                *seconds, baseline = _alternate([*calls, theirs], rounds, pause,
                                                1 if size == "smoke" else None, clock)
                for engine, op, mine in zip(engines, ops, seconds):
                    rows.append(dict(layer=name, network=network, dtype=dtype,
                                     direction=direction, engine=engine, method=op.method,
                                     ours=mine, torch=baseline, ratio=mine / baseline))
                    print(f"  panel: {network} {name} {dtype} {direction} {engine} "
                          f"[{op.method}]: {mine * 1e3:.2f} ms vs {baseline * 1e3:.2f} ms "
                          f"({mine / baseline:.2f})", file=sys.stderr, flush=True)
    return rows


def compare(size: str = "full", rounds: int = 7, dtypes: tuple[str, ...] = ("float32", "float64"),
            layers: list[int] | None = None, pause: float = 0.25,
            clock: Callable[[], float] = time.perf_counter) -> str:
    """Every method of ``conv_operator`` and torch, alternating in one loop per row.

    Returns a markdown table of ratios ours / torch per method, matvec then
    rmatvec, with the method ``'auto'`` picks: the measurements behind
    :func:`~transpose_matrix.operator.auto_method`.
    """
    from transpose_matrix import conv_operator
    from transpose_matrix.operator import METHODS

    lines = ["| layer | dtype | auto | " + " | ".join(METHODS) + " |",
             "|" + "---|" * (3 + len(METHODS))]
    for number in range(len(LAYERS)):
        if layers is not None and number not in layers:
            continue
        for dtype in dtypes:
            name, network, spec, weight, x, y, forward, adjoint = _layer(number, size, dtype)
            ops = [conv_operator(spec, weight, method) for method in METHODS]
            ratios: list[list[float]] = []
            for direction, theirs, data in (("matvec", forward, x), ("rmatvec", adjoint, y)):
                calls = [getattr(op, direction) for op in ops]
                for call in calls:
                    _check(name, dtype, direction, call(data), theirs().numpy().reshape(-1))
                runs = [lambda call=call, data=data: call(data) for call in calls]
                times = _alternate([theirs, *runs], rounds, pause,
                                   1 if size == "smoke" else None, clock)
                ratios.append([t / times[0] for t in times[1:]])
            cells = " | ".join(f"{a:.2f} / {b:.2f}" for a, b in zip(*ratios))
            line = (f"| {network} {name.split(':')[0]} | {dtype} | "
                    f"{conv_operator(spec, weight).method} | {cells} |")
            print(line, file=sys.stderr, flush=True)
            lines.append(line)
    return "\n".join(lines)


def summary(rows: list[dict[str, Any]], dtype: str,
            engine: str | None = None) -> tuple[float, dict[str, Any]]:
    """Geometric mean of the ratios of ``dtype`` with ``engine`` and the worst row.

    ``engine`` defaults to the numba engine when the rows have it (the
    goals are stated for it), else the numpy engine.
    """
    if engine is None:
        engine = "numba" if any(row["engine"] == "numba" for row in rows) else "numpy"
    chosen = [row for row in rows if row["dtype"] == dtype and row["engine"] == engine]
    mean = math.exp(statistics.fmean(math.log(row["ratio"]) for row in chosen))
    return mean, max(chosen, key=lambda row: row["ratio"])


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} µs"


def markdown(rows: list[dict[str, Any]], judge: bool = True) -> str:
    """The panel as a markdown table, one line per layer, dtype and engine, then the summary."""
    lines = ["| network | layer | dtype | engine | method | matvec ours | torch conv | ratio "
             "| rmatvec ours | torch conv_transpose | ratio |", "|" + "---|" * 11]
    pairs: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
    for row in rows:
        pairs.setdefault((row["layer"], row["dtype"], row["engine"]), {})[row["direction"]] = row
    for (layer, dtype, engine), both in pairs.items():
        forward, adjoint = both["matvec"], both["rmatvec"]
        lines.append(
            f"| {forward['network']} | {layer} | {dtype} | {engine} | {forward['method']} "
            f"| {_time(forward['ours'])} | {_time(forward['torch'])} | {forward['ratio']:.2f} "
            f"| {_time(adjoint['ours'])} | {_time(adjoint['torch'])} | {adjoint['ratio']:.2f} |")
    lines.append("")
    for engine in dict.fromkeys(row["engine"] for row in rows):
        for dtype in sorted({row["dtype"] for row in rows}):
            mean, worst = summary(rows, dtype, engine)
            goal_mean, goal_worst = GOALS[dtype]
            verdict = ""
            if judge:
                verdict = (f" (goal ≤ {goal_mean}: {'met' if mean <= goal_mean else 'NOT met'}; "
                           f"worst goal ≤ {goal_worst}: "
                           f"{'met' if worst['ratio'] <= goal_worst else 'NOT met'})")
            lines.append(f"- {engine} engine, {dtype}: geometric mean {mean:.2f}, worst "
                         f"{worst['ratio']:.2f} ({worst['network']} {worst['layer']}, "
                         f"{worst['direction']}){verdict}")
    return "\n".join(lines)


def blas_threads() -> str:
    """Threads of numpy's BLAS, asked from the library itself (OpenBLAS) when possible."""
    import ctypes

    import numpy as np

    folder = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for library in sorted(folder.glob("*openblas*")):
        handle = ctypes.CDLL(str(library))
        for symbol in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads"):
            if hasattr(handle, symbol):
                return str(getattr(handle, symbol)())
    return f"unknown (OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny layers (checks only)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds per row")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of numpy's BLAS, both engines and torch (default: one "
                             "thread, then every core, each in a fresh process)")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help=f"conv_operator engines to time (default: {','.join(ENGINES)})")
    parser.add_argument("--layers", default=None, help="comma-separated layer numbers (0-11)")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--method", default="auto",
                        help="conv_operator's method= for every row (default: auto)")
    parser.add_argument("--compare", action="store_true",
                        help="time every method side by side: ratios matvec / rmatvec per method")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: the process's CPU time, steadier when other jobs share the "
                             "cores (needs --threads 1)")
    args = parser.parse_args(argv)
    if args.clock == "cpu" and args.threads != 1:
        parser.error("--clock cpu needs --threads 1 (CPU time adds up every thread)")
    if args.threads is None and not args.smoke:
        # Thread counts are read when the libraries load: one process per setting.
        arguments = list(sys.argv[1:] if argv is None else argv)
        status = 0
        for setting in ("1", str(use_threads(None, parser))):
            print(f"\n## --threads {setting}\n", flush=True)
            status |= subprocess.call([sys.executable, __file__, *arguments,
                                       "--threads", setting])
        return status
    threads = use_threads(args.threads, parser)
    # numba's worker threads too (before numba loads): idle ones would spin.
    os.environ["NUMBA_NUM_THREADS"] = str(threads)
    sys.path.insert(0, str(ROOT))
    import torch

    layers = None if args.layers is None else [int(n) for n in args.layers.split(",")]
    rounds = 1 if args.smoke else args.rounds
    options = dict(size="smoke" if args.smoke else "full", rounds=rounds,
                   dtypes=tuple(args.dtypes.split(",")), layers=layers,
                   pause=0.0 if args.smoke else 0.25,
                   clock=time.process_time if args.clock == "cpu" else time.perf_counter)
    numba = (f", numba {__import__('numba').config.NUMBA_NUM_THREADS}"
             if "numba" in args.engines else "")
    header = (f"threads: torch {torch.get_num_threads()}, numpy's BLAS {blas_threads()}{numba}, "
              f"requested {threads}; {args.clock} clock, medians of {rounds} alternating "
              "rounds; ratio = ours / torch\n")
    if args.compare:
        table = compare(**options)
        print(header)
        print(table)
        return 0
    rows = measure(**options, method=args.method, engines=tuple(args.engines.split(",")),
                   threads=threads)
    print(header)
    print(markdown(rows, judge=not args.smoke and layers is None and args.method == "auto"))
    if FIRST_CALLS:
        calls = ", ".join(f"{dtype} {direction} {seconds:.2f} s"
                          for (dtype, direction), seconds in FIRST_CALLS.items())
        print(f"- numba engine's slowest first call per dtype and direction (compiling, or "
              f"loading numba's disk cache): {calls}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
