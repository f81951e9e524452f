r"""Derivations as text, LaTeX and HTML.

A :class:`~transpose_matrix.narrative.derivation.Derivation` is a model; this module
presents it. Equations are printed by sympy: LaTeX by a
``sympy.printing.latex.LatexPrinter`` and text by sympy's Unicode
``PrettyPrinter``, each taught three notations of the project (``Cᵀ`` with an
upright T, ``∂L/∂x`` for a derivative of a symbol, ``max`` in lower case).
Expressions written inside ``sympy.evaluate(False)`` print in the order they
were written.

Prose uses the project's small markup (``$…$`` inline LaTeX maths, ```…```
code, plain text otherwise), printed by :mod:`~transpose_matrix.render.prose`
(:func:`prose_latex`, :func:`prose_text` and :func:`math_text` are
importable from here too). Matrices go through
:func:`~transpose_matrix.render.latex.to_latex` and
:func:`~transpose_matrix.render.text.render`.

Entry points: :func:`derivation_text`, :func:`derivation_latex`,
:func:`derivation_html`, :func:`derivation_repr_latex`; the pieces
:func:`equation_latex`, :func:`equation_text`, :func:`prose_latex`,
:func:`prose_text`, :func:`check_text`, :func:`check_latex`.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter as _SympyLatex
from sympy.printing.pretty.pretty import PrettyPrinter as _SympyPretty
from sympy.printing.pretty.stringpict import prettyForm

from ..errors import ConvSpecError
from ..narrative.derivation import (
    RELATIONS,
    Check,
    Derivation,
    Display,
    Equation,
    Matrices,
    Prose,
    Table,
)
from .documents import ARTICLE
from .latex import code_latex, escape_text, matrix_width, to_latex
from .measure import math_width
from .prose import math_text, prose_html, prose_latex, prose_text
from .text import render as text_matrix

__all__ = [
    "check_latex",
    "check_text",
    "derivation_html",
    "derivation_latex",
    "derivation_repr_latex",
    "derivation_text",
    "display_latex",
    "equation_latex",
    "equation_line",
    "equation_text",
    "math_text",
    "prose_latex",
    "prose_text",
]


# --------------------------------------------------------------------------- sympy printers


def _flatten(expr: Any) -> Any:
    """Splice nested unevaluated sums and products into their parents, keeping order.

    ``a + b - c`` written with ``evaluate(False)`` is ``Add(Add(a, b), -c)``;
    printed as is it would gain parentheses.
    """
    if not isinstance(expr, sympy.Basic) or not expr.args or isinstance(expr, sympy.MatrixBase):
        return expr
    args = [_flatten(arg) for arg in expr.args]
    if isinstance(expr, (sympy.Add, sympy.Mul)):
        spliced: list[Any] = []
        for arg in args:
            spliced.extend(arg.args if type(arg) is type(expr) else [arg])
        head, rest = spliced[0], spliced[1:]
        if (
            isinstance(expr, sympy.Mul)
            and head.is_Number
            and head.is_negative
            and rest
            and not any(arg.free_symbols for arg in rest)
        ):
            # - 2·1 written out: the printer negates a product, which would
            # evaluate a product of numbers to 2; keep it as written.
            factors = rest if head == -1 else [-head, *rest]
            product = factors[0] if len(factors) == 1 else sympy.Mul(*factors, evaluate=False)
            return sympy.Mul(-1, sympy.UnevaluatedExpr(product), evaluate=False)
        return type(expr)(*spliced, evaluate=False)
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:  # a class whose constructor takes no evaluate flag
        return expr.func(*args)


def _as_written(expr: Any) -> bool:
    """Whether a sum or product in ``expr`` keeps an order that evaluation would change."""
    if isinstance(expr, sympy.MatrixBase) or not isinstance(expr, sympy.Basic):
        return False
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, (sympy.Add, sympy.Mul)) and node.func(*node.args).args != node.args:
            return True
    return False


def _named(expr: Any) -> bool:
    # A derivative of a named quantity prints as a fraction ∂L/∂x.
    return bool(expr.is_Symbol or expr.is_Function or isinstance(expr, sympy.MatrixSymbol))


class _Latex(_SympyLatex):
    """sympy's LaTeX printer with an upright transpose T and ∂L/∂x fractions."""

    def _print_Transpose(self, expr: Any) -> str:
        base = self._print(expr.arg)
        if not expr.arg.is_Symbol and not isinstance(expr.arg, sympy.MatrixSymbol):
            base = rf"\left({base}\right)"
        return rf"{base}^{{\mathsf{{T}}}}"

    def _print_Derivative(self, expr: Any) -> str:
        if len(expr.variables) == 1 and _named(expr.expr):
            top = self._print(expr.expr.func if expr.expr.is_Function else expr.expr)
            variable = self._print(expr.variables[0])
            if expr.variables[0].is_Symbol:
                # One entry (x_{0,1}): a slash keeps lists of entries one line high.
                return rf"\partial {top} / \partial {variable}"
            return rf"\frac{{\partial {top}}}{{\partial {variable}}}"
        return super()._print_Derivative(expr)  # pragma: no cover - not used by the models

    def _print_Sum(self, expr: Any) -> str:
        # One sigma per index, outermost first, as the pretty printer draws them.
        sigmas = "".join(
            rf"\sum_{{{self._print(index)}={self._print(low)}}}^{{{self._print(high)}}} "
            for index, low, high in reversed(expr.limits)
        )
        term = self._print(expr.function)
        if isinstance(expr.function, sympy.Add):
            term = rf"\left({term}\right)"
        return sigmas + term

    def _print_Max(self, expr: Any, exp: Any = None) -> str:
        inner = ", ".join(self._print(arg) for arg in expr.args)
        return rf"\max({inner})"

    # A filled-in formula prints its numbers where its symbols stand.
    _values: dict[Any, Any] = {}

    def _print_Filled(self, expr: Any) -> str:
        printer = _Latex({"order": "none", "mul_symbol": "dot"})
        printer._values = expr.values
        return printer._print(_flatten(expr.formula))

    def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
        if expr in self._values:
            value = self._values[expr]
            return str(value) if value >= 0 else rf"\left({value}\right)"
        return super()._print_Symbol(expr, style)


