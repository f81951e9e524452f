"""TikZ figures: every drawn entry checked against the loop reference, all compiled."""

from __future__ import annotations

import re

import numpy as np
import pytest

from transpose_matrix.errors import ConvSpecError
from transpose_matrix.geometry.spec import ConvSpec
from transpose_matrix.matrices.reference import reference_conv_matrix
from transpose_matrix.render import compile_pdf, document
from transpose_matrix.render.tikz import placement_figure, sparsity_figure, sparsity_layout

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
    tex = sparsity_figure(spec, rows=[(0, 20)], cols=[(0, 30)])
    assert "$C$: 784 rows (output positions) $\\times$ 900 columns" in tex
    assert "Shown: rows 0--19 ($y_{0,0}$--$y_{0,19}$); columns 0--29 ($x_{0,0}$--$x_{0,29}$)." in tex
    assert r"$\cdots$" in tex and r"$\vdots$" in tex


def drawn_entries(spec: ConvSpec, **options) -> tuple[dict[tuple[int, int], int], object]:
    """(row, col) of C -> tap of every square the figure draws, read back through its layout."""
    layout = sparsity_layout(spec, **options)
    tex = sparsity_figure(spec, **options)
    x_of = {round(o * layout.cell, 3): i for o, i in zip(layout.cols.offsets, layout.cols.kept.indices)}
    y_of = {round((o + 1) * layout.cell, 3): i
            for o, i in zip(layout.rows.offsets, layout.rows.kept.indices)}
    drawn = {}
    for tap, x, y in re.findall(r"\\fill\[tap([a-z]+)\] \(([\d.]+),-([\d.]+)\) rectangle", tex):
        key = (y_of[round(float(y), 3)], x_of[round(float(x), 3)])
        drawn[key] = tap_number(tap)
    return drawn, layout


ISSUE_LAYERS = {
    # export --input 6x6 --in-channels 4 --out-channels 6 --groups 2 --stride 2 --padding 1
    "groups": ConvSpec((6, 6), 3, stride=2, padding=1, in_channels=4, out_channels=6, groups=2),
    # the ResNet stem
    "stem": ConvSpec((224, 224), 7, stride=2, padding=3, in_channels=3, out_channels=64),
    # the U-Net up-convolution (its forward convolution)
    "unet": ConvSpec.from_transposed((28, 28), 512, 256, 2, stride=2),
}


def _taps_in_window(spec: ConvSpec, rows: list[int], cols: list[int]) -> dict:
    """Entries of C in the window, from the geometry (the definition of C), not the figure."""
    found = {}
    col_set = set(cols)
    per_in, per_out = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    for row in rows:
        o, *j = np.unravel_index(row, (spec.out_channels, *spec.output_shape))
        g = int(o) // per_out
        for c in range(g * per_in, (g + 1) * per_in):
            for t in np.ndindex(*spec.kernel_size):
                i = [int(j[a]) * spec.stride[a] - spec.padding[a][0] + t[a] * spec.dilation[a]
                     for a in range(spec.ndim)]
                if all(0 <= v < n for v, n in zip(i, spec.input_shape)):
                    col = int(np.ravel_multi_index((c, *i), (spec.in_channels, *spec.input_shape)))
                    if col in col_set:
                        found[(row, col)] = int(np.ravel_multi_index(t, spec.kernel_size))
    return found


@pytest.mark.parametrize("name", ISSUE_LAYERS)
def test_default_window_of_a_big_layer_shows_its_structure(name):
    spec = ISSUE_LAYERS[name]
    drawn, layout = drawn_entries(spec)
    rows, cols = layout.rows.kept.indices, layout.cols.kept.indices
    assert drawn == _taps_in_window(spec, rows, cols)
    taps_rows = {divmod(tap, spec.kernel_size[-1])[0] for tap in drawn.values()}
    out_size = int(np.prod(spec.output_shape))
    in_size = int(np.prod(spec.input_shape))
    if name == "groups":
        # Every group's block holds drawn entries.
        per_rows = spec.out_channels // spec.groups * out_size
        per_cols = spec.in_channels // spec.groups * in_size
        blocks = {(r // per_rows, c // per_cols) for r, c in drawn}
        assert blocks == {(0, 0), (1, 1)}
        assert "Each group's block is shown" in layout.caption
    if name == "stem":
        # More than one kernel row's taps, and both the border and the interior.
        assert len(taps_rows) >= 3
        positions = {int(np.unravel_index(r, (spec.out_channels, *spec.output_shape))[1])
                     for r, _ in drawn}
        assert 0 in positions and any(p > 20 for p in positions)
    if name == "unet":
        assert len(drawn) >= 40 and len({c // in_size for _, c in drawn}) >= 2
    # The caption names every shown range of rows and columns.
    for part in layout.rows.kept.ranges:
        assert f"{part.start}--{part.stop - 1}" in layout.caption or str(part.start) in layout.caption
    for part in layout.cols.kept.ranges:
        assert f"{part.start}--{part.stop - 1}" in layout.caption


def test_picked_rows_and_columns_are_drawn(capsys, tmp_path):
    from transpose_matrix.cli import main

    spec = ConvSpec((30, 30), 3)
    drawn, layout = drawn_entries(spec, rows=[(0, 48)], cols=[(100, 164)])
    assert layout.rows.kept.indices == list(range(48))
    assert layout.cols.kept.indices == list(range(100, 164))
    assert drawn == _taps_in_window(spec, list(range(48)), list(range(100, 164)))
    out = tmp_path / "fig.tex"
    assert main(["figure", "sparsity", "--input", "30x30", "--rows", "0:48", "--cols",
                 "100:164", "--out", str(out)]) == 0
    assert "Shown: rows 0--47" in out.read_text() and "columns 100--163" in out.read_text()
    assert main(["export", "--input", "30x30", "--rows", "0:48", "--cols", "100:164",
                 "--out", str(tmp_path / "doc.tex")]) == 0
    assert "columns 100--163" in (tmp_path / "doc.tex").read_text()
    assert main(["figure", "sparsity", "--input", "30x30", "--rows", "0:4800"]) == 2
    assert "--rows" in capsys.readouterr().err


def test_issue_figures_compile(pdflatex, tmp_path):
    pictures = [sparsity_figure(spec) for spec in ISSUE_LAYERS.values()]
    body = "\n\n\\bigskip\n\n".join(f"\\noindent\n{p}" for p in pictures)
    assert compile_pdf(document(body), tmp_path).read_bytes().startswith(b"%PDF")


def test_all_figures_compile(pdflatex, tmp_path):
    pictures = [sparsity_figure(spec) for spec in SPECS.values()]
    pictures += [placement_figure(spec, 0) for spec in SPECS.values()]
    pictures.append(sparsity_figure(ConvSpec((30, 30), 3)))
    pictures.append(placement_figure(ConvSpec((20,), 5, stride=3, padding=2), 3))
    body = "\n\n\\bigskip\n\n".join(f"\\noindent\n{p}" for p in pictures)
    assert compile_pdf(document(body), tmp_path).read_bytes().startswith(b"%PDF")
