"""Fixed resampling operators as sparse matrices on one channel's spatial grid.

Zero insertion and padding are the two fixed steps hidden inside a transposed
convolution: ``Cᵀ = D·P·Z``, zero insertion ``Z``, then padding ``P``, then an
ordinary stride-1 convolution ``D`` with the flipped, channel-swapped kernel.
Nearest, bilinear and max-unpooling upsamplers are the fixed operators that a
transposed convolution is usually compared with; each matrix here equals the
PyTorch operation (``interpolate`` and ``max_unpool``) exactly.

Every matrix acts on one channel's spatial grid flattened in C order, so a
multi-dimensional operator is the Kronecker product of its per-dim 1-D
operators (dim 0 outermost). Apply it channel by channel, or use
``scipy.sparse.kron(scipy.sparse.eye(channels), M)`` for all channels at once.

Like the convolution builders, each one works out its shape and number of
entries in closed form first and refuses, before allocating, a matrix that
would not fit in the memory limit (:mod:`transpose_matrix.memory`) or could
not be indexed (:class:`~transpose_matrix.errors.MemoryGuardError`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse

from .errors import ConvSpecError, ConvSpecTypeError
from .memory import check_index_range, check_memory
from .shapes import as_int, as_pair, as_shape, describe, per_dim

__all__ = [
    "zero_insertion_matrix",
    "pad_matrix",
    "nearest_upsample_matrix",
    "bilinear_upsample_matrix",
    "max_unpool_matrix",
]

def _guard(what: str, rows: int, cols: int, nnz: int, scratch: int = 0) -> None:
    """Refuse a resampling matrix before building it: indexable and within the memory limit.

    ``scratch`` counts the per-dim arrays; the Kronecker products hold the
    result a few times over in COO and CSR form while they run; 64 KiB
    cover Python's own objects.
    """
    label = f"{what} of shape ({describe(rows)}, {describe(cols)})"
    check_index_range((rows, cols), what=label)
    needed = nnz * 16 + (rows + 1) * 8
    check_memory(
        needed,
        what=label,
        peak=needed + nnz * 48 + rows * 8 + scratch + 2**16,
        hint="use a smaller shape, or apply it one dim at a time",
    )


def _kron(factors: list[scipy.sparse.csr_array]) -> scipy.sparse.csr_array:
    """Kronecker product, dim 0 outermost, matching C-order flattening."""
    result = factors[0]
    for factor in factors[1:]:
        result = scipy.sparse.kron(result, factor, format="csr")
    result = scipy.sparse.csr_array(result)
    result.sum_duplicates()
    return result


def _selection(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> Any:
    data = np.ones(len(rows), dtype=np.float64)
    return scipy.sparse.csr_array((data, (rows, cols)), shape=shape)


def zero_insertion_matrix(
    input_shape: int | Sequence[int], stride: int | Sequence[int]
) -> scipy.sparse.csr_array:
    """Z with ``(Z x)[i*s] = x[i]`` per dim: ``s - 1`` zeros between neighbouring inputs.

    Parameters
    ----------
    input_shape : int or sequence of int
        Spatial shape ``n`` of one channel, 1 to 3 dims.
    stride : int or sequence of int
        Spacing ``s >= 1`` of the inputs in the result; an int applies to
        every dim.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(prod((n - 1)*s + 1), prod(n))``, float64, one 1 per column.

    Raises
    ------
    ConvSpecTypeError
        A size or stride is not an integer.
    ConvSpecError
        A size or stride is below 1, or ``stride`` has the wrong length.

    Notes
    -----
    This is the first step of a transposed convolution, ``Cᵀ = D·P·Z``:
    insert zeros (``Z``), pad by ``d(k - 1) - p`` on each side plus
    ``output_padding`` after (:func:`pad_matrix`), then run a stride-1
    convolution with the flipped, channel-swapped kernel (``D``). In 1-D,
    ``Z[r, i] = 1`` exactly when ``r = i*s``; in more dims Z is the
    Kronecker product of the 1-D matrices.

    Examples
    --------
    >>> zero_insertion_matrix(3, 2).toarray()
    array([[1., 0., 0.],
           [0., 0., 0.],
           [0., 1., 0.],
           [0., 0., 0.],
           [0., 0., 1.]])
    >>> zero_insertion_matrix((2, 3), 2).shape
    (15, 6)
    """
    shape = as_shape("input_shape", input_shape)
    strides = per_dim("stride", stride, len(shape), 1)
    sizes = [(n - 1) * s + 1 for n, s in zip(shape, strides)]
    _guard(
        "Z (zero_insertion_matrix)",
        math.prod(sizes),
        math.prod(shape),
        math.prod(shape),
        scratch=sum(sizes) * 8 + sum(shape) * 48,
    )
    factors = []
    for n, s in zip(shape, strides, strict=True):
        cols = np.arange(n)
        factors.append(_selection(cols * s, cols, ((n - 1) * s + 1, n)))
    return _kron(factors)


def pad_matrix(input_shape: int | Sequence[int], padding: Any) -> scipy.sparse.csr_array:
    """P with ``(P x)[b + i] = x[i]`` per dim: ``b`` zeros before, ``a`` zeros after.

    Parameters
    ----------
    input_shape : int or sequence of int
        Spatial shape ``n`` of one channel, 1 to 3 dims.
    padding : int, or sequence of int or (before, after) pairs
        Per-dim ``(before, after)`` amounts, as in :class:`ConvSpec`; an int
        pads both sides of every dim equally. A negative amount crops that
        many entries from that side instead.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(prod(n + before + after), prod(n))``, float64, a 0/1 matrix
        with at most one 1 per row and per column.

    Raises
    ------
    ConvSpecTypeError
        A size or amount is not an integer.
    ConvSpecError
        A size is below 1, ``padding`` has the wrong length or form, or the
        cropping leaves no entry (``n + before + after < 1``).

    Notes
    -----
    In 1-D, ``P[r, i] = 1`` exactly when ``r = i + before`` and ``0 <= r <
    n + before + after``. In a transposed convolution ``Cᵀ = D·P·Z`` the
    padding is ``d(k - 1) - p`` before and ``d(k - 1) - p + output_padding``
    after; it is negative (a crop) when ``p > d(k - 1)``.

    Examples
    --------
    >>> pad_matrix(2, [(1, 2)]).toarray()
    array([[0., 0.],
           [1., 0.],
           [0., 1.],
           [0., 0.],
           [0., 0.]])
    >>> pad_matrix((3, 3), 1).shape
    (25, 9)
    >>> pad_matrix(4, [(-1, 0)]).toarray()
    array([[0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 0., 0., 1.]])
    """
    shape = as_shape("input_shape", input_shape)
    ndim = len(shape)
    if isinstance(padding, (tuple, list)):
        if len(padding) != ndim:
            raise ConvSpecError(
                f"padding={describe(tuple(padding))} must have {ndim} entries, one per "
                "spatial dim (each an int or a (before, after) pair)",
                field="padding",
            )
        pairs = [as_pair(f"padding[{i}]", v) for i, v in enumerate(padding)]
    else:
        pairs = [as_pair("padding", padding)] * ndim
    _guard_pad(shape, pairs)
    factors = []
    for axis, (n, (before, after)) in enumerate(zip(shape, pairs, strict=True)):
        before = as_int(f"padding[{axis}] before", before)
        after = as_int(f"padding[{axis}] after", after)
        size = n + before + after
        if size < 1:
            raise ConvSpecError(
                f"padding[{axis}]=({before}, {after}) must leave at least one entry of "
                f"input size {n}, got {size}",
                field="padding",
            )
        cols = np.arange(n)
        rows = cols + before
        keep = (rows >= 0) & (rows < size)
        factors.append(_selection(rows[keep], cols[keep], (size, n)))
    return _kron(factors)


def _guard_pad(shape: tuple[int, ...], pairs: list[tuple[Any, Any]]) -> None:
    sizes, kept = [], []
    for axis, (n, (before, after)) in enumerate(zip(shape, pairs)):
        before = as_int(f"padding[{axis}] before", before, -2**60)
        after = as_int(f"padding[{axis}] after", after, -2**60)
        size = max(1, n + before + after)
        sizes.append(size)
        kept.append(max(0, min(n, size - before) - max(0, -before)))
    _guard(
        "P (pad_matrix)",
        math.prod(sizes),
        math.prod(shape),
        math.prod(kept),
        scratch=sum(sizes) * 8 + sum(shape) * 40,
    )


def nearest_upsample_matrix(
    input_shape: int | Sequence[int], scale: int | Sequence[int]
) -> scipy.sparse.csr_array:
    """U with ``(U x)[j] = x[floor(j / s)]`` per dim: each input repeated ``s`` times.

    Equals ``torch.nn.functional.interpolate(x, scale_factor=s,
    mode='nearest')`` on one channel.

    Parameters
    ----------
    input_shape : int or sequence of int
        Spatial shape ``n`` of one channel, 1 to 3 dims.
    scale : int or sequence of int
        Integer scale factor ``s >= 1`` per dim; an int applies to every dim.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(prod(n*s), prod(n))``, float64, one 1 per row.

    Raises
    ------
    ConvSpecTypeError
        A size or scale is not an integer (fractional scales are refused).
    ConvSpecError
        A size or scale is below 1, or ``scale`` has the wrong length.

    Notes
    -----
    U is the transposed convolution with kernel size ``s``, stride ``s``, no
    padding and a kernel of ones: the blocks ``s x s`` of the output do not
    overlap, and each one is its input pixel times the kernel.

    Examples
    --------
    >>> nearest_upsample_matrix(2, 2).toarray()
    array([[1., 0.],
           [1., 0.],
           [0., 1.],
           [0., 1.]])
    """
    shape = as_shape("input_shape", input_shape)
    scales = per_dim("scale", scale, len(shape), 1)
    sizes = [n * s for n, s in zip(shape, scales)]
    rows = math.prod(sizes)
    _guard(
        "U (nearest_upsample_matrix)", rows, math.prod(shape), rows, scratch=sum(sizes) * 48
    )
    factors = []
    for n, s in zip(shape, scales, strict=True):
        rows = np.arange(n * s)
        factors.append(_selection(rows, rows // s, (n * s, n)))
    return _kron(factors)


def _linear_weights(n: int, s: int, align_corners: bool) -> scipy.sparse.csr_array:
    """The 1-D linear interpolation matrix of ``interpolate(..., mode='linear')``."""
    out = n * s
    j = np.arange(out, dtype=np.float64)
    if align_corners:
        source = j * ((n - 1) / (out - 1)) if out > 1 else np.zeros(out)
    else:
        # Half-pixel centres; torch clamps sources left of the first centre to
        # it, which is what makes the border differ from a transposed conv.
        source = np.maximum((j + 0.5) / s - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.int64), n - 1)
    high = np.minimum(low + 1, n - 1)
    frac = source - low
    rows = np.concatenate([np.arange(out), np.arange(out)])
    cols = np.concatenate([low, high])
    data = np.concatenate([1.0 - frac, frac])
    matrix = scipy.sparse.csr_array((data, (rows, cols)), shape=(out, n))
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def bilinear_upsample_matrix(
    input_shape: int | Sequence[int],
    scale: int | Sequence[int],
    align_corners: bool = False,
) -> scipy.sparse.csr_array:
    """B with ``(B x)[j] = (1 - λ) x[⌊u⌋] + λ x[⌊u⌋ + 1]``, ``u`` the source of ``j``.

    Per dim, output ``j`` reads the source coordinate ``u = (j + 1/2)/s - 1/2``
    clamped below at 0 (``align_corners=False``) or ``u = j (n - 1)/(n s -
    1)`` (``align_corners=True``), with ``λ = u - ⌊u⌋`` and the upper
    neighbour clamped to ``n - 1``. Equals ``torch.nn.functional.interpolate(x,
    scale_factor=s, mode=m, align_corners=align_corners)`` on one channel,
    with ``m`` = ``'linear'``, ``'bilinear'`` or ``'trilinear'`` for 1, 2, 3
    dims.

    Parameters
    ----------
    input_shape : int or sequence of int
        Spatial shape ``n`` of one channel, 1 to 3 dims.
    scale : int or sequence of int
        Integer scale factor ``s >= 1`` per dim; an int applies to every dim.
    align_corners : bool, default False
        PyTorch's flag: ``True`` maps the corner pixels onto each other.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(prod(n*s), prod(n))``, float64, every row summing to 1.

    Raises
    ------
    ConvSpecTypeError
        A size or scale is not an integer, or ``align_corners`` is not a bool.
    ConvSpecError
        A size or scale is below 1, or ``scale`` has the wrong length.

    Notes
    -----
    Away from the border, ``align_corners=False`` is the transposed
    convolution with stride ``s`` and the tent kernel ``w[t] = 1 - |t - c|/s``
    (``k = 2s``, ``c = s - 1/2``, padding ``s/2`` for even ``s``; ``k = 2s -
    1``, ``c = s - 1``, padding ``(s - 1)/2`` for odd ``s``). In the first and
    last ``⌊s/2⌋`` rows of each dim the transposed convolution's tent reaches
    into the zero padding, while interpolate clamps to the edge pixel, so
    those rows differ.

    Examples
    --------
    >>> bilinear_upsample_matrix(3, 2).toarray()
    array([[1.  , 0.  , 0.  ],
           [0.75, 0.25, 0.  ],
           [0.25, 0.75, 0.  ],
           [0.  , 0.75, 0.25],
           [0.  , 0.25, 0.75],
           [0.  , 0.  , 1.  ]])
    """
    shape = as_shape("input_shape", input_shape)
    scales = per_dim("scale", scale, len(shape), 1)
    if not isinstance(align_corners, (bool, np.bool_)):
        raise ConvSpecTypeError(
            f"align_corners={describe(align_corners)} must be a bool", field="align_corners"
        )
    sizes = [n * s for n, s in zip(shape, scales)]
    rows = math.prod(sizes)
    _guard(
        "B (bilinear_upsample_matrix)",
        rows,
        math.prod(shape),
        rows * 2 ** len(shape),
        scratch=sum(sizes) * 160,
    )
    factors = [
        _linear_weights(n, s, bool(align_corners)) for n, s in zip(shape, scales, strict=True)
    ]
    return _kron(factors)


def max_unpool_matrix(indices: Any, output_shape: int | Sequence[int]) -> scipy.sparse.csr_array:
    """M with ``(M y)[c, idx[c, q]] = y[c, q]``: each pooled value back at its argmax.

    Equals ``torch.nn.functional.max_unpool{1,2,3}d(y, indices, ...,
    output_size=output_shape)`` for one sample, where ``indices`` came from
    ``max_pool{1,2,3}d(..., return_indices=True)``.

    Parameters
    ----------
    indices : array_like of int
        Shape ``(channels, *pooled_shape)``: for every channel and pooled
        position, the flat C-order index of the selected entry within that
        channel's spatial grid of ``output_shape`` (torch's convention).
    output_shape : int or sequence of int
        Spatial shape of the unpooled result (the max-pooling input), with as
        many dims as ``indices`` has after the channel dim.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(channels * prod(output_shape), channels * prod(pooled_shape))``,
        float64, one 1 per column. Rows and columns flatten ``(channel,
        *spatial)`` in C order.

    Raises
    ------
    ConvSpecTypeError
        ``indices`` is not an integer array, or a size is not an integer.
    ConvSpecError
        ``indices`` has the wrong number of dims, an index is outside
        ``[0, prod(output_shape))``, or a channel repeats an index.

    Notes
    -----
    ``Mᵀ = S`` is max-pooling's selection matrix, ``S x = max_pool(x)`` for
    the ``x`` that produced ``indices``; so M is also the gradient of max
    pooling at that ``x``. Repeated indices (overlapping windows that chose
    the same entry) are refused: the gradient ``Sᵀ`` would add the two
    values there, whereas ``max_unpool`` writes one of them.

    Examples
    --------
    >>> import numpy as np
    >>> max_unpool_matrix(np.array([[1, 2]]), 4).toarray()
    array([[0., 0.],
           [1., 0.],
           [0., 1.],
           [0., 0.]])
    """
    shape = as_shape("output_shape", output_shape)
    try:
        array = np.asarray(indices)
    except (TypeError, ValueError) as error:
        raise ConvSpecTypeError(
            f"indices could not be read as an array: {error}", field="indices"
        ) from None
    if array.dtype.kind not in "iu":
        raise ConvSpecTypeError(
            f"indices dtype {array.dtype} must be an integer type (torch's int64 indices)",
            field="indices",
        )
    if array.ndim != len(shape) + 1:
        raise ConvSpecError(
            f"indices shape {array.shape} must be (channels, *pooled_shape) with "
            f"{len(shape)} spatial dims to match output_shape={shape}",
            field="indices",
        )
    size = math.prod(shape)
    channels = array.shape[0]
    _guard(
        "M (max_unpool_matrix)",
        channels * size,
        array.size,
        array.size,
        scratch=array.size * 48,
    )
    flat = array.reshape(channels, -1).astype(np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= size):
        bad = int(flat[(flat < 0) | (flat >= size)][0])
        raise ConvSpecError(
            f"indices entry {bad} must lie in [0, {size}), the flat positions of "
            f"output_shape={shape}",
            field="indices",
        )
    for c in range(channels):
        unique, counts = np.unique(flat[c], return_counts=True)
        if (counts > 1).any():
            raise ConvSpecError(
                f"indices of channel {c} repeat position {int(unique[counts > 1][0])}; "
                "each must be distinct (overlapping pooling windows are not unpoolable "
                "as one matrix)",
                field="indices",
            )
    pooled = flat.shape[1]
    rows = (np.arange(channels)[:, None] * size + flat).reshape(-1)
    cols = np.arange(channels * pooled)
    matrix = _selection(rows, cols, (channels * size, channels * pooled))
    matrix.sum_duplicates()
    return matrix