class _Pretty(_SympyPretty):
    """sympy's Unicode pretty printer with the same notations, and LaTeX-named symbols."""

    _values: dict[Any, Any] = {}

    def _print_Filled(self, expr: Any) -> prettyForm:
        printer = _Pretty({"use_unicode": True, "wrap_line": False, "order": "none"})
        printer._values = expr.values
        return printer._print(_flatten(expr.formula))

    def _print_Symbol(self, expr: Any, bold_name: bool = False) -> prettyForm:
        if expr in self._values:
            value = self._values[expr]
            return prettyForm(str(value) if value >= 0 else f"({value})")
        return prettyForm(math_text(expr.name))

    _print_MatrixSymbol = _print_Symbol

    def _print_Transpose(self, expr: Any) -> prettyForm:
        base = self._print(expr.arg)
        if base.height() > 1 or not (
            expr.arg.is_Symbol or isinstance(expr.arg, sympy.MatrixSymbol)
        ):
            base = prettyForm(*base.parens())
        return prettyForm(*base.right("ᵀ"))

    def _print_Indexed(self, expr: Any) -> prettyForm:
        indices = ", ".join(self.doprint(index) for index in expr.indices)
        return prettyForm(f"{math_text(expr.base.label.name)}[{indices}]")

    def _print_Derivative(self, expr: Any) -> prettyForm:
        if len(expr.variables) == 1 and _named(expr.expr):
            top = expr.expr.func.__name__ if expr.expr.is_Function else math_text(expr.expr.name)
            variable = self._print(expr.variables[0])
            return prettyForm(*prettyForm(f"∂{top}/∂").right(variable))
        return super()._print_Derivative(expr)  # pragma: no cover - not used by the models

    def _print_Max(self, expr: Any) -> prettyForm:
        return self._print_Function(expr, func_name="max")


