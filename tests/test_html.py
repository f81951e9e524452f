"""The interactive page, judged by a real browser: Debian's chromium driven by Playwright.

Each test loads the page from a file:// URL, hovers cells and reads which
elements the page's script lit up; the expected sets are the nonzeros of a
row or column of C built here with random nonzero weights, and their colours
the kernel taps worked out from the definition (input ``i = j*s - p + t*d``).
Every page load also records the browser's requests: the page must ask for
nothing but itself.
"""

from __future__ import annotations

import re
import struct

import numpy as np
import pytest
from tap_ref import taps_by_definition

import transpose_matrix as tm
from transpose_matrix import ConvSpec, ConvSpecError, conv_matrix, transposed_conv_matrix
from transpose_matrix.cli import main
from transpose_matrix.render.animate import tap_rgb
from transpose_matrix.render.html import MATRIX_COLS, MATRIX_ROWS, MAX_SIDE

CASES = {
    "textbook": ConvSpec((4, 4), 3),
    "padded strided": ConvSpec((6, 6), 3, stride=2, padding=1),
    "sixteen": ConvSpec((16, 16), 3, padding=1),
    "channels groups": ConvSpec((5, 5), 3, padding=1, in_channels=4, out_channels=2, groups=2),
    "1d dilated": ConvSpec((9,), 3, dilation=2, padding=2),
    "transposed odd": ConvSpec.from_transposed((3, 3), 1, 1, 3, stride=2, padding=1,
                                               output_padding=1),
    "large (elided)": ConvSpec((24, 24), 3, stride=1, padding=1),
}


def _weight(spec):
    rng = np.random.default_rng(7)
    return rng.uniform(0.5, 1.5, spec.weight_shape)


def _css_rgb(rgb):
    return f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})"


class Page:
    """One browser tab on a page file, with its requests and script errors recorded."""

    def __init__(self, browser, path, *, width=1366, height=768):
        self.tab = browser.new_page(viewport={"width": width, "height": height})
        self.requests, self.errors = [], []
        self.tab.on("request", lambda request: self.requests.append(request.url))
        self.tab.on("pageerror", lambda error: self.errors.append(str(error)))
        self.url = path.resolve().as_uri()
        self.tab.goto(self.url)

    def lit(self, kind):
        """{index: fill} of the lit cells of one grid (x or y), and the pale padding cells."""
        pairs = self.tab.eval_on_selector_all(
            f".tm-{kind}.hl",
            f"els => els.map(e => [e.getAttribute('data-{kind}'), e.querySelector('rect').style.fill])",
        )
        return {int(index): fill for index, fill in pairs}

    def lit_matrix(self):
        pairs = self.tab.eval_on_selector_all(
            ".tm-m.hl", "els => els.map(e => [e.getAttribute('data-r'), e.getAttribute('data-c')])"
        )
        return {(int(r), int(c)) for r, c in pairs}

    def text(self, selector):
        return self.tab.inner_text(selector)

    def close(self):
        self.tab.close()
        assert self.errors == []
        assert self.requests == [self.url], self.requests


@pytest.fixture
def open_page(browser, tmp_path):
    pages = []

    def _open(spec, *, transposed=False, **viewport):
        path = tmp_path / f"page{len(pages)}.html"
        tm.html_page(spec, transposed=transposed, out=path)
        page = Page(browser, path, **viewport)
        pages.append(page)
        return page

    yield _open
    for page in pages:
        page.close()


def _sample(count, k=5):
    return sorted({0, count - 1, *np.linspace(0, count - 1, k).round().astype(int).tolist()})


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_hover_output_lights_its_row_of_C(name, open_page):
    spec = CASES[name]
    C = conv_matrix(spec, _weight(spec)).tocsr()
    taps = taps_by_definition(spec)
    colors = tap_rgb(int(np.prod(spec.kernel_size)))
    page = open_page(spec)
    drawn = min(spec.in_channels, 4) * int(np.prod(spec.input_shape))
    for r in _sample(C.shape[0]):
        page.tab.hover(f".tm-y[data-y='{r}']")
        columns = set(C[[r], :].tocoo().col.tolist())
        lit = page.lit("x")
        assert set(lit) == {c for c in columns if c < drawn}, (name, r)
        assert all(lit[c] == _css_rgb(colors[taps[(r, c)]]) for c in lit)
        assert page.lit_matrix() == {(r, c) for c in columns}
        assert f"row {r} of C" in page.text(".tm-readout")
        # Taps in the padding light up too, paler: the rest of the kernel.
        pale = page.tab.locator(".tm-pad.hl").count()
        single = spec.in_channels // spec.groups
        assert pale + len(columns) == single * int(np.prod(spec.kernel_size))


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_hover_input_lights_its_column_of_C(name, open_page):
    spec = CASES[name]
    C = conv_matrix(spec, _weight(spec)).tocsc()
    taps = taps_by_definition(spec)
    colors = tap_rgb(int(np.prod(spec.kernel_size)))
    page = open_page(spec)
    drawn = min(spec.in_channels, 4) * int(np.prod(spec.input_shape))
    for c in _sample(drawn):
        page.tab.hover(f".tm-x[data-x='{c}']")
        rows = set(C[:, [c]].tocoo().row.tolist())
        drawn_rows = min(spec.out_channels, 4) * int(np.prod(spec.output_shape))
        lit = page.lit("y")
        assert set(lit) == {r for r in rows if r < drawn_rows}, (name, c)
        assert all(lit[r] == _css_rgb(colors[taps[(r, c)]]) for r in lit)
        assert page.lit_matrix() == {(r, c) for r in rows}
        assert f"column {c} of C" in page.text(".tm-readout")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["transposed odd", "textbook", "channels groups"])
