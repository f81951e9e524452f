"""Lazy views of C: the printed cells against the loop reference and sympy's symbols."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from transpose_matrix.errors import ConvSpecError
from transpose_matrix.geometry.spec import ConvSpec
from transpose_matrix.matrices.reference import reference_conv_matrix
from transpose_matrix.matrices.symbolic import weight_symbols
from transpose_matrix.render import to_latex
from transpose_matrix.render.views import ConvMatrixView, PositionLabels, weight_label

SPECS = {
    "textbook": ConvSpec((4, 4), 3),
    "channels-groups": ConvSpec((3, 4), 2, padding=1, in_channels=4, out_channels=2, groups=2),
    "1d-dilated-crop": ConvSpec((9,), 3, stride=2, padding=[(2, -1)], dilation=2),
    "3d": ConvSpec((3, 2, 3), 2, in_channels=2, out_channels=1),
}


def reference_labels(spec: ConvSpec) -> np.ndarray:
    """Flat weight index of every entry of C (-1 for zero), from the loop reference."""
    labels = np.arange(1, int(np.prod(spec.weight_shape)) + 1).reshape(spec.weight_shape)
    return reference_conv_matrix(spec, labels).toarray().astype(np.int64) - 1


@pytest.mark.parametrize("name", SPECS)
def test_latex_cells_are_the_sympy_symbols_of_c(name):
    spec = SPECS[name]
    expected = reference_labels(spec)
    symbols = weight_symbols(spec).reshape(-1)
    view = ConvMatrixView(spec)
    rows, cols = range(spec.matrix_shape[0]), range(spec.matrix_shape[1])
    cells = view.latex_block(rows, cols)
    for r in rows:
        for c in cols:
            flat = expected[r, c]
            assert cells[r][c] == (None if flat < 0 else sympy.latex(symbols[flat]))
    # The transposed view is the transpose, cell by cell.
    cells_t = view.T.latex_block(cols, rows)
    assert cells_t == [list(column) for column in zip(*cells, strict=True)]


@pytest.mark.parametrize("name", SPECS)
def test_numeric_cells_are_the_weights(name):
    spec = SPECS[name]
    weight = np.random.default_rng(3).standard_normal(spec.weight_shape)
    expected = reference_conv_matrix(spec, weight).toarray()
    view = ConvMatrixView(spec, weight)
    rows, cols = range(spec.matrix_shape[0]), range(spec.matrix_shape[1])
    texts = view.text_block(rows, cols)
    for r in rows:
        for c in cols:
            value = expected[r, c]
            assert texts[r][c] == ("" if value == 0 else f"{value:.2f}")


def test_text_names_and_labels():
    spec = SPECS["channels-groups"]
    view = ConvMatrixView(spec)
    # weight (o=1, c=1, t=(1, 0)) of shape (2, 2, 2, 2) is flat 8 + 4 + 2 = 14
    assert weight_label(spec, 14) == (1, 1, 1, 0)
    assert view._cell(14, False) == "w₁₁₁₀" and view._cell(14, True) == "w_{1,1,1,0}"
    labels = PositionLabels("x", 4, (3, 4))
    assert len(labels) == 48 and labels[0] == "x₀₀₀" and labels[47] == "x₃₂₃"
    assert labels.width == len("x₃₂₃")
    with pytest.raises(IndexError):
        labels[48]
    assert view.row_labels[0] == "y₀₀₀" and view.T.row_labels[0] == "x₀₀₀"
    assert view.column_blocks == [4, 12] and view.T.column_blocks == [5, 20]
    assert view.name == "C" and view.T.name == "Cᵀ" and view.T.T.shape == view.shape


def test_view_prints_like_the_matrix_it_stands_for():
    spec = SPECS["textbook"]
    weight = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    from transpose_matrix.matrices.conv import conv_matrix

    dense = conv_matrix(spec, weight)
    # (With a width they may differ: a view splits where input rows end, see test_render_latex.)
    from test_render_latex import unlabelled

    for options in ({}, {"max_cols": 6, "max_rows": 2}, {"zero": r"\cdot"}):
        view = unlabelled(to_latex(ConvMatrixView(spec, weight), **options))[0]
        assert view == to_latex(dense, **options)
        view_t = unlabelled(to_latex(ConvMatrixView(spec, weight).T, **options))[0]
        assert view_t == to_latex(dense.T, **options)


def test_which_rows_and_columns_hold_entries_is_read_off_c_for_any_padding():
    # The band elision asks a view which of its rows and columns hold an
    # entry; the referee is C itself (all-ones weights: sums never cancel).
    from transpose_matrix import conv_matrix
    from transpose_matrix.render.views import ConvMatrixView

    rng = np.random.default_rng(0)
    checked = 0
    while checked < 60:
        ndim = int(rng.integers(1, 3))
        shape = tuple(int(v) for v in rng.integers(3, 9, size=ndim))
        kernel = tuple(int(v) for v in rng.integers(1, 4, size=ndim))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=ndim))
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=ndim))
        padding = [(int(rng.integers(0, 3)), int(rng.integers(-1, 3))) for _ in range(ndim)]
        mode = str(rng.choice(["zeros", "reflect", "replicate", "circular", "symmetric"]))
        try:
            spec = ConvSpec(shape, kernel, stride=stride, dilation=dilation, padding=padding,
                            padding_mode=mode, in_channels=2, out_channels=2)
        except ConvSpecError:
            continue
        C = conv_matrix(spec, np.ones(spec.weight_shape))
        rows = (abs(C).sum(axis=1) > 0).tolist()
        cols = (abs(C).sum(axis=0) > 0).tolist()
        view = ConvMatrixView(spec)
        assert view.nonempty_rows(range(C.shape[0])) == rows, spec
        assert view.nonempty_cols(range(C.shape[1])) == cols, spec
        assert view.T.nonempty_rows(range(C.shape[1])) == cols, spec
        checked += 1


def test_a_view_of_a_huge_layer_answers_which_rows_hold_entries_at_once():
    big = ConvSpec((10**12,), 7, stride=2, padding=3, padding_mode="replicate")
    view = ConvMatrixView(big)
    assert view.nonempty_rows([0, 1, big.output_shape[0] - 1]) == [True, True, True]
    assert view.nonempty_cols([0, 10**12 - 1]) == [True, True]
