"""Step-by-step derivations whose every statement is computed and checked.

A :class:`Derivation` is an ordered list of :class:`Step` objects. Each step
holds a title, prose, equations (LaTeX with a plain-text rendering) and the
:class:`Check` records that say how the step was verified and whether it
passed. Building a derivation runs its checks; a failed check is recorded,
never raised, so a reader sees exactly which statement did not hold.

:func:`output_size_derivation` derives the output-size formulas of a
convolution and of a transposed convolution: counting kernel placements, the
inverse problem (the ``stride`` input sizes that share one output size), the
role and legal range of ``output_padding``, and the special cases tabulated in
Dumoulin and Visin, *A guide to convolution arithmetic for deep learning*
(2016), each as an instance of the general formula. Identities are checked by
sympy where it can decide them, and otherwise exhaustively over a stated grid
of small values (:class:`Grid`).
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sympy

from .errors import ConvSpecError, ConvSpecTypeError
from .shapes import conv_output_size, effective_kernel_size, transposed_conv_output_size
from .spec import ConvSpec

__all__ = [
    "Check",
    "Derivation",
    "Equation",
    "Grid",
    "Step",
    "exhaustive_check",
    "output_size_derivation",
    "sympy_check",
]


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Equation:
    """One displayed equation: ``latex`` (math mode, no ``&``) and ``text`` (Unicode).

    ``text`` may span several lines (a pretty-printed matrix, say).
    """

    latex: str
    text: str


@dataclass(frozen=True)
class Check:
    """How a statement was verified and whether it held.

    Attributes
    ----------
    method : str
        ``"sympy: simplify(lhs - rhs) == 0"``, ``"exhaustive over n<=12, k<=5,
        ..."``, and so on: enough for a reader to redo the check.
    passed : bool
        Whether the statement held.
    detail : str
        What was compared (number of cases, the residual, a counterexample).
    """

    method: str
    passed: bool
    detail: str = ""

    def text(self) -> str:
        """``[ok] method (detail)`` or ``[FAILED] ...``."""
        verdict = "ok" if self.passed else "FAILED"
        detail = f" ({self.detail})" if self.detail else ""
        return f"[{verdict}] {self.method}{detail}"


@dataclass(frozen=True)
class Step:
    """One step of a derivation: a claim, its equations and their checks."""

    title: str
    prose: str
    equations: tuple[Equation, ...] = ()
    checks: tuple[Check, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether every check of this step passed (vacuously true without checks)."""
        return all(check.passed for check in self.checks)


