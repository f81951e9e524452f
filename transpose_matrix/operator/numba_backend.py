"""The numba engine of :func:`~transpose_matrix.conv_operator`: compiled correlations.

Every direction is the numpy engine's (:mod:`.numpy_backend`): the forward
correlates the padded input, the adjoint computes each polyphase phase as a
stride-1 correlation of the padded ``y``, with the same
:class:`~.numpy_backend.Plan` objects. Where the channels per group are few
(:func:`~.engines.direct_pays`: depthwise and grouped layers, small
layers) every correlation is computed by a compiled loop: per sample,
output channel and output row, loop input channel -> kernel taps ->
contiguous output columns, three taps per pass, so the padded input is
read from cache once per tap instead of copied through memory once per tap
(im2col) and then streamed through products too small for BLAS. Two
kernels: :func:`flat` (stride 1 on the last two dims and an output plane
of at most :data:`FLAT_BYTES` on the padded width: one long loop per tap
over the flattened plane) and :func:`direct` (one short loop per output row
and tap). Elsewhere the products are large enough for BLAS and the numba
engine is the numpy one.

The loop over (sample, channel, output row) runs in parallel
(``numba.prange``) on ``threads`` threads. The kernels are compiled on first
use of each dtype and cached on disk (``cache=True``): numba writes beside
this file, or, when the install folder is read-only, in its user-wide cache
folder (``~/.cache/numba``), or in ``NUMBA_CACHE_DIR`` when set; with no
writable folder at all it compiles in memory each session.

Arrays inside this module are ``(batch, channels, d0, d1, d2)``: every
convolution runs as a 3-D one (1-D and 2-D ones with leading dims of size
1), so one compiled kernel serves all, and the last dim is contiguous.
numba is imported with this module: import it only after checking that
numba is installed (:func:`~transpose_matrix.errors.optional_import`).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from ..geometry.spec import ConvSpec
from .engines import direct_pays
from .numpy_backend import NumpyKernel, Plan

__all__ = ["FLAT_BYTES", "NumbaKernel", "direct", "flat"]


def _jit(function: Any) -> Any:
    """``numba.njit`` with parallel loops, fastmath and the on-disk cache when a folder allows.

    numba looks for a writable cache folder itself (``NUMBA_CACHE_DIR``, the
    ``__pycache__`` beside this file, then its user-wide folder); when none
    is writable it refuses ``cache=True`` at decoration, and the kernel is
    compiled in memory instead.
    """
    try:
        return numba.njit(parallel=True, fastmath=True, nogil=True, cache=True)(function)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(parallel=True, fastmath=True, nogil=True, cache=False)(function)


@_jit
def direct(src: np.ndarray, weight: np.ndarray, start: np.ndarray, step: np.ndarray,
           stride: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[b, g*m + o, *j] = sum over c, t of weight[g, o, c, *t] *
    src[b, g*cg + c, *(start + t*step + j*stride)]``, one output row per job."""
    batch, channels, n0, n1, n2 = out.shape
    _, m, cg, k0, k1, k2 = weight.shape
    for job in numba.prange(batch * channels * n0):
        j0 = job % n0
        oc = (job // n0) % channels
        b = job // (n0 * channels)
        g = oc // m
        o = oc - g * m
        for j1 in range(n1):
            # Contiguous row slices, three taps per pass: the loop over j2
            # vectorises and reads and writes the output row a third as often.
            target = out[b, oc, j0, j1]
            target[:] = 0
            for c in range(cg):
                for t0 in range(k0):
                    r0 = start[0] + t0 * step[0] + j0 * stride[0]
                    for t1 in range(k1):
                        row = src[b, g * cg + c, r0, start[1] + t1 * step[1] + j1 * stride[1]]
                        w = weight[g, o, c, t0, t1]
                        if stride[2] == 1:
                            t2 = 0
                            while t2 + 3 <= k2:
                                a = start[2] + t2 * step[2]
                                s0 = row[a:a + n2]
                                s1 = row[a + step[2]:a + step[2] + n2]
                                s2 = row[a + 2 * step[2]:a + 2 * step[2] + n2]
                                w0, w1, w2 = w[t2], w[t2 + 1], w[t2 + 2]
                                for j2 in range(n2):
                                    target[j2] += w0 * s0[j2] + w1 * s1[j2] + w2 * s2[j2]
                                t2 += 3
                            while t2 < k2:
                                a = start[2] + t2 * step[2]
                                s0 = row[a:a + n2]
                                w0 = w[t2]
                                for j2 in range(n2):
                                    target[j2] += w0 * s0[j2]
                                t2 += 1
                        else:
                            for t2 in range(k2):
                                a, w0 = start[2] + t2 * step[2], w[t2]
                                for j2 in range(n2):
                                    target[j2] += w0 * row[a + j2 * stride[2]]


@_jit
def flat(src: np.ndarray, weight: np.ndarray, start: np.ndarray, step: np.ndarray,
         stride: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """:func:`direct` with stride 1 on the last two dims, each output plane at once.

    Flattened, the padded plane's tap ``(t1, t2)`` is the shift ``(start1 +
    t1*step1) * L2 + start2 + t2*step2``, the same for every output: the
    outputs are computed on the padded width ``L2`` (one long contiguous
    loop per tap instead of one short one per row and tap), and the
    ``L2 - n2`` extra columns of each row are dropped.
    """
    batch, channels, n0, n1, n2 = out.shape
    _, m, cg, k0, k1, k2 = weight.shape
    l1, l2 = src.shape[3], src.shape[4]
    span, e = (n1 - 1) * l2 + n2, step[2]
    for job in numba.prange(batch * channels * n0):
        j0 = job % n0
        oc = (job // n0) % channels
        b = job // (n0 * channels)
        g = oc // m
        o = oc - g * m
        acc = np.zeros(span, dtype=out.dtype)
        for c in range(cg):
            for t0 in range(k0):
                plane = src[b, g * cg + c, start[0] + t0 * step[0] + j0 * stride[0]]
                plane = plane.reshape(l1 * l2)
                for t1 in range(k1):
                    base = (start[1] + t1 * step[1]) * l2 + start[2]
                    w = weight[g, o, c, t0, t1]
                    t2 = 0
                    while t2 + 3 <= k2:
                        p = base + t2 * e
                        s0 = plane[p:p + span]
                        s1 = plane[p + e:p + e + span]
                        s2 = plane[p + 2 * e:p + 2 * e + span]
                        w0, w1, w2 = w[t2], w[t2 + 1], w[t2 + 2]
                        for q in range(span):
                            acc[q] += w0 * s0[q] + w1 * s1[q] + w2 * s2[q]
                        t2 += 3
                    while t2 < k2:
                        p = base + t2 * e
                        s0 = plane[p:p + span]
                        w0 = w[t2]
                        for q in range(span):
                            acc[q] += w0 * s0[q]
                        t2 += 1
        for j1 in range(n1):
            out[b, oc, j0, j1, :] = acc[j1 * l2:j1 * l2 + n2]


#: Largest accumulator of :func:`flat` (one output plane on the padded width): L1's 32 KiB.
FLAT_BYTES = 1 << 15


def _three(values: tuple[int, ...], fill: int) -> np.ndarray:
    """Per-dim values of an N-D plan as 3-D ones (leading dims added with ``fill``)."""
    return np.array((fill,) * (3 - len(values)) + tuple(values), dtype=np.int64)


def _three_d(src: np.ndarray) -> np.ndarray:
    """``(channels, *spatial, batch)`` as ``(batch, channels, d0, d1, d2)``, contiguous
    (a view for one contiguous sample)."""
    lengths = (1,) * (5 - src.ndim) + src.shape[1:-1]
    return np.ascontiguousarray(np.moveaxis(src, -1, 0)).reshape(
        src.shape[-1], src.shape[0], *lengths)


class NumbaKernel(NumpyKernel):
    """The numpy engine's kernel, every correlation compiled where it pays.

    When :func:`~.engines.direct_pays` for the layer's channels per group,
    the forward and every polyphase phase run :func:`flat` or
    :func:`direct` on ``threads`` threads (default: every usable core);
    otherwise this is the numpy engine's kernel with ``method``.
    """

    def __init__(self, spec: ConvSpec, weight: np.ndarray, method: str,
                 threads: int | None = None) -> None:
        super().__init__(spec, weight, method, threads)
        self.direct = direct_pays(spec.in_channels // spec.groups,
                                  spec.out_channels // spec.groups)
        if self.direct:
            self.method = "polyphase"  # the forward and every phase run compiled

    def _runs(self, dtype: np.dtype) -> tuple[list[Any], np.ndarray]:
        if dtype not in self.cast:
            runs, spread = super()._runs(dtype)
            if self.direct:
                plans = [self.forward, *(plan for plan, _ in self.phases)]
                runs = [self._direct(plan, dtype) for plan in plans]
            self.cast[dtype] = runs, spread
        return self.cast[dtype]

    def _direct(self, plan: Plan, dtype: np.dtype) -> Any:
        """``plan`` by :func:`flat` (stride 1 on the last two dims, a plane that fits
        :data:`FLAT_BYTES`) or :func:`direct`, as a function of the padded source."""
        groups, m, cg = plan.weight.shape[:3]
        taps = _three(plan.taps, 1)
        weight = np.ascontiguousarray(plan.weight.reshape(groups, m, cg, *taps), dtype=dtype)
        geometry = _three(plan.start, 0), _three(plan.step, 1), _three(plan.stride, 1)
        count, threads = tuple(int(n) for n in _three(plan.count, 1)), self.threads
        stride = geometry[2]

        def run(src: np.ndarray) -> np.ndarray:
            source = _three_d(src)
            out = np.empty((source.shape[0], groups * m, *count), dtype=dtype)
            span = (count[1] - 1) * source.shape[4] + count[2]
            kernel = flat if (stride[1] == stride[2] == 1 and
                              span * out.itemsize <= FLAT_BYTES) else direct
            with _threads(threads):
                kernel(source, weight, *geometry, out)
            return np.moveaxis(out.reshape(out.shape[0], groups * m, *plan.count), 0, -1)

        return run


class _threads:
    """Run numba's parallel loops on ``count`` threads inside the block, then restore."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __enter__(self) -> None:
        self.previous = numba.get_num_threads()
        # At most the threads numba started (NUMBA_NUM_THREADS, every core).
        pool = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
        numba.set_num_threads(min(self.count, pool))

    def __exit__(self, *exc: object) -> None:
        numba.set_num_threads(self.previous)