def _settings(expr: Any, order: str = "auto") -> dict[str, Any]:
    written = order == "written" or (order == "auto" and _as_written(expr))
    return {"order": "none"} if written else {}


def _latex(expr: Any, order: str = "auto") -> str:
    """sympy's LaTeX of one side (unevaluated expressions in the order written)."""
    if isinstance(expr, sympy.MatrixBase):
        return to_latex(expr)
    settings = _settings(expr, order)
    if not getattr(expr, "free_symbols", True):
        settings["mul_symbol"] = "dot"  # 2 \cdot 1, not the 21 of juxtaposed numbers
    return _Latex(settings).doprint(_flatten(expr))


def _pretty(expr: Any, order: str = "auto") -> prettyForm:
    if isinstance(expr, sympy.MatrixBase):
        return prettyForm("\n".join(_matrix_text(expr, "dot").splitlines()))
    printer = _Pretty({"use_unicode": True, "wrap_line": False, **_settings(expr, order)})
    return printer._print(_flatten(expr))


def _one_line(expr: Any) -> str:
    """A sympy object in one line of Unicode (matrix cells, names).

    sympy's pretty printer when it draws one line; otherwise its LaTeX read
    back as inline maths (``w₀² + w₁²`` rather than a two-line picture).
    """
    printer = _Pretty({"use_unicode": True, "wrap_line": False, **_settings(expr)})
    text = printer.doprint(_flatten(expr))
    if "\n" not in text:
        return text
    try:
        return math_text(_latex(expr))
    except ConvSpecError:  # a command the inline reader does not know
        return sympy.sstr(expr)


# --------------------------------------------------------------------------- equations


def equation_latex(equation: Equation, *, align: bool = False) -> str:
    r"""``lhs = rhs`` printed by sympy; ``align`` puts ``&`` before the first relation.

    Examples
    --------
    >>> n, k = sympy.symbols("n k", integer=True, positive=True)
    >>> with sympy.evaluate(False):
    ...     rhs = n - k + 1
    >>> equation_latex(Equation(sympy.Symbol("o"), rhs), align=True)
    'o &= n - k + 1'
    """
    symbol = RELATIONS[equation.relation][0]
    sides = [_latex(side, equation.order) for side in equation.sides]
    head, rest = sides[0], sides[1:]
    joiner = f" {symbol} "
    if not rest:
        body = f"&{head}" if align else head
    else:
        body = head + (f" &{symbol} " if align else joiner) + joiner.join(rest)
    if equation.note:
        body += rf" \qquad \text{{{prose_latex(equation.note)}}}"
    return body


def _side_by_side(forms: list[prettyForm]) -> prettyForm:
    result = forms[0]
    for form in forms[1:]:
        result = prettyForm(*result.right(form))
    return result


def _equation_form(equation: Equation) -> tuple[prettyForm, prettyForm]:
    """The left side, and the relations with the right sides, as pretty forms."""
    symbol = RELATIONS[equation.relation][1]
    forms = [_pretty(side, equation.order) for side in equation.sides]
    rest: list[prettyForm] = []
    for form in forms[1:]:
        rest += [prettyForm(f" {symbol} "), form]
    if equation.note:
        rest.append(prettyForm("   " + prose_text(equation.note)))
    if not rest:
        rest = [prettyForm("")]
    return forms[0], _side_by_side(rest)


def equation_text(equation: Equation) -> str:
    """The equation as sympy's Unicode pretty printer draws it (lines without trailing blanks)."""
    left, right = _equation_form(equation)
    return _render(_side_by_side([left, right]))


