"""Notebook displays: the HTML read back by a real browser, the LaTeX compiled by pdflatex.

The browser and pdflatex are the shared fixtures of conftest.py (Debian chromium
through Playwright; a missing referee fails under CI=true).
"""

from __future__ import annotations

import pytest

from transpose_matrix import ConvSpec, solve_sizes, verify
from transpose_matrix.render import compile_pdf, document


def _cells(browser, markup: str) -> list[list[str]]:
    page = browser.new_page()
    page.set_content(f"<!doctype html><meta charset=utf-8><body>{markup}</body>")
    rows = page.eval_on_selector_all(
        "tr", "rows => rows.map(r => [...r.children].map(c => c.innerText))"
    )
    text = page.inner_text("body")
    page.close()
    return rows, text


@pytest.mark.slow
def test_spec_html_in_a_browser(browser):
    spec = ConvSpec((5, 5), 3, stride=2, padding=1, in_channels=2, out_channels=4)
    rows, _ = _cells(browser, spec._repr_html_())
    table = dict(rows)
    assert table["layer"].startswith("torch.nn.Conv2d(2, 4, kernel_size=(3, 3), stride=(2, 2)")
    assert table["geometry"] == "5 × 5 input, 3 × 3 kernel, stride 2, padding 1, 2 to 4 channels"
    assert table["output y"] == "4 × 3 × 3" and table["C"] == "36 × 50"


@pytest.mark.slow
def test_verify_report_html_in_a_browser(browser):
    report = verify(ConvSpec((6,), 3, stride=2), use_torch=False)
    rows, text = _cells(browser, report._repr_html_())
    assert rows[0] == ["check", "max error", "verdict"]
    assert [row[0] for row in rows[1:]] == list(report.errors)
    assert all(row[2] == "ok" for row in rows[1:])
    assert "all checks passed" in text and "dot test <Cx,y> vs <x,C.T y>" in text
    failing = type(report)(report.spec, report.referee, {"made up": 1.0})
    rows, text = _cells(browser, failing._repr_html_())
    assert rows[1] == ["made up", "1.000e+00", "FAIL"] and "SOME CHECKS FAILED" in text


def test_latex_reprs_compile(pdflatex, tmp_path):
    report = verify(ConvSpec((6,), 3, stride=2), use_torch=False)
    spec = ConvSpec((4, 4), 3, groups=2, in_channels=2, out_channels=2)
    solutions = solve_sizes(8, 16)[:3]
    pieces = [report._repr_latex_(), spec._repr_latex_()]
    pieces += [solution._repr_latex_() for solution in solutions]
    assert all(piece.startswith("$") and piece.endswith("$") for piece in pieces)
    assert r"\text{dot test }\langle\text{Cx,y}\rangle" in pieces[0]
    assert r"\mathrm{ConvTranspose}(k = " in pieces[2] and r"\colon 8 \to 16" in pieces[2]
    body = "\n\n".join(f"\\noindent {piece}" for piece in pieces)
    assert compile_pdf(document(body), tmp_path).exists()
