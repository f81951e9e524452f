r"""Derivations whose every displayed statement is a checked sympy object.

One model serves the library (:func:`output_size_derivation`,
:func:`~transpose_matrix.narrative.gradient.gradient_derivation`) and the scripts in
``derivations/``. A :class:`Derivation` is a titled list of :class:`Step`
objects; a step holds, in reading order, blocks of five kinds:

* :class:`Prose`: a paragraph in a small markup: ``$…$`` is inline maths
  written in LaTeX, ```…``` is code, everything else is plain text;
* :class:`Display`: aligned equations, each an :class:`Equation` of sympy
  objects, printed by sympy (``sympy.latex`` for LaTeX, sympy's Unicode
  pretty printer for text), so what is shown is the expression that is checked;
* :class:`Matrices`: named matrices (sympy, scipy.sparse or numpy), printed
  by the render layer;
* :class:`Table`: a small table whose cells use the prose markup;
* :class:`Check`: a claim in words and maths, how it was verified, and
  whether it held.

Building a derivation runs its checks; a failed check is recorded, never
raised, so a reader sees exactly which statement did not hold. Rendering
lives in :mod:`transpose_matrix.render.derivation`; the model imports it
only when asked for text, LaTeX or HTML. The prose markup itself (its check,
and :func:`describe_spec`, a layer in words) is
:mod:`transpose_matrix.render.prose`, also imported when first used.

Expressions built inside ``with sympy.evaluate(False):`` keep the order they
were written in (``n + 2p - d(k - 1) - 1``, not sympy's canonical
``-d(k - 1) + n + 2p - 1``) and are printed that way; checks evaluate them
(``doit``) before comparing.

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from ..errors import ConvSpecError, ConvSpecTypeError
from ..geometry.shapes import (
    MAX_INT,
    conv_output_size,
    effective_kernel_size,
    strict_sympify,
    transposed_conv_output_size,
)
from ..geometry.spec import ConvSpec
from .markup import check_markup, describe_spec

__all__ = [
    "RELATIONS",
    "Check",
    "Derivation",
    "Display",
    "Equation",
    "Filled",
    "Grid",
    "Matrices",
    "Prose",
    "Step",
    "Table",
    "computed_check",
    "describe_spec",
    "exhaustive_check",
    "output_size_derivation",
    "output_size_equations",
    "strict_sympify",
    "sympy_check",
]


# --------------------------------------------------------------------------- records


#: Relations an :class:`Equation` may use: name -> (LaTeX, Unicode).
RELATIONS = {
    "=": ("=", "="),
    "<": ("<", "<"),
    "<=": (r"\le", "≤"),
    ">=": (r"\ge", "≥"),
    "in": (r"\in", "∈"),
    "iff": (r"\iff", "⇔"),
}

# sympy relationals that an Equation splits into sides and a relation.
_SPLIT = {"Equality": "=", "StrictLessThan": "<", "LessThan": "<=", "GreaterThan": ">="}


@dataclass(frozen=True)
class Prose:
    r"""A paragraph: plain text with ``$…$`` inline LaTeX maths and ```…``` code.

    Examples
    --------
    >>> Prose(r"A kernel of size $k$ reads `x[j*s - p + t*d]`.").text
    'A kernel of size $k$ reads `x[j*s - p + t*d]`.'
    """

    text: str

    def __post_init__(self) -> None:
        check_markup(self.text)


class Equation:
    r"""One line of a display: ``sides[0] rel sides[1] rel …``, each side a sympy object.

    Parameters
    ----------
    *sides
        sympy expressions (or matrices, sets, booleans); Python numbers are
        sympified. A single sympy relational (``Eq``, ``Le``, ``Lt``, ``Ge``)
        is split into its two sides.
    relation : str
        A key of :data:`RELATIONS`, the same between every pair of sides.
    note : str
        Prose markup set after the equation, e.g. ``"for $0 \le a < s$"``.
    order : {"auto", "written", "sympy"}
        How sums and products are ordered when printed: ``"written"`` as
        built (with ``sympy.evaluate(False)``), ``"sympy"`` in sympy's
        canonical order, ``"auto"`` as written when some sum or product
        differs from its evaluated form, else sympy's.

    Examples
    --------
    >>> n, k = sympy.symbols("n k", integer=True, positive=True)
    >>> Equation(sympy.Symbol("o"), n - k + 1).sides
    (o, -k + n + 1)
    >>> Equation(sympy.Eq(sympy.Symbol("o"), n)).relation
    '='
    """

    __slots__ = ("note", "order", "relation", "sides")

    def __init__(
        self, *sides: Any, relation: str = "=", note: str = "", order: str = "auto"
    ) -> None:
        if len(sides) == 1 and type(sides[0]).__name__ in _SPLIT:
            relation = _SPLIT[type(sides[0]).__name__]
            sides = sides[0].args
        if relation not in RELATIONS:
            raise ConvSpecError(
                f"relation={relation!r} must be one of {', '.join(map(repr, RELATIONS))}"
            )
        if not sides:
            raise ConvSpecError("an equation needs at least one side")
        if order not in ("auto", "written", "sympy"):
            raise ConvSpecError(f"order={order!r} must be 'auto', 'written' or 'sympy'")
        self.order = order
        self.sides = tuple(strict_sympify(side, f"equation side {side!r}") for side in sides)
        self.relation = relation
        self.note = Prose(note).text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Equation):
            return NotImplemented
        same = (self.relation, self.note, len(self.sides)) == (
            other.relation,
            other.note,
            len(other.sides),
        )
        return same and all(a == b for a, b in zip(self.sides, other.sides))

    __hash__ = None  # type: ignore[assignment]  # sympy matrices are unhashable

    def __repr__(self) -> str:
        relation = f" {self.relation} "
        return f"Equation({relation.join(sympy.sstr(side) for side in self.sides)})"

    def text(self) -> str:
        """The equation as sympy's Unicode pretty printer shows it."""
        from ..render.derivation import equation_text

        return equation_text(self)

    def latex(self) -> str:
        """The equation as math-mode LaTeX (``lhs = rhs``, no ``&``), printed by sympy."""
        from ..render.derivation import equation_latex

        return equation_latex(self)


