"""A reference builder of C written from the definition with plain loops.

It shares no code with :mod:`transpose_matrix.matrices.conv`: it walks every output
position, every kernel placement and every tap, exactly as the definition of
cross-correlation reads, and writes entries into a dict. It is slow on
purpose and exists so the tests (and :func:`~transpose_matrix.verify`, when
PyTorch is absent) have an independent referee. Being slow, it refuses up
front (:class:`~transpose_matrix.errors.MemoryGuardError`) a geometry whose
loops would take more than :data:`REFERENCE_MAX_STEPS` steps.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import scipy.sparse

from ..errors import MemoryGuardError
from ..geometry.padding import padding_source
from ..geometry.shapes import describe
from ..geometry.spec import ConvSpec, as_spec
from ..memory import check_memory
from .conv import refuse_masked

__all__ = ["REFERENCE_MAX_STEPS", "reference_conv_matrix", "reference_conv"]

#: Most (output entry, input channel, tap) steps the loops may take: a few
#: microseconds and a dict entry of about 250 bytes each, so some seconds.
REFERENCE_MAX_STEPS = 2_000_000


def _positions_along(n: int, k: int, s: int, before: int, after: int, d: int) -> int:
    # Count kernel placements by sliding over the padded line one stride at a time.
    padded = n + before + after
    count = 0
    start = 0
    while start + d * (k - 1) <= padded - 1:
        count += 1
        start += s
    return count


def _output_shape(spec: ConvSpec) -> list[int]:
    return [
        _positions_along(
            spec.input_shape[a],
            spec.kernel_size[a],
            spec.stride[a],
            spec.padding[a][0],
            spec.padding[a][1],
            spec.dilation[a],
        )
        for a in range(len(spec.input_shape))
    ]


def _guard(spec: ConvSpec) -> None:
    # The step count comes from the spec's size formula, not from these
    # loops, so a huge geometry is refused before a single loop runs.
    steps = (
        spec.out_channels
        * math.prod(spec.output_shape)
        * (spec.in_channels // spec.groups)
        * math.prod(spec.kernel_size)
    )
    if steps > REFERENCE_MAX_STEPS:
        amount = f"{steps:,}" if steps < 10**30 else describe(steps)
        raise MemoryGuardError(
            f"the loop reference would take {amount} steps, above its limit of "
            f"{REFERENCE_MAX_STEPS:,}; compare a smaller geometry, or use "
            "transpose_matrix.conv_matrix (checked against torch)"
        )
    check_memory(
        steps * 250,
        what="the loop reference's dict of entries",
        hint="compare a smaller geometry",
    )


def _read_through_padding(i: int, n: int, mode: str) -> int | None:
    # Which input entry the padded line holds at coordinate i (counted from
    # the first input entry); None for a zero. What a mode copies is the
    # padding module's index map, checked there against numpy.pad and torch.
    source = int(padding_source(i, n, mode))
    return None if source < 0 else source


def reference_conv_matrix(spec: ConvSpec, weight: Any) -> scipy.sparse.csr_array:
    """C built entry by entry from the definition (slow; for tests).

    ``C[(o, *j), (c, *i)] = weight[o, c_local, *t]`` with
    ``i = j*stride - padding_before + t*dilation`` inside the input. With a
    ``padding_mode`` other than ``'zeros'`` a coordinate in the padding reads
    the input entry the mode copies there, and the weights of taps that read
    the same entry add up.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry.
    weight : array_like
        Shape ``spec.weight_shape``, PyTorch's layout. Only a masked array is
        refused; shape, dtype and finiteness are not checked: this is the
        referee, fed by tests that pass well-formed weights.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``spec.matrix_shape``, with the weight's dtype.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`, or ``weight`` is a masked array
        with masked entries (the mask would be ignored).
    MemoryGuardError
        The loops would take more than :data:`REFERENCE_MAX_STEPS` steps, or
        their dict would not fit in memory.

    Examples
    --------
    >>> import numpy as np
    >>> spec = ConvSpec((4,), 2, padding=1, padding_mode="replicate")
    >>> reference_conv_matrix(spec, np.array([[[1.0, 2.0]]])).toarray()
    array([[3., 0., 0., 0.],
           [1., 2., 0., 0.],
           [0., 1., 2., 0.],
           [0., 0., 1., 2.],
           [0., 0., 0., 3.]])
    """
    _guard(as_spec(spec))
    weight = np.asarray(refuse_masked(weight))
    ndim = len(spec.input_shape)
    out_shape = _output_shape(spec)
    cin_group = spec.in_channels // spec.groups
    cout_group = spec.out_channels // spec.groups

    def flat(index: tuple[int, ...], shape: list[int]) -> int:
        value = 0
        for i, n in zip(index, shape):
            value = value * n + i
        return value

    entries: dict[tuple[int, int], Any] = {}
    for o in range(spec.out_channels):
        group = o // cout_group
        for j in itertools.product(*(range(n) for n in out_shape)):
            row = flat((o, *j), [spec.out_channels, *out_shape])
            for c_local in range(cin_group):
                c = group * cin_group + c_local
                for t in itertools.product(*(range(k) for k in spec.kernel_size)):
                    i = [
                        j[a] * spec.stride[a] - spec.padding[a][0] + t[a] * spec.dilation[a]
                        for a in range(ndim)
                    ]
                    source = [
                        _read_through_padding(i[a], spec.input_shape[a], spec.padding_mode)
                        for a in range(ndim)
                    ]
                    read = [v for v in source if v is not None]
                    if len(read) == ndim:
                        col = flat((c, *read), [spec.in_channels, *spec.input_shape])
                        entries[(row, col)] = entries.get((row, col), 0) + weight[(o, c_local, *t)]
    rows = spec.out_channels * int(np.prod(out_shape))
    cols = spec.in_channels * int(np.prod(spec.input_shape))
    keys = list(entries)
    row_index = np.array([r for r, _ in keys], dtype=np.int64)
    col_index = np.array([c for _, c in keys], dtype=np.int64)
    values = np.array([entries[key] for key in keys], dtype=weight.dtype)
    coo = scipy.sparse.coo_array((values, (row_index, col_index)), shape=(rows, cols))
    matrix = coo.tocsr()
    matrix.sort_indices()
    return matrix


def reference_conv(spec: ConvSpec, weight: Any, x: Any) -> np.ndarray:
    """Convolution of one sample ``x`` of shape ``(in_channels, *input_shape)`` by loops.

    Returns the output of shape ``(out_channels, *output_shape)``.
    """
    matrix = reference_conv_matrix(spec, weight)
    x = np.asarray(x)
    out = matrix @ x.reshape(-1)
    return out.reshape(spec.out_channels, *_output_shape(spec))
