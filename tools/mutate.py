"""Mutation testing of the core modules: does some test notice when the code changes?

Usage (from the repository root; not run by CI, it takes tens of minutes)::

    python tools/mutate.py                          # every core module, 30 mutants each
    python tools/mutate.py --module geometry/spec.py --limit 0   # all of one module's
    python tools/mutate.py --list --module memory.py            # show the mutants only

Each mutant is one small change to one module's syntax tree:

* a comparison flipped or loosened (``<`` -> ``<=``, ``>=`` -> ``>``, ``==`` <-> ``!=``,
  ``is`` <-> ``is not``, ``in`` <-> ``not in``);
* an integer constant moved by one (``n`` -> ``n + 1`` and ``n - 1``);
* ``and`` <-> ``or``;
* a ``raise`` statement removed (replaced by ``pass``);
* ``+`` <-> ``-`` and ``//`` -> ``/`` in arithmetic.

Docstrings, ``__all__``, f-string contents and the display protocol
(``_latex``, ``_repr_*_``) are not mutated. The mutants of a module are
numbered in source order; ``--limit N`` picks ``N`` of them spread evenly
(with ``--seed`` choosing the offset), so reruns pick the same ones.

The package and tests are copied to a temporary folder; the heavy imports
(numpy, scipy, sympy, hypothesis, pytest, torch) happen once, and each
mutant is run in a forked child that imports the mutated package afresh
and runs that module's test files (``TESTS`` below) and its doctests with ``-x``,
``-p no:cacheprovider``, hypothesis seeded, and a timeout. A mutant is
*killed* when a test fails (or the run times out), *survives* when all
pass. The process pins itself to one CPU and one BLAS thread so it can run
beside other work. Survivors are printed with their line and change, to be
judged by hand: equivalent (no observable behaviour changes), or a
missing test.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The core modules and the test files that judge each.
TESTS = {
    "geometry/spec.py": ["test_spec.py", "test_spec_boundaries.py", "test_shapes.py"],
    "geometry/shapes.py": ["test_shapes.py", "test_spec.py", "test_spec_boundaries.py"],
    "matrices/conv.py": ["test_matrix.py", "test_memory_estimates.py", "test_padding_modes.py"],
    "matrices/symbolic.py": ["test_symbolic.py", "test_matrix_boundaries.py"],
    "matrices/resampling.py": ["test_upsample.py", "test_padding_modes.py",
                               "test_matrix_boundaries.py", "test_modules.py"],
    "memory.py": ["test_memory.py", "test_memory_estimates.py"],
    "operator/numpy_backend.py": ["test_operator.py", "test_auto_method.py"],
}

_COMPARE_SWAPS = {
    ast.Lt: (ast.LtE,), ast.LtE: (ast.Lt,), ast.Gt: (ast.GtE,), ast.GtE: (ast.Gt,),
    ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,), ast.NotIn: (ast.In,),
}
_BINOP_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.FloorDiv: ast.Div}
_SKIPPED_FUNCTIONS = {"_latex", "_repr_latex_", "_repr_html_", "_repr_png_", "__repr__"}


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int  # the site's number in a walk of the tree
    line: int
    change: str
    apply_kind: str
    payload: object = None


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes never mutated: docstrings, __all__, f-strings, display methods."""
    skipped: set[int] = set()

    def skip(node: ast.AST) -> None:
        skipped.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(
            body[0].value, ast.Constant
        ) and isinstance(body[0].value.value, str):
            skip(body[0])
        if isinstance(node, ast.JoinedStr):
            skip(node)
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            skip(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
            node.name in _SKIPPED_FUNCTIONS
        ):
            skip(node)
        # Annotations and default text of messages do not behave.
        if isinstance(node, ast.AnnAssign) and node.annotation is not None:
            skip(node.annotation)
    return skipped


def _sites(tree: ast.AST) -> list[tuple[ast.AST, str, object, str]]:
    """(node, kind, payload, description) for every mutation of ``tree``, in walk order."""
    skipped = _skipped_nodes(tree)
    sites = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Compare):
            for position, op in enumerate(node.ops):
                for new in _COMPARE_SWAPS.get(type(op), ()):
                    sites.append((node, "compare", (position, new),
                                  f"{type(op).__name__} -> {new.__name__}"))
        elif isinstance(node, ast.BoolOp):
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            sites.append((node, "boolop", new, f"{type(node.op).__name__} -> {new.__name__}"))
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
            new = _BINOP_SWAPS[type(node.op)]
            sites.append((node, "binop", new, f"{type(node.op).__name__} -> {new.__name__}"))
        elif (isinstance(node, ast.Constant) and type(node.value) is int):
            for delta in (1, -1):
                sites.append((node, "constant", delta,
                              f"{node.value} -> {node.value + delta}"))
        elif isinstance(node, ast.Raise):
            sites.append((node, "raise", None, "raise removed"))
    return sites


def mutants_of(module: str) -> list[Mutant]:
    source = (ROOT / "transpose_matrix" / module).read_text(encoding="utf-8")
    tree = ast.parse(source)
    return [
        Mutant(module, i, getattr(node, "lineno", 0), change, kind, payload)
        for i, (node, kind, payload, change) in enumerate(_sites(tree))
    ]


