"""The derivations: every script runs and checks its claims, and the notes compile.

The whole build (``derivations/build.py``) runs once per module into a
temporary folder: each script as a subprocess with ``--latex FILE``, then
pdflatex on ``notes.tex``. The referees are the scripts' own checks (torch
and Keras inside them) and pdflatex.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import transpose_matrix as tm

DERIVATIONS = Path(__file__).resolve().parent.parent / "derivations"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _load(name: str):
    if str(DERIVATIONS) not in sys.path:
        sys.path.insert(0, str(DERIVATIONS))
    spec = importlib.util.spec_from_file_location(f"derivations_{name}", DERIVATIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load("build")
common = _load("_common")


@pytest.fixture(scope="module")
def keras_available() -> None:
    """Keras is the referee of the 'same' padding derivation (like conftest's referees)."""
    if importlib.util.find_spec("keras") is None:
        message = "keras is required for derivations/same_padding.py and is missing"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: a missing referee fails)")
        pytest.skip(message)


@pytest.fixture(scope="module")
def built(tmp_path_factory, torch, pdflatex, keras_available) -> Path:
    """Run ``build.py`` once: all scripts, then pdflatex twice."""
    outdir = tmp_path_factory.mktemp("notes")
    status = build.main(["--outdir", str(outdir), "--pdflatex", pdflatex])
    assert status == 0, "derivations/build.py failed; run it by hand to see which claim"
    return outdir


@pytest.mark.parametrize("name", build.SCRIPTS)
def test_script_checks_its_claims_and_writes_latex(built, name):
    text = (built / "fragments" / f"{name}.txt").read_text(encoding="utf-8")
    tex = (built / "fragments" / f"{name}.tex").read_text(encoding="utf-8")
    match = re.search(r"^(\d+) claims checked\.$", text, re.MULTILINE)
    assert match, f"{name}.py did not finish its derivation:\n{text[-500:]}"
    claims = int(match.group(1))
    assert claims >= 5
    # Each claim is printed with a tick and typeset with a checkmark.
    assert text.count("✓ ") == claims
    assert tex.count(r"\par\noindent$\checkmark$") == claims
    assert re.search(r"^\\section\{", tex, re.MULTILINE)
    assert rf"\label{{sec:{name}}}" in tex
    # Fragments are plain ASCII LaTeX: Unicode prose was converted.
    assert tex.isascii()


def test_notes_compile_with_every_section(built):
    pdf = built / "notes.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    log = (built / "notes.log").read_text(errors="replace")
    pages = int(re.search(r"Output written on \S+ \((\d+) pages", log).group(1))
    assert pages >= 7
    toc = (built / "notes.toc").read_text(errors="replace")
    assert toc.count(r"\contentsline {section}") == len(build.SCRIPTS)
    assert "There were undefined references" not in log
    overfull = [float(p) for p in re.findall(r"Overfull \\hbox \(([\d.]+)pt", log)]
    assert all(points < 10 for points in overfull), f"lines run into the margin: {overfull}"


def test_a_fragment_compiles_on_its_own(built, pdflatex, tmp_path):
    # Fragments need nothing beyond what latex.document loads.
    body = (built / "fragments" / "checkerboard.tex").read_text(encoding="utf-8")
    pdf = tm.latex.compile_pdf(tm.latex.document(body, title="checkerboard"), tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_script_without_latex_prints_only(torch, tmp_path):
    env = dict(os.environ, KERAS_BACKEND="torch")
    result = subprocess.run(
        [sys.executable, str(DERIVATIONS / "checkerboard.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "The interior coverage is uniform exactly when s divides k." in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_failed_claim_raises_and_exits_nonzero(capsys, tmp_path):
    doc = common.Derivation("demo", "Demo", ["--latex", str(tmp_path / "demo.tex")])
    doc.check(1 + 1 == 2, "Arithmetic holds.")
    with pytest.raises(common.ClaimFailed, match=r"claim failed: Cᵀ = C⁺ \(off by 3\)"):
        doc.check(False, "Cᵀ = C⁺", "off by 3")

    def main() -> int:
        common.Derivation("demo", "Demo", []).check(False, "a false claim")
        return 0

    with pytest.raises(SystemExit) as exit_info:
        common.run(main)
    assert exit_info.value.code == 1
    assert "error: claim failed: a false claim" in capsys.readouterr().err


def test_tex_text_converts_prose():
    assert common.tex_text("Cᵀ = D·P·Z") == r"C$^{\mathsf{T}}$ = D$\cdot$P$\cdot$Z"
    assert common.tex_text("50% of x_1") == r"50\% of x\_1"
    assert common.tex_text("‖x̂ − x‖") == r"$\|$$\hat{x}$ $-$ x$\|$"
    with pytest.raises(ValueError, match=r"'☃' \(U\+2603\) has no LaTeX form"):
        common.tex_text("snow ☃")
