"""im2col as a matrix: U with ``unfold(x) = U x``, and ``C = (W ⊗ I) U``.

Frameworks compute a convolution as one matrix product: they copy every
kernel window of the input into a column (``torch.nn.functional.unfold``,
"im2col"), then multiply by the weight reshaped to ``out × (in/groups)·k``.
The copying does not depend on the weight or on ``x``'s values: it is a
fixed sparse 0/1 matrix U, one 1 per row that reads the input (none for a
row that reads zero padding). :func:`unfold_matrix` builds it; ``F.fold`` is
its transpose.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse

from ..geometry.spec import ConvSpec, as_spec
from ..memory import check_memory
from .conv import index_dtype
from .resampling import padding_source

__all__ = ["unfold_matrix"]


def unfold_matrix(spec: ConvSpec, *, max_bytes: int | None = None) -> scipy.sparse.csr_array:
    """U with ``U[(c, *t, *j), (c, *i)] = 1`` where ``i = j·stride - padding_before + t·dilation``.

    The im2col matrix of the spec's geometry: ``(U @ x.reshape(-1))`` is
    ``torch.nn.functional.unfold(x, kernel_size, dilation, padding,
    stride)`` for one sample ``x`` of shape ``(in_channels, *input_shape)``,
    flattened: rows ordered ``(c, *t)`` (channel, then kernel tap, C order:
    unfold's ``C · prod(kernel_size)`` rows) and within each the output
    positions ``j`` (unfold's ``L`` columns). ``F.fold`` with the same
    arguments is ``Uᵀ``.

    Parameters
    ----------
    spec : ConvSpec
        Sizes, kernel, stride, padding (``(before, after)`` per dim, so
        asymmetric padding too), dilation, ``in_channels`` and
        ``padding_mode``. ``out_channels`` and ``groups`` do not enter U.
    max_bytes : int, optional
        The memory guard's limit (see
        :func:`transpose_matrix.memory.memory_limit`).

    Returns
    -------
    scipy.sparse.csr_array
        float64, shape ``(in_channels · prod(kernel_size) · prod(output_shape),
        in_channels · prod(input_shape))``; every row holds at most one 1.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`.
    MemoryGuardError
        U would exceed the memory limit.

    Notes
    -----
    Torch's ``unfold`` is 2-D only; for 1-D and 3-D specs U has the same
    layout, written from the definition above. With zero padding a row whose
    position ``i`` falls in the padding is empty; with another
    ``padding_mode`` it reads the input entry the mode copies there
    (:func:`~transpose_matrix.matrices.resampling.padding_source`), as
    ``unfold(F.pad(x, mode=...))`` would.

    The convolution is one product: with ``W_g`` the weight of group ``g``
    reshaped to ``(out/groups) × (in/groups)·prod(k)`` and ``U_g`` the rows
    of U of that group's input channels,

    .. math:: C_g = (W_g \\otimes I_L)\\, U_g, \\qquad L = \\prod \\text{output\\_shape},

    the rows of the groups' ``C_g`` stacked give C: the reshaped
    ``conv(x) = W_mat · unfold(x)`` that frameworks compute, written as
    matrices. ``derivations/im2col.py`` derives and checks it.

    Examples
    --------
    >>> unfold_matrix(ConvSpec((3,), 2)).toarray()
    array([[1., 0., 0.],
           [0., 1., 0.],
           [0., 1., 0.],
           [0., 0., 1.]])
    """
    spec = as_spec(spec)
    ndim = spec.ndim
    kernel, out, size = spec.kernel_size, spec.output_shape, spec.input_shape
    taps, positions, pixels = math.prod(kernel), math.prod(out), math.prod(size)
    channels = spec.in_channels
    rows_total, cols_total = channels * taps * positions, channels * pixels
    dtype = index_dtype(rows_total, cols_total)
    check_memory(
        channels * taps * positions * (8 + dtype.itemsize) + (rows_total + 1) * dtype.itemsize,
        what=f"U (unfold_matrix, {rows_total} x {cols_total})",
        max_bytes=max_bytes,
    )
    # Per dim, the input index each (tap, output position) reads, -1 outside:
    # the arrays broadcast to (*kernel, *out) with dim a on axes a and ndim + a.
    source = np.zeros((1,) * (2 * ndim), dtype=np.int64)
    inside = np.ones((1,) * (2 * ndim), dtype=bool)
    step = pixels
    for a, (n, k, s, d, (before, _)) in enumerate(
        zip(size, kernel, spec.stride, spec.dilation, spec.padding)
    ):
        step //= n
        coord = np.arange(k)[:, None] * d + np.arange(out[a])[None, :] * s - before
        index = padding_source(coord, n, spec.padding_mode)
        shape = [1] * (2 * ndim)
        shape[a], shape[ndim + a] = k, out[a]
        source = source + index.reshape(shape) * step
        inside = inside & (index >= 0).reshape(shape)
    source = np.broadcast_to(source, (*kernel, *out)).reshape(-1)
    inside = np.broadcast_to(inside, (*kernel, *out)).reshape(-1)
    rows_one = np.flatnonzero(inside)
    cols_one = source[rows_one]
    block = taps * positions
    rows = (np.arange(channels)[:, None] * block + rows_one[None, :]).reshape(-1)
    cols = (np.arange(channels)[:, None] * pixels + cols_one[None, :]).reshape(-1)
    # One entry per row at most, rows in increasing order: CSR directly.
    indptr = np.zeros(rows_total + 1, dtype=dtype)
    np.cumsum(np.bincount(rows, minlength=rows_total), out=indptr[1:])
    return scipy.sparse.csr_array(
        (np.ones(len(rows)), cols.astype(dtype), indptr), shape=(rows_total, cols_total)
    )
