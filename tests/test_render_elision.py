"""Elided matrices keep rows and columns together: no shown line hides all its entries.

For a grid of geometries, C and Cᵀ are printed elided (text and LaTeX, by row
count, column count and typeset width); the rows and columns shown are read
back from the labels the printers write, and checked against the pattern of
the full C from ``conv_matrix``: every shown row and every shown column that
holds an entry in the full matrix shows one, and every printed cell is zero
exactly where C is.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import transpose_matrix as tm
from transpose_matrix.render.elision import Kept, keep_around, keep_band, keep_ends, keep_ranges
from transpose_matrix.render.text import render
from transpose_matrix.render.views import ConvMatrixView

SPECS = {
    "issue-transposed-3x3": tm.ConvSpec.from_transposed(
        (3, 3), 1, 1, 3, stride=2, padding=1, output_padding=1
    ),
    "issue-6x6-two-channels": tm.ConvSpec(
        (6, 6), 3, stride=2, padding=1, in_channels=2, out_channels=2
    ),
    "groups": tm.ConvSpec((6, 6), 3, stride=2, padding=1, in_channels=4, out_channels=6, groups=2),
    "holes": tm.ConvSpec((7, 7), 2, stride=3),
    "dilated-padded": tm.ConvSpec((5, 5), 3, padding=2, dilation=2),
    "same-8x8": tm.ConvSpec((8, 8), 3, padding=1),
    "1d-long": tm.ConvSpec((40,), 3, stride=2, padding=1),
    "1d-crop": tm.ConvSpec((17,), 4, stride=3, padding=[(2, -1)], dilation=2),
    "channels-5x5": tm.ConvSpec((5, 5), 5, padding=2, in_channels=3, out_channels=2),
    "reflect": tm.ConvSpec((6, 6), 3, stride=2, padding=1, padding_mode="reflect"),
}


def _labels(letter: str, channels: int, shape: tuple[int, ...]) -> dict[str, int]:
    """Label text (``x_{0,1}`` / ``x₀₁``) of every flat index, written from the definition."""
    table = {}
    digits = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
    for flat, index in enumerate(np.ndindex(channels, *shape)):
        parts = [str(i) for i in (index if channels > 1 else index[1:])]
        table[f"{letter}_{{{','.join(parts)}}}"] = flat
        joiner = "." if any(len(p) > 1 for p in parts) else ""
        table[letter + joiner.join(parts).translate(digits)] = flat
    return table


def _axes(spec: tm.ConvSpec, transposed: bool) -> tuple[dict[str, int], dict[str, int]]:
    outputs = _labels("y", spec.out_channels, spec.output_shape)
    inputs = _labels("x", spec.in_channels, spec.input_shape)
    return (inputs, outputs) if transposed else (outputs, inputs)


def _pattern(spec: tm.ConvSpec, transposed: bool) -> np.ndarray:
    # All-ones weights: an entry is nonzero exactly where C stores one.
    full = tm.conv_matrix(spec, np.ones(spec.weight_shape)).toarray() != 0
    return full.T if transposed else full


def _check(shown: list[tuple[int, list[tuple[int, bool]]]], full: np.ndarray) -> None:
    """``shown``: (row, [(col, printed nonzero)]) per printed row."""
    rows = [r for r, _ in shown]
    cols = sorted({c for _, cells in shown for c, _ in cells})
    for r, cells in shown:
        for c, printed in cells:
            assert printed == full[r, c], f"cell ({r}, {c}) printed wrong"
    block = full[np.ix_(rows, cols)]
    for i, r in enumerate(rows):
        if full[r].any():
            assert block[i].any(), f"row {r} is shown without any of its entries"
    for j, c in enumerate(cols):
        if full[:, c].any():
            assert block[:, j].any(), f"column {c} is shown without any of its entries"


_TEXT_MARKS = set("│┃…⋮")


def _read_text(text: str, rows: dict[str, int], cols: dict[str, int]):
    lines = text.splitlines()
    header = [cols[word] for word in lines[0].split() if word not in _TEXT_MARKS]
    shown = []
    for line in lines[1:]:
        words = [word for word in line.split() if word not in _TEXT_MARKS]
        if not words or words[0] not in rows:
            continue  # a rule or a gap line
        cells = words[1:]
        assert len(cells) == len(header)
        shown.append((rows[words[0]], [(c, t != "·") for c, t in zip(header, cells)]))
    return shown


_LABELLED = re.compile(
    r"\\begin\{array\}\{@\{\}r@\{\\;\}\}\n(?P<labels>.*?)\n\\end\{array\}\n"
    r"(?:\\left.)?\\begin\{(?:bmatrix|array)\}(?:\{[^\n]*\})?\n(?P<body>.*?)\n\\end\{(?:bmatrix|array)\}",
    re.S,
)
_HEAD = re.compile(r"\\smash\[t\]\{\\overset\{(.*?)\}\{\\smash\[b\]\{\\vphantom\{\\Big\|\}\}(.*)\}\}")


def _read_latex(tex: str, rows: dict[str, int], cols: dict[str, int]):
    blocks = list(_LABELLED.finditer(tex))
    assert blocks, "the matrix carries no labels"
    shown: dict[int, list[tuple[int, bool]]] = {}
    for block in blocks:
        labels = [line.replace(r"\scriptstyle", "").strip()
                  for line in block["labels"].split("\\\\")]
        lines = [[cell.strip() for cell in line.split("&")] for line in block["body"].split("\\\\")]
        heads = [_HEAD.fullmatch(cell) for cell in lines[0]]
        assert all(heads), lines[0]
        header = [cols.get(head[1]) for head in heads]  # type: ignore[index]
        lines[0] = [head[2] for head in heads]  # type: ignore[index]
        assert len(labels) == len(lines)
        for label, cells in zip(labels, lines, strict=True):
            if label not in rows:
                continue  # the \vdots line
            entries = shown.setdefault(rows[label], [])
            for c, text in zip(header, cells, strict=True):
                if c is not None:
                    entries.append((c, text != "0"))
    return list(shown.items())


CASES = [(name, transposed) for name in SPECS for transposed in (False, True)]


@pytest.mark.parametrize(("name", "transposed"), CASES)
@pytest.mark.parametrize(("max_rows", "width"), [(6, 60), (12, 100), (4, 200)])
def test_text_elision_shows_an_entry_of_every_shown_line(name, transposed, max_rows, width):
    spec = SPECS[name]
    view = ConvMatrixView(spec)
    view = view.T if transposed else view
    text = render(
        view,
        row_labels=view.row_labels,
        col_labels=view.col_labels,
        row_blocks=view.row_blocks,
        col_blocks=view.column_blocks,
        max_rows=max_rows,
        width=width,
    )
    rows, cols = _axes(spec, transposed)
    _check(_read_text(text, rows, cols), _pattern(spec, transposed))


@pytest.mark.parametrize(("name", "transposed"), CASES)
@pytest.mark.parametrize(
    "options",
    [
        {"max_rows": 6, "max_cols": 8},
        {"max_rows": 16, "width": 345.0},
        {"max_rows": 12, "width": 200.0},
        {"max_rows": 4, "width": 345.0, "height": 120.0},
    ],
)
def test_latex_elision_shows_an_entry_of_every_shown_line(name, transposed, options):
    spec = SPECS[name]
    view = ConvMatrixView(spec)
    view = view.T if transposed else view
    tex = tm.render.to_latex(view, **options)
    rows, cols = _axes(spec, transposed)
    full = _pattern(spec, transposed)
    shown = _read_latex(tex, rows, cols)
    if len(shown) == full.shape[0] and len({c for _, e in shown for c, _ in e}) == full.shape[1]:
        return  # printed whole (or split into blocks): every entry is shown
    _check(shown, full)


def test_sparse_and_dense_matrices_are_elided_along_the_band():
    # A bidiagonal matrix: cutting rows alone would leave middle columns empty.
    n = 30
    dense = np.eye(n, dtype=int) + np.eye(n, k=1, dtype=int)
    import scipy.sparse

    for matrix in (dense, scipy.sparse.csr_array(dense)):
        tex = tm.render.to_latex(matrix, max_rows=6, max_cols=30)
        lines = [line for line in tex.splitlines() if "&" in line and r"\vdots" not in line]
        for line in lines:
            assert any(cell.strip() not in ("0", r"\cdots") for cell in line.split("&"))
        columns = [[line.split("&")[j].strip() for line in lines]
                   for j in range(len(lines[0].split("&")))]
        for column in columns:
            if column[0] != r"\cdots":
                assert any(cell != "0" for cell in column)


def test_kept_ranges_and_gaps():
    assert keep_ends(7, 4) == ([0, 1, 5, 6], 2)
    assert keep_around(0, 100, 40, 42, 10) == (36, 46)
    kept = keep_ranges(100, [(0, 10), (5, 20), (50, 60), (95, 120)])
    assert [(r.start, r.stop) for r in kept.ranges] == [(0, 20), (50, 60), (95, 100)]
    assert kept.gaps == [20, 30]
    assert Kept(10, (range(3, 6),)).gap == 0
    assert Kept(10, (range(0, 6),)).gap == 6
    assert Kept.all(5).gap is None


def test_band_leaves_whole_axes_alone():
    class Never:
        shape = (3, 3)

        def nonzero_block(self, rows, cols):
            raise AssertionError("a whole matrix needs no pattern")

    rows, cols = keep_band(Never(), Kept.all(3), Kept.all(3))  # type: ignore[arg-type]
    assert rows.whole and cols.whole