class Derivation:
    """An ordered list of checked steps that prints as text or LaTeX.

    Parameters
    ----------
    title : str
        Heading of the whole derivation.
    steps : iterable of Step, optional

    Examples
    --------
    >>> d = Derivation("Demo")
    >>> step = d.add(
    ...     "Doubling",
    ...     "Two of anything is twice it.",
    ...     [Equation("x + x = 2 x", "x + x = 2·x")],
    ...     [sympy_check(sympy.Symbol("x") * 2, sympy.Symbol("x") + sympy.Symbol("x"))],
    ... )
    >>> d.all_checks_passed
    True
    >>> print(d.text())
    Demo
    ====
    <BLANKLINE>
    1. Doubling
       Two of anything is twice it.
           x + x = 2·x
       check [ok] sympy: simplify(lhs - rhs) == 0 (lhs = 2*x, rhs = 2*x)
    """

    def __init__(self, title: str, steps: Iterable[Step] = ()) -> None:
        self.title = title
        self._steps: list[Step] = list(steps)

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps, in order."""
        return tuple(self._steps)

    def add(
        self,
        title: str,
        prose: str,
        equations: Iterable[Equation] = (),
        checks: Iterable[Check] = (),
    ) -> Step:
        """Append a step and return it."""
        step = Step(title, prose, tuple(equations), tuple(checks))
        self._steps.append(step)
        return step

    @property
    def checks(self) -> tuple[Check, ...]:
        """Every check of every step, in order."""
        return tuple(check for step in self._steps for check in step.checks)

    @property
    def all_checks_passed(self) -> bool:
        """Whether every recorded check passed."""
        return all(check.passed for check in self.checks)

    def failures(self) -> list[tuple[str, Check]]:
        """``(step title, check)`` of every check that failed."""
        return [
            (step.title, check)
            for step in self._steps
            for check in step.checks
            if not check.passed
        ]

    def __len__(self) -> int:
        return len(self._steps)

    def __repr__(self) -> str:
        passed = sum(check.passed for check in self.checks)
        return (
            f"<Derivation {self.title!r}: {len(self)} steps, "
            f"{passed}/{len(self.checks)} checks passed>"
        )

    # ---------------------------------------------------------------- rendering

    def text(self, width: int = 88) -> str:
        """Plain text for terminals (Unicode), one numbered block per step."""
        lines = [self.title, "=" * len(self.title)]
        for number, step in enumerate(self._steps, 1):
            lines.append("")
            lines.append(f"{number}. {step.title}")
            for paragraph in step.prose.split("\n\n"):
                lines.append(
                    textwrap.fill(
                        " ".join(paragraph.split()),
                        width=width,
                        initial_indent="   ",
                        subsequent_indent="   ",
                    )
                )
            for equation in step.equations:
                lines.extend(f"       {line}" for line in equation.text.splitlines())
            lines.extend(f"   check {check.text()}" for check in step.checks)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def latex(self) -> str:
        """A LaTeX body fragment (amsmath only): ``\\section*``, ``\\subsection*``, ``gather*``.

        Pure ASCII; it compiles inside ``\\documentclass{article}`` with
        ``\\usepackage{amsmath}``.
        """
        out = [f"\\section*{{{latex_text(self.title)}}}"]
        for number, step in enumerate(self._steps, 1):
            out.append(f"\\subsection*{{{number}. {latex_text(step.title)}}}")
            for paragraph in step.prose.split("\n\n"):
                out.append(latex_text(" ".join(paragraph.split())))
                out.append("")
            if step.equations:
                body = " \\\\\n".join(equation.latex for equation in step.equations)
                out.append(f"\\begin{{gather*}}\n{body}\n\\end{{gather*}}")
            for check in step.checks:
                verdict = "passed" if check.passed else "FAILED"
                detail = f" ({latex_text(check.detail)})" if check.detail else ""
                out.append(
                    f"\\noindent\\textit{{Check {verdict}:}} "
                    f"{latex_text(check.method)}{detail}\\par"
                )
            out.append("")
        return "\n".join(out)

    def _repr_latex_(self) -> str:
        # Jupyter's MathJax renders display math, not \section; show the
        # equations of each step under its title.
        rows = []
        for number, step in enumerate(self._steps, 1):
            rows.append(f"\\textbf{{{number}. {_mathjax_text(step.title)}}}")
            rows.extend(equation.latex for equation in step.equations)
        return "$$\\begin{gathered}\n" + " \\\\\n".join(rows) + "\n\\end{gathered}$$"


# Text-mode replacements: LaTeX specials first, then the Unicode the prose uses.
_LATEX_TEXT = {
    "\\": "\\textbackslash{}",
    "&": "\\&",
    "%": "\\%",
    "$": "\\$",
    "#": "\\#",
    "_": "\\_",
    "{": "\\{",
    "}": "\\}",
    "~": "\\textasciitilde{}",
    "^": "\\textasciicircum{}",
    "<": "\\textless{}",
    ">": "\\textgreater{}",
    "|": "\\textbar{}",
    "≤": "$\\le$",
    "≥": "$\\ge$",
    "≠": "$\\ne$",
    "−": "-",
    "–": "--",
    "—": "---",
    "·": "$\\cdot$",
    "×": "$\\times$",
    "∂": "$\\partial$",
    "ᵀ": "$^{\\mathsf{T}}$",
    "⌊": "$\\lfloor$",
    "⌋": "$\\rfloor$",
    "∈": "$\\in$",
    "Σ": "$\\Sigma$",
    "→": "$\\to$",
    "⇔": "$\\Leftrightarrow$",
    "…": "\\dots{}",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "ℓ": "$\\ell$",
    "∀": "$\\forall$",
}


def latex_text(text: str) -> str:
    """Escape ``text`` for LaTeX text mode; known Unicode becomes ASCII commands.

    Raises
    ------
    ConvSpecError
        For a non-ASCII character without a replacement (pdflatex would
        stop on it, so refuse it here with a clear message).

    Examples
    --------
    >>> latex_text("a_b ≤ 50% of Cᵀ")
    'a\\\\_b $\\\\le$ 50\\\\% of C$^{\\\\mathsf{T}}$'
    """
    out = []
    for char in text:
        replacement = _LATEX_TEXT.get(char)
        if replacement is None:
            if not char.isascii():
                raise ConvSpecError(
                    f"character {char!r} (U+{ord(char):04X}) has no LaTeX text replacement"
                )
            replacement = char
        out.append(replacement)
    return "".join(out)


def _mathjax_text(text: str) -> str:
    # MathJax's \textbf{} shows Unicode as it is but does not expand macros,
    # so TeX specials (and < >, which an HTML page may misread) become spaces.
    return "".join(" " if c in "\\{}$&#^_%~<>" else c for c in text)


# --------------------------------------------------------------------------- checks


def sympy_check(lhs: Any, rhs: Any, *, note: str = "") -> Check:
    """Check ``lhs == rhs`` symbolically: ``expand``, then ``simplify``, of the difference.

    Matrices are compared entry by entry. Any exception is recorded as a
    failure.

    Examples
    --------
    >>> n = sympy.Symbol("n", integer=True, positive=True)
    >>> sympy_check(conv_output_size(n, 3), n - 2).passed
    True
    >>> sympy_check(n, n + 1).passed
    False
    """
    method = "sympy: simplify(lhs - rhs) == 0" + (f", {note}" if note else "")
    try:
        difference = sympy.expand(lhs - rhs)
        if isinstance(difference, sympy.MatrixBase):
            residual = [e for e in difference if e != 0]
            residual = [e for e in (sympy.simplify(e) for e in residual) if e != 0]
            passed = not residual
            detail = (
                f"{difference.rows}x{difference.cols} matrices, every entry zero"
                if passed
                else f"{len(residual)} nonzero entries, e.g. {residual[0]}"
            )
        else:
            if difference != 0:
                difference = sympy.simplify(difference)
            passed = difference == 0
            detail = f"lhs = {lhs}, rhs = {rhs}" if passed else f"residual {difference}"
    except Exception as error:  # a crash is a failed check, with its reason
        return Check(method, False, f"{type(error).__name__}: {error}")
    return Check(method, bool(passed), _shorten(detail))


def exhaustive_check(
    over: str, cases: Iterable[Any], predicate: Callable[[Any], bool]
) -> Check:
    """Check ``predicate(case)`` for every case; record the count or a counterexample.

    ``over`` describes the cases, e.g. ``"n<=12, k<=5, s<=4, p<=3, d<=3"``.
    An exception raised by the predicate is a failure for that case.

    Examples
    --------
    >>> exhaustive_check("n<=5", range(1, 6), lambda n: n * n >= n).detail
    '5 cases, all hold'
    """
    count = 0
    for case in cases:
        count += 1
        try:
            holds = predicate(case)
        except Exception as error:  # a crash is a counterexample, with its reason
            return Check(
                f"exhaustive over {over}",
                False,
                f"counterexample {case!r}: {type(error).__name__}: {error}",
            )
        if not holds:
            return Check(f"exhaustive over {over}", False, f"counterexample {case!r}")
    if count == 0:
        return Check(f"exhaustive over {over}", False, "no cases to check")
    return Check(f"exhaustive over {over}", True, f"{count} cases, all hold")


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- grid


@dataclass(frozen=True)
class Grid:
    """Largest values of the small-value grid that exhaustive checks run over.

    Sizes run from 1 to ``n``, kernel sizes 1 to ``k``, strides 1 to ``s``,
    paddings 0 to ``p``, dilations 1 to ``d``.

    Examples
    --------
    >>> Grid().describe()
    'n<=12, k<=5, s<=4, p<=3, d<=3'
    """

    n: int = 12
    k: int = 5
    s: int = 4
    p: int = 3
    d: int = 3

    def __post_init__(self) -> None:
        for name in ("n", "k", "s", "d"):
            _positive(name, getattr(self, name), 1)
        _positive("p", self.p, 0)

    def describe(self, size: str = "n") -> str:
        """``"n<=12, k<=5, s<=4, p<=3, d<=3"``; ``size`` names the size variable."""
        return f"{size}<={self.n}, k<={self.k}, s<={self.s}, p<={self.p}, d<={self.d}"

    def layers(self) -> Iterable[tuple[int, int, int, int]]:
        """Every ``(k, s, p, d)`` of the grid."""
        return itertools.product(
            range(1, self.k + 1),
            range(1, self.s + 1),
            range(0, self.p + 1),
            range(1, self.d + 1),
        )


def _positive(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConvSpecTypeError(f"grid {name}={value!r} must be an integer")
    if value < minimum:
        raise ConvSpecError(f"grid {name}={value} must be >= {minimum}")


# --------------------------------------------------------------------------- the derivation

_n, _k, _s, _d, _o = sympy.symbols("n k s d o", integer=True, positive=True)
_p, _a, _r = sympy.symbols("p a r", integer=True, nonnegative=True)
_pb, _pa = sympy.symbols("p_b p_a", integer=True, nonnegative=True)


def _count_placements(n: int, k: int, s: int, before: int, after: int, d: int) -> int:
    # The definition: slide the dilated kernel along the padded line.
    count = 0
    start = 0
    while start + d * (k - 1) <= n + before + after - 1:
        count += 1
        start += s
    return count


def _fits(n: int, k: int, p: int, d: int) -> bool:
    return n + 2 * p >= d * (k - 1) + 1


def _conv_or_none(n: int, k: int, s: int, p: Any, d: int) -> int | None:
    try:
        return conv_output_size(n, k, s, p, d)
    except ConvSpecError:
        return None


def _step_span(derivation: Derivation, grid: Grid) -> None:
    def holds(case: tuple[int, int]) -> bool:
        k, d = case
        taps = [t * d for t in range(k)]
        return max(taps) - min(taps) + 1 == effective_kernel_size(k, d)

    derivation.add(
        "Span of a dilated kernel",
        "A kernel of size k with dilation d reads taps 0, d, 2d, …, (k − 1)d of its window, "
        "so it spans d(k − 1) + 1 consecutive input positions.",
        [Equation(r"k_{\mathrm{eff}} = d\,(k - 1) + 1", "k_eff = d·(k − 1) + 1")],
        [
            sympy_check(effective_kernel_size(_k, _d), _d * (_k - 1) + 1),
            exhaustive_check(
                f"k<={grid.k}, d<={grid.d} (span of the tap positions)",
                itertools.product(range(1, grid.k + 1), range(1, grid.d + 1)),
                holds,
            ),
        ],
    )


def _step_conv(derivation: Derivation, grid: Grid) -> None:
    def counted(case: tuple[int, ...]) -> bool:
        n, k, s, before, after, d = case
        span = effective_kernel_size(k, d)
        if n + before + after < span:
            try:
                conv_output_size(n, k, s, (before, after), d)
            except ConvSpecError:
                return True  # no placement fits, and the formula refuses
            return False
        return conv_output_size(n, k, s, (before, after), d) == _count_placements(
            n, k, s, before, after, d
        )

    cases = (
        (n, k, s, before, after, d)
        for k, s, before, d in grid.layers()
        for after in range(grid.p + 1)
        for n in range(1, grid.n + 1)
    )
    formula = sympy.floor((_n + 2 * _p - _d * (_k - 1) - 1) / _s) + 1
    derivation.add(
        "Output size of a convolution: count the kernel placements",
        "Pad the input of size n with p zeros on each side, n + 2p positions in all. "
        "A placement whose first tap sits at padded position q covers q … q + k_eff − 1, "
        "so it fits when q ≤ n + 2p − k_eff. The placements start at q = 0, s, 2s, …, and "
        "the multiples of s in [0, n + 2p − k_eff] number ⌊(n + 2p − k_eff)/s⌋ + 1. "
        "With different amounts p_b before and p_a after, 2p becomes p_b + p_a. "
        "No placement fits when n + 2p < k_eff, and the formula is then refused.",
        [
            Equation(
                r"o = \left\lfloor \frac{n + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1",
                "o = ⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1",
            ),
            Equation(
                r"o = \left\lfloor \frac{n + p_b + p_a - d\,(k - 1) - 1}{s} \right\rfloor + 1",
                "o = ⌊(n + p_b + p_a − d·(k − 1) − 1) / s⌋ + 1",
            ),
        ],
        [
            sympy_check(
                conv_output_size(_n, _k, _s, _p, _d), formula, note="conv_output_size"
            ),
            sympy_check(
                conv_output_size(_n, _k, _s, (_pb, _pa), _d),
                sympy.floor((_n + _pb + _pa - _d * (_k - 1) - 1) / _s) + 1,
                note="padding (p_b, p_a)",
            ),
            exhaustive_check(
                f"{grid.describe()}, p_a<={grid.p} (placements counted one by one)",
                cases,
                counted,
            ),
        ],
    )


def _step_transposed(derivation: Derivation, grid: Grid) -> None:
    m_min = (_o - 1) * _s - 2 * _p + _d * (_k - 1) + 1
    derivation.add(
        "Output size of a transposed convolution",
        "A transposed convolution takes an input of size o (the output size of its forward "
        "convolution) back to a size m that the forward convolution maps to o. The last "
        "placement starts at (o − 1)s and ends k_eff − 1 later, so the padded forward input "
        "has at least (o − 1)s + k_eff positions; removing the 2p padding gives the smallest "
        "such m. output_padding a adds a positions at the end.",
        [
            Equation(
                r"m = (o - 1)\,s - 2p + d\,(k - 1) + a + 1",
                "m = (o − 1)·s − 2p + d·(k − 1) + a + 1",
            ),
        ],
        [
            sympy_check(
                transposed_conv_output_size(_o, _k, _s, _p, _a, _d),
                m_min + _a,
                note="transposed_conv_output_size",
            ),
        ],
    )


def _step_inverse(derivation: Derivation, grid: Grid) -> None:
    m_min = (_o - 1) * _s - 2 * _p + _d * (_k - 1) + 1
    # Large enough that every output size of the grid has its whole interval inside.
    top = grid.n + 2 * grid.s + grid.d * grid.k + 2 * grid.p

    def interval(case: tuple[int, int, int, int]) -> bool:
        k, s, p, d = case
        sizes: dict[int, list[int]] = {}
        for m in range(1, top + 1):
            out = _conv_or_none(m, k, s, p, d)
            if out is not None:
                sizes.setdefault(out, []).append(m)
        for out, found in sizes.items():
            start = (out - 1) * s - 2 * p + d * (k - 1) + 1
            if start + s - 1 > top:
                continue  # the interval runs past the sizes scanned
            if found != [m for m in range(start, start + s) if m >= 1]:
                return False
        return True

    derivation.add(
        "The inverse problem: every input size with the same output size",
        "Write an input size as m = m_min + r with m_min the smallest size from the previous "
        "step. The convolution maps it to o + ⌊r/s⌋, which equals o exactly when 0 ≤ r < s. "
        "So the sizes that convolve to o form an interval of s consecutive sizes (those that "
        "are at least 1): the floor in the convolution formula forgets r, and the transposed "
        "convolution cannot know which one was meant.",
        [
            Equation(
                r"\left\lfloor \frac{m + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1 = o"
                r"\iff m_{\min} \le m \le m_{\min} + s - 1",
                "⌊(m + 2p − d·(k − 1) − 1)/s⌋ + 1 = o  ⇔  m_min ≤ m ≤ m_min + s − 1",
            ),
            Equation(
                r"m_{\min} = (o - 1)\,s - 2p + d\,(k - 1) + 1",
                "m_min = (o − 1)·s − 2p + d·(k − 1) + 1",
            ),
        ],
        [
            sympy_check(
                conv_output_size(m_min + _r, _k, _s, _p, _d),
                _o + sympy.floor(_r / _s),
                note="m = m_min + r",
            ),
            exhaustive_check(
                f"r<{4 * grid.s}, s<={grid.s} (floor(r/s) == 0 iff 0 <= r < s)",
                itertools.product(range(4 * grid.s), range(1, grid.s + 1)),
                lambda case: (case[0] // case[1] == 0) == (case[0] < case[1]),
            ),
            exhaustive_check(
                f"k<={grid.k}, s<={grid.s}, p<={grid.p}, d<={grid.d}, m<={top} "
                "(all sizes m convolving to each o, compared with the interval)",
                grid.layers(),
                interval,
            ),
        ],
    )


def _step_select(derivation: Derivation, grid: Grid) -> None:
    def round_trip(case: tuple[int, ...]) -> bool:
        n, k, s, p, d = case
        if not _fits(n, k, p, d):
            return True
        out = conv_output_size(n, k, s, p, d)
        a = (n + 2 * p - d * (k - 1) - 1) % s
        chosen = transposed_conv_output_size(out, k, s, p, a, d)
        others = [
            transposed_conv_output_size(out, k, s, p, b, d)
            for b in range(s)
            if b != a and (out - 1) * s - 2 * p + d * (k - 1) + b + 1 >= 1
        ]
        return chosen == n and n not in others

    cases = (
        (n, k, s, p, d) for k, s, p, d in grid.layers() for n in range(1, grid.n + 1)
    )
    derivation.add(
        "output_padding selects one size of the interval",
        "Adding a = 0, 1, …, s − 1 to m_min walks through the interval, so each input size is "
        "recovered by exactly one output_padding: the remainder that the floor dropped.",
        [
            Equation(r"m = m_{\min} + a, \quad 0 \le a < s", "m = m_min + a,  0 ≤ a < s"),
            Equation(
                r"a = \bigl(m + 2p - d\,(k - 1) - 1\bigr) \bmod s",
                "a = (m + 2p − d·(k − 1) − 1) mod s",
            ),
        ],
        [
            exhaustive_check(
                f"{grid.describe()} (m = transposed size of conv size of m with this a, "
                "and no other a in [0, s) gives m)",
                cases,
                round_trip,
            ),
        ],
    )


def _step_range(derivation: Derivation, grid: Grid) -> None:
    def refused(case: tuple[int, ...]) -> bool:
        o, k, s, p, d, a = case
        try:
            transposed_conv_output_size(o, k, s, p, a, d)
        except ConvSpecError as error:
            # Refused: must be because of the range rule or a non-positive size.
            return a >= max(s, d) or "positive" in str(error)
        return a < max(s, d)

    def exact(case: tuple[int, ...]) -> bool:
        o, k, s, p, d, a = case
        m = (o - 1) * s - 2 * p + d * (k - 1) + a + 1
        if m < 1:
            return True
        symmetric = conv_output_size(m, k, s, p, d)
        if symmetric != o + a // s:
            return False
        cropped = conv_output_size(m, k, s, (p, p - s * (a // s)), d)
        return cropped == o

    cases = [
        (o, k, s, p, d, a)
        for k, s, p, d in grid.layers()
        for o in range(1, grid.n + 1)
        for a in range(max(s, d) + 2)
    ]
    derivation.add(
        "Why output_padding lies in [0, max(stride, dilation))",
        "For 0 ≤ a < s the size m = m_min + a lies in the interval, and the forward "
        "convolution of m has exactly o outputs: the transposed layer is the exact transpose "
        "of that convolution. For a ≥ s the size leaves the interval and the forward "
        "convolution with p on both sides has o + ⌊a/s⌋ outputs; the transposed layer then "
        "equals the transpose of the forward convolution cropped to its first o outputs, "
        "i.e. with s⌊a/s⌋ less padding after. Only below s does each a give a different size "
        "of the interval; PyTorch's rule also admits s ≤ a < d when the dilation exceeds the "
        "stride, and refuses every a ≥ max(s, d), as transposed_conv_output_size does.",
        [
            Equation(
                r"0 \le a < \max(s, d)",
                "0 ≤ a < max(s, d)",
            ),
            Equation(
                r"o\bigl(m_{\min} + a\bigr) = o + \left\lfloor \frac{a}{s} \right\rfloor,"
                r"\qquad p_{\mathrm{after}} = p - s \left\lfloor \frac{a}{s} \right\rfloor"
                r"\ \text{restores}\ o",
                "conv size of (m_min + a) = o + ⌊a/s⌋;  p_after = p − s·⌊a/s⌋ restores o",
            ),
        ],
        [
            exhaustive_check(
                f"{grid.describe('o')}, a<max(s,d)+2 "
                "(transposed_conv_output_size refuses exactly a >= max(s, d))",
                cases,
                refused,
            ),
            exhaustive_check(
                f"{grid.describe('o')}, a<max(s,d)+2 "
                "(conv of m_min + a has o + a//s outputs; cropping gives o)",
                cases,
                exact,
            ),
        ],
    )


# (title, substitutions, conv equation (latex, text, sympy rhs),
#  transposed equation (latex, text, sympy rhs), padding of the equivalent direct conv)
_r_half = sympy.Symbol("r", integer=True, nonnegative=True)
_SPECIAL_CASES: list[tuple[str, dict[Any, Any], tuple[str, str, Any], tuple[str, str, Any], str]]
_SPECIAL_CASES = [
    (
        "no zero padding, unit stride (s = 1, p = 0)",
        {_s: 1, _p: 0, _d: 1, _a: 0},
        ("o = n - k + 1", "o = n − k + 1", _n - _k + 1),
        ("m = o + k - 1", "m = o + k − 1", _o + _k - 1),
        "full padding k − 1",
    ),
    (
        "zero padding, unit stride (s = 1)",
        {_s: 1, _d: 1, _a: 0},
        ("o = n + 2p - k + 1", "o = n + 2p − k + 1", _n + 2 * _p - _k + 1),
        ("m = o + k - 2p - 1", "m = o + k − 2p − 1", _o + _k - 2 * _p - 1),
        "padding k − p − 1",
    ),
    (
        "half ('same') padding (s = 1, k = 2r + 1, p = r)",
        {_s: 1, _d: 1, _a: 0, _k: 2 * _r_half + 1, _p: _r_half},
        ("o = n", "o = n", _n),
        ("m = o", "m = o", _o),
        "the same half padding r",
    ),
    (
        "full padding (s = 1, p = k − 1)",
        {_s: 1, _d: 1, _a: 0, _p: _k - 1},
        ("o = n + k - 1", "o = n + k − 1", _n + _k - 1),
        ("m = o - k + 1", "m = o − k + 1", _o - _k + 1),
        "no padding",
    ),
    (
        "no zero padding, strided (p = 0)",
        {_p: 0, _d: 1, _a: 0},
        (
            r"o = \left\lfloor \frac{n - k}{s} \right\rfloor + 1",
            "o = ⌊(n − k)/s⌋ + 1",
            sympy.floor((_n - _k) / _s) + 1,
        ),
        ("m = s\\,(o - 1) + k", "m = s·(o − 1) + k", _s * (_o - 1) + _k),
        "s − 1 zeros between inputs, padding k − 1",
    ),
    (
        "zero padding, strided",
        {_d: 1},
        (
            r"o = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1",
            "o = ⌊(n + 2p − k)/s⌋ + 1",
            sympy.floor((_n + 2 * _p - _k) / _s) + 1,
        ),
        (
            r"m = s\,(o - 1) + k - 2p + a,\quad a = (n + 2p - k) \bmod s",
            "m = s·(o − 1) + k − 2p + a,  a = (n + 2p − k) mod s",
            _s * (_o - 1) + _k - 2 * _p + _a,
        ),
        "s − 1 zeros between inputs, padding k − p − 1, a more zeros at the end",
    ),
    (
        "dilated",
        {},
        (
            r"o = \left\lfloor \frac{n + 2p - k - (k - 1)(d - 1)}{s} \right\rfloor + 1",
            "o = ⌊(n + 2p − k − (k − 1)(d − 1))/s⌋ + 1",
            sympy.floor((_n + 2 * _p - _k - (_k - 1) * (_d - 1)) / _s) + 1,
        ),
        (
            r"m = s\,(o - 1) + d\,(k - 1) + 1 - 2p + a",
            "m = s·(o − 1) + d·(k − 1) + 1 − 2p + a",
            _s * (_o - 1) + _d * (_k - 1) + 1 - 2 * _p + _a,
        ),
        "s − 1 zeros between inputs, padding d(k − 1) − p, a more zeros at the end",
    ),
]


def _step_special_cases(derivation: Derivation) -> None:
    for title, subs, (conv_tex, conv_text, conv_rhs), (t_tex, t_text, t_rhs), direct in (
        _SPECIAL_CASES
    ):
        k, s, p, d, a = (subs.get(symbol, symbol) for symbol in (_k, _s, _p, _d, _a))
        general = conv_output_size(_n, k, s, p, d)
        derivation.add(
            f"Special case: {title}",
            "The general formula with these values; from Dumoulin and Visin's table.",
            [Equation(conv_tex, conv_text)],
            [sympy_check(general, conv_rhs, note="conv_output_size with these values")],
        )
        transposed = transposed_conv_output_size(_o, k, s, p, a, d)
        # The transposed convolution as a direct one: insert s - 1 zeros between the
        # o inputs, pad with d(k - 1) - p (plus a at the end), slide at unit stride.
        stretched = s * (_o - 1) + 1
        pad = d * (k - 1) - p
        equivalent = conv_output_size(stretched, k, 1, (pad, pad + a), d)
        derivation.add(
            f"Special case, transposed: {title}",
            f"The transposed layer of the same geometry maps o back to m. It equals a direct "
            f"convolution with unit stride on its input with {direct}; that convolution's "
            f"size is checked too.",
            [Equation(t_tex, t_text)],
            [
                sympy_check(
                    transposed, t_rhs, note="transposed_conv_output_size with these values"
                ),
                sympy_check(equivalent, t_rhs, note="size of the equivalent direct convolution"),
            ],
        )


def _step_spec(derivation: Derivation, spec: ConvSpec) -> None:
    equations = []
    checks = []
    arguments = spec.transposed_arguments()
    for i in range(spec.ndim):
        n, k, s, d = spec.input_shape[i], spec.kernel_size[i], spec.stride[i], spec.dilation[i]
        before, after = spec.padding[i]
        o = spec.output_shape[i]
        numerator = n + before + after - d * (k - 1) - 1
        # A cropping (negative) after-padding prints as a subtraction.
        sign, amount = ("-", -after) if after < 0 else ("+", after)
        equations.append(
            Equation(
                rf"o_{{{i}}} = \left\lfloor \frac{{{n} + {before} {sign} {amount} - {d}\cdot"
                rf"({k} - 1) - 1}}{{{s}}} \right\rfloor + 1 = \left\lfloor \frac{{{numerator}}}"
                rf"{{{s}}} \right\rfloor + 1 = {o}",
                f"o_{i} = ⌊({n} + {before} {sign.replace('-', '−')} {amount} − {d}·({k} − 1) − 1)"
                f"/{s}⌋ + 1 = ⌊{numerator}/{s}⌋ + 1 = {o}",
            )
        )
        low = (o - 1) * s - before - after + d * (k - 1) + 1
        sizes = [m for m in range(low, low + s) if m >= 1]
        equations.append(
            Equation(
                rf"\text{{dim {i}: input sizes with }} o_{{{i}}} = {o}\text{{: }} "
                rf"{sizes[0]} \le m \le {sizes[-1]}",
                f"dim {i}: input sizes with o_{i} = {o}: {sizes[0]} ≤ m ≤ {sizes[-1]}",
            )
        )
        counted = _count_placements(n, k, s, before, after, d)
        checks.append(
            Check(
                f"dim {i}: kernel placements counted one by one",
                counted == o,
                f"counted {counted}, formula {o}",
            )
        )
        checks.append(
            exhaustive_check(
                f"dim {i}: every m in 1..{low + 2 * s}, conv size == {o} iff m in "
                f"[{sizes[0]}, {sizes[-1]}]",
                range(1, low + 2 * s + 1),
                lambda m, args=(k, s, (before, after), d), o=o, sizes=sizes: (
                    _conv_or_none(m, *args) == o
                )
                == (m in sizes),
            )
        )
        if arguments is not None:
            a = arguments["output_padding"][i]
            p = arguments["padding"][i]
            equations.append(
                Equation(
                    rf"m_{{{i}}} = ({o} - 1)\cdot {s} - 2\cdot {p} + {d}\cdot({k} - 1) + {a}"
                    rf" + 1 = {n}",
                    f"m_{i} = ({o} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {a} + 1 = {n}",
                )
            )
            size = transposed_conv_output_size(o, k, s, p, a, d)
            checks.append(
                Check(
                    f"dim {i}: transposed_conv_output_size with output_padding={a}",
                    size == n,
                    f"computed {size}, input size {n}",
                )
            )
    if arguments is None:
        tail = (
            "Its padding has no (padding, output_padding) equivalent, so no ConvTranspose "
            "layer has exactly this transpose."
        )
    else:
        tail = (
            "The last equation per dim is the transposed layer (padding "
            f"{arguments['padding']}, output_padding {arguments['output_padding']}) "
            "taking the output size back to the input size."
        )
    derivation.add(
        "The numbers of this spec",
        f"input_shape {spec.input_shape}, kernel_size {spec.kernel_size}, stride "
        f"{spec.stride}, padding {spec.padding}, dilation {spec.dilation}. " + tail,
        equations,
        checks,
    )


def output_size_derivation(spec: ConvSpec | None = None, *, grid: Grid | None = None) -> Derivation:
    """The output-size formulas of convolution and transposed convolution, derived and checked.

    Steps: the span of a dilated kernel; the convolution's size by counting
    kernel placements, ``o = floor((n + 2p - d(k-1) - 1)/s) + 1``; the
    transposed size ``m = (o-1)s - 2p + d(k-1) + a + 1``; the inverse
    problem (the ``s`` input sizes with the same output); how
    ``output_padding`` ``a`` selects one; why ``0 <= a < max(s, d)``; the
    special cases of Dumoulin and Visin's convolution-arithmetic guide, each
    with its transposed counterpart; and, when ``spec`` is given, its numbers
    per dim.

    Parameters
    ----------
    spec : ConvSpec, optional
        A layer whose numbers are filled in at the end.
    grid : Grid, optional
        Bounds of the exhaustive checks; ``Grid()`` (n<=12, k<=5, s<=4, p<=3,
        d<=3) by default.

    Returns
    -------
    Derivation
        Every check already run; ``all_checks_passed`` says whether all held.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec` or ``grid`` not a :class:`Grid`.

    Notes
    -----
    Symbols ``n, k, s, d, o`` are positive integers and ``p, a`` non-negative
    integers; sympy checks use these assumptions. Identities with a floor that
    sympy cannot decide (the interval argument) are checked exhaustively over
    the grid, and the check record says so.

    Examples
    --------
    >>> d = output_size_derivation(grid=Grid(n=5, k=3, s=2, p=1, d=2))
    >>> d.all_checks_passed
    True
    >>> d.steps[1].equations[0].text
    'o = ⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1'
    """
    if spec is not None and not isinstance(spec, ConvSpec):
        raise ConvSpecTypeError(f"spec={spec!r} must be a ConvSpec or None")
    if grid is None:
        grid = Grid()
    if not isinstance(grid, Grid):
        raise ConvSpecTypeError(f"grid={grid!r} must be a Grid")
    derivation = Derivation("Output sizes of convolution and transposed convolution")
    _step_span(derivation, grid)
    _step_conv(derivation, grid)
    _step_transposed(derivation, grid)
    _step_inverse(derivation, grid)
    _step_select(derivation, grid)
    _step_range(derivation, grid)
    _step_special_cases(derivation)
    if spec is not None:
        _step_spec(derivation, spec)
    return derivation
