"""The convolution as a matrix-free linear operator: C and Cᴴ without building C.

:func:`conv_operator` returns a :class:`scipy.sparse.linalg.LinearOperator`
whose ``matvec`` is the convolution (``C @ x``) and whose ``rmatvec`` is the
transposed convolution (``Cᴴ @ y``, which is ``Cᵀ @ y`` for real weights).
It is what to use when C itself would not fit in memory (the memory guard of
:func:`~transpose_matrix.conv_matrix` points here), and it is fast: the work
is one BLAS matrix product per group, plus copies of the input's size.

How it works (the *polyphase* form of a strided convolution). Pad the input
and split every padded dim into its ``stride`` phases, ``x_pad[q*s + r]`` for
phase ``r``. Tap ``t`` reads ``x_pad[j*s + t*d]``, i.e. phase ``r = t*d mod s``
at index ``q = j + t*d // s``: a plain shift, so every tap's window is a
strided view of one phase. The convolution copies those windows under each
other (im2col, ``(in_channels/groups * taps, outputs)``) and multiplies once
by the weight matrix ``(out_channels/groups, in_channels/groups * taps)``.
The transposed convolution multiplies once by that matrix's adjoint, giving
every tap's contribution; flattening each phase's grid in C order turns each
tap's shift into one offset, so each contribution is added to a contiguous
slice of its phase, and the phases are interleaved back into the input.
When the kernel equals the stride and there is no padding (patchify, the
U-Net up-convolution) each tap owns a whole phase and the phase buffer is
skipped: windows are read from, and contributions written to, the input's
strided views directly.

In two or more dims the convolution does not build the whole im2col block.
Its columns are the output positions, each leading axis extended by its
largest tap shift; the rows are (in channel, last-axis tap): one strided
copy of the input per last-axis tap, zero where it reads padding. One
product per phase of the leading axes gives, for every leading-axes tap of
that phase, its ``(out_channels, columns)`` contribution, and those are
added at their shifts. For a 3x3 kernel that is 3 copies instead of 9 and a
``(3*out, 3*in) @ (3*in, columns)`` product, which BLAS runs faster than
``(out, 9*in) @ (9*in, columns)``; the two additions cost less than the six
copies saved. With one group, stride 1 on the first axis and an output at
least as long as the input there (the 'same' 3x3 convolution of a U-Net),
the columns are exactly the output positions and the additions become one
threaded matrix-vector product: each first-axis tap's products, laid out a
fixed distance apart, form the rows of one strided view, and the output is
the sum of its rows (rows at the edges, where a tap reads outside its
products, are summed again from their in-range terms).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .matrix import check_weight
from .spec import ConvSpec

__all__ = ["ConvOperator", "conv_operator"]

# Entries of the gathered (in_channels * taps, columns) block the forward
# product works on: 32 MiB in float64, enough for BLAS to run at full speed.
_GATHER_ENTRIES = 1 << 22


def _phase_slices(
    n: int, before: int, length: int, stride: int, phase: int
) -> tuple[slice, slice]:
    """Where input ``x[i]`` sits in phase ``phase`` of the padded dim, as two slices.

    The padded dim has ``length = n + before + after`` entries (``after`` may
    be negative, cropping the input); input ``i`` is padded index
    ``i + before = q*stride + phase``. Returns ``(phase_slice, input_slice)``
    with ``phase_array[phase_slice]`` and ``x[input_slice]`` the same entries.
    """
    kept = min(n, length - before)  # inputs a negative 'after' does not crop
    first_q = max(0, -((phase - before) // stride))  # ceil((before - phase) / stride)
    first_i = first_q * stride + phase - before
    if first_i >= kept:
        return slice(0, 0), slice(0, 0)
    count = (kept - first_i + stride - 1) // stride
    return slice(first_q, first_q + count), slice(first_i, kept, stride)


def _window_slices(
    n: int, before: int, length: int, stride: int, start: int, limit: int
) -> tuple[slice, slice] | None:
    """Where input ``x[i]`` sits in the window ``u -> padded[start + u*stride]``, ``u < limit``.

    Returns ``(window_slice, input_slice)``, or None when the window reads
    only padding.
    """
    window, source = _phase_slices(n, before, length, stride, start)
    first = window.start
    stop = min(window.stop, limit)
    if stop <= first:
        return None
    i = source.start
    return slice(first, stop), slice(i, i + (stop - first - 1) * stride + 1, stride)


class ConvOperator(LinearOperator):
    """C of a convolution as a :class:`~scipy.sparse.linalg.LinearOperator`.

    Build it with :func:`conv_operator`. Shape ``spec.matrix_shape``; dtype
    of the weight. ``matvec``/``matmat`` compute ``C @ x`` for one sample or
    a batch of samples as columns; ``rmatvec``/``rmatmat`` compute ``Cᴴ @ y``.
    ``op.T`` is the transposed convolution as an operator in its own right.
    """

    def __init__(self, spec: ConvSpec, weight: Any) -> None:
        weight = check_weight(spec, weight)
        super().__init__(dtype=weight.dtype, shape=spec.matrix_shape)
        self.spec = spec
        self.weight = weight
        ndim = spec.ndim
        groups = spec.groups
        self._groups = groups
        self._in_group = spec.in_channels // groups
        self._out_group = spec.out_channels // groups
        # Padded length, phase length, and the phase grid's flat strides.
        self._lengths = [spec.input_shape[a] + sum(spec.padding[a]) for a in range(ndim)]
        self._grid = tuple(
            -(-length // s) for length, s in zip(self._lengths, spec.stride)
        )
        self._pitch = [math.prod(self._grid[a + 1 :]) for a in range(ndim)]
        out = self._out = spec.output_shape
        # Output j sits at flat grid index sum(j_a * pitch_a); computing the
        # first `span` columns covers every j.
        self._span = sum((o - 1) * p for o, p in zip(out, self._pitch)) + 1
        self._phases = math.prod(spec.stride)
        taps, shifts = [], []
        for tap in np.ndindex(*spec.kernel_size):
            reach = [t * d for t, d in zip(tap, spec.dilation)]
            phase = np.ravel_multi_index(
                [r % s for r, s in zip(reach, spec.stride)], spec.stride
            )
            offset = sum((r // s) * p for r, s, p in zip(reach, spec.stride, self._pitch))
            taps.append((int(phase), offset))
            shifts.append(tuple(r // s for r, s in zip(reach, spec.stride)))
        self._taps = taps
        self._shifts = shifts
        self._phase_tuples = list(np.ndindex(*spec.stride))
        self._reach = max(offset for _, offset in taps)
        # Where each phase's entries come from in the input, once for all calls.
        self._phase_plan = [
            (phase, *self._phase_index(phase)) for phase in np.ndindex(*spec.stride)
        ]
        covered = np.zeros(spec.input_shape, dtype=bool)
        for _, _, source in self._phase_plan:
            covered[source[1:]] = True
        self._covered = bool(covered.all())
        # Outputs fill the phase grid's rows exactly: no slack columns to crop.
        self._tight = tuple(self._grid[1:]) == tuple(out[1:])
        # Kernel equal to stride without padding (patchify, U-Net up-conv):
        # each tap owns one whole phase at shift 0, so taps map straight to
        # strided views of the input and the phase buffer is not needed.
        self._direct = (
            self._tight
            and self._covered
            and tuple(self._grid) == tuple(out)
            and all(offset == 0 for _, offset in taps)
            and sorted(phase for phase, _ in taps) == list(range(self._phases))
            and all(
                self._lengths[a] == spec.input_shape[a] == out[a] * spec.stride[a]
                for a in range(ndim)
            )
        )
        self._split = None if self._direct or ndim < 2 else self._split_plan(weight)
        self._summed = self._split is not None and self._sum_applies()
        # Output rows of the summed forward that some axis-0 tap reads
        # outside the gathered rows: each with its in-range (tap, row) terms.
        self._edges = self._edge_rows() if self._summed else []
        # Work buffers of the last split or summed forward call, (key,
        # buffers), reused by the next call of the same path, batch and
        # dtype: allocating them afresh cost page faults worth a third of
        # the copies' time. A call takes them out of the list (atomic under
        # the GIL), so concurrent calls never share them; with one chunk, the
        # gathered entries that read padding are never written, so they stay
        # zero.
        self._spare: list[tuple[tuple[str, int, str], dict[str, np.ndarray]]] = []
        grouped = weight.reshape(groups, self._out_group, self._in_group, -1)
        # (groups, out per group, in per group * taps): all taps in one product,
        # and its adjoint (groups, in per group * taps, out per group).
        self._flat_weights = grouped.reshape(groups, self._out_group, -1)
        self._adjoint_weights = np.ascontiguousarray(np.conj(self._flat_weights).swapaxes(1, 2))

    def _split_plan(
        self, weight: np.ndarray
    ) -> list[tuple[tuple[int, ...], list[tuple[int, ...]], np.ndarray]]:
        """The forward product split between the last axis's taps and the others.

        One entry per phase of the leading axes: that phase, the shifts of
        its leading-axes taps (their products are added at those shifts) and
        the weight matrix ``(groups, those taps * out per group, in per group
        * last-axis taps)``.
        """
        spec = self.spec
        members: dict[tuple[int, ...], list[tuple[int, tuple[int, ...]]]] = {}
        for number, tap in enumerate(np.ndindex(*spec.kernel_size[:-1])):
            reach = [t * d for t, d in zip(tap, spec.dilation)]
            phase = tuple(r % s for r, s in zip(reach, spec.stride))
            shift = tuple(r // s for r, s in zip(reach, spec.stride))
            members.setdefault(phase, []).append((number, shift))
        split = weight.reshape(
            self._groups, self._out_group, self._in_group, -1, spec.kernel_size[-1]
        )
        plan = []
        for phase, taps in members.items():
            numbers = [number for number, _ in taps]
            matrix = split[:, :, :, numbers].transpose(0, 3, 1, 2, 4).reshape(
                self._groups, len(numbers) * self._out_group, -1
            )
            plan.append((phase, [shift for _, shift in taps], matrix.copy()))
        return plan

    def _take_work(
        self, key: tuple[str, int, str], make: Callable[[], dict[str, np.ndarray]]
    ) -> dict[str, np.ndarray]:
        """The spare work buffers if they were made for ``key``, else ``make()``."""
        try:
            held, work = self._spare.pop()
        except IndexError:
            return make()
        return work if held == key else make()

    def _return_work(self, key: tuple[str, int, str], work: dict[str, np.ndarray]) -> None:
        if not self._spare:
            self._spare.append((key, work))

    def _sum_applies(self) -> bool:
        """Whether the split forward can sum its leading taps in one BLAS call.

        Needs one group, stride 1 and at least two taps on axis 0, no taps
        on the axes between the first and the last, and an output at least
        as long as the input on axis 0: then the gathered rows can be the
        output's own rows (every input row among them), each tap's product
        is the previous one's moved by ``dilation[0]`` rows, and the sum
        over taps is a matrix-vector product over one strided view.
        """
        spec = self.spec
        return (
            self._groups == 1
            and spec.stride[0] == 1
            and spec.kernel_size[0] > 1
            and all(k == 1 for k in spec.kernel_size[1:-1])
            and self._out[0] >= spec.input_shape[0]
        )

    def _edge_rows(self) -> list[tuple[int, list[tuple[int, int]]]]:
        rows, first = self._out[0], self.spec.padding[0][0]
        edges = []
        for h in range(rows):
            sources = [h + shift[0] - first for shift in self._split[0][1]]
            if not all(0 <= r < rows for r in sources):
                edges.append((h, [(t, r) for t, r in enumerate(sources) if 0 <= r < rows]))
        return edges

    # Phase layout: (phases, groups, in per group, flat * batch), where the
    # first prod(grid) * batch entries of the last axis are the phase's grid
    # and the rest is zero slack, so that every tap's slice of `rows`
    # columns stays inside and every product writes a contiguous array.
    def _phase_buffer(self, batch: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        spec = self.spec
        rows = self._out[0] * self._pitch[0]
        flat = max(math.prod(self._grid), self._reach + rows)
        buffer = np.zeros(
            (self._phases, self._groups, self._in_group, flat * batch), dtype=dtype
        )
        grid = buffer[..., : math.prod(self._grid) * batch].reshape(
            *spec.stride, spec.in_channels, *self._grid, batch
        )
        return buffer, grid

    def _phase_index(self, phase: tuple[int, ...]) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
        spec = self.spec
        pairs = [
            _phase_slices(
                spec.input_shape[a], spec.padding[a][0], self._lengths[a], spec.stride[a], r
            )
            for a, r in enumerate(phase)
        ]
        everything = (slice(None),)
        return everything + tuple(p for p, _ in pairs), everything + tuple(i for _, i in pairs)

    def _product(self, matrices: np.ndarray, columns: np.ndarray, out: np.ndarray) -> None:
        # A group with a single channel on the summed side is an outer
        # product; broadcasting does it without one tiny BLAS call per group.
        if matrices.shape[-1] == 1:
            np.multiply(matrices, columns, out=out)
        else:
            np.matmul(matrices, columns, out=out)

    def _matmat(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        batch = X.shape[1]
        dtype = np.result_type(self.weight.dtype, X.dtype)
        spec = self.spec
        x = X.reshape(spec.in_channels, *spec.input_shape, batch)
        if self._direct:
            return self._matmat_direct(x, batch, dtype)
        if self._split is not None:
            return self._matmat_split(x, batch, dtype)
        phases, grid = self._phase_buffer(batch, dtype)
        for phase, target, source in self._phase_plan:
            grid[phase][target] = x[source]
        weights = self._flat_weights.astype(dtype, copy=False)
        # Gather every tap's shifted window under each other (a K-fold copy
        # of the input, im2col), then one product sums over channels and
        # taps together: BLAS is much faster with the long inner dimension
        # in_channels/groups * taps than with one product per tap and an
        # addition after each. Chunks of output rows bound the copy.
        taps = len(self._taps)
        rest = self._out[1:]
        per_row = math.prod(rest) * batch
        result = np.empty((self._groups, self._out_group, self._out[0] * per_row), dtype=dtype)
        chunk = max(1, _GATHER_ENTRIES // (spec.in_channels * taps * per_row))
        gathered = np.empty(
            (spec.in_channels, taps, min(chunk, self._out[0]), *rest, batch), dtype=dtype
        )
        for lo in range(0, self._out[0], chunk):
            hi = min(self._out[0], lo + chunk)
            block = gathered[:, :, : hi - lo]
            for number, ((phase, _), shift) in enumerate(zip(self._taps, self._shifts)):
                window = (slice(shift[0] + lo, shift[0] + hi),) + tuple(
                    slice(k, k + o) for k, o in zip(shift[1:], rest)
                )
                block[:, number] = grid[self._phase_tuples[phase]][(slice(None), *window)]
            columns = block.reshape(self._groups, self._in_group * taps, -1)
            self._product(weights, columns, result[:, :, lo * per_row : hi * per_row])
        return result.reshape(-1, batch)

    def _matmat_split(self, x: np.ndarray, batch: int, dtype: np.dtype) -> np.ndarray:
        # Columns are the positions (rows of axis 0, *rest, last) with each
        # leading axis extended by its largest tap shift and the last axis
        # exactly the output's: the last axis's taps are gathered (one
        # strided copy of the input each, zero where they read padding) and
        # share one product with every leading-axes tap of the same phase;
        # the leading taps' products are then added at their shifts. Fewer
        # copies than im2col, and a squarer product that BLAS runs faster.
        spec = self.spec
        if self._summed:
            per_row = math.prod(self._out[1:]) * batch
            taps = len(self._split[0][1])
            size = spec.in_channels * spec.kernel_size[-1] + spec.out_channels * taps
            if size * self._out[0] * per_row <= _GATHER_ENTRIES:
                return self._matmat_summed(x, batch, dtype)
        groups, out_group = self._groups, self._out_group
        out, last = self._out, spec.kernel_size[-1]
        reach = [
            max(shift[a] for _, shifts, _ in self._split for shift in shifts)
            for a in range(spec.ndim - 1)
        ]
        rest = [o + r for o, r in zip(out[1:-1], reach[1:])]
        per_row = math.prod(rest) * out[-1] * batch
        most = max(len(shifts) for _, shifts, _ in self._split)
        per_column = spec.in_channels * last * len(self._split) + spec.out_channels * most
        chunk = max(1, _GATHER_ENTRIES // (per_column * per_row) - reach[0])
        chunk = min(chunk, out[0])
        rows = chunk + reach[0]
        key = ("split", batch, np.dtype(dtype).str)
        work = self._take_work(key, lambda: {
            "gathered": np.zeros(
                len(self._split) * spec.in_channels * last * rows * per_row, dtype=dtype
            ),
            "products": np.empty(most * spec.out_channels * rows * per_row, dtype=dtype),
        })
        result = np.empty((groups, out_group, *out, batch), dtype=dtype)
        for lo in range(0, out[0], chunk):
            hi = min(out[0], lo + chunk)
            rows = hi - lo + reach[0]
            columns = rows * per_row
            gathered = work["gathered"][: len(self._split) * spec.in_channels * last * columns]
            if chunk < out[0]:
                gathered[...] = 0  # each chunk reads padding in other places
            gathered = gathered.reshape(
                len(self._split), spec.in_channels, last, rows, *rest, out[-1], batch
            )
            target = result[:, :, lo:hi]
            # The first term waits for the second, so that one pass adds both.
            first, written = None, False
            for number, (phase, shifts, matrix) in enumerate(self._split):
                self._gather(x, gathered[number], phase, lo, rows, rest)
                products = work["products"][: len(shifts) * spec.out_channels * columns]
                products = products.reshape(groups, len(shifts) * out_group, columns)
                self._product(
                    matrix.astype(dtype, copy=False),
                    gathered[number].reshape(groups, -1, columns),
                    products,
                )
                products = products.reshape(
                    groups, len(shifts), out_group, rows, *rest, out[-1], batch
                )
                for tap, shift in enumerate(shifts):
                    window = tuple(slice(q, q + o) for q, o in zip(shift, [hi - lo, *out[1:-1]]))
                    term = products[(slice(None), tap, slice(None), *window)]
                    if written:
                        target += term
                    elif first is None:
                        first = term
                    else:
                        np.add(first, term, out=target)
                        first, written = None, True
                if first is not None:  # the products buffer is about to be reused
                    target[...] = first
                    first, written = None, True
        self._return_work(key, work)
        return result.reshape(-1, batch)

    def _matmat_summed(self, x: np.ndarray, batch: int, dtype: np.dtype) -> np.ndarray:
        # Gathered row u is padded row `first + u` (input row u), so the
        # products P_t of axis-0 tap t sit on the output's own rows and
        # output row h adds P_t at row h + shift_t - first. Laid out with
        # `lead` spare entries before them, tap t's term for the flat
        # output index q is buffer[t * pitch + q]: one strided (taps,
        # outputs) view whose column sums, one threaded BLAS call, are the
        # output. A row whose term falls outside P_t reads a neighbour's
        # entries there, and is summed again from its in-range terms only.
        spec = self.spec
        out, last = self._out, spec.kernel_size[-1]
        (phase, shifts, matrix), = self._split
        taps = len(shifts)
        rest = list(out[1:-1])
        per_row = math.prod(out[1:]) * batch
        block = spec.out_channels * out[0] * per_row  # one tap's products
        first = spec.padding[0][0]
        lead = first * per_row
        pitch = block + spec.dilation[0] * per_row  # tap t's shift is t * dilation[0]
        key = ("summed", batch, np.dtype(dtype).str)
        work = self._take_work(key, lambda: {
            "gathered": np.zeros(spec.in_channels * last * out[0] * per_row, dtype=dtype),
            "products": np.zeros(max(lead + taps * block, taps * pitch), dtype=dtype),
            "ones": np.ones(taps, dtype=dtype),
        })
        gathered = work["gathered"].reshape(spec.in_channels, last, out[0], *rest, out[-1], batch)
        self._gather(x, gathered, phase, first, out[0], rest)
        buffer = work["products"]
        products = buffer[lead : lead + taps * block].reshape(1, taps * spec.out_channels, -1)
        self._product(
            matrix.astype(dtype, copy=False), gathered.reshape(1, -1, products.shape[-1]), products
        )
        result = np.empty(block, dtype=dtype)
        terms = buffer[: taps * pitch].reshape(taps, pitch)[:, :block]
        np.matmul(terms.T, work["ones"], out=result)
        products = products.reshape(taps, spec.out_channels, out[0], per_row)
        rows = result.reshape(spec.out_channels, out[0], per_row)
        for h, inside in self._edges:
            if not inside:
                rows[:, h] = 0
                continue
            t, r = inside[0]
            rows[:, h] = products[t, :, r]
            for t, r in inside[1:]:
                rows[:, h] += products[t, :, r]
        self._return_work(key, work)
        return result.reshape(-1, batch)

    def _gather(
        self, x: np.ndarray, gathered: np.ndarray, phase: tuple[int, ...], lo: int,
        rows: int, rest: list[int],
    ) -> None:
        """Copy into ``gathered[:, t]`` what last-axis tap ``t`` reads at every column."""
        spec = self.spec
        limits = [rows, *rest]
        starts = [(lo * spec.stride[0] + phase[0]), *phase[1:]]
        lead = []
        for a in range(spec.ndim - 1):
            pair = _window_slices(
                spec.input_shape[a], spec.padding[a][0], self._lengths[a], spec.stride[a],
                starts[a], limits[a],
            )
            if pair is None:
                return
            lead.append(pair)
        a = spec.ndim - 1
        for tap in range(spec.kernel_size[-1]):
            pair = _window_slices(
                spec.input_shape[a], spec.padding[a][0], self._lengths[a], spec.stride[a],
                tap * spec.dilation[a], self._out[-1],
            )
            if pair is None:
                continue
            pairs = [*lead, pair]
            gathered[(slice(None), tap, *(t for t, _ in pairs))] = x[
                (slice(None), *(i for _, i in pairs))
            ]

    def _rmatmat(self, Y: np.ndarray) -> np.ndarray:
        Y = np.asarray(Y)
        batch = Y.shape[1]
        dtype = np.result_type(self.weight.dtype, Y.dtype)
        spec = self.spec
        width = self._out[0] * self._pitch[0] * batch
        if self._tight:
            columns = np.ascontiguousarray(Y, dtype=dtype).reshape(
                self._groups, self._out_group, width
            )
        else:
            # Grid columns that are no output position stay zero: they add nothing.
            columns = np.zeros((self._groups, self._out_group, width), dtype=dtype)
            view = columns.reshape(spec.out_channels, self._out[0], *self._grid[1:], batch)
            crop = (slice(None), slice(None), *(slice(o) for o in self._out[1:]))
            view[crop] = Y.reshape(spec.out_channels, *self._out, batch)
        adjoint = self._adjoint_weights.astype(dtype, copy=False)
        if self._direct:
            return self._rmatmat_direct(columns, batch, dtype)
        phases, grid = self._phase_buffer(batch, dtype)
        # One product gives every tap's contribution, (in per group, taps,
        # columns); each tap's slice is then added at its shift in its phase.
        taps = len(self._taps)
        chunk = max(1, _GATHER_ENTRIES // (self._groups * self._in_group * taps))
        spread = np.empty((self._groups, self._in_group * taps, min(chunk, width)), dtype=dtype)
        for lo in range(0, width, chunk):
            hi = min(width, lo + chunk)
            block = spread[:, :, : hi - lo]
            self._product(adjoint, columns[:, :, lo:hi], block)
            block = block.reshape(self._groups, self._in_group, taps, hi - lo)
            for number, (phase, offset) in enumerate(self._taps):
                start = offset * batch
                phases[phase, :, :, start + lo : start + hi] += block[:, :, number]
        # Inputs a negative 'after' padding crops are in no phase: zero.
        shape = (spec.in_channels, *spec.input_shape, batch)
        x = np.empty(shape, dtype=dtype) if self._covered else np.zeros(shape, dtype=dtype)
        for phase, target, source in self._phase_plan:
            x[source] = grid[phase][target]
        return x.reshape(-1, batch)

    def _direct_view(self, x: np.ndarray) -> np.ndarray:
        """``x`` (in, *input, batch) as (in, *kernel, *out, batch): tap ``t`` of output ``j`` is
        ``x[j*stride + t]``. One view, so one copy moves every tap (faster than a
        strided copy per tap)."""
        n = self.spec.ndim
        split = x.reshape(
            x.shape[0],
            *(v for o, s in zip(self._out, self.spec.stride) for v in (o, s)),
            x.shape[-1],
        )
        return split.transpose(0, *range(2, 2 * n + 1, 2), *range(1, 2 * n, 2), 2 * n + 1)

    def _matmat_direct(self, x: np.ndarray, batch: int, dtype: np.dtype) -> np.ndarray:
        taps = len(self._taps)
        width = math.prod(self._out) * batch
        gathered = np.empty(
            (self.spec.in_channels, *self.spec.kernel_size, *self._out, batch), dtype=dtype
        )
        gathered[...] = self._direct_view(x)
        result = np.empty((self._groups, self._out_group, width), dtype=dtype)
        columns = gathered.reshape(self._groups, self._in_group * taps, width)
        self._product(self._flat_weights.astype(dtype, copy=False), columns, result)
        return result.reshape(-1, batch)

    def _rmatmat_direct(self, columns: np.ndarray, batch: int, dtype: np.dtype) -> np.ndarray:
        spec = self.spec
        taps = len(self._taps)
        width = columns.shape[-1]
        spread = np.empty((self._groups, self._in_group * taps, width), dtype=dtype)
        self._product(self._adjoint_weights.astype(dtype, copy=False), columns, spread)
        spread = spread.reshape(spec.in_channels, taps, *self._out, batch)
        x = np.empty((spec.in_channels, *spec.input_shape, batch), dtype=dtype)
        # Tap by tap here: one copy through the transposed view is slower when
        # it writes (measured), unlike the gather above, which reads through it.
        view = self._direct_view(x)
        for number, tap in enumerate(np.ndindex(*spec.kernel_size)):
            view[(slice(None), *tap)] = spread[:, number]
        return x.reshape(-1, batch)

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        return self._matmat(np.reshape(x, (-1, 1))).reshape(-1)

    def _rmatvec(self, y: np.ndarray) -> np.ndarray:
        return self._rmatmat(np.reshape(y, (-1, 1))).reshape(-1)


def conv_operator(spec: ConvSpec, weight: Any) -> ConvOperator:
    """C as a matrix-free operator: ``op @ x = conv(x)``, ``op.H @ y = conv_transpose(y)``.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry.
    weight : array_like
        Shape ``(out_channels, in_channels // groups, *kernel_size)``; a
        dtype of :data:`~transpose_matrix.matrix.WEIGHT_DTYPES`, all finite.

    Returns
    -------
    ConvOperator
        A :class:`scipy.sparse.linalg.LinearOperator` of shape
        ``spec.matrix_shape`` equal to :func:`~transpose_matrix.conv_matrix`
        (to rounding), without building it. ``matvec(x)`` with ``x`` of
        length ``in_channels * prod(input_shape)`` is the convolution of one
        sample flattened in C order; ``rmatvec(y)`` is ``Cᴴ y``, the
        transposed convolution (the input gradient); ``matmat``/``rmatmat``
        take a batch of samples as columns. ``op.T`` applies Cᵀ.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        From :func:`~transpose_matrix.matrix.check_weight`.

    Notes
    -----
    Memory is a few copies of the input and output (the gathered block and
    its products are bounded to :data:`_GATHER_ENTRIES` entries at a time),
    never C; in two or more dims the forward call keeps its work buffers
    (about ``kernel_size[-1]`` inputs and ``prod(kernel_size[:-1])`` outputs)
    for the next call. The cost is the BLAS products of
    ``(out/groups, in/groups * taps) @ (in/groups * taps, prod(output_shape))``
    per group, split as the module's docstring explains; results are the
    convolution's to floating-point rounding, not bit-identical to ``C @ x``,
    whose sums run in another order.

    Examples
    --------
    >>> import numpy as np
    >>> spec = ConvSpec((4,), 2)
    >>> op = conv_operator(spec, np.array([[[1.0, 2.0]]]))
    >>> op @ np.array([1.0, 0.0, 0.0, 1.0])
    array([1., 0., 2.])
    >>> op.rmatvec(np.array([1.0, 0.0, 0.0]))
    array([1., 2., 0., 0.])
    """
    return ConvOperator(spec, weight)
