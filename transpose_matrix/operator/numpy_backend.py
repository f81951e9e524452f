"""The numpy backend of :func:`~transpose_matrix.conv_operator`: im2col, summed, and the adjoints.

Arrays here are ``(channels, *spatial, batch)``: the batch (the columns of
``matmat``) is the last axis, so that one sample's ``(channel, *spatial)``
flattening stays C order and a window view covers every sample at once.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..geometry.spec import ConvSpec

__all__ = [
    "CACHED_ENTRIES", "GATHER_ENTRIES", "PARALLEL_ENTRIES", "PRODUCT_COST",
    "NumpyKernel", "PhaseAxis", "Plan", "adjoint_phases", "correlate", "correlate_summed",
    "gather", "pad", "summed_pays", "usable_cores", "windows",
]

#: Most entries of a gathered block in memory at once (32 MiB in float64):
#: larger layers are gathered a band of output rows at a time.
GATHER_ENTRIES = 1 << 22
#: The band for products with fewer than 16 rows per group (2 MiB in float64).
CACHED_ENTRIES = 1 << 18
#: Fewest entries of a gathered band worth splitting between threads: copying
#: 2^19 entries takes a few hundred microseconds, far more than handing half to
#: a thread; the cached bands (:data:`CACHED_ENTRIES`) stay whole, one per core's cache.
PARALLEL_ENTRIES = 1 << 19


class Plan(NamedTuple):
    """One correlation, computed by :func:`correlate` or :func:`correlate_summed`.

    ``out[g*m + o, *j] = sum over c, t of weight[g, o, c, *t] *
    src[g*cg + c, *(start + t*step + j*stride)]`` for ``j < count``, with
    ``weight`` of shape ``(groups, m, cg, *taps)``.
    """

    start: tuple[int, ...]
    taps: tuple[int, ...]
    step: tuple[int, ...]
    stride: tuple[int, ...]
    count: tuple[int, ...]  # type: ignore[assignment]
    weight: np.ndarray

    def matrix(self, summed: bool) -> np.ndarray:
        """The weight as the product's left factor: ``(groups, m, cg * taps)`` for
        :func:`correlate`; ``(groups, taps[0] * m, cg * prod(taps[1:]))`` (rows
        ``(t0, o)``) for :func:`correlate_summed`."""
        groups, m = self.weight.shape[:2]
        if summed:
            moved = np.moveaxis(self.weight, 3, 1)
            return np.ascontiguousarray(moved.reshape(groups, self.taps[0] * m, -1))
        return np.ascontiguousarray(self.weight.reshape(groups, m, -1))


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


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor:
    """One thread pool for every operator's gathers, made on first use."""
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(usable_cores(), thread_name_prefix="transpose_matrix"))
    return _POOL[0]


def gather(view: np.ndarray, lo: int, hi: int, threads: int = 1) -> np.ndarray:
    """Output rows ``lo:hi`` of a :func:`windows` view copied: ``(channels, *taps,
    hi - lo, *count[1:], batch)``, contiguous.

    With ``threads > 1`` and at least :data:`PARALLEL_ENTRIES` entries, the
    copy is split along the channels (or, with fewer channels than
    threads, the rows) between the threads of a shared pool: numpy's
    copies release the GIL, so they run on as many cores.
    """
    d = (view.ndim - 2) // 2
    band = view[(slice(None),) * (1 + d) + (slice(lo, hi),)]
    if threads <= 1 or band.size < PARALLEL_ENTRIES:
        return np.ascontiguousarray(band)
    out = np.empty(band.shape, dtype=band.dtype)
    axis = 0 if band.shape[0] >= threads else 1 + d
    edges = np.linspace(0, band.shape[axis], min(threads, band.shape[axis]) + 1).astype(int)
    parts = [(slice(None),) * axis + (slice(a, b),) for a, b in zip(edges[:-1], edges[1:])]
    list(_pool().map(lambda part: np.copyto(out[part], band[part]), parts))
    return out


