"""Reflect, replicate and circular padding for :func:`~transpose_matrix.conv_operator`.

With a ``padding_mode`` other than ``'zeros'`` the convolution is ``C = D·P``
(see :class:`~transpose_matrix.ConvSpec`): ``P`` pads every channel by the
mode and ``D`` is the convolution of the padded input without padding. The
operator applies ``P`` by index, never as a matrix: the input is copied into
the middle of the padded array and each border position copies the input
entry :func:`~transpose_matrix.matrices.resampling.padding_source` names, a hyperplane
at a time. ``Pᵀ`` (the adjoint side, ``Cᴴ = Pᵀ·Dᴴ``) adds each border
hyperplane back onto the entry it copied, then keeps the middle. Both
backends use these: ``D`` is their own zero-padding-free convolution.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..geometry.spec import ConvSpec
from ..matrices.resampling import padding_source

__all__ = ["ModePadded", "borders", "fold", "pad"]


def borders(spec: ConvSpec) -> list[list[tuple[int, int]]]:
    """Per dim, ``(padded position, padded position it copies)`` for every border entry."""
    pairs = []
    for n, (before, after) in zip(spec.input_shape, spec.padding):
        border = [*range(before), *range(before + n, before + n + after)]
        sources = padding_source(np.array(border, dtype=np.int64) - before, n, spec.padding_mode)
        pairs.append([(r, before + int(s)) for r, s in zip(border, sources)])
    return pairs


def _at(axis: int, index: int) -> tuple[Any, ...]:
    """Index of one hyperplane of ``(channels, *spatial, batch)`` along spatial ``axis``."""
    return (slice(None),) * (1 + axis) + (index,)


def pad(x: np.ndarray, spec: ConvSpec, pairs: list[list[tuple[int, int]]]) -> np.ndarray:
    """``P x``: ``x`` (``(channels, *input_shape, batch)``) padded by ``spec.padding_mode``.

    Dims are filled in order, whole hyperplanes at a time, so a corner
    copies a border entry that an earlier dim has already filled: ``P`` is
    the Kronecker product of the per-dim paddings.
    """
    lengths = [n + b + e for n, (b, e) in zip(spec.input_shape, spec.padding)]
    out = np.empty((x.shape[0], *lengths, x.shape[-1]), dtype=x.dtype)
    out[(slice(None), *(slice(b, b + n) for n, (b, _) in zip(spec.input_shape, spec.padding)))] = x
    for axis, border in enumerate(pairs):
        for position, source in border:
            out[_at(axis, position)] = out[_at(axis, source)]
    return out


def fold(z: np.ndarray, spec: ConvSpec, pairs: list[list[tuple[int, int]]]) -> np.ndarray:
    """``Pᵀ z``: every border hyperplane of ``z`` (padded shape) added onto the one it copied.

    The per-dim folds commute (``Pᵀ`` is a Kronecker product too); entries
    already folded along one dim are carried along, then dropped with the
    border at the end. ``z`` is the kernel's fresh result and is added into
    in place.
    """
    for axis, border in enumerate(pairs):
        for position, source in border:
            z[_at(axis, source)] += z[_at(axis, position)]
    return z[(slice(None), *(slice(b, b + n) for n, (b, _) in zip(spec.input_shape, spec.padding)))]


class ModePadded:
    """``matmat``/``rmatmat`` of ``C = D·P``, ``kernel`` doing ``D``'s (a backend's kernel)."""

    def __init__(self, spec: ConvSpec, kernel: Any) -> None:
        self.spec, self.kernel, self.pairs = spec, kernel, borders(spec)

    def matmat(self, x: np.ndarray) -> np.ndarray:
        return self.kernel.matmat(pad(x, self.spec, self.pairs))

    def rmatmat(self, y: np.ndarray) -> np.ndarray:
        return fold(self.kernel.rmatmat(y), self.spec, self.pairs)