def equation_line(equation: Equation) -> str:
    """The equation on one line of Unicode: sympy's LaTeX of each side, read as inline maths.

    For terminal reports, where a two-dimensional fraction would take three
    lines (``⌊(n + 2p - d(k - 1) - 1)/s⌋ + 1`` rather than a drawn floor).

    Examples
    --------
    >>> n, k = sympy.symbols("n k", integer=True, positive=True)
    >>> with sympy.evaluate(False):
    ...     rhs = sympy.floor((n - k) / 2) + 1
    >>> equation_line(Equation(sympy.Symbol("o_0"), rhs))
    'o₀ = ⌊(n - k)/2⌋ + 1'
    """
    symbol = RELATIONS[equation.relation][1]
    sides = [math_text(_latex(side, equation.order)) for side in equation.sides]
    line = f" {symbol} ".join(sides)
    return f"{line}   {prose_text(equation.note)}" if equation.note else line


def _render(form: prettyForm) -> str:
    return "\n".join(line.rstrip() for line in form.render(wrap_line=False).splitlines())


def _display_text(display: Display) -> str:
    pairs = [_equation_form(equation) for equation in display.equations]
    width = max(left.width() for left, _ in pairs)
    lines = []
    for left, right in pairs:
        padded = prettyForm(*left.left(" " * (width - left.width())))
        lines.append(_render(_side_by_side([padded, right])))
    return "\n".join(lines)


def _equation_rows(equation: Equation, width: float, left: float = 0.0) -> list[str]:
    """``equation`` as ``align*`` rows; a last side that is a long sum goes on more lines.

    ``left`` is the width of the widest left side in the display: ``align*``
    starts every right side, continued lines too, at that distance.
    """
    row = equation_latex(equation, align=True)
    first = _latex(equation.sides[0], equation.order)
    left = max(left, math_width(first))

    def fits(right: str) -> bool:
        return left + math_width(right) <= width

    last = equation.sides[-1]
    right = row.split("&", 1)[1]
    if fits(right) or len(equation.sides) < 2 or equation.note or not isinstance(last, sympy.Add):
        return [row]
    symbol = RELATIONS[equation.relation][0]
    middle = [_latex(side, equation.order) for side in equation.sides[1:-1]]
    current = f"{symbol} " + "".join(f"{side} {symbol} " for side in middle)
    settings = _settings(last, equation.order)
    printer = _Latex(settings)
    rows = []
    for number, term in enumerate(printer._as_ordered_terms(_flatten(last), order=None)):
        sign, magnitude = ("-", -term) if term.could_extract_minus_sign() else ("+", term)
        text = printer._print(magnitude)
        if isinstance(magnitude, sympy.Add):
            text = rf"\left({text}\right)"
        if number == 0:
            current += text if sign == "+" else f"- {text}"
            continue
        # Measured as a whole line: a lone "+" would be taken for a sign.
        longer = f"{current} {sign} {text}"
        if fits(longer):
            current = longer
        else:
            rows.append(current)
            current = rf"\quad {sign} {text}"
    rows.append(current)
    return [f"{first} &{rows[0]}"] + [f"&{row}" for row in rows[1:]]


def display_latex(equations: Sequence[Equation], width: float = ARTICLE.width) -> str:
    r"""Equations as one ``align*`` display, aligned on their first relation.

    A row whose last side is a long sum goes on more lines to fit ``width``
    pt (at 10 pt type).
    """
    return _display_latex(Display(tuple(equations)), width)


def _display_latex(display: Display, width: float) -> str:
    left = max(math_width(_latex(e.sides[0], e.order)) for e in display.equations)
    rows = [row for equation in display.equations for row in _equation_rows(equation, width, left)]
    body = " \\\\\n".join(rows)
    return f"\\begin{{align*}}\n{body}\n\\end{{align*}}"


# --------------------------------------------------------------------------- matrices


def _name_latex(name: Any) -> str:
    return name if isinstance(name, str) else _latex(name)


def _name_text(name: Any) -> str:
    return math_text(name) if isinstance(name, str) else _one_line(name)


def _entries(matrix: Any) -> list[list[Any]]:
    if hasattr(matrix, "toarray"):
        return matrix.toarray().tolist()
    if isinstance(matrix, sympy.MatrixBase):
        return matrix.tolist()
    rows = matrix.tolist()
    return [[row] if not isinstance(row, list) else row for row in rows]


