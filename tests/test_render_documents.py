"""Exported LaTeX a person can edit: compiled by pdflatex, its log free of warnings."""

from __future__ import annotations

import pytest

from transpose_matrix.cli import main
from transpose_matrix.render import compile_pdf
from transpose_matrix.render.documents import ARGBREAK, document, fragment, pdf_string

LAYERS = {
    "transposed-3x3": ["--transposed", "--input", "3x3", "--stride", "2", "--padding", "1",
                       "--output-padding", "1"],
    "6x6-two-channels": ["--input", "6x6", "--stride", "2", "--padding", "1",
                         "--in-channels", "2", "--out-channels", "2"],
}
WARNINGS = ("Token not allowed", "No \\author given", "Overfull \\hbox", "LaTeX Warning")


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("kind", [[], ["--beamer"]], ids=["article", "beamer"])
def test_export_compiles_without_warnings(pdflatex, tmp_path, layer, kind):
    source = tmp_path / "doc.tex"
    assert main(["export", *LAYERS[layer], *kind, "--out", str(source)]) == 0
    tex = source.read_text()
    # The break between a call's arguments is a macro, defined once.
    assert tex.count(r"\nobreak\hskip0pt") == 1 and r"\argbreak\ " in tex
    compile_pdf(tex, tmp_path, name="doc")
    log = (tmp_path / "doc.log").read_text(errors="replace")
    for warning in WARNINGS:
        assert warning not in log, warning


def test_fragment_defines_the_macro_it_uses():
    assert ARGBREAK in fragment(r"\texttt{f(a,\argbreak\ b)}")
    assert ARGBREAK not in fragment("x")
    assert ARGBREAK in document(r"\texttt{f(a,\argbreak\ b)}")


def test_pdf_string_is_plain():
    title = r"ConvTranspose2d: \mbox{${3 \times 3}$ input} $\to$ \mbox{${6 \times 6}$ output}"
    assert pdf_string(title) == "ConvTranspose2d: 3 x 3 input -> 6 x 6 output"
    beamer = document("\\begin{frame}x\\end{frame}", latex_title=title, kind="beamer")
    assert rf"\title{{\texorpdfstring{{{title}}}{{{pdf_string(title)}}}}}" in beamer