def mutated_source(mutant: Mutant) -> str:
    source = (ROOT / "transpose_matrix" / mutant.module).read_text(encoding="utf-8")
    tree = ast.parse(source)
    node, kind, payload, _ = _sites(tree)[mutant.index]
    if kind == "compare":
        position, new = payload
        node.ops[position] = new()
    elif kind == "boolop":
        node.op = payload()
    elif kind == "binop":
        node.op = payload()
    elif kind == "constant":
        node.value = node.value + payload
    elif kind == "raise":
        # Replace the statement in its parent's body by `pass`.
        for parent in ast.walk(tree):
            for field in ("body", "orelse", "finalbody", "handlers"):
                body = getattr(parent, field, None)
                if isinstance(body, list) and node in body:
                    body[body.index(node)] = ast.copy_location(ast.Pass(), node)
    return ast.unparse(ast.fix_missing_locations(tree))


def pick(mutants: list[Mutant], limit: int, seed: int) -> list[Mutant]:
    """``limit`` mutants spread evenly over the module (all when ``limit`` is 0)."""
    if not limit or limit >= len(mutants):
        return mutants
    step = len(mutants) / limit
    return [mutants[int((k + (seed % 97) / 97) * step) % len(mutants)] for k in range(limit)]


def _run_child(workdir: Path, module: Path, tests: list[str], timeout: int) -> str:
    """Fork; the child runs ``tests`` and ``module``'s doctests on the mutated copy.

    Returns 'killed', 'survived' or 'timeout'.
    """
    pid = os.fork()
    if pid == 0:  # the child
        try:
            for name in [m for m in sys.modules if m.split(".")[0] == "transpose_matrix"]:
                del sys.modules[name]
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            import pytest

            code = pytest.main([
                *(str(workdir / "tests" / t) for t in tests), str(module),
                "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                "-o", "addopts=", "--doctest-modules", "--hypothesis-seed=0", "-W", "ignore",
            ])
        except BaseException:  # noqa: BLE001 - anything that breaks the run kills the mutant
            code = 3
        os._exit(int(code))
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", choices=sorted(TESTS),
                        help="a core module (repeatable; default: all)")
    parser.add_argument("--limit", type=int, default=30, help="mutants per module (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=240, help="seconds per mutant")
    parser.add_argument("--index", type=int, action="append",
                        help="run only this mutant number (repeatable; with one --module)")
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    args = parser.parse_args(argv)
    modules = args.module or sorted(TESTS)

    chosen = {m: pick(mutants_of(m), args.limit, args.seed) for m in modules}
    if args.index:
        chosen = {m: [mutants_of(m)[i] for i in args.index] for m in modules}
    if args.list:
        for module, mutants in chosen.items():
            for mutant in mutants:
                print(f"{module}:{mutant.line}: {mutant.change}  (#{mutant.index})")
        return 0

    # One CPU, one BLAS thread: this runs beside other people's work.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    os.environ.pop("CI", None)
    os.environ["HYPOTHESIS_PROFILE"] = "dev"

    workdir = Path(tempfile.mkdtemp(prefix="mutate-"))
    try:
        shutil.copytree(ROOT / "transpose_matrix", workdir / "transpose_matrix",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "tests", workdir / "tests",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "pyproject.toml", workdir / "pyproject.toml")
        os.chdir(workdir)
        sys.path.insert(0, str(workdir))
        sys.dont_write_bytecode = True
        # The heavy imports, once, before any fork.
        import hypothesis  # noqa: F401
        import numpy  # noqa: F401
        import pytest  # noqa: F401
        import scipy.sparse  # noqa: F401
        import sympy  # noqa: F401

        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:
            pass

        # The unmutated tests must pass, or every mutant would look killed.
        for module in modules:
            target = workdir / "transpose_matrix" / module
            if _run_child(workdir, target, TESTS[module], args.timeout * 3) != "survived":
                print(f"{module}: its tests fail without any mutation; fix that first")
                return 2
        totals = {"killed": 0, "survived": 0, "timeout": 0}
        survivors = []
        for module, mutants in chosen.items():
            target = workdir / "transpose_matrix" / module
            original = target.read_text(encoding="utf-8")
            counts = {"killed": 0, "survived": 0, "timeout": 0}
            start = time.monotonic()
            for mutant in mutants:
                target.write_text(mutated_source(mutant), encoding="utf-8")
                try:
                    outcome = _run_child(workdir, target, TESTS[module], args.timeout)
                finally:
                    target.write_text(original, encoding="utf-8")
                counts[outcome] += 1
                if outcome == "survived":
                    survivors.append(mutant)
                    print(f"SURVIVED {module}:{mutant.line}: {mutant.change} (#{mutant.index})",
                          flush=True)
            for key in totals:
                totals[key] += counts[key]
            print(f"{module}: {len(mutants)} mutants, {counts['killed']} killed, "
                  f"{counts['timeout']} timed out, {counts['survived']} survived "
                  f"({time.monotonic() - start:.0f} s)", flush=True)
        run = sum(totals.values())
        dead = totals["killed"] + totals["timeout"]
        print(f"total: {run} mutants, {dead} killed ({100 * dead / max(run, 1):.1f} %), "
              f"{totals['survived']} survived")
        return 0
    finally:
        os.chdir(ROOT)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
