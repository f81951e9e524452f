"""Lazy views of C and Cᵀ: each printed cell computed from its indices alone.

A printer shows a few dozen rows and columns of C; the layer may have
millions of each. :class:`ConvMatrixView` answers for any block of cells
through :func:`~transpose_matrix.matrix.conv_matrix_entries` (the closed-form
entry of C), so the text and LaTeX views of any layer cost what they print.

The names shown in the cells are made here, once: weight ``(o, c, *t)`` is
``w_{o,c,t…}`` in LaTeX and ``w₀₁₂…`` in text, with the channel indices left
out when the layer has one input and one output channel, exactly as
:func:`~transpose_matrix.symbolic.weight_symbols` names its symbols.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..matrix import check_weight, conv_matrix_entries
from ..spec import ConvSpec
from .latex import format_number, matrix_latex
from .text import PositionLabels, blocks_of, subscript, weight_index

__all__ = ["ConvMatrixView", "PositionLabels", "weight_label", "weight_name"]


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

    >>> weight_name(ConvSpec((4, 4), 3), 5, latex=True), weight_name(ConvSpec((4, 4), 3), 5)
    ('w_{1,2}', 'w₁₂')
    """
    label = weight_label(spec, flat)
    if latex:
        return "w_{" + ",".join(str(i) for i in label) + "}"
    return "w" + subscript(label)


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
        """Flat weight index at every ``(row, col)`` of the block; -1 for zero."""
        if self.transposed:
            return conv_matrix_entries(self.spec, cols, rows).T
        return conv_matrix_entries(self.spec, rows, cols)

    # Cells -----------------------------------------------------------------

    def _cell(self, flat: int, latex: bool) -> str:
        if self.weight is not None:
            value = self.weight[flat]
            return format_number(value) if latex else f"{value:.2f}"
        return weight_name(self.spec, flat, latex=latex)

    def latex_block(self, rows: Sequence[int], cols: Sequence[int]) -> list[list[str | None]]:
        """LaTeX of the cells ``rows × cols``; ``None`` for a zero."""
        block = self.entries(rows, cols)
        return [[None if f < 0 else self._cell(int(f), True) for f in row] for row in block]

    def text_block(self, rows: Sequence[int], cols: Sequence[int]) -> list[list[str]]:
        """Text of the cells ``rows × cols``; ``""`` for a zero."""
        block = self.entries(rows, cols)
        return [["" if f < 0 else self._cell(int(f), False) for f in row] for row in block]

    @property
    def text_cell_width(self) -> int:
        """Width of the widest text cell (the last weight's name, or a number)."""
        if self.weight is not None:
            return max(len(f"{value:.2f}") for value in (self.weight.min(), self.weight.max()))
        return len(self._cell(math.prod(self.spec.weight_shape) - 1, False))

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