def correlate(src: np.ndarray, plan: Plan, matrix: np.ndarray, threads: int = 1) -> np.ndarray:
    """``plan`` applied to the padded ``src`` by im2col: shape ``(groups*m, *count, batch)``.

    Gathering copies the window view into ``(groups, cg * taps, columns)``;
    one product per group by ``matrix`` (:meth:`Plan.matrix`) then gives
    every output. Large layers are done a band of output rows at a time (at
    most :data:`GATHER_ENTRIES` gathered, or :data:`CACHED_ENTRIES` when each
    group has fewer than 16 outputs), each gathered on ``threads`` threads
    (:func:`gather`).
    """
    groups, m, inner = matrix.shape
    view, batch = windows(src, plan), src.shape[-1]
    out = np.empty((groups, m, *plan.count, batch), dtype=src.dtype)
    # With few rows per group (depthwise, ResNeXt) the products are bound by
    # reading the gathered block; bands that stay in cache run 1.2-1.5x faster.
    budget = GATHER_ENTRIES if m >= 16 else min(GATHER_ENTRIES, CACHED_ENTRIES)
    band = max(1, budget // (groups * inner * math.prod(plan.count[1:]) * batch))
    for lo in range(0, plan.count[0], band):
        hi = min(plan.count[0], lo + band)
        columns = gather(view, lo, hi, threads).reshape(groups, inner, -1)
        if hi - lo == plan.count[0]:
            np.matmul(matrix, columns, out=out.reshape(groups, m, -1))
        else:
            out[:, :, lo:hi] = np.matmul(matrix, columns).reshape(
                groups, m, hi - lo, *out.shape[3:])
    return out.reshape(groups * m, *plan.count, batch)


def correlate_summed(src: np.ndarray, plan: Plan, matrix: np.ndarray,
                     threads: int = 1) -> np.ndarray:
    """``plan`` (stride 1 on the first dim) by products of the first dim's taps, summed.

    Only the taps of the other dims are gathered, over every source row the
    first dim's taps read (``count[0] + (taps[0] - 1) * step[0]`` rows); one
    product by ``matrix`` (rows ``(t0, o)``, :meth:`Plan.matrix`) gives each
    first-dim tap's contribution at every row, and tap ``t0``'s is added
    ``t0 * step[0]`` rows further on: ``taps[0]`` times fewer copies than
    :func:`correlate`, for additions on the output side. Bands of output
    rows keep the gathered block and the products under
    :data:`GATHER_ENTRIES` entries; ``threads`` as in :func:`correlate`
    (in 1-D nothing is gathered: the product reads the source in place).
    """
    groups, rows_per_tap, inner = matrix.shape
    (k0, *_), e0, n0 = plan.taps, plan.step[0], plan.count[0]
    m, batch, reach = rows_per_tap // k0, src.shape[-1], (k0 - 1) * plan.step[0]
    per_row = math.prod(plan.count[1:]) * batch
    out = np.empty((groups, m, n0 * per_row), dtype=src.dtype)
    band = max(1, GATHER_ENTRIES // (groups * (inner + rows_per_tap) * per_row) - reach)
    # Rows lo .. hi + reach of the source, every other dim as im2col reads it.
    view = windows(src, plan._replace(taps=(1, *plan.taps[1:]),
                                      count=(n0 + reach, *plan.count[1:])))
    for lo in range(0, n0, band):
        hi = min(n0, lo + band)
        if len(plan.taps) > 1:
            columns = gather(view, lo, hi + reach, threads).reshape(groups, inner, -1)
        else:
            columns = view[:, :, lo:hi + reach].reshape(groups, inner, -1)
        products = np.matmul(matrix, columns).reshape(groups, k0, m, -1)
        size, target = (hi - lo) * per_row, out[:, :, lo * per_row:hi * per_row]
        terms = [products[:, t, :, t * e0 * per_row:t * e0 * per_row + size] for t in range(k0)]
        np.add(terms[0], terms[1], out=target)
        for term in terms[2:]:
            target += term
    return out.reshape(groups * m, *plan.count, batch)


class PhaseAxis(NamedTuple):
    """One dim of one adjoint phase: its inputs and the stride-1 correlation giving them."""

    inputs: slice  # of the input dim
    count: int  # type: ignore[assignment]  # inputs in the phase
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


def adjoint_phases(spec: ConvSpec) -> tuple[list[int], list[int], list[list[PhaseAxis]]]:
    """The polyphase adjoint's geometry: ``y``'s padding ``(lead, trail)`` per dim
    and, per phase that some tap reaches and that holds inputs, its :class:`PhaseAxis`
    per dim."""
    lengths = [n + b + e for n, (b, e) in zip(spec.input_shape, spec.padding)]
    # y is padded by the largest tap shift before, and after by as much as
    # the last phase reads beyond it.
    lead = [(k - 1) * d // s for k, d, s in zip(spec.kernel_size, spec.dilation, spec.stride)]
    trail = [0] * spec.ndim
    phases = []
    # Only residues some tap reaches can hold a nonzero phase: at most
    # prod(kernel_size) phases, however large the stride.
    reached = [sorted({t * d % s for t in range(k)}) for k, d, s in
               zip(spec.kernel_size, spec.dilation, spec.stride)]
    for phase in itertools.product(*reached):
        axes = []
        for a, r in enumerate(phase):
            n, (before, _) = spec.input_shape[a], spec.padding[a]
            axis = _phase_axis(before, min(n, lengths[a] - before), spec.kernel_size[a],
                               spec.dilation[a], spec.stride[a], r, lead[a])
            if axis is None:
                break  # these inputs receive nothing: zero
            axes.append(axis)
            last = axis.start + (len(axis.taps) - 1) * axis.step + axis.count - 1
            trail[a] = max(trail[a], last + 1 - lead[a] - spec.output_shape[a])
        else:
            phases.append(axes)
    return lead, trail, phases


#: Cost of one multiply-add in the products, in copied entries, for :func:`summed_pays`
#: (OpenBLAS's products against numpy's strided copies, measured on the panel).
PRODUCT_COST = 0.04


def summed_pays(spec: ConvSpec) -> bool:
    """Whether :func:`correlate_summed` is estimated to do at least as well as :func:`correlate`.

    Per correlation (the forward, and each adjoint phase) with ``cg``
    inputs and ``m`` outputs per group, ``taps``, ``N`` outputs and ``N'``
    columns (``count[0]`` extended by the first dim's reach), in units of
    one copied entry, with ``c`` = :data:`PRODUCT_COST`:

    * im2col: ``cg*prod(taps)*N`` copies + ``c*m*cg*prod(taps)*N``;
    * summed: ``cg*prod(taps[1:])*N'`` copies (none in 1-D: the product
      reads the source in place) + ``c*m*cg*prod(taps)*N'`` +
      ``taps[0]*m*N'/2`` for the products written and added back (whole
      contiguous rows: half a strided copy per entry).

    Correlations with one tap on the first dim, or a stride there, cost the
    same either way. Summed when some correlation can use it and the totals
    over all of them are not higher. One group only: per-group products with
    few channels (depthwise, ResNeXt) run far below BLAS speed whatever
    their shape.
    """
    if spec.groups > 1:
        return False
    correlations = [(spec.in_channels, spec.out_channels, spec.kernel_size, spec.dilation[0],
                     spec.output_shape, spec.stride[0])]
    for axes in adjoint_phases(spec)[2]:
        correlations.append((spec.out_channels, spec.in_channels,
                             tuple(len(axis.taps) for axis in axes), axes[0].step,
                             tuple(axis.count for axis in axes), 1))
    im2col = summed = 0.0
    applies = False
    for cg, m, taps, step, count, stride in correlations:
        size, outputs = math.prod(taps), math.prod(count)
        gathered = (cg * size + PRODUCT_COST * m * cg * size) * outputs
        im2col += gathered
        if stride > 1 or taps[0] == 1:
            summed += gathered
            continue
        applies = True
        copies = cg * size // taps[0] if len(taps) > 1 else 0
        columns = outputs // count[0] * (count[0] + (taps[0] - 1) * step)
        summed += (copies + PRODUCT_COST * m * cg * size + taps[0] * m / 2) * columns
    return applies and summed <= im2col


class NumpyKernel:
    """``matmat``/``rmatmat`` of one operator on ``(channels, *spatial, batch)`` arrays."""

    def __init__(self, spec: ConvSpec, weight: np.ndarray, method: str,
                 threads: int | None = None) -> None:
        self.spec, self.method = spec, method
        self.threads = usable_cores() if threads is None else threads
        groups, ndim = spec.groups, spec.ndim
        cg, mg = spec.in_channels // groups, spec.out_channels // groups
        grouped = weight.reshape(groups, mg, cg, *spec.kernel_size)
        self.forward = Plan(start=(0,) * ndim, taps=spec.kernel_size, step=spec.dilation,
                            stride=spec.stride, count=spec.output_shape, weight=grouped)
        # col2im multiplies by the adjoint, (groups, cg * taps, mg).
        self.spread = np.ascontiguousarray(np.conj(grouped.reshape(groups, mg, -1)).swapaxes(1, 2))
        self.lengths = [n + b + e for n, (b, e) in zip(spec.input_shape, spec.padding)]
        self.lead, self.trail, phases = adjoint_phases(spec)
        self.phases: list[tuple[Plan, tuple[slice, ...]]] = []
        for axes in phases:
            sub = grouped[(slice(None),) * 3 + np.ix_(*(axis.taps for axis in axes))]
            plan = Plan(start=tuple(axis.start for axis in axes),
                        taps=tuple(len(axis.taps) for axis in axes),
                        step=tuple(axis.step for axis in axes), stride=(1,) * ndim,
                        count=tuple(axis.count for axis in axes),
                        weight=np.ascontiguousarray(np.conj(sub).swapaxes(1, 2)))
            self.phases.append((plan, tuple(axis.inputs for axis in axes)))
        # Stride 1 and nothing cropped: the one phase is the whole input.
        self.whole = len(self.phases) == 1 and self.phases[0][0].count == spec.input_shape
        self.cast: dict[np.dtype, tuple[list[Callable[[np.ndarray], np.ndarray]], np.ndarray]] = {}

    def _runs(self, dtype: np.dtype) -> tuple[list[Callable[[np.ndarray], np.ndarray]], np.ndarray]:
        """The forward and every phase as functions of the padded source, and the
        col2im matrix, in ``dtype`` (weights cast once)."""
        if dtype not in self.cast:
            def run(plan: Plan) -> Callable[[np.ndarray], np.ndarray]:
                summed = self.method == "summed" and plan.stride[0] == 1 and plan.taps[0] > 1
                matrix = plan.matrix(summed).astype(dtype, copy=False)
                if summed:
                    return lambda src: correlate_summed(src, plan, matrix, self.threads)
                return lambda src: correlate(src, plan, matrix, self.threads)

            runs = [run(self.forward), *(run(plan) for plan, _ in self.phases)]
            self.cast[dtype] = runs, self.spread.astype(dtype, copy=False)
        return self.cast[dtype]

    def matmat(self, x: np.ndarray) -> np.ndarray:
        return self._runs(x.dtype)[0][0](pad(x, list(self.spec.padding)))

    def rmatmat(self, y: np.ndarray) -> np.ndarray:
        (_, *runs), spread = self._runs(y.dtype)
        if self.method == "im2col":
            return self._col2im(y, spread)
        padded = pad(y, list(zip(self.lead, self.trail)))
        if self.whole:
            return runs[0](padded)
        spec = self.spec
        x = np.zeros((spec.in_channels, *spec.input_shape, y.shape[-1]), dtype=y.dtype)
        for run, (_, inputs) in zip(runs, self.phases):
            x[(slice(None), *inputs)] = run(padded)
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
