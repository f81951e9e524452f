r"""The ``spectrum`` report: a layer's norm, smallest singular value and condition number.

The maths is :mod:`transpose_matrix.analysis.spectrum`. This module decides what a
report computes (the whole spectrum when a method reaches it, else the ``k``
largest and smallest values) and lays it out as text with a histogram or as
a LaTeX table. The command's options live in
:mod:`transpose_matrix.cli.spectrum`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..errors import ConvSpecError
from ..narrative.report import conv_call, transposed_call
from .documents import fragment
from .latex import code_latex, escape_text

if TYPE_CHECKING:
    import numpy as np

    from ..analysis.spectrum import NormBracket, NormComparison

# numpy and the maths (scipy's ARPACK) are imported when a report is computed.

__all__ = [
    "CHEAP_ENTRIES",
    "SpectrumReport",
    "histogram",
    "spectrum_latex",
    "spectrum_report",
    "spectrum_text",
]

# Width of the longest histogram bar, in characters.
_BAR = 40


# A group's C with at most this many entries is cheap enough to take whole by
# default (a dense SVD of 1,024 x 1,024 takes well under a second).
CHEAP_ENTRIES = 1 << 20


@dataclass(frozen=True)
class SpectrumReport:
    """What :func:`spectrum_report` computed for one layer.

    Attributes
    ----------
    spec : ConvSpec
    count : int
        ``min(C.shape)``, the number of singular values.
    largest, smallest : numpy.ndarray
        The ``k`` largest and smallest values, largest first; ``smallest`` is
        None when not computed (see ``skipped``).
    values : numpy.ndarray or None
        Every value, largest first, when computed.
    methods : dict
        ``which -> method`` that produced it.
    comparison : NormComparison
        The norm beside the shortcuts and bounds.
    notes : tuple of str
        Facts about what was computed (e.g. a value at its method's floor).
    skipped : dict
        ``which -> method`` for what was not computed by default because it
        takes long ('smallest', 'all'); the command says how to ask for it.
    floor : float
        The level below which the smallest values are not resolved
        (:func:`~transpose_matrix.analysis.spectrum.method_floor`; 0 when exact).
    bracket : NormBracket or None
        ``lower <= ‖C‖₂ <= upper`` when the norm came from
        :func:`~transpose_matrix.analysis.spectrum.norm_bracket` (then
        ``largest`` holds its upper end); None when the norm is exact or
        tolerance-bound.
    """

    spec: Any
    count: int
    largest: np.ndarray
    smallest: np.ndarray | None
    values: np.ndarray | None
    methods: dict[str, str]
    comparison: NormComparison
    notes: tuple[str, ...] = ()
    skipped: dict[str, str] = field(default_factory=dict)
    floor: float = 0.0
    bracket: NormBracket | None = None

    @property
    def norm(self) -> float:
        """``‖C‖₂``, the largest singular value."""
        return float(self.largest[0])

    @property
    def minimum(self) -> float | None:
        """The smallest singular value, if computed."""
        return None if self.smallest is None else float(self.smallest[-1])

    @property
    def at_floor(self) -> bool:
        """``σ_min`` is at or below its method's floor: only ``σ_min <= floor`` is known."""
        low = self.minimum
        return low is not None and self.floor > 0 and low <= self.floor

    @property
    def condition(self) -> float | None:
        """``σ_max / σ_min`` (infinite when C is rank deficient), if ``σ_min`` is known."""
        low = self.minimum
        if low is None:
            return None
        return math.inf if low == 0 else self.norm / low


def _cheap(spec: Any, method: str) -> bool:
    rows, cols = spec.matrix_shape
    return method == "fft" or (rows // spec.groups) * (cols // spec.groups) <= CHEAP_ENTRIES


def spectrum_report(
    spec: Any, weight: Any, k: int | None = None, *, tol: float | None = None, seed: int = 0,
    smallest: bool | None = None, everything: bool | None = None, method: str = "auto",
    progress: Callable[[str], None] | None = None,
) -> SpectrumReport:
    """Compute what the ``spectrum`` command shows: the cheap parts by default, the rest on request.

    By default every value when that is cheap (circular padding, or a small
    C), else only the norm (the ``k`` largest when ``k`` is given).
    ``smallest=True`` adds the ``k`` smallest (``σ_min``, the condition
    number), ``everything=True`` every value; ``False`` skips them. ``k``
    (default 5 when every value is computed, else 1) is capped at the number
    of values; ``tol`` defaults to
    :data:`~transpose_matrix.analysis.spectrum.DEFAULT_TOL`; ``method``
    applies to the largest and smallest values (``'auto'`` picks);
    ``progress`` receives one-line progress texts.

    The norm alone of a layer that Lanczos would take (``'auto'`` picks
    ``'iterative'``, ``k = 1``), or ``method='bracket'``: a certified
    bracket from :func:`~transpose_matrix.analysis.spectrum.norm_bracket`,
    ``tol`` then its relative gap (default
    :data:`~transpose_matrix.analysis.spectrum.BRACKET_TOL`), in seconds
    where Lanczos to ``1e-10`` takes minutes.

    Raises
    ------
    ConvSpecError
        From :func:`~transpose_matrix.singular_values` (a bad weight, no
        convergence, the memory guard, a method that cannot compute what is
        asked on this layer).
    """
    import numpy as np

    from ..analysis.spectrum import (
        BRACKET_TOL,
        DEFAULT_TOL,
        FloorWarning,
        choose_method,
        compare_norms,
        method_floor,
        norm_bracket,
        singular_values,
    )

    asked_tol = tol
    tol = DEFAULT_TOL if tol is None else tol
    bracketed = method == "bracket"
    if bracketed:
        if k not in (None, 1):
            raise ConvSpecError(
                f"method='bracket' brackets the norm only, not the k={k} largest values; "
                "use method='iterative' (Lanczos)"
            )
        if everything:
            raise ConvSpecError(
                "method='bracket' brackets the norm only, not every value; use "
                "method='auto'"
            )
        method = "auto"
    count = min(spec.matrix_shape)
    notes: list[str] = []
    methods: dict[str, str] = {}
    skipped: dict[str, str] = {}
    values = low = None
    bracket = None
    floor = 0.0
    try:
        every = choose_method(spec, "all", method="auto" if method == "auto" else (
            method if method in ("fft", "dense") else "auto"))
    except ConvSpecError:
        if everything:
            raise
        every = None
    take_all = everything or (
        not bracketed and everything is None and every is not None and _cheap(spec, every)
    )
    if every is not None and not take_all and everything is None:
        skipped["all"] = every
    k = min(count, (5 if take_all else 1) if k is None else k)
    if take_all:
        methods["all"] = every or "dense"
        values = singular_values(spec, weight, which="all", tol=tol, seed=seed,
                                 method=methods["all"])
        largest, low = values[:k], values[count - k :]
    else:
        methods["largest"] = choose_method(spec, "largest", k, method if method != "shift-invert"
                                           else "auto")
        if bracketed or (method == "auto" and methods["largest"] == "iterative" and k == 1):
            methods["largest"] = "bracket"
            bracket = norm_bracket(
                spec, weight, tol=BRACKET_TOL if asked_tol is None else asked_tol,
                progress=progress,
            )
            largest = np.array([bracket.upper])
        else:
            largest = singular_values(spec, weight, k, "largest", tol=tol, seed=seed,
                                      method=methods["largest"], progress=progress)
        wanted = smallest
        if wanted is None:
            try:
                pick = choose_method(spec, "smallest", k)
            except ConvSpecError:
                pick = "shift-invert"
            wanted = pick == "dense" and _cheap(spec, pick)
            if not wanted:
                skipped["smallest"] = pick
        if wanted:
            methods["smallest"] = choose_method(spec, "smallest", k, method)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FloorWarning)
                ascending = singular_values(spec, weight, k, "smallest", tol=tol, seed=seed,
                                            method=methods["smallest"], progress=progress)
            low = ascending[::-1]
            floor = method_floor(spec, weight, methods["smallest"], tol=tol)
    comparison = compare_norms(spec, weight, tol=tol, seed=seed, norm=float(largest[0]))
    report = SpectrumReport(
        spec, count, largest, low, values, methods, comparison, tuple(notes), skipped, floor,
        bracket,
    )
    if bracket is not None and not bracket.converged:
        notes.append(
            f"the bracket is {bracket.gap:.2g} wide (relative), more than the tolerance "
            f"{bracket.tol:g}: its upper end is the norm of a circular convolution that holds "
            "C, which a short input or a wide stride lifts above ‖C‖₂ (no number of steps "
            f"lowers it), and its lower end stopped after {bracket.products} products with "
            "CᵀC; --method iterative computes ‖C‖₂ itself (Lanczos, slower)"
        )
        report = replace(report, notes=tuple(notes))
    if report.at_floor:
        notes.append(
            f"σ_min = {_number(report.minimum or 0.0)} is at the floor {_number(floor)} of "
            f"{methods['smallest']}: the true value lies between 0 and {_number(floor)}, "
            "and the condition number is at least the one shown"
        )
        report = replace(report, notes=tuple(notes))
    return report


def histogram(values: np.ndarray, bins: int = 12) -> list[tuple[float, float, int]]:
    """``(low, high, count)`` of ``bins`` equal bins from 0 to the largest value.

    The last bin includes its upper edge (as :func:`numpy.histogram`), so the
    counts add up to ``len(values)``.

    Examples
    --------
    >>> import numpy as np
    >>> histogram(np.array([0.0, 1.0, 1.0, 4.0]), bins=2)
    [(0.0, 2.0, 3), (2.0, 4.0, 1)]
    """
    import numpy as np

    top = float(values.max()) if len(values) else 0.0
    counts, edges = np.histogram(values, bins=bins, range=(0.0, top or 1.0))
    return [(float(lo), float(hi), int(n)) for lo, hi, n in zip(edges, edges[1:], counts)]


def _number(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.6g}"


def _layer_line(spec: Any, transposed: bool) -> str:
    if transposed and transposed_call(spec) is not None:
        return f"Cᵀ of {transposed_call(spec)}; C, its forward convolution, has the same values"
    return f"C of {conv_call(spec)}"  # the call names a padding_mode other than zeros


_DESCRIBED = {
    "fft": "FFT, exact",
    "dense": "dense SVD, exact",
    "iterative": "Lanczos, tolerance-bound",
    "shift-invert": "shift-invert Lanczos, tolerance-bound",
    "bracket": "certified bracket: FFT upper bound, Lanczos lower bound",
}


def _method_line(report: SpectrumReport) -> str:
    parts = [f"{which}: {_DESCRIBED[method]}" for which, method in report.methods.items()]
    return "Methods: " + "; ".join(parts)


def _comparison_rows(report: SpectrumReport) -> list[tuple[str, float, str, str]]:
    """``(what, value, relation to ‖C‖, why)`` for each shortcut and bound."""
    c = report.comparison
    spec = report.spec
    taps = math.prod(spec.kernel_size)
    whole = f"an output reads {taps} distinct inputs, so W is a submatrix of C"
    rows = []
    if spec.groups == 1:
        relation, why = (
            ("lower bound", whole) if c.whole_window
            else ("no bound", "no output reads every tap inside the input")
        )
        rows.append(("reshaped kernel ‖W‖₂ (spectral_norm's number)", c.reshaped, relation, why))
    else:
        rows.append(
            ("reshaped kernel ‖W‖₂ (spectral_norm's number)", c.reshaped, "no bound",
             "it stacks the groups' kernels, which C keeps apart")
        )
        relation, why = (
            ("lower bound", whole.replace("W is", "each W_g is")) if c.whole_window
            else ("no bound", "no output reads every tap inside the input")
        )
        rows.append(("max over groups of ‖W_g‖₂", c.reshaped_groups, relation, why))
    if c.circular is not None and spec.padding_mode == "circular" and report.methods.get(
        "all", report.methods.get("largest")
    ) == "fft":
        rows.append(
            ("circular padding, same size (FFT shortcut)", c.circular, "equal",
             "this layer's own circulant, up to the kernel's offset (a phase)")
        )
    elif c.circular is not None:
        rows.append(
            ("circular padding, same size (FFT shortcut)", c.circular, "no bound",
             "a different layer; zero padding can be above or below it")
        )
    padded = "×".join(str(n + b + a) for n, (b, a) in zip(spec.input_shape, spec.padding))
    rows.append(
        (f"√μ · max_g ‖W_g‖₂ (μ = {c.reads} reads per input)", c.upper, "upper bound",
         "‖U(x)‖_F² <= μ ‖x‖² for the im2col block U(x)")
    )
    rows.append(
        (f"circular, stride 1, on the padded {padded} grid", c.circular_padded, "upper bound",
         "C keeps rows of that circulant, times the padding's copies")
    )
    return rows


def spectrum_text(report: SpectrumReport, *, bins: int = 12, transposed: bool = False) -> str:
    """The report for the terminal: the numbers, the shortcuts, and a histogram."""
    spec = report.spec
    rows, cols = spec.matrix_shape
    lines = [
        f"Spectrum of {_layer_line(spec, transposed)}",
        f"C is {rows} × {cols}: {report.count} singular values, shared with Cᵀ "
        "(the transposed convolution, the input gradient).",
        _method_line(report),
        "",
    ]
    bracket = report.bracket
    if bracket is None:
        lines.append(f"  ‖C‖₂ = σ_max       {_number(report.norm)}")
    else:
        lines.append(f"  ‖C‖₂ = σ_max ∈ [{_number(bracket.lower)}, {_number(bracket.upper)}]")
        lines.append(f"      (relative gap {bracket.gap:.2g}, tolerance {bracket.tol:g}; "
                     f"{bracket.products} products with CᵀC; the exact value: "
                     "--method iterative)")
    if report.smallest is not None:
        bound = "<= " if report.at_floor else ""
        more = ">= " if report.at_floor else ""
        lines.append(f"  σ_min              {bound}{_number(report.minimum or 0.0)}"
                     + ("  (at the method's floor)" if report.at_floor else ""))
        lines.append(f"  condition number   {more}{_number(report.condition or 0.0)}")
    k = len(report.largest)
    if k > 1:
        lines.append(f"  {k} largest:  " + "  ".join(_number(v) for v in report.largest))
    if report.smallest is not None and len(report.smallest) > 1:
        lines.append(f"  {k} smallest: " + "  ".join(_number(v) for v in report.smallest))
    lines += ["", "Shortcuts and bounds beside ‖C‖₂:"]
    table = _comparison_rows(report)
    width = max(len(name) for name, _, _, _ in table)
    for name, value, relation, why in table:
        lines.append(f"  {name:<{width}}  {_number(value):>10}  {relation}")
        lines.append(f"      ({why})")
    for note in report.notes:
        lines += ["", f"Note: {note}"]
    asks = []
    if "smallest" in report.skipped:
        asks.append(f"σ_min and the condition number: --smallest "
                    f"({_DESCRIBED[report.skipped['smallest']]}; slow on a C this size)")
    if "all" in report.skipped:
        asks.append(f"every value and a histogram: --all ({_DESCRIBED[report.skipped['all']]})")
    if asks:
        lines += ["", "Not computed by default (ask for it):"] + [f"  {ask}" for ask in asks]
    if report.values is not None:
        counts = histogram(report.values, bins)
        lines += ["", f"Histogram of the {report.count} singular values ({bins} bins from 0):"]
        most = max(n for _, _, n in counts) or 1
        edge = max(len(f"{hi:.4g}") for _, hi, _ in counts)
        for number, (lo, hi, n) in enumerate(counts):
            close = "]" if number == len(counts) - 1 else ")"
            bar = "█" * round(_BAR * n / most) if n else ""
            lines.append(f"  [{lo:>{edge}.4g}, {hi:>{edge}.4g}{close}  {bar:<{_BAR}}  {n}")
    return "\n".join(lines) + "\n"


def _latex_number(value: float) -> str:
    if math.isinf(value):
        return r"$\infty$"
    text = f"{value:.6g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"${mantissa} \\times 10^{{{int(exponent)}}}$"
    return f"${text}$"


# Reasons with maths in them, typeset; the others are escaped text.
_LATEX_REASONS = {
    "‖U(x)‖_F² <= μ ‖x‖² for the im2col block U(x)":
        r"$\|U(x)\|_F^2 \le \mu\|x\|^2$ for the im2col block $U(x)$",
}

_LATEX_NAMES = {
    "reshaped kernel": r"reshaped kernel $\|W\|_2$ (spectral\_norm)",
    "max over groups": r"$\max_g \|W_g\|_2$",
    "circular padding": "circular padding, same size (FFT)",
    "√μ": r"$\sqrt{{\mu}}\,\max_g \|W_g\|_2$, $\mu = {reads}$",
    "circular, stride 1": "circular, stride 1, padded grid",
}


def spectrum_latex(report: SpectrumReport, *, bins: int = 12, transposed: bool = False) -> str:
    r"""The report as LaTeX tables (a fragment for ``\input``): numbers, shortcuts, histogram."""
    spec = report.spec
    call = transposed_call(spec) if transposed else None
    layer = call or conv_call(spec)
    mode = ""
    if spec.padding_mode != "zeros":
        mode = f", padding mode {escape_text(spec.padding_mode)}"
    # One minipage: the layer, its numbers and the reasons stay on one page.
    lines = [
        r"\noindent\begin{minipage}{\linewidth}",
        r"{\raggedright " + ("Transposed layer " if call else "Layer ")
        + code_latex(layer) + mode + r"\par}\medskip",
        r"\noindent\begin{tabular}{lrl}",
        r"\hline",
        r"quantity & value & vs.\ $\|C\|_2$ \\",
        r"\hline",
    ]
    if report.bracket is None:
        lines.append(r"$\|C\|_2 = \|C^{\mathsf{T}}\|_2 = \sigma_{\max}$ & "
                     f"{_latex_number(report.norm)} & exact \\\\")
    else:
        # Two rows: the bracket's ends side by side would widen the table past the line.
        lines.append(r"$\|C\|_2 = \|C^{\mathsf{T}}\|_2 \ge$ & "
                     f"{_latex_number(report.bracket.lower)} & bracket, lower \\\\")
        lines.append(r"$\|C\|_2 = \|C^{\mathsf{T}}\|_2 \le$ & "
                     f"{_latex_number(report.bracket.upper)} & bracket, upper \\\\")
    if report.smallest is not None:
        lines.append(f"$\\sigma_{{\\min}}$ & {_latex_number(report.minimum or 0.0)} & \\\\")
        lines.append(
            r"$\kappa(C) = \sigma_{\max}/\sigma_{\min}$ & "
            f"{_latex_number(report.condition or 0.0)} & \\\\"
        )
    lines.append(r"\hline")
    reasons = []
    for number, (name, value, relation, why) in enumerate(_comparison_rows(report), 1):
        key = next(key for key in _LATEX_NAMES if name.startswith(key))
        label = _LATEX_NAMES[key].format(reads=report.comparison.reads)
        lines.append(f"{label} & {_latex_number(value)} & {relation} ({number}) \\\\")
        reason = _LATEX_REASONS[why] if why in _LATEX_REASONS else escape_text(why)
        reasons.append(f"({number}) {reason}")
    lines += [r"\hline", r"\end{tabular}", r"\par\smallskip", r"{\small\raggedright"]
    lines += ["; ".join(reasons) + r".\par}", r"\end{minipage}"]
    if report.values is not None:
        lines += [
            r"\par\medskip",
            r"\noindent\begin{tabular}{rr}",
            r"\hline",
            f"singular values in & count (of {report.count}) \\\\",
            r"\hline",
        ]
        table = histogram(report.values, bins)
        for number, (lo, hi, n) in enumerate(table):
            close = "]" if number == len(table) - 1 else ")"
            lines.append(f"$[{lo:.4g}, {hi:.4g}{close}$ & ${n}$ \\\\")
        lines += [r"\hline", r"\end{tabular}"]
    return fragment("\n".join(lines) + "\n", what="spectrum table", packages=("amsmath",))
