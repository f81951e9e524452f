"""Which kernel, stride, padding and output_padding turn size n into size m?

:func:`solve_sizes` answers the everyday question by trying every small
parameter set through the same size formulas the rest of the package uses
(:func:`~transpose_matrix.conv_output_size` and
:func:`~transpose_matrix.transposed_conv_output_size`), and flags the sets
whose kernel taps overlap unevenly, the usual cause of checkerboard
artefacts in transposed convolutions.

Search limits: each parameter offers at most :data:`MAX_CANDIDATES` values,
one search tries at most :data:`MAX_COMBINATIONS` (kernel, stride, padding,
dilation) sets, and every value is an integer of at most ``2**60``. Beyond
them the solver refuses at once with a
:class:`~transpose_matrix.errors.ConvSpecError`. ``output_padding`` is not
searched: for each set it is solved for (``m`` minus the size with no
output padding), so a stride of a million costs what a stride of 2 does.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.shapes import (
    _is_bool,
    as_int,
    conv_output_size,
    describe,
    transposed_conv_output_size,
)

__all__ = [
    "MAX_CANDIDATES",
    "MAX_COMBINATIONS",
    "SizeSolution",
    "solve_sizes",
    "format_solutions",
]

#: Most candidate values one parameter of :func:`solve_sizes` may offer.
MAX_CANDIDATES = 10_000

#: Most (kernel_size, stride, padding, dilation) sets one search may try.
MAX_COMBINATIONS = 100_000

# taps_per_position lists one count per residue; beyond this many the
# histogram (taps_histogram) is the only sensible answer.
_MAX_LISTED_STRIDE = 1 << 16

_FIXABLE = ("kernel_size", "stride", "padding", "dilation", "output_padding")


@dataclass(frozen=True)
class SizeSolution:
    """One parameter set taking size ``n`` to size ``m`` along one dim.

    ``output_padding`` is ``None`` for a plain convolution. ``padding`` is
    symmetric, as in the ``padding`` argument of ``torch.nn.ConvNd`` and
    ``ConvTransposeNd``.

    Examples
    --------
    >>> SizeSolution(8, 16, True, 4, 2, 1, 1, 0).arguments()
    {'kernel_size': 4, 'stride': 2, 'padding': 1}
    >>> str(SizeSolution(8, 16, True, 3, 2, 1, 1, 1))
    'ConvTranspose(kernel_size=3, stride=2, padding=1, output_padding=1): 8 -> 16, uneven overlap'
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
        flag = ", uneven overlap" if self.uneven_overlap else ""
        return f"{layer}({args}): {self.n} -> {self.m}{flag}"


def _values(name: str, values: Any, minimum: int) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)):
        raise ConvSpecTypeError(
            f"{name}={describe(values)} must be an integer or integers, not text", field=name
        )
    if _is_bool(values) or hasattr(values, "__index__") or not isinstance(values, Iterable):
        values = (values,)
    # Read at most one value too many: a range of 10**18 is refused at once.
    taken = list(itertools.islice(iter(values), MAX_CANDIDATES + 1))
    if len(taken) > MAX_CANDIDATES:
        raise ConvSpecError(
            f"{name} offers more than {MAX_CANDIDATES:,} candidate values; "
            "give fewer, or pin one value",
            field=name,
        )
    out = tuple(sorted({as_int(name, v, minimum) for v in taken}))
    if not out:
        raise ConvSpecError(f"{name} must offer at least one value, got none", field=name)
    return out


def _output_padding(n: int, m: int, k: int, s: int, p: int, d: int) -> int | None:
    """The one ``output_padding`` with which the transposed layer takes ``n`` to ``m``.

    The size grows by one per unit of output padding, so it is ``m`` minus
    the size at the largest legal one plus that one; ``None`` when outside
    ``[0, max(s, d))``.
    """
    largest = max(s, d) - 1
    try:
        top = transposed_conv_output_size(n, k, s, p, largest, d)
    except ConvSpecError:
        return None  # even the largest output padding gives no positive size
    a = m - top + largest
    return a if 0 <= a <= largest else None