class Filled(sympy.Expr):
    r"""A formula with numbers filled in for its symbols, kept as the formula.

    Printed, each symbol shows its number (``2 p`` with ``p = 1`` prints
    ``2 \cdot 1``), in the order the formula was written; ``doit()`` puts the
    numbers in and evaluates. The formula itself stays symbolic, so sympy
    never reasons about unevaluated products of numbers (it misjudges those
    with a zero factor).

    Examples
    --------
    >>> n, p = sympy.symbols("n p", integer=True, nonnegative=True)
    >>> with sympy.evaluate(False):
    ...     formula = n + 2 * p - 1
    >>> filled = Filled(formula, {n: 4, p: 0})
    >>> filled.doit(), filled.values[p]
    (3, 0)
    """

    is_commutative = True

    def __new__(cls, formula: Any, values: Any, **_options: Any) -> Filled:
        pairs = values.args if isinstance(values, sympy.Tuple) else tuple(
            sympy.Tuple(symbol, sympy.Integer(value)) for symbol, value in dict(values).items()
        )
        return sympy.Expr.__new__(cls, formula, sympy.Tuple(*pairs))

    @property
    def formula(self) -> Any:
        """The expression with its symbols."""
        return self.args[0]

    @property
    def values(self) -> dict[Any, Any]:
        """Symbol -> the integer filled in for it."""
        return {symbol: value for symbol, value in self.args[1]}

    @property
    def free_symbols(self) -> set[Any]:
        """None: every symbol has its number."""
        return set()

    def doit(self, **hints: Any) -> Any:
        return self.formula.xreplace(self.values).doit(**hints)

    def _sympystr(self, printer: Any) -> str:
        numbers = ", ".join(f"{printer.doprint(k)}={v}" for k, v in self.values.items())
        return f"({printer.doprint(self.formula)} at {numbers})"


@dataclass(frozen=True)
class Display:
    """Equations displayed together, aligned on their first relation."""

    equations: tuple[Equation, ...]


@dataclass(frozen=True)
class Matrices:
    r"""Named matrices shown side by side.

    Attributes
    ----------
    items : tuple of (name, matrix)
        ``name`` is inline LaTeX maths (``r"C^{\mathsf T}"``) or a sympy
        object; ``matrix`` a sympy, ``scipy.sparse`` or numpy matrix.
    zero : str
        ``"dot"`` shows zeros as a centred dot, ``"0"`` as zeros.
    max_rows, max_cols : int or None
        Elision limits handed to the render layer (None: its defaults).
    note : str
        Prose markup set under the matrices.
    """

    items: tuple[tuple[Any, Any], ...]
    zero: str = "dot"
    max_rows: int | None = None
    max_cols: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Table:
    """A small table; header and cells are prose markup (or numbers)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Check:
    r"""A claim, how it was verified, and whether it held.

    Made by :func:`sympy_check`, :func:`exhaustive_check` and
    :func:`computed_check`; each field is a parameter of the constructor and
    an attribute of the result.

    Parameters
    ----------
    claim : str
        Prose markup stating what holds, in words and maths: ``"`conv_output_size`
        returns this expression for all integers $k, n, s \ge 1$"``.
    method : str
        How: ``"verified symbolically"``, ``"verified exhaustively over $n \le
        12$ (12 cases)"``; empty for a value computed by the script (the claim
        then says what was computed, e.g. against torch).
    passed : bool
        Whether the claim held.
    detail : str
        Prose markup: a largest difference, a residual, a counterexample.

    Examples
    --------
    >>> print(Check("It holds.", "verified symbolically", True).text())
    ✓ It holds; verified symbolically.
    >>> print(Check("It holds.", "", False, "off by 1").text())
    ✗ FAILED: It holds (off by 1).
    """

    claim: str
    method: str
    passed: bool
    detail: str = ""

    def text(self) -> str:
        """``✓ claim; method (detail).`` or ``✗ FAILED: …`` in Unicode."""
        from ..render.derivation import check_text

        return check_text(self)


Block = Prose | Display | Matrices | Table | Check


class Step:
    """One step of a derivation: a title and its blocks in reading order.

    A step with an empty title is an untitled introduction.

    Parameters
    ----------
    title : str
        Prose markup; empty for an introduction.
    blocks : iterable of Prose, Display, Matrices, Table or Check
        The step's first blocks; more are appended with :meth:`say`,
        :meth:`show` and the other builders.

    Raises
    ------
    ConvSpecTypeError
        A block of another type, or a title that is not a string.
    ConvSpecError
        A title with an unmatched ``$`` or backquote.

    Examples
    --------
    >>> step = Step("The size", [Prose("One line.")])
    >>> step.title, step.blocks
    ('The size', [Prose(text='One line.')])
    """

    def __init__(self, title: str = "", blocks: Iterable[Block] = ()) -> None:
        self.title = Prose(title).text
        self.blocks: list[Block] = []
        for block in blocks:
            self._append(block)

    def _append(self, block: Block) -> Any:
        if not isinstance(block, (Prose, Display, Matrices, Table, Check)):
            raise ConvSpecTypeError(
                f"block {block!r} must be a Prose, Display, Matrices, Table or Check"
            )
        self.blocks.append(block)
        return block

    # ---------------------------------------------------------------- building

    def say(self, text: str) -> Prose:
        """Append a paragraph of prose markup."""
        return self._append(Prose(text))

    def show(self, *equations: Equation | Any) -> Display:
        """Append a display of equations (an Equation, a sympy relational, or a side tuple)."""
        rows = []
        for equation in equations:
            if isinstance(equation, tuple):
                equation = Equation(*equation)
            elif not isinstance(equation, Equation):
                equation = Equation(equation)
            rows.append(equation)
        return self._append(Display(tuple(rows)))

    def matrices(
        self,
        items: Sequence[tuple[Any, Any]],
        *,
        zero: str = "dot",
        max_rows: int | None = None,
        max_cols: int | None = None,
        note: str = "",
    ) -> Matrices:
        """Append named matrices shown side by side (``zero``: ``"dot"`` or ``"0"``)."""
        if zero not in ("dot", "0"):
            raise ConvSpecError(f"zero={zero!r} must be 'dot' or '0'")
        block = Matrices(tuple(items), zero, max_rows, max_cols, Prose(note).text)
        return self._append(block)

    def matrix(self, name: Any, matrix: Any, **options: Any) -> Matrices:
        """Append one named matrix (options as for :meth:`matrices`)."""
        return self.matrices([(name, matrix)], **options)

    def table(
        self, header: Sequence[Any], rows: Sequence[Sequence[Any]], caption: str = ""
    ) -> Table:
        """Append a table; every cell is prose markup (numbers are written as they print)."""
        head = tuple(Prose(str(cell)).text for cell in header)
        body = tuple(tuple(Prose(str(cell)).text for cell in row) for row in rows)
        for row in body:
            if len(row) != len(head):
                raise ConvSpecError(
                    f"table row {row!r} has {len(row)} cells; the header has {len(head)}"
                )
        return self._append(Table(head, body, Prose(caption).text))

    def check(self, check: Check | Any, claim: str = "", detail: str = "") -> Check:
        """Append a :class:`Check`, or record ``computed_check(check, claim, detail)``."""
        if not isinstance(check, Check):
            check = computed_check(check, claim, detail)
        return self._append(check)

    # ---------------------------------------------------------------- reading

    @property
    def prose(self) -> tuple[str, ...]:
        """The paragraphs, in order."""
        return tuple(block.text for block in self.blocks if isinstance(block, Prose))

    @property
    def equations(self) -> tuple[Equation, ...]:
        """Every displayed equation, in order."""
        return tuple(
            equation
            for block in self.blocks
            if isinstance(block, Display)
            for equation in block.equations
        )

    @property
    def checks(self) -> tuple[Check, ...]:
        """The checks, in order."""
        return tuple(block for block in self.blocks if isinstance(block, Check))

    @property
    def passed(self) -> bool:
        """Whether every check of this step passed (vacuously true without checks)."""
        return all(check.passed for check in self.checks)

    def __repr__(self) -> str:
        return f"<Step {self.title!r}: {len(self.blocks)} blocks>"


class Derivation:
    r"""A titled, ordered list of checked steps that prints as text, LaTeX and HTML.

    Parameters
    ----------
    title : str
        Heading of the whole derivation (prose markup).
    steps : iterable of Step, optional
    label : str, optional
        A LaTeX label (``sec:<label>``) for the heading, for cross-references.
    source : str, optional
        What computed it, e.g. ``"derivations/checkerboard.py"``, shown under
        the heading.

    Notes
    -----
    The building methods :meth:`say`, :meth:`show`, :meth:`matrix`,
    :meth:`matrices`, :meth:`table` and :meth:`check` append to the current
    (last) step, starting an untitled one if there is none yet; :meth:`step`
    starts a new one.

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> d = Derivation("Demo")
    >>> step = d.step("Doubling")
    >>> _ = d.say("Two of anything is twice it: $x + x = 2x$.")
    >>> with sympy.evaluate(False):
    ...     twice = x + x
    >>> _ = d.show(Equation(twice, 2 * x))
    >>> _ = d.check(sympy_check(twice, 2 * x))
    >>> d.all_checks_passed
    True
    >>> print(d.text())
    Demo
    ====
    <BLANKLINE>
    1. Doubling
       Two of anything is twice it: x + x = 2x.
    <BLANKLINE>
           x + x = 2⋅x
    <BLANKLINE>
       ✓ The equation holds for all x; verified symbolically.
    """

    def __init__(
        self,
        title: str,
        steps: Iterable[Step] = (),
        *,
        label: str | None = None,
        source: str | None = None,
    ) -> None:
        self.title = Prose(title).text
        self._steps: list[Step] = []
        for step in steps:
            if not isinstance(step, Step):
                raise ConvSpecTypeError(f"step {step!r} must be a Step")
            self._steps.append(step)
        self.label = label
        self.source = source

    # ---------------------------------------------------------------- building

    def step(self, title: str) -> Step:
        """Start a new step and return it."""
        step = Step(title)
        self._steps.append(step)
        return step

    def _current(self) -> Step:
        if not self._steps:
            self._steps.append(Step())
        return self._steps[-1]

    def say(self, text: str) -> Prose:
        """Append a paragraph to the current step."""
        return self._current().say(text)

    def show(self, *equations: Equation | Any) -> Display:
        """Append a display of equations to the current step."""
        return self._current().show(*equations)

    def matrices(self, items: Sequence[tuple[Any, Any]], **options: Any) -> Matrices:
        """Append named matrices to the current step."""
        return self._current().matrices(items, **options)

    def matrix(self, name: Any, matrix: Any, **options: Any) -> Matrices:
        """Append one named matrix to the current step."""
        return self._current().matrix(name, matrix, **options)

    def table(
        self, header: Sequence[Any], rows: Sequence[Sequence[Any]], caption: str = ""
    ) -> Table:
        """Append a table to the current step."""
        return self._current().table(header, rows, caption)

    def check(self, check: Check | Any, claim: str = "", detail: str = "") -> Check:
        """Append a check to the current step (see :meth:`Step.check`)."""
        return self._current().check(check, claim, detail)

    # ---------------------------------------------------------------- reading

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps, in order."""
        return tuple(self._steps)

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
            (step.title, check) for step in self._steps for check in step.checks if not check.passed
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
        """Plain Unicode text for terminals, one numbered block per step."""
        from ..render.derivation import derivation_text

        return derivation_text(self, width=width)

    def __str__(self) -> str:
        return self.text()

    def latex(self, *, numbered: bool = False, width: float | None = None) -> str:
        r"""A LaTeX body fragment: a ``\section`` with one ``\subsection`` per step.

        ``numbered=False`` gives starred headings with the step number in the
        title (for ``export``); ``numbered=True`` numbered ones that enter a
        table of contents (for the notes). ``width``: the line width in pt (at
        10 pt type) to lay matrices and long equations out for; a 10 pt
        article's by default.
        """
        from ..render.derivation import derivation_latex

        return derivation_latex(self, numbered=numbered, width=width)

    def _latex(self, printer: Any = None) -> str:
        return self.latex(width=getattr(printer, "width", None))

    def _repr_latex_(self) -> str:
        from ..render.derivation import derivation_repr_latex

        return derivation_repr_latex(self)

    def _repr_html_(self) -> str:
        from ..render.derivation import derivation_html

        return derivation_html(self)