def _cell_text(value: Any) -> str:
    if isinstance(value, sympy.Basic):
        return "" if value == 0 else _one_line(value)
    number = complex(value)
    if number == 0:
        return ""
    real = number.real
    if real == int(real) and abs(real) < 1e12:
        return str(int(real))
    return f"{real:.3g}"


# Rows of a matrix shown in text before the middle ones are elided.
_TEXT_ROWS = 24


def _matrix_text(
    matrix: Any, zero: str, max_rows: int | None = None, width: int | None = None
) -> str:
    """The render layer's terminal matrix: zeros as dots (or 0), elided to fit ``width``."""
    cells = [[_cell_text(value) for value in row] for row in _entries(matrix)]
    if zero == "0":
        cells = [[cell or "0" for cell in row] for row in cells]
    return text_matrix(cells, width=width, max_rows=max_rows or _TEXT_ROWS)


# Between two matrices set side by side (a comma and a \qquad).
_SIDE_GAP = 25.0


def _matrices_latex(block: Matrices, width: float) -> str:
    """One display per line of matrices: side by side while they fit ``width``."""
    zero = r"\cdot" if block.zero == "dot" else "0"
    parts = []
    for name, matrix in block.items:
        head = f"{_name_latex(name)} = "
        room = width - math_width(head)
        body = to_latex(
            matrix, max_rows=block.max_rows, max_cols=block.max_cols, zero=zero, width=room
        )
        parts.append((head + body, math_width(head) + matrix_width(body)))
    lines: list[list[str]] = []
    used = 0.0
    for text, size in parts:
        if lines and used + _SIDE_GAP + size <= width:
            lines[-1].append(text)
            used += _SIDE_GAP + size
        else:
            lines.append([text])
            used = size
    out = []
    for line in lines:
        out += ["\\[", ",\\qquad\n".join(line), "\\]"]
    if block.note:
        out.append(prose_latex(block.note))
    return "\n".join(out)


def _matrices_text(block: Matrices, width: int | None = None) -> str:
    out = []
    for name, matrix in block.items:
        shape = tuple(matrix.shape) if len(matrix.shape) > 1 else (matrix.shape[0], 1)
        out.append(f"{_name_text(name)}  ({shape[0]} × {shape[1]})")
        grid = _matrix_text(matrix, block.zero, block.max_rows, width)
        out.append(textwrap.indent(grid, "  "))
    if block.note:
        out.append(prose_text(block.note))
    return "\n".join(out)


# --------------------------------------------------------------------------- tables


def _table_latex(table: Table) -> str:
    # The first column names the rows: flush left; the others centred.
    columns = "l" + "c" * (len(table.header) - 1)
    lines = ["\\begin{center}", "\\small", "\\setlength{\\tabcolsep}{4pt}"]
    if table.caption:
        lines.append(f"{prose_latex(table.caption)}\\\\*[4pt]")
    lines += [
        f"\\begin{{tabular}}{{{columns}}}",
        "\\hline",
        " & ".join(prose_latex(cell) for cell in table.header) + r" \\",
        "\\hline",
    ]
    lines += [" & ".join(prose_latex(cell) for cell in row) + r" \\" for row in table.rows]
    lines += ["\\hline", "\\end{tabular}", "\\end{center}"]
    return "\n".join(lines)


def _table_text(table: Table) -> str:
    cells = [[prose_text(cell) for cell in table.header]]
    cells += [[prose_text(cell) for cell in row] for row in table.rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(table.header))]
    lines = [prose_text(table.caption)] if table.caption else []
    for index, row in enumerate(cells):
        padded = [row[0].ljust(widths[0])]
        padded += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append(("  " + "  ".join(padded)).rstrip())
        if index == 0:
            lines.append("  " + "  ".join("─" * w for w in widths))
    return "\n".join(lines)


# --------------------------------------------------------------------------- checks


def _check_words(check: Check, convert: Any) -> str:
    claim = convert(check.claim).rstrip(".")
    method = f"; {convert(check.method)}" if check.method else ""
    detail = f" ({convert(check.detail)})" if check.detail else ""
    return f"{claim}{method}{detail}."