def solve_sizes(
    n: int,
    m: int,
    *,
    transposed: bool = True,
    kernel_sizes: Iterable[int] = range(1, 8),
    strides: Iterable[int] = range(1, 5),
    paddings: Iterable[int] = range(0, 4),
    dilations: Iterable[int] = (1,),
    output_paddings: Iterable[int] | None = None,
    **fixed: int,
) -> list[SizeSolution]:
    """Every small parameter set that takes size ``n`` to exactly ``m``.

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
    kernel_sizes, strides, paddings, dilations : iterable of int
        Candidate values.
    output_paddings : iterable of int, optional
        Candidate output paddings of a transposed layer; by default every
        legal one, ``range(max(s, d))``. Ignored for a convolution.
    **fixed : int
        Pin one parameter: ``kernel_size=``, ``stride=``, ``padding=``,
        ``dilation=`` or ``output_padding=`` (overrides the candidates).

    Returns
    -------
    list of SizeSolution
        Sorted simplest first: smaller kernel, then stride, padding,
        output_padding, dilation.

    Raises
    ------
    ConvSpecTypeError
        An unknown keyword, or a value that is not an integer.
    ConvSpecError
        ``n`` or ``m`` below 1 or above ``2**60``, a candidate out of range,
        more than :data:`MAX_CANDIDATES` values for one parameter, or more
        than :data:`MAX_COMBINATIONS` sets to try (``error.field`` names the
        parameter).

    Notes
    -----
    The cost is one size formula per (kernel, stride, padding, dilation)
    set, whatever the values: ``output_padding`` is solved for, not
    searched.

    Examples
    --------
    >>> for solution in solve_sizes(8, 16, kernel_sizes=range(2, 5)):
    ...     print(solution)
    ConvTranspose(kernel_size=2, stride=2, padding=0): 8 -> 16
    ConvTranspose(kernel_size=3, stride=2, padding=1, output_padding=1): 8 -> 16, uneven overlap
    ConvTranspose(kernel_size=4, stride=2, padding=1): 8 -> 16
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
    kernel_sizes = _values("kernel_size", fixed.get("kernel_size", kernel_sizes), 1)
    strides = _values("stride", fixed.get("stride", strides), 1)
    paddings = _values("padding", fixed.get("padding", paddings), 0)
    dilations = _values("dilation", fixed.get("dilation", dilations), 1)
    if "output_padding" in fixed:
        output_paddings = fixed["output_padding"]
    extras = None if output_paddings is None else _values("output_padding", output_paddings, 0)
    combinations = len(kernel_sizes) * len(strides) * len(paddings) * len(dilations)
    if combinations > MAX_COMBINATIONS:
        raise ConvSpecError(
            f"the search would try {combinations:,} (kernel_size, stride, padding, dilation) "
            f"sets, above its limit of {MAX_COMBINATIONS:,}; pin a parameter or offer "
            "fewer candidates"
        )
    allowed = None if extras is None else set(extras)

    solutions = []
    for k, s, p, d in itertools.product(kernel_sizes, strides, paddings, dilations):
        if not transposed:
            try:
                size = conv_output_size(n, k, s, p, d)
            except ConvSpecError:
                continue  # the kernel does not fit the padded input
            if size == m:
                solutions.append(SizeSolution(n, m, False, k, s, p, d, None))
            continue
        a = _output_padding(n, m, k, s, p, d)
        if a is None or (allowed is not None and a not in allowed):
            continue
        if transposed_conv_output_size(n, k, s, p, a, d) == m:
            solutions.append(SizeSolution(n, m, True, k, s, p, d, a))
    solutions.sort(
        key=lambda x: (x.kernel_size, x.stride, x.padding, x.output_padding or 0, x.dilation)
    )
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

    Examples
    --------
    >>> print(format_solutions(solve_sizes(4, 8, kernel_sizes=[2, 3], strides=[2])))
    layer           k  s  p  d  out_pad  taps per position  note
    ConvTranspose   2  2  0  1        0  1,1
    ConvTranspose   3  2  1  1        1  2,1                uneven overlap
    """
    lines = [
        f"{'layer':<14} {'k':>2} {'s':>2} {'p':>2} {'d':>2}  {'out_pad':>7}  "
        f"{'taps per position':<17}  note"
    ]
    for x in solutions:
        layer = "ConvTranspose" if x.transposed else "Conv"
        extra = "-" if x.output_padding is None else str(x.output_padding)
        taps = _taps_text(x)
        note = "uneven overlap" if x.uneven_overlap else ""
        lines.append(
            f"{layer:<14} {x.kernel_size:>2} {x.stride:>2} {x.padding:>2} {x.dilation:>2}  "
            f"{extra:>7}  {taps:<17}  {note}".rstrip()
        )
    if len(lines) == 1:
        lines.append("(no parameter set in the given ranges gives this size)")
    return "\n".join(lines)
