"""Which rows and columns of a large matrix (or cells of a grid) a printer shows.

One rule for every printer: the text view, the LaTeX matrices and the TikZ
figures all ask this module which indices to keep, as a :class:`Kept` (a few
ranges along one axis; a gap is drawn between two ranges).

* :func:`keep_ends` keeps the first ``ceil(limit/2)`` and last
  ``floor(limit/2)`` indices of an axis: the default cut of a matrix.
* :func:`keep_around` keeps one window of at most ``limit`` indices around
  a region that must stay visible (a kernel placement in a figure).
* :func:`keep_band` shrinks the kept rows and columns of a matrix together
  until every shown row and every shown column that holds an entry shows
  one: a banded matrix is elided along its band, so no shown column is
  all zeros while its entries hide in the cut rows (and the other way round).

A matrix gives :func:`keep_band` its pattern through three methods (see
:class:`Pattern`); :class:`~transpose_matrix.render.views.ConvMatrixView`
answers them from the geometry alone, so huge layers cost what is printed.
The module needs nothing beyond Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Kept", "Pattern", "keep_around", "keep_band", "keep_ends", "keep_ranges"]


@dataclass(frozen=True)
class Kept:
    """The indices shown along one axis of ``size``: ``ranges`` in increasing order.

    A gap (``⋮``, ``…``, ``\\cdots``) is drawn before every range that does
    not start where the previous one stopped, and before the first one or
    after the last one when they do not reach the axis' ends.

    >>> kept = Kept(10, (range(0, 3), range(8, 10)))
    >>> kept.indices, kept.gap, kept.gaps, kept.whole
    ([0, 1, 2, 8, 9], 3, [3], False)
    """

    size: int
    ranges: tuple[range, ...]

    @classmethod
    def all(cls, size: int) -> Kept:
        """Every index of an axis of ``size``."""
        return cls(size, (range(size),))

    @property
    def indices(self) -> list[int]:
        return [i for part in self.ranges for i in part]

    @property
    def whole(self) -> bool:
        """Nothing is cut."""
        return len(self) == self.size

    def __len__(self) -> int:
        return sum(len(part) for part in self.ranges)

    @property
    def gaps(self) -> list[int]:
        """Positions in :attr:`indices` that a gap precedes (between two kept ranges)."""
        found, position = [], 0
        previous: range | None = None
        for part in self.ranges:
            if not part:
                continue
            if previous is not None and part.start > previous.stop:
                found.append(position)
            position += len(part)
            previous = part
        return found

    @property
    def gap(self) -> int | None:
        """The first gap between two kept ranges, or ``None`` (the text/LaTeX gap)."""
        gaps = self.gaps
        if gaps:
            return gaps[0]
        parts = [part for part in self.ranges if part]
        if not self.whole and parts and parts[0].start > 0:
            return 0  # only a tail is kept: the gap comes first
        if not self.whole and parts:
            return len(self)  # only a head is kept: the gap comes last
        return None

    def span(self) -> tuple[int, int]:
        """``(first, last)`` kept index (``(0, -1)`` when nothing is kept)."""
        parts = [part for part in self.ranges if part]
        if not parts:
            return 0, -1
        return parts[0].start, parts[-1].stop - 1


def keep_ends(size: int, limit: int | None) -> tuple[list[int], int | None]:
    """Indices shown along an axis of ``size`` elided to ``limit``, and where the gap goes.

    The first ``ceil(limit/2)`` and last ``floor(limit/2)`` are kept; the gap
    (``None``: nothing elided) is the position in the kept list it precedes.

    >>> keep_ends(7, 4), keep_ends(3, 4), keep_ends(3, None)
    (([0, 1, 5, 6], 2), ([0, 1, 2], None), ([0, 1, 2], None))
    """
    kept = ends(size, limit)
    return kept.indices, kept.gap


def ends(size: int, limit: int | None) -> Kept:
    """:func:`keep_ends` as a :class:`Kept`."""
    if limit is None or size <= limit:
        return Kept.all(size)
    head = (limit + 1) // 2
    return Kept(size, (range(head), range(size - (limit - head), size)))


def keep_around(first: int, stop: int, low: int, high: int, limit: int) -> tuple[int, int]:
    """One window ``[start, end)`` of at most ``limit`` in ``[first, stop)`` around ``low..high``.

    More than ``limit`` when ``low..high`` needs it (with a cell of margin
    each side); centred on the region, pushed inside the axis.

    >>> keep_around(0, 100, 40, 42, 10), keep_around(-1, 5, 0, 2, 10)
    ((36, 46), (-1, 5))
    """
    if stop - first <= limit:
        return first, stop
    size = max(limit, high - low + 3)
    start = max(first, min((low + high) // 2 - size // 2, stop - size))
    return start, min(stop, start + size)


def keep_ranges(size: int, ranges: Sequence[tuple[int, int]]) -> Kept:
    """A :class:`Kept` of ``[start, stop)`` ranges, clipped to the axis, merged and sorted."""
    parts = sorted((max(0, a), min(size, b)) for a, b in ranges if min(size, b) > max(0, a))
    merged: list[list[int]] = []
    for a, b in parts:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return Kept(size, tuple(range(a, b) for a, b in merged))


class Pattern(Protocol):
    """What :func:`keep_band` asks of a matrix (only about indices it shows)."""

    shape: tuple[int, ...]

    def nonzero_block(self, rows: Sequence[int], cols: Sequence[int]) -> list[list[bool]]:
        """Whether each entry of the block ``rows × cols`` is stored (nonzero)."""
        ...

    def nonempty_rows(self, rows: Sequence[int]) -> list[bool]:
        """Whether each of ``rows`` holds an entry anywhere in the matrix."""
        ...

    def nonempty_cols(self, cols: Sequence[int]) -> list[bool]:
        """Whether each of ``cols`` holds an entry anywhere in the matrix."""
        ...


def _without(kept: Kept, bad: set[int]) -> Kept:
    """``kept`` with the ``bad`` indices cut away, keeping each range's anchoring.

    A range starting at 0 keeps its prefix before the first bad index, one
    ending at the axis' end its suffix after the last; a whole axis splits
    into that prefix and suffix; any other range keeps its longest run.
    """
    if not bad:
        return kept
    parts: list[range] = []
    for part in kept.ranges:
        inside = sorted(i for i in part if i in bad)
        if not inside:
            parts.append(part)
            continue
        head = part.start == 0
        tail = part.stop == kept.size
        if head:
            parts.append(range(part.start, inside[0]))
        if tail:
            parts.append(range(inside[-1] + 1, part.stop))
        if not head and not tail:
            cuts = [part.start - 1, *inside, part.stop]
            a, b = max(zip(cuts, cuts[1:]), key=lambda pair: pair[1] - pair[0])
            parts.append(range(a + 1, b))
    return Kept(kept.size, tuple(part for part in parts if part))


def keep_band(matrix: Pattern, rows: Kept, cols: Kept) -> tuple[Kept, Kept]:
    """Shrink ``rows`` and ``cols`` until each shown line that holds an entry shows one.

    A row of the matrix with a stored entry is *bad* when none of its
    entries falls in the kept columns; a column likewise. Bad lines are cut
    (see :func:`_without`) and the check repeats until none is left: the
    kept rows and columns then follow the band of a banded matrix. Nothing
    is cut when both axes are whole.

    Examples
    --------
    A bidiagonal 6 × 6 matrix cut to rows 0, 1, 4, 5 and every column:
    columns 2 and 3 hold entries only in the cut rows, so they are cut too.

    >>> class Bidiagonal:
    ...     shape = (6, 6)
    ...     def nonzero_block(self, rows, cols):
    ...         return [[j in (i, i + 1) for j in cols] for i in rows]
    ...     def nonempty_rows(self, rows):
    ...         return [True for _ in rows]
    ...     def nonempty_cols(self, cols):
    ...         return [True for _ in cols]
    >>> rows, cols = keep_band(Bidiagonal(), ends(6, 4), Kept.all(6))
    >>> rows.indices, cols.indices, cols.gap
    ([0, 1, 4, 5], [0, 1, 2, 4, 5], 3)
    """
    if rows.whole and cols.whole:
        return rows, cols
    while True:
        row_list, col_list = rows.indices, cols.indices
        if not row_list or not col_list:
            return rows, cols
        block = matrix.nonzero_block(row_list, col_list)
        row_hit = [any(line) for line in block]
        col_hit = [any(column) for column in zip(*block)]
        full_rows = matrix.nonempty_rows(row_list)
        full_cols = matrix.nonempty_cols(col_list)
        bad_rows = {i for i, hit, full in zip(row_list, row_hit, full_rows) if full and not hit}
        bad_cols = {j for j, hit, full in zip(col_list, col_hit, full_cols) if full and not hit}
        if not bad_rows and not bad_cols:
            return rows, cols
        # Cut one axis at a time: the columns first (they cost width), so a
        # row left without entries by a column cut is seen on the next pass.
        if bad_cols:
            cols = _without(cols, bad_cols)
        else:
            rows = _without(rows, bad_rows)
