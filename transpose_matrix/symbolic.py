"""C with kernel symbols as entries, for derivations and LaTeX.

The sparsity pattern comes from the numeric builder (each stored entry is
labelled with the flat index of its weight), so the symbolic and numeric
matrices cannot disagree on where the entries are; the tests compare both
with the loop reference.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy

from .matrix import conv_matrix
from .spec import ConvSpec

__all__ = ["weight_symbols", "symbolic_conv_matrix", "symbolic_vector"]


def _name(letter: str, index: tuple[int, ...]) -> str:
    return f"{letter}_{{{','.join(str(i) for i in index)}}}"


def weight_symbols(spec: ConvSpec) -> np.ndarray:
    """Array of ``spec.weight_shape`` holding the kernel symbols.

    With one input and one output channel the names carry the spatial index
    only (``w_{i,j}`` in 2-D); otherwise the full index ``w_{o,c,i,j}``
    (``c`` counts input channels within the group).

    Examples
    --------
    >>> weight_symbols(ConvSpec((4, 4), 2))[0, 0]
    array([[w_{0,0}, w_{0,1}],
           [w_{1,0}, w_{1,1}]], dtype=object)
    """
    shape = spec.weight_shape
    single = spec.in_channels == 1 and spec.out_channels == 1
    symbols = np.empty(shape, dtype=object)
    for index in itertools.product(*(range(n) for n in shape)):
        label = index[2:] if single else index
        symbols[index] = sympy.Symbol(_name("w", label), real=True)
    return symbols


def symbolic_vector(letter: str, channels: int, shape: tuple[int, ...]) -> sympy.Matrix:
    """Column vector of symbols ``letter_{c,i,j}`` (channel dropped when 1), C order."""
    entries = []
    for index in itertools.product(range(channels), *(range(n) for n in shape)):
        label = index[1:] if channels == 1 else index
        entries.append(sympy.Symbol(_name(letter, label), real=True))
    return sympy.Matrix(entries)


def symbolic_conv_matrix(spec: ConvSpec) -> sympy.ImmutableSparseMatrix:
    """C with entry ``w_{…}`` wherever ``conv_matrix(spec, weight)`` stores ``weight[…]``.

    Substituting the entries of a weight array for the symbols gives exactly
    ``conv_matrix(spec, weight)``.

    Examples
    --------
    >>> symbolic_conv_matrix(ConvSpec((3,), 2))
    Matrix([
    [w_{0}, w_{1},     0],
    [    0, w_{0}, w_{1}]])
    """
    symbols = weight_symbols(spec).reshape(-1)
    labels = np.arange(1, math.prod(spec.weight_shape) + 1, dtype=np.int64)
    pattern = conv_matrix(spec, labels.reshape(spec.weight_shape)).tocoo()
    entries = {
        (int(r), int(c)): symbols[int(v) - 1]
        for r, c, v in zip(pattern.row, pattern.col, pattern.data)
    }
    return sympy.ImmutableSparseMatrix(*spec.matrix_shape, entries)