# --------------------------------------------------------------------------- checks


def _ordinal(symbol: sympy.Symbol) -> str:
    """The domain a symbol ranges over, from its assumptions."""
    if symbol.is_integer:
        if symbol.is_positive:
            return "integers >= 1"
        if symbol.is_nonnegative:
            return "integers >= 0"
        return "integers"
    if symbol.is_real:
        return "real"
    return ""


def _symbol_list(symbols: Sequence[sympy.Symbol], bound: str = "") -> str:
    """``$d$, $k$, $n \\ge 1$``: one maths piece per symbol, so a line may break between."""
    names = [f"${sympy.latex(symbol)}$" for symbol in symbols]
    names[-1] = names[-1][:-1] + bound + "$"
    return ", ".join(names)


def _domain(expressions: Iterable[Any]) -> str:
    r"""``"for all integers $k, n \ge 1$ and $p \ge 0$"`` from the free symbols' assumptions."""
    free: set[sympy.Symbol] = set()
    for expression in expressions:
        free |= {s for s in getattr(expression, "free_symbols", ()) if s.is_Symbol}
    if not free:
        return ""
    groups: dict[str, list[sympy.Symbol]] = {}
    for symbol in sorted(free, key=sympy.default_sort_key):
        groups.setdefault(_ordinal(symbol), []).append(symbol)
    if len(free) > 6:
        # Dozens of entry symbols: name their families, not every one.
        families = sorted({symbol.name.split("_", 1)[0] for symbol in free})
        kinds = " and ".join(sorted({kind or "complex" for kind in groups}))
        names = ", ".join(f"${name}$" for name in families)
        return f"for all {kinds} values of its {len(free)} symbols ({names} entries)"
    parts = []
    integers = []
    for kind in ("integers >= 1", "integers >= 0", "integers"):
        if kind in groups:
            bound = {"integers >= 1": r" \ge 1", "integers >= 0": r" \ge 0"}.get(kind, "")
            integers.append(_symbol_list(groups[kind], bound))
    if integers:
        parts.append("integers " + " and ".join(integers))
    if "real" in groups:
        parts.append("real " + _symbol_list(groups["real"]))
    if "" in groups:
        parts.append(_symbol_list(groups[""]))
    return "for all " + " and ".join(parts)


