"""Sparse builders: the matrix C of a convolution and its transpose Cᵀ.

Both builders rest on one observation: every output channel's rows of C have
the same sparsity pattern (which kernel taps land inside the input depends on
the output position only), and within a group the same columns. So the index
arithmetic is done once, for one row channel, with vectorised per-dim tables
(long runs of rows whose taps all land inside are filled by broadcasting, the
border rows by masked compression); then each channel's slice of the CSR
arrays is one gather from its weight row and one copy of the pattern. That
last pass writes C's arrays exactly once, so building costs little more than
allocating them. Cᵀ is built the same way from its own pattern, never by
transposing C. Before allocating anything the memory guard
(:mod:`transpose_matrix.memory`) checks the exact size.
"""

from __future__ import annotations

import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import scipy.sparse

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.padding import copies_input, padding_preimages, padding_source
from ..geometry.spec import ConvSpec, as_spec
from ..memory import check_index_range, check_memory

__all__ = [
    "conv_matrix",
    "transposed_conv_matrix",
    "weight_label_matrix",
    "check_weight",
    "refuse_masked",
    "conv_matrix_nnz",
    "conv_matrix_nbytes",
    "axis_nnz",
    "mode_contributions",
    "conv_matrix_entries",
    "conv_matrix_terms",
    "conv_matrix_max_terms",
    "index_dtype",
    "WEIGHT_DTYPES",
]

#: Weight dtypes the sparse builders accept (those ``scipy.sparse`` supports).
WEIGHT_DTYPES = tuple(
    np.dtype(name)
    for name in ("float32", "float64", "complex64", "complex128", "int32", "int64")
)

# Entries of one block of index arithmetic: big enough for numpy to run at
# full speed, small enough to keep the temporaries a few tens of MB.
_BLOCK_ENTRIES = 1 << 20
# Builds with fewer entries are filled by one thread.
_PARALLEL_ENTRIES = 1 << 22
# Below this many rows per run on average, fully-inside rows are scattered.
_RUN_ROWS = 4
_MAX_THREADS = 4


def refuse_masked(value: Any, name: str = "weight") -> Any:
    """``value`` itself, or its data when it is a ``numpy.ma.MaskedArray`` with nothing masked.

    ``np.asarray`` drops a mask silently, so a weight whose masked taps are
    meant to be absent would be read with whatever values lie under the mask.

    Raises
    ------
    ConvSpecTypeError
        ``value`` is a masked array with at least one masked entry
        (``error.field == name``).
    """
    if not isinstance(value, np.ma.MaskedArray):
        return value
    masked = int(np.ma.count_masked(value))
    if masked:
        raise ConvSpecTypeError(
            f"{name} is a numpy.ma.MaskedArray with {masked} masked "
            f"entr{'y' if masked == 1 else 'ies'}: a matrix holds a value in every entry, and "
            f"reading it as an array would ignore the mask; pass {name}.filled(0) (masked "
            f"taps as zeros) or {name}.data (the values under the mask)",
            field=name,
        )
    return np.ma.getdata(value)


def check_weight(spec: ConvSpec, weight: Any) -> np.ndarray:
    """Return ``weight`` as an array after checking shape, dtype and finiteness.

    A tensor (anything with ``detach``, e.g. a torch parameter that requires
    grad) is detached and moved to the CPU first, without importing torch. A
    ``numpy.ma.MaskedArray`` is refused when an entry is masked (its mask
    would be ignored) and read as its data when none is.

    Parameters
    ----------
    spec : ConvSpec
        The convolution the weight belongs to.
    weight : array_like
        Shape ``spec.weight_shape`` = ``(out_channels, in_channels // groups,
        *kernel_size)``; a numpy array, a nested sequence or a tensor.

    Returns
    -------
    numpy.ndarray
        ``weight`` as an array (the same object when it already is one),
        dtype one of :data:`WEIGHT_DTYPES`.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`, the dtype is unsupported, or
        ``weight`` is a masked array with masked entries.
    ConvSpecError
        The shape is not ``spec.weight_shape`` or an entry is NaN or infinite
        (``error.field == "weight"``).

    Examples
    --------
    >>> spec = ConvSpec((4,), 2)
    >>> check_weight(spec, [[[1, 2]]])
    array([[[1, 2]]])
    >>> check_weight(spec, [[[1.0, 2.0, 3.0]]])
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.ConvSpecError: weight shape (1, 1, 3) must be (out_channels, \
in_channels // groups, *kernel_size) = (1, 1, 2)
    """
    spec = as_spec(spec)
    weight = refuse_masked(weight)
    if isinstance(weight, np.ndarray):
        array = weight
    else:
        try:
            array = np.asarray(_detached(weight))
        except (TypeError, ValueError, RuntimeError) as error:
            raise ConvSpecTypeError(
                f"weight could not be read as an array: {error}", field="weight"
            ) from None
    if array.dtype not in WEIGHT_DTYPES:
        allowed = ", ".join(str(d) for d in WEIGHT_DTYPES)
        raise ConvSpecTypeError(
            f"weight dtype {array.dtype} must be one of {allowed}", field="weight"
        )
    if array.shape != spec.weight_shape:
        raise ConvSpecError(
            f"weight shape {array.shape} must be (out_channels, in_channels // groups, "
            f"*kernel_size) = {spec.weight_shape}",
            field="weight",
        )
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        raise ConvSpecError(
            "weight contains NaN or infinite entries; all must be finite", field="weight"
        )
    return array


def _detached(weight: Any) -> Any:
    """A tensor's data without its autograd graph, on the CPU (duck-typed: no torch import)."""
    detach = getattr(weight, "detach", None)
    if not callable(detach):
        return weight
    weight = detach()
    cpu = getattr(weight, "cpu", None)
    return cpu() if callable(cpu) else weight


def index_dtype(*bounds: int) -> np.dtype:
    """``int32`` when every bound fits in it, else ``int64``."""
    return np.dtype(np.int32 if max(bounds) <= np.iinfo(np.int32).max else np.int64)


@functools.lru_cache(maxsize=64)
def _shapes(spec: ConvSpec) -> tuple[tuple[int, ...], tuple[int, int]]:
    """``spec.output_shape`` and ``spec.matrix_shape``, computed once per spec."""
    return spec.output_shape, spec.matrix_shape


