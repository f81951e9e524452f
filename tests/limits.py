"""Run code in a child process with bounded memory and time, and measure it.

A regression in a guard must fail fast instead of eating the machine: each
call here runs a fresh Python in its own session under ``RLIMIT_AS`` (address
space, default 2 GiB) with a wall-clock timeout, and reports its exit status,
output, elapsed seconds and peak resident memory (from ``wait4``, so the
number is this child's own).

Used by ``test_bad_input.py`` for the pathological library vectors; the
command-line tables use :func:`run_cli` the same way, and
:func:`run_cli_batch` runs many command lines in one limited child (each
with its own deadline, time and traced peak memory), so a table of
pathological sizes costs one interpreter start, not one per row.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import transpose_matrix

__all__ = [
    "GiB",
    "DEFAULT_MEMORY",
    "DEFAULT_TIMEOUT",
    "Limited",
    "run_limited",
    "run_python",
    "run_cli",
    "run_cli_batch",
    "library_call",
]

GiB = 2**30
#: Address-space limit of a child: importing numpy, scipy and sympy needs
#: well under 1 GiB, so anything near the limit is a guard that did not fire.
DEFAULT_MEMORY = 2 * GiB
#: Seconds a child may run before it is killed.
DEFAULT_TIMEOUT = 60.0

# The package under test (a worktree, not necessarily the installed one).
PACKAGE_ROOT = str(Path(transpose_matrix.__file__).resolve().parent.parent)


@dataclass(frozen=True)
class Limited:
    """What a limited child did: status (``None`` if killed on timeout), output, cost."""

    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    max_rss: int  # bytes
    timed_out: bool

    def describe(self) -> str:
        return (
            f"returncode={self.returncode} timed_out={self.timed_out} "
            f"seconds={self.seconds:.2f} max_rss={self.max_rss / 2**20:.0f} MiB\n"
            f"stdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}"
        )


def _environment(extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    # One BLAS/OpenMP thread: each thread reserves address space of its own.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    env.setdefault("PYTHONHASHSEED", "0")
    env.update(extra or {})
    return env


def run_limited(
    argv: list[str],
    *,
    memory: int = DEFAULT_MEMORY,
    timeout: float = DEFAULT_TIMEOUT,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    stdin: str | None = None,
) -> Limited:
    """Run ``argv`` under ``RLIMIT_AS = memory`` for at most ``timeout`` seconds."""

    def limit() -> None:  # runs in the child, before exec
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=_environment(env),
            preexec_fn=limit,
            start_new_session=True,
        )
        if stdin is not None:
            process.stdin.write(stdin.encode())
            process.stdin.close()
        timed_out = False
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                timed_out = True
                os.killpg(process.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.monotonic() - start
        # wait4 reaped the child; tell Popen so it does not wait again.
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Limited(
            returncode=None if timed_out else process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            seconds=seconds,
            max_rss=usage.ru_maxrss * 1024,  # Linux reports kibibytes
            timed_out=timed_out,
        )


def run_python(code: str, **kwargs) -> Limited:
    """:func:`run_limited` of ``python -c code``."""
    return run_limited([sys.executable, "-c", code], **kwargs)


def run_cli(args: list[str], **kwargs) -> Limited:
    """:func:`run_limited` of ``python -m transpose_matrix *args``."""
    return run_limited([sys.executable, "-m", "transpose_matrix", *args], **kwargs)


_LIBRARY_CALL = """
import json, sys
import numpy as np
import transpose_matrix as tm
from transpose_matrix import ConvSpec
{setup}
try:
    result = ({expression})
    report = {{"outcome": "returned", "repr": repr(result)[:200]}}
except BaseException as error:
    report = {{
        "outcome": "raised",
        "type": type(error).__name__,
        "mro": [c.__name__ for c in type(error).__mro__],
        "field": getattr(error, "field", None),
        "message": str(error),
    }}
sys.stdout.write("\\n" + json.dumps(report) + "\\n")
"""


def library_call(expression: str, setup: str = "", **kwargs) -> dict:
    """Evaluate ``expression`` in a limited child; return what happened as a dict.

    The child has ``np``, ``tm`` (the package, whose names load lazily) and
    ``ConvSpec`` imported; ``setup`` runs first.

    Keys: ``outcome`` (``"returned"`` or ``"raised"``), then ``repr`` or
    ``type``, ``mro`` (class names), ``field``, ``message``; and ``limited``,
    the :class:`Limited` record (seconds, peak memory, raw output). A child
    that dies (killed, out of memory before Python could report) has
    ``outcome`` ``"died"``.
    """
    limited = run_python(_LIBRARY_CALL.format(expression=expression, setup=setup), **kwargs)
    lines = [line for line in limited.stdout.splitlines() if line.startswith("{")]
    if limited.returncode != 0 or not lines:
        return {"outcome": "died", "limited": limited}
    report = json.loads(lines[-1])
    report["limited"] = limited
    return report


_CLI_BATCH = """
import contextlib, io, json, signal, sys, time, tracemalloc
from transpose_matrix.cli import main


class Late(BaseException):
    pass


def late(*_):
    raise Late


signal.signal(signal.SIGALRM, late)
for argv in json.loads(sys.stdin.read()):
    out, err = io.StringIO(), io.StringIO()
    status = crash = None
    tracemalloc.start()
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, {deadline})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv)
    except Late:
        crash = "deadline"
    except BaseException as error:
        crash = type(error).__name__ + ": " + str(error)[:500]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    seconds = time.monotonic() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    text = out.getvalue()
    record = {{"argv": argv, "status": status, "crash": crash, "stdout_size": len(text),
              "stdout": text[:2**20], "stderr": err.getvalue(), "seconds": seconds,
              "peak": peak}}
    sys.__stdout__.write("\\n" + json.dumps(record) + "\\n")
    sys.__stdout__.flush()
"""


def run_cli_batch(
    vectors: list[list[str]], *, deadline: float = 20.0, **kwargs
) -> tuple[list[dict], Limited]:
    """Run ``main(argv)`` for each of ``vectors`` in one limited child.

    Each run is stopped after ``deadline`` seconds (SIGALRM; its record says
    ``crash == "deadline"``) and reports ``status``, ``stdout`` (its first
    MiB, and ``stdout_size``), ``stderr``, ``seconds`` and
    ``peak`` (bytes, from :mod:`tracemalloc`, which numpy reports to), or
    ``crash`` for an exception that escaped ``main``. The whole child runs
    under :func:`run_limited`'s ``RLIMIT_AS`` and timeout; records of runs
    after a child that died are missing, and the :class:`Limited` tells why.
    """
    limited = run_python(
        _CLI_BATCH.format(deadline=float(deadline)), stdin=json.dumps(vectors), **kwargs
    )
    records = [
        json.loads(line) for line in limited.stdout.splitlines() if line.startswith("{")
    ]
    return records, limited