def _evaluated(value: Any) -> Any:
    # Expressions written with sympy.evaluate(False) are compared by value.
    # Matrices come from computations, already evaluated; their doit() would
    # also work out every pending derivative, which is slow and not wanted.
    if isinstance(value, sympy.MatrixBase) or not isinstance(value, sympy.Basic):
        return value
    return value.doit()


def sympy_check(lhs: Any, rhs: Any, *, says: str = "The equation holds") -> Check:
    r"""Check ``lhs == rhs`` symbolically: ``expand``, then ``simplify``, of the difference.

    The claim is ``says`` followed by the domain of the free symbols, read
    from their sympy assumptions (``for all integers $k, n \ge 1$``).
    Matrices are compared entry by entry. Any exception is recorded as a
    failure.

    Parameters
    ----------
    lhs, rhs : sympy.Basic or sympy.MatrixBase
        The two sides; expressions built unevaluated are evaluated first.
    says : str
        Prose markup stating the claim, before the domain.

    Returns
    -------
    Check
        Passed, or failed with the difference (or the exception) as detail.

    Raises
    ------
    Nothing
        Of its own: an exception while comparing is recorded in the returned
        :class:`Check` as a failure, never raised.

    Examples
    --------
    >>> n = sympy.Symbol("n", integer=True, positive=True)
    >>> check = sympy_check(conv_output_size(n, 3), n - 2)
    >>> check.passed, check.claim, check.method
    (True, 'The equation holds for all integers $n \\ge 1$', 'verified symbolically')
    >>> sympy_check(n, n + 1).detail
    'the difference is $-1$'
    """
    claim = " ".join(part for part in (says, _domain((lhs, rhs))) if part)
    method = "verified symbolically"
    try:
        difference = sympy.expand(_evaluated(lhs) - _evaluated(rhs))
        if isinstance(difference, sympy.MatrixBase):
            residual = [e for e in difference if e != 0]
            residual = [e for e in (sympy.simplify(e) for e in residual) if e != 0]
            passed = not residual
            detail = (
                ""
                if passed
                else f"{len(residual)} entries differ, e.g. by ${sympy.latex(residual[0])}$"
            )
        else:
            if difference != 0:
                difference = sympy.simplify(difference)
            passed = difference == 0
            detail = "" if passed else f"the difference is ${sympy.latex(difference)}$"
    except Exception as error:  # a crash is a failed check, with its reason
        return Check(claim, method, False, _code(f"{type(error).__name__}: {error}"))
    return Check(claim, method, bool(passed), _shorten(detail))


def exhaustive_check(
    cases: Iterable[Any], predicate: Callable[[Any], bool], *, says: str, over: str
) -> Check:
    r"""Check ``predicate(case)`` for every case; record the count or a counterexample.

    ``says`` states the claim; ``over`` (prose markup) describes the cases,
    e.g. ``Grid().describe()``. An exception raised by the predicate is a
    failure for that case.

    Parameters
    ----------
    cases : iterable
        The cases, each passed to ``predicate``.
    predicate : callable
        ``predicate(case)`` is true when the claim holds for ``case``.
    says : str
        Prose markup stating the claim.
    over : str
        Prose markup describing the cases.

    Returns
    -------
    Check
        Passed with the number of cases, or failed with the first
        counterexample (or with no cases at all).

    Raises
    ------
    TypeError
        Only Python's own, when ``cases`` is not iterable; an exception of
        the predicate is recorded as a counterexample, never raised.

    Examples
    --------
    >>> check = exhaustive_check(range(1, 6), lambda n: n * n >= n, says="$n^2 \\ge n$",
    ...                          over="$n \\le 5$")
    >>> check.method
    'verified exhaustively over $n \\le 5$ (5 cases)'
    >>> exhaustive_check(range(1, 6), lambda n: n * n > n, says="$n^2 > n$",
    ...                  over="$n \\le 5$").detail
    '`counterexample 1`'
    """
    count = 0
    for case in cases:
        count += 1
        try:
            holds = predicate(case)
        except Exception as error:  # a crash is a counterexample, with its reason
            return Check(
                says,
                f"checked over {over}",
                False,
                _code(f"counterexample {case!r}: {type(error).__name__}: {error}"),
            )
        if not holds:
            return Check(says, f"checked over {over}", False, _code(f"counterexample {case!r}"))
    if count == 0:
        return Check(says, f"checked over {over}", False, "there were no cases to check")
    return Check(says, f"verified exhaustively over {over} ({count:,} cases)", True)


def computed_check(ok: Any, claim: str, detail: str = "") -> Check:
    """A claim whose truth value was computed by the caller (against torch, say).

    Parameters
    ----------
    ok : object
        The computed truth value (anything ``bool`` accepts, e.g. a numpy bool).
    claim : str
        Prose markup stating what was computed and what holds.
    detail : str
        Prose markup: e.g. the largest difference found.

    Returns
    -------
    Check
        With an empty ``method``.

    Raises
    ------
    ConvSpecTypeError
        ``claim`` or ``detail`` is not a string.
    ConvSpecError
        ``claim`` or ``detail`` has an unmatched ``$`` or backquote.

    Examples
    --------
    >>> computed_check(abs(0.1 + 0.2 - 0.3) < 1e-12, "Floats add up.").passed
    True
    """
    return Check(Prose(claim).text, "", bool(ok), Prose(detail).text)


def _code(text: str) -> str:
    # Free text from an exception or a repr, set as code: no markup inside.
    return "`" + _shorten(text).replace("`", "'") + "`"


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- grid


