"""The convolution as a matrix-free linear operator: C and Cᴴ without building C.

:func:`conv_operator` returns a :class:`scipy.sparse.linalg.LinearOperator`
whose ``matvec`` is the convolution (``C @ x``) and whose ``rmatvec`` is the
transposed convolution (``Cᴴ @ y``, which is ``Cᵀ @ y`` for real weights).
Use it where C would not fit in memory (the memory guard of
:func:`~transpose_matrix.conv_matrix` points here) or inside iterative
solvers and eigensolvers.

One design, three named methods. The forward is an *im2col* product: pad
the input, gather every kernel tap's window of it (one strided copy of the
input per tap, the columns of C's nonzeros) and multiply by the weight
reshaped to ``(out_channels/groups, in_channels/groups * taps)``, once per
group. The adjoint is computed in one of two forms:

* ``'im2col'`` takes the exact transpose: multiply ``y`` by the weight's
  adjoint, giving every tap's contribution, then *col2im*: add each tap's
  contribution into the padded input at its (strided) window.
* ``'polyphase'`` uses ``Cᵀ = D·P·Z`` (zero insertion, padding, a stride-1
  correlation with the flipped kernel) without multiplying the inserted
  zeros: input positions ``i`` with ``(i + padding_before) % stride = r``
  (one *phase* ``r`` per dim) receive only the taps with
  ``tap*dilation % stride = r``, a stride-1 correlation of the zero-padded
  ``y``. Each of the ``prod(stride)`` phases is therefore the forward's own
  gather and product, applied to ``y``.

``'taps'`` gathers nothing: it adds one product per tap over a strided
view, which pays when each group has a single input channel (depthwise),
where the im2col product degenerates to a dot product of length ``taps``;
its adjoint takes the polyphase form.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy.sparse.linalg import LinearOperator

from .errors import ConvSpecError, ConvSpecTypeError
from .matrix import check_weight
from .spec import ConvSpec

__all__ = ["METHODS", "ConvOperator", "conv_operator"]

#: The ``method=`` choices of :func:`conv_operator` besides ``'auto'``.
METHODS = ("im2col", "polyphase", "taps")
_BACKENDS = ("numpy", "torch")
_TORCH_HINT = 'backend="torch" needs torch: pip install "transpose_matrix[torch]"'

# Most entries of the gathered block in memory at once (32 MiB in float64):
# larger layers are gathered a band of output rows at a time.
_GATHER_ENTRIES = 1 << 22


def auto_method(spec: ConvSpec) -> str:
    """The method ``method='auto'`` picks: the rule the benchmark panel supports.

    ``'taps'`` when every group has one input channel (depthwise);
    ``'im2col'`` when ``out_channels > 2 * in_channels`` (the polyphase
    adjoint would gather ``y``, the wider side); ``'polyphase'`` otherwise.
    """
    if spec.in_channels == spec.groups:
        return "taps"
    if spec.out_channels > 2 * spec.in_channels:
        return "im2col"
    return "polyphase"


class _Plan(NamedTuple):
    """One correlation: ``out[g*m + o, *j] = sum matrix[g, o, (c, *t)] * src[g*cg + c, *(start +
    t*step + j*stride)]``, with ``matrix`` of shape (groups, m, cg * prod(taps))."""

    start: tuple[int, ...]
    taps: tuple[int, ...]
    step: tuple[int, ...]
    stride: tuple[int, ...]
    count: tuple[int, ...]
    matrix: np.ndarray


def _pad(a: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """``a`` of shape (C, *spatial, B) with (before, after) zeros per dim; negative amounts crop."""
    if all(pair == (0, 0) for pair in pairs):
        return a
    sizes = [n + b + e for n, (b, e) in zip(a.shape[1:-1], pairs)]
    out = np.zeros((a.shape[0], *sizes, a.shape[-1]), dtype=a.dtype)
    lengths = [min(n - max(-b, 0), size - max(b, 0)) for n, size, (b, _) in
               zip(a.shape[1:-1], sizes, pairs)]
    if min(lengths) > 0:
        out[(slice(None), *(slice(max(b, 0), max(b, 0) + k) for (b, _), k in
                            zip(pairs, lengths)))] = a[
            (slice(None), *(slice(max(-b, 0), max(-b, 0) + k) for (b, _), k in
                            zip(pairs, lengths)))]
    return out


def _windows(src: np.ndarray, plan: _Plan) -> np.ndarray:
    """Read-only view ``[c, *t, *j, b] = src[c, *(start + t*step + j*stride), b]``."""
    corner = src[(slice(None), *(slice(s, None) for s in plan.start))]
    st, d = corner.strides, len(plan.taps)
    return as_strided(
        corner,
        (src.shape[0], *plan.taps, *plan.count, src.shape[-1]),
        (st[0], *(st[1 + a] * plan.step[a] for a in range(d)),
         *(st[1 + a] * plan.stride[a] for a in range(d)), st[-1]),
        writeable=False,
    )


def _correlate(src: np.ndarray, plan: _Plan, method: str) -> np.ndarray:
    """Apply ``plan`` to the padded ``src``: an array of shape (groups*m, *count, B)."""
    groups, m, inner = plan.matrix.shape
    view = _windows(src, plan)
    taps, batch = math.prod(plan.taps), src.shape[-1]
    out = np.empty((groups, m, *plan.count, batch), dtype=src.dtype)
    if method == "taps":
        # One product per tap, added up: no gathered block.
        weight = plan.matrix.reshape(groups, m, inner // taps, taps)
        term = np.empty_like(out)
        for n, tap in enumerate(np.ndindex(*plan.taps)):
            window = view[(slice(None), *tap)].reshape(groups, -1, *plan.count, batch)
            if window.shape[1] == 1:  # a dot product of length 1: broadcast
                factor = weight[..., 0, n].reshape(groups, m, *[1] * (window.ndim - 2))
                np.multiply(window, factor, out=out if n == 0 else term)
            else:
                columns = window.reshape(groups, window.shape[1], -1)
                np.matmul(weight[..., n], columns, out=(out if n == 0 else term).reshape(
                    groups, m, -1))
            if n:
                out += term
        return out.reshape(groups * m, *plan.count, batch)
    # im2col: gather a band of output rows at a time, one product per band.
    per_row = inner * groups * math.prod(plan.count[1:]) * batch
    band = max(1, _GATHER_ENTRIES // max(per_row, 1))
    for lo in range(0, plan.count[0], band):
        hi = min(plan.count[0], lo + band)
        columns = np.ascontiguousarray(view[(slice(None),) * (1 + len(plan.taps)) + (
            slice(lo, hi),)]).reshape(groups, inner, -1)
        if hi - lo == plan.count[0]:
            np.matmul(plan.matrix, columns, out=out.reshape(groups, m, -1))
        else:
            out[:, :, lo:hi] = np.matmul(plan.matrix, columns).reshape(
                groups, m, hi - lo, *out.shape[3:])
    return out.reshape(groups * m, *plan.count, batch)


def _as_weight(spec: Any, weight: Any) -> np.ndarray:
    """The weight as a private read-only array (a torch tensor is detached and copied)."""
    if type(weight).__module__.startswith("torch") and hasattr(weight, "detach"):
        weight = weight.detach().cpu().numpy()
    array = np.array(check_weight(spec, weight), copy=True)
    array.flags.writeable = False
    return array


class _NumpyKernel:
    """The numpy computations of one operator: the forward plan and the adjoint's."""

    def __init__(self, spec: ConvSpec, weight: np.ndarray, method: str) -> None:
        self.spec, self.method = spec, method
        groups, out = spec.groups, spec.output_shape
        cg, mg, ndim = spec.in_channels // groups, spec.out_channels // groups, spec.ndim
        grouped = weight.reshape(groups, mg, cg, *spec.kernel_size)
        self.forward = _Plan((0,) * ndim, spec.kernel_size, spec.dilation, spec.stride, out,
                             grouped.reshape(groups, mg, -1))
        # col2im: the weight's adjoint, (groups, cg * taps, mg).
        self.spread = np.ascontiguousarray(np.conj(grouped.reshape(groups, mg, -1)).swapaxes(1, 2))
        self.lengths = [n + b + e for n, (b, e) in zip(spec.input_shape, spec.padding)]
        self.kept = [min(n, length - b) for n, length, (b, _) in
                     zip(spec.input_shape, self.lengths, spec.padding)]
        # Polyphase: y is padded by the largest tap shift before (and as much
        # as the last phase reads after); phase r of the input is a stride-1
        # correlation of it with the taps t*dilation % stride == r, reversed.
        self.lead = [(k - 1) * d // s for k, d, s in
                     zip(spec.kernel_size, spec.dilation, spec.stride)]
        trail = [0] * ndim
        self.phases: list[tuple[_Plan, tuple[slice, ...]]] = []
        for phase in np.ndindex(*spec.stride):
            axes = []
            for a, r in enumerate(phase):
                s, d, before = spec.stride[a], spec.dilation[a], spec.padding[a][0]
                first = (r - before) % s  # first input of this phase
                count = len(range(first, self.kept[a], s))
                taps = [t for t in range(spec.kernel_size[a]) if t * d % s == r]
                if not taps or not count:
                    break
                shifts = [t * d // s for t in taps]
                q = (first + before) // s
                trail[a] = max(trail[a], q + count - shifts[0] - out[a])
                axes.append((first, count, taps[::-1], shifts[1] - shifts[0] if len(taps) > 1
                             else 1, q + self.lead[a] - shifts[-1]))
            else:
                sub = grouped[(slice(None), slice(None), slice(None),
                               *np.ix_(*(taps for _, _, taps, _, _ in axes)))]
                matrix = np.conj(sub).swapaxes(1, 2).reshape(groups, cg, -1)
                plan = _Plan(tuple(a[4] for a in axes), tuple(len(a[2]) for a in axes),
                             tuple(a[3] for a in axes), (1,) * ndim,
                             tuple(a[1] for a in axes), np.ascontiguousarray(matrix))
                target = tuple(slice(f, f + (c - 1) * s + 1, s) for (f, c, *_), s in
                               zip(axes, spec.stride))
                self.phases.append((plan, target))
        self.trail = trail
        # Stride 1, nothing cropped: the one phase is the whole input.
        self.whole = len(self.phases) == 1 and self.phases[0][0].count == spec.input_shape
        self._cast: dict[np.dtype, tuple[_Plan, np.ndarray, list[_Plan]]] = {}

    def _in(self, dtype: np.dtype) -> tuple[_Plan, np.ndarray, list[_Plan]]:
        """The plans' matrices in the computation's dtype (cast once per dtype)."""
        if dtype not in self._cast:
            def cast(plan: _Plan) -> _Plan:
                return plan._replace(matrix=plan.matrix.astype(dtype, copy=False))
            self._cast[dtype] = (cast(self.forward), self.spread.astype(dtype, copy=False),
                                 [cast(plan) for plan, _ in self.phases])
        return self._cast[dtype]

    def matmat(self, x: np.ndarray) -> np.ndarray:
        forward = self._in(x.dtype)[0]
        method = "taps" if self.method == "taps" else "im2col"
        return _correlate(_pad(x, list(self.spec.padding)), forward, method)

    def rmatmat(self, y: np.ndarray) -> np.ndarray:
        spec = self.spec
        _, spread, plans = self._in(y.dtype)
        if self.method == "im2col":
            return self._col2im(y, spread)
        padded = _pad(y, list(zip(self.lead, self.trail)))
        if self.whole:
            return _correlate(padded, plans[0], self.method)
        x = np.zeros((spec.in_channels, *spec.input_shape, y.shape[-1]), dtype=y.dtype)
        for plan, (_, target) in zip(plans, self.phases):
            x[(slice(None), *target)] = _correlate(padded, plan, self.method)
        return x

    def _col2im(self, y: np.ndarray, spread: np.ndarray) -> np.ndarray:
        spec, batch = self.spec, y.shape[-1]
        groups, inner, mg = spread.shape
        out = spec.output_shape
        padded = np.zeros((spec.in_channels, *self.lengths, batch), dtype=y.dtype)
        per_row = inner * groups * math.prod(out[1:]) * batch
        band = max(1, _GATHER_ENTRIES // max(per_row, 1))
        for lo in range(0, out[0], band):
            hi = min(out[0], lo + band)
            rows = y[:, lo:hi].reshape(groups, mg, -1)
            columns = np.matmul(spread, rows).reshape(
                spec.in_channels, *spec.kernel_size, hi - lo, *out[1:], batch)
            for tap in np.ndindex(*spec.kernel_size):
                window = tuple(
                    slice(start, start + (n - 1) * s + 1, s) for start, n, s in zip(
                        [t * d + (lo * spec.stride[0] if a == 0 else 0)
                         for a, (t, d) in enumerate(zip(tap, spec.dilation))],
                        [hi - lo, *out[1:]], spec.stride))
                padded[(slice(None), *window)] += columns[(slice(None), *tap)]
        return _pad(padded, [(-b, -e) for b, e in spec.padding])


class ConvOperator(LinearOperator):
    """C of a convolution as a :class:`~scipy.sparse.linalg.LinearOperator`.

    Build it with :func:`conv_operator`. Shape ``spec.matrix_shape``; dtype
    of the weight. ``dims = (in_channels, *input_shape)`` and ``dimsd =
    (out_channels, *output_shape)`` are the shapes of one input and one
    output sample (PyLops' names). ``matvec``/``matmat`` compute ``C @ x``
    for one sample or a batch of samples as columns; ``rmatvec``/``rmatmat``
    compute ``Cᴴ @ y``. ``op.H`` and ``op.T`` are Cᴴ and Cᵀ as operators.
    """

    def __init__(
        self, spec: ConvSpec, weight: Any, method: str = "auto", *, backend: str = "numpy",
        device: Any = None,
    ) -> None:
        weight = _as_weight(spec, weight)
        if getattr(spec, "padding_mode", "zeros") != "zeros":
            raise ConvSpecError(
                f"padding_mode={spec.padding_mode!r}: conv_operator applies zero padding only; "
                "compose it with the padding's own operator"
            )
        if backend not in _BACKENDS:
            raise ConvSpecError(f"backend={backend!r} must be one of {', '.join(_BACKENDS)}")
        if method != "auto" and method not in METHODS:
            raise ConvSpecError(
                f"method={method!r} must be 'auto' or one of {', '.join(map(repr, METHODS))}"
            )
        super().__init__(dtype=weight.dtype, shape=spec.matrix_shape)
        self.spec, self.weight, self.backend = spec, weight, backend
        self.dims = (spec.in_channels, *spec.input_shape)
        self.dimsd = (spec.out_channels, *spec.output_shape)
        if backend == "torch":
            if method != "auto":
                raise ConvSpecError(
                    f"method={method!r} applies to backend='numpy'; backend='torch' runs "
                    "torch's own convolutions (method='auto')"
                )
            self.method, self.device = "auto", device
            self._kernel: Any = _TorchKernel(spec, weight, device)
        else:
            if device is not None:
                raise ConvSpecError(f"device={device!r} applies to backend='torch' only")
            self.method = auto_method(spec) if method == "auto" else method
            self.device = None
            self._kernel = _NumpyKernel(spec, weight, self.method)

    def _apply(self, X: Any, adjoint: bool, vector: bool, conjugate: bool = False) -> np.ndarray:
        """Check ``X``, then ``C @ X`` (or ``Cᴴ @ X``), conjugated around when asked."""
        rows, cols = self.shape
        n, m = (rows, cols) if adjoint else (cols, rows)
        dims = self.dimsd if adjoint else self.dims
        name = "y" if adjoint else "x"
        try:
            array = np.asarray(X)
        except (TypeError, ValueError) as error:
            raise ConvSpecTypeError(f"{name} could not be read as an array: {error}") from None
        if array.dtype.kind not in "biufc":
            raise ConvSpecTypeError(
                f"{name} dtype {array.dtype} must be numeric (bool, integer, float or complex)"
            )
        fits = array.shape in ((n,), (n, 1)) if vector else (
            array.ndim == 2 and array.shape[0] == n)
        if not fits:
            channels, *shape = dims
            expected = f"({n},)" if vector else f"({n}, k)"
            raise ConvSpecError(
                f"{name} of shape {array.shape} must have shape {expected}: length {n} = "
                f"{'out' if adjoint else 'in'}_channels * prod({'output' if adjoint else 'input'}"
                f"_shape) = {channels} * prod({tuple(shape)})"
            )
        batch = 1 if array.ndim == 1 else array.shape[1]
        dtype = np.result_type(self.dtype, array.dtype)
        if batch == 0:
            result = np.zeros((m, 0), dtype=dtype)
        else:
            columns = array.reshape(*dims, batch).astype(dtype, copy=False)
            conjugate = conjugate and dtype.kind == "c"
            if conjugate:
                columns = np.conj(columns)
            run = self._kernel.rmatmat if adjoint else self._kernel.matmat
            result = run(columns).reshape(m, batch)
            if conjugate:
                result = np.conj(result)
        return result.reshape(m) if array.ndim == 1 else result

    def matvec(self, x: Any) -> np.ndarray:
        return self._apply(x, adjoint=False, vector=True)

    def rmatvec(self, x: Any) -> np.ndarray:
        return self._apply(x, adjoint=True, vector=True)

    def matmat(self, X: Any) -> np.ndarray:
        return self._apply(X, adjoint=False, vector=False)

    def rmatmat(self, X: Any) -> np.ndarray:
        return self._apply(X, adjoint=True, vector=False)

    _matvec, _rmatvec, _matmat, _rmatmat = matvec, rmatvec, matmat, rmatmat

    def _adjoint(self) -> LinearOperator:
        return _Flipped(self, conjugate=False)

    def _transpose(self) -> LinearOperator:
        return _Flipped(self, conjugate=True)


class _Flipped(LinearOperator):
    """Cᴴ (or Cᵀ, which conjugates around Cᴴ) of a :class:`ConvOperator`, checked as it is."""

    def __init__(self, op: ConvOperator, conjugate: bool) -> None:
        super().__init__(dtype=op.dtype, shape=op.shape[::-1])
        self._op, self._conjugate = op, conjugate
        self.dims, self.dimsd = op.dimsd, op.dims

    def matvec(self, x: Any) -> np.ndarray:
        return self._op._apply(x, adjoint=True, vector=True, conjugate=self._conjugate)

    def rmatvec(self, x: Any) -> np.ndarray:
        return self._op._apply(x, adjoint=False, vector=True, conjugate=self._conjugate)

    def matmat(self, X: Any) -> np.ndarray:
        return self._op._apply(X, adjoint=True, vector=False, conjugate=self._conjugate)

    def rmatmat(self, X: Any) -> np.ndarray:
        return self._op._apply(X, adjoint=False, vector=False, conjugate=self._conjugate)

    _matvec, _rmatvec, _matmat, _rmatmat = matvec, rmatvec, matmat, rmatmat


class _TorchKernel:
    """``matmat``/``rmatmat`` through torch's ``convNd``/``conv_transposeNd``, numpy in and out."""

    def __init__(self, spec: ConvSpec, weight: np.ndarray, device: Any) -> None:
        try:
            import torch
        except ImportError:
            raise ImportError(_TORCH_HINT) from None
        if weight.dtype.kind not in "fc":
            raise ConvSpecTypeError(
                f"weight dtype {weight.dtype}: backend='torch' computes in float32, float64, "
                "complex64 or complex128"
            )
        self.torch, self.spec = torch, spec
        self.device = torch.device("cpu" if device is None else device)
        functional = torch.nn.functional
        self.conv = (functional.conv1d, functional.conv2d, functional.conv3d)[spec.ndim - 1]
        self.conv_t = (functional.conv_transpose1d, functional.conv_transpose2d,
                       functional.conv_transpose3d)[spec.ndim - 1]
        self.pad = functional.pad
        self.base = torch.from_numpy(np.array(weight)).to(self.device)
        self.weights: dict[tuple[Any, bool], Any] = {}
        # Each dim keeps inputs [0, kept) (a negative 'after' crops the rest)
        # at [first, first + kept) of its padded length. Crops are slices:
        # torch's F.pad cannot crop more than its input holds.
        lengths = [n + b + e for n, (b, e) in zip(spec.input_shape, spec.padding)]
        kept = [max(0, min(n, length - b)) for n, length, (b, _) in
                zip(spec.input_shape, lengths, spec.padding)]
        first = [min(b, length) for (b, _), length in zip(spec.padding, lengths)]
        self.kept = (Ellipsis, *(slice(0, k) for k in kept))
        self.placed = (Ellipsis, *(slice(f, f + k) for f, k in zip(first, kept)))
        # F.pad amounts, (before, after) from the last dim backwards.
        self.pad_in = [a for f, k, length in zip(first[::-1], kept[::-1], lengths[::-1])
                       for a in (f, length - f - k)]
        self.pad_out = [a for n, k in zip(spec.input_shape[::-1], kept[::-1]) for a in (0, n - k)]
        self.symmetric = spec.is_symmetric_padding
        # conv_transpose's output_padding: what the padded length has beyond
        # the last position a tap reaches (less than the stride).
        self.extra = [
            n + b + e - ((o - 1) * s + d * (k - 1) + 1) for n, (b, e), o, s, d, k in zip(
                spec.input_shape, spec.padding, spec.output_shape, spec.stride, spec.dilation,
                spec.kernel_size)
        ]

    def _weight(self, dtype: Any, adjoint: bool) -> Any:
        """The weight in ``dtype``, conjugated for the adjoint (cached)."""
        if (dtype, adjoint) not in self.weights:
            cast = self.base.to(dtype)
            self.weights[dtype, adjoint] = cast.conj().resolve_conj() if adjoint else cast
        return self.weights[dtype, adjoint]

    def _run(self, a: np.ndarray, adjoint: bool) -> np.ndarray:
        spec, torch = self.spec, self.torch
        # (C, *spatial, B) -> torch's (B, C, *spatial) and back.
        t = torch.from_numpy(np.ascontiguousarray(np.moveaxis(a, -1, 0))).to(self.device)
        weight = self._weight(t.dtype, adjoint)
        layer = dict(stride=spec.stride, dilation=spec.dilation, groups=spec.groups)
        padding = [b for b, _ in spec.padding] if self.symmetric else 0
        with torch.no_grad():
            if adjoint:
                out = self.conv_t(t, weight, padding=padding, output_padding=self.extra, **layer)
                if not self.symmetric:
                    out = self.pad(out[self.placed], self.pad_out)
            elif self.symmetric:
                out = self.conv(t, weight, padding=padding, **layer)
            else:
                out = self.conv(self.pad(t[self.kept], self.pad_in), weight, **layer)
        return np.moveaxis(out.cpu().numpy(), 0, -1)

    def matmat(self, x: np.ndarray) -> np.ndarray:
        return self._run(x, adjoint=False)

    def rmatmat(self, y: np.ndarray) -> np.ndarray:
        return self._run(y, adjoint=True)


def conv_operator(
    spec: ConvSpec, weight: Any, method: str = "auto", *, backend: str = "numpy",
    device: Any = None,
) -> ConvOperator:
    """C as a matrix-free operator: ``op @ x = conv(x)``, ``op.H @ y = conv_transpose(y)``.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry (zero padding; per-side pairs and crops).
    weight : array_like
        Shape ``(out_channels, in_channels // groups, *kernel_size)``; a
        dtype of :data:`~transpose_matrix.matrix.WEIGHT_DTYPES`, all finite.
        Copied (read-only), so later edits of the caller's array change
        nothing; a torch tensor is detached first.
    method : {'auto', 'im2col', 'polyphase', 'taps'}
        How the numpy backend computes (the module docstring has the maths):
        ``'im2col'`` gathers every tap's window and multiplies once, its
        adjoint multiplies and adds each tap back (col2im); ``'polyphase'``
        computes the adjoint as ``prod(stride)`` stride-1 correlations of
        ``y`` (``Cᵀ = D·P·Z`` without the zeros); ``'taps'`` adds one product
        per tap with no gathered block. ``'auto'`` picks by
        :func:`auto_method`: ``'taps'`` for depthwise layers (one input
        channel per group), ``'im2col'`` when ``out_channels > 2 *
        in_channels``, else ``'polyphase'``. All give the same C.
    backend : {'numpy', 'torch'}
        ``'torch'`` runs torch's ``convNd`` / ``conv_transposeNd`` (CPU, or a
        GPU through ``device``) behind the same numpy-in, numpy-out
        interface; torch is imported only then.
    device : str or torch.device, optional
        Where the torch backend computes (default CPU).

    Returns
    -------
    ConvOperator
        A :class:`scipy.sparse.linalg.LinearOperator` of shape
        ``spec.matrix_shape`` equal to :func:`~transpose_matrix.conv_matrix`
        (to rounding), without building it. ``matvec(x)`` with ``x`` of
        length ``in_channels * prod(input_shape)`` is the convolution of one
        sample flattened in C order; ``rmatvec(y)`` is ``Cᴴ y``, the
        transposed convolution (the input gradient); ``matmat``/``rmatmat``
        take a batch of samples as columns. ``op.H`` applies Cᴴ, ``op.T``
        Cᵀ; ``op.dims`` and ``op.dimsd`` are the input and output shapes
        ``(channels, *spatial)``.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        A bad weight (from :func:`~transpose_matrix.matrix.check_weight`), an
        unknown ``method`` or ``backend``; later, a vector of the wrong length
        or a non-numeric dtype (the message names the expected length).
    ImportError
        ``backend='torch'`` without torch installed (with the install hint).

    Notes
    -----
    The result's dtype is ``numpy.result_type(weight, x)``: float32 in
    gives float32 throughout and out. Memory is the padded input plus the
    gathered block, at most :data:`_GATHER_ENTRIES` entries at a time (a
    band of output rows), never C. The cost is the products
    ``(out/groups, in/groups * taps) @ (in/groups * taps, prod(output_shape))``
    per group, the same floating-point work as C's nonzeros; results are
    the convolution's to rounding, not bit-identical to ``C @ x``.

    Examples
    --------
    >>> import numpy as np
    >>> spec = ConvSpec((4,), 2)
    >>> op = conv_operator(spec, np.array([[[1.0, 2.0]]]))
    >>> op @ np.array([1.0, 0.0, 0.0, 1.0])
    array([1., 0., 2.])
    >>> op.rmatvec(np.array([1.0, 0.0, 0.0]))
    array([1., 2., 0., 0.])
    >>> op.dims, op.dimsd, op.method
    ((1, 4), (1, 3), 'taps')
    """
    return ConvOperator(spec, weight, method, backend=backend, device=device)
