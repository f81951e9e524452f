"""The derivations: every script runs and checks its claims, and the notes read right.

The whole build (``derivations/build.py``) runs once per module into a
temporary folder: each script as a subprocess with ``--latex FILE``, then
pdflatex on ``notes.tex`` until its labels settle. The referees are the
scripts' own checks (torch and Keras inside them), pdflatex, and poppler's
``pdftotext`` and ``pdffonts`` reading the PDF that came out.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require

from transpose_matrix import Derivation
from transpose_matrix.render import compile_pdf, document

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


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    require(f"{tool} (poppler-utils)", path is not None)
    return path


@pytest.fixture(scope="module")
def keras_available() -> None:
    """Keras is the referee of the 'same' padding derivation (like conftest's referees)."""
    require("keras", importlib.util.find_spec("keras") is not None)


@pytest.fixture(scope="module")
def built(tmp_path_factory, torch, pdflatex, keras_available) -> Path:
    """Run ``build.py`` once: all scripts, then pdflatex until the labels settle."""
    outdir = tmp_path_factory.mktemp("notes")
    status = build.main(["--outdir", str(outdir), "--pdflatex", pdflatex])
    assert status == 0, "derivations/build.py failed; run it by hand to see which claim"
    return outdir


@pytest.fixture(scope="module")
def pages(built) -> list[str]:
    """The text of every page of notes.pdf, as pdftotext reads it."""
    text = subprocess.run(
        [_poppler("pdftotext"), "-layout", str(built / "notes.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return text.split("\f")


@pytest.mark.slow
@pytest.mark.parametrize("name", build.SCRIPTS)
def test_script_checks_its_claims_and_writes_latex(built, name):
    text = (built / "fragments" / f"{name}.txt").read_text(encoding="utf-8")
    tex = (built / "fragments" / f"{name}.tex").read_text(encoding="utf-8")
    match = re.search(r"^(\d+) claims checked\.$", text, re.MULTILINE)
    assert match, f"{name}.py did not finish its derivation:\n{text[-500:]}"
    claims = int(match.group(1))
    assert claims >= 5
    # Each claim is printed with a tick and typeset with a checkmark; none failed.
    assert text.count("✓ ") == claims and "FAILED" not in text
    assert tex.count(r"\par\noindent$\checkmark$") == claims
    assert re.search(r"^\\section\{", tex, re.MULTILINE)
    assert rf"\label{{sec:{name}}}" in tex
    assert f"All {claims} claims of this section held when it was built." in tex
    # Prose maths is maths, code is typewriter with straight quotes, nothing reads lhs = rhs.
    assert "\\texttt{'" not in tex and "'}" not in tex
    for raw in ("k_eff", "w\\_\\{", "\\$", "lhs", "simplify("):
        assert raw not in tex, raw


@pytest.mark.slow
def test_the_notes_compile_settled_and_fit(built):
    pdf = built / "notes.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    log = (built / "notes.log").read_text(errors="replace")
    pages = int(re.search(r"Output written on \S+ \((\d+) pages", log).group(1))
    assert pages >= len(build.SCRIPTS)
    toc = (built / "notes.toc").read_text(errors="replace")
    assert toc.count(r"\contentsline {section}") == len(build.SCRIPTS)
    assert "There were undefined references" not in log
    assert not re.search(r"Rerun to get|Label\(s\) may have changed", log)
    assert re.findall(r"Overfull \\hbox \(([\d.]+)pt", log) == []


@pytest.mark.slow
def test_table_of_contents_page_numbers_are_right(built, pages):
    # Where pdftotext finds each section heading is the page the contents must show.
    toc = (built / "notes.toc").read_text(errors="replace")
    entries = re.findall(
        r"\\contentsline \{section\}\{\\numberline \{(\d+)\}(.*)\}\{(\d+)\}\{section\.\d+\}%",
        toc,
    )
    assert len(entries) == len(build.SCRIPTS)
    for number, title, page in entries:
        # The first plain word of the title, past maths and commands.
        words = re.sub(r"\$[^$]*\$|\\[A-Za-z]+|[{}]", " ", title).split()
        word = next(w for w in words if w.isalpha())
        heading = re.compile(rf"^\s*{number}\s{{2,}}.*\b{word}\b", re.MULTILINE)
        found = [i + 1 for i, text in enumerate(pages) if heading.search(text)]
        assert found == [int(page)], (number, word, page, found)


@pytest.mark.slow
def test_notes_use_scalable_fonts_and_straight_quotes(built, pages):
    fonts = subprocess.run(
        [_poppler("pdffonts"), str(built / "notes.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert "Type 3" not in fonts
    text = "".join(pages)
    assert "'same'" in text and "‘same’" not in text and "’same’" not in text
    # Markup never reaches the page.
    for raw in ("k_eff", "w_{", "\\mathrm", "$", "lhs = ", "simplify("):
        assert raw not in text, raw


@pytest.mark.slow
def test_a_fragment_compiles_on_its_own(built, pdflatex, tmp_path):
    # Fragments need nothing beyond what render.document loads.
    body = (built / "fragments" / "checkerboard.tex").read_text(encoding="utf-8")
    pdf = compile_pdf(document(body, title="checkerboard"), tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.slow
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
    assert "✓ The interior coverage is uniform exactly when s divides k." in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_script_help_has_an_example(capsys):
    with pytest.raises(SystemExit) as exit_info:
        common.main(lambda: Derivation("x"), str(DERIVATIONS / "checkerboard.py"), ["--help"])
    assert exit_info.value.code == 0
    assert "example: python derivations/checkerboard.py --latex checkerboard.tex" in (
        capsys.readouterr().out
    )


def test_a_failed_claim_exits_1_and_writes_nothing(capsys, tmp_path):
    def failing() -> Derivation:
        doc = Derivation("Demo")
        doc.step("Arithmetic")
        doc.check(1 + 1 == 2, "One and one make two.")
        doc.check(False, r"$C^{\mathsf T} = C^{+}$.", "off by $3$")
        return doc

    target = tmp_path / "demo.tex"
    status = common.main(failing, "demo.py", ["--latex", str(target)])
    assert status == 1 and not target.exists()
    out, err = capsys.readouterr()
    assert "2 claims checked." in out
    assert "error: in 'Arithmetic': ✗ FAILED: Cᵀ = C⁺ (off by 3)." in err


def test_a_passing_script_writes_a_numbered_section(capsys, tmp_path):
    def passing() -> Derivation:
        doc = Derivation("Demo")
        doc.check(True, "It holds.")
        return doc

    target = tmp_path / "demo.tex"
    assert common.main(passing, "demo.py", ["--latex", str(target)]) == 0
    tex = target.read_text(encoding="utf-8")
    assert "\\section{Demo}\n\\label{sec:demo}\n" in tex
    assert "\\texttt{derivations/demo.py}" in tex
    assert f"LaTeX written to {target}" in capsys.readouterr().out


def test_max_error_and_difference():
    import numpy as np
    import scipy.sparse

    assert common.max_error(scipy.sparse.eye(2), np.array([[1.0, 0.5], [0, 1]])) == 0.5
    with pytest.raises(ValueError, match=r"shapes differ: \(2,\) vs \(3,\)"):
        common.max_error(np.zeros(2), np.zeros(3))
    assert common.difference(4.44e-16) == "largest difference $4.4 \\times 10^{-16}$"
    assert common.difference(0.0, "ratio") == "ratio $0$"


def test_build_stops_when_labels_keep_moving(tmp_path, monkeypatch):
    # A document whose contents change on every pass can never settle.
    calls = []

    def moving(pdflatex, outdir):
        calls.append(pdflatex)
        (outdir / "notes.aux").write_text(f"pass {len(calls)}")
        return ""

    monkeypatch.setattr(build, "_pdflatex", moving)
    with pytest.raises(build.BuildError, match=f"after {build.MAX_PASSES} pdflatex passes"):
        build.compile_notes(tmp_path)
    assert len(calls) == build.MAX_PASSES
