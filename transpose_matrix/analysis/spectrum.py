r"""Singular values and norms of a convolution layer, and of its transposed layer.

The layer is the matrix C of :func:`~transpose_matrix.conv_matrix` (rows
``(out channel, *output)``, columns ``(in channel, *input)``). Its singular
values, ``min`` of C's two sides of them as :func:`numpy.linalg.svd` counts,
are also those of Cᵀ, the transposed convolution: every answer here holds
for a ``ConvTransposeNd`` layer too, described by
:meth:`~transpose_matrix.ConvSpec.from_transposed`.

Three ways to the spectrum, chosen by ``method=`` (``'auto'`` picks):

``'fft'`` (circular padding, exact)
    With ``padding_mode='circular'``, stride ``s`` dividing the input size
    ``n`` and ``n/s`` output positions per dim, C is block circulant. Split
    the input into its ``s`` phases ``x_r[q] = x[q s + r]``: tap ``t`` of
    output ``j`` reads ``x[(j s + t d - p) mod n]``, which is phase ``r =
    (t d - p) mod s`` at ``q = j + floor((t d - p)/s) mod n/s``, a plain
    shift. So C is a stride-1 circular convolution with ``s^D`` times the
    input channels (``D`` spatial dims) on the ``n/s`` grid, and the DFT
    block-diagonalises it (Sedghi, Gupta and Long, *The Singular Values of
    Convolutional Layers*, ICLR 2019): for each frequency ``f`` the ``out ×
    in·s^D`` matrix ``M(f) = Σ_t W_t e^{2πi f·q_t/(n/s)}``, and the singular
    values of C are the union over ``f`` of those of ``M(f)``. The padding
    offset ``p`` is a unit phase factor, which changes no singular value.
    When the output has ``m`` times ``n/s`` positions (wrapping around more
    than once repeats rows), every value is multiplied by ``sqrt(m)``.
``'dense'`` (any geometry, small)
    :func:`numpy.linalg.svd` of C, built one block of columns at a time
    from the matrix-free operator; refused above :data:`DENSE_LIMIT` entries.
``'iterative'`` (any geometry, the largest ``k``)
    ARPACK's Lanczos method (:func:`scipy.sparse.linalg.eigsh`) on the
    smaller Gram matrix, ``CᵀC`` or ``CCᵀ``, applied matrix-free through
    :func:`~transpose_matrix.conv_operator` (zero padding) or ``D·P`` (other
    padding modes: ``P`` the padding's 0/1 matrix, ``D`` the unpadded
    convolution). Each returned value is ``‖C v‖`` (or ``‖Cᵀ u‖``) for its
    Ritz vector; see :func:`singular_values` for the accuracy. Lanczos from
    one start vector sees one vector of each eigenspace, so for ``k > 1`` it
    runs again on the complement of what it found until no new value enters
    the top ``k``: repeated values come back as often as they occur. It also
    takes ``which='smallest'``, but the small end of a convolution's
    spectrum is crowded and Lanczos needs tens of thousands of products
    there even for a 128-column C: only on request.
``'shift-invert'`` (any geometry, the smallest ``k``)
    Lanczos on ``(CᵀC + δI)⁻¹``, whose largest eigenvalues are the smallest
    of ``CᵀC`` and well separated: a few dozen solves. Each solve is one
    pair of triangular solves with the sparse LU factors of the augmented
    matrix ``[[I, C], [Cᵀ, -δI]]`` (its second block row gives ``-(CᵀC +
    δI) x = b``), ``δ = 1e-14`` after scaling ``‖C‖`` below 1, which keeps
    it invertible when C is rank deficient. The LU fills in as the grid
    grows, so the Gram side is limited to :data:`SHIFT_INVERT_LIMIT`.

The norm alone has a fourth way, :func:`norm_bracket` (``operator_norm(...,
method='bracket')``): ``lower <= ‖C‖₂ <= upper``, both certified, in seconds
on large zero-padded layers where Lanczos to ``1e-10`` takes minutes. The
upper end is the exact FFT norm of a circular strided convolution of which C
is a submatrix; the lower end is ``‖C v‖/‖v‖`` after a few Lanczos steps
from that circulant's top singular vector.

With ``groups > 1`` C is block diagonal up to a permutation of rows and
columns, so its spectrum is the union of the groups' spectra: every method
works one group at a time.
"""

from __future__ import annotations

import math
import operator
import os
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.padding import copies_input, padding_source
from ..geometry.spec import ConvSpec
from ..matrices.conv import check_weight
from ..memory import check_memory

__all__ = [
    "BRACKET_STEPS",
    "BRACKET_TOL",
    "DEFAULT_TOL",
    "DENSE_LIMIT",
    "METHODS",
    "SHIFT_INVERT_LIMIT",
    "FloorWarning",
    "NormBracket",
    "NormComparison",
    "choose_method",
    "method_floor",
    "circulant_repeats",
    "norm_bracket",
    "compare_norms",
    "operator_norm",
    "read_counts",
    "reshaped_kernel_norm",
    "singular_values",
]

#: Methods of :func:`singular_values` (besides ``'auto'``).
METHODS = ("fft", "dense", "iterative", "shift-invert")
_WHICH = ("largest", "smallest", "all")

#: Default relative tolerance of the iterative method (see :func:`singular_values`).
DEFAULT_TOL = 1e-10

#: Entries of one group's C above which the dense SVD is refused (128 MiB in float64).
DENSE_LIMIT = 1 << 24

#: Gram side (``min(C.shape)`` of one group) above which shift-invert is refused:
#: its sparse LU held 1.2e8 entries (1.5 GB) at 16384 for a 3x3 layer.
SHIFT_INVERT_LIMIT = 1 << 14

# The shift that keeps the augmented matrix of shift-invert invertible,
# relative to the scaled ||C||^2 <= 1.
_SHIFT = 1e-14

# 'auto' takes the dense SVD for k values when the group's Gram side is at
# most this: an SVD of that size takes milliseconds, and ARPACK needs the
# Gram side well above k.
_DENSE_SIDE = 400

# Columns of C built per operator call in the dense method.
_DENSE_BLOCK = 256

# A dim whose kernel reaches at most 1/this of the grid's shifts gets a direct
# DFT of those shifts instead of an FFT of the mostly zero polyphase kernel.
_DIRECT_DFT = 8

# Frequencies per thread below which the FFT method's SVDs run in one thread.
_THREAD_BATCH = 64

# Seconds between two progress lines of a long Lanczos run.
_PROGRESS_SECONDS = 2.0


class FloorWarning(UserWarning):
    """A singular value at the method's floor: the true value may be anywhere below it.

    Raised (as a warning) by :func:`singular_values` when a smallest value
    computed by ``'shift-invert'`` or ``'iterative'`` is at or below
    :func:`method_floor`; ``floor`` holds that level.
    """

    def __init__(self, message: str, floor: float) -> None:
        super().__init__(message)
        self.floor = floor


# --------------------------------------------------------------------------- checks


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool):
        raise ConvSpecTypeError(f"{name}={value!r} must be an integer, not a bool")
    try:
        number = operator.index(value)
    except TypeError:
        raise ConvSpecTypeError(f"{name}={value!r} must be an integer") from None
    if number < minimum:
        raise ConvSpecError(f"{name}={number} must be >= {minimum}")
    return number


def _check_tol(tol: Any) -> float:
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating, np.integer)):
        raise ConvSpecTypeError(f"tol={tol!r} must be a number")
    value = float(tol)
    if not 0 < value < 1:
        raise ConvSpecError(f"tol={value!r} must be in (0, 1)")
    return value


def _choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ConvSpecError(f"{name}={value!r} must be one of {options}")
    return value


# --------------------------------------------------------------------------- geometry


def _groups(spec: ConvSpec, weight: np.ndarray) -> list[tuple[ConvSpec, np.ndarray]]:
    """One ``(spec, weight)`` per group, each with ``groups=1``."""
    if spec.groups == 1:
        return [(spec, weight)]
    out = spec.out_channels // spec.groups
    one = replace(
        spec,
        padding=spec.padding,
        in_channels=spec.in_channels // spec.groups,
        out_channels=out,
        groups=1,
    )
    return [(one, weight[g * out : (g + 1) * out]) for g in range(spec.groups)]


