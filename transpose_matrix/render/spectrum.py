r"""The ``spectrum`` report: a layer's norm, smallest singular value and condition number.

The maths is :mod:`transpose_matrix.analysis.spectrum`. This module decides what a
report computes (the whole spectrum when a method reaches it, else the ``k``
largest and smallest values) and lays it out as text with a histogram or as
a LaTeX table. The command's options live in
:mod:`transpose_matrix.cli.spectrum`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConvSpecError
from .documents import fragment
from .latex import code_latex, escape_text
from .report import conv_call, transposed_call

if TYPE_CHECKING:
    import numpy as np

    from ..analysis.spectrum import NormComparison

# numpy and the maths (scipy's ARPACK) are imported when a report is computed.

__all__ = [
    "SpectrumReport",
    "histogram",
    "spectrum_latex",
    "spectrum_report",
    "spectrum_text",
]

# Width of the longest histogram bar, in characters.
_BAR = 40


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
        None when no method reaches it within its limits (see ``notes``).
    values : numpy.ndarray or None
        Every value, largest first, when a method reaches them all.
    methods : dict
        ``which -> method`` that produced it.
    comparison : NormComparison
        The norm beside the shortcuts and bounds.
    notes : tuple of str
        Why something was not computed.
    """

    spec: Any
    count: int
    largest: np.ndarray
    smallest: np.ndarray | None
    values: np.ndarray | None
    methods: dict[str, str]
    comparison: NormComparison
    notes: tuple[str, ...] = ()

    @property
    def norm(self) -> float:
        """``‖C‖₂``, the largest singular value."""
        return float(self.largest[0])

    @property
    def minimum(self) -> float | None:
        """The smallest singular value, if computed."""
        return None if self.smallest is None else float(self.smallest[-1])

    @property
    def condition(self) -> float | None:
        """``σ_max / σ_min`` (infinite when C is rank deficient), if ``σ_min`` is known."""
        low = self.minimum
        if low is None:
            return None
        return math.inf if low == 0 else self.norm / low


def spectrum_report(
    spec: Any, weight: Any, k: int = 5, *, tol: float | None = None, seed: int = 0
) -> SpectrumReport:
    """Compute what the ``spectrum`` command shows: all values if reachable, else ``k`` each end.

    ``k`` is capped at the number of values; ``tol`` defaults to
    :data:`~transpose_matrix.analysis.spectrum.DEFAULT_TOL`.

    Raises
    ------
    ConvSpecError
        From :func:`~transpose_matrix.singular_values` (a bad weight, no
        convergence, the memory guard).
    """
    from ..analysis.spectrum import DEFAULT_TOL, choose_method, compare_norms, singular_values

    tol = DEFAULT_TOL if tol is None else tol
    count = min(spec.matrix_shape)
    k = min(k, count)
    notes: list[str] = []
    methods: dict[str, str] = {}
    values = smallest = None
    try:
        methods["all"] = choose_method(spec, "all")
    except ConvSpecError as error:
        notes.append(f"all values: not computed, {error}")
    if "all" in methods:
        values = singular_values(spec, weight, which="all", tol=tol, seed=seed)
        largest, smallest = values[:k], values[count - k :]
    else:
        methods["largest"] = choose_method(spec, "largest", k)
        largest = singular_values(spec, weight, k, "largest", tol=tol, seed=seed)
        try:
            methods["smallest"] = choose_method(spec, "smallest", k)
        except ConvSpecError as error:
            notes.append(f"smallest values: not computed, {error}")
        else:
            smallest = singular_values(spec, weight, k, "smallest", tol=tol, seed=seed)
    comparison = compare_norms(spec, weight, tol=tol, seed=seed, norm=float(largest[0]))
    return SpectrumReport(
        spec, count, largest, smallest, values, methods, comparison, tuple(notes)
    )


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


def _method_line(report: SpectrumReport) -> str:
    exact = {"fft": "FFT, exact", "dense": "dense SVD, exact"}
    described = {
        **exact,
        "iterative": "Lanczos, tolerance-bound",
        "shift-invert": "shift-invert Lanczos, tolerance-bound",
    }
    parts = [f"{which}: {described[method]}" for which, method in report.methods.items()]
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
        f"  ‖C‖₂ = σ_max       {_number(report.norm)}",
    ]
    if report.smallest is None:
        lines.append("  σ_min              not computed")
    else:
        lines.append(f"  σ_min              {_number(report.minimum)}")
        lines.append(f"  condition number   {_number(report.condition)}")
    k = len(report.largest)
    lines.append(f"  {k} largest:  " + "  ".join(_number(v) for v in report.largest))
    if report.smallest is not None:
        lines.append(f"  {k} smallest: " + "  ".join(_number(v) for v in report.smallest))
    lines += ["", "Shortcuts and bounds beside ‖C‖₂:"]
    table = _comparison_rows(report)
    width = max(len(name) for name, _, _, _ in table)
    for name, value, relation, why in table:
        lines.append(f"  {name:<{width}}  {_number(value):>10}  {relation}")
        lines.append(f"      ({why})")
    for note in report.notes:
        lines += ["", f"Note: {note}"]
    if report.values is not None:
        table = histogram(report.values, bins)
        lines += ["", f"Histogram of the {report.count} singular values ({bins} bins from 0):"]
        most = max(n for _, _, n in table) or 1
        edge = max(len(f"{hi:.4g}") for _, hi, _ in table)
        for number, (lo, hi, n) in enumerate(table):
            close = "]" if number == len(table) - 1 else ")"
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
        r"$\|C\|_2 = \|C^{\mathsf{T}}\|_2 = \sigma_{\max}$ & "
        f"{_latex_number(report.norm)} & exact \\\\",
    ]
    if report.smallest is not None:
        lines.append(f"$\\sigma_{{\\min}}$ & {_latex_number(report.minimum)} & \\\\")
        lines.append(
            r"$\kappa(C) = \sigma_{\max}/\sigma_{\min}$ & "
            f"{_latex_number(report.condition)} & \\\\"
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
