r"""LaTeX of numbers, matrices, specs and text, through one entry point.

A change to the LaTeX of a matrix goes here. :func:`to_latex` prints a matrix
(sympy, ``scipy.sparse``, numpy, or a lazy view such as
:class:`~transpose_matrix.render.views.ConvMatrixView`), a number, a
:class:`~transpose_matrix.geometry.spec.ConvSpec`, or any object with a
``_latex(printer)`` method. Documents around these pieces are built in
:mod:`transpose_matrix.render.documents`.

Conventions of the output:

* :func:`to_latex` returns **math-mode** content without delimiters for
  matrices, numbers and specs (like ``sympy.latex``); an object's own
  ``_latex`` may return a body fragment instead. :func:`math_block` makes a
  display block for a document body out of either.
* Matrices with at most 10 columns are ``bmatrix`` environments. Wider ones
  are ``\left[\begin{array}{@{}cc…c@{}}…\end{array}\right]``, which looks
  the same but is not subject to amsmath's ``MaxMatrixCols`` limit of 10, so
  every fragment works when ``\input`` into any notes that load amsmath.
* Large matrices are elided: beyond ``max_rows`` rows the first and last few
  are kept and the gap is marked with ``\vdots``. Columns are elided the same
  way (``\cdots``, with ``\ddots`` where both gaps cross) beyond
  ``max_cols`` or, given a ``width`` in points, by **typeset width**: each
  column is as wide as its widest entry (estimated by
  :mod:`~transpose_matrix.render.measure`). A matrix too wide for one line
  but narrow enough for a few is split into balanced column blocks (cut at
  the ends of input rows where possible), one per line, the bracket opened on
  the first and closed on the last.

Heavy modules (sympy, scipy) are imported only when an object of theirs is
being printed, so importing this module costs next to nothing.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import ConvSpecError, ConvSpecTypeError, LatexError
from ..geometry.shapes import describe
from ..narrative.markup import dims_latex
from .elision import Kept, ends, keep_band
from .measure import ARRAY_GAP, BRACKETS, math_width

__all__ = [
    "DEFAULT_MAX_COLS",
    "DEFAULT_MAX_ROWS",
    "LatexError",
    "LatexPrinter",
    "MATH_SYMBOLS",
    "code_latex",
    "dims_latex",
    "escape_text",
    "format_number",
    "latex_of",
    "math_block",
    "matrix_latex",
    "matrix_width",
    "repr_latex",
    "spec_latex",
    "to_latex",
]

#: Rows and columns shown before a matrix is elided, when no limit is given.
DEFAULT_MAX_ROWS = 16
DEFAULT_MAX_COLS = 16

# amsmath's matrix environments refuse more columns than this by default.
_AMSMATH_MAX_COLS = 10
# Matrices with at most this many columns are measured whole, to split them
# into blocks when they are too wide for a line; wider ones are elided.
_SPLIT_COLUMNS = 64
# How many times the columns a matrix can show the band elision may look at.
_CANDIDATES = 4
# Height of one matrix row (\baselineskip at 10 pt) and the gap between blocks.
_ROW_HEIGHT = 12.0
_BLOCK_GAP = 14.0
# Indent of a continued block of a split matrix (\qquad).
_CONTINUED = 20.0
# Most column blocks a split matrix stacks when no height is given.
_MAX_BLOCKS = 3


# --------------------------------------------------------------------------- numbers


def format_number(value: Any) -> str:
    r"""A compact LaTeX form of a real or complex number.

    Integers (and floats with an integral value below ``1e15``) print as
    integers; other floats with 3 significant digits (``%.3g``), exponents as
    ``\times 10^{…}``.

    Parameters
    ----------
    value : int, float, complex or numpy scalar
        The number; bools print as 0 and 1, NaN and infinities by name.

    Returns
    -------
    str
        Math-mode LaTeX without delimiters.

    Raises
    ------
    TypeError, ValueError
        Only Python's own, from ``float(value)`` when ``value`` is not a
        number: nothing else is validated here.

    Examples
    --------
    >>> format_number(3), format_number(2.0), format_number(-0.123456)
    ('3', '2', '-0.123')
    >>> format_number(1.5e-7)
    '1.5 \\times 10^{-7}'
    >>> format_number(complex(1, -2))
    '1 - 2i'
    """
    if isinstance(value, bool):
        return str(int(value))
    item = getattr(value, "item", None)
    if callable(item):  # numpy scalars
        value = item()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, complex):
        real, imag = value.real, value.imag
        if imag == 0:
            return format_number(real)
        magnitude = format_number(abs(imag))
        imaginary = "i" if magnitude == "1" else f"{magnitude}i"
        if real == 0:
            return f"-{imaginary}" if imag < 0 else imaginary
        sign = "-" if imag < 0 else "+"
        return f"{format_number(real)} {sign} {imaginary}"
    number = float(value)
    if math.isnan(number):
        return r"\mathrm{NaN}"
    if math.isinf(number):
        return r"\infty" if number > 0 else r"-\infty"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = f"{number:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa} \\times 10^{{{int(exponent)}}}"
    return text


# --------------------------------------------------------------------------- text


#: The Unicode symbols of the project's prose and the LaTeX maths command each
#: stands for: one table, read both ways. :func:`escape_text` sets a symbol as
#: maths in text mode; the inline-maths reader of
#: :mod:`~transpose_matrix.render.prose` prints a command as its symbol (the
#: first symbol listed for a command wins, so ``\cdot`` prints as ``·``).
MATH_SYMBOLS = {
    "≤": r"\le",
    "≥": r"\ge",
    "≠": r"\ne",
    "≈": r"\approx",
    "≡": r"\equiv",
    "·": r"\cdot",
    "⋅": r"\cdot",
    "×": r"\times",
    "±": r"\pm",
    "∂": r"\partial",
    "∞": r"\infty",
    "⌊": r"\lfloor",
    "⌋": r"\rfloor",
    "⌈": r"\lceil",
    "⌉": r"\rceil",
    "∈": r"\in",
    "∀": r"\forall",
    "Σ": r"\Sigma",
    "Π": r"\Pi",
    "α": r"\alpha",
    "λ": r"\lambda",
    "ℓ": r"\ell",
    "⊗": r"\otimes",
    "→": r"\to",
    "↦": r"\mapsto",
    "⇒": r"\Rightarrow",
    "⇔": r"\Leftrightarrow",
    "⟨": r"\langle",
    "⟩": r"\rangle",
    "‖": r"\|",
    "⋮": r"\vdots",
    "⋯": r"\cdots",
    "✓": r"\checkmark",
}

# The one escape table for text mode: LaTeX's specials, the text punctuation
# and superscripts the project's prose uses, and every symbol of MATH_SYMBOLS
# as inline maths; nothing needs more than amsmath/amssymb. (SymPy's
# latex_escape covers the first ten; the braces after the word commands keep a
# following space.)
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "−": r"$-$",
    "–": "--",
    "—": "---",
    "…": r"\dots{}",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "ᵀ": r"$^{\mathsf{T}}$",
    "⁺": r"$^{+}$",
    "⁻": r"$^{-}$",
    "¹": r"$^{1}$",
    "²": r"$^{2}$",
    "³": r"$^{3}$",
    "ᵈ": r"$^{d}$",
    **{symbol: f"${command}$" for symbol, command in MATH_SYMBOLS.items()},
}


def escape_text(text: str, *, strict: bool = True) -> str:
    r"""``text`` for LaTeX text mode: the one escape table of the project.

    LaTeX's special characters are escaped; the Unicode symbols the project's
    prose uses become math commands, so the result is ASCII apart from
    accented Latin letters (which the T1 font encoding prints). An apostrophe
    stays a prose apostrophe; :func:`code_latex` makes quotes straight.

    Parameters
    ----------
    text : str
        Plain text.
    strict : bool
        Refuse other non-ASCII characters (default); ``False`` passes them
        through for a caller that maps them itself.

    Returns
    -------
    str
        Text-mode LaTeX.

    Raises
    ------
    ConvSpecError
        With ``strict``, for any other non-ASCII character: pdflatex would
        stop on it, so it is refused here, by name.

    Examples
    --------
    >>> print(escape_text("50% of x_1 & y ≤ Cᵀ"))
    50\% of x\_1 \& y $\le$ C$^{\mathsf{T}}$
    """
    out = []
    for char in text:
        replacement = _TEXT_ESCAPES.get(char)
        if replacement is not None:
            out.append(replacement)
        elif char.isascii() or (char.isalpha() and ord(char) < 0x180) or not strict:
            out.append(char)
        else:
            import unicodedata

            raise ConvSpecError(
                f"escape_text: character {char!r} ({unicodedata.name(char, 'unnamed')}) has "
                "no LaTeX form here; add it to the escape table"
            )
    return "".join(out)


# Where a call may end a line: if it does, the line ends ragged (as code
# does) instead of being stretched; if not, the two glues cancel and nothing
# shows. Typewriter spaces do not stretch, so without this a paragraph holding
# a long call could find no acceptable break and overrun its line; the
# penalty keeps a ragged end for lines that cannot be justified well.
# The macro is defined once per document (documents.ARGBREAK).
_CODE_BREAK = r"\argbreak"


def code_latex(code: str) -> str:
    r"""``code`` in typewriter type with straight quotes, breakable between arguments.

    Every hyphen is followed by ``{}``, so ``--input`` prints as two hyphens
    (T1 typewriter fonts would join them into an en dash).

    Spaces inside brackets are tied (``~``), so a long call such as a torch
    constructor wraps between its arguments, never inside ``(3, 3)``. A line
    that ends inside the code may fall short of the margin (ragged, as code
    is), so a call inside a justified paragraph never overruns its line.

    Parameters
    ----------
    code : str
        The code, plain text.

    Returns
    -------
    str
        ``\texttt{…}``, text-mode LaTeX.

    Raises
    ------
    ConvSpecError
        A non-ASCII character that has no LaTeX form (from
        :func:`escape_text`).

    Examples
    --------
    >>> print(code_latex("f(a=(1, 2), b='x')").replace(_CODE_BREAK, "<break>"))
    \texttt{f(a=(1,~2),<break>\ b=\textquotesingle{}x\textquotesingle{})}
    """
    pieces = []
    depth = 0
    for char in code:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == " " and depth > 1:
            pieces.append("~")
        elif char == " ":
            pieces.append(_CODE_BREAK + r"\ ")
        elif char in "'`":
            pieces.append(r"\textquotesingle{}" if char == "'" else r"\textasciigrave{}")
        elif char == "-":
            pieces.append("-{}")  # T1 typewriter fonts join -- into an en dash
        else:
            pieces.append(escape_text(char))
    return "\\texttt{" + "".join(pieces) + "}"


# --------------------------------------------------------------------------- printer


class LatexPrinter:
    r"""The options of one LaTeX rendering; objects receive it in ``_latex(printer)``.

    The protocol follows SymPy's printers: :func:`to_latex` first asks the
    object itself (``obj._latex(printer)``), then the types registered with
    :func:`latex_of` (numbers, numpy, scipy.sparse, sympy). An object that
    prints its parts calls ``printer.doprint(part)`` so the parts inherit the
    options.

    Parameters
    ----------
    max_rows, max_cols : int, optional
        Elide matrices beyond this many rows / columns (at least 2).
    zero : str
        What a zero matrix entry prints as.
    width : float, optional
        Width in pt (at 10 pt type) that a matrix may take; columns are then
        elided or split into blocks by typeset width. ``None``: by count only.
    height : float, optional
        Height in pt a matrix may take; limits how many column blocks a
        split matrix stacks. ``None``: up to 3 blocks.

    Raises
    ------
    ConvSpecTypeError
        A limit that is not an integer, or a size that is not a number.
    ConvSpecError
        A limit below 2, or a size outside 40 to 100,000 pt.

    Examples
    --------
    >>> import numpy as np
    >>> printer = LatexPrinter(max_rows=2, zero=r"\cdot")
    >>> print(printer.doprint(np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])))
    \begin{bmatrix}
    1 & \cdot \\
    \vdots & \vdots \\
    3 & 4
    \end{bmatrix}

    Rows and columns are elided together: a column whose entries are all in
    the rows left out is left out too, rather than shown as zeros.

    >>> print(printer.doprint(np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]])))
    \begin{bmatrix}
    1 & \cdots \\
    \vdots & \ddots \\
    3 & \cdots
    \end{bmatrix}
    """

    def __init__(
        self,
        *,
        max_rows: int | None = None,
        max_cols: int | None = None,
        zero: str = "0",
        width: float | None = None,
        height: float | None = None,
    ) -> None:
        self.max_rows = _check_limit("max_rows", max_rows, DEFAULT_MAX_ROWS)
        # With a width, the width decides how many columns fit.
        default_cols = DEFAULT_MAX_COLS if width is None else _SPLIT_COLUMNS
        self.max_cols = _check_limit("max_cols", max_cols, default_cols)
        self.zero = zero
        self.width = _check_size("width", width)
        self.height = _check_size("height", height)

    def doprint(self, obj: Any) -> str:
        """LaTeX of ``obj`` with these options."""
        method = getattr(obj, "_latex", None)
        if callable(method) and not isinstance(obj, type):
            return method(self)
        return latex_of(obj, self)

    def narrower(self, amount: float) -> LatexPrinter:
        """A copy whose width is ``amount`` pt smaller (room for ``C =`` and the like)."""
        copy = LatexPrinter.__new__(LatexPrinter)
        copy.__dict__.update(self.__dict__)
        if self.width is not None:
            copy.width = max(40.0, self.width - amount)
        return copy


def _check_limit(name: str, value: int | None, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConvSpecTypeError(f"{name}={value!r} must be an integer")
    if value < 2:
        raise ConvSpecError(f"{name}={value} must be >= 2 (first and last entries are kept)")
    return value


def _check_size(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConvSpecTypeError(f"{name}={value!r} must be a number of points")
    if not 40 <= value < 1e5:
        raise ConvSpecError(f"{name}={value} must be between 40 and 100000 pt")
    return float(value)


@functools.singledispatch
def latex_of(obj: Any, printer: LatexPrinter) -> str:
    """LaTeX of one type; extend with ``@latex_of.register``.

    The fallback registers the optional libraries' types the first time an
    object arrives while they are loaded (an object of theirs cannot exist
    otherwise), so printing a number never imports sympy or scipy.

    Parameters
    ----------
    obj : object
        What to print; dispatched on its type.
    printer : LatexPrinter
        The options, passed on to the parts.

    Returns
    -------
    str
        Math-mode LaTeX.

    Raises
    ------
    ConvSpecTypeError
        No printer is registered for ``obj``'s type and it has no
        ``latex()`` method.

    Examples
    --------
    >>> latex_of(2.5, LatexPrinter())
    '2.5'
    >>> latex_of(object(), LatexPrinter())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    transpose_matrix.errors.ConvSpecTypeError: to_latex cannot print object; ...
    """
    if _register_loaded_libraries():
        return latex_of(obj, printer)
    # Objects that predate the _latex protocol print through .latex().
    method = getattr(obj, "latex", None)
    if callable(method) and not isinstance(obj, type):
        return method()
    raise ConvSpecTypeError(
        f"to_latex cannot print {type(obj).__name__}; it takes sympy, scipy.sparse or "
        "numpy matrices, numbers, ConvSpec, or objects with a _latex(printer) method"
    )


@latex_of.register(int)
@latex_of.register(float)
@latex_of.register(complex)
def _number(obj: Any, printer: LatexPrinter) -> str:
    return format_number(obj)


def _numpy_types(numpy: Any) -> list[tuple[type, Any]]:
    return [(numpy.ndarray, _numpy_latex), (numpy.generic, _numpy_latex)]


def _sparse_types(sparse: Any) -> list[tuple[type, Any]]:
    return [(sparse.sparray, _sparse_latex), (sparse.spmatrix, _sparse_latex)]


def _sympy_types(sympy: Any) -> list[tuple[type, Any]]:
    return [(sympy.Basic, _sympy_latex), (sympy.MatrixBase, _sympy_latex)]


# Optional libraries whose types print once the library is loaded.
_OPTIONAL = {"numpy": _numpy_types, "scipy.sparse": _sparse_types, "sympy": _sympy_types}
_REGISTERED: set[str] = set()


def _register_loaded_libraries() -> bool:
    """Register numpy, scipy.sparse and sympy types once loaded; True if any was new."""
    new = False
    for name, types in _OPTIONAL.items():
        module = sys.modules.get(name)
        if module is not None and name not in _REGISTERED:
            for kind, printer in types(module):
                latex_of.register(kind, printer)
            _REGISTERED.add(name)
            new = True
    return new


def to_latex(
    obj: Any,
    *,
    max_rows: int | None = None,
    max_cols: int | None = None,
    zero: str = "0",
    width: float | None = None,
    height: float | None = None,
) -> str:
    r"""LaTeX of a matrix, number, spec or derivation: the one entry point.

    Parameters
    ----------
    obj
        A sympy matrix (dense or sparse) or expression, a ``scipy.sparse``
        matrix or array, a numpy array (1-D prints as a column) or number, a
        :class:`~transpose_matrix.geometry.spec.ConvSpec`, or any object with a
        ``_latex(printer)`` method (see :class:`LatexPrinter`).
    max_rows, max_cols : int, optional
        Elide matrices beyond this many rows / columns (default
        :data:`DEFAULT_MAX_ROWS`, :data:`DEFAULT_MAX_COLS`); at least 2. The
        first ``ceil(m/2)`` and last ``floor(m/2)`` are kept.
    zero : str
        What a zero entry prints as: ``"0"``, or ``r"\cdot"`` for a lighter
        picture of the sparsity.
    width, height : float, optional
        Room for a matrix in pt at 10 pt type (``\linewidth`` of a 10 pt
        ``article`` is 345 pt). With ``width`` the columns kept, or the
        column blocks of a split matrix, are chosen by typeset width.

    Returns
    -------
    str
        Math-mode LaTeX without delimiters for matrices, numbers and specs;
        objects' own ``_latex`` may return body fragments.

    Raises
    ------
    ConvSpecTypeError
        ``obj`` is of a type this function cannot print.
    ConvSpecError
        An array is not 1-D or 2-D, or a limit is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> print(to_latex(np.array([[1.0, 0.0], [0.5, 2.0]])))
    \begin{bmatrix}
    1 & 0 \\
    0.5 & 2
    \end{bmatrix}
    >>> print(to_latex(np.arange(1, 6), max_rows=2, zero=r"\cdot"))
    \begin{bmatrix}
    1 \\
    \vdots \\
    5
    \end{bmatrix}
    """
    printer = LatexPrinter(
        max_rows=max_rows, max_cols=max_cols, zero=zero, width=width, height=height
    )
    return printer.doprint(obj)


_DISPLAY_PREFIXES = (
    "\\begin{", "\\[", "$", "\\section", "\\subsection", "\\subsubsection", "\\noindent",
    "\\par", "\\paragraph",
)
_MATRIX_PREFIXES = tuple(
    f"\\begin{{{kind}matrix" for kind in ("", "p", "b", "B", "v", "V")
)


def _is_display(text: str) -> bool:
    start = text.lstrip()
    return start.startswith(_DISPLAY_PREFIXES) and not start.startswith(_MATRIX_PREFIXES)


def math_block(obj: Any, **options: Any) -> str:
    r"""``to_latex(obj)`` as a display block for a document body.

    Math-mode output is wrapped in ``\[ … \]``; output that already is a
    display environment (``\begin{align*}``, ``\[``, ``$``) or text
    (``\section``, ``\noindent``, ...) is left alone, except a bare matrix
    environment, which is math-mode and gets wrapped.

    Parameters
    ----------
    obj : object
        Anything :func:`to_latex` prints, or a string of LaTeX already made.
    **options
        Keyword arguments of :func:`to_latex` (``max_rows``, ``width``, …).

    Returns
    -------
    str
        A block to put in a document body.

    Raises
    ------
    ConvSpecTypeError, ConvSpecError
        As in :func:`to_latex`: a type it cannot print, or a bad option.

    Examples
    --------
    >>> import numpy as np
    >>> print(math_block(np.array([[1, 2]])))
    \[
    \begin{bmatrix}
    1 & 2
    \end{bmatrix}
    \]
    >>> print(math_block(r"\section{Notes}"))
    \section{Notes}
    """
    text = obj if isinstance(obj, str) else to_latex(obj, **options)
    if _is_display(text):
        return text
    return f"\\[\n{text}\n\\]"


def repr_latex(obj: Any, **options: Any) -> str:
    r"""What a ``_repr_latex_`` method returns for Jupyter: ``$\displaystyle …$``.

    Parameters
    ----------
    obj : object
        Anything :func:`to_latex` prints.
    **options
        Keyword arguments of :func:`to_latex`.

    Returns
    -------
    str
        Math-mode output wrapped in ``$\displaystyle …$``; a display or text
        block as it is.

    Raises
    ------
    ConvSpecTypeError, ConvSpecError
        As in :func:`to_latex`: a type it cannot print, or a bad option.

    Examples
    --------
    >>> repr_latex(0.5)
    '$\\displaystyle 0.5$'
    """
    text = to_latex(obj, **options)
    if _is_display(text):
        return text
    return f"$\\displaystyle {text}$"


# --------------------------------------------------------------------------- matrices


class _Cells:
    """A matrix as the printers see it: a shape, the LaTeX of any block, its pattern."""

    column_blocks: Sequence[int] = ()

    def __init__(self, shape: tuple[int, ...], block: Any, nonzero: Any) -> None:
        self.shape = tuple(shape)
        self.latex_block = block
        self._nonzero = nonzero  # a boolean array of the whole (small, dense) pattern

    def nonzero_block(self, rows: Sequence[int], cols: Sequence[int]) -> list[list[bool]]:
        return [[bool(self._nonzero[i, j]) for j in cols] for i in rows]

    def nonempty_rows(self, rows: Sequence[int]) -> list[bool]:
        return [bool(self._nonzero[i].any()) for i in rows]

    def nonempty_cols(self, cols: Sequence[int]) -> list[bool]:
        return [bool(self._nonzero[:, j].any()) for j in cols]


def _dense_cells(array: Any) -> _Cells:
    import numpy as np

    def block(rows: Sequence[int], cols: Sequence[int]) -> list[list[str | None]]:
        return [[_scalar_or_none(array[i, j]) for j in cols] for i in rows]

    rows, cols = array.shape
    nonzero = np.array(
        [[bool(array[i, j] != 0) for j in range(cols)] for i in range(rows)], dtype=bool
    ).reshape(rows, cols)
    return _Cells(array.shape, block, nonzero)


class _SparseCells(_Cells):
    """A sparse matrix: the pattern is read from its index arrays, never densified."""

    def __init__(self, matrix: Any) -> None:
        import numpy as np

        self.csr = matrix.tocsr()
        self.csr.eliminate_zeros()
        self.row_counts = np.diff(self.csr.indptr)
        self.col_counts = np.bincount(self.csr.indices, minlength=self.csr.shape[1])
        super().__init__(self.csr.shape, self._block, None)

    def _dense(self, rows: Sequence[int], cols: Sequence[int]) -> Any:
        import numpy as np

        return self.csr[np.asarray(rows, dtype=np.int64)][:, np.asarray(cols, dtype=np.int64)]

    def _block(self, rows: Sequence[int], cols: Sequence[int]) -> list[list[str | None]]:
        # Only the block asked for is densified, so a huge C stays cheap.
        dense = self._dense(rows, cols).toarray()
        return [[_scalar_or_none(value) for value in row] for row in dense]

    def nonzero_block(self, rows: Sequence[int], cols: Sequence[int]) -> list[list[bool]]:
        return (self._dense(rows, cols).toarray() != 0).tolist()

    def nonempty_rows(self, rows: Sequence[int]) -> list[bool]:
        return [bool(self.row_counts[i]) for i in rows]

    def nonempty_cols(self, cols: Sequence[int]) -> list[bool]:
        return [bool(self.col_counts[j]) for j in cols]


def _sparse_cells(matrix: Any) -> _Cells:
    return _SparseCells(matrix)


def _scalar_or_none(entry: Any) -> str | None:
    if "sympy" in sys.modules:
        import sympy

        if isinstance(entry, sympy.Basic):
            return None if entry == 0 else sympy.latex(entry)
    try:
        return None if bool(entry == 0) else format_number(entry)
    except (TypeError, ValueError):
        # An object array may hold anything; only numbers print.
        raise ConvSpecTypeError(
            f"to_latex prints numbers and sympy expressions; an entry is "
            f"{describe(entry)} ({type(entry).__name__})"
        ) from None


def _numpy_latex(obj: Any, printer: LatexPrinter) -> str:
    import numpy as np

    if isinstance(obj, np.generic):
        if obj.dtype.kind not in "biufc":
            raise ConvSpecTypeError(f"to_latex cannot print a numpy {obj.dtype} scalar")
        return format_number(obj)
    if obj.dtype.kind not in "biufcO":
        raise ConvSpecTypeError(
            f"to_latex prints numeric arrays; this one has dtype {obj.dtype}"
        )
    array = obj[:, None] if obj.ndim == 1 else obj  # a vector prints as a column
    if array.ndim != 2:
        raise ConvSpecError(
            f"array of shape {obj.shape} must be 1-D or 2-D to print as a matrix"
        )
    return matrix_latex(_dense_cells(array), printer)


def _sparse_latex(obj: Any, printer: LatexPrinter) -> str:
    if len(obj.shape) != 2:
        raise ConvSpecError(f"sparse array of shape {obj.shape} must be 2-D")
    return matrix_latex(_sparse_cells(obj), printer)


def _sympy_latex(obj: Any, printer: LatexPrinter) -> str:
    import sympy

    if not getattr(obj, "is_Matrix", False):
        return sympy.latex(obj)
    return matrix_latex(_dense_cells(obj), printer)


def _column_widths(cells: list[list[str]], labels: Sequence[str] | None = None) -> list[float]:
    widths = [max(math_width(row[j]) for row in cells) for j in range(len(cells[0]))]
    if labels is not None:
        widths = [max(w, _LABEL_SCALE * math_width(label)) for w, label in
                  zip(widths, labels, strict=True)]
    return widths


def _line_width(widths: Sequence[float]) -> float:
    return _line_width_of(sum(widths), len(widths))


def _line_width_of(total: float, count: int) -> float:
    """Width of a bracketed row of ``count`` columns whose cells are ``total`` pt wide."""
    return total + ARRAY_GAP * max(0, count - 1) + BRACKETS


def _pack(
    widths: Sequence[float],
    first: float,
    later: float,
    boundaries: Sequence[int],
    most: int,
) -> list[tuple[int, int]] | None:
    """Balanced column ranges: the first fits ``first`` pt, the others ``later``.

    Of the ways to cut the columns into at most ``most`` blocks that fit,
    the one with the fewest lines wins, where a cut off ``boundaries`` (the
    ends of input rows, where the matrix's structure splits) costs a line;
    on a tie, the fewest such cuts; then the narrowest widest line (a
    continued line counted with its indent). 16 equal columns on two lines
    are 8 + 8, not 14 + 2; rows are cut only when that saves more lines
    than it cuts. ``None`` when no cut fits.
    """
    n = len(widths)
    on_boundary = set(boundaries)
    # best[j][b]: (cuts off boundaries, widest line) of columns [0, j) in b blocks,
    # and where the last block starts. Within one block count, a better prefix
    # never makes a worse whole, so the table holds the optimum.
    best: list[dict[int, tuple[int, float, int]]] = [{} for _ in range(n + 1)]
    best[0][0] = (0, 0.0, 0)
    sums = [0.0, *itertools.accumulate(widths)]
    for stop in range(1, n + 1):
        for start in range(stop - 1, -1, -1):
            line = _line_width_of(sums[stop] - sums[start], stop - start)
            if line > max(first, later):
                break  # a longer block only gets wider
            for count, (off, widest, _) in best[start].items():
                room, indent = (first, 0.0) if count == 0 else (later, _CONTINUED)
                if count == most or line > room:
                    continue
                cut_off = int(0 < start and start not in on_boundary)
                candidate = (off + cut_off, max(widest, line + indent), start)
                if candidate[:2] < best[stop].get(count + 1, (n + 1, math.inf, 0))[:2]:
                    best[stop][count + 1] = candidate
    if not best[n]:
        return None
    count = min(best[n], key=lambda b: (b + best[n][b][0], best[n][b][0], best[n][b][1]))
    blocks, stop = [], n
    while count:
        start = best[stop][count][2]
        blocks.append((start, stop))
        stop, count = start, count - 1
    return blocks[::-1]


def _boundaries(sizes: Sequence[int], count: int) -> list[int]:
    """Every column index where one of the blocks of ``sizes`` (fine to coarse) ends."""
    found: set[int] = set()
    for size in sizes:
        if size and size < count:
            found.update(range(size, count, size))
    return sorted(found)


def _cells(source: Any, rows: list[int], cols: list[int], zero: str) -> list[list[str]]:
    block = source.latex_block(rows, cols)
    return [[zero if text is None else text for text in row] for row in block]


def _fit_columns(source: Any, rows: Kept, cols: Kept, printer: LatexPrinter) -> Kept:
    r"""The first and last of the ``cols`` candidates that fit beside a ``\cdots`` column.

    From a whole axis the candidates are the first ``ceil(limit/2)`` and last
    ``floor(limit/2)`` columns; from an axis already cut, its first and last
    kept ranges. With a ``printer.width``, head and tail columns are taken in
    turn while their typeset width fits.
    """
    n_cols = source.shape[1]
    limit = min(n_cols, printer.max_cols)
    if printer.width is not None:
        limit = min(limit, _SPLIT_COLUMNS)
    if cols.whole:
        # Half of the candidates from each end, so both ends stay in view.
        start = ends(n_cols, min(limit, n_cols - 1))
        head, tail = list(start.ranges[0]), list(start.ranges[1])
    else:
        parts = [part for part in cols.ranges if part]
        head = list(parts[0]) if parts and parts[0].start == 0 else []
        tail = list(parts[-1]) if parts and parts[-1].stop == n_cols else []
        if len(parts) == 1 and head and tail:
            tail = []
        share = (limit + 1) // 2
        head_room = max(share, limit - len(tail))
        head = head[:head_room]
        tail = tail[max(0, len(tail) - (limit - len(head))):]
    if printer.width is None:
        kept_head, kept_tail = len(head), len(tail)
    else:
        cells = _cells(source, rows.indices, head + tail, printer.zero)
        widths = _column_widths(cells, _labels_of(source, None, head + tail)) if cells else []
        room = printer.width - BRACKETS - math_width(r"\cdots") - _label_width(source, rows)
        kept_head = kept_tail = 0
        used = -ARRAY_GAP
        while kept_head + kept_tail < len(head) + len(tail):
            can_head, can_tail = kept_head < len(head), kept_tail < len(tail)
            take_head = can_head and (kept_head <= kept_tail or not can_tail)
            width = widths[kept_head] if take_head else widths[len(widths) - 1 - kept_tail]
            if used + width + ARRAY_GAP > room and kept_head + kept_tail >= 2:
                break
            used += width + ARRAY_GAP
            kept_head, kept_tail = kept_head + take_head, kept_tail + (not take_head)
    chosen = [range(head[0], head[0] + kept_head)] if kept_head else []
    if kept_tail:
        chosen.append(range(tail[-1] + 1 - kept_tail, tail[-1] + 1))
    return Kept(n_cols, tuple(chosen))


def _with_gaps(
    cells: list[list[str]], row_gap: int | None, col_gap: int | None, dots: str = r"\vdots"
) -> list[list[str]]:
    lines = []
    width = len(cells[0]) if cells else 0

    def gap_row() -> list[str]:
        marks = [dots] * width
        if col_gap is not None:
            marks.insert(col_gap, r"\ddots")
        return marks

    for position, row in enumerate(cells):
        if position == row_gap:
            lines.append(gap_row())
        entries = list(row)
        if col_gap is not None:
            entries.insert(col_gap, r"\cdots")
        lines.append(entries)
    if row_gap is not None and row_gap >= len(cells):
        lines.append(gap_row())
    return lines


def _labels_of(source: Any, rows: Sequence[int] | None, cols: Sequence[int]) -> list[str] | None:
    """The LaTeX labels of ``cols`` (``rows`` ``None``) or of ``rows``, if the source names them."""
    method = getattr(source, "latex_labels", None)
    if not callable(method):
        return None
    return method(rows, True) if rows is not None else method(cols, False)


def _label_width(source: Any, rows: Kept) -> float:
    """Room the row labels take left of the matrix (0 for an unlabelled source)."""
    labels = _labels_of(source, rows.indices, [])
    if not labels:
        return 0.0
    return max(_LABEL_SCALE * math_width(label) for label in labels) + ARRAY_GAP


def _environment(
    lines: list[list[str]],
    left: str = "[",
    right: str = "]",
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
) -> str:
    """A bracketed matrix, or with labels a labelled array (labels left of and above the entries).

    A labelled matrix reads as the text view does: the row labels in a
    column left of the bracket, each column's label above the bracket, set
    small; every block of a split matrix carries the labels of its columns.
    """
    width = len(lines[0])
    if row_labels is not None and col_labels is not None:
        # Each entry of the first row carries its column's label above it
        # (over a strut, so all labels sit on one line); smashed, so the
        # bracket spans the entries alone and the labels stand above it.
        first = [
            f"\\smash[t]{{\\overset{{{label}}}{{\\smash[b]{{\\vphantom{{\\Big|}}}}{entry}}}}}"
            for label, entry in zip(col_labels, lines[0], strict=True)
        ]
        lines = [first, *lines[1:]]
    body = " \\\\\n".join(" & ".join(line) for line in lines)
    if (left, right) == ("[", "]") and width <= _AMSMATH_MAX_COLS:
        matrix = f"\\begin{{bmatrix}}\n{body}\n\\end{{bmatrix}}"
    else:
        matrix = (
            f"\\left{left}\\begin{{array}}{{@{{}}*{{{width}}}{{c}}@{{}}}}\n{body}\n"
            f"\\end{{array}}\\right{right}"
        )
    if row_labels is None or col_labels is None:
        return matrix
    # The row labels, row by row beside the bracket (every row is one strut high).
    labels = " \\\\\n".join(f"\\scriptstyle {label}" for label in row_labels)
    return f"\\begin{{array}}{{@{{}}r@{{\\;}}}}\n{labels}\n\\end{{array}}\n{matrix}"


def _gap_labels(labels: list[str] | None, gap: int | None, mark: str) -> list[str] | None:
    if labels is None:
        return None
    if gap is not None:
        labels = [*labels[:gap], mark, *labels[gap:]]
    return labels


def matrix_latex(source: Any, printer: LatexPrinter) -> str:
    r"""LaTeX of a matrix given as a cell source: the one matrix layout.

    ``source`` has a ``shape`` ``(rows, cols)`` and ``latex_block(rows,
    cols)`` returning the LaTeX of those cells (``None`` for a zero); it may
    name ``column_blocks`` (sizes of column groups, fine to coarse) where a
    split prefers to fall, answer the pattern questions of
    :class:`~transpose_matrix.render.elision.Pattern` (then rows and columns
    are elided together, along the band: every shown row and column that
    holds an entry shows one), and give ``latex_labels(indices, rows)`` (then
    rows and columns are labelled, as in the text view). Only the cells shown
    are ever asked for.

    With a ``printer.width``, a matrix whose columns fit is printed whole; one
    that fits on at most 3 lines (fewer when ``printer.height`` says so) is
    split into column blocks of balanced width, one per line, cut where
    ``column_blocks`` end when that costs no more lines than the limit allows;
    any other is elided to the first and last columns that fit.
    """
    n_rows, n_cols = source.shape
    if n_rows == 0 or n_cols == 0:
        return r"\begin{bmatrix}\end{bmatrix}"
    banded = all(callable(getattr(source, name, None)) for name in _PATTERN)
    rows, cols = ends(n_rows, printer.max_rows), Kept.all(n_cols)
    shown = printer.max_cols if printer.width is None else min(_SPLIT_COLUMNS, printer.max_cols)
    if n_cols > _CANDIDATES * shown:
        # Far too wide to print whole: the band is looked for among the end
        # columns only, so a layer of millions of columns costs what it shows.
        cols = ends(n_cols, _CANDIDATES * shown)
    while True:
        if banded:
            rows, cols = keep_band(source, rows, cols)
        if cols.whole:
            whole = _whole(source, rows, printer)
            if whole is not None:
                return whole
        narrowed = _fit_columns(source, rows, cols, printer)
        if narrowed == cols:
            break
        cols = narrowed
    cells = _cells(source, rows.indices, cols.indices, printer.zero)
    return _environment(
        _with_gaps(cells, rows.gap, cols.gap),
        row_labels=_gap_labels(_labels_of(source, rows.indices, []), rows.gap, r"\vdots"),
        col_labels=_gap_labels(_labels_of(source, None, cols.indices), cols.gap, r"\cdots"),
    )


_PATTERN = ("nonzero_block", "nonempty_rows", "nonempty_cols")
# Labels are set in \scriptstyle, 70 % of the text size.
_LABEL_SCALE = 0.7


def _whole(source: Any, rows: Kept, printer: LatexPrinter) -> str | None:
    """Every column, on one line or split into blocks; ``None`` when they must be elided."""
    n_cols = source.shape[1]
    every = list(range(n_cols))
    row_labels = _gap_labels(_labels_of(source, rows.indices, []), rows.gap, r"\vdots")
    col_labels = _labels_of(source, None, every)
    if printer.width is None:
        if n_cols > printer.max_cols:
            return None
        cells = _cells(source, rows.indices, every, printer.zero)
        return _environment(
            _with_gaps(cells, rows.gap, None), row_labels=row_labels, col_labels=col_labels
        )
    if n_cols > min(_SPLIT_COLUMNS, printer.max_cols):
        return None
    cells = _cells(source, rows.indices, every, printer.zero)
    widths = _column_widths(cells, col_labels)
    room = printer.width - _label_width(source, rows)
    if _line_width(widths) <= room:
        return _environment(
            _with_gaps(cells, rows.gap, None), row_labels=row_labels, col_labels=col_labels
        )
    boundaries = _boundaries(getattr(source, "column_blocks", ()), n_cols)
    shown_rows = len(rows) + (rows.gap is not None) + (col_labels is not None)
    allowed = _MAX_BLOCKS
    if printer.height is not None:
        allowed = int(printer.height // (shown_rows * _ROW_HEIGHT + _BLOCK_GAP))
    blocks = _pack(widths, room, room - _CONTINUED, boundaries, allowed)
    if blocks is None:
        return None
    return _split(cells, blocks, rows.gap, row_labels, col_labels)


def matrix_width(latex: str) -> float:
    r"""Estimated typeset width in pt of one matrix :func:`matrix_latex` emitted.

    A matrix split into column blocks takes the whole line (``inf``).

    >>> import numpy as np
    >>> round(matrix_width(to_latex(np.eye(2, dtype=int))))  # 2 digits, a gap, brackets
    33
    """
    if "\\begin{aligned}" in latex:
        return math.inf
    body = re.sub(r"\\(begin|end)\{[^}]*\}(\{[^}]*\})?|\\left.|\\right.", "", latex)
    rows = [row.split("&") for row in body.split("\\\\")]
    columns = max(len(row) for row in rows)
    return _line_width(
        [max((math_width(row[j]) for row in rows if j < len(row)), default=0.0)
         for j in range(columns)]
    )


def _split(
    cells: list[list[str]],
    blocks: list[tuple[int, int]],
    row_gap: int | None,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
) -> str:
    """Column blocks one per line; labelled blocks carry their own column labels."""
    lines = []
    for number, (start, stop) in enumerate(blocks):
        part = _with_gaps([row[start:stop] for row in cells], row_gap, None)
        left = "[" if number == 0 else "."
        right = "]" if number == len(blocks) - 1 else "."
        indent = "" if number == 0 else r"\qquad"
        block_labels = None if col_labels is None else col_labels[start:stop]
        lines.append(
            f"&{indent}"
            + _environment(part, left, right, row_labels=row_labels, col_labels=block_labels)
        )
    gap = "[1ex]" if col_labels is None else "[3.5ex]"  # room for the next block's labels
    return "\\begin{aligned}[t]\n" + f" \\\\{gap}\n".join(lines) + "\n\\end{aligned}"


# --------------------------------------------------------------------------- specs


def _padding_latex(padding: Sequence[tuple[int, int]]) -> str:
    if all(before == after for before, after in padding):
        return _uniform([before for before, _ in padding])
    return dims_latex(f"({before}, {after})" for before, after in padding)


def _uniform(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else dims_latex(values)


def spec_latex(spec: Any, printer: Any = None) -> str:
    r"""Math-mode description of a :class:`ConvSpec`, on two lines if one is too wide.

    Shapes are ``channels × spatial``; ``k``, ``s``, ``p``, ``d``, ``g`` are
    kernel size, stride, padding (``(before, after)`` pairs when asymmetric),
    dilation and groups (shown when not 1).

    Parameters
    ----------
    spec : ConvSpec
        The layer.
    printer : LatexPrinter, optional
        With a ``width``, a line wider than it is split in two
        (``gathered``).

    Returns
    -------
    str
        Math-mode LaTeX without delimiters.

    Raises
    ------
    AttributeError
        Only Python's own, when ``spec`` is not a :class:`ConvSpec`: it is
        not validated here (it reaches here through ``ConvSpec._latex``).

    Examples
    --------
    >>> from transpose_matrix.geometry.spec import ConvSpec
    >>> for part in spec_latex(ConvSpec((4, 4), 3)).split(r",\quad "):
    ...     print(part)
    \mathrm{Conv2d}\colon 1 \times 4 \times 4 \to 1 \times 2 \times 2
    k = 3 \times 3,\ s = 1,\ p = 0,\ d = 1
    """
    parts = [
        f"k = {dims_latex(spec.kernel_size)}",
        f"s = {_uniform(spec.stride)}",
        f"p = {_padding_latex(spec.padding)}",
        f"d = {_uniform(spec.dilation)}",
    ]
    if spec.groups != 1:
        parts.append(f"g = {spec.groups}")
    source = dims_latex((spec.in_channels, *spec.input_shape))
    target = dims_latex((spec.out_channels, *spec.output_shape))
    head = f"\\mathrm{{Conv{spec.ndim}d}}\\colon {source} \\to {target}"
    tail = ",\\ ".join(parts)
    line = f"{head},\\quad {tail}"
    width = getattr(printer, "width", None)
    if isinstance(width, float) and math_width(line) > width:
        return f"\\begin{{gathered}}\n{head}, \\\\\n{tail}\n\\end{{gathered}}"
    return line