def check_text(check: Check) -> str:
    """``✓ claim; method (detail).``, or ``✗ FAILED: …`` when it did not hold."""
    mark = "✓" if check.passed else "✗ FAILED:"
    return f"{mark} {_check_words(check, prose_text)}"


def check_latex(check: Check) -> str:
    r"""A check as a paragraph: ``\checkmark`` (or a bold FAILED) then the claim."""
    words = _check_words(check, prose_latex)
    if check.passed:
        return rf"\par\noindent$\checkmark$\ {words}\par"
    return rf"\par\noindent\textbf{{FAILED:}}\ {words}\par"


# --------------------------------------------------------------------------- whole derivations


def _heading_latex(markup: str, numbered: bool) -> str:
    latex = prose_latex(markup)
    # Starred headings enter no PDF outline; plain ones need a text form there.
    if not numbered or ("$" not in latex and "\\" not in latex):
        return latex
    # The PDF outline takes plain text: give hyperref the Unicode form, with
    # only TeX's special characters escaped (hyperref writes UTF-8 outlines).
    plain = "".join(c if not c.isascii() else escape_text(c) for c in prose_text(markup))
    return rf"\texorpdfstring{{{latex}}}{{{plain}}}"


def _block_latex(block: Any, width: float) -> str:
    if isinstance(block, Prose):
        return prose_latex(block.text)
    if isinstance(block, Display):
        return _display_latex(block, width)
    if isinstance(block, Matrices):
        return _matrices_latex(block, width)
    if isinstance(block, Table):
        return _table_latex(block)
    return check_latex(block)


_STRETCH = r"\begingroup\emergencystretch=3em\relax"


def derivation_latex(
    derivation: Derivation, *, numbered: bool = False, width: float | None = None
) -> str:
    r"""A LaTeX body fragment: ``\section`` and one ``\subsection`` per titled step.

    Needs amsmath and amssymb (``align*``, ``\checkmark``); everything else is
    plain LaTeX. ``numbered=False`` gives starred headings with the step
    number written into the title. ``width`` is the line width in pt at 10 pt
    type that matrices and equations are laid out for (default: a 10 pt
    article's, :data:`~transpose_matrix.render.documents.ARTICLE`); long sums
    continue on further lines, matrices are split or elided to fit.
    """
    width = ARTICLE.width if width is None else width
    star = "" if numbered else "*"
    # Without hyperref (a plain article) the outline's text form is dropped.
    out = ["\\providecommand{\\texorpdfstring}[2]{#1}"] if numbered else []
    out.append(f"\\section{star}{{{_heading_latex(derivation.title, numbered)}}}")
    if derivation.label:
        out.append(f"\\label{{sec:{derivation.label}}}")
    if derivation.source:
        out.append(f"{{\\small Computed and checked by {code_latex(derivation.source)}.}}\\par")
    # Typewriter names cannot hyphenate: let lines stretch rather than overflow,
    # within this derivation only.
    out += [_STRETCH, ""]
    number = 0
    for step in derivation.steps:
        if step.title:
            number += 1
            prefix = "" if numbered else f"{number}.\\ "
            out.append(f"\\subsection{star}{{{prefix}{_heading_latex(step.title, numbered)}}}")
        for block in step.blocks:
            # A display belongs to the paragraph before it: no blank line between.
            if isinstance(block, (Display, Matrices)) and out[-1] == "":
                out.pop()
            out.append(_block_latex(block, width))
            out.append("")
    out.append("\\endgroup")
    if any("\\argbreak" in line for line in out):
        # A self-contained fragment defines the macro its code uses, under its heading.
        from .documents import ARGBREAK

        out.insert(out.index(_STRETCH) - (1 if derivation.source else 0), ARGBREAK)
    return "\n".join(out) + "\n"