@functools.lru_cache(maxsize=64)
def _axis_tables(spec: ConvSpec, transposed: bool) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """:func:`_axis_table` of every dim, cached per spec (they are small and read-only)."""
    output_shape = _shapes(spec)[0]
    tables = []
    for axis in range(spec.ndim):
        coord, valid = _axis_table(spec, axis, transposed, output_shape[axis])
        coord.flags.writeable = False
        valid.flags.writeable = False
        tables.append((coord, valid))
    return tuple(tables)


def _axis_table(
    spec: ConvSpec, axis: int, transposed: bool, out: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per row position and kernel tap along one dim: the column coordinate and validity.

    Forward (rows of C are output positions ``j``): tap ``t`` reads input
    coordinate ``j*s - p + t*d``, valid inside ``[0, n)``. Transposed (rows
    of Cᵀ are input positions ``i``): tap ``t`` is hit by output ``j = (i + p
    - t*d) / s`` when that is an integer in ``[0, out)``. The transposed taps
    are listed last to first, so that ``j`` grows along a row and the row's
    columns come out sorted.
    """
    n = spec.input_shape[axis]
    k, s, d = spec.kernel_size[axis], spec.stride[axis], spec.dilation[axis]
    before = spec.padding[axis][0]
    if not transposed:
        coord = np.arange(out)[:, None] * s - before + np.arange(k)[None, :] * d
        return coord, (coord >= 0) & (coord < n)
    reached = np.arange(n)[:, None] + before - np.arange(k - 1, -1, -1)[None, :] * d
    coord = reached // s
    return coord, (reached % s == 0) & (coord >= 0) & (coord < out)


class _Pattern:
    """The sparsity pattern shared by every row channel of C (or of Cᵀ).

    A row of C is ``(o, *j)`` and holds, for each input channel ``c`` of
    ``o``'s group and each kernel tap ``t`` inside the input, the column
    ``(c, *i)``. Which taps are inside depends only on ``j``; the columns
    depend on ``o`` only through its group. So the pattern of one row channel
    (``prod(output_shape)`` rows) is all the index arithmetic C needs. For Cᵀ
    the roles swap: rows ``(c, *i)``, row channels the input channels, and
    ``o`` runs inside a row.
    """

    def __init__(self, spec: ConvSpec, transposed: bool) -> None:
        ndim = spec.ndim
        self.tables = _axis_tables(spec, transposed)
        column_shape = _shapes(spec)[0] if transposed else spec.input_shape
        self.column_strides = [math.prod(column_shape[a + 1 :]) for a in range(ndim)]
        self.row_shape = tuple(table[0].shape[0] for table in self.tables)
        self.rows = math.prod(self.row_shape)
        self.taps = math.prod(spec.kernel_size)
        # Channels inside one row, and how far apart their columns are.
        groups = spec.groups
        self.inner = (spec.out_channels if transposed else spec.in_channels) // groups
        self.inner_stride = math.prod(column_shape)
        full, count = np.ones((), dtype=bool), np.ones((), dtype=np.int64)
        for table in self.tables:
            full = np.multiply.outer(full, table[1].all(axis=1))
            count = np.multiply.outer(count, table[1].sum(axis=1))
        self.full = full.reshape(-1)
        self.entries_per_row = count.reshape(-1) * self.inner
        self.row_starts = np.concatenate(([0], np.cumsum(self.entries_per_row)))
        self.nnz = int(self.row_starts[-1])

    def block(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Spatial column and validity of every tap of ``rows``: two ``(len(rows), taps)``."""
        ndim = len(self.tables)
        coords = np.unravel_index(rows, self.row_shape)
        column = np.zeros((len(rows),) + (1,) * ndim, dtype=np.int64)
        valid = np.ones((len(rows),) + (1,) * ndim, dtype=bool)
        for axis, ((coord, ok), position) in enumerate(zip(self.tables, coords)):
            shape = [len(rows)] + [1] * ndim
            shape[axis + 1] = coord.shape[1]
            column = column + (coord[position] * self.column_strides[axis]).reshape(shape)
            valid = valid & ok[position].reshape(shape)
        return column.reshape(len(rows), self.taps), valid.reshape(len(rows), self.taps)

    def _inside_box(self) -> list[tuple[int, int]] | None:
        """Per dim, the range of positions whose taps all land inside, if ranges."""
        box = []
        for _, valid in self.tables:
            inside = np.flatnonzero(valid.all(axis=1))
            if len(inside) == 0:
                return []
            first, last = int(inside[0]), int(inside[-1]) + 1
            if last - first != len(inside):
                return None
            box.append((first, last))
        return box

    def _fill_box(
        self,
        box: list[tuple[int, int]],
        columns: np.ndarray,
        slot: np.ndarray,
        inner_offset: np.ndarray,
        local: np.ndarray,
    ) -> None:
        if not box:
            return
        ndim = len(self.tables)
        kernel = [coord.shape[1] for coord, _ in self.tables]
        totals = [int(valid.sum()) for _, valid in self.tables]
        sizes = [last - first for first, last in box]
        # Entries from one box row to the next along dim a: a slab of all
        # rows that share the positions of dims <= a.
        steps = [
            self.inner * math.prod(kernel[: a + 1]) * math.prod(totals[a + 1 :])
            for a in range(ndim)
        ]
        # Slabs along dim 0 keep the column table a block's size.
        per_slab = math.prod(sizes[1:]) * self.taps
        slab = max(1, _BLOCK_ENTRIES // max(1, per_slab))
        first0, last0 = box[0]
        for lo in range(first0, last0, slab):
            hi = min(last0, lo + slab)
            part = [(lo, hi), *box[1:]]
            self._fill_slab(part, steps, columns, slot, inner_offset, local)

    def _fill_slab(
        self,
        box: list[tuple[int, int]],
        steps: list[int],
        columns: np.ndarray,
        slot: np.ndarray,
        inner_offset: np.ndarray,
        local: np.ndarray,
    ) -> None:
        ndim = len(self.tables)
        sizes = [last - first for first, last in box]
        corner = int(np.ravel_multi_index([first for first, _ in box], self.row_shape))
        start = int(self.row_starts[corner])
        column = np.zeros((1,) * (2 * ndim), dtype=np.int64)
        for axis, ((coord, _), (first, last)) in enumerate(zip(self.tables, box)):
            shape = [1] * (2 * ndim)
            shape[axis] = last - first
            shape[ndim + axis] = coord.shape[1]
            column = column + (coord[first:last] * self.column_strides[axis]).reshape(shape)
        # Along the last dim the box's rows are consecutive, so a run of
        # them is one contiguous stretch of entries. Inside the box a tap's
        # column is a position term plus a tap term, so every stretch is the
        # first one moved by its leading position's offset: writing it that
        # way makes every copy loop a whole stretch long.
        column = column.reshape(*sizes, 1, self.taps)
        lead = (0,) * (ndim - 1)
        template = (column[lead] + inner_offset).reshape(-1)
        offsets = column[..., 0, 0, 0:1] - column[lead][0, 0, 0]
        run = template.shape[0]
        for target in (columns, slot):
            item = target.itemsize
            view = np.lib.stride_tricks.as_strided(
                target[start:],
                shape=(*sizes[:-1], run),
                strides=(*(step * item for step in steps[:-1]), item),
            )
            if target is columns:
                np.add(offsets, template, out=view, casting="unsafe")
            else:
                view[...] = np.tile(local, sizes[-1])

    def _fill_inside_rows(
        self,
        columns: np.ndarray,
        slot: np.ndarray,
        inner_offset: np.ndarray,
        local: np.ndarray,
        block_rows: int,
    ) -> None:
        # A block of rows at a time. Runs of consecutive rows are contiguous
        # slices; when runs are too short for a call each, entries are
        # scattered instead.
        width = self.inner * self.taps
        inside = np.flatnonzero(self.full)
        for lo in range(0, len(inside), block_rows):
            rows = inside[lo : lo + block_rows]
            column, _ = self.block(rows)
            breaks = np.flatnonzero(np.diff(rows) != 1) + 1
            if len(breaks) * _RUN_ROWS > len(rows):
                target = self.row_starts[rows][:, None] + np.arange(width)[None, :]
                values = column[:, None, :] + inner_offset[None]
                columns[target.reshape(-1)] = values.reshape(-1)
                slot[target.reshape(-1)] = np.broadcast_to(local, target.shape).reshape(-1)
                continue
            bounds = np.concatenate(([0], breaks, [len(rows)]))
            for first, last in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
                a = self.row_starts[rows[first]]
                b = self.row_starts[rows[last - 1] + 1]
                np.add(
                    column[first:last, None, :],
                    inner_offset[None],
                    out=columns[a:b].reshape(last - first, self.inner, self.taps),
                    casting="unsafe",
                )
                slot[a:b].reshape(last - first, width)[:] = local

    def fill(self, columns: np.ndarray) -> np.ndarray:
        """Write the pattern's columns into ``columns``; return each entry's weight slot.

        The slot of an entry is its position in the row channel's flattened
        ``(inner, *kernel_size)`` weight row.
        """
        width = self.inner * self.taps
        slot = np.empty(self.nnz, dtype=np.intp)
        inner_offset = np.arange(self.inner, dtype=np.int64)[:, None] * self.inner_stride
        local = np.arange(width, dtype=np.intp)
        block_rows = max(1, _BLOCK_ENTRIES // width)
        # Rows whose taps all land inside have the dense layout (inner,
        # taps) and need no mask. They usually form a box (a range of
        # positions along every dim) whose entries sit at regular strides in
        # the CSR arrays: write that box with one broadcast.
        box = self._inside_box()
        if box is not None:
            self._fill_box(box, columns, slot, inner_offset, local)
        else:
            self._fill_inside_rows(columns, slot, inner_offset, local, block_rows)
        # Every other row: the dense layout compressed to the taps inside.
        remaining = np.flatnonzero(~self.full)
        for lo in range(0, len(remaining), block_rows):
            rows = remaining[lo : lo + block_rows]
            column, valid = self.block(rows)
            mask = np.broadcast_to(valid[:, None, :], (len(rows), self.inner, self.taps))
            mask = mask.reshape(-1)
            dense = (column[:, None, :] + inner_offset[None]).reshape(-1)
            counts = self.entries_per_row[rows]
            first = np.cumsum(counts) - counts
            target = np.repeat(self.row_starts[rows] - first, counts)
            target += np.arange(target.shape[0])
            columns[target] = dense[mask]
            slot[target] = np.broadcast_to(local, (len(rows), width)).reshape(-1)[mask]
        return slot


def _floor_sum(count: int, divisor: int, slope: int, offset: int) -> int:
    """``sum(floor((slope*i + offset) / divisor) for i in range(count))`` in O(log).

    For ``count >= 0``, ``divisor >= 1`` and ``slope, offset >= 0``: the
    Euclid-like reduction of lattice-point counting under a line (each round
    swaps the roles of ``divisor`` and ``slope``, as Euclid's algorithm does).
    """
    total = 0
    while True:
        if slope >= divisor:
            total += count * (count - 1) // 2 * (slope // divisor)
            slope %= divisor
        if offset >= divisor:
            total += count * (offset // divisor)
            offset %= divisor
        top = slope * count + offset
        if top < divisor:
            return total
        count, offset = divmod(top, divisor)
        divisor, slope = slope, divisor


def _pairs_below(bound: int, out: int, k: int, s: int, d: int) -> int:
    """``#{(j, t) : 0 <= j < out, 0 <= t < k, j*s + t*d < bound}`` in closed form.

    Rows ``j < j1`` have all ``k`` taps below the bound, rows ``j >= j2``
    none; row ``j`` in between has ``ceil((bound - j*s) / d)`` of them, a
    floor sum over ``j``.
    """
    if bound <= 0:
        return 0
    j2 = min(out, -(-bound // s))
    j1 = min(j2, max(0, -(-(bound - (k - 1) * d) // s)))
    # Row j = j2 - 1 - i has floor((bound - (j2 - 1)*s + d - 1 + i*s) / d) taps.
    partial = _floor_sum(j2 - j1, d, s, bound - (j2 - 1) * s + d - 1) if j2 > j1 else 0
    return j1 * k + partial


def axis_nnz(spec: ConvSpec, axis: int) -> int:
    """Stored (output position, tap) pairs along one dim: taps that land inside the input.

    ``#{(j, t) : 0 <= j*stride - before + t*dilation < n}``, counted in closed
    form (O(log) arithmetic on Python ints, no table of positions).

    Examples
    --------
    >>> axis_nnz(ConvSpec((4,), 3, padding=1), 0)  # 4 positions x 3 taps, 2 on padding
    10
    """
    n = spec.input_shape[axis]
    k, s, d = spec.kernel_size[axis], spec.stride[axis], spec.dilation[axis]
    before = spec.padding[axis][0]
    out = _shapes(spec)[0][axis]
    return _pairs_below(before + n, out, k, s, d) - _pairs_below(before, out, k, s, d)


@functools.lru_cache(maxsize=64)
def _mode_tables(spec: ConvSpec) -> tuple[np.ndarray, ...]:
    """Per dim, the input entry that tap ``t`` at output ``j`` reads through the padding.

    ``table[j, t] = padding_source(j*s - p_before + t*d)``: the padded
    coordinate folded back into the input by ``spec.padding_mode``.
    """
    output_shape = _shapes(spec)[0]
    tables = []
    for axis in range(spec.ndim):
        k, s, d = spec.kernel_size[axis], spec.stride[axis], spec.dilation[axis]
        coord = (
            np.arange(output_shape[axis])[:, None] * s
            - spec.padding[axis][0]
            + np.arange(k)[None, :] * d
        )
        table = padding_source(coord, spec.input_shape[axis], spec.padding_mode)
        table.flags.writeable = False
        tables.append(table)
    return tuple(tables)


def mode_contributions(spec: ConvSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (row, column, weight) contribution of C for a non-zero ``padding_mode``.

    Returns ``(rows, cols, which)``: C is the sum over ``e`` of
    ``weight.reshape(-1)[which[e]]`` at ``(rows[e], cols[e])``. Each row,
    in-channel and tap contributes once, so a pair ``(row, col)`` repeats
    when several taps of a row read the same input entry (reflect, replicate
    and circular padding copy input entries into the border). Summing the
    repeats gives ``C = D·P``.
    """
    tables = _mode_tables(spec)
    output_shape, (_, cols_total) = _shapes(spec)
    ndim = spec.ndim
    # Spatial column of (output position, tap), both flattened in C order.
    column = np.zeros((1,) * (2 * ndim), dtype=np.int64)
    for axis, table in enumerate(tables):
        shape = [1] * (2 * ndim)
        shape[axis] = table.shape[0]
        shape[ndim + axis] = table.shape[1]
        column = column + (table * math.prod(spec.input_shape[axis + 1 :])).reshape(shape)
    positions, taps = math.prod(output_shape), math.prod(spec.kernel_size)
    column = column.reshape(positions, taps)
    out_group = spec.out_channels // spec.groups
    in_group = spec.in_channels // spec.groups
    size = math.prod(spec.input_shape)
    o = np.arange(spec.out_channels)[:, None, None, None]
    c = np.arange(in_group)[None, None, :, None]
    full = (spec.out_channels, positions, in_group, taps)
    rows = np.broadcast_to(o * positions + np.arange(positions)[None, :, None, None], full)
    cols = ((o // out_group) * in_group + c) * size + column[None, :, None, :]
    which = np.broadcast_to(o * (in_group * taps) + c * taps + np.arange(taps), full)
    return rows.reshape(-1), np.broadcast_to(cols, full).reshape(-1), which.reshape(-1)


def _mode_matrix(
    spec: ConvSpec, weight: np.ndarray, transposed: bool, max_bytes: int | None
) -> scipy.sparse.csr_array:
    """C (or Cᵀ) of a spec with a non-zero padding mode: the contributions summed."""
    rows_total, cols_total = _shapes(spec)[1]
    entries = spec.out_channels * (spec.in_channels // spec.groups)
    entries *= math.prod(_shapes(spec)[0]) * math.prod(spec.kernel_size)
    name = "Cᵀ (transposed_conv_matrix)" if transposed else "C (conv_matrix)"
    shape = (cols_total, rows_total) if transposed else (rows_total, cols_total)
    check_index_range(shape, what=f"{name} of shape {shape}")
    # Every contribution is one stored entry at most: an O(dims) bound, so the
    # guard answers before the exact count reads its per-dim tables.
    peak = entries * (3 * 8 + 2 * weight.dtype.itemsize + 2 * 8)
    check_memory(peak, what=f"{name} of shape {shape}", max_bytes=max_bytes, peak=peak)
    nbytes = conv_matrix_nbytes(spec, weight.dtype, transposed=transposed)
    # Before summing: three int64 index arrays and the values, then the
    # COO -> CSR conversion's copies of the indices and values.
    check_memory(
        nbytes,
        what=f"{name} of shape {shape}",
        max_bytes=max_bytes,
        peak=nbytes + entries * (3 * 8 + 2 * weight.dtype.itemsize + 2 * 8),
    )
    rows, cols, which = mode_contributions(spec)
    if transposed:
        rows, cols = cols, rows
    data = np.ascontiguousarray(weight).reshape(-1)[which]
    matrix = scipy.sparse.coo_array((data, (rows, cols)), shape=shape).tocsr()
    matrix.sum_duplicates()  # explicit zeros (weights that cancel) stay stored
    index = index_dtype(matrix.nnz, *shape)
    matrix.indices = matrix.indices.astype(index, copy=False)
    matrix.indptr = matrix.indptr.astype(index, copy=False)
    return matrix


def conv_matrix_nnz(spec: ConvSpec) -> int:
    """Number of stored entries of C (and of Cᵀ): taps that land inside the input.

    ``out_channels * (in_channels // groups) * prod(axis_nnz)``, in O(dims)
    without allocating anything, so the memory guard answers first whatever
    the size.

    With a non-zero ``padding_mode`` every tap reads some input entry, and
    taps of one row that read the same entry share one stored entry: per dim
    the count is the number of distinct entries each output position reads,
    and these multiply, since the padding folds every dim independently.
    Only positions whose taps reach the padding need counting (the others
    read ``kernel_size`` distinct entries), so the cost is that of the border.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry.

    Returns
    -------
    int
        ``C.nnz`` of :func:`conv_matrix` (equally of :func:`transposed_conv_matrix`).

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`.

    Examples
    --------
    >>> conv_matrix_nnz(ConvSpec((4, 4), 3))  # 2 x 2 positions, 9 taps each
    36
    >>> conv_matrix_nnz(ConvSpec((10**18,), 3))
    2999999999999999994
    """
    spec = as_spec(spec)
    if copies_input(spec.padding_mode):
        per_dim = 1
        for axis in range(spec.ndim):
            interior, table = _edge_table(spec, axis)
            ordered = np.sort(table, axis=1)
            distinct = table.shape[0] + int((np.diff(ordered, axis=1) != 0).sum())
            per_dim *= interior * spec.kernel_size[axis] + distinct
        return per_dim * spec.out_channels * (spec.in_channels // spec.groups)
    per_dim = 1
    for axis in range(spec.ndim):
        per_dim *= axis_nnz(spec, axis)
    return per_dim * spec.out_channels * (spec.in_channels // spec.groups)


def conv_matrix_nbytes(spec: ConvSpec, dtype: Any = np.float64, *, transposed: bool = False) -> int:
    """Bytes of C (or of Cᵀ with ``transposed=True``) in CSR form: data, indices and indptr.

    Exactly ``C.data.nbytes + C.indices.nbytes + C.indptr.nbytes`` of the
    matrix :func:`conv_matrix` (:func:`transposed_conv_matrix`) returns,
    computed from the spec without building anything.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry.
    dtype : numpy dtype or type, default numpy.float64
        The dtype of the stored entries (the weight's).
    transposed : bool, default False
        Count Cᵀ (one row pointer per input entry) instead of C.

    Returns
    -------
    int
        Bytes of the CSR arrays; indices are 32-bit when they fit.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`.
    TypeError
        numpy's own, when ``dtype`` is not a dtype.

    Examples
    --------
    >>> conv_matrix_nbytes(ConvSpec((4,), 2))  # 6 entries of 8 + 4 bytes, 4 row pointers
    88
    >>> conv_matrix_nbytes(ConvSpec((4,), 2), transposed=True)  # 5 row pointers
    92
    """
    spec = as_spec(spec)
    rows, cols = _shapes(spec)[1]
    nnz = conv_matrix_nnz(spec)
    index = index_dtype(nnz, cols, rows)
    pointers = (cols if transposed else rows) + 1
    return nnz * (np.dtype(dtype).itemsize + index.itemsize) + pointers * index.itemsize


def _scratch_bytes(spec: ConvSpec, transposed: bool) -> int:
    """Upper bound of the builder's temporaries besides the matrix itself."""
    positions = spec.input_shape if transposed else _shapes(spec)[0]
    rows = math.prod(positions)
    channels = spec.in_channels if transposed else spec.out_channels
    per_channel = conv_matrix_nnz(spec) // channels
    # The per-dim (position, tap) tables, however many taps fall on padding.
    tables = sum(n * k for n, k in zip(positions, spec.kernel_size)) * 32
    # The index arithmetic of one block of rows covers every tap of the
    # block's rows, at least one row's worth.
    inner = (spec.out_channels if transposed else spec.in_channels) // spec.groups
    width = inner * math.prod(spec.kernel_size)
    block = min(max(1, _BLOCK_ENTRIES // width), rows) * width
    # The weight-slot table (one intp per entry of a row channel), the
    # per-row tables, and a fixed allowance for Python objects and caches.
    return per_channel * 8 + rows * 26 + tables + block * 48 + 2**16


def _guard(
    spec: ConvSpec, dtype: np.dtype, transposed: bool, max_bytes: int | None, extra: int = 0
) -> None:
    """Refuse C (or Cᵀ) before anything is allocated: indexable, and within the limit.

    ``extra`` counts bytes the caller holds during the build besides C's own.
    """
    shape = _shapes(spec)[1][::-1] if transposed else _shapes(spec)[1]
    what = (
        f"Cᵀ (transposed_conv_matrix) of shape {shape}"
        if transposed
        else f"C (conv_matrix) of shape {shape}"
    )
    check_index_range(shape, what=what)
    nbytes = conv_matrix_nbytes(spec, dtype, transposed=transposed)
    check_memory(
        nbytes,
        what=what,
        max_bytes=max_bytes,
        peak=nbytes + _scratch_bytes(spec, transposed=transposed) + extra,
    )


def _workers(nnz: int) -> int:
    if nnz < _PARALLEL_ENTRIES:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cores = os.cpu_count() or 1
    return max(1, min(cores, _MAX_THREADS))


def _assemble(
    spec: ConvSpec, weight_rows: np.ndarray, transposed: bool
) -> scipy.sparse.csr_array:
    """Build C (or Cᵀ) from one row channel's pattern and each channel's weight row.

    ``weight_rows[r]`` is row channel ``r``'s weights, flattened to
    ``(inner channels, *kernel_size)`` in the order the pattern's slots use.
    """
    rows, cols = _shapes(spec)[1]
    if transposed:
        rows, cols = cols, rows
    pattern = _Pattern(spec, transposed)
    channels = weight_rows.shape[0]
    per_channel = pattern.nnz
    nnz = per_channel * channels
    index = index_dtype(nnz, cols, rows)
    per_group = channels // spec.groups
    group_shift = pattern.inner * pattern.inner_stride

    data = np.empty(nnz, dtype=weight_rows.dtype)
    indices = np.empty(nnz, dtype=index)
    first = indices[:per_channel]
    slot = pattern.fill(first)
    indptr = np.empty(rows + 1, dtype=index)
    indptr[0] = 0
    np.add(
        np.arange(channels, dtype=np.int64)[:, None] * per_channel,
        pattern.row_starts[None, 1:],
        out=indptr[1:].reshape(channels, pattern.rows),
        casting="unsafe",
    )

    def fill(unit: tuple[int, int, int]) -> None:
        channel, lo, hi = unit
        start = channel * per_channel
        # mode="clip" lets take write straight into the slice; the default
        # mode buffers the whole output first.
        out = data[start + lo : start + hi]
        np.take(weight_rows[channel], slot[lo:hi], out=out, mode="clip")
        if channel:
            shift = (channel // per_group) * group_shift
            target = indices[start + lo : start + hi]
            if shift:
                np.add(first[lo:hi], shift, out=target, casting="unsafe")
            else:
                target[:] = first[lo:hi]

    # Filling is a single streaming pass; with several cores, threads share
    # it (numpy releases the GIL in take and copies) and the kernel's page
    # faults on the fresh arrays run in parallel too. Units are handed out
    # one by one, so a thread that loses its core to another process simply
    # does fewer of them instead of holding everyone up.
    workers = _workers(nnz)
    pieces = 1 if channels >= 4 * workers else -(-4 * workers // channels)
    bounds = np.linspace(0, per_channel, pieces + 1).astype(int).tolist()
    units = [
        (channel, bounds[p], bounds[p + 1]) for channel in range(channels) for p in range(pieces)
    ]
    if workers == 1:
        for unit in units:
            fill(unit)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(fill, units):
                pass
    matrix = scipy.sparse.csr_array((data, indices, indptr), shape=(rows, cols))
    matrix.has_sorted_indices = True
    matrix.has_canonical_format = True
    return matrix


def conv_matrix(
    spec: ConvSpec, weight: Any, *, max_bytes: int | None = None
) -> scipy.sparse.csr_array:
    """C with ``C @ x.reshape(-1) == conv(x, weight).reshape(-1)`` for one sample.

    Entry ``C[(o, *j), (c, *i)] = weight[o, c - g*Cg, *t]`` where
    ``i = j*stride - padding_before + t*dilation`` and ``g = o // (out_channels
    // groups)`` is the group of output channel ``o`` (``Cg = in_channels //
    groups``); every other entry is zero.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry.
    weight : array_like
        Shape ``(out_channels, in_channels // groups, *kernel_size)``,
        PyTorch's layout; dtype one of :data:`WEIGHT_DTYPES`, all finite.
    max_bytes : int, optional
        Refuse to build when C plus the builder's temporaries would need more
        bytes. Default: :func:`transpose_matrix.memory.memory_limit`, a safe
        share of the memory available.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``spec.matrix_shape``, dtype of ``weight``, canonical (sorted
        indices, no duplicates). Taps that land in padding are not stored;
        taps whose weight is zero are. Indices are 32-bit when they fit.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        From :func:`check_weight`.
    MemoryGuardError
        C would not fit in the limit, or has more rows or columns than 64-bit
        indices address. Checked in closed form before anything is
        allocated; :func:`transpose_matrix.conv_operator` applies C without
        building it.

    Notes
    -----
    Rows and columns flatten ``(channel, *spatial)`` in C order. This is
    cross-correlation (no kernel flip), as in ``torch.nn.functional.convNd``.

    All rows of one output channel have the same pattern of stored taps, and
    within a group the same columns. The builder works out the columns and
    the weight slot of each entry for output channel 0 only, then fills
    every channel's slice of ``data`` with one gather from its weight row
    and of ``indices`` with one copy (shifted to the group's columns): a
    single pass writing C's arrays, which is the least any builder can do.

    Examples
    --------
    >>> import numpy as np
    >>> C = conv_matrix(ConvSpec((4,), 2), np.array([[[1.0, 2.0]]]))
    >>> C.toarray()
    array([[1., 2., 0., 0.],
           [0., 1., 2., 0.],
           [0., 0., 1., 2.]])
    """
    weight = check_weight(spec, weight)
    if copies_input(spec.padding_mode):
        return _mode_matrix(spec, weight, transposed=False, max_bytes=max_bytes)
    _guard(spec, weight.dtype, False, max_bytes)
    rows = np.ascontiguousarray(weight).reshape(spec.out_channels, -1)
    return _assemble(spec, rows, transposed=False)


def transposed_conv_matrix(
    spec: ConvSpec, weight: Any, *, max_bytes: int | None = None
) -> scipy.sparse.csr_array:
    """Cᵀ as CSR: the matrix of ``conv_transposeNd`` and of the input gradient.

    ``spec`` is the forward convolution (use :meth:`ConvSpec.from_transposed`
    to get it from ``ConvTransposeNd`` arguments) and ``weight`` has the
    layout ``(out_channels, in_channels // groups, *kernel_size)`` of that
    forward convolution, which is the transposed layer's own weight as it is.
    ``max_bytes`` and the result's format are as in :func:`conv_matrix`.

    Parameters
    ----------
    spec : ConvSpec
        The forward convolution's geometry.
    weight : array_like
        Shape ``(out_channels, in_channels // groups, *kernel_size)`` of the
        forward convolution; dtype one of :data:`WEIGHT_DTYPES`, all finite.
    max_bytes : int, optional
        Refuse to build when Cᵀ plus the builder's temporaries would need more
        bytes. Default: :func:`transpose_matrix.memory.memory_limit`.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``spec.matrix_shape[::-1]``, dtype of ``weight``, canonical;
        equal to ``conv_matrix(spec, weight).T``.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        From :func:`check_weight`.
    MemoryGuardError
        Cᵀ would not fit in the limit, or has more rows or columns than 64-bit
        indices address; checked before anything is allocated.

    Notes
    -----
    Cᵀ is built directly, not by transposing C: row ``(c, *i)`` holds, for
    every output channel ``o`` of ``c``'s group and every output position
    ``j`` with ``j*stride - padding_before + t*dilation = i`` for some tap
    ``t``, the entry ``weight[o, c - g*Cg, *t]`` in column ``(o, *j)``.

    Examples
    --------
    >>> import numpy as np
    >>> spec = ConvSpec.from_transposed((2,), 1, 1, 2, stride=2)
    >>> transposed_conv_matrix(spec, np.array([[[1.0, 2.0]]])).toarray()
    array([[1., 0.],
           [2., 0.],
           [0., 1.],
           [0., 2.]])
    """
    weight = check_weight(spec, weight)
    if copies_input(spec.padding_mode):
        return _mode_matrix(spec, weight, transposed=True, max_bytes=max_bytes)
    _guard(spec, weight.dtype, True, max_bytes)
    groups = spec.groups
    per_group_out = spec.out_channels // groups
    per_group_in = spec.in_channels // groups
    spatial = tuple(range(3, 3 + spec.ndim))
    # Row channel c's weights, (o in c's group, taps last to first), which is
    # the order the transposed pattern's slots use.
    grouped = np.asarray(weight).reshape(groups, per_group_out, per_group_in, *spec.kernel_size)
    rows = np.flip(grouped, axis=spatial).transpose(0, 2, 1, *spatial)
    rows = np.ascontiguousarray(rows).reshape(spec.in_channels, -1)
    return _assemble(spec, rows, transposed=True)


def weight_label_matrix(spec: ConvSpec) -> scipy.sparse.csr_array:
    """C with each stored entry ``1 + flat index`` of the weight it holds (int64).

    The pattern behind every symbolic and pictured view of C: entry
    ``C[r, c] = k`` means ``weight.reshape(-1)[k - 1]`` sits there. Labels
    start at 1 so that no stored entry is mistaken for an absent one.

    Raises
    ------
    ConvSpecError
        For a ``padding_mode`` other than ``'zeros'``, where an entry can
        hold a sum of several weights (see :func:`mode_contributions`).

    Examples
    --------
    >>> weight_label_matrix(ConvSpec((3,), 2)).toarray()
    array([[1, 2, 0],
           [0, 1, 2]])
    """
    spec = as_spec(spec)
    if copies_input(spec.padding_mode):
        raise ConvSpecError(
            f"padding_mode={spec.padding_mode!r}: an entry of C can be a sum of several "
            "weights, so it has no single weight label; use symbolic_conv_matrix"
        )
    # The labels exist before conv_matrix's own guard runs: count them too.
    size = math.prod(spec.weight_shape)
    _guard(spec, np.dtype(np.int64), False, None, extra=size * 8)
    labels = np.arange(1, size + 1, dtype=np.int64)
    return conv_matrix(spec, labels.reshape(spec.weight_shape))


def _unravel(flat: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
    """``np.unravel_index`` by repeated divmod (no limit on the shape's product)."""
    coords = []
    for size in reversed(shape):
        flat, coord = np.divmod(flat, size)
        coords.append(coord)
    return coords[::-1]


def conv_matrix_entries(spec: ConvSpec, rows: Any, cols: Any) -> np.ndarray:
    """Which weight sits at ``C[r, c]`` for every ``r`` in ``rows``, ``c`` in ``cols``.

    ``out[a, b] = f`` means ``C[rows[a], cols[b]] = weight.reshape(-1)[f]``;
    ``-1`` means a structural zero. Each entry is a closed-form function of
    its indices: row ``r`` is output channel ``o`` and position ``j``,
    column ``c`` is input channel ``c`` and position ``i``, and along each
    dim the tap is ``t = (i - j*stride + padding_before) / dilation`` when
    that is an integer in ``[0, kernel_size)``; the entry exists when every
    dim has a tap and ``c`` is in ``o``'s group. The cost is that of the
    ``len(rows) × len(cols)`` block asked for, whatever the size of C, so
    views of huge layers print only what they show.

    Parameters
    ----------
    spec : ConvSpec
    rows, cols : array_like of int
        Row and column indices of C (each inside ``spec.matrix_shape``).

    Returns
    -------
    numpy.ndarray
        ``int64`` of shape ``(len(rows), len(cols))``. Cᵀ's entries are
        ``conv_matrix_entries(spec, cols, rows).T``.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`.
    ConvSpecError
        ``padding_mode`` is not ``'zeros'`` (an entry may then hold a sum of
        weights: use :func:`conv_matrix_terms`), or an index lies outside
        ``spec.matrix_shape``.

    Examples
    --------
    >>> conv_matrix_entries(ConvSpec((3,), 2), [0, 1], [0, 1, 2])
    array([[ 0,  1, -1],
           [-1,  0,  1]])
    """
    spec = as_spec(spec)
    if copies_input(spec.padding_mode):
        raise ConvSpecError(
            f"padding_mode={spec.padding_mode!r}: an entry of C can be a sum of several "
            "weights, so it names no single weight; use conv_matrix_terms",
            field="padding_mode",
        )
    window = _Window(spec, rows, cols)
    rows, cols, valid = window.rows, window.cols, window.same_group
    out_position, in_position = window.out_position, window.in_position
    tap = np.zeros((len(rows), len(cols)), dtype=np.int64)
    for axis in range(spec.ndim):
        k, s, d = spec.kernel_size[axis], spec.stride[axis], spec.dilation[axis]
        offset = in_position[axis][None, :] - out_position[axis][:, None] * s
        offset += spec.padding[axis][0]
        along, remainder = np.divmod(offset, d)
        valid &= (remainder == 0) & (along >= 0) & (along < k)
        tap = tap * k + along
    return np.where(valid, window.weight_row * math.prod(spec.kernel_size) + tap, -1)


class _Window:
    """The row and column indices of a block of C, checked and split into channel and position.

    ``weight_row[a, b]`` is the flat ``(o, c_local)`` index of the weight row
    that ``C[rows[a], cols[b]]`` draws from, and ``same_group`` says where
    ``c`` is in ``o``'s group (elsewhere the entry is a structural zero).
    """

    def __init__(self, spec: ConvSpec, rows: Any, cols: Any) -> None:
        self.rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        self.cols = np.asarray(cols, dtype=np.int64).reshape(-1)
        n_rows, n_cols = _shapes(spec)[1]
        for name, index, size in (("rows", self.rows, n_rows), ("cols", self.cols, n_cols)):
            if index.size and (index.min() < 0 or index.max() >= size):
                raise ConvSpecError(
                    f"{name} must lie in [0, {size}) for C of shape {(n_rows, n_cols)}"
                )
        out_channel, *self.out_position = _unravel(
            self.rows, (spec.out_channels, *_shapes(spec)[0])
        )
        in_channel, *self.in_position = _unravel(self.cols, (spec.in_channels, *spec.input_shape))
        per_group_out = spec.out_channels // spec.groups
        per_group_in = spec.in_channels // spec.groups
        self.same_group = (
            (out_channel // per_group_out)[:, None] == (in_channel // per_group_in)[None, :]
        )
        self.weight_row = (
            out_channel[:, None] * per_group_in + (in_channel % per_group_in)[None, :]
        )


def _axis_terms(spec: ConvSpec, axis: int, j: np.ndarray, i: np.ndarray) -> np.ndarray:
    """The taps of output positions ``j`` that read input positions ``i`` along one dim.

    A tap ``t`` of output ``j`` reads the padded coordinate ``q = j*s - b +
    t*d``, which holds input entry ``padding_source(q)``. So the taps reading
    ``i`` are those whose ``q`` lies in one of ``i``'s preimages under the
    mode (:func:`~transpose_matrix.geometry.padding.padding_preimages`:
    ``i`` itself, and for a mode that copies input entries its mirror or
    wrapped images, or for ``replicate`` at an edge every coordinate beyond
    it). A preimage beyond the padding gives no tap in ``[0, k)``, so no
    amount needs checking here.

    Returns ``table`` of shape ``(len(j), len(i), m, 2)``: per preimage
    interval, the first and last tap reading it (empty when first > last).
    """
    n, k = spec.input_shape[axis], spec.kernel_size[axis]
    s, d, before = spec.stride[axis], spec.dilation[axis], spec.padding[axis][0]
    origin = (before - j * s)[:, None]  # t*d = q + origin
    runs = []
    for low, high in padding_preimages(i, n, spec.padding[axis], spec.padding_mode):
        first = np.maximum(-((-(low[None, :] + origin)) // d), 0)
        last = np.minimum((high[None, :] + origin) // d, k - 1)
        runs.append(np.stack(np.broadcast_arrays(first, last), axis=-1))
    return np.stack(runs, axis=-2)


def conv_matrix_terms(spec: ConvSpec, rows: Any, cols: Any) -> list[list[tuple[int, ...]]]:
    """The weights summed at ``C[r, c]`` for every ``r`` in ``rows``, ``c`` in ``cols``.

    ``out[a][b]`` is a tuple of flat weight indices ``f`` (ascending) with
    ``C[rows[a], cols[b]] = sum(weight.reshape(-1)[f] for f in out[a][b])``;
    the empty tuple is a structural zero. With ``padding_mode='zeros'`` a
    tuple holds at most one index (:func:`conv_matrix_entries`'s). With
    any other mode (``'reflect'``, ``'replicate'``, ``'circular'``, …) the
    padding copies input entries into the border, so several taps of one output position can read
    the same input entry and their weights add up: ``C = D·P``.

    Each tuple is a closed-form function of its indices: along each dim the
    taps of output ``j`` that read input ``i`` are those whose padded
    coordinate ``j*stride - padding_before + t*dilation`` is a preimage of
    ``i`` under the padding (``i`` itself, its mirror or wrapped images, or
    for ``replicate`` at an edge every coordinate beyond it), and an entry's
    taps are the products of its per-dim taps. The cost is that of the
    ``len(rows) × len(cols)`` block and the terms it holds, whatever the
    size of C.

    Parameters
    ----------
    spec : ConvSpec
    rows, cols : array_like of int
        Row and column indices of C (each inside ``spec.matrix_shape``).

    Returns
    -------
    list of list of tuple of int
        ``len(rows)`` lists of ``len(cols)`` tuples. Cᵀ's terms are the
        transposed nesting of ``conv_matrix_terms(spec, cols, rows)``.

    Raises
    ------
    ConvSpecError
        An index outside C.
    MemoryGuardError
        The block's terms would not fit in memory.

    Examples
    --------
    >>> spec = ConvSpec((4,), 3, padding=1, padding_mode="reflect")
    >>> conv_matrix_terms(spec, [0], [0, 1, 2, 3])  # x[-1] reflects onto x[1]
    [[(1,), (0, 2), (), ()]]
    """
    spec = as_spec(spec)
    window = _Window(spec, rows, cols)
    shape = (len(window.rows), len(window.cols))
    if not copies_input(spec.padding_mode):
        flat = conv_matrix_entries(spec, window.rows, window.cols)
        return [[(int(f),) if f >= 0 else () for f in row] for row in flat.tolist()]
    per_axis = []
    count = window.same_group.astype(np.int64)
    for axis in range(spec.ndim):
        table = _axis_terms(spec, axis, window.out_position[axis], window.in_position[axis])
        along = np.maximum(table[..., 1] - table[..., 0] + 1, 0).sum(axis=-1)
        count = count * along
        per_axis.append(table)
    check_memory(
        int(count.sum()) * 40 + shape[0] * shape[1] * 64,
        what=f"the terms of a {shape[0]} × {shape[1]} block of C",
        hint="ask for a smaller block",
    )
    taps = math.prod(spec.kernel_size)
    out: list[list[tuple[int, ...]]] = [[()] * shape[1] for _ in range(shape[0])]
    for a, b in zip(*np.nonzero(count)):
        flat = np.zeros(1, dtype=np.int64)
        for axis, table in enumerate(per_axis):
            # The preimages are disjoint, so their taps are too: sorted, ascending.
            along = np.sort(np.concatenate([np.arange(first, last + 1)
                                            for first, last in table[a, b]]))
            flat = (flat[:, None] * spec.kernel_size[axis] + along[None, :]).reshape(-1)
        base = int(window.weight_row[a, b]) * taps
        out[a][b] = tuple((base + flat).tolist())
    return out


def conv_matrix_max_terms(spec: ConvSpec) -> int:
    """The most weights any entry of C sums: 1 for ``padding_mode='zeros'``.

    Along each dim, the most taps of one output position that read the same
    input entry through the padding; the product over dims (the padding
    folds every dim independently). Only output positions whose kernel
    reaches into the padding are looked at, so the cost is that of the
    border, not of C.

    Examples
    --------
    >>> conv_matrix_max_terms(ConvSpec((4, 4), 3, padding=1, padding_mode="reflect"))
    4
    >>> conv_matrix_max_terms(ConvSpec((4,), 5, padding=3, padding_mode="replicate"))
    4
    """
    spec = as_spec(spec)
    if not copies_input(spec.padding_mode):
        return 1
    most = 1
    for axis in range(spec.ndim):
        table = _edge_table(spec, axis)[1]
        if table.size:
            ordered = np.sort(table, axis=1)
            runs = np.diff(ordered, axis=1) == 0
            # The longest run of equal sources in a sorted row.
            longest = 1
            if runs.size:
                length = np.zeros(len(table), dtype=np.int64)
                best = np.zeros(len(table), dtype=np.int64)
                for column in runs.T:
                    length = np.where(column, length + 1, 0)
                    best = np.maximum(best, length)
                longest = int(best.max()) + 1
            most *= longest
    return most


def _edge_table(spec: ConvSpec, axis: int) -> tuple[int, np.ndarray]:
    """Output positions along ``axis`` whose taps reach the padding, and what they read.

    Returns ``(interior, table)``: ``interior`` counts the positions whose
    taps all land inside the input (each reads ``k`` distinct entries), and
    ``table[r, t]`` is the input entry tap ``t`` of the ``r``-th other
    position reads through the padding. There are about ``(before +
    after) / stride + 2`` such positions, however long the dim.
    """
    n, k = spec.input_shape[axis], spec.kernel_size[axis]
    s, d, before = spec.stride[axis], spec.dilation[axis], spec.padding[axis][0]
    out = _shapes(spec)[0][axis]
    span = d * (k - 1) + 1
    first_inside = min(out, -(-before // s))  # first j with j*s - before >= 0
    # first j whose last tap passes the end: j*s - before + span - 1 >= n
    first_past = min(out, max(0, -(-(n - span + 1 + before) // s)))
    # Positions before first_inside reach the padding before the input, those
    # from first_past on the padding after it (the two ranges may overlap).
    if first_past < first_inside:
        first_inside, first_past = out, out  # every position reaches the padding
    count = first_inside + out - first_past
    check_memory(3 * 8 * count * k, what=f"padding_mode={spec.padding_mode!r} border tables")
    edge = np.concatenate((np.arange(first_inside), np.arange(first_past, out)))
    coord = edge[:, None] * s - before + np.arange(k)[None, :] * d
    table = padding_source(coord, n, spec.padding_mode)
    return out - len(edge), table
