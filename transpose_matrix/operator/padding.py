"""Padding modes other than zeros for :func:`~transpose_matrix.conv_operator`.

With a ``padding_mode`` other than ``'zeros'`` the convolution is ``C = D·P``
(see :class:`~transpose_matrix.ConvSpec`): ``P`` pads every channel by the
mode and ``D`` is the convolution of the padded input without padding. The
operator applies ``P`` by index, never as a matrix: the input is copied into
the middle of the padded array and each border position copies the input
entry :func:`~transpose_matrix.geometry.padding.padding_source` names, a hyperplane
at a time. ``Pᵀ`` (the adjoint side, ``Cᴴ = Pᵀ·Dᴴ``) adds each border
hyperplane back onto the entry it copied, then keeps the middle. Both
backends use these: ``D`` is their own zero-padding-free convolution.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..geometry.padding import fold_array, pad_array, padding_borders
from ..geometry.spec import ConvSpec

__all__ = ["ModePadded", "borders", "fold", "pad"]


def borders(spec: ConvSpec) -> list[list[tuple[int, int]]]:
    """Per dim, ``(padded position, padded position it copies)`` for every border entry."""
    return padding_borders(spec.input_shape, spec.padding, spec.padding_mode)


def pad(x: np.ndarray, spec: ConvSpec, pairs: list[list[tuple[int, int]]]) -> np.ndarray:
    """``P x``: ``x`` (``(channels, *input_shape, batch)``) padded by ``spec.padding_mode``."""
    return pad_array(x, spec.input_shape, spec.padding, pairs, first=1)


def fold(z: np.ndarray, spec: ConvSpec, pairs: list[list[tuple[int, int]]]) -> np.ndarray:
    """``Pᵀ z``: every border hyperplane of ``z`` (padded shape) added onto the one it copied.

    ``z`` is the kernel's fresh result and is added into in place.
    """
    return fold_array(z, spec.input_shape, spec.padding, pairs, first=1)


class ModePadded:
    """``matmat``/``rmatmat`` of ``C = D·P``, ``kernel`` doing ``D``'s (a backend's kernel)."""

    def __init__(self, spec: ConvSpec, kernel: Any) -> None:
        self.spec, self.kernel, self.pairs = spec, kernel, borders(spec)

    def matmat(self, x: np.ndarray) -> np.ndarray:
        return self.kernel.matmat(pad(x, self.spec, self.pairs))

    def rmatmat(self, y: np.ndarray) -> np.ndarray:
        return fold(self.kernel.rmatmat(y), self.spec, self.pairs)
