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

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.padding import check_padding_mode, copies_input, padding_source
from ..geometry.shapes import as_int, as_pair, as_shape, describe, per_dim
from ..memory import check_index_range, check_memory

__all__ = [
    "zero_insertion_matrix",
    "pad_matrix",
    "padding_source",
    "nearest_upsample_matrix",
    "bilinear_upsample_matrix",
    "avg_pool_matrix",
    "max_unpool_matrix",
    "resized_shape",
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


def pad_matrix(
    input_shape: int | Sequence[int], padding: Any, mode: str = "zeros"
) -> scipy.sparse.csr_array:
    """P with ``(P x)[b + i] = x[i]`` per dim: ``b`` entries before, ``a`` after.

    Parameters
    ----------
    input_shape : int or sequence of int
        Spatial shape ``n`` of one channel, 1 to 3 dims.
    padding : int, or sequence of int or (before, after) pairs
        Per-dim ``(before, after)`` amounts, as in :class:`ConvSpec`; an int
        pads both sides of every dim equally. A negative amount crops that
        many entries from that side instead (``mode='zeros'`` only).
    mode : str
        What the padded entries hold, one of
        :data:`~transpose_matrix.geometry.padding.PADDING_MODES`, as
        :class:`ConvSpec`'s ``padding_mode`` (torch's ``'reflect'``,
        ``'replicate'``, ``'circular'`` are ``F.pad``'s): zeros, the input
        mirrored without repeating the edge entry, the edge entry repeated,
        or the input wrapped around. Same limits as ``ConvSpec``
        (:func:`~transpose_matrix.geometry.padding.check_padding_mode`):
        ``reflect`` pads less than ``n`` per side, ``circular`` at most ``n``.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(prod(n + before + after), prod(n))``, float64, a 0/1 matrix.
        ``zeros``: at most one 1 per row and per column. Other modes: exactly
        one 1 per row (every padded entry copies one input entry), and
        several in the columns of the entries the border copies.

    Raises
    ------
    ConvSpecTypeError
        A size or amount is not an integer, or ``mode`` is not a string.
    ConvSpecError
        A size is below 1, ``padding`` has the wrong length or form, the
        cropping leaves no entry (``n + before + after < 1``), ``mode`` is
        unknown, or an amount breaks the mode's limit.

    Notes
    -----
    In 1-D, ``P[r, i] = 1`` exactly when ``r = i + before`` and ``0 <= r <
    n + before + after``. In a transposed convolution ``Cᵀ = D·P·Z`` the
    padding is ``d(k - 1) - p`` before and ``d(k - 1) - p + output_padding``
    after; it is negative (a crop) when ``p > d(k - 1)``.

    With another mode, ``P[r, padding_source(r - before)] = 1`` (see
    :func:`padding_source`); in more dims P is the Kronecker product of the
    per-dim matrices, since each mode pads every dim independently. A
    convolution with that padding mode is ``C = D·P``, D the convolution of
    the padded input without padding, so its transpose ``Cᵀ = PᵀDᵀ`` adds
    each border entry's gradient back onto the input entry it copied.

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
    >>> pad_matrix(3, 1, mode="reflect").toarray()
    array([[0., 1., 0.],
           [1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
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
    pairs = [
        (as_int(f"padding[{axis}] before", before), as_int(f"padding[{axis}] after", after))
        for axis, (before, after) in enumerate(pairs)
    ]
    mode = check_padding_mode(mode, pairs, shape)
    _guard_pad(shape, pairs, mode)
    factors = []
    for axis, (n, (before, after)) in enumerate(zip(shape, pairs, strict=True)):
        size = n + before + after
        if size < 1:
            raise ConvSpecError(
                f"padding[{axis}]=({before}, {after}) must leave at least one entry of "
                f"input size {n}, got {size}",
                field="padding",
            )
        if not copies_input(mode):
            cols = np.arange(n)
            rows = cols + before
            keep = (rows >= 0) & (rows < size)
            factors.append(_selection(rows[keep], cols[keep], (size, n)))
        else:
            rows = np.arange(size)
            factors.append(_selection(rows, padding_source(rows - before, n, mode), (size, n)))
    return _kron(factors)


def _guard_pad(shape: tuple[int, ...], pairs: list[tuple[Any, Any]], mode: str) -> None:
    sizes, kept = [], []
    for axis, (n, (before, after)) in enumerate(zip(shape, pairs)):
        before = as_int(f"padding[{axis}] before", before, -2**60)
        after = as_int(f"padding[{axis}] after", after, -2**60)
        size = max(1, n + before + after)
        sizes.append(size)
        # Every padded entry copies an input entry unless the mode pads with zeros.
        kept.append(size if copies_input(mode) else max(0, min(n, size - before) - max(0, -before)))
    _guard(
        "P (pad_matrix)",
        math.prod(sizes),
        math.prod(shape),
        math.prod(kept),
        scratch=sum(sizes) * 8 + sum(shape) * 40,
    )



def _scale_factors(value: Any, ndim: int) -> tuple[float, ...]:
    """Per-dim positive finite scale factors (ints or floats; bools refused)."""
    values = list(value) if isinstance(value, (tuple, list)) else [value] * ndim
    if len(values) != ndim:
        raise ConvSpecError(
            f"scale={tuple(values)!r} must have {ndim} entries, one per spatial dim"
        )
    factors = []
    for i, v in enumerate(values):
        name = "scale" if not isinstance(value, (tuple, list)) else f"scale[{i}]"
        if isinstance(v, (bool, np.bool_)):
            raise ConvSpecTypeError(f"{name}={v!r} must be a positive number, not a bool")
        if not isinstance(v, (int, float, np.integer, np.floating)):
            raise ConvSpecTypeError(
                f"{name}={v!r} must be a positive number, not {type(v).__name__}"
            )
        if not (math.isfinite(v) and v > 0):
            raise ConvSpecError(f"{name}={v!r} must be a positive finite number")
        factors.append(float(v))
    return tuple(factors)


def _resize_targets(
    shape: tuple[int, ...], scale: Any, size: Any
) -> list[tuple[int, float | None]]:
    """Per dim ``(output size, scale factor or None)``, as ``interpolate`` settles them.

    With ``scale`` the output size is ``floor(n * scale)`` and the index
    arithmetic uses ``1 / scale``; with ``size`` it uses ``n / size``.
    """
    if (scale is None) == (size is None):
        raise ConvSpecError("give exactly one of scale= and size= (as interpolate does)")
    if size is not None:
        sizes = per_dim("size", size, len(shape), 1)
        return [(m, None) for m in sizes]
    targets: list[tuple[int, float | None]] = []
    for axis, (n, factor) in enumerate(zip(shape, _scale_factors(scale, len(shape)))):
        out = math.floor(n * factor)
        if out < 1:
            raise ConvSpecError(
                f"scale={factor!r} leaves no output entry along dim {axis} of size {n} "
                f"(floor({n} * {factor!r}) = {out})"
            )
        targets.append((out, factor))
    return targets


def resized_shape(
    input_shape: int | Sequence[int], scale: Any = None, size: Any = None
) -> tuple[int, ...]:
    """The output shape of ``interpolate(size=size)`` or ``interpolate(scale_factor=scale)``.

    ``size`` as given, or ``floor(n * scale)`` per dim (exactly one of the two).

    Examples
    --------
    >>> resized_shape((5, 4), 1.5), resized_shape((5, 4), size=(2, 3))
    ((7, 6), (2, 3))
    """
    shape = as_shape("input_shape", input_shape)
    return tuple(out for out, _ in _resize_targets(shape, scale, size))


def _nearest_index(n: int, out: int, factor: float | None, exact: bool) -> np.ndarray:
    """Source of every output position of ``interpolate(mode='nearest'|'nearest-exact')``."""
    scale = 1.0 / factor if factor is not None else n / out
    offset = 0.5 if exact else 0.0
    # torch rounds the source coordinate to float32 before taking the floor,
    # even for float64 tensors: j*scale = 6.999999999999999 reads entry 7.
    source = ((np.arange(out, dtype=np.float64) + offset) * scale).astype(np.float32)
    return np.minimum(np.floor(source).astype(np.int64), n - 1)


def nearest_upsample_matrix(
    input_shape: int | Sequence[int],
    scale: float | Sequence[float] | None = None,
    *,
    size: int | Sequence[int] | None = None,
    exact: bool = False,
) -> scipy.sparse.csr_array:
    """U with ``(U x)[j] = x[min(floor(j / s), n - 1)]`` per dim: ``interpolate(mode='nearest')``.

    Equals ``torch.nn.functional.interpolate(x, scale_factor=scale,
    mode='nearest')`` (or ``size=size``; ``mode='nearest-exact'`` with
    ``exact=True``) on one channel.

    Parameters
    ----------
    input_shape : int or sequence of int
        Spatial shape ``n`` of one channel, 1 to 3 dims.
    scale : number or sequence of numbers, optional
        Scale factor ``s > 0`` per dim, integer or not; an int or float
        applies to every dim. The output size is ``floor(n*s)``.
    size : int or sequence of int, optional
        Output size per dim instead of ``scale`` (exactly one of the two).
    exact : bool, default False
        ``'nearest-exact'``: output ``j`` reads ``floor((j + 1/2)*r)``
        instead of ``floor(j*r)``.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(prod(out), prod(n))``, float64, one 1 per row.

    Raises
    ------
    ConvSpecTypeError
        A size or scale is not a number (bools and strings are refused).
    ConvSpecError
        A size is below 1, a scale is not positive, both or neither of
        ``scale`` and ``size`` are given, or a per-dim value has the wrong
        length.

    Notes
    -----
    Output ``j`` reads ``min(floor(j*r), n - 1)`` with ``r = 1/s`` when a
    scale is given and ``r = n/out`` when a size is given (torch's rule; it
    uses ``1/s`` even where ``n*s`` is not an integer). torch rounds ``j*r``
    to float32 before the floor; the matrix does the same, so it picks the
    entries torch picks for float64 tensors. For float32 tensors torch also
    computes ``r`` and ``j*r`` in float32, which can choose the neighbouring
    entry where ``j*r`` is within float32 rounding of an integer (only for
    scales whose reciprocal is not exact).

    For an integer ``s``, U is the transposed convolution with kernel size
    ``s``, stride ``s``, no padding and a kernel of ones: the blocks ``s x s``
    of the output do not overlap, and each one is its input pixel times the
    kernel.

    Examples
    --------
    >>> nearest_upsample_matrix(2, 2).toarray()
    array([[1., 0.],
           [1., 0.],
           [0., 1.],
           [0., 1.]])
    >>> nearest_upsample_matrix(3, size=2).toarray()
    array([[1., 0., 0.],
           [0., 1., 0.]])
    """
    shape = as_shape("input_shape", input_shape)
    if not isinstance(exact, (bool, np.bool_)):
        raise ConvSpecTypeError(f"exact={exact!r} must be a bool")
    targets = _resize_targets(shape, scale, size)
    sizes = [out for out, _ in targets]
    rows = math.prod(sizes)
    _guard(
        "U (nearest_upsample_matrix)", rows, math.prod(shape), rows, scratch=sum(sizes) * 48
    )
    factors = []
    for n, (out, factor) in zip(shape, targets):
        picked = np.arange(out)
        factors.append(_selection(picked, _nearest_index(n, out, factor, bool(exact)), (out, n)))
    return _kron(factors)


def _linear_weights(
    n: int, out: int, align_corners: bool, factor: float | None
) -> scipy.sparse.csr_array:
    """The 1-D matrix of ``interpolate(mode='linear')`` from ``n`` to ``out`` entries."""
    if out == n:
        # torch copies when the size does not change, whatever the scale says.
        return _selection(np.arange(n), np.arange(n), (n, n))
    j = np.arange(out, dtype=np.float64)
    if align_corners:
        source = j * ((n - 1) / (out - 1)) if out > 1 else np.zeros(out)
    else:
        scale = 1.0 / factor if factor is not None else n / out
        # Half-pixel centres; torch clamps sources left of the first centre to
        # it, which is what makes the border differ from a transposed conv.
        source = np.maximum(scale * (j + 0.5) - 0.5, 0.0)
    low = np.minimum(source.astype(np.int64), n - 1)
    high = np.where(low < n - 1, low + 1, low)
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
    scale: float | Sequence[float] | None = None,
    align_corners: bool = False,
    *,
    size: int | Sequence[int] | None = None,
) -> scipy.sparse.csr_array:
    """B with ``(B x)[j] = (1 - λ) x[⌊u⌋] + λ x[⌊u⌋ + 1]``, ``u`` the source of ``j``.

    Per dim, output ``j`` reads the source coordinate ``u = r (j + 1/2) -
    1/2`` clamped below at 0 (``align_corners=False``; ``r = 1/s`` for a
    scale ``s``, ``n/out`` for a size) or ``u = j (n - 1)/(out - 1)``
    (``align_corners=True``), with ``λ = u - ⌊u⌋`` and the upper neighbour
    clamped to ``n - 1``; when ``out = n`` torch copies the input, whatever
    the scale. Equals ``torch.nn.functional.interpolate(x, scale_factor=s,
    mode=m, align_corners=align_corners)`` (or ``size=``) on one channel,
    with ``m`` = ``'linear'``, ``'bilinear'`` or ``'trilinear'`` for 1, 2, 3
    dims.

    Parameters
    ----------
    input_shape : int or sequence of int
        Spatial shape ``n`` of one channel, 1 to 3 dims.
    scale : number or sequence of numbers, optional
        Scale factor ``s > 0`` per dim, integer or not; an int or float
        applies to every dim. The output size is ``floor(n*s)``.
    align_corners : bool, default False
        PyTorch's flag: ``True`` maps the corner pixels onto each other.
    size : int or sequence of int, optional
        Output size per dim instead of ``scale`` (exactly one of the two).

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(prod(out), prod(n))``, float64, every row summing to 1.

    Raises
    ------
    ConvSpecTypeError
        A size or scale is not a number, or ``align_corners`` is not a bool.
    ConvSpecError
        A size is below 1, a scale is not positive, both or neither of
        ``scale`` and ``size`` are given, or a per-dim value has the wrong
        length.

    Notes
    -----
    The matrix follows torch's float64 arithmetic (float32 tensors get
    weights rounded to float32).

    Away from the border, ``align_corners=False`` with an integer scale is
    the transposed convolution with stride ``s`` and the tent kernel ``w[t] =
    1 - |t - c|/s`` (``k = 2s``, ``c = s - 1/2``, padding ``s/2`` for even
    ``s``; ``k = 2s - 1``, ``c = s - 1``, padding ``(s - 1)/2`` for odd
    ``s``). In the first and last ``⌊s/2⌋`` rows of each dim the transposed
    convolution's tent reaches into the zero padding, while interpolate
    clamps to the edge pixel, so those rows differ.

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
    if not isinstance(align_corners, (bool, np.bool_)):
        raise ConvSpecTypeError(
            f"align_corners={describe(align_corners)} must be a bool", field="align_corners"
        )
    targets = _resize_targets(shape, scale, size)
    sizes = [out for out, _ in targets]
    rows = math.prod(sizes)
    _guard(
        "B (bilinear_upsample_matrix)",
        rows,
        math.prod(shape),
        rows * 2 ** len(shape),
        scratch=sum(sizes) * 160,
    )
    factors = [
        _linear_weights(n, out, bool(align_corners), factor)
        for n, (out, factor) in zip(shape, targets)
    ]
    return _kron(factors)


