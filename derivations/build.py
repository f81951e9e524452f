"""Regenerate every derivation fragment and compile the lecture notes.

Run: ``python derivations/build.py [--outdir DIR] [--pdflatex PATH] [--jobs N]``.

Each script in :data:`SCRIPTS` runs with ``--latex DIR/fragments/NAME.tex``
(its text output goes to ``NAME.txt`` beside it); every script checks its own
claims and exits non-zero when one fails, which stops the build. Then
``notes.tex`` is compiled twice by pdflatex (the second pass fills in the
table of contents) into ``DIR/notes.pdf``. ``DIR`` defaults to this folder.
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

__all__ = ["SCRIPTS", "build", "main"]

HERE = Path(__file__).resolve().parent

#: The derivations, in the order the notes present them.
SCRIPTS = (
    "zero_insertion",
    "kernel_equals_stride",
    "one_by_one",
    "fixed_upsamplers",
    "checkerboard",
    "transposed_not_inverse",
    "same_padding",
)


class BuildError(RuntimeError):
    """A script or pdflatex failed; the message says which and why."""


def _run_script(name: str, fragments: Path) -> float:
    env = dict(os.environ, KERAS_BACKEND="torch")
    command = [sys.executable, str(HERE / f"{name}.py"), "--latex", str(fragments / f"{name}.tex")]
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
    _pdflatex(pdflatex, outdir)
    log = _pdflatex(pdflatex, outdir)
    overfull = re.findall(r"^Overfull \\hbox \(([\d.]+)pt too wide\)", log, re.MULTILINE)
    wide = [float(points) for points in overfull if float(points) > 10]
    if wide:
        print(f"  warning: {len(wide)} lines run more than 10pt into the margin")
    pages = re.search(r"Output written on \S+ \((\d+) pages?", log)
    pdf = outdir / "notes.pdf"
    print(
        f"{sum(counts.values())} claims checked; {pdf} ({pages.group(1) if pages else '?'} pages)"
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
