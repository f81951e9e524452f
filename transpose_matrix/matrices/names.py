"""The names of the weights and positions of C: one builder, the symbols' own.

Weight ``(o, c, *t)`` of a layer (``c`` counts input channels within the
group) is named ``w_{o,c,t…}``; with one input and one output channel the
channel indices are left out (``w_{i,j}`` in 2-D). Kernel tap ``t`` alone is
``w_{t…}``. :func:`~transpose_matrix.matrices.symbolic.weight_symbols` names
its sympy symbols with :func:`latex_name`, and every printer (text, LaTeX,
TikZ, HTML, animations, plots) formats the same indices, so a weight has one
name everywhere. The module needs nothing beyond Python.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["latex_name", "tap_index", "weight_index"]


def _unravel(flat: int, shape: Sequence[int]) -> tuple[int, ...]:
    """The C-order multi-index of entry ``flat`` of an array of ``shape``."""
    index = []
    for size in reversed(shape):
        flat, rest = divmod(int(flat), size)
        index.append(rest)
    return tuple(reversed(index))


def weight_index(weight_shape: Sequence[int], flat: int) -> tuple[int, ...]:
    """The index weight ``flat`` is named by: ``(o, c, *t)``, or ``t`` alone for one channel each.

    >>> weight_index((1, 1, 3, 3), 5), weight_index((2, 2, 2), 5)
    ((1, 2), (1, 0, 1))
    """
    if not 0 <= int(flat) < math.prod(weight_shape):
        raise IndexError(f"weight {flat} is outside a weight of shape {tuple(weight_shape)}")
    index = _unravel(flat, weight_shape)
    single = weight_shape[0] == 1 and weight_shape[1] == 1
    return index[2:] if single else index


def tap_index(kernel_size: Sequence[int], tap: int) -> tuple[int, ...]:
    """The spatial index of kernel tap ``tap`` (C order).

    >>> tap_index((3, 3), 5)
    (1, 2)
    """
    return _unravel(tap, kernel_size)


def latex_name(letter: str, index: Sequence[int]) -> str:
    """``w_{1,2}``: the LaTeX name of ``letter`` at ``index``, as the sympy symbols are named.

    >>> latex_name("w", (0, 1, 2))
    'w_{0,1,2}'
    """
    return f"{letter}_{{{','.join(str(int(i)) for i in index)}}}"
