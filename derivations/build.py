"""Regenerate every derivation fragment and compile the lecture notes.

Run: ``python derivations/build.py [--outdir DIR] [--pdflatex PATH] [--jobs N]``.

Each script in :data:`SCRIPTS` runs with ``--latex DIR/fragments/NAME.tex``
and ``--html DIR/fragments/NAME.html`` (the documentation site's pages; its
text output goes to ``NAME.txt`` beside them); every script checks its own
claims and exits non-zero when one fails, which stops the build. Then
``notes.tex`` is compiled by pdflatex into ``DIR/notes.pdf``, pass after pass
until the labels settle (the ``.aux`` and ``.toc`` files stop changing and the
log asks for no rerun), so a fresh clone's table of contents is right.
``DIR`` defaults to this folder.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["MAX_PASSES", "SCRIPTS", "build", "compile_notes", "main"]

HERE = Path(__file__).resolve().parent

#: The derivations, in the order the notes present them.
SCRIPTS = (
    "output_sizes",
    "gradients",
    "zero_insertion",
    "kernel_equals_stride",
    "one_by_one",
    "im2col",
    "fixed_upsamplers",
    "checkerboard",
    "transposed_not_inverse",
    "same_padding",
    "subpixel",
    "reflect_padding",
    "spectra",
)


#: pdflatex passes before the build gives up on labels that keep moving.
MAX_PASSES = 5

# What pdflatex and its packages write when cross-references are stale.
_RERUN = re.compile(r"Rerun to get|Label\(s\) may have changed|rerunfilecheck Warning")


class BuildError(RuntimeError):
    """A script or pdflatex failed; the message says which and why."""


def _run_script(name: str, fragments: Path) -> float:
    env = dict(os.environ, KERAS_BACKEND="torch")
    command = [sys.executable, str(HERE / f"{name}.py"), "--latex", str(fragments / f"{name}.tex"),
               "--html", str(fragments / f"{name}.html")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    (fragments / f"{name}.txt").write_text(result.stdout, encoding="utf-8")
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).splitlines()[-15:])
        raise BuildError(f"derivations/{name}.py failed (exit {result.returncode}):\n{tail}")
    match = re.search(r"^(\d+) claims checked\.$", result.stdout, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _pdflatex(pdflatex: str, outdir: Path) -> str:
    command = [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "notes"]
    result = subprocess.run(
        command, cwd=outdir, capture_output=True, text=True, timeout=300, check=False
    )
    log = outdir / "notes.log"
    text = log.read_text(errors="replace") if log.exists() else result.stdout
    if result.returncode != 0:
        tail = "\n".join(text.splitlines()[-25:])
        raise BuildError(f"pdflatex failed on {outdir / 'notes.tex'}:\n{tail}")
    return text


def _labels(outdir: Path) -> tuple[bytes, ...]:
    return tuple(
        (outdir / f"notes.{ext}").read_bytes() if (outdir / f"notes.{ext}").exists() else b""
        for ext in ("aux", "toc", "out")
    )


def compile_notes(outdir: Path, pdflatex: str = "pdflatex") -> tuple[str, int]:
    """Run pdflatex on ``outdir/notes.tex`` until the labels settle; the last log and passes.

    Raises
    ------
    BuildError
        pdflatex failed, or the labels still moved after :data:`MAX_PASSES` passes.
    """
    for passes in range(1, MAX_PASSES + 1):
        before = _labels(outdir)
        log = _pdflatex(pdflatex, outdir)
        if _labels(outdir) == before and not _RERUN.search(log):
            return log, passes
    raise BuildError(f"the notes' labels still changed after {MAX_PASSES} pdflatex passes")


def build(outdir: Path, pdflatex: str = "pdflatex", jobs: int = 2) -> Path:
    """Run every script, then compile the notes; return the PDF's path."""
    fragments = outdir / "fragments"
    fragments.mkdir(parents=True, exist_ok=True)
    if outdir.resolve() != HERE:
        shutil.copyfile(HERE / "notes.tex", outdir / "notes.tex")
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        counts = dict(zip(SCRIPTS, pool.map(lambda n: _run_script(n, fragments), SCRIPTS)))
    for name, count in counts.items():
        print(f"  {name:<24} {count:>3} claims checked")
    log, passes = compile_notes(outdir, pdflatex)
    overfull = re.findall(r"^Overfull \\hbox \(([\d.]+)pt too wide\)", log, re.MULTILINE)
    if overfull:
        widest = max(map(float, overfull))
        print(f"  warning: {len(overfull)} lines run into the margin (up to {widest}pt)")
    pages = re.search(r"Output written on \S+ \((\d+) pages?", log)
    pdf = outdir / "notes.pdf"
    print(
        f"{sum(counts.values())} claims checked; {pdf} ({pages.group(1) if pages else '?'} "
        f"pages, {passes} pdflatex passes)"
    )
    return pdf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--outdir", type=Path, default=HERE, help="where fragments/ and notes.pdf go"
    )
    parser.add_argument("--pdflatex", default="pdflatex", help="the pdflatex executable")
    parser.add_argument("--jobs", type=int, default=2, help="scripts run at once")
    args = parser.parse_args(argv)
    try:
        build(args.outdir, args.pdflatex, args.jobs)
    except (BuildError, OSError, subprocess.TimeoutExpired) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
