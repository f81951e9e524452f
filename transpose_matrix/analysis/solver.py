"""Which kernel, stride, padding and output_padding turn size n into size m?

:func:`solve_sizes` answers the everyday question by trying every parameter
set within ranges bounded by the sizes themselves, through the same size
formulas the rest of the package uses
(:func:`~transpose_matrix.conv_output_size` and
:func:`~transpose_matrix.transposed_conv_output_size`), and ranks the answers:
layers whose every output receives an input and every input reaches an
output come first, then those whose taps overlap unevenly (the usual cause
of checkerboard artefacts), and last those that leave outputs without any
input (they only ever hold the bias).

Search ranges. Write ``N`` for the input size of the convolution whose
matrix is C: ``n`` for a convolution, ``m`` for a transposed convolution
(whose forward convolution takes ``m`` back to ``n``). By default the
kernel's span ``d(k - 1) + 1`` is at most ``N`` (``k`` from 1 to ``N``
with dilation 1), the stride runs from 1 to ``N``, the padding from 0 to
half the kernel's reach, ``d(k - 1)/2`` rounded down (as "same" padding;
beyond ``d(k - 1)`` a convolution has outputs that read only padding), and
the dilation is 1. Every range can be given.
``padding`` and ``output_padding`` are solved for, not searched: for each
(kernel, stride, dilation) the size formula names the few that fit, so a
stride of a million costs what a stride of 2 does.

Limits: each parameter given as an iterable other than a :class:`range`
offers at most :data:`MAX_CANDIDATES` values, one search tries at most
:data:`MAX_COMBINATIONS` (kernel, stride, dilation) sets that can reach
``m``, and every value is an integer of at most ``2**60``. Beyond them the
solver refuses at once with a :class:`~transpose_matrix.errors.ConvSpecError`.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.shapes import (
    MAX_INT,
    _is_bool,
    as_int,
    describe,
)

__all__ = [
    "MAX_CANDIDATES",
    "MAX_COMBINATIONS",
    "SizeSolution",
    "search_ranges",
    "solve_sizes",
    "format_solutions",
]

#: Most candidate values one parameter of :func:`solve_sizes` may offer
#: (a :class:`range` is never listed, so it may be longer).
MAX_CANDIDATES = 10_000

#: Most (kernel_size, stride, dilation) sets one search may try.
MAX_COMBINATIONS = 100_000

# taps_per_position lists one count per residue; beyond this many the
# histogram (taps_histogram) is the only sensible answer.
_MAX_LISTED_STRIDE = 1 << 16

# Coverage is counted position by position up to this many positions per side.
_MAX_COUNTED = 1 << 22

_FIXABLE = ("kernel_size", "stride", "padding", "dilation", "output_padding")


def _unreached(
    inputs: int, outputs: int, k: int, s: int, p: int, d: int
) -> tuple[int, int] | None:
    """``(zero rows, zero columns)`` of the 1-D convolution matrix C, or None if too large.

    C has ``outputs`` rows and ``inputs`` columns; ``C[o, j] != 0`` exactly
    when ``j = o*s + t*d - p`` for a tap ``0 <= t < k``. Row ``o`` is zero
    when every tap of its window lies in the padding; column ``j`` is zero
    when no (output, tap) pair reads input ``j``.
    """
    if d == 1:
        return _unreached_contiguous(inputs, outputs, k, s, p)
    import numpy as np

    if max(inputs, outputs) > _MAX_COUNTED:
        return None
    # int64 suffices when every product below stays under 2**62.
    dtype: Any = np.int64 if max(inputs + p, outputs * s, k * d, s) < 1 << 30 else object
    o = np.arange(outputs).astype(dtype)
    low = p - o * s  # the window's first input index is -low
    first = np.maximum(0, -((-low) // d))  # the first tap at or after index 0
    rows_read = (first <= k - 1) & (first * d < low + inputs)
    x = np.arange(inputs).astype(dtype) + p  # input j at offset x = o*s + t*d
    g = math.gcd(d, s)
    period = s // g
    inverse = pow((d // g) % period, -1, period) if period > 1 else 0
    # Taps with t*d ≡ x (mod s): t ≡ t0 (mod period), when g divides x.
    t0 = ((x // g) % period) * inverse % period
    lowest = np.maximum(0, -((-(x - (outputs - 1) * s)) // d))
    highest = np.minimum(k - 1, x // d)
    t = lowest + (t0 - lowest) % period
    columns_read = (x % g == 0) & (t <= highest)
    return int(outputs - rows_read.sum()), int(inputs - columns_read.sum())


def _unreached_contiguous(inputs: int, outputs: int, k: int, s: int, p: int) -> tuple[int, int]:
    """:func:`_unreached` for dilation 1, in closed form (window o: ``[os - p, os - p + k)``)."""
    # Zero rows: windows ending at or before 0, or starting at or after `inputs`.
    before = (p - k) // s + 1 if p >= k else 0
    after = max(0, outputs - -(-(inputs + p) // s))
    zero_rows = min(outputs, before + after)
    if k >= s:
        # Consecutive windows touch or overlap: together they are one interval.
        read = max(0, min(inputs, (outputs - 1) * s - p + k))
    else:
        read = _covered_below(inputs, outputs, k, s, p) - _covered_below(0, outputs, k, s, p)
    return zero_rows, inputs - read


def _covered_below(x: int, outputs: int, k: int, s: int, p: int) -> int:
    """Positions below ``x`` inside some window, for disjoint windows (``k < s``)."""
    whole = min(outputs, max(0, (x + p - k) // s + 1))  # windows ending at or before x
    partial = 0
    if whole < outputs:  # at most one window straddles x
        partial = max(0, min(k, x - (whole * s - p)))
    return whole * k + partial


@dataclass(frozen=True)
class SizeSolution:
    """One parameter set taking size ``n`` to size ``m`` along one dim.

    ``output_padding`` is ``None`` for a plain convolution. ``padding`` is
    symmetric, as in the ``padding`` argument of ``torch.nn.ConvNd`` and
    ``ConvTransposeNd``.

    Parameters
    ----------
    n : int
        Input size along the dim.
    m : int
        Output size the parameters produce.
    transposed : bool
        ``True`` for a ``ConvTransposeNd`` layer, ``False`` for a ``ConvNd``.
    kernel_size, stride, padding : int
        The layer's arguments along the dim (``padding`` on each side).
    dilation : int, default 1
        Spacing between kernel taps.
    output_padding : int, optional
        The transposed layer's ``output_padding``; ``None`` for a convolution.

    Examples
    --------
    >>> SizeSolution(8, 16, True, 4, 2, 1, 1, 0).arguments()
    {'kernel_size': 4, 'stride': 2, 'padding': 1}
    >>> str(SizeSolution(8, 16, True, 3, 2, 1, 1, 1))
    'ConvTranspose(kernel_size=3, stride=2, padding=1, output_padding=1): 8 -> 16, uneven overlap'
    >>> SizeSolution(8, 16, True, 1, 2, 0, 1, 1).coverage_note()
    '8 of 16 outputs receive no input'
    """

    n: int
    m: int
    transposed: bool
    kernel_size: int
    stride: int
    padding: int
    dilation: int = 1
    output_padding: int | None = None

    @property
    def taps_per_position(self) -> tuple[int, ...]:
        """How many kernel taps land on each residue class of positions modulo the stride.

        Tap ``t`` sits at offset ``t * dilation`` from the window start, and
        window starts are multiples of the stride, so positions with residue
        ``r`` are covered by the taps with ``t * dilation ≡ r (mod stride)``.
        In a transposed convolution this is how many weights each output
        position sums (away from the borders).

        Raises
        ------
        ConvSpecError
            The stride is above 65,536 (one count per residue would be too
            long a list); :attr:`taps_histogram` answers for any stride.
        """
        s, d, k = self.stride, self.dilation, self.kernel_size
        if s > _MAX_LISTED_STRIDE:
            raise ConvSpecError(
                f"stride={describe(s)} has too many residues to list one count each "
                f"(at most {_MAX_LISTED_STRIDE}); use taps_histogram",
                field="stride",
            )
        counts = [0] * s
        # Taps t and t + period land on the same residue: count one period.
        period = s // math.gcd(d, s)
        full, rest = divmod(k, period)
        for t in range(min(k, period)):
            counts[(t * d) % s] = full + (t < rest)
        return tuple(counts)

    @property
    def taps_histogram(self) -> dict[int, int]:
        """``{taps: residues}``: how many residues mod the stride receive each tap count.

        In closed form: ``t*dilation mod stride`` cycles through the
        ``P = stride / gcd(dilation, stride)`` multiples of the gcd, so with
        ``k = q*P + r`` taps, ``r`` residues get ``q + 1`` taps, ``P - r`` get
        ``q`` and the other ``stride - P`` none.

        Examples
        --------
        >>> SizeSolution(8, 16, True, 3, 2, 1, 1, 1).taps_histogram
        {2: 1, 1: 1}
        """
        s, d, k = self.stride, self.dilation, self.kernel_size
        period = s // math.gcd(d, s)
        full, rest = divmod(k, period)
        histogram: dict[int, int] = {}
        for taps, residues in ((full + 1, rest), (full, period - rest), (0, s - period)):
            if residues:
                histogram[taps] = histogram.get(taps, 0) + residues
        return histogram

    @property
    def uneven_overlap(self) -> bool:
        """True when positions receive different numbers of taps (checkerboard risk).

        With dilation 1 this is exactly "kernel_size is not a multiple of
        stride".
        """
        return len(self.taps_histogram) > 1

    @cached_property
    def _coverage(self) -> tuple[int, int] | None:
        k, s, p, d = self.kernel_size, self.stride, self.padding, self.dilation
        if not self.transposed:
            return _unreached(self.n, self.m, k, s, p, d)
        # The layer's matrix is Cᵀ of its forward convolution, m -> n: its
        # outputs are C's columns and its inputs C's rows.
        counted = _unreached(self.m, self.n, k, s, p, d)
        return None if counted is None else (counted[1], counted[0])

    @property
    def silent_outputs(self) -> int | None:
        """How many of the ``m`` outputs receive no input at all (they hold only the bias).

        A zero row of the layer's matrix: C for a convolution (the window
        reads only padding), Cᵀ for a transposed one (no input's taps land
        there: the stride skips it, or ``output_padding`` adds it beyond the
        kernel's reach). None when ``n`` or ``m`` is above ``2**22``.
        """
        return None if self._coverage is None else self._coverage[0]

    @property
    def ignored_inputs(self) -> int | None:
        """How many of the ``n`` inputs reach no output (a zero column of the layer's matrix).

        None when ``n`` or ``m`` is above ``2**22``.
        """
        return None if self._coverage is None else self._coverage[1]

    @property
    def exact_coverage(self) -> bool | None:
        """Every output receives an input and every input reaches an output (None: not counted)."""
        if self._coverage is None:
            return None
        return self._coverage == (0, 0)

    def rank(self) -> tuple[int, ...]:
        """The sort key of :func:`solve_sizes`: coverage, overlap, stride's fit, then simplest.

        Exact coverage first (then not counted, then outputs left without
        input), even overlap before uneven, then the stride closest to the
        size ratio (``|n*s - m|`` for a transposed layer, ``|m*s - n|`` for a
        convolution), then the smaller kernel, stride, padding,
        output_padding and dilation.
        """
        coverage = {True: 0, None: 1, False: 2}[self.exact_coverage]
        little, big = (self.n, self.m) if self.transposed else (self.m, self.n)
        return (
            coverage,
            int(self.uneven_overlap),
            abs(little * self.stride - big),
            self.kernel_size,
            self.stride,
            self.padding,
            self.output_padding or 0,
            self.dilation,
        )

    def coverage_note(self) -> str:
        """``''`` or plain words for the outputs left without input and inputs left unread."""
        notes = []
        silent, ignored = self.silent_outputs, self.ignored_inputs
        if silent:
            how = "receive no input" if self.transposed else "read only padding"
            notes.append(f"{silent} of {self.m} outputs {how}")
        if ignored:
            notes.append(f"{ignored} of {self.n} inputs unused")
        return ", ".join(notes)

    def arguments(self) -> dict[str, int]:
        """Keyword arguments for ``torch.nn.Conv*`` / ``ConvTranspose*``, defaults left out."""
        out = {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding}
        if self.dilation != 1:
            out["dilation"] = self.dilation
        if self.transposed and self.output_padding:
            out["output_padding"] = self.output_padding
        return out

    def _repr_latex_(self) -> str:
        from ..render.notebook import solution_latex

        return f"${solution_latex(self)}$"

    def __str__(self) -> str:
        layer = "ConvTranspose" if self.transposed else "Conv"
        args = ", ".join(f"{key}={value}" for key, value in self.arguments().items())
        flags = [note for note in (
            "uneven overlap" if self.uneven_overlap else "", self.coverage_note()
        ) if note]
        flag = "".join(f", {note}" for note in flags)
        return f"{layer}({args}): {self.n} -> {self.m}{flag}"


def _values(name: str, values: Any, minimum: int) -> Sequence[int]:
    """Sorted distinct candidates: a :class:`range` kept lazy, anything else listed."""
    if isinstance(values, (str, bytes)):
        raise ConvSpecTypeError(
            f"{name}={describe(values)} must be an integer or integers, not text", field=name
        )
    if isinstance(values, range) and values.step > 0:
        if len(values) == 0:
            raise ConvSpecError(f"{name} must offer at least one value, got none", field=name)
        as_int(name, values[0], minimum)
        as_int(name, values[-1], minimum)
        return values
    if _is_bool(values) or hasattr(values, "__index__") or not isinstance(values, Iterable):
        values = (values,)
    # Read at most one value too many: a generator of 10**18 is refused at once.
    taken = list(itertools.islice(iter(values), MAX_CANDIDATES + 1))
    if len(taken) > MAX_CANDIDATES:
        raise ConvSpecError(
            f"{name} offers more than {MAX_CANDIDATES:,} candidate values; "
            "give a range, fewer values, or pin one value",
            field=name,
        )
    out = tuple(sorted({as_int(name, v, minimum) for v in taken}))
    if not out:
        raise ConvSpecError(f"{name} must offer at least one value, got none", field=name)
    return out


def _between(values: Sequence[int], low: int, high: int) -> Sequence[int]:
    """The sorted ``values`` in ``[low, high]`` (a slice: a range stays a range)."""
    return values[bisect.bisect_left(values, low) : bisect.bisect_right(values, high)]


def search_ranges(n: int, m: int, transposed: bool = True) -> dict[str, str]:
    """The default search ranges of :func:`solve_sizes` for ``n -> m``, as ``'low:high'`` text.

    Examples
    --------
    >>> search_ranges(7, 224)
    {'kernel_size': '1:224', 'stride': '1:224', 'padding': '0:d(k-1)/2', 'dilation': '1'}
    """
    size = m if transposed else n
    return {
        "kernel_size": f"1:{size}",
        "stride": f"1:{size}",
        "padding": "0:d(k-1)/2",
        "dilation": "1",
    }


def _padding_range(
    transposed: bool, n: int, m: int, k: int, s: int, d: int
) -> tuple[int, int]:
    """``[low, high]`` of the paddings with which some output_padding (or none) gives ``m``."""
    span = d * (k - 1) + 1
    if transposed:
        # m = (n-1)s - 2p + span + a  with  0 <= a < max(s, d):  2p - a = (n-1)s + span - m.
        b = (n - 1) * s + span - m
        return -((-b) // 2), (b + max(s, d) - 1) // 2
    # m - 1 = floor((n + 2p - span)/s):  (m-1)s <= n + 2p - span <= ms - 1.
    return -((-((m - 1) * s - n + span)) // 2), (m * s - 1 - n + span) // 2


def _stride_bounds(
    transposed: bool, n: int, m: int, k: int, d: int, most_padding: int
) -> tuple[int, int]:
    """Strides outside ``[low, high]`` cannot reach ``m`` with padding up to ``most_padding``."""
    span = d * (k - 1) + 1
    if transposed:
        if n == 1:
            return 1, MAX_INT  # the stride never multiplies anything
        # Some a < max(s, d) with 2p - a = (n-1)s + span - m and 0 <= p <= most_padding.
        low = min(-((-(m - span + 1)) // n), -((-(m - span + 1 - d)) // (n - 1)))
        return max(1, low), (2 * most_padding + m - span) // (n - 1)
    if m == 1:
        return max(1, -((-(n + 1 - span)) // m)), MAX_INT
    return max(1, -((-(n + 1 - span)) // m)), (2 * most_padding + n - span) // (m - 1)


def solve_sizes(
    n: int,
    m: int,
    *,
    transposed: bool = True,
    kernel_sizes: Iterable[int] | None = None,
    strides: Iterable[int] | None = None,
    paddings: Iterable[int] | None = None,
    dilations: Iterable[int] = (1,),
    output_paddings: Iterable[int] | None = None,
    **fixed: int,
) -> list[SizeSolution]:
    """Every parameter set within the search ranges that takes size ``n`` to exactly ``m``.

    For ``transposed=True`` the layer is ``ConvTransposeNd``:
    ``m = (n - 1)*s - 2p + d*(k - 1) + output_padding + 1`` with
    ``0 <= output_padding < max(s, d)``. For ``transposed=False`` it is
    ``ConvNd``: ``m = floor((n + 2p - d*(k - 1) - 1)/s) + 1``.

    Parameters
    ----------
    n, m : int
        Input and wanted output size along one dim, both >= 1.
    transposed : bool
        Solve for a transposed convolution (default) or a convolution.
    kernel_sizes, strides, paddings, dilations : iterable of int, optional
        Candidate values (a :class:`range` is never listed, so it may be
        long). Defaults, with ``N = m`` for a transposed layer and ``N = n``
        for a convolution (C's input size): kernels whose span ``d(k-1)+1``
        is at most ``N``, strides ``1..N``, paddings ``0..d(k-1)//2``,
        dilation 1 (see :func:`search_ranges`).
    output_paddings : iterable of int, optional
        Candidate output paddings of a transposed layer; by default every
        legal one, ``range(max(s, d))``. Ignored for a convolution.
    **fixed : int
        Pin one parameter: ``kernel_size=``, ``stride=``, ``padding=``,
        ``dilation=`` or ``output_padding=`` (overrides the candidates).

    Returns
    -------
    list of SizeSolution
        Best first (:meth:`SizeSolution.rank`): the layers that reach every
        output from an input and read every input, then the rest (unknown
        coverage, then outputs left without input); within each, even
        overlap before uneven, the stride nearest the size ratio, then the
        smaller kernel, stride, padding, output_padding and dilation.

    Raises
    ------
    ConvSpecTypeError
        An unknown keyword, or a value that is not an integer.
    ConvSpecError
        ``n`` or ``m`` below 1 or above ``2**60``, a candidate out of range,
        more than :data:`MAX_CANDIDATES` listed values for one parameter, or
        more than :data:`MAX_COMBINATIONS` (kernel, stride, dilation) sets
        able to reach ``m``, or more answers than that (``error.field``
        names the parameter).

    Notes
    -----
    ``padding`` and ``output_padding`` are solved for from the size formula,
    not searched, and strides that cannot reach ``m`` are skipped by their
    bounds: the cost is one step per (kernel, stride, dilation) set that
    can reach ``m``, plus one coverage count (linear in ``n + m``) per
    solution.

    Examples
    --------
    >>> for solution in solve_sizes(8, 16, kernel_sizes=range(1, 5))[:3]:
    ...     print(solution)
    ConvTranspose(kernel_size=2, stride=2, padding=0): 8 -> 16
    ConvTranspose(kernel_size=4, stride=2, padding=1): 8 -> 16
    ConvTranspose(kernel_size=3, stride=2, padding=1, output_padding=1): 8 -> 16, uneven overlap
    >>> print(solve_sizes(8, 16)[-1])
    ConvTranspose(kernel_size=1, stride=2, padding=0, output_padding=1): 8 -> 16, uneven overlap, \
8 of 16 outputs receive no input
    >>> str(solve_sizes(7, 224)[0])
    'ConvTranspose(kernel_size=32, stride=32, padding=0): 7 -> 224'
    >>> [str(s) for s in solve_sizes(16, 8, transposed=False, kernel_sizes=[3], strides=[2])]
    ['Conv(kernel_size=3, stride=2, padding=1): 16 -> 8, uneven overlap']
    """
    unknown = sorted(set(fixed) - set(_FIXABLE))
    if unknown:
        raise ConvSpecTypeError(
            f"solve_sizes got unknown keyword(s) {', '.join(unknown)}; "
            f"fixable parameters are {', '.join(_FIXABLE)}",
            field=unknown[0],
        )
    if not isinstance(transposed, bool):
        raise ConvSpecTypeError(
            f"transposed={describe(transposed)} must be True or False", field="transposed"
        )
    n = as_int("n", n, 1)
    m = as_int("m", m, 1)
    size = m if transposed else n
    kernel_given = kernel_sizes is not None or "kernel_size" in fixed
    kernel_list = _values("kernel_size", fixed.get(
        "kernel_size", range(1, size + 1) if kernel_sizes is None else kernel_sizes), 1)
    stride_list = _values("stride", fixed.get(
        "stride", range(1, size + 1) if strides is None else strides), 1)
    padding_given = paddings is not None or "padding" in fixed
    padding_list = _values("padding", fixed.get(
        "padding", range(0, MAX_INT + 1) if paddings is None else paddings), 0)
    dilation_list = _values("dilation", fixed.get("dilation", dilations), 1)
    extra_candidates: Any = fixed.get("output_padding", output_paddings)
    extras = None if extra_candidates is None else _values(
        "output_padding", extra_candidates, 0)
    allowed = None if extras is None else set(extras)

    # (kernel, dilation) pairs, each with the strides that can reach m.
    pairs = len(kernel_list) * len(dilation_list)
    if pairs > MAX_COMBINATIONS:
        raise ConvSpecError(
            f"the search would try more than {MAX_COMBINATIONS:,} (kernel_size, stride, "
            f"dilation) sets ({describe(len(kernel_list))} kernel sizes x "
            f"{len(dilation_list)} dilations); give a narrower kernel range or pin the kernel",
            field="kernel_size",
        )
    plan = []
    tries = 0
    for d in dilation_list:
        for k in kernel_list:
            span = d * (k - 1) + 1
            if not kernel_given and span > size:
                break  # kernels are sorted: every later one is wider
            most = padding_list[-1] if padding_given else d * (k - 1) // 2
            low, high = _stride_bounds(transposed, n, m, k, d, most)
            reachable = _between(stride_list, low, high)
            tries += len(reachable)
            plan.append((k, d, reachable))
    if tries > MAX_COMBINATIONS:
        raise ConvSpecError(
            f"the search would try {tries:,} (kernel_size, stride, dilation) sets able to "
            f"reach m={m}, above its limit of {MAX_COMBINATIONS:,}; pin a parameter or give "
            "narrower ranges"
        )

    solutions: list[SizeSolution] = []
    for k, d, reachable in plan:
        most = padding_list[-1] if padding_given else d * (k - 1) // 2
        span = d * (k - 1) + 1
        for s in reachable:
            low, high = _padding_range(transposed, n, m, k, s, d)
            # Every padding in [low, high] gives m (see _padding_range).
            chosen = _between(padding_list, max(0, low), min(high, most))
            if len(solutions) + len(chosen) > MAX_COMBINATIONS:
                raise ConvSpecError(
                    f"more than {MAX_COMBINATIONS:,} parameter sets take {n} to {m} "
                    f"(kernel_size={k}, stride={describe(s)} alone allows "
                    f"{describe(len(chosen))} paddings); give narrower ranges",
                    field="padding",
                )
            for p in chosen:
                if not transposed:
                    solutions.append(SizeSolution(n, m, False, k, s, p, d, None))
                    continue
                a = 2 * p - ((n - 1) * s + span - m)
                if allowed is None or a in allowed:
                    solutions.append(SizeSolution(n, m, True, k, s, p, d, a))
    solutions.sort(key=SizeSolution.rank)
    return solutions


def _taps_text(solution: SizeSolution) -> str:
    """``'2,1'`` per residue for small strides, else ``'2 (x1), 1 (x3), 0 (x996)'``."""
    if solution.stride <= 8:
        return ",".join(str(c) for c in solution.taps_per_position)
    return ", ".join(
        f"{taps} (x{residues})" for taps, residues in solution.taps_histogram.items()
    )


def format_solutions(solutions: Iterable[SizeSolution]) -> str:
    """A plain-text table of solutions, one per line, with a header.

    Parameters
    ----------
    solutions : iterable of SizeSolution
        Typically what :func:`solve_sizes` returns.

    Returns
    -------
    str
        The header, then one line per solution (layer, ``k s p d``,
        ``output_padding`` or ``-``, taps per residue class, a note on uneven
        overlap); a line saying none was found when ``solutions`` is empty.

    Raises
    ------
    AttributeError
        Only Python's own, when an item is not a :class:`SizeSolution`: the
        items are not validated here.

    Examples
    --------
    >>> print(format_solutions(solve_sizes(4, 8, kernel_sizes=[2, 3], strides=[2])))
    layer           k  s  p  d  out_pad  taps per position  note
    ConvTranspose   2  2  0  1        0  1,1
    ConvTranspose   3  2  1  1        1  2,1                uneven overlap
    >>> print(format_solutions([]))
    layer           k  s  p  d  out_pad  taps per position  note
    (no parameter set in the given ranges gives this size)
    """
    lines = [
        f"{'layer':<14} {'k':>2} {'s':>2} {'p':>2} {'d':>2}  {'out_pad':>7}  "
        f"{'taps per position':<17}  note"
    ]
    for x in solutions:
        layer = "ConvTranspose" if x.transposed else "Conv"
        extra = "-" if x.output_padding is None else str(x.output_padding)
        taps = _taps_text(x)
        note = ", ".join(
            text for text in ("uneven overlap" if x.uneven_overlap else "", x.coverage_note())
            if text
        )
        lines.append(
            f"{layer:<14} {x.kernel_size:>2} {x.stride:>2} {x.padding:>2} {x.dilation:>2}  "
            f"{extra:>7}  {taps:<17}  {note}".rstrip()
        )
    if len(lines) == 1:
        lines.append("(no parameter set in the given ranges gives this size)")
    return "\n".join(lines)
