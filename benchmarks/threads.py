"""Thread counts for every benchmark script: one rule, set before numpy is imported.

Each script (``run.py``, ``panel.py``, ``bench_spectrum.py``) calls
:func:`use_threads` first thing in ``main``: BLAS reads its environment
variables when numpy is first imported, and torch is told the same count, so
both libraries run on as many threads as requested (default: every core this
process may use).
"""

from __future__ import annotations

import argparse
import os

__all__ = ["use_threads"]


def use_threads(requested: int | None, parser: argparse.ArgumentParser) -> int:
    """Set BLAS and torch to ``requested`` threads (every usable core if None); return it."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    threads = requested if requested is not None else cores
    if threads < 1:
        parser.error(f"--threads={threads} must be >= 1")
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    try:
        import torch
    except ImportError:
        return threads
    torch.set_num_threads(threads)
    return threads