def _block_text(block: Any, width: int) -> str:
    if isinstance(block, Prose):
        return textwrap.fill(
            " ".join(prose_text(block.text).split()),
            width=width,
            initial_indent="   ",
            subsequent_indent="   ",
        )
    if isinstance(block, Display):
        return textwrap.indent(_display_text(block), "       ")
    if isinstance(block, Matrices):
        return textwrap.indent(_matrices_text(block, width - 5), "   ")
    if isinstance(block, Table):
        return textwrap.indent(_table_text(block), "   ")
    return textwrap.fill(
        check_text(block), width=width, initial_indent="   ", subsequent_indent="     "
    )


def derivation_text(derivation: Derivation, *, width: int = 88) -> str:
    """Unicode text for terminals: a title, then one numbered block per titled step."""
    title = prose_text(derivation.title)
    lines = [title, "=" * len(title)]
    if derivation.source:
        lines.append(f"Computed and checked by {derivation.source}.")
    number = 0
    for step in derivation.steps:
        lines.append("")
        if step.title:
            number += 1
            lines.append(f"{number}. {prose_text(step.title)}")
        previous = None
        for block in step.blocks:
            # Displays, matrices and tables stand apart from the prose around them.
            apart = isinstance(block, (Display, Matrices, Table))
            if previous is not None and (apart or previous):
                lines.append("")
            lines.append(_block_text(block, width))
            previous = apart
    return "\n".join(lines)


def derivation_repr_latex(derivation: Derivation) -> str:
    r"""What Jupyter's ``_repr_latex_`` shows: each step's title and equations, in MathJax.

    MathJax renders display maths only, so prose stays out; ``_repr_html_``
    (:func:`derivation_html`) shows everything.
    """
    rows = [rf"\textbf{{{_mathjax_text(prose_text(derivation.title))}}}"]
    number = 0
    for step in derivation.steps:
        if step.title:
            number += 1
            rows.append(rf"\textbf{{{number}. {_mathjax_text(prose_text(step.title))}}}")
        for equation in step.equations:
            rows.append(equation_latex(equation))
    body = " \\\\\n".join(rows)
    return f"$$\\begin{{gathered}}\n{body}\n\\end{{gathered}}$$"


def _mathjax_text(text: str) -> str:
    # \textbf{} in MathJax shows Unicode as it is but expands no macros.
    return "".join(" " if c in "\\{}$&#^_%~<>" else c for c in text)


def _block_html(block: Any) -> str:
    if isinstance(block, Prose):
        return f"<p>{prose_html(block.text)}</p>"
    if isinstance(block, Display):
        rows = " \\\\\n".join(equation_latex(e, align=True) for e in block.equations)
        return f"<div>\\[\\begin{{aligned}}\n{html.escape(rows)}\n\\end{{aligned}}\\]</div>"
    if isinstance(block, Matrices):
        plain = Matrices(block.items, block.zero, block.max_rows, block.max_cols)
        math = _matrices_latex(plain, ARTICLE.width)
        note = f"<p>{prose_html(block.note)}</p>" if block.note else ""
        return f"<div>{html.escape(math)}</div>{note}"
    if isinstance(block, Table):
        head = "".join(f"<th>{prose_html(cell)}</th>" for cell in block.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{prose_html(cell)}</td>" for cell in row) + "</tr>"
            for row in block.rows
        )
        caption = f"<caption>{prose_html(block.caption)}</caption>" if block.caption else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    mark = "✓" if block.passed else "✗ FAILED:"
    return f'<p class="check">{mark} {_check_words(block, prose_html)}</p>'


def derivation_html(derivation: Derivation) -> str:
    r"""HTML for notebooks: headings, prose, tables; maths as ``\(…\)``, ``\[…\]`` for MathJax."""
    out = ['<div class="derivation">', f"<h3>{prose_html(derivation.title)}</h3>"]
    if derivation.source:
        source = html.escape(derivation.source)
        out.append(f"<p><small>Computed and checked by <code>{source}</code>.</small></p>")
    number = 0
    for step in derivation.steps:
        if step.title:
            number += 1
            out.append(f"<h4>{number}. {prose_html(step.title)}</h4>")
        out += [_block_html(block) for block in step.blocks]
    out.append("</div>")
    return "\n".join(out)