def avg_pool_matrix(
    input_shape: int | Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> scipy.sparse.csr_array:
    """A with ``(A x)[j] = Σ_{i in window j} x[i] / divisor(j)``: ``avg_pool`` on one channel.

    Takes ``torch.nn.AvgPool{1,2,3}d``'s arguments (``stride`` defaults to
    ``kernel_size``).

    Parameters
    ----------
    input_shape : int or sequence of int
        Spatial shape ``n`` of one channel, 1 to 3 dims.
    kernel_size, stride, padding : int or sequence of int
        Window, step and implicit zero padding per dim; ``padding`` at most
        ``kernel_size // 2`` (torch's rule).
    ceil_mode : bool
        Round the output size up: a last window may start in the input or
        in the padding before it but run past the end.
    count_include_pad : bool
        Divide by the window size counting padding (``True``) or by the
        number of input entries in the window.
    divisor_override : int, optional
        Divide every window by this instead.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(prod(out), prod(n))``, float64.

    Raises
    ------
    ConvSpecTypeError
        A size is not an integer, or a flag is not a bool.
    ConvSpecError
        A size or stride below 1, padding above half the kernel, or no
        window fits.

    Notes
    -----
    Per dim, ``out = floor((n + 2p - k + c) / s) + 1`` with ``c = s - 1`` in
    ``ceil_mode`` (else 0), minus 1 when ``ceil_mode`` makes the last window
    start at or past ``n + p`` (torch drops it). Window ``j`` covers
    ``[j*s - p, min(j*s - p + k, n + p))``; its count with padding is that
    length, without padding the part inside ``[0, n)``. Both divisors are
    products over dims, so without ``divisor_override`` A is the Kronecker
    product of per-dim matrices. A window past ``n + p`` (``ceil_mode``) is
    shorter than ``k``, so even ``count_include_pad=True`` does not divide
    it by ``prod(k)``: such a pool is no convolution.

    Examples
    --------
    >>> avg_pool_matrix(5, 2).toarray()
    array([[0.5, 0.5, 0. , 0. , 0. ],
           [0. , 0. , 0.5, 0.5, 0. ]])
    >>> avg_pool_matrix(5, 2, ceil_mode=True).toarray()[-1]
    array([0., 0., 0., 0., 1.])
    """
    shape = as_shape("input_shape", input_shape)
    ndim = len(shape)
    kernel = per_dim("kernel_size", kernel_size, ndim, 1)
    strides = kernel if stride is None else per_dim("stride", stride, ndim, 1)
    pads = per_dim("padding", padding, ndim, 0)
    for name, flag in (("ceil_mode", ceil_mode), ("count_include_pad", count_include_pad)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ConvSpecTypeError(f"{name}={flag!r} must be a bool")
    divisor = None if divisor_override is None else as_int("divisor_override", divisor_override, 1)
    factors = []
    for axis, (n, k, s, p) in enumerate(zip(shape, kernel, strides, pads)):
        if 2 * p > k:
            raise ConvSpecError(
                f"padding[{axis}]={p} must be at most half of kernel_size={k} (torch's rule "
                "for average pooling)"
            )
        span = n + 2 * p - k
        if span < 0:
            raise ConvSpecError(
                f"kernel_size={k} exceeds padded input size {n + 2 * p} along dim {axis}"
            )
        out = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        starts = np.arange(out) * s - p
        ends = np.minimum(starts + k, n + p)
        first, last = np.maximum(starts, 0), np.minimum(ends, n)
        if divisor is not None:
            counts = np.ones(out)
        elif count_include_pad:
            counts = (ends - starts).astype(np.float64)
        else:
            counts = (last - first).astype(np.float64)
        lengths = last - first
        rows = np.repeat(np.arange(out), lengths)
        cols = np.concatenate([np.arange(a, b) for a, b in zip(first, last)])
        data = np.repeat(1.0 / counts, lengths)
        factors.append(scipy.sparse.csr_array((data, (rows, cols)), shape=(out, n)))
    matrix = _kron(factors)
    if divisor is not None:
        matrix = scipy.sparse.csr_array(matrix / divisor)
    return matrix


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
