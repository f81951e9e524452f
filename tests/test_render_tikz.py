"""TikZ figures: every drawn entry checked against the loop reference, all compiled."""

from __future__ import annotations

import re

import numpy as np
import pytest

from transpose_matrix.errors import ConvSpecError
from transpose_matrix.geometry.spec import ConvSpec
from transpose_matrix.matrices.reference import reference_conv_matrix
from transpose_matrix.render import compile_pdf, document
from transpose_matrix.render.tikz import placement_figure, sparsity_figure

SPECS = {
    "textbook": ConvSpec((4, 4), 3),
    "stride2-pad1": ConvSpec((5, 5), 3, stride=2, padding=1),
    "1d-dilated": ConvSpec((9,), 3, dilation=2, padding=((2, 1),)),
    "groups": ConvSpec((4, 3), (2, 2), in_channels=2, out_channels=2, groups=2),
}

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def tap_number(name: str) -> int:
    number = 0
    for char in name:
        number = number * 26 + _LETTERS.index(char) + 1
    return number - 1


def reference_taps(spec: ConvSpec) -> dict[tuple[int, int], int]:
    """(row, col) of C -> spatial kernel tap, from the plain-loop builder."""
    taps = int(np.prod(spec.kernel_size))
    labels = np.arange(int(np.prod(spec.weight_shape)), dtype=np.int64) + 1
    C = reference_conv_matrix(spec, labels.reshape(spec.weight_shape)).tocoo()
    return {(int(r), int(c)): (int(v) - 1) % taps for r, c, v in zip(C.row, C.col, C.data)}


@pytest.mark.parametrize("name", SPECS)
def test_sparsity_squares_are_the_entries_of_c(name):
    spec = SPECS[name]
    tex = sparsity_figure(spec)
    cell = None
    drawn = {}
    for tap, x, y, size in re.findall(
        r"\\fill\[tap([a-z]+)\] \(([\d.]+),-([\d.]+)\) rectangle \+\(([\d.]+),", tex
    ):
        cell = float(size)
        col = round(float(x) / cell)
        row = round(float(y) / cell) - 1
        drawn[(row, col)] = tap_number(tap)
    assert drawn == reference_taps(spec)


def test_placement_highlights_the_taps_of_one_row():
    spec = SPECS["stride2-pad1"]
    tex = placement_figure(spec, (1, 2))
    # Output (1, 2) reads input (2*1 - 1 + a, 2*2 - 1 + b): rows 1..3, cols 3..5;
    # column 5 is in the padding, so three taps are dashed.
    # (The legend's squares are drawn with "rectangle +(", the grid's with a negative size.)
    inside = re.findall(
        r"\\filldraw\[fill=tap[a-z]+, draw=black!60\] \([-\d.,]+\) rectangle \+\([\d.]+,-", tex
    )
    outside = re.findall(r"\\filldraw\[draw=tap[a-z]+!60!black, dashed", tex)
    assert (len(inside), len(outside)) == (6, 3)
    row_of_c = re.findall(r"\\fill\[tap([a-z]+)\] \(([\d.]+),", tex)
    assert len(row_of_c) == 6  # the row of C has one entry per tap inside the input
    assert "row 5 of $C$" in tex  # (1, 2) in a 3x3 output is row 1*3 + 2


def test_placement_index_forms_agree():
    spec = SPECS["groups"]
    # output (3, 2) with 2 channels: row 5 is channel 0, (2, 1); row 7 is channel 1, (0, 1)
    assert placement_figure(spec, 5) == placement_figure(spec, (2, 1))
    assert placement_figure(spec, 7) == placement_figure(spec, (1, 0, 1))


@pytest.mark.parametrize(
    ("spec", "call", "message"),
    [
        (ConvSpec((3, 3, 3), 2), sparsity_figure, "figures draw 1-D and 2-D"),
        (SPECS["textbook"], lambda s: placement_figure(s, 4), r"must be a row of C, in \[0, 4\)"),
        (SPECS["textbook"], lambda s: placement_figure(s, (2, 0)), "must be a position"),
        (SPECS["textbook"], lambda s: sparsity_figure(s, max_rows=0), "must be a positive"),
    ],
)
def test_errors(spec, call, message):
    with pytest.raises(ConvSpecError, match=message):
        call(spec)


def test_large_sparsity_is_cropped():
    spec = ConvSpec((30, 30), 3)
    tex = sparsity_figure(spec, max_rows=20, max_cols=30)
    assert "$C$: 784 rows (output positions) $\\times$ 900 columns" in tex
    assert "Shown: rows 0--19, columns 0--29." in tex
    assert r"$\cdots$" in tex and r"$\vdots$" in tex


@pytest.mark.slow
def test_all_figures_compile(pdflatex, tmp_path):
    pictures = [sparsity_figure(spec) for spec in SPECS.values()]
    pictures += [placement_figure(spec, 0) for spec in SPECS.values()]
    pictures.append(sparsity_figure(ConvSpec((30, 30), 3)))
    pictures.append(placement_figure(ConvSpec((20,), 5, stride=3, padding=2), 3))
    body = "\n\n\\bigskip\n\n".join(f"\\noindent\n{p}" for p in pictures)
    assert compile_pdf(document(body), tmp_path).read_bytes().startswith(b"%PDF")