@dataclass(frozen=True)
class Grid:
    r"""Largest values of the small-value grid that exhaustive checks run over.

    Sizes run from 1 to ``n``, kernel sizes 1 to ``k``, strides 1 to ``s``,
    paddings 0 to ``p``, dilations 1 to ``d``.

    Parameters
    ----------
    n : int, default 12
        Largest input size.
    k : int, default 5
        Largest kernel size.
    s : int, default 4
        Largest stride.
    p : int, default 3
        Largest padding (>= 0).
    d : int, default 3
        Largest dilation.

    Raises
    ------
    ConvSpecTypeError
        A bound is not an integer.
    ConvSpecError
        A bound is below 1 (``p`` below 0).

    Examples
    --------
    >>> Grid().describe()
    '$n \\le 12$, $k \\le 5$, $s \\le 4$, $p \\le 3$, $d \\le 3$'
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
        """The bounds as prose markup; ``size`` names the size variable."""
        bounds = [(size, self.n), ("k", self.k), ("s", self.s), ("p", self.p), ("d", self.d)]
        return ", ".join(f"${name} \\le {value}$" for name, value in bounds)

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
_m = sympy.Symbol("m", integer=True, positive=True)
# Names for displayed quantities; their values are the expressions they equal.
_k_eff = sympy.Symbol(r"k_{\mathrm{eff}}")
_m_min = sympy.Symbol(r"m_{\min}")
_p_after = sympy.Symbol(r"p_{\mathrm{after}}")


def _written(build: Callable[[], Any]) -> Any:
    # The displayed form keeps the order the formula is written in.
    with sympy.evaluate(False):
        return build()


def _numeric(expression: Any, *symbols: sympy.Symbol) -> Callable[..., Any]:
    # The displayed expression itself, evaluated on integers by the exhaustive checks.
    return sympy.lambdify(symbols, _evaluated(expression), modules="math")


def _count_placements(n: int, k: int, s: int, before: int, after: int, d: int) -> int:
    # The definition: slide the dilated kernel along the padded line.
    count = 0
    start = 0
    while start + d * (k - 1) <= n + before + after - 1:
        count += 1
        start += s
    return count


# A spec's numbers may reach 2**60: its step costs the same whatever they are.
# Up to these counts the sizes are listed and the placements counted one by
# one; past them the set is written as a range and the checks read its ends.
_LISTED_SIZES = 8
_COUNTED = 10_000


def _placement_check(n: int, k: int, s: int, before: int, after: int, d: int, o: int) -> Any:
    """The output size ``o`` against the definition: count placements, or bracket the last."""
    if o <= _COUNTED:
        counted = _count_placements(n, k, s, before, after, d)
        return computed_check(counted == o, f"Counting the placements one by one gives {counted}.")
    length, span = n + before + after, d * (k - 1)
    last, following = (o - 1) * s + span, o * s + span
    return computed_check(
        last <= length - 1 < following,
        f"Placements start at 0, {s}, {2 * s}, ...: placement {o - 1} ends at {last}, inside "
        f"the padded input of length {length}, and placement {o} would end at {following}, "
        "outside it.",
    )


def _membership_check(
    args: tuple[Any, ...], o: int, low: int, s: int, sizes: Callable[[int], bool]
) -> Any:
    """Sizes that convolve to ``o`` are the set: every small case, or the set's ends."""
    says = f"An input size convolves to {o} exactly when it is in the set"
    if low + 2 * s <= _COUNTED:
        cases: Iterable[int] = range(1, low + 2 * s + 1)
        over = f"$1 \\le m \\le {low + 2 * s}$"
    else:
        # conv_output_size never decreases in m, so its values at the ends of
        # the set and just outside them settle every other size.
        ends = (low - 1, low, low + s - 1, low + s, MAX_INT, MAX_INT + 1)
        cases = sorted({m for m in ends if 1 <= m <= MAX_INT + 1 and low - 1 <= m <= low + s})
        over = "the ends of the set and the sizes just outside it (the output size never " \
            "decreases with $m$)"
    return exhaustive_check(
        cases, lambda m: (_conv_or_none(m, *args) == o) == sizes(m), says=says, over=over
    )


def _conv_or_none(n: int, k: int, s: int, p: Any, d: int) -> int | None:
    try:
        return conv_output_size(n, k, s, p, d)
    except ConvSpecError:
        return None


# The general formulas, as displayed and as checked.
_SPAN = _written(lambda: _d * (_k - 1) + 1)
_CONV = _written(lambda: sympy.floor((_n + 2 * _p - _d * (_k - 1) - 1) / _s) + 1)
_CONV_PAIR = _written(lambda: sympy.floor((_n + _pb + _pa - _d * (_k - 1) - 1) / _s) + 1)
_M_MIN = _written(lambda: (_o - 1) * _s - 2 * _p + _d * (_k - 1) + 1)
_TRANSPOSED = _written(lambda: (_o - 1) * _s - 2 * _p + _d * (_k - 1) + _a + 1)
# The step after filling in: the numerator q worked out, not yet divided.
_q = sympy.Symbol("q", integer=True, nonnegative=True)
_DIVIDED = _written(lambda: sympy.floor(_q / _s) + 1)


def _step_span(derivation: Derivation, grid: Grid) -> None:
    span = _numeric(_SPAN, _k, _d)

    def holds(case: tuple[int, int]) -> bool:
        k, d = case
        taps = [t * d for t in range(k)]
        return max(taps) - min(taps) + 1 == span(k, d)

    derivation.step("Span of a dilated kernel")
    derivation.say(
        r"A kernel of size $k$ with dilation $d$ reads taps $0, d, 2d, \dots, (k - 1)d$ of "
        r"its window, so it spans $d(k - 1) + 1$ consecutive input positions, its "
        r"effective size $k_{\mathrm{eff}}$."
    )
    derivation.show(Equation(_k_eff, _SPAN))
    derivation.check(
        sympy_check(
            effective_kernel_size(_k, _d), _SPAN, says="`effective_kernel_size(k, d)` is this"
        )
    )
    derivation.check(
        exhaustive_check(
            itertools.product(range(1, grid.k + 1), range(1, grid.d + 1)),
            holds,
            says=r"The taps $0, d, \dots, (k - 1)d$ span exactly $k_{\mathrm{eff}}$ positions",
            over=f"$k \\le {grid.k}$, $d \\le {grid.d}$",
        )
    )


def _step_conv(derivation: Derivation, grid: Grid) -> None:
    formula = _numeric(_CONV_PAIR, _n, _k, _s, _pb, _pa, _d)

    def counted(case: tuple[int, ...]) -> bool:
        n, k, s, before, after, d = case
        if n + before + after < effective_kernel_size(k, d):
            # No placement fits: the library must refuse the size.
            return _conv_or_none(n, k, s, (before, after), d) is None
        return formula(n, k, s, before, after, d) == _count_placements(n, k, s, before, after, d)

    cases = (
        (n, k, s, before, after, d)
        for k, s, before, d in grid.layers()
        for after in range(grid.p + 1)
        for n in range(1, grid.n + 1)
    )
    derivation.step("Output size of a convolution: count the kernel placements")
    derivation.say(
        r"Pad the input of size $n$ with $p$ zeros on each side, $n + 2p$ positions in all. "
        r"A placement whose first tap sits at padded position $q$ covers $q, \dots, q + "
        r"k_{\mathrm{eff}} - 1$, so it fits when $q \le n + 2p - k_{\mathrm{eff}}$. The "
        r"placements start at $q = 0, s, 2s, \dots$, and the multiples of $s$ in $[0, n + 2p "
        r"- k_{\mathrm{eff}}]$ number $\lfloor (n + 2p - k_{\mathrm{eff}})/s \rfloor + 1$. "
        r"With $p_b$ zeros before and $p_a$ after, $2p$ becomes $p_b + p_a$. No placement "
        r"fits when $n + 2p < k_{\mathrm{eff}}$, and the size is then refused."
    )
    derivation.show(Equation(_o, _CONV), Equation(_o, _CONV_PAIR))
    derivation.check(
        sympy_check(
            conv_output_size(_n, _k, _s, _p, _d),
            _CONV,
            says="`conv_output_size(n, k, s, p, d)` is the first expression",
        )
    )
    derivation.check(
        sympy_check(
            conv_output_size(_n, _k, _s, (_pb, _pa), _d),
            _CONV_PAIR,
            says="`conv_output_size(n, k, s, (p_b, p_a), d)` is the second",
        )
    )
    derivation.check(
        exhaustive_check(
            cases,
            counted,
            says="The second expression equals the number of placements counted one by one, "
            "and `conv_output_size` refuses the sizes where none fits",
            over=f"{grid.describe()}, $p_a \\le {grid.p}$",
        )
    )


