"""The numpy backend of :func:`~transpose_matrix.conv_operator`: im2col and its two adjoints.

Arrays here are ``(channels, *spatial, batch)``: the batch (the columns of
``matmat``) is the last axis, so that one sample's ``(channel, *spatial)``
flattening stays C order and a window view covers every sample at once.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..spec import ConvSpec

__all__ = [
    "CACHED_ENTRIES", "GATHER_ENTRIES", "NumpyKernel", "PhaseAxis", "Plan", "correlate", "pad",
    "windows",
]

#: Most entries of a gathered block in memory at once (32 MiB in float64):
#: larger layers are gathered a band of output rows at a time.
GATHER_ENTRIES = 1 << 22
#: The band for products with fewer than 16 rows per group (2 MiB in float64).
CACHED_ENTRIES = 1 << 18


class Plan(NamedTuple):
    """One correlation, computed by :func:`correlate`.

    ``out[g*m + o, *j] = sum over c, t of matrix[g, o, (c, *t)] *
    src[g*cg + c, *(start + t*step + j*stride)]`` for ``j < count``, with
    ``matrix`` of shape ``(groups, m, cg * prod(taps))``.
    """

    start: tuple[int, ...]
    taps: tuple[int, ...]
    step: tuple[int, ...]
    stride: tuple[int, ...]
    count: tuple[int, ...]
    matrix: np.ndarray


def pad(a: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """``a`` with ``(before, after)`` zeros on each spatial dim; negative amounts crop."""
    if all(pair == (0, 0) for pair in pairs):
        return a
    sizes = [n + b + e for n, (b, e) in zip(a.shape[1:-1], pairs)]
    out = np.zeros((a.shape[0], *sizes, a.shape[-1]), dtype=a.dtype)
    # Entries of `a` that survive the crops, and where they land.
    source = [max(-b, 0) for b, _ in pairs]
    target = [max(b, 0) for b, _ in pairs]
    kept = [min(n - i, size - o) for n, size, i, o in zip(a.shape[1:-1], sizes, source, target)]
    if min(kept) > 0:
        out[(slice(None), *map(slice, target, np.add(target, kept)))] = a[
            (slice(None), *map(slice, source, np.add(source, kept)))]
    return out


def windows(src: np.ndarray, plan: Plan) -> np.ndarray:
    """Read-only view ``[c, *t, *j, b] = src[c, *(start + t*step + j*stride), b]`` (no copy)."""
    corner = src[(slice(None), *(slice(s, None) for s in plan.start))]
    strides, d = corner.strides, len(plan.taps)
    return as_strided(
        corner,
        (src.shape[0], *plan.taps, *plan.count, src.shape[-1]),
        (strides[0], *(strides[1 + a] * plan.step[a] for a in range(d)),
         *(strides[1 + a] * plan.stride[a] for a in range(d)), strides[-1]),
        writeable=False,
    )


def correlate(src: np.ndarray, plan: Plan) -> np.ndarray:
    """``plan`` applied to the padded ``src`` by im2col: shape ``(groups*m, *count, batch)``.

    Gathering copies the window view into ``(groups, cg * taps, columns)``;
    one product per group then gives every output. Large layers are done a
    band of output rows at a time (at most :data:`GATHER_ENTRIES` gathered,
    or :data:`CACHED_ENTRIES` when each group has fewer than 16 outputs).
    """
    groups, m, inner = plan.matrix.shape
    view, batch = windows(src, plan), src.shape[-1]
    out = np.empty((groups, m, *plan.count, batch), dtype=src.dtype)
    # With few rows per group (depthwise, ResNeXt) the products are bound by
    # reading the gathered block; bands that stay in cache run 1.2-1.5x faster.
    budget = GATHER_ENTRIES if m >= 16 else min(GATHER_ENTRIES, CACHED_ENTRIES)
    band = max(1, budget // (groups * inner * math.prod(plan.count[1:]) * batch))
    for lo in range(0, plan.count[0], band):
        hi = min(plan.count[0], lo + band)
        rows = (slice(None),) * (1 + len(plan.taps)) + (slice(lo, hi),)
        columns = np.ascontiguousarray(view[rows]).reshape(groups, inner, -1)
        if hi - lo == plan.count[0]:
            np.matmul(plan.matrix, columns, out=out.reshape(groups, m, -1))
        else:
            out[:, :, lo:hi] = np.matmul(plan.matrix, columns).reshape(
                groups, m, hi - lo, *out.shape[3:])
    return out.reshape(groups * m, *plan.count, batch)


class PhaseAxis(NamedTuple):
    """One dim of one adjoint phase: its inputs and the stride-1 correlation giving them."""

    inputs: slice  # of the input dim
    count: int  # inputs in the phase
    taps: list[int]  # kernel taps reaching them, in reverse
    step: int  # between those taps' positions in the padded y
    start: int  # the first input's first position there


def _phase_axis(
    before: int, kept: int, k: int, d: int, s: int, r: int, lead: int
) -> PhaseAxis | None:
    """One dim of the adjoint's phase ``r``: inputs ``i`` with ``(i + before) % s == r``.

    Input ``i = first + u*s`` (``u < count``) is padded position ``(q + u)*s
    + r`` with ``q = (first + before) // s``; the taps reaching it are those
    with ``t*d % s == r``, from output ``q + u - t*d // s``, i.e. position
    ``q + u - t*d // s + lead`` of ``y`` padded by ``lead``. Taken in
    reverse these positions rise by a constant ``step``: a stride-1
    correlation. None when the phase holds no input or no tap reaches it.
    """
    first = (r - before) % s
    count = len(range(first, kept, s))
    taps = [t for t in range(k) if t * d % s == r]
    if not taps or not count:
        return None
    shifts = [t * d // s for t in taps]
    return PhaseAxis(
        inputs=slice(first, first + (count - 1) * s + 1, s),
        count=count,
        taps=taps[::-1],
        step=shifts[1] - shifts[0] if len(taps) > 1 else 1,
        start=(first + before) // s + lead - shifts[-1],
    )


class NumpyKernel:
    """``matmat``/``rmatmat`` of one operator on ``(channels, *spatial, batch)`` arrays."""

    def __init__(self, spec: ConvSpec, weight: np.ndarray, method: str) -> None:
        self.spec, self.method = spec, method
        groups, out = spec.groups, spec.output_shape
        cg, mg, ndim = spec.in_channels // groups, spec.out_channels // groups, spec.ndim
        grouped = weight.reshape(groups, mg, cg, *spec.kernel_size)
        matrix = grouped.reshape(groups, mg, -1)
        self.forward = Plan(start=(0,) * ndim, taps=spec.kernel_size, step=spec.dilation,
                            stride=spec.stride, count=out, matrix=matrix)
        # col2im multiplies by the adjoint, (groups, cg * taps, mg).
        self.spread = np.ascontiguousarray(np.conj(matrix).swapaxes(1, 2))
        self.lengths = [n + b + e for n, (b, e) in zip(spec.input_shape, spec.padding)]
        # The polyphase adjoint pads y by the largest tap shift before, and
        # after by as much as the last phase reads beyond y.
        self.lead = [(k - 1) * d // s for k, d, s in
                     zip(spec.kernel_size, spec.dilation, spec.stride)]
        self.trail = [0] * ndim
        self.phases: list[tuple[Plan, tuple[slice, ...]]] = []
        # Only residues some tap reaches can hold a nonzero phase: at most
        # prod(kernel_size) phases, however large the stride.
        reached = [sorted({t * d % s for t in range(k)}) for k, d, s in
                   zip(spec.kernel_size, spec.dilation, spec.stride)]
        for phase in itertools.product(*reached):
            axes = []
            for a, r in enumerate(phase):
                n, (before, _) = spec.input_shape[a], spec.padding[a]
                axis = _phase_axis(before, min(n, self.lengths[a] - before),
                                   spec.kernel_size[a], spec.dilation[a], spec.stride[a], r,
                                   self.lead[a])
                if axis is None:
                    break  # these inputs receive nothing: zero
                axes.append(axis)
                last = axis.start + (len(axis.taps) - 1) * axis.step + axis.count - 1
                self.trail[a] = max(self.trail[a], last + 1 - self.lead[a] - out[a])
            else:
                sub = grouped[(slice(None),) * 3 + np.ix_(*(axis.taps for axis in axes))]
                matrix = np.conj(sub).swapaxes(1, 2).reshape(groups, cg, -1)
                plan = Plan(start=tuple(axis.start for axis in axes),
                            taps=tuple(len(axis.taps) for axis in axes),
                            step=tuple(axis.step for axis in axes), stride=(1,) * ndim,
                            count=tuple(axis.count for axis in axes),
                            matrix=np.ascontiguousarray(matrix))
                self.phases.append((plan, tuple(axis.inputs for axis in axes)))
        # Stride 1 and nothing cropped: the one phase is the whole input.
        self.whole = len(self.phases) == 1 and self.phases[0][0].count == spec.input_shape
        self.cast: dict[np.dtype, tuple[Plan, np.ndarray, list[Plan]]] = {}

    def _in(self, dtype: np.dtype) -> tuple[Plan, np.ndarray, list[Plan]]:
        """The forward plan, col2im matrix and phase plans in ``dtype`` (cast once)."""
        if dtype not in self.cast:
            def cast(plan: Plan) -> Plan:
                return plan._replace(matrix=plan.matrix.astype(dtype, copy=False))

            self.cast[dtype] = (cast(self.forward), self.spread.astype(dtype, copy=False),
                                [cast(plan) for plan, _ in self.phases])
        return self.cast[dtype]

    def matmat(self, x: np.ndarray) -> np.ndarray:
        return correlate(pad(x, list(self.spec.padding)), self._in(x.dtype)[0])

    def rmatmat(self, y: np.ndarray) -> np.ndarray:
        _, spread, plans = self._in(y.dtype)
        if self.method == "im2col":
            return self._col2im(y, spread)
        padded = pad(y, list(zip(self.lead, self.trail)))
        if self.whole:
            return correlate(padded, plans[0])
        spec = self.spec
        x = np.zeros((spec.in_channels, *spec.input_shape, y.shape[-1]), dtype=y.dtype)
        for plan, (_, inputs) in zip(plans, self.phases):
            x[(slice(None), *inputs)] = correlate(padded, plan)
        return x

    def _col2im(self, y: np.ndarray, spread: np.ndarray) -> np.ndarray:
        """Cᴴy as the transpose of im2col: every tap's products added back at its window."""
        spec, batch, out = self.spec, y.shape[-1], self.spec.output_shape
        groups, inner, mg = spread.shape
        padded = np.zeros((spec.in_channels, *self.lengths, batch), dtype=y.dtype)
        band = max(1, GATHER_ENTRIES // (groups * inner * math.prod(out[1:]) * batch))
        for lo in range(0, out[0], band):
            rows = min(band, out[0] - lo)
            products = np.matmul(spread, y[:, lo:lo + rows].reshape(groups, mg, -1)).reshape(
                spec.in_channels, *spec.kernel_size, rows, *out[1:], batch)
            for tap in np.ndindex(*spec.kernel_size):
                starts = [t * d for t, d in zip(tap, spec.dilation)]
                starts[0] += lo * spec.stride[0]
                window = tuple(slice(b, b + (c - 1) * s + 1, s) for b, c, s in
                               zip(starts, (rows, *out[1:]), spec.stride))
                padded[(slice(None), *window)] += products[(slice(None), *tap)]
        return pad(padded, [(-b, -e) for b, e in spec.padding])
