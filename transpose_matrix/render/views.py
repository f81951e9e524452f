"""Lazy views of C and Cᵀ: each printed cell computed from its indices alone.

A printer shows a few dozen rows and columns of C; the layer may have
millions of each. :class:`ConvMatrixView` answers for any block of cells
through :func:`~transpose_matrix.matrices.conv.conv_matrix_entries` (the closed-form
entry of C), so the text and LaTeX views of any layer cost what they print.

The names shown in the cells are made here, once: weight ``(o, c, *t)`` is
``w_{o,c,t…}`` in LaTeX and ``w₀₁₂…`` in text, with the channel indices left
out when the layer has one input and one output channel, exactly as
:func:`~transpose_matrix.matrices.symbolic.weight_symbols` names its symbols.

With a ``padding_mode`` other than ``'zeros'`` an entry of C can be a sum of
weights (taps that read the same input entry through the padding); the cells
then come from :func:`~transpose_matrix.matrices.conv.conv_matrix_terms` and show
the sum: ``w₀+w₂`` in text, ``w_{0} + w_{2}`` in LaTeX, its value with
numeric weights. A sum of more than :data:`MAX_TERMS` weights shows its first
and last term around an ellipsis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..geometry.spec import ConvSpec
from ..matrices.conv import (
    check_weight,
    conv_matrix_entries,
    conv_matrix_max_terms,
    conv_matrix_terms,
)
from ..matrices.names import latex_name, tap_index, weight_index
from .latex import format_number, matrix_latex
from .text import PositionLabels, blocks_of, subscript

__all__ = [
    "MAX_TERMS",
    "ConvMatrixView",
    "PositionLabels",
    "tap_name",
    "weight_label",
    "weight_name",
]

#: Longest sum of weights a cell spells out; longer ones print as first + … + last.
MAX_TERMS = 4


def weight_label(spec: ConvSpec, flat: int) -> tuple[int, ...]:
    """The index a weight is named by: ``(o, c, *t)``, or ``t`` alone for one channel each.

    >>> weight_label(ConvSpec((4, 4), 3), 5)
    (1, 2)
    >>> weight_label(ConvSpec((4,), 2, in_channels=2, out_channels=2), 5)
    (1, 0, 1)
    """
    return weight_index(spec.weight_shape, int(flat))


def weight_name(spec: ConvSpec, flat: int, *, latex: bool = False) -> str:
    """The name of weight ``flat``: ``w_{1,2}`` in LaTeX, ``w₁₂`` in text.

    The one formatter of :func:`~transpose_matrix.matrices.names.weight_index`
    for the printers; the LaTeX name is the sympy symbol's.

    >>> weight_name(ConvSpec((4, 4), 3), 5, latex=True), weight_name(ConvSpec((4, 4), 3), 5)
    ('w_{1,2}', 'w₁₂')
    """
    label = weight_label(spec, flat)
    return latex_name("w", label) if latex else "w" + subscript(label)


def tap_name(spec: ConvSpec, tap: int, *, latex: bool = False) -> str:
    """The name of kernel tap ``tap`` alone: ``w_{1,2}`` in LaTeX, ``w₁₂`` in text.

    >>> tap_name(ConvSpec((4, 4), 3, in_channels=2), 5, latex=True)
    'w_{1,2}'
    """
    index = tap_index(spec.kernel_size, int(tap))
    return latex_name("w", index) if latex else "w" + subscript(index)


class ConvMatrixView:
    """C (or Cᵀ) of ``spec`` as cells for the printers, never built whole.

    Parameters
    ----------
    spec : ConvSpec
    weight : array_like, optional
        Numeric weights of ``spec.weight_shape``; without them the cells
        hold the weight names.
    transposed : bool
        View Cᵀ instead of C.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        A bad weight (from :func:`~transpose_matrix.matrices.conv.check_weight`).

    Examples
    --------
    >>> from transpose_matrix.render.text import render
    >>> view = ConvMatrixView(ConvSpec((4,), 2))
    >>> view.shape, view.T.shape, view.T.name
    ((3, 4), (4, 3), 'Cᵀ')
    >>> print(render(view, cell_width=view.text_cell_width))
    w₀ w₁  ·  ·
     · w₀ w₁  ·
     ·  · w₀ w₁
    """

    def __init__(self, spec: ConvSpec, weight: Any = None, *, transposed: bool = False) -> None:
        self.spec = spec
        self.weight = None if weight is None else check_weight(spec, weight).reshape(-1)
        self.transposed = transposed
        rows, cols = spec.matrix_shape
        self.shape = (cols, rows) if transposed else (rows, cols)
        out_axis = (spec.out_channels, spec.output_shape)
        in_axis = (spec.in_channels, spec.input_shape)
        self._row_axis, self._col_axis = (in_axis, out_axis) if transposed else (out_axis, in_axis)

    @property
    def T(self) -> ConvMatrixView:  # noqa: N802 - the matrix convention
        """The transposed view."""
        view = ConvMatrixView.__new__(ConvMatrixView)
        view.__dict__.update(self.__dict__)
        view.transposed = not self.transposed
        view.shape = self.shape[::-1]
        view._row_axis, view._col_axis = self._col_axis, self._row_axis
        return view

    @property
    def name(self) -> str:
        return "Cᵀ" if self.transposed else "C"

    def entries(self, rows: Sequence[int], cols: Sequence[int]) -> np.ndarray:
        """Flat weight index at every ``(row, col)`` of the block; -1 for zero.

        Only for ``padding_mode='zeros'``, where an entry is one weight; see
        :meth:`terms` for every mode.
        """
        if self.transposed:
            return conv_matrix_entries(self.spec, cols, rows).T
        return conv_matrix_entries(self.spec, rows, cols)

    def terms(self, rows: Sequence[int], cols: Sequence[int]) -> list[list[tuple[int, ...]]]:
        """Flat indices of the weights summed at every ``(row, col)``; ``()`` for zero."""
        if self.spec.padding_mode == "zeros":
            block = self.entries(rows, cols).tolist()
            return [[(f,) if f >= 0 else () for f in row] for row in block]
        if self.transposed:
            return [list(column) for column in zip(*conv_matrix_terms(self.spec, cols, rows))]
        return conv_matrix_terms(self.spec, rows, cols)

    @property
    def max_terms(self) -> int:
        """The most weights one entry sums (1 unless the padding copies entries)."""
        return conv_matrix_max_terms(self.spec)

    # Cells -----------------------------------------------------------------

    def _cell(self, flat: int, latex: bool) -> str:
        """The cell holding weight ``flat`` alone."""
        if self.weight is not None:
            value = self.weight[flat]
            return format_number(value) if latex else f"{value:.2f}"
        return weight_name(self.spec, flat, latex=latex)

    def _sum_cell(self, flats: tuple[int, ...], latex: bool) -> str:
        """The cell summing the weights ``flats`` (one or more)."""
        if len(flats) == 1:
            return self._cell(flats[0], latex)
        if self.weight is not None:
            value = self.weight[list(flats)].sum()
            return format_number(value) if latex else f"{value:.2f}"
        plus = " + " if latex else "+"
        if len(flats) > MAX_TERMS:
            dots = r"\dots" if latex else "…"
            first, last = (weight_name(self.spec, f, latex=latex) for f in (flats[0], flats[-1]))
            return plus.join((first, dots, last))
        return plus.join(weight_name(self.spec, f, latex=latex) for f in flats)

    def latex_block(self, rows: Sequence[int], cols: Sequence[int]) -> list[list[str | None]]:
        """LaTeX of the cells ``rows × cols``; ``None`` for a zero."""
        block = self.terms(rows, cols)
        return [[self._sum_cell(f, True) if f else None for f in row] for row in block]

    def text_block(self, rows: Sequence[int], cols: Sequence[int]) -> list[list[str]]:
        """Text of the cells ``rows × cols``; ``""`` for a zero."""
        block = self.terms(rows, cols)
        return [[self._sum_cell(f, False) if f else "" for f in row] for row in block]

    @property
    def text_cell_width(self) -> int:
        """Width of the widest text cell (the longest sum of names, or a number).

        With a padding mode, a bound: the most terms any entry sums, each as
        wide as the last weight's name (or that many times the largest
        weight, for numbers).
        """
        most = 1 if self.spec.padding_mode == "zeros" else self.max_terms
        if self.weight is not None:
            largest = most * float(np.abs(self.weight).max(initial=0.0))
            return max(len(f"{value:.2f}") for value in (-largest, self.weight.min()))
        last = len(weight_name(self.spec, math.prod(self.spec.weight_shape) - 1))
        spelled = min(most, MAX_TERMS)
        # A sum spelled out (name+name+…), or an abbreviated one (first+…+last).
        return max(spelled * last + spelled - 1, 2 * last + 3 if most > MAX_TERMS else 0)

    def latex_labels(self, indices: Sequence[int], rows: bool) -> list[str]:
        """LaTeX labels ``y_{0,0}`` of rows (``rows``) or columns at ``indices``."""
        labels = self.row_labels if rows else self.col_labels
        return [_latex_label(labels, i) for i in indices]

    # Pattern (what the elision rule asks) -----------------------------------

    def nonzero_block(self, rows: Sequence[int], cols: Sequence[int]) -> list[list[bool]]:
        """Whether each entry of the block ``rows × cols`` is stored."""
        return [[bool(f) for f in row] for row in self.terms(rows, cols)]

    def nonempty_rows(self, rows: Sequence[int]) -> list[bool]:
        """Whether each of ``rows`` holds an entry (from the geometry, per dim)."""
        return _nonempty(self.spec, rows, not self.transposed)

    def nonempty_cols(self, cols: Sequence[int]) -> list[bool]:
        """Whether each of ``cols`` holds an entry (from the geometry, per dim)."""
        return _nonempty(self.spec, cols, self.transposed)

    # Structure ---------------------------------------------------------------

    @property
    def row_labels(self) -> PositionLabels:
        channels, shape = self._row_axis
        return PositionLabels("x" if self.transposed else "y", channels, shape)

    @property
    def col_labels(self) -> PositionLabels:
        channels, shape = self._col_axis
        return PositionLabels("y" if self.transposed else "x", channels, shape)

    @property
    def row_blocks(self) -> list[int]:
        return blocks_of(*self._row_axis)

    @property
    def column_blocks(self) -> list[int]:
        return blocks_of(*self._col_axis)

    def _latex(self, printer: Any) -> str:
        return matrix_latex(self, printer)


def _axis_hits(spec: ConvSpec, axis: int, position: np.ndarray, outputs: bool) -> np.ndarray:
    """Along one dim: whether each output ``position`` reads an input, or each input is read.

    Tap ``t`` of output ``j`` reads the input entry that padded coordinate
    ``j*s - before + t*d`` copies (none in a zero padding); the pattern of C
    is the Kronecker product of these per-dim patterns. Only the positions
    asked about are looked at, so a dim of 10**12 entries costs nothing.
    """
    from ..geometry.padding import padding_preimages, padding_source

    n, out = spec.input_shape[axis], spec.output_shape[axis]
    s, d, k = spec.stride[axis], spec.dilation[axis], spec.kernel_size[axis]
    before = spec.padding[axis][0]
    taps = np.arange(k, dtype=np.int64)
    if outputs:
        coord = position[:, None] * s - before + taps[None, :] * d
        return np.asarray((padding_source(coord, n, spec.padding_mode) >= 0).any(axis=1))
    # Input i is read when some tap's coordinate j*s - before + t*d, for an
    # output j in [0, out), falls in one of the intervals of coordinates
    # that copy i.
    hit = np.zeros(len(position), dtype=bool)
    for low, high in padding_preimages(position, n, spec.padding[axis], spec.padding_mode):
        low, high = np.asarray(low, dtype=np.int64), np.asarray(high, dtype=np.int64)
        for t in taps:
            offset = before - t * d
            first = np.maximum(-((-(low + offset)) // s), 0)
            last = np.minimum((high + offset) // s, out - 1)
            hit |= (low <= high) & (first <= last)
    return hit


def _nonempty(spec: ConvSpec, indices: Sequence[int], outputs: bool) -> list[bool]:
    """Whether rows (``outputs``) or columns of C at ``indices`` hold an entry."""
    channels, shape = (
        (spec.out_channels, spec.output_shape) if outputs else (spec.in_channels, spec.input_shape)
    )
    flat = np.asarray(indices, dtype=np.int64)
    positions = np.unravel_index(flat, (channels, *shape))[1:]
    found = np.ones(len(flat), dtype=bool)
    for axis, position in enumerate(positions):
        found &= _axis_hits(spec, axis, np.asarray(position, dtype=np.int64), outputs)
    return [bool(f) for f in found]


def _latex_label(labels: PositionLabels, flat: int) -> str:
    """``x_{0,1}``: the LaTeX of label ``flat`` (the channel left out when there is one)."""
    index = np.unravel_index(flat, (labels.channels, *labels.shape))
    parts = [int(i) for i in (index if labels.channels > 1 else index[1:])]
    return latex_name(labels.letter, parts)