def _step_transposed(derivation: Derivation) -> None:
    derivation.step("Output size of a transposed convolution")
    derivation.say(
        r"A transposed convolution takes an input of size $o$ (the output size of its forward "
        r"convolution) back to a size $m$ that the forward convolution maps to $o$. The last "
        r"placement starts at $(o - 1)s$ and ends $k_{\mathrm{eff}} - 1$ later, so the padded "
        r"forward input has at least $(o - 1)s + k_{\mathrm{eff}}$ positions; removing the "
        r"$2p$ padding gives the smallest such $m$. The output padding $a$ "
        r"(`output_padding`) adds $a$ positions at the end."
    )
    derivation.show(Equation(_m, _TRANSPOSED))
    derivation.check(
        sympy_check(
            transposed_conv_output_size(_o, _k, _s, _p, _a, _d),
            _TRANSPOSED,
            says="`transposed_conv_output_size(o, k, s, p, a, d)` is this",
        )
    )


def _step_inverse(derivation: Derivation, grid: Grid) -> None:
    shifted = _written(lambda: sympy.floor((_m_min + _r + 2 * _p - _d * (_k - 1) - 1) / _s) + 1)
    shifted_value = _written(lambda: _o + sympy.floor(_r / _s))
    interval = sympy.Interval(_m_min, _m_min + _s - 1)
    low = _numeric(_M_MIN, _o, _k, _s, _p, _d)
    # Large enough that every output size of the grid has its whole interval inside.
    top = grid.n + 2 * grid.s + grid.d * grid.k + 2 * grid.p

    def matches(case: tuple[int, int, int, int]) -> bool:
        k, s, p, d = case
        sizes: dict[int, list[int]] = {}
        for m in range(1, top + 1):
            out = _conv_or_none(m, k, s, p, d)
            if out is not None:
                sizes.setdefault(out, []).append(m)
        for out, found in sizes.items():
            start = low(out, k, s, p, d)
            if start + s - 1 > top:
                continue  # the interval runs past the sizes scanned
            if found != [m for m in range(start, start + s) if m >= 1]:
                return False
        return True

    derivation.step("The inverse problem: every input size with the same output size")
    derivation.say(
        r"Write an input size as $m = m_{\min} + r$ with $m_{\min}$ the size of the previous "
        r"step without output padding. The convolution maps it to $o + \lfloor r/s \rfloor$, "
        r"which equals $o$ exactly when $0 \le r < s$. So the sizes that convolve to $o$ are "
        r"the $s$ consecutive integers from $m_{\min}$ (those that are at least 1): the floor "
        r"in the convolution formula forgets $r$, and the transposed convolution cannot know "
        r"which one was meant. In formulas, with the last line holding exactly for the sizes "
        r"$m$ whose output size is $o$:"
    )
    derivation.show(
        Equation(_m_min, _M_MIN),
        Equation(shifted, shifted_value),
        Equation(_m, interval, relation="in"),
    )
    derivation.check(
        sympy_check(
            conv_output_size(_M_MIN + _r, _k, _s, _p, _d),
            shifted_value,
            says=r"`conv_output_size` of $m_{\min} + r$ is $o + \lfloor r/s \rfloor$",
        )
    )
    derivation.check(
        exhaustive_check(
            grid.layers(),
            matches,
            says=r"For each layer, the sizes $m$ that convolve to each $o$ are exactly the "
            r"integers of the interval (at least 1)",
            over=f"$k \\le {grid.k}$, $s \\le {grid.s}$, $p \\le {grid.p}$, $d \\le {grid.d}$, "
            f"$m \\le {top}$",
        )
    )


def _step_select(derivation: Derivation, grid: Grid) -> None:
    chosen = _written(lambda: sympy.Mod(_m + 2 * _p - _d * (_k - 1) - 1, _s))
    remainder = _numeric(chosen, _m, _k, _s, _p, _d)
    size = _numeric(_TRANSPOSED, _o, _k, _s, _p, _a, _d)

    def round_trip(case: tuple[int, ...]) -> bool:
        m, k, s, p, d = case
        if m + 2 * p < effective_kernel_size(k, d):
            return True  # no convolution of this size to undo
        out = conv_output_size(m, k, s, p, d)
        a = remainder(m, k, s, p, d)
        others = [size(out, k, s, p, b, d) for b in range(s) if b != a]
        return size(out, k, s, p, a, d) == m and m not in others

    cases = ((m, k, s, p, d) for k, s, p, d in grid.layers() for m in range(1, grid.n + 1))
    derivation.step("`output_padding` selects one size of the interval")
    derivation.say(
        r"Adding $a = 0, 1, \dots, s - 1$ to $m_{\min}$ walks through the interval, so each "
        r"input size $m$ is recovered by exactly one output padding $a$: the remainder that "
        r"the floor dropped."
    )
    derivation.show(
        Equation(_m, _written(lambda: _m_min + _a), note="for $0 \\le a < s$", order="written"),
        Equation(_a, chosen),
    )
    derivation.check(
        exhaustive_check(
            cases,
            round_trip,
            says=r"The transposed size with this $a$ is $m$ again, and no other $a$ in $[0, s)$ "
            r"gives $m$",
            over=grid.describe("m"),
        )
    )


