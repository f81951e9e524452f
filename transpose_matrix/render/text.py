"""Matrices for the terminal: aligned columns, light zeros, visible blocks.

:func:`render` lays out a grid of cell strings with row and column labels.
Zeros print as a centred ``·`` so the sparsity pattern reads at a glance;
``│`` and ``─`` separate the blocks of columns and rows that belong to one
row of the spatial grid, heavier ``┃`` and ``━`` the channels. A matrix wider
than the allowed width keeps its first and last columns and marks the gap
with ``…``; one taller than ``max_rows`` does the same with ``⋮``.

:func:`kernel_labels` and :func:`position_labels` (:class:`PositionLabels`,
made on demand) name weights and grid positions with Unicode subscripts
(``w₀₂``, ``x₁₃``). :mod:`~transpose_matrix.render.elision` holds the one elision rule
of text and LaTeX matrices and figures; :func:`block_edges` says where figures rule channels and
rows. The module needs nothing beyond Python.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..matrices.names import weight_index
from .elision import Kept, Pattern, ends, keep_band, keep_ends

__all__ = [
    "ZERO",
    "PositionLabels",
    "block_edges",
    "blocks_of",
    "dims_text",
    "keep_ends",
    "kernel_labels",
    "position_labels",
    "render",
    "subscript",
    "terminal_width",
    "weight_index",
]

#: How a zero entry prints.
ZERO = "·"

_SUBSCRIPTS = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def subscript(index: Sequence[int]) -> str:
    """Unicode subscript of an index; ``.`` separates parts when one has 2+ digits.

    Examples
    --------
    >>> subscript((0, 2)), subscript((1, 12))
    ('₀₂', '₁.₁₂')
    """
    parts = [str(i) for i in index]
    joiner = "." if any(len(part) > 1 for part in parts) else ""
    return joiner.join(parts).translate(_SUBSCRIPTS)


def dims_text(values: Sequence[Any]) -> str:
    """``5 × 5``: a shape in text (:func:`~transpose_matrix.render.latex.dims_latex` in LaTeX).

    >>> dims_text((1, 4, 4))
    '1 × 4 × 4'
    """
    return " × ".join(str(v) for v in values)


def _unravel(flat: int, shape: Sequence[int]) -> tuple[int, ...]:
    """The C-order multi-index of entry ``flat`` of an array of ``shape``."""
    index = []
    for size in reversed(shape):
        flat, rest = divmod(flat, size)
        index.append(rest)
    return tuple(reversed(index))


class PositionLabels(Sequence):
    """Labels ``x₀₀, x₀₁, …`` of a flattened ``(channel, *shape)`` tensor, made on demand.

    The channel is left out when there is one. ``width`` is the length of the
    longest label (the last one), known without making the others.

    >>> labels = PositionLabels("y", 2, (3,))
    >>> len(labels), labels[4], labels.width
    (6, 'y₁₁', 3)
    """

    def __init__(self, letter: str, channels: int, shape: Sequence[int]) -> None:
        self.letter, self.channels, self.shape = letter, channels, tuple(shape)
        self._length = channels * math.prod(self.shape)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        if not 0 <= i < self._length:
            raise IndexError(i)
        index = _unravel(i, (self.channels, *self.shape))
        return self.letter + subscript(index if self.channels > 1 else index[1:])

    @property
    def width(self) -> int:
        return len(self[self._length - 1]) if self._length else 0


def position_labels(letter: str, channels: int, shape: Sequence[int]) -> list[str]:
    """Every label of :class:`PositionLabels`, as a list.

    Examples
    --------
    >>> position_labels("x", 1, (2, 2))
    ['x₀₀', 'x₀₁', 'x₁₀', 'x₁₁']
    >>> position_labels("y", 2, (2,))
    ['y₀₀', 'y₀₁', 'y₁₀', 'y₁₁']
    """
    return list(PositionLabels(letter, channels, shape))


def kernel_labels(weight_shape: Sequence[int]) -> list[str]:
    """Labels of the flattened weight; with one input and output channel, spatial only.

    Examples
    --------
    >>> kernel_labels((1, 1, 2))
    ['w₀', 'w₁']
    """
    return ["w" + subscript(weight_index(weight_shape, flat))
            for flat in range(math.prod(weight_shape))]


def terminal_width(minimum: int = 80) -> int:
    """Columns of the terminal (``COLUMNS`` or the tty), never below ``minimum``.

    The minimum keeps the textbook 4×16 matrix whole even in a narrow window
    or a pipe.
    """
    import shutil

    return max(minimum, shutil.get_terminal_size((minimum, 24)).columns)


def block_edges(channels: int, shape: Sequence[int], count: int) -> list[tuple[int, bool]]:
    """Where the figures rule a flattened ``(channel, *shape)`` axis of ``count`` positions.

    ``(position, heavy)`` for every position in ``1 … count - 1`` that starts
    a channel (heavy) or a row of the spatial grid (light; 1-D grids have no
    rows).

    >>> block_edges(2, (2, 2), 8)
    [(2, False), (4, True), (6, False)]
    """
    size = math.prod(shape)
    row = shape[-1] if len(shape) > 1 else 0
    edges = []
    for position in range(1, count):
        if channels > 1 and position % size == 0:
            edges.append((position, True))
        elif row and position % row == 0:
            edges.append((position, False))
    return edges


def _level(index: int, blocks: Sequence[int]) -> int:
    """Separator weight before position ``index``: 0 none, 1 thin, 2 heavy."""
    level = 0
    for rank, block in enumerate(blocks):
        if block and index % block == 0:
            level = 1 if rank == 0 else 2
    return level


_VERTICAL = {1: "│", 2: "┃"}
_HORIZONTAL = {1: "─", 2: "━"}


def _separators(count: int, blocks: Sequence[int]) -> int:
    """How many of the positions ``1 … count-1`` start a block (a separator before them)."""
    sizes = sorted(size for size in blocks if size)
    if not sizes:
        return 0
    if all(larger % sizes[0] == 0 for larger in sizes):
        return (count - 1) // sizes[0]  # nested blocks: every one starts at a finest one
    return sum(1 for j in range(1, count) if _level(j, blocks))


def render(
    cells: Any,
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    row_blocks: Sequence[int] = (),
    col_blocks: Sequence[int] = (),
    width: int | None = None,
    max_rows: int | None = None,
    cell_width: int | None = None,
) -> str:
    """Lay out a matrix of cell strings; ``""`` marks a zero.

    Parameters
    ----------
    cells : sequence of sequences of str, or a view
        Entry texts, row by row; an empty string prints as ``·``. A view
        (such as :class:`~transpose_matrix.render.views.ConvMatrixView`) has
        a ``shape`` and ``text_block(rows, cols)``, and is asked only for the
        cells shown, so a matrix of any size costs what is printed.
    row_labels, col_labels : sequence of str, optional
        Printed left of each row and above each column; only the shown ones
        are read (a lazy sequence with a ``width`` attribute is never scanned).
    row_blocks, col_blocks : sequence of int
        Block sizes from fine to coarse: a thin separator before every
        position that is a multiple of the first, a heavy one for the others.
    width : int, optional
        Maximum line width; wider matrices are elided in the middle with a
        ``…`` column. ``None`` prints every column.
    max_rows : int, optional
        More rows than this are elided in the middle with a ``⋮`` row.
    cell_width : int, optional
        Width of the widest entry, when the caller knows it (required with a
        view; lists are measured).

    Returns
    -------
    str
        The lines, without trailing spaces and without a final newline.
        Entries are right-aligned, zeros centred.

    Raises
    ------
    TypeError, AttributeError
        Only Python's own: ``TypeError`` when ``cells`` is neither a sequence
        of rows nor a view, ``AttributeError`` for a view without
        ``cell_width`` or ``text_cell_width``. Nothing is validated here (the
        callers pass what they built).

    Examples
    --------
    >>> print(render([["a", ""], ["", "bb"]], row_labels=["r0", "r1"], col_labels=["c0", "c1"]))
        c0 c1
    r0   a  ·
    r1   · bb
    >>> print(render([["1", "2", "3", "4"]], col_blocks=[2]))
    1 2 │ 3 4
    >>> print(render([[str(i) for i in range(9)]], width=13))
    0 1 2 … 6 7 8
    """
    if hasattr(cells, "text_block"):
        n_rows, n_cols = cells.shape
        block = cells.text_block
        if cell_width is None:
            cell_width = cells.text_cell_width
    else:
        n_rows = len(cells)
        n_cols = max((len(row) for row in cells), default=0)
        if cell_width is None:
            cell_width = max((len(text) for row in cells for text in row), default=0)

        def block(rows: Sequence[int], cols: Sequence[int]) -> list[list[str]]:
            return [[cells[i][j] if j < len(cells[i]) else "" for j in cols] for i in rows]

    def label_width(labels: Sequence[str] | None) -> int:
        if labels is None:
            return 0
        known = getattr(labels, "width", None)
        return known if known is not None else max((len(text) for text in labels), default=0)

    column_width = max(cell_width, len(ZERO), label_width(col_labels))
    row_label_width = label_width(row_labels)
    prefix = row_label_width + 2 if row_labels is not None else 0

    # Separators of the whole row, counted once; an upper bound for a cut row.
    all_separators = _separators(n_cols, col_blocks) if width is not None else 0

    def line_width(count: int, elided: bool) -> int:
        # cells + single spaces + separators ("x │ " adds two per separator)
        separators = min(all_separators, count)
        return prefix + count * (column_width + 1) - 1 + 2 * separators + 2 * elided

    columns: Sequence[int] = range(n_cols)  # a range: a wide matrix never lists its columns
    col_gap = None
    kept_cols = Kept.all(n_cols)
    if width is not None and line_width(n_cols, False) > width:
        limit = min(n_cols, max(2, width // (column_width + 1)))
        while limit > 2 and line_width(limit, True) > width:
            limit -= 1
        kept_cols = ends(n_cols, limit)
    kept_rows = ends(n_rows, max_rows)
    if not (kept_rows.whole and kept_cols.whole):
        # Rows and columns are cut together, along the band (the one elision rule).
        pattern: Pattern = (
            cells if hasattr(cells, "nonzero_block") else _ListPattern(cells, n_cols)
        )
        kept_rows, kept_cols = keep_band(pattern, kept_rows, kept_cols)
        columns, col_gap = kept_cols.indices, kept_cols.gap
    rows, row_gap = kept_rows.indices, kept_rows.gap
    texts = block(rows, columns)

    def centred(mark: str) -> str:
        # Right of centre on even widths, under the last digits of right-aligned entries.
        return (" " * (column_width // 2) + mark).ljust(column_width)

    def cell_text(text: str) -> str:
        return centred(ZERO) if text == "" else text.rjust(column_width)

    def assemble(pieces: list[str], fill: str, verticals: dict[int, str]) -> str:
        out = []
        for position, (j, piece) in enumerate(zip(columns, pieces, strict=True)):
            if position == col_gap:
                out.append("…" if fill == " " else fill)
            elif position:
                level = _level(j, col_blocks)
                if level:
                    out.append(verticals[level])
            out.append(piece)
        if col_gap is not None and col_gap >= len(pieces):
            out.append("…" if fill == " " else fill)
        return fill.join(out)

    lines = []
    if col_labels is not None:
        header = assemble([col_labels[j].rjust(column_width) for j in columns], " ", _VERTICAL)
        lines.append(" " * prefix + header)
    for position, (i, row) in enumerate(zip(rows, texts, strict=True)):
        if position == row_gap:
            dots = [centred("⋮")] * len(columns)
            lines.append(" " * prefix + assemble(dots, " ", _VERTICAL))
        elif position:
            level = _level(i, row_blocks)
            if level:
                bar = _HORIZONTAL[level] * column_width
                crossing = {1: "┼", 2: "╋"} if level == 1 else {1: "┿", 2: "╋"}
                rule = assemble([bar] * len(columns), _HORIZONTAL[level], crossing)
                lines.append(" " * prefix + rule)
        label = row_labels[i].ljust(row_label_width) + "  " if row_labels is not None else ""
        lines.append(label + assemble([cell_text(text) for text in row], " ", _VERTICAL))
    if row_gap is not None and row_gap >= len(rows):
        lines.append(" " * prefix + assemble([centred("⋮")] * len(columns), " ", _VERTICAL))
    return "\n".join(line.rstrip() for line in lines)


def blocks_of(channels: int, shape: Sequence[int]) -> list[int]:
    """Block sizes of a flattened ``(channel, *shape)`` axis, fine to coarse.

    One block per row of the spatial grid (the last dim), then per plane in
    3-D, then per channel; 1-D grids have channel blocks only.

    >>> blocks_of(1, (4, 4)), blocks_of(2, (3,))
    ([4], [3])
    """
    sizes = [math.prod(shape[k:]) for k in range(len(shape) - 1, 0, -1)]
    if channels > 1:
        sizes.append(math.prod(shape))
    return sizes


class _ListPattern:
    """The pattern of a list of cell strings (``""`` a zero), for the elision rule."""

    shape: tuple[int, ...]

    def __init__(self, cells: Sequence[Sequence[str]], n_cols: int) -> None:
        self.cells, self.shape = cells, (len(cells), n_cols)

    def _entry(self, i: int, j: int) -> bool:
        row = self.cells[i]
        return j < len(row) and row[j] != ""

    def nonzero_block(self, rows: Sequence[int], cols: Sequence[int]) -> list[list[bool]]:
        return [[self._entry(i, j) for j in cols] for i in rows]

    def nonempty_rows(self, rows: Sequence[int]) -> list[bool]:
        return [any(text != "" for text in self.cells[i]) for i in rows]

    def nonempty_cols(self, cols: Sequence[int]) -> list[bool]:
        return [any(self._entry(i, j) for i in range(self.shape[0])) for j in cols]