def test_transposed_view_lights_columns_and_rows_of_Ct(name, open_page):
    spec = CASES[name]
    Ct = transposed_conv_matrix(spec, _weight(spec))
    page = open_page(spec, transposed=True)
    assert page.text(".tm-view.tm-on") == "ConvTranspose: Cᵀ"
    assert page.text(".tm-mtitle").startswith(f"Cᵀ: {Ct.shape[0]} × {Ct.shape[1]}")
    assert page.text(".tm-title").startswith(f"ConvTranspose{spec.ndim}d")
    # The transposed layer's input (y) comes first, its output (x) second.
    order = page.tab.eval_on_selector_all(".tm-tensor", "els => els.map(e => e.className)")
    assert order == ["tm-tensor tm-ys", "tm-tensor tm-xs"]
    csc, csr = Ct.tocsc(), Ct.tocsr()
    for j in _sample(Ct.shape[1], 3):
        page.tab.hover(f".tm-y[data-y='{j}']")
        reached = set(csc[:, [j]].tocoo().row.tolist())  # column j of Cᵀ: the scatter
        assert set(page.lit("x")) == {i for i in reached if i < 4 * np.prod(spec.input_shape)}
        assert page.lit_matrix() == {(j, i) for i in reached}
        assert f"column {j} of Cᵀ" in page.text(".tm-readout")
    for i in _sample(Ct.shape[0], 3):
        page.tab.hover(f".tm-x[data-x='{i}']")
        field = set(csr[[i], :].tocoo().col.tolist())  # row i of Cᵀ: receptive field
        assert set(page.lit("y")) == {j for j in field if j < 4 * np.prod(spec.output_shape)}
        assert f"row {i} of Cᵀ" in page.text(".tm-readout")
    # Back to the forward view: same highlight, named as C.
    page.tab.click(".tm-view[data-view='forward']")
    assert page.text(".tm-mtitle").startswith(f"C: {Ct.shape[1]} × {Ct.shape[0]}")


@pytest.mark.slow
def test_large_matrix_shows_a_window(open_page, tmp_path):
    spec = CASES["large (elided)"]
    page = open_page(spec)
    r = 300
    page.tab.hover(f".tm-y[data-y='{r}']")
    rows = page.tab.eval_on_selector_all(".tm-m", "els => [...new Set(els.map(e => +e.getAttribute('data-r')))]")
    cols = page.tab.eval_on_selector_all(".tm-m", "els => [...new Set(els.map(e => +e.getAttribute('data-c')))]")
    assert len(rows) == MATRIX_ROWS and r in rows
    assert len(cols) <= MATRIX_COLS
    assert "window" in page.text(".tm-mtitle")
    # The elided stretches are marked.
    assert "…" in page.text(".tm-matrix")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sixteen", "textbook", "channels groups", "transposed odd"])
def test_page_fits_a_laptop_screen_and_screenshots(name, open_page, tmp_path):
    spec = CASES[name]
    page = open_page(spec, transposed=name.startswith("transposed"))
    page.tab.hover(".tm-y[data-y='1']")
    width = page.tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366
    shot = tmp_path / f"{name.replace(' ', '_')}.png"
    page.tab.screenshot(path=str(shot))
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1366, 768)


@pytest.mark.slow
def test_two_pages_on_one_document_stay_apart(browser, tmp_path):
    # As in a notebook: two outputs, each with its own script, on one page.
    first = tm.html_page(CASES["textbook"])
    second = tm.html_page(CASES["padded strided"])
    assert first.ident != second.ident
    path = tmp_path / "notebook.html"
    path.write_text("<!DOCTYPE html><html><body>" + first._repr_html_() + second._repr_html_()
                    + "</body></html>", encoding="utf-8")
    page = Page(browser, path)
    page.tab.hover(f"#{second.ident} .tm-y[data-y='4']")
    C = conv_matrix(CASES["padded strided"], _weight(CASES["padded strided"])).tocsr()
    lit = page.tab.eval_on_selector_all(f"#{second.ident} .tm-x.hl",
                                        "els => els.map(e => +e.getAttribute('data-x'))")
    assert set(lit) == set(C[[4], :].tocoo().col.tolist())
    # The first page still shows its own initial row 0, untouched.
    assert page.tab.locator(f"#{first.ident} .tm-y.tm-active").get_attribute("data-y") == "0"
    page.close()


