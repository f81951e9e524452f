"""Sparse builders: the matrix C of a convolution and its transpose Cᵀ.

The builders are vectorised index arithmetic: per spatial dim, which kernel
taps of which output position land inside the input; then, a block of rows at
a time, the dense per-row layout ``(in_channel, *taps)`` is written with
broadcasting and compressed to the valid taps straight into the final CSR
arrays. No Python loop runs over output positions or channels; the only loop
is over blocks of about a million entries, which keeps temporaries small.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse

from .errors import ConvSpecError, ConvSpecTypeError
from .spec import ConvSpec

__all__ = [
    "conv_matrix",
    "transposed_conv_matrix",
    "check_weight",
    "conv_matrix_nnz",
    "conv_matrix_nbytes",
    "index_dtype",
    "WEIGHT_DTYPES",
]

#: Weight dtypes the sparse builders accept (those ``scipy.sparse`` supports).
WEIGHT_DTYPES = tuple(
    np.dtype(name)
    for name in ("float32", "float64", "complex64", "complex128", "int32", "int64")
)

_BLOCK_ENTRIES = 1 << 20


def check_weight(spec: ConvSpec, weight: Any) -> np.ndarray:
    """Return ``weight`` as an array after checking shape, dtype and finiteness.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`, or the dtype is unsupported.
    ConvSpecError
        The shape is not ``spec.weight_shape`` or an entry is NaN or infinite.
    """
    if not isinstance(spec, ConvSpec):
        raise ConvSpecTypeError(f"spec={spec!r} must be a ConvSpec")
    if isinstance(weight, np.ndarray):
        array = weight
    else:
        try:
            array = np.asarray(weight)
        except (TypeError, ValueError) as error:
            raise ConvSpecTypeError(f"weight could not be read as an array: {error}") from None
    if array.dtype not in WEIGHT_DTYPES:
        allowed = ", ".join(str(d) for d in WEIGHT_DTYPES)
        raise ConvSpecTypeError(f"weight dtype {array.dtype} must be one of {allowed}")
    if array.shape != spec.weight_shape:
        raise ConvSpecError(
            f"weight shape {array.shape} must be (out_channels, in_channels // groups, "
            f"*kernel_size) = {spec.weight_shape}"
        )
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        raise ConvSpecError("weight contains NaN or infinite entries; all must be finite")
    return array


def index_dtype(*bounds: int) -> np.dtype:
    """``int32`` when every bound fits in it, else ``int64``."""
    return np.dtype(np.int32 if max(bounds) <= np.iinfo(np.int32).max else np.int64)


def _taps(spec: ConvSpec, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Input positions ``(out, k)`` of every tap along one dim, and their validity."""
    out = spec.output_shape[axis]
    positions = (
        np.arange(out)[:, None] * spec.stride[axis]
        - spec.padding[axis][0]
        + np.arange(spec.kernel_size[axis])[None, :] * spec.dilation[axis]
    )
    valid = (positions >= 0) & (positions < spec.input_shape[axis])
    return positions, valid


def _spatial_tables(spec: ConvSpec) -> tuple[np.ndarray, np.ndarray]:
    """Flat input offset of tap 0 per output position, and validity per (position, tap).

    Returns ``base`` of shape ``(P,)`` and ``valid`` of shape ``(P, K)`` with
    ``P = prod(output_shape)`` and ``K = prod(kernel_size)``, both in C order.
    """
    ndim = spec.ndim
    strides = [math.prod(spec.input_shape[a + 1 :]) for a in range(ndim)]
    base = np.zeros((1,) * ndim, dtype=np.int64)
    valid = np.ones((1,) * (2 * ndim), dtype=bool)
    for axis in range(ndim):
        positions, ok = _taps(spec, axis)
        shape = [1] * ndim
        shape[axis] = spec.output_shape[axis]
        base = base + (positions[:, 0] * strides[axis]).reshape(shape)
        shape = [1] * (2 * ndim)
        shape[axis] = spec.output_shape[axis]
        shape[ndim + axis] = spec.kernel_size[axis]
        valid = valid & ok.reshape(shape)
    count = math.prod(spec.output_shape)
    taps = math.prod(spec.kernel_size)
    valid = np.broadcast_to(valid, (*spec.output_shape, *spec.kernel_size))
    return base.reshape(count), valid.reshape(count, taps)


def _tap_offsets(spec: ConvSpec) -> np.ndarray:
    """Flat column offset ``(groups, in_channels // groups, K)`` of every tap."""
    ndim = spec.ndim
    strides = [math.prod(spec.input_shape[a + 1 :]) for a in range(ndim)]
    offset = np.zeros((1,) * ndim, dtype=np.int64)
    for axis in range(ndim):
        shape = [1] * ndim
        shape[axis] = spec.kernel_size[axis]
        step = spec.dilation[axis] * strides[axis]
        offset = offset + (np.arange(spec.kernel_size[axis]) * step).reshape(shape)
    per_group = spec.in_channels // spec.groups
    channel = np.arange(spec.in_channels).reshape(spec.groups, per_group, 1)
    return channel * math.prod(spec.input_shape) + offset.reshape(1, 1, -1)


def conv_matrix_nnz(spec: ConvSpec) -> int:
    """Number of stored entries of C: taps that land inside the input."""
    per_dim = 1
    for axis in range(spec.ndim):
        _, valid = _taps(spec, axis)
        per_dim *= int(valid.sum())
    return per_dim * spec.out_channels * (spec.in_channels // spec.groups)


def conv_matrix_nbytes(spec: ConvSpec, dtype: Any = np.float64) -> int:
    """Bytes of C in CSR form: data, indices and indptr."""
    rows, cols = spec.matrix_shape
    nnz = conv_matrix_nnz(spec)
    index = index_dtype(nnz, cols, rows)
    return nnz * (np.dtype(dtype).itemsize + index.itemsize) + (rows + 1) * index.itemsize


def conv_matrix(spec: ConvSpec, weight: Any) -> scipy.sparse.csr_array:
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

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``spec.matrix_shape``, dtype of ``weight``, canonical (sorted
        indices, no duplicates). Taps that land in padding are not stored;
        taps whose weight is zero are. Indices are 32-bit when they fit.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        From :func:`check_weight`; the memory guard's
        :class:`~transpose_matrix.errors.MemoryGuardError` when C would not fit.

    Notes
    -----
    Rows and columns flatten ``(channel, *spatial)`` in C order. This is
    cross-correlation (no kernel flip), as in ``torch.nn.functional.convNd``.

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
    rows, cols = spec.matrix_shape
    base, valid = _spatial_tables(spec)
    positions = base.shape[0]
    taps = valid.shape[1]
    per_group_in = spec.in_channels // spec.groups
    per_group_out = spec.out_channels // spec.groups
    entries_per_row = valid.sum(axis=1) * per_group_in
    nnz = int(entries_per_row.sum()) * spec.out_channels
    index = index_dtype(nnz, cols, rows)

    indptr = np.empty(rows + 1, dtype=index)
    indptr[0] = 0
    np.cumsum(np.tile(entries_per_row, spec.out_channels), out=indptr[1:])
    data = np.empty(nnz, dtype=weight.dtype)
    indices = np.empty(nnz, dtype=index)

    flat_weight = weight.reshape(spec.out_channels, per_group_in * taps)
    offsets = _tap_offsets(spec).reshape(spec.groups, per_group_in * taps)
    row_width = per_group_in * taps
    block = max(1, _BLOCK_ENTRIES // row_width)
    all_valid = bool(valid.all())
    for start in range(0, rows, block):
        stop = min(rows, start + block)
        row = np.arange(start, stop)
        channel, position = np.divmod(row, positions)
        values = flat_weight[channel]
        columns = base[position][:, None] + offsets[channel // per_group_out]
        lo, hi = indptr[start], indptr[stop]
        if all_valid:
            data[lo:hi] = values.reshape(-1)
            indices[lo:hi] = columns.reshape(-1)
            continue
        mask = np.broadcast_to(
            valid[position][:, None, :], (stop - start, per_group_in, taps)
        ).reshape(-1)
        np.compress(mask, values.reshape(-1), out=data[lo:hi])
        np.compress(mask, columns.reshape(-1), out=indices[lo:hi])
    matrix = scipy.sparse.csr_array((data, indices, indptr), shape=(rows, cols))
    matrix.has_sorted_indices = True
    matrix.has_canonical_format = True
    return matrix


def transposed_conv_matrix(spec: ConvSpec, weight: Any) -> scipy.sparse.csr_array:
    """Cᵀ as CSR: the matrix of ``conv_transposeNd`` and of the input gradient.

    ``spec`` is the forward convolution (use :meth:`ConvSpec.from_transposed`
    to get it from ``ConvTransposeNd`` arguments) and ``weight`` has the
    layout ``(out_channels, in_channels // groups, *kernel_size)`` of that
    forward convolution, which is the transposed layer's own weight as it is.

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
    return conv_matrix(spec, weight).T.tocsr()