def _step_range(derivation: Derivation, grid: Grid) -> None:
    legal = Equation(_a, sympy.Interval.Ropen(0, sympy.Max(_s, _d)), relation="in")
    grown = _written(lambda: _o + sympy.floor(_a / _s))
    restored = _written(lambda: _p - _s * sympy.floor(_a / _s))
    grown_value = _numeric(grown, _o, _s, _a)
    restored_value = _numeric(restored, _p, _s, _a)
    size = _numeric(_TRANSPOSED, _o, _k, _s, _p, _a, _d)

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
        m = size(o, k, s, p, a, d)
        if m < 1:
            return True
        if conv_output_size(m, k, s, p, d) != grown_value(o, s, a):
            return False
        return conv_output_size(m, k, s, (p, restored_value(p, s, a)), d) == o

    cases = [
        (o, k, s, p, d, a)
        for k, s, p, d in grid.layers()
        for o in range(1, grid.n + 1)
        for a in range(max(s, d) + 2)
    ]
    over = f"{grid.describe('o')}, $a < \\max(s, d) + 2$"
    derivation.step(r"Why `output_padding` lies in $[0, \max(s, d))$")
    derivation.say(
        r"For $0 \le a < s$ the size $m = m_{\min} + a$ lies in the interval, and the forward "
        r"convolution of $m$ has exactly $o$ outputs: the transposed layer is the exact "
        r"transpose of that convolution. For $a \ge s$ the size leaves the interval and the "
        r"forward convolution with $p$ on both sides has $o + \lfloor a/s \rfloor$ outputs; "
        r"the transposed layer then equals the transpose of the forward convolution cropped "
        r"to its first $o$ outputs, that is with $s \lfloor a/s \rfloor$ less padding after. "
        r"Only below $s$ does each $a$ give a different size of the interval; PyTorch's rule "
        r"also admits $s \le a < d$ when the dilation exceeds the stride, and refuses every "
        r"$a \ge \max(s, d)$, as `transposed_conv_output_size` does. Below, "
        r"$o(m_{\min} + a)$ is the output size of the forward convolution of $m_{\min} + a$, "
        r"and $p_{\mathrm{after}}$ the padding after that restores $o$ outputs."
    )
    derivation.show(
        legal,
        Equation(_written(lambda: sympy.Function("o")(_m_min + _a)), grown),
        Equation(_p_after, restored),
    )
    derivation.check(
        exhaustive_check(
            cases,
            refused,
            says=r"`transposed_conv_output_size` refuses exactly the $a \ge \max(s, d)$",
            over=over,
        )
    )
    derivation.check(
        exhaustive_check(
            cases,
            exact,
            says=r"The forward convolution of $m_{\min} + a$ has $o + \lfloor a/s \rfloor$ "
            r"outputs, and with $p_{\mathrm{after}}$ it has $o$",
            over=over,
        )
    )


_r_half = sympy.Symbol("r", integer=True, nonnegative=True)

# (title, substitutions, the literature's convolution size, its transposed size,
#  padding of the equivalent direct convolution); formulas written as displayed.
_SPECIAL_CASES: list[tuple[str, dict[Any, Any], Any, Any, str]] = [
    (
        "no zero padding, unit stride ($s = 1$, $p = 0$)",
        {_s: 1, _p: 0, _d: 1, _a: 0},
        _written(lambda: _n - _k + 1),
        _written(lambda: _o + _k - 1),
        "full padding $k - 1$",
    ),
    (
        "zero padding, unit stride ($s = 1$)",
        {_s: 1, _d: 1, _a: 0},
        _written(lambda: _n + 2 * _p - _k + 1),
        _written(lambda: _o + _k - 2 * _p - 1),
        "padding $k - p - 1$",
    ),
    (
        "half padding ($s = 1$, $k = 2r + 1$, $p = r$)",
        {_s: 1, _d: 1, _a: 0, _k: 2 * _r_half + 1, _p: _r_half},
        _n,
        _o,
        "the same half padding $r$",
    ),
    (
        "full padding ($s = 1$, $p = k - 1$)",
        {_s: 1, _d: 1, _a: 0, _p: _k - 1},
        _written(lambda: _n + _k - 1),
        _written(lambda: _o - _k + 1),
        "no padding",
    ),
    (
        "no zero padding, strided ($p = 0$)",
        {_p: 0, _d: 1, _a: 0},
        _written(lambda: sympy.floor((_n - _k) / _s) + 1),
        _written(lambda: _s * (_o - 1) + _k),
        "$s - 1$ zeros between inputs and padding $k - 1$",
    ),
    (
        "zero padding, strided",
        {_d: 1},
        _written(lambda: sympy.floor((_n + 2 * _p - _k) / _s) + 1),
        _written(lambda: _s * (_o - 1) + _k - 2 * _p + _a),
        "$s - 1$ zeros between inputs, padding $k - p - 1$ and $a$ more zeros at the end",
    ),
    (
        "dilated",
        {},
        _written(lambda: sympy.floor((_n + 2 * _p - _k - (_k - 1) * (_d - 1)) / _s) + 1),
        _written(lambda: _s * (_o - 1) + _d * (_k - 1) + 1 - 2 * _p + _a),
        "$s - 1$ zeros between inputs, padding $d(k - 1) - p$ and $a$ more zeros at the end",
    ),
]


def _step_special_cases(derivation: Derivation) -> None:
    for title, subs, conv_rhs, transposed_rhs, direct in _SPECIAL_CASES:
        k, s, p, d, a = (subs.get(symbol, symbol) for symbol in (_k, _s, _p, _d, _a))
        # The transposed convolution as a direct one: insert s - 1 zeros between the
        # o inputs, pad with d(k - 1) - p (plus a at the end), slide at unit stride.
        stretched = s * (_o - 1) + 1
        pad = d * (k - 1) - p
        equivalent = conv_output_size(stretched, k, 1, (pad, pad + a), d)
        values = ", ".join(
            f"${sympy.latex(symbol)} = {sympy.latex(value)}$" for symbol, value in subs.items()
        )
        derivation.step(f"Special case: {title}")
        derivation.say(
            "The general formulas with "
            + (values if values else "nothing fixed")
            + ", as tabulated by Dumoulin and Visin. The transposed layer maps $o$ back to "
            f"$m$; it equals a direct convolution with unit stride on its input with {direct}."
        )
        derivation.show(Equation(_o, conv_rhs), Equation(_m, transposed_rhs))
        derivation.check(
            sympy_check(
                conv_output_size(_n, k, s, p, d),
                conv_rhs,
                says="`conv_output_size` with these values gives the first line",
            )
        )
        derivation.check(
            sympy_check(
                transposed_conv_output_size(_o, k, s, p, a, d),
                transposed_rhs,
                says="`transposed_conv_output_size` with these values gives the second",
            )
        )
        derivation.check(
            sympy_check(
                equivalent,
                transposed_rhs,
                says="The equivalent direct convolution has that output size too",
            )
        )


def _dims_phrase(dims: Sequence[int], ndim: int) -> str:
    if ndim == 1:
        return ""
    if len(dims) == ndim:
        return "In every dimension" if ndim > 2 else "In both dimensions"
    names = " and ".join(str(i) for i in dims)
    return f"In dimension{'s' if len(dims) > 1 else ''} {names}"