def test_page_is_self_contained():
    text = str(tm.html_page(CASES["channels groups"]))
    assert text.startswith("<!DOCTYPE html>")
    for forbidden in ("://", "<link", " src=", "url(", "@import", "fetch(", "XMLHttpRequest"):
        assert forbidden not in text, forbidden
    # Channels beyond four are elided from the drawing, not from the matrix.
    many = str(tm.html_page(ConvSpec((3, 3), 1, in_channels=6, out_channels=1)))
    assert many.count('class="tm-cell tm-x"') == 4 * 9
    assert "+2 more channels" in many


def test_html_command(tmp_path, capsys):
    out = tmp_path / "conv.html"
    assert main(["html", "--input", "5x5", "--stride", "2", "--out", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main(["html", "--transposed", "--input", "3", "--stride", "2"]) == 0
    assert '"transposed":true' in capsys.readouterr().out
    assert main(["html", "--input", "4x4x4"]) == 2
    assert "--input: pages draw 1-D and 2-D layers" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: tm.html_page(ConvSpec((3, 3, 3), 2)), "1-D and 2-D layers; this one is 3-D"),
        (lambda: tm.html_page(ConvSpec((MAX_SIDE, 4), 3, padding=1)), f"up to {MAX_SIDE} cells"),
        (lambda: tm.html_page((4, 4)), "must be a ConvSpec"),
    ],
)
def test_html_errors(call, message):
    with pytest.raises(ConvSpecError, match=re.escape(message)):
        call()


@pytest.mark.slow
def test_matrix_window_marks_channel_and_row_blocks(open_page):
    # 2 -> 2 channels, 4x4 in and out: C is 32 x 32, channels change at 16, grid rows every 4.
    spec = ConvSpec((4, 4), 3, padding=1, in_channels=2, out_channels=2)
    page = open_page(spec)
    page.tab.hover(".tm-y[data-y='21']")
    lines = page.tab.eval_on_selector_all(
        ".tm-matrix line",
        "els => els.map(e => [e.getAttribute('class'), e.getAttribute('x1') === e.getAttribute('x2')])",
    )
    assert lines.count(["tm-ch", True]) == 1 and lines.count(["tm-ch", False]) == 1
    # Light lines between grid rows: columns 4, 8, 12, 20, 24, 28; the window shows
    # rows 4..31, so rows 8, 12, 20, 24, 28 (its first row has no line above it).
    assert sum(c == "tm-rw" and upright for c, upright in lines) == 6
    assert sum(c == "tm-rw" and not upright for c, upright in lines) == 5


@pytest.mark.slow
def test_lit_cells_name_their_own_weight(open_page):
    # With channels, each lit input cell is labelled with the weight C holds
    # there, w with subscripts (o, c within the group, *tap), not just the tap.
    spec = ConvSpec((4, 4), 3, padding=1, in_channels=2, out_channels=4, groups=2)
    labels = conv_matrix(spec, np.arange(1, np.prod(spec.weight_shape) + 1).reshape(spec.weight_shape))
    labels = labels.tocsr()
    digits = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
    page = open_page(spec)
    for r in _sample(labels.shape[0]):
        page.tab.hover(f".tm-y[data-y='{r}']")
        row = labels[[r], :].tocoo()
        expected = {
            int(c): "w" + "".join(str(i) for i in np.unravel_index(int(v) - 1, spec.weight_shape)).translate(digits)
            for c, v in zip(row.col, row.data)
        }
        shown = dict(page.tab.eval_on_selector_all(
            ".tm-x.hl:not(.tm-pale)",
            "els => els.map(e => [Number(e.getAttribute('data-x')), e.querySelector('text').textContent])",
        ))
        assert shown == expected and all(shown.values()), r


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _name(letter, index):
    return letter + "".join(str(i) for i in index).translate(_SUB)


@pytest.mark.parametrize("name", ["transposed odd", "1d dilated"])
def test_scatter_narration_says_what_goes_where(name, open_page):
    # Weights 1, 2, 3, …: the value of C[j, i] names the weight, from the matrix alone.
    spec = CASES[name]
    weight = np.arange(1.0, 1 + np.prod(spec.weight_shape)).reshape(spec.weight_shape)
    C = conv_matrix(spec, weight).tocsr()
    kernel = spec.weight_shape[2:]
    page = open_page(spec, transposed=True)
    for j in _sample(C.shape[0], 4):
        page.tab.hover(f".tm-y[data-y='{j}']")
        y = _name("y", np.unravel_index(j, spec.output_shape))
        row = C[[j], :].tocoo()
        expected = [
            f"{y}·{_name('w', np.unravel_index(int(v) - 1, kernel))} to "
            f"{_name('x', np.unravel_index(i, spec.input_shape))}"
            for i, v in sorted(zip(row.col.tolist(), row.data.tolist()))
        ]
        # y_j adds y_j·w to each x that column j of Cᵀ reaches: the weight multiplies y.
        said = page.text(".tm-readout").split("\n")[0]
        assert said == f"{y} adds " + ", ".join(expected), said
