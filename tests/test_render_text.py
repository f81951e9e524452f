"""Terminal rendering: the textbook C in full, labels, blocks and elision."""

from __future__ import annotations

import re

import numpy as np
import pytest

from transpose_matrix.geometry.spec import ConvSpec
from transpose_matrix.matrices.reference import reference_conv_matrix
from transpose_matrix.render.text import (
    blocks_of,
    kernel_labels,
    position_labels,
    render,
    subscript,
)

# Row y_ij of C reads input x_(i+a)(j+b) with weight w_ab (cross-correlation,
# no padding, stride 1): three taps per input row, one blank column between
# the kernel rows, and the whole pattern shifts by one column per output
# column and by one input row (4 columns) per output row.
TEXTBOOK_C = """\
     x₀₀ x₀₁ x₀₂ x₀₃ │ x₁₀ x₁₁ x₁₂ x₁₃ │ x₂₀ x₂₁ x₂₂ x₂₃ │ x₃₀ x₃₁ x₃₂ x₃₃
y₀₀  w₀₀ w₀₁ w₀₂  ·  │ w₁₀ w₁₁ w₁₂  ·  │ w₂₀ w₂₁ w₂₂  ·  │  ·   ·   ·   ·
y₀₁   ·  w₀₀ w₀₁ w₀₂ │  ·  w₁₀ w₁₁ w₁₂ │  ·  w₂₀ w₂₁ w₂₂ │  ·   ·   ·   ·
     ────────────────┼─────────────────┼─────────────────┼────────────────
y₁₀   ·   ·   ·   ·  │ w₀₀ w₀₁ w₀₂  ·  │ w₁₀ w₁₁ w₁₂  ·  │ w₂₀ w₂₁ w₂₂  ·
y₁₁   ·   ·   ·   ·  │  ·  w₀₀ w₀₁ w₀₂ │  ·  w₁₀ w₁₁ w₁₂ │  ·  w₂₀ w₂₁ w₂₂"""


def labelled_cells(spec: ConvSpec) -> list[list[str]]:
    """Cells of C from the loop reference, entries named by their weight."""
    names = kernel_labels(spec.weight_shape)
    labels = np.arange(1, len(names) + 1, dtype=np.int64).reshape(spec.weight_shape)
    dense = reference_conv_matrix(spec, labels).toarray()
    return [[names[int(v) - 1] if v else "" for v in row] for row in dense]


def render_c(spec: ConvSpec, **options) -> str:
    return render(
        labelled_cells(spec),
        row_labels=position_labels("y", spec.out_channels, spec.output_shape),
        col_labels=position_labels("x", spec.in_channels, spec.input_shape),
        row_blocks=blocks_of(spec.out_channels, spec.output_shape),
        col_blocks=blocks_of(spec.in_channels, spec.input_shape),
        **options,
    )


def parse_grid(text: str) -> dict[tuple[str, str], str]:
    """(row label, column label) -> entry, read back from rendered text."""
    lines = text.splitlines()
    header = lines[0].replace("│", " ").split()
    entries = {}
    for line in lines[1:]:
        if set(line.strip()) <= set("─┼━╋┿"):
            continue
        tokens = line.replace("│", " ").split()
        for column, token in zip(header, tokens[1:], strict=True):
            entries[(tokens[0], column)] = token
    return entries


def test_textbook_c_golden():
    assert render_c(ConvSpec((4, 4), 3), width=80) == TEXTBOOK_C


def test_golden_agrees_with_definition():
    # Independent of the renderer: read the golden back and rebuild C's entries
    # from the definition C[(i, j), (i + a, j + b)] = w[a, b].
    grid = parse_grid(TEXTBOOK_C)
    assert len(grid) == 4 * 16
    for i, j, r, c in np.ndindex(2, 2, 4, 4):
        a, b = r - i, c - j
        expected = f"w{subscript((a, b))}" if 0 <= a < 3 and 0 <= b < 3 else "·"
        assert grid[(f"y{subscript((i, j))}", f"x{subscript((r, c))}")] == expected


@pytest.mark.parametrize(
    "spec",
    [
        ConvSpec((5, 5), 3, stride=2, padding=1),
        ConvSpec((7,), 3, dilation=2, in_channels=2, out_channels=2),
        ConvSpec((3, 4), (2, 3), padding=((1, 0), (0, 2))),
    ],
    ids=["stride2-pad1", "1d-dilated-channels", "asymmetric"],
)
def test_rendered_entries_match_reference(spec):
    grid = parse_grid(render_c(spec))
    cells = labelled_cells(spec)
    rows = position_labels("y", spec.out_channels, spec.output_shape)
    cols = position_labels("x", spec.in_channels, spec.input_shape)
    for r, row in enumerate(cells):
        for c, entry in enumerate(row):
            assert grid[(rows[r], cols[c])] == (entry or "·")


def test_channel_blocks_are_heavy():
    spec = ConvSpec((3,), 2, in_channels=2)
    header = render_c(spec).splitlines()[0]
    # 1-D: no spatial-row blocks; the two input channels are split.
    assert header.split() == ["x₀₀", "x₀₁", "x₀₂", "│", "x₁₀", "x₁₁", "x₁₂"]


def test_wide_matrix_is_elided_keeping_both_ends():
    spec = ConvSpec((12, 12), 3)
    text = render_c(spec, width=60)
    lines = text.splitlines()
    assert all(len(line) <= 60 for line in lines)
    header = lines[0].split()
    assert "…" in header
    assert header[0] == "x₀₀" and header[-1] == "x₁₁.₁₁"
    assert all("…" in line for line in lines if not set(line.strip()) <= set("─┼…"))


def test_tall_matrix_is_elided_with_vertical_dots():
    text = render([[str(i)] for i in range(10)], max_rows=4)
    assert text.splitlines() == ["0", "1", "⋮", "8", "9"]


def test_full_width_prints_every_column():
    spec = ConvSpec((12, 12), 3)
    header = render_c(spec).splitlines()[0]
    assert len(re.findall("x", header)) == 144


def test_labels():
    assert subscript((1, 0, 2)) == "₁₀₂"
    assert subscript((10, 2)) == "₁₀.₂"
    assert position_labels("x", 1, (2,)) == ["x₀", "x₁"]
    assert kernel_labels((2, 1, 1)) == ["w₀₀₀", "w₁₀₀"]
    assert blocks_of(2, (2, 3, 4)) == [4, 12, 24]