def _step_spec(derivation: Derivation, spec: ConvSpec) -> None:
    arguments = spec.transposed_arguments()
    derivation.step(f"The numbers of one convolution: {describe_spec(spec)}")
    if arguments is None:
        derivation.say(
            "Its padding has no (`padding`, `output_padding`) equivalent, so no "
            "`ConvTranspose` layer has exactly this transpose."
        )
    else:
        derivation.say(
            "The first line is the convolution's output size $o$; the set holds every "
            "input size $m$ with that output; the last line is the transposed layer (with "
            "its `padding` and `output_padding`) taking $o$ back to the input size."
        )
    # Dimensions with the same numbers are derived once.
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i in range(spec.ndim):
        key = (
            spec.input_shape[i],
            spec.kernel_size[i],
            spec.stride[i],
            spec.padding[i],
            spec.dilation[i],
            None if arguments is None else arguments["padding"][i],
            None if arguments is None else arguments["output_padding"][i],
        )
        groups.setdefault(key, []).append(i)
    for (n, k, s, (before, after), d, p, a), dims in groups.items():
        o = conv_output_size(n, k, s, (before, after), d)
        filled = Filled(_CONV_PAIR, {_n: n, _k: k, _s: s, _pb: before, _pa: after, _d: d})
        halfway = _divided(filled)
        low = (o - 1) * s - before - after + d * (k - 1) + 1
        # Input sizes run from 1 to MAX_INT: the set is cut to them.
        first, stop = max(low, 1), min(low + s, MAX_INT + 1)
        listed = (
            sympy.FiniteSet(*range(first, stop))
            if stop - first <= _LISTED_SIZES
            else sympy.Range(first, stop)
        )
        rows = [
            Equation(_o, filled, halfway, o),
            Equation(_m, listed, relation="in"),
        ]
        checks = [
            sympy_check(
                sympy.Integer(o),
                filled,
                says="`conv_output_size` gives the same $o$ as the filled-in formula",
            ),
            _placement_check(n, k, s, before, after, d, o),
            _membership_check(
                (k, s, (before, after), d), o, low, s,
                range(first, stop).__contains__,
            ),
        ]
        if arguments is not None:
            back = Filled(_TRANSPOSED, {_o: o, _s: s, _p: p, _d: d, _k: k, _a: a})
            rows.append(Equation(_m, back, n))
            size = transposed_conv_output_size(o, k, s, p, a, d)
            checks.append(
                computed_check(
                    size == n == back.doit(),
                    f"`transposed_conv_output_size` with `padding={p}` and "
                    f"`output_padding={a}` gives {size}, the input size.",
                )
            )
        if spec.ndim > 1:
            derivation.say(f"{_dims_phrase(dims, spec.ndim)}:")
        derivation.show(*rows)
        for check in checks:
            derivation.check(check)


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
    integers; sympy checks use these assumptions. Every displayed formula is
    the sympy expression that its checks compare with the library (exhaustive
    checks evaluate it with ``lambdify``). Identities with a floor that sympy
    cannot decide (the interval argument) are checked exhaustively over the
    grid, and the check record says so.

    Examples
    --------
    >>> d = output_size_derivation(grid=Grid(n=5, k=3, s=2, p=1, d=2))
    >>> d.all_checks_passed
    True
    >>> print(d.steps[1].equations[0].text())
        ⎢n + 2⋅p - d⋅(k - 1) - 1⎥
    o = ⎢───────────────────────⎥ + 1
        ⎣           s           ⎦
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
    _step_transposed(derivation)
    _step_inverse(derivation, grid)
    _step_select(derivation, grid)
    _step_range(derivation, grid)
    _step_special_cases(derivation)
    if spec is not None:
        _step_spec(derivation, spec)
    return derivation


# --------------------------------------------------------------------------- one layer's sizes


def output_size_equations(spec: ConvSpec, *, transposed: bool = False) -> tuple[Equation, ...]:
    r"""The output-size formula and a layer's numbers in it, as displayed equations.

    The first equation is the general formula, the very expression
    :func:`output_size_derivation` checks against
    :func:`~transpose_matrix.geometry.shapes.conv_output_size` (or
    :func:`~transpose_matrix.geometry.shapes.transposed_conv_output_size`). Then one
    equation per set of dims with the same numbers: the formula with the
    numbers filled in (:class:`Filled`), the numerator worked out (forward),
    and the size, which is the filled-in formula evaluated by sympy; it
    equals ``spec.output_shape`` (``spec.input_shape`` for the transposed
    layer).

    Forward: ``o = floor((n + 2p - d(k - 1) - 1)/s) + 1`` (``p_b + p_a``
    for asymmetric padding). Transposed: ``m = (o - 1)s - 2p + d(k - 1) + a
    + 1``, where ``o`` is the layer's input size and ``a`` its
    ``output_padding``.

    Raises
    ------
    ConvSpecTypeError
        ``spec`` is not a :class:`ConvSpec`.
    ConvSpecError
        ``transposed`` for a padding that no ``ConvTranspose`` layer has.

    Examples
    --------
    >>> general, both = output_size_equations(ConvSpec((5, 5), 3, stride=2, padding=1))
    >>> print(both.text())
              ⎢5 + 2⋅1 - 1⋅(3 - 1) - 1⎥       ⎢4⎥
    o₀ = o₁ = ⎢───────────────────────⎥ + 1 = ⎢─⎥ + 1 = 3
              ⎣           2           ⎦       ⎣2⎦
    """
    if not isinstance(spec, ConvSpec):
        raise ConvSpecTypeError(f"spec={spec!r} must be a ConvSpec")
    layer = spec.transposed_arguments() if transposed else None
    if transposed and layer is None:
        raise ConvSpecError(
            "no ConvTranspose layer has this padding, so there is no transposed size formula",
            field="padding",
        )
    # Dims with the same numbers share one line.
    dims: dict[tuple[tuple[sympy.Symbol, int], ...], list[int]] = {}
    for i in range(spec.ndim):
        k, s, d = spec.kernel_size[i], spec.stride[i], spec.dilation[i]
        if layer is not None:
            a, p = layer["output_padding"][i], layer["padding"][i]
            values: dict[sympy.Symbol, int] = {
                _o: spec.output_shape[i], _s: s, _p: p, _d: d, _k: k, _a: a
            }
        elif spec.is_symmetric_padding:
            values = {_n: spec.input_shape[i], _p: spec.padding[i][0], _d: d, _k: k, _s: s}
        else:
            before, after = spec.padding[i]
            values = {_n: spec.input_shape[i], _pb: before, _pa: after, _d: d, _k: k, _s: s}
        dims.setdefault(tuple(values.items()), []).append(i)
    if layer is not None:
        formula, name = _TRANSPOSED, "m"
    else:
        formula, name = (_CONV if spec.is_symmetric_padding else _CONV_PAIR), "o"
    equations = [Equation(sympy.Symbol(name), formula)]
    for pairs, group in dims.items():
        filled = Filled(formula, dict(pairs))
        steps = [filled] if layer is not None else [filled, _divided(filled)]
        names = [sympy.Symbol(f"{name}_{i}" if spec.ndim > 1 else name) for i in group]
        equations.append(Equation(*names, *steps, filled.doit()))
    return tuple(equations)


def _divided(filled: Filled) -> Filled:
    """``⌊q/s⌋ + 1`` with the numerator ``q`` of a filled-in forward formula worked out."""
    (floor,) = (node for node in sympy.preorder_traversal(filled.formula)
                if isinstance(node, sympy.floor))
    numerator, _ = sympy.fraction(floor.args[0])
    values = filled.values
    return Filled(_DIVIDED, {_q: numerator.xreplace(values).doit(), _s: values[_s]})