def circulant_repeats(spec: ConvSpec) -> tuple[int, ...] | None:
    """Per dim, how many times the output wraps the ``n/s`` grid; None if C is not circulant.

    C is block circulant (after the polyphase split) exactly when, in every
    dim, the input is wrapped (``padding_mode='circular'``, or a kernel
    reaching one position with no padding, which never leaves the input),
    the stride ``s`` divides the input size ``n``, and the output size is a
    multiple ``m`` of ``n/s``. Returns those ``m``; C's rows then repeat
    the circulant's ``prod(m)`` times.

    Examples
    --------
    >>> circulant_repeats(ConvSpec((8, 8), 3, padding=1, padding_mode="circular"))
    (1, 1)
    >>> circulant_repeats(ConvSpec((8, 8), 4, stride=2, padding=1, padding_mode="circular"))
    (1, 1)
    >>> circulant_repeats(ConvSpec((8, 8), 3, padding=1)) is None
    True
    """
    repeats = []
    for a in range(spec.ndim):
        n, s = spec.input_shape[a], spec.stride[a]
        before, after = spec.padding[a]
        reach = spec.dilation[a] * (spec.kernel_size[a] - 1)
        wrapped = spec.padding_mode == "circular" or (reach == 0 and before == after == 0)
        if not wrapped or n % s:
            return None
        grid = n // s
        out = spec.output_shape[a]
        if out % grid:
            return None
        repeats.append(out // grid)
    return tuple(repeats)


def _not_circulant_reason(spec: ConvSpec) -> str:
    if spec.padding_mode != "circular":
        return f"padding_mode={spec.padding_mode!r} is not 'circular'"
    for a in range(spec.ndim):
        n, s = spec.input_shape[a], spec.stride[a]
        if n % s:
            return f"dim {a}: stride {s} does not divide the input size {n}"
        if spec.output_shape[a] % (n // s):
            return (
                f"dim {a}: the output size {spec.output_shape[a]} is not a multiple of "
                f"input/stride = {n // s} (padding {spec.padding[a]} does not wrap the "
                "kernel exactly around)"
            )
    raise AssertionError("unreachable: the geometry is circulant")  # pragma: no cover


def read_counts(spec: ConvSpec) -> tuple[int, bool]:
    """``(μ, whole)``: most (output, tap) reads of one input entry; whether a window is whole.

    ``μ`` is the largest number of (output position, kernel tap) pairs that
    read one input entry, through the padding (so a border entry that
    ``reflect`` or ``replicate`` copies counts each copy's reads). ``whole``
    says whether some output position reads ``prod(kernel_size)`` distinct
    input entries (no padding zero, no entry twice). Both are products over
    the dims, because every dim is read independently.

    These give the two bounds of :class:`NormComparison`: ``‖C‖ <= sqrt(μ)
    max_g ‖W_g‖`` always, and ``‖C‖ >= max_g ‖W_g‖`` when ``whole``, with
    ``W_g`` group ``g``'s kernel reshaped to ``out/groups × (in/groups ·
    prod(kernel_size))``.

    Examples
    --------
    >>> read_counts(ConvSpec((8, 8), 3, padding=1))
    (9, True)
    >>> read_counts(ConvSpec((8,), 4, stride=2, padding=1))
    (2, True)
    >>> read_counts(ConvSpec((1,), 3, padding=1))
    (1, False)
    """
    most, whole = 1, True
    for a in range(spec.ndim):
        n, k, s, d = spec.input_shape[a], spec.kernel_size[a], spec.stride[a], spec.dilation[a]
        before = spec.padding[a][0]
        coord = (
            np.arange(spec.output_shape[a])[:, None] * s + np.arange(k)[None, :] * d - before
        )
        source = padding_source(coord, n, spec.padding_mode)
        counts = np.bincount(source[source >= 0], minlength=n)
        most *= int(counts.max())
        ordered = np.sort(source, axis=1)
        distinct = (ordered[:, 0] >= 0) & np.all(np.diff(ordered, axis=1) > 0, axis=1)
        whole = whole and bool(distinct.any())
    return most, whole


# --------------------------------------------------------------------------- operators


class _PaddedOperator(LinearOperator):
    """C = D·P for a non-zero ``padding_mode``: P copies the input into the padding."""

    def __init__(self, spec: ConvSpec, weight: np.ndarray, **backend: Any) -> None:
        from ..matrices.resampling import pad_matrix
        from ..operator import conv_operator

        super().__init__(dtype=weight.dtype, shape=spec.matrix_shape)  # type: ignore[call-arg]
        padded = tuple(n + b + a for n, (b, a) in zip(spec.input_shape, spec.padding))
        inner = ConvSpec(
            padded,
            spec.kernel_size,
            stride=spec.stride,
            dilation=spec.dilation,
            in_channels=spec.in_channels,
            out_channels=spec.out_channels,
            groups=spec.groups,
        )
        self._conv = conv_operator(inner, weight, **backend)
        self._pad = pad_matrix(spec.input_shape, spec.padding, spec.padding_mode)
        self._unpad = self._pad.T.tocsr()
        self._channels = spec.in_channels

    def _apply(self, matrix: Any, x: np.ndarray) -> np.ndarray:
        # (channels * grid, batch) -> (grid, channels * batch): one sparse product.
        batch = x.shape[1]
        grid = x.reshape(self._channels, -1, batch).transpose(1, 0, 2).reshape(matrix.shape[1], -1)
        moved = matrix @ grid
        return moved.reshape(-1, self._channels, batch).transpose(1, 0, 2).reshape(-1, batch)

    def _matmat(self, x: np.ndarray) -> np.ndarray:
        return self._conv.matmat(self._apply(self._pad, np.asarray(x)))

    def _rmatmat(self, y: np.ndarray) -> np.ndarray:
        return self._apply(self._unpad, self._conv.rmatmat(np.asarray(y)))

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        return self._matmat(np.reshape(x, (-1, 1))).reshape(-1)

    def _rmatvec(self, y: np.ndarray) -> np.ndarray:
        return self._rmatmat(np.reshape(y, (-1, 1))).reshape(-1)


def _layer_operator(spec: ConvSpec, weight: np.ndarray, **backend: Any) -> LinearOperator:
    """C of one group, matrix-free, for any padding mode (``backend``, ``device`` passed on)."""
    if not copies_input(spec.padding_mode):
        from ..operator import conv_operator

        return conv_operator(spec, weight, **backend)
    return _PaddedOperator(spec, weight, **backend)


class _Gram(LinearOperator):
    """``CᵀC / scale²`` (or ``CCᵀ / scale²`` when C is wide): the smaller Gram matrix."""

    def __init__(
        self, op: LinearOperator, scale: float, progress: Callable[[str], None] | None = None
    ) -> None:
        rows, cols = op.shape
        self.wide = rows < cols
        side = rows if self.wide else cols
        super().__init__(dtype=np.result_type(op.dtype, np.float64), shape=(side, side))  # type: ignore[call-arg]
        self._op, self._scale2 = op, scale * scale
        self._progress, self._products = progress, 0
        self._start = self._said = time.perf_counter()

    def _matmat(self, x: np.ndarray) -> np.ndarray:
        if self.wide:
            out = self._op.matmat(self._op.rmatmat(x)) / self._scale2
        else:
            out = self._op.rmatmat(self._op.matmat(x)) / self._scale2
        self._products += x.shape[1]
        now = time.perf_counter()
        if self._progress is not None and now - self._said >= _PROGRESS_SECONDS:
            self._said = now
            self._progress(
                f"{self._products} products with the Gram matrix, {now - self._start:.0f} s"
            )
        return out

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        return self._matmat(np.reshape(x, (-1, 1))).reshape(-1)

    def norms(self, vectors: np.ndarray) -> np.ndarray:
        """``‖C v‖`` (or ``‖Cᵀ u‖``) for each column: the singular values of Ritz vectors."""
        images = self._op.rmatmat(vectors) if self.wide else self._op.matmat(vectors)
        return np.linalg.norm(images, axis=0)


# --------------------------------------------------------------------------- methods


def _svd_values(matrices: np.ndarray) -> np.ndarray:
    """Singular values of a stack of matrices, split over threads when the stack is long."""
    workers = min(os.cpu_count() or 1, len(matrices) // _THREAD_BATCH)
    if workers <= 1:
        return np.linalg.svd(matrices, compute_uv=False)
    with ThreadPoolExecutor(workers) as pool:
        parts = pool.map(
            lambda part: np.linalg.svd(part, compute_uv=False),
            np.array_split(matrices, workers),
        )
        return np.concatenate(list(parts))


def _fft_values(spec: ConvSpec, weight: np.ndarray, repeats: tuple[int, ...]) -> np.ndarray:
    """Every singular value of one group's circulant C (unsorted, without padding zeros)."""
    spectrum, counts, _ = _polyphase_spectrum(spec, weight)
    values = _svd_values(spectrum.reshape(-1, *spectrum.shape[spec.ndim :]))
    if counts is not None:
        values = np.repeat(values, counts, axis=0)
    return values.reshape(-1) * math.sqrt(math.prod(repeats))


def _dense_matrix(op: LinearOperator) -> np.ndarray:
    rows, cols = op.shape
    dense = np.empty((rows, cols), dtype=np.result_type(op.dtype, np.float64))
    for lo in range(0, cols, _DENSE_BLOCK):
        hi = min(cols, lo + _DENSE_BLOCK)
        unit = np.zeros((cols, hi - lo))
        unit[np.arange(lo, hi), np.arange(hi - lo)] = 1.0
        dense[:, lo:hi] = op.matmat(unit)
    return dense


def _dense_refusal(rows: int, cols: int) -> ConvSpecError:
    return ConvSpecError(
        f"the dense SVD needs one group's C of {rows} x {cols} = {rows * cols} entries, above "
        f"DENSE_LIMIT = {DENSE_LIMIT}; ask for the largest or smallest k values (k=...), "
        "which the other methods compute"
    )


def _dense_values(op: LinearOperator) -> np.ndarray:
    if op.shape[0] * op.shape[1] > DENSE_LIMIT:
        raise _dense_refusal(*op.shape)
    return np.linalg.svd(_dense_matrix(op), compute_uv=False)


class _Deflated(LinearOperator):
    """``P A P`` with ``P = I - V Vᴴ``: ``A`` on the complement of the found vectors."""

    def __init__(self, matrix: LinearOperator, vectors: np.ndarray) -> None:
        super().__init__(dtype=matrix.dtype, shape=matrix.shape)  # type: ignore[call-arg]
        self._matrix, self._vectors = matrix, vectors

    def project(self, x: np.ndarray) -> np.ndarray:
        return x - self._vectors @ (self._vectors.conj().T @ x)

    def _matmat(self, x: np.ndarray) -> np.ndarray:
        return self.project(self._matrix.matmat(self.project(x)))

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        return self._matmat(np.reshape(x, (-1, 1))).reshape(-1)


def _top_vectors(
    matrix: LinearOperator, k: int, tol: float, seed: int, maxiter: int | None, method: str,
    which: str,
) -> np.ndarray:
    """Eigenvectors of the ``k`` largest eigenvalues of a Hermitian PSD ``matrix``, repeats too.

    Lanczos from one start vector sees one vector of each eigenspace, so it
    returns an eigenvalue of multiplicity 2 once (a real kernel's circular
    spectrum is made of such pairs, ``M(-f)`` being the conjugate of
    ``M(f)``). So for ``k > 1`` it runs again on the complement of what it
    found, from a new random start, until no new value enters the top ``k``.
    """
    rng = np.random.default_rng(seed)
    side = matrix.shape[0]

    def run(operator: LinearOperator, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        try:
            return eigsh(operator, k=k, which="LA", tol=tol, v0=start, maxiter=maxiter)
        except ArpackNoConvergence as error:
            limit = "ARPACK's default maxiter" if maxiter is None else f"maxiter={maxiter}"
            raise ConvSpecError(
                f"method={method!r} found {len(error.eigenvalues)} of the {which} k={k} "
                f"singular values within {limit} at tol={tol:g}; raise maxiter or tol, or "
                "use method='dense' on a small enough layer"
            ) from None

    values, vectors = run(matrix, rng.standard_normal(side))
    values, vectors = values.real, vectors
    while k > 1 and vectors.shape[1] + k < side:
        deflated = _Deflated(matrix, vectors)
        more, extra = run(deflated, deflated.project(rng.standard_normal(side)))
        kth = np.sort(values)[-k]
        if more.real.max() <= kth + tol * abs(kth):
            break
        values = np.concatenate([values, more.real])
        vectors = np.concatenate([vectors, extra], axis=1)
    return vectors[:, np.argsort(values)[::-1][:k]]


def _iterative_values(
    op: LinearOperator, k: int, which: str, tol: float, scale: float, seed: int,
    maxiter: int | None, progress: Callable[[str], None] | None = None,
) -> np.ndarray:
    gram = _Gram(op, scale, progress)
    # The smallest eigenvalues of G are the largest of I - G (G <= I, scaled).
    matrix = gram if which == "largest" else _Complement(gram)
    return gram.norms(_top_vectors(matrix, k, tol, seed, maxiter, "iterative", which))


class _Complement(LinearOperator):
    """``I - G`` for a Gram matrix ``G`` scaled to ``G <= I``."""

    def __init__(self, gram: LinearOperator) -> None:
        super().__init__(dtype=gram.dtype, shape=gram.shape)  # type: ignore[call-arg]
        self._gram = gram

    def _matmat(self, x: np.ndarray) -> np.ndarray:
        return x - self._gram.matmat(x)

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        return self._matmat(np.reshape(x, (-1, 1))).reshape(-1)


def _shift_invert_values(
    spec: ConvSpec, weight: np.ndarray, k: int, tol: float, scale: float, seed: int,
    maxiter: int | None,
) -> np.ndarray:
    import scipy.sparse
    from scipy.sparse.linalg import splu

    from ..matrices.conv import conv_matrix

    matrix = conv_matrix(spec, weight).astype(np.result_type(weight.dtype, np.float64))
    matrix = (matrix / scale).tocsc()
    if matrix.shape[0] < matrix.shape[1]:
        matrix = matrix.conj().T.tocsc()  # C and Cᴴ share their min(C.shape) values
    rows, cols = matrix.shape
    system = scipy.sparse.block_array(
        [
            [scipy.sparse.eye_array(rows, format="csc"), matrix],
            [matrix.conj().T, -_SHIFT * scipy.sparse.eye_array(cols, format="csc")],
        ],
        format="csc",
    )
    factors = splu(system)

    def solve(b: np.ndarray) -> np.ndarray:
        stacked = np.zeros((rows + cols, *b.shape[1:]), dtype=np.result_type(b, matrix.dtype))
        stacked[rows:] = b
        return -factors.solve(stacked)[rows:]

    inverse = LinearOperator(
        (cols, cols), matvec=solve, matmat=solve, rmatvec=solve, dtype=matrix.dtype
    )
    vectors = _top_vectors(inverse, k, tol, seed, maxiter, "shift-invert", "smallest")
    return np.linalg.norm(matrix @ vectors, axis=0) * scale


# --------------------------------------------------------------------------- public API


def choose_method(spec: ConvSpec, which: str = "largest", k: int = 1, method: str = "auto") -> str:
    """The method :func:`singular_values` runs for these arguments (what ``'auto'`` picks).

    ``'fft'`` when C is circulant (:func:`circulant_repeats`); for
    ``which='all'`` otherwise ``'dense'``; for the largest ``k``, ``'dense'``
    when a group's Gram side is at most 400 (or ``2k``), else
    ``'iterative'``; for the smallest ``k``, ``'dense'`` up to
    :data:`DENSE_LIMIT` entries per group, else ``'shift-invert'`` up to
    :data:`SHIFT_INVERT_LIMIT` columns.

    Raises
    ------
    ConvSpecError
        The method cannot compute ``which`` for this layer, or no method
        can within the limits; the message names the limit and the way out.

    Examples
    --------
    >>> choose_method(ConvSpec((32, 32), 3, padding=1, padding_mode="circular"), "all")
    'fft'
    >>> choose_method(ConvSpec((56, 56), 3, padding=1, in_channels=64, out_channels=64))
    'iterative'
    """
    which = _choice("which", which, _WHICH)
    method = _choice("method", method, ("auto", *METHODS))
    if method == "fft":
        if circulant_repeats(spec) is None:
            raise ConvSpecError(
                f"method='fft' needs a circulant C: {_not_circulant_reason(spec)}; use "
                "method='auto', 'dense', 'iterative' or 'shift-invert'"
            )
        return method
    if method == "iterative" and which == "all":
        raise ConvSpecError(
            "method='iterative' computes the largest or smallest k values, not which='all'; "
            "use method='dense' (small layers) or 'fft' (circular padding)"
        )
    if method == "shift-invert" and which != "smallest":
        raise ConvSpecError(
            f"method='shift-invert' computes the smallest k values, not which={which!r}; "
            "use method='iterative' for the largest"
        )
    rows, cols = spec.matrix_shape
    rows, cols = rows // spec.groups, cols // spec.groups
    side, small = min(rows, cols), rows * cols <= DENSE_LIMIT
    if method == "dense" or (method == "auto" and which == "all"):
        if method == "auto" and circulant_repeats(spec) is not None:
            return "fft"
        if not small:
            raise _dense_refusal(rows, cols)
        return "dense"
    if method != "auto":
        return method
    if circulant_repeats(spec) is not None:
        return "fft"
    if which == "largest":
        return "dense" if small and (side <= _DENSE_SIDE or 2 * k >= side) else "iterative"
    if small:
        return "dense"
    if side <= SHIFT_INVERT_LIMIT:
        return "shift-invert"
    raise ConvSpecError(
        f"which='smallest' on a group's C of {rows} x {cols}: above DENSE_LIMIT = "
        f"{DENSE_LIMIT} entries for the dense SVD and above SHIFT_INVERT_LIMIT = "
        f"{SHIFT_INVERT_LIMIT} columns for shift-invert; method='iterative' tries Lanczos "
        "(slow there, set maxiter), or use circular padding for the exact FFT spectrum"
    )


def singular_values(
    spec: ConvSpec,
    weight: Any,
    k: int | None = None,
    which: str = "largest",
    *,
    tol: float = DEFAULT_TOL,
    method: str = "auto",
    seed: int = 0,
    maxiter: int | None = None,
    backend: str = "numpy",
    device: Any = None,
    progress: Callable[[str], None] | None = None,
) -> np.ndarray:
    """Singular values of C (and of Cᵀ): largest first, except ``which='smallest'``, smallest first.

    Parameters
    ----------
    spec : ConvSpec
        The convolution; any ``padding_mode``, stride, dilation and groups.
        For a transposed layer, the spec from
        :meth:`~transpose_matrix.ConvSpec.from_transposed`: Cᵀ has the same
        singular values as C.
    weight : array_like
        Shape ``(out_channels, in_channels // groups, *kernel_size)``.
    k : int, optional
        How many values with ``which='largest'`` or ``'smallest'`` (default
        1); must be None with ``which='all'``.
    which : {'largest', 'smallest', 'all'}
        The ``k`` largest, the ``k`` smallest, or all ``min(C.shape)`` values
        (zeros included, as :func:`numpy.linalg.svd` counts them).
    tol : float
        Relative tolerance of the iterative method (ignored by the others,
        which are exact to rounding).
    method : {'auto', 'fft', 'dense', 'iterative'}
        See the module docstring. ``'auto'``: ``'fft'`` when C is circulant
        (:func:`circulant_repeats`), else ``'dense'`` for ``which='all'``
        and for small groups, else ``'iterative'``.
    seed : int
        Seed of the iterative method's random start vector.
    maxiter : int, optional
        ARPACK's iteration limit (default ``10 ×`` the Gram side).
    backend, device
        Where the matrix-free methods (``'iterative'``, ``'dense'``) apply C:
        :func:`~transpose_matrix.conv_operator`'s ``backend='numpy'`` or
        ``'torch'`` (CPU, or a GPU ``device``), so a large layer's spectrum
        runs where its model runs. torch is imported only for ``'torch'``.
    progress : callable, optional
        Called with a one-line text every few seconds of a Lanczos run (how
        many products with the Gram matrix so far, how long), e.g. to print
        on stderr.

    Returns
    -------
    numpy.ndarray
        float64 values: decreasing, like :func:`numpy.linalg.svd`, for
        ``which='largest'`` and ``'all'``; increasing for ``'smallest'``
        (the smallest first: ``values[0]`` is ``σ_min``).

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        A bad spec, weight or argument; ``method='fft'`` on a geometry that
        is not circulant (the message says why); ``method='dense'`` or
        ``which='all'`` on a non-circulant layer with more than
        :data:`DENSE_LIMIT` entries per group; no convergence within
        ``maxiter``.

    Warns
    -----
    FloorWarning
        A smallest value from ``'shift-invert'`` or ``'iterative'`` is at
        or below :func:`method_floor`: those methods resolve values only
        down to it, so the true value may be anywhere in ``[0, floor]``
        (``method='dense'`` gives it to rounding, within its limit).

    Notes
    -----
    Accuracy. Both Lanczos methods work on a Hermitian matrix ``A`` scaled
    so that ``‖A‖ <= 1`` (the Gram matrix ``G`` divided by the square of
    the bound ``sqrt(μ) max_g ‖W_g‖`` of :func:`read_counts`), and ARPACK
    stops when each Ritz pair ``(θ, v)`` has a residual ``‖A v - θ v‖ <=
    tol · |θ|``; an eigenvalue of ``A`` then lies within that residual of
    ``θ``. Each returned value is ``‖C v‖`` for the Ritz vector ``v``.

    * ``'iterative'``, largest: ``A = G``, so ``σ²`` is within relative
      ``tol`` of an eigenvalue of ``CᵀC`` and ``σ`` within about ``tol/2``.
    * ``'shift-invert'``: ``A = (G + δI)⁻¹``, so ``1/(σ² + δ)`` is within
      relative ``tol``: ``σ²`` within about relative ``tol`` too, for
      ``σ²`` above ``δ = 1e-14`` of the bound squared (smaller values,
      zeros included, are resolved to that absolute level).
    * ``'iterative'``, smallest: ``A = I - G``, so ``σ²`` is within ``tol``
      of the bound squared, an absolute accuracy; and it converges slowly.

    Lanczos from a random start finds the extreme eigenvalues; proving that
    none was missed would need a gap, which no method has in general.
    Repeated values are found by running again on the complement of the
    vectors found (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> spec = ConvSpec((8,), 3, padding=1, padding_mode="circular")
    >>> w = np.array([[[1.0, 2.0, 1.0]]])
    >>> singular_values(spec, w, k=2)  # |1 + 2 e^{iθ} + e^{2iθ}| = 2 + 2 cos θ
    array([4.        , 3.41421356])
    >>> round(operator_norm(ConvSpec((8,), 3, padding=1), w), 12)  # zeros: 2 + 2 cos(π/9)
    3.879385241572
    """
    weight = check_weight(spec, weight)
    which = _choice("which", which, _WHICH)
    tol = _check_tol(tol)
    seed = _check_int("seed", seed, 0)
    if maxiter is not None:
        maxiter = _check_int("maxiter", maxiter, 1)
    count = min(spec.matrix_shape)
    if which == "all":
        if k is not None:
            raise ConvSpecError(f"k={k!r} must be None with which='all' (all values)")
        k = count
    else:
        k = 1 if k is None else _check_int("k", k, 1)
        if k > count:
            raise ConvSpecError(f"k={k} must be <= min(C.shape) = {count}")
    method = choose_method(spec, which, k, method)
    where = {"backend": backend, "device": device}
    groups = _groups(spec, weight)
    parts = []
    for one, part in groups:
        side = min(one.matrix_shape)
        wanted = min(k, side)
        repeats = circulant_repeats(one) if method == "fft" else None
        if repeats is not None:
            values = _fft_values(one, part, repeats)
        elif method == "dense" or wanted >= side - 1:
            # ARPACK needs k < side - 1: a group this small is solved densely.
            values = _dense_values(_layer_operator(one, part, **where))
        else:
            # Scaled by an upper bound of ||C||, the Gram matrix's eigenvalues
            # lie in [0, 1], where ARPACK's tolerance is meant.
            upper = math.sqrt(read_counts(one)[0]) * _reshaped_norm(part, 0) or 1.0
            if method == "iterative":
                values = _iterative_values(
                    _layer_operator(one, part, **where), wanted, which, tol, upper, seed,
                    maxiter, progress,
                )
            else:
                values = _shift_invert_values(one, part, wanted, tol, upper, seed, maxiter)
            if which == "smallest":
                floor = _floor(method, tol, upper)
                if np.min(values) <= floor:
                    warnings.warn(FloorWarning(
                        f"the smallest singular value {np.min(values):.3g} is at or below "
                        f"the floor {floor:.3g} of method={method!r}, which resolves values "
                        f"only down to it: the true value lies in [0, {floor:.3g}]; "
                        "method='dense' computes it to rounding (small layers)", floor,
                    ), stacklevel=2)
        # A whole spectrum has min(rows, cols) values: what the FFT does not
        # return (columns no circulant block reaches, wrapped rows) is zero.
        if len(values) > wanted or method in ("fft", "dense"):
            values = np.concatenate([values, np.zeros(max(0, side - len(values)))])
        parts.append(values)
    # Fewer values per group than C has: the rest are zero (block diagonal).
    merged = np.concatenate(parts)
    missing = count - sum(min(one.matrix_shape) for one, _ in groups)
    merged = np.concatenate([merged, np.zeros(max(0, missing))])
    if which == "smallest":
        return np.ascontiguousarray(np.sort(merged)[:k])
    merged = np.sort(merged)[::-1]
    return np.ascontiguousarray(merged[:k])


def _floor(method: str, tol: float, upper: float) -> float:
    if method == "shift-invert":
        return math.sqrt(_SHIFT) * upper
    if method == "iterative":
        return math.sqrt(tol) * upper
    return 0.0


def method_floor(
    spec: ConvSpec, weight: Any, method: str = "shift-invert", *, tol: float = DEFAULT_TOL
) -> float:
    """The level below which ``method`` cannot resolve a smallest singular value.

    ``sqrt(δ) · B`` for ``'shift-invert'`` (``δ = 1e-14``) and ``sqrt(tol) ·
    B`` for ``'iterative'``, with ``B = sqrt(μ) · max_g ‖W_g‖`` the upper
    bound of ``‖C‖`` that scales the Gram matrix (see :func:`singular_values`,
    Notes); 0 for the exact methods ``'fft'`` and ``'dense'``. A computed
    smallest value at or below it only says ``σ_min <= floor``.

    Examples
    --------
    >>> import numpy as np
    >>> spec = ConvSpec((8,), 3, padding=1)
    >>> float(method_floor(spec, np.array([[[0.0, 2.0, 0.0]]])))  # B = sqrt(3) * 2
    3.4641016151377545e-07
    >>> method_floor(spec, np.ones((1, 1, 3)), "dense")
    0.0
    """
    weight = check_weight(spec, weight)
    method = _choice("method", method, METHODS)
    tol = _check_tol(tol)
    upper = max(
        math.sqrt(read_counts(one)[0]) * _reshaped_norm(part, 0)
        for one, part in _groups(spec, weight)
    ) or 1.0
    return _floor(method, tol, upper)


def operator_norm(
    spec: ConvSpec, weight: Any, *, tol: float | None = None, method: str = "auto",
    seed: int = 0, backend: str = "numpy", device: Any = None,
) -> float:
    """``‖C‖₂ = ‖Cᵀ‖₂``, the largest singular value: the layer's Lipschitz constant.

    The same computation as ``singular_values(spec, weight, k=1)[0]``; see
    :func:`singular_values` for the methods and their accuracy. With
    ``method='bracket'`` it is :func:`norm_bracket` instead: a
    :class:`NormBracket`, a float equal to a certified upper bound that
    also carries a certified lower bound, in seconds on large zero-padded
    layers where Lanczos to ``tol=1e-10`` takes minutes.

    Parameters
    ----------
    spec : ConvSpec
        The convolution (for a transposed layer, its forward convolution).
    weight : array_like
        Shape ``(out_channels, in_channels // groups, *kernel_size)``.
    tol : float, optional
        Relative tolerance of the iterative method, in ``(0, 1)`` (default
        :data:`DEFAULT_TOL`); with ``method='bracket'`` the relative gap of
        the bracket (default :data:`BRACKET_TOL`).
    method : {'auto', 'fft', 'dense', 'iterative', 'bracket'}
        As in :func:`singular_values`, or ``'bracket'`` (:func:`norm_bracket`).
    seed : int
        Seed of the iterative method's random start vector.
    backend, device
        Where the matrix-free methods apply C, as in :func:`singular_values`.

    Returns
    -------
    float
        The largest singular value of C; with ``method='bracket'`` a
        :class:`NormBracket` (its upper end, with ``lower``/``upper``/``gap``).

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        As in :func:`singular_values`: a bad spec, weight, ``tol``, ``seed``
        or ``method``, a method that does not apply to the layer, or no
        convergence.
    MissingDependencyError
        ``backend='torch'`` without torch installed.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([[[1.0, 2.0, 1.0]]])
    >>> round(operator_norm(ConvSpec((8,), 3, padding=1), w, method="dense"), 12)
    3.879385241572
    >>> spec = ConvSpec((8,), 2, stride=2)  # kernel = stride: disjoint windows
    >>> float(operator_norm(spec, np.array([[[3.0, 4.0]]])))
    5.0
    >>> import math
    >>> b = operator_norm(ConvSpec((64,), 3, padding=1), w, method="bracket")
    >>> b.lower <= 2 + 2 * math.cos(math.pi / 65) <= b.upper, b.gap <= 1e-3
    (True, True)
    """
    if method == "bracket":
        return norm_bracket(
            spec, weight, tol=BRACKET_TOL if tol is None else tol, backend=backend,
            device=device,
        )
    tol = DEFAULT_TOL if tol is None else tol
    values = singular_values(
        spec, weight, 1, "largest", tol=tol, method=method, seed=seed, backend=backend,
        device=device,
    )
    return float(values[0])


def _reshaped_norm(weight: np.ndarray, dim: int) -> float:
    matrix = np.moveaxis(weight, dim, 0).reshape(weight.shape[dim], -1)
    return float(np.linalg.svd(matrix, compute_uv=False)[0])


def reshaped_kernel_norm(weight: Any, dim: int = 0) -> float:
    """``‖W‖₂`` of the weight reshaped to ``shape[dim] × (everything else)``: the usual shortcut.

    Spectral normalisation (``torch.nn.utils.spectral_norm``) divides by this
    number, with ``dim=0`` for ``Conv`` layers (an ``out × in/groups ·
    prod(k)`` matrix) and ``dim=1`` for ``ConvTranspose`` layers. It is not
    the layer's norm :func:`operator_norm`; :func:`compare_norms` sets them
    side by side with the bounds that hold between them.

    Parameters
    ----------
    weight : array_like
        Any real or complex array with at least 2 dims, all finite.
    dim : int
        The axis that becomes the rows.

    Returns
    -------
    float
        The largest singular value of the reshaped matrix.

    Raises
    ------
    ConvSpecTypeError
        ``weight`` is not a numeric array, or ``dim`` is not an integer.
    ConvSpecError
        ``weight`` has fewer than 2 dims or a NaN or infinite entry, or
        ``dim`` is not an axis of it.

    Examples
    --------
    >>> import numpy as np
    >>> reshaped_kernel_norm(np.array([[[3.0, 0.0]], [[0.0, 4.0]]]))
    4.0
    >>> reshaped_kernel_norm(np.array([[[3.0, 0.0]], [[0.0, 4.0]]]), dim=1)  # [[3, 0, 0, 4]]
    5.0
    """
    try:
        array = np.asarray(weight)
    except (TypeError, ValueError) as error:
        raise ConvSpecTypeError(f"weight could not be read as an array: {error}") from None
    if array.dtype.kind not in "iufc":
        raise ConvSpecTypeError(f"weight dtype {array.dtype} must be numeric")
    if array.ndim < 2:
        raise ConvSpecError(f"weight of shape {array.shape} must have at least 2 dims")
    if not np.all(np.isfinite(array)):
        raise ConvSpecError("weight must be finite (it has NaN or infinite entries)")
    dim = _check_int("dim", dim, -array.ndim)
    if dim >= array.ndim:
        raise ConvSpecError(f"dim={dim} must be < weight.ndim = {array.ndim}")
    return _reshaped_norm(array, dim)


@dataclass(frozen=True)
class NormComparison:
    r"""The layer's norm beside the shortcuts people take for it, and what bounds what.

    Built by :func:`compare_norms`; each field is a parameter of the
    constructor and an attribute of the result.

    Parameters
    ----------
    norm : float
        ``‖C‖₂``, exact (:func:`operator_norm`).
    reshaped : float
        :func:`reshaped_kernel_norm` of the whole weight (``dim=0``), what
        spectral normalisation uses; with ``groups > 1`` it stacks the groups'
        kernels and can exceed ``norm`` (e.g. depthwise layers).
    reshaped_groups : float
        ``max_g ‖W_g‖``, each group's kernel reshaped on its own.
    reads : int
        ``μ`` of :func:`read_counts`.
    whole_window : bool
        Some output position reads ``prod(kernel_size)`` distinct inputs.
    upper : float
        ``sqrt(μ) · reshaped_groups``, an upper bound of ``norm`` always.
    circular : float or None
        The FFT method's norm for this layer with circular padding of the
        same total amount ``d(k-1)`` (split as torch's ``'same'``): what the
        circular shortcut answers. None when that layer is not circulant.
    circular_padded : float
        The stride-1 circular norm on the padded size ``n + before + after``,
        times ``sqrt`` of the most copies one input has in the padding: an
        upper bound of ``norm`` always.

    Notes
    -----
    Why the bounds hold (``W_g`` is group ``g``'s ``out/groups × in/groups ·
    K`` reshaped kernel, ``K = prod(kernel_size)``):

    * ``Cx`` is ``W_g U(x)`` per group, with ``U(x)`` the im2col block whose
      columns are the windows; ``‖U(x)‖_F² = Σ_i c_i x_i² <= μ ‖x‖²`` with
      ``c_i`` the reads of input ``i``. So ``‖C‖ <= sqrt(μ) max_g ‖W_g‖``.
    * When an output position reads ``K`` distinct inputs, C's rows for that
      position, restricted to those columns, are ``W_g`` (columns permuted)
      and zero elsewhere: a submatrix, so ``‖C‖ >= max_g ‖W_g‖``.
    * Zero padding: C is the circular convolution of the zero-padded input
      (size ``n + before + after``, stride 1) with the rows of the strided
      positions kept, ``C = R·C_circ·E``, ``E`` an isometry: ``‖C‖ <=
      ‖C_circ‖``. Other modes copy inputs into the padding, ``C = D·P`` with
      ``‖P‖ = sqrt(most copies)``.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([[[1.0, 2.0, 1.0]]])
    >>> c = compare_norms(ConvSpec((8,), 3, padding=1), w)
    >>> round(c.norm, 6), round(c.reshaped, 6), c.reads, c.circular  # 2 + 2cos(π/9), √6
    (3.879385, 2.44949, 3, 4.0)
    >>> c.lower == c.reshaped_groups, round(c.upper, 6)  # √3 · √6
    (True, 4.242641)
    """

    norm: float
    reshaped: float
    reshaped_groups: float
    reads: int
    whole_window: bool
    upper: float
    circular: float | None
    circular_padded: float

    @property
    def lower(self) -> float | None:
        """``reshaped_groups`` when it is a proven lower bound of ``norm``, else None."""
        return self.reshaped_groups if self.whole_window else None


def _circular_counterpart(spec: ConvSpec) -> ConvSpec | None:
    pads = []
    for a in range(spec.ndim):
        total = spec.dilation[a] * (spec.kernel_size[a] - 1)
        pads.append((total // 2, total - total // 2))
    try:
        twin = replace(spec, padding=tuple(pads), padding_mode="circular")
    except ConvSpecError:
        return None
    return twin if circulant_repeats(twin) is not None else None


def _padded_circular(spec: ConvSpec) -> ConvSpec:
    shape = tuple(n + b + a for n, (b, a) in zip(spec.input_shape, spec.padding))
    pads = []
    for a in range(spec.ndim):
        total = spec.dilation[a] * (spec.kernel_size[a] - 1)
        pads.append((total // 2, total - total // 2))
    return replace(
        spec, input_shape=shape, stride=(1,) * spec.ndim, padding=tuple(pads),
        padding_mode="circular",
    )


def _padding_copies(spec: ConvSpec) -> int:
    most = 1
    for a in range(spec.ndim):
        n, (before, after) = spec.input_shape[a], spec.padding[a]
        source = padding_source(np.arange(-before, n + after), n, spec.padding_mode)
        most *= int(np.bincount(source[source >= 0], minlength=n).max())
    return most


def compare_norms(
    spec: ConvSpec, weight: Any, *, tol: float = DEFAULT_TOL, seed: int = 0,
    norm: float | None = None,
) -> NormComparison:
    """The exact norm, the reshaped-kernel and circular shortcuts, and two upper bounds.

    See :class:`NormComparison` for each number and the proofs of the
    bounds. The circular numbers are exact FFT spectra of other layers (the
    same kernel with circular padding); ``norm`` is :func:`operator_norm`,
    unless the caller already has it and passes it as ``norm=``.

    Parameters
    ----------
    spec : ConvSpec
        The convolution.
    weight : array_like
        Shape ``(out_channels, in_channels // groups, *kernel_size)``.
    tol : float
        Relative tolerance of :func:`operator_norm`.
    seed : int
        Seed of :func:`operator_norm`'s iterative method.
    norm : float, optional
        ``‖C‖₂`` when the caller already has it (not recomputed, not checked).

    Returns
    -------
    NormComparison
        The numbers side by side.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        A bad spec, weight, ``tol`` or ``seed``, or :func:`operator_norm`
        refusing the layer (see :func:`singular_values`).

    Examples
    --------
    >>> import numpy as np
    >>> w = np.random.default_rng(0).standard_normal((4, 4, 3, 3))
    >>> c = compare_norms(ConvSpec((16, 16), 3, padding=1, in_channels=4, out_channels=4), w)
    >>> c.lower <= c.norm <= min(c.upper, c.circular_padded)
    True
    """
    weight = check_weight(spec, weight)
    if norm is None:
        norm = operator_norm(spec, weight, tol=tol, seed=seed)
    reads, whole = read_counts(spec)
    per_group = max(_reshaped_norm(part, 0) for _, part in _groups(spec, weight))
    twin = _circular_counterpart(spec)
    circular = None if twin is None else operator_norm(twin, weight, method="fft")
    padded = operator_norm(_padded_circular(spec), weight, method="fft")
    return NormComparison(
        norm=norm,
        reshaped=_reshaped_norm(weight, 0),
        reshaped_groups=per_group,
        reads=reads,
        whole_window=whole,
        upper=math.sqrt(reads) * per_group,
        circular=circular,
        circular_padded=math.sqrt(_padding_copies(spec)) * padded,
    )


# --------------------------------------------------------------------------- bracket

#: Default relative gap of :func:`norm_bracket` (and of the ``spectrum`` command's norm).
BRACKET_TOL = 1e-3

#: Default Lanczos steps of :func:`norm_bracket` (products with ``CᵀC``).
BRACKET_STEPS = 40

# How many grid sizes (multiples of the stride from the smallest one that
# fits) the upper bound tries; each is a valid bound, the least is kept.
_CIRCULANT_SIZES = 3


class NormBracket(float):
    r"""``‖C‖₂ ∈ [lower, upper]``: a certified bracket of the norm, which as a float is ``upper``.

    Built by :func:`norm_bracket` (and by :func:`operator_norm` with
    ``method='bracket'``). Being a float equal to ``upper``, it can stand
    wherever a number is expected, on the safe side for a Lipschitz
    constant; the attributes say how close it is.

    Parameters
    ----------
    lower : float
        ``‖C v‖ / ‖v‖`` for the best vector ``v`` found: ``‖C‖₂ >= lower``.
    upper : float
        An upper bound of ``‖C‖₂`` (see :func:`norm_bracket`, Notes).
    products : int
        Products with ``CᵀC`` the lower bound took.
    tol : float
        The relative gap that was asked for.
    exact : bool
        Whether both ends are the exact norm (a circulant layer, by FFT).

    Examples
    --------
    >>> b = NormBracket(3.9, 4.0, products=5, tol=1e-3)
    >>> float(b), b.lower, b.upper, round(b.gap, 6), b.converged
    (4.0, 3.9, 4.0, 0.025, False)
    """

    lower: float
    upper: float
    products: int
    tol: float
    exact: bool

    def __new__(
        cls, lower: float, upper: float, *, products: int = 0, tol: float = BRACKET_TOL,
        exact: bool = False,
    ) -> NormBracket:
        self = super().__new__(cls, upper)
        self.lower, self.upper = float(lower), float(upper)
        self.products, self.tol, self.exact = int(products), float(tol), bool(exact)
        return self

    @property
    def gap(self) -> float:
        """``(upper - lower) / upper``, the relative width (0 when ``upper`` is 0)."""
        return (self.upper - self.lower) / self.upper if self.upper > 0 else 0.0

    @property
    def converged(self) -> bool:
        """``gap <= tol``: the bracket is as narrow as was asked."""
        return self.gap <= self.tol

    def __repr__(self) -> str:
        return (
            f"NormBracket(lower={self.lower!r}, upper={self.upper!r}, "
            f"products={self.products}, tol={self.tol!r}, exact={self.exact})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_bracket, (self.lower, self.upper, self.products, self.tol, self.exact))


def _rebuild_bracket(
    lower: float, upper: float, products: int, tol: float, exact: bool
) -> NormBracket:
    return NormBracket(lower, upper, products=products, tol=tol, exact=exact)


def _valid_part(spec: ConvSpec) -> tuple[ConvSpec, int]:
    """``(D, copies)`` with ``C = D·P``: D the convolution of the padded input, no padding.

    For ``padding_mode='zeros'`` that is C itself on the zero-padded grid
    (``P`` an isometry, ``copies = 1``); other modes copy inputs into the
    padding, ``‖P‖ = sqrt(copies)``.
    """
    if spec.padding_mode == "zeros":
        return spec, 1
    padded = tuple(n + b + a for n, (b, a) in zip(spec.input_shape, spec.padding))
    inner = replace(spec, input_shape=padded, padding=((0, 0),) * spec.ndim, padding_mode="zeros")
    return inner, _padding_copies(spec)


def _strided_circulant(spec: ConvSpec, extra: int) -> ConvSpec:
    """The circular strided convolution on a grid ``N >= n + before + after``, ``s | N``.

    Output ``j`` of it reads ``x[(j s + t d) mod N]``: padding ``(0, d(k-1))``
    wraps the kernel once around, so it has ``N/s`` outputs and is
    circulant. ``N`` is the smallest multiple of the stride that holds the
    zero-padded input, plus ``extra`` strides.
    """
    shape, pads = [], []
    for a in range(spec.ndim):
        s = spec.stride[a]
        fits = spec.input_shape[a] + sum(spec.padding[a])
        shape.append(-(-fits // s) * s + extra * s)
        pads.append((0, spec.dilation[a] * (spec.kernel_size[a] - 1)))
    return replace(
        spec, input_shape=tuple(shape), padding=tuple(pads), padding_mode="circular"
    )


def _polyphase_spectrum(
    spec: ConvSpec, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, tuple[int, ...]]:
    """``(M, counts, grid)``: the stack of ``M(f)`` (half the grid for a real kernel).

    ``M`` has shape ``(*frequencies, out, in · prod(stride))``; ``counts``
    (real kernels) says how often each frequency stands for itself and its
    conjugate. See the module docstring for the polyphase split.
    """
    grid = tuple(n // s for n, s in zip(spec.input_shape, spec.stride))
    phases = math.prod(spec.stride)
    out, inp = weight.shape[:2]
    real = not np.iscomplexobj(weight)
    dtype = np.float64 if real else np.complex128
    entries = math.prod(grid) * out * inp * phases
    check_memory(
        entries * np.dtype(dtype).itemsize * 3, what="the circular spectrum's kernel transform"
    )
    placed = []
    for tap in np.ndindex(*spec.kernel_size):
        reach = [t * d - b for t, d, (b, _) in zip(tap, spec.dilation, spec.padding)]
        shift = tuple((r // s) % g for r, s, g in zip(reach, spec.stride, grid))
        phase = tuple(r % s for r, s in zip(reach, spec.stride))
        placed.append((tap, shift, phase))
    # The shifts a kernel reaches, per dim: few (about k/s) next to the grid.
    used = [sorted({shift[a] for _, shift, _ in placed}) for a in range(spec.ndim)]
    sparse = all(len(u) * _DIRECT_DFT <= g for u, g in zip(used, grid))
    index = [{q: i for i, q in enumerate(u)} for u in used]
    # Polyphase kernel: (*shifts, out, in, *phases), tap t at its phase and shift;
    # the shifts are the whole grid for the FFT, the used ones for a direct DFT.
    kernel = np.zeros(
        (*(len(u) if sparse else g for u, g in zip(used, grid)), out, inp, *spec.stride),
        dtype=dtype,
    )
    for tap, shift, phase in placed:
        where = tuple(index[a][q] for a, q in enumerate(shift)) if sparse else shift
        kernel[(*where, slice(None), slice(None), *phase)] += weight[
            (slice(None), slice(None), *tap)
        ]
    axes = tuple(range(spec.ndim))
    counts = None
    # M(-f) is the conjugate of M(f) for a real kernel, with the same singular
    # values: half the grid (numpy's rfftn frequencies) stands for all of it.
    half = (grid[-1] // 2 + 1) if real else grid[-1]
    if sparse:
        # M(f) = Σ_q K[q] e^{-2πi f·q/G} over the used shifts q only, one dim at a time.
        spectrum = kernel.astype(np.complex128)
        for a, (u, g) in enumerate(zip(used, grid)):
            frequencies = np.arange(half if a == spec.ndim - 1 else g)
            transform = np.exp(-2j * np.pi * np.outer(frequencies, u) / g)
            spectrum = np.moveaxis(np.tensordot(transform, spectrum, axes=([1], [a])), 0, a)
    elif real:
        spectrum = np.fft.rfftn(kernel, axes=axes)
    else:
        spectrum = np.fft.fftn(kernel, axes=axes)
    if real:
        last = np.arange(spectrum.shape[spec.ndim - 1])
        twice = (last > 0) & ~((grid[-1] % 2 == 0) & (last == grid[-1] // 2))
        counts = np.broadcast_to(
            np.where(twice, 2, 1), spectrum.shape[: spec.ndim]
        ).reshape(-1)
    return spectrum.reshape(*spectrum.shape[: spec.ndim], out, inp * phases), counts, grid


def _circulant_top(spec: ConvSpec, weight: np.ndarray) -> tuple[float, np.ndarray]:
    """``(σ, x)``: the norm of one group's circulant C and a top right singular vector.

    ``x`` has shape ``(in, *input_shape)``. With ``M(f) u = σ w`` at the
    frequency ``f`` of the largest value, the input ``x_r[q] = u_r
    e^{-2πi f·q/G}`` (phase ``r``, position ``q`` of the ``G = n/s`` grid)
    gives ``C x = σ ·`` (``w`` times the same wave): numpy's FFT sign. For a
    real kernel, ``Re x`` and ``Im x`` are top vectors too (``x̄`` belongs to
    ``-f``, with the same value); the larger is returned.
    """
    spectrum, _, grid = _polyphase_spectrum(spec, weight)
    frequencies = spectrum.shape[: spec.ndim]
    stack = spectrum.reshape(-1, *spectrum.shape[spec.ndim :])
    # The largest value of each M(f) from its smaller Gram matrix (a few
    # times faster than SVDs); the winner's value again by an SVD.
    if stack.shape[1] >= stack.shape[2]:
        gram = np.matmul(stack.conj().transpose(0, 2, 1), stack)
    else:
        gram = np.matmul(stack, stack.conj().transpose(0, 2, 1))
    tops = np.linalg.eigvalsh(gram)[:, -1]
    best = int(np.argmax(tops))
    _, sigma, right = np.linalg.svd(stack[best])
    f = np.unravel_index(best, frequencies)
    u = right[0].conj().reshape(weight.shape[1], *spec.stride)
    # x[i, q_1, r_1, q_2, r_2, ...] = u[i, r_1, r_2, ...] · Π_a e^{-2πi f_a q_a / G_a}
    shape: list[int] = [weight.shape[1]]
    for g, s in zip(grid, spec.stride):
        shape += [g, s]
    wave = np.ones([1] * len(shape), dtype=np.complex128)
    for a, g in enumerate(grid):
        factor = np.exp(-2j * np.pi * f[a] * np.arange(g) / g)
        axis_shape = [1] * len(shape)
        axis_shape[1 + 2 * a] = g
        wave = wave * factor.reshape(axis_shape)
    phased = [weight.shape[1]] + [1, 1] * spec.ndim
    for a, s in enumerate(spec.stride):
        phased[2 + 2 * a] = s
    x = (wave * u.reshape(phased)).reshape(weight.shape[1], *spec.input_shape)
    # Rounding in the Gram matrix could pick a frequency a hair below the
    # largest: the bound is the larger of both readings.
    value = max(float(sigma[0]), math.sqrt(max(float(tops[best]), 0.0)))
    if np.iscomplexobj(weight):
        return value, x
    real, imag = x.real, x.imag
    return value, real if np.linalg.norm(real) >= np.linalg.norm(imag) else imag


def _lanczos_lower(
    op: LinearOperator, start: np.ndarray, target: float, steps: int,
    seconds: float | None, progress: Callable[[str], None] | None,
) -> tuple[float, int]:
    """``(‖C v‖/‖v‖, products)``: Lanczos on ``CᵀC`` from ``start`` until ``σ >= target``.

    The Krylov basis ``Q`` is kept orthonormal (Gram-Schmidt twice) and the
    Ritz values are those of ``H = Qᴴ (CᵀC Q)``, built from the stored
    products rather than from the three-term recurrence: so each is a true
    Rayleigh quotient, also after a breakdown (an invariant Krylov space,
    which a symmetric start can hit: the basis then grows by a random
    vector). The returned value is recomputed as ``‖C v‖/‖v‖`` for the best
    Ritz vector itself (one more product with C).
    """
    dtype = np.result_type(op.dtype, start.dtype, np.float64)
    side = op.shape[1]
    steps = min(steps, side)
    rng = np.random.default_rng(0)
    basis = np.zeros((side, steps), dtype=dtype)
    images = np.zeros((side, steps), dtype=dtype)
    projected = np.zeros((steps, steps), dtype=dtype)
    v = start.astype(dtype).reshape(-1)
    v = v / np.linalg.norm(v)
    begin = said = time.perf_counter()
    size = 0
    history: list[float] = []
    for step in range(steps):
        basis[:, step] = v
        images[:, step] = op.rmatvec(op.matvec(v))
        size = step + 1
        # H grows by one row and column: Qᴴ (G q_new) and q_newᴴ (G Q).
        projected[:size, step] = basis[:, :size].conj().T @ images[:, step]
        projected[step, :size] = basis[:, step].conj() @ images[:, :size]
        block = projected[:size, :size]
        ritz, vectors = np.linalg.eigh((block + block.conj().T) / 2)
        best = math.sqrt(max(float(ritz[-1]), 0.0))
        now = time.perf_counter()
        if progress is not None and now - said >= _PROGRESS_SECONDS:
            said = now
            progress(f"lower bound {best:.6g} after {size} products with CᵀC, "
                     f"{now - begin:.0f} s")
        history.append(best)
        # Stalled: five steps gained under 1e-9 relative, the lower end has
        # converged and the upper end is what keeps the bracket wide.
        stalled = size > 5 and best - history[-6] <= 1e-9 * best
        if best >= target or size == steps or stalled or (
            seconds is not None and now - begin >= seconds
        ):
            break
        w = images[:, step]
        scale = float(np.linalg.norm(w))
        for _ in range(2):
            w = w - basis[:, :size] @ (basis[:, :size].conj().T @ w)
        if float(np.linalg.norm(w)) <= 1e-8 * scale:
            w = rng.standard_normal(side).astype(dtype)
            for _ in range(2):
                w = w - basis[:, :size] @ (basis[:, :size].conj().T @ w)
        v = w / np.linalg.norm(w)
    vector = basis[:, :size] @ vectors[:, -1]
    lower = float(np.linalg.norm(op.matvec(vector)) / np.linalg.norm(vector))
    return lower, size


def _cut_to_input(spec: ConvSpec, wave: np.ndarray) -> np.ndarray:
    """The input entries of a vector on the padded grid: input ``i`` is padded ``i + before``.

    Entries a negative padding crops (never read) get 0.
    """
    start = np.zeros((wave.shape[0], *spec.input_shape), dtype=wave.dtype)
    source, target = [slice(None)], [slice(None)]
    for (before, after), n in zip(spec.padding, spec.input_shape):
        lo, hi = max(0, -before), min(n, n + after)
        source.append(slice(lo + before, hi + before))
        target.append(slice(lo, hi))
    start[tuple(target)] = wave[tuple(source)]
    return start


def norm_bracket(
    spec: ConvSpec, weight: Any, *, tol: float = BRACKET_TOL, maxiter: int = BRACKET_STEPS,
    seconds: float | None = None, backend: str = "numpy", device: Any = None,
    progress: Callable[[str], None] | None = None,
) -> NormBracket:
    r"""``lower <= ‖C‖₂ <= upper``: an FFT upper bound and a Lanczos lower bound, certified.

    ``upper`` is the exact norm of a circular strided convolution of which
    C is a submatrix (times ``sqrt(copies)`` for padding modes that copy
    inputs); ``lower`` is ``‖C v‖/‖v‖`` for a vector ``v`` found by a few
    Lanczos steps on ``CᵀC`` started from that circulant's top singular
    vector, restricted to the input. It stops when the relative gap
    ``(upper - lower)/upper`` is at most ``tol``, after ``maxiter``
    products with ``CᵀC``, or after ``seconds``. A circulant layer
    (:func:`circulant_repeats`) gets its exact FFT norm at both ends.

    Parameters
    ----------
    spec : ConvSpec
        The convolution (for a transposed layer, its forward convolution);
        any padding mode, stride, dilation and groups.
    weight : array_like
        Shape ``(out_channels, in_channels // groups, *kernel_size)``.
    tol : float
        The relative gap to reach, in ``(0, 1)``.
    maxiter : int
        Most products with ``CᵀC`` per group.
    seconds : float, optional
        Wall-clock budget of the Lanczos steps per group (checked after each
        product); None for none.
    backend, device
        Where C is applied, as in :func:`singular_values`.
    progress : callable, optional
        Called with a one-line text every few seconds of the Lanczos steps.

    Returns
    -------
    NormBracket
        A float equal to ``upper``, with ``lower``, ``upper``, ``gap``,
        ``converged`` and ``products``. When the gap stays above ``tol``
        (a geometry where the circulant's norm exceeds C's: small inputs,
        large strides, or ``reflect``/``replicate`` padding), the upper end
        cannot move: ``operator_norm(..., method='iterative')`` then gives
        the norm itself.

    Raises
    ------
    ConvSpecError, ConvSpecTypeError
        A bad spec, weight, ``tol``, ``maxiter`` or ``seconds``.
    MissingDependencyError
        ``backend='torch'`` without torch installed.

    Notes
    -----
    Zero padding, per dim: the padded input has ``L = n + before + after``
    entries and output ``j`` reads padded entries ``j s + t d < L``. On a
    grid of ``N >= L`` entries, ``s | N``, the circular convolution ``x ↦
    (Σ_t W_t x[(j s + t d) mod N])_j`` with ``N/s`` outputs never wraps for
    the first ``out`` outputs, so ``C = R · C_circ · E`` with ``E`` placing
    the input at offset ``before`` (an isometry) and ``R`` keeping those
    rows: ``‖C‖ <= ‖C_circ‖``, which the polyphase FFT gives exactly (the
    largest value of the small matrices ``M(f)``, module docstring). A few
    grid sizes ``N`` are tried and the least bound kept. Other modes: ``C
    = D · P`` with ``D`` that convolution of the padded grid and ``‖P‖ =
    sqrt(copies)``, the most copies of one input in the padding; that
    bound is loose (``sqrt(2)`` for ``reflect``). With groups, C is block
    diagonal: the maxima over groups of both ends.

    The lower end is a Rayleigh quotient, ``‖C v‖/‖v‖ <= ‖C‖`` for any
    ``v``, recomputed from the final vector (not taken from the Lanczos
    recurrence). The start, the circulant's top vector cut to the input, is
    already within the boundary's share of the norm; Lanczos improves it.

    Examples
    --------
    >>> import math
    >>> import numpy as np
    >>> w = np.array([[[1.0, 2.0, 1.0]]])
    >>> b = norm_bracket(ConvSpec((64,), 3, padding=1), w)
    >>> b.lower <= 2 + 2 * math.cos(math.pi / 65) <= b.upper, b.converged
    (True, True)
    >>> float(norm_bracket(ConvSpec((8,), 3, padding=1, padding_mode="circular"), w))
    4.0
    """
    weight = check_weight(spec, weight)
    tol = _check_tol(tol)
    maxiter = _check_int("maxiter", maxiter, 1)
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(
            seconds, (int, float, np.floating, np.integer)
        ) or not seconds > 0:
            raise ConvSpecError(f"seconds={seconds!r} must be a positive number or None")
    where = {"backend": backend, "device": device}
    groups = _groups(spec, weight)
    if circulant_repeats(spec) is not None:
        exact = max(float(np.max(_fft_values(one, part, circulant_repeats(one) or ())))
                    for one, part in groups)
        return NormBracket(exact, exact, tol=tol, exact=True)
    bounds = []
    for one, part in groups:
        inner, copies = _valid_part(one)
        tops = [
            _circulant_top(_strided_circulant(inner, extra), part)
            for extra in range(_CIRCULANT_SIZES)
        ]
        upper = min(value for value, _ in tops) * math.sqrt(copies)
        bounds.append((upper, one, part, tops[0][1]))
    upper = max(bound[0] for bound in bounds)
    lower, products = 0.0, 0
    # The group with the largest bound first: another can only matter if its
    # bound exceeds the lower end found so far.
    for bound, one, part, wave in sorted(bounds, key=lambda item: -item[0]):
        if bound <= lower or upper == 0:
            continue
        start = _cut_to_input(one, wave)
        if not np.any(start):
            start = np.random.default_rng(0).standard_normal(start.shape)
        found, steps = _lanczos_lower(
            _layer_operator(one, part, **where), start, upper * (1 - tol), maxiter,
            seconds, progress,
        )
        lower, products = max(lower, found), products + steps
    return NormBracket(min(lower, upper), upper, products=products, tol=tol)
