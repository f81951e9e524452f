r"""LaTeX for matrices, specs and derivations, through one entry point.

:func:`to_latex` turns a matrix (sympy, ``scipy.sparse``, numpy), a
:class:`~transpose_matrix.spec.ConvSpec` or any object with a ``.latex()``
method into LaTeX; :func:`document` wraps a body into a standalone article
that compiles with pdflatex as it is; :func:`compile_pdf` runs pdflatex.

Conventions of the output:

* :func:`to_latex` returns **math-mode** content without delimiters for
  matrices, numbers and specs (like ``sympy.latex``); objects with a
  ``.latex()`` method return whatever that method returns. :func:`math_block`
  makes a display block for a document body out of either.
* Matrices with at most 10 columns are ``bmatrix`` environments. Wider ones
  are ``\left[\begin{array}{@{}cc…c@{}}…\end{array}\right]``, which looks
  the same but is not subject to amsmath's ``MaxMatrixCols`` limit of 10, so
  every fragment works when ``\input`` into any notes that load amsmath.
  :func:`document` additionally raises ``MaxMatrixCols`` in its preamble to
  fit any ``matrix`` environment in the body (sympy's own printer emits them).
* Large matrices are elided: beyond ``max_rows`` rows (``max_cols``
  columns) the first and last few are kept and the gap is marked with
  ``\vdots`` (``\cdots``), with ``\ddots`` where both gaps cross.

Heavy modules (sympy, scipy) are imported only when an object of theirs is
being printed, so importing this module costs next to nothing.
"""

from __future__ import annotations

import functools
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConvSpecError, ConvSpecTypeError

__all__ = [
    "DEFAULT_MAX_COLS",
    "DEFAULT_MAX_ROWS",
    "LatexError",
    "LatexPrinter",
    "compile_pdf",
    "document",
    "escape_text",
    "format_number",
    "latex_of",
    "math_block",
    "repr_latex",
    "spec_latex",
    "to_latex",
]

#: Rows and columns shown before a matrix is elided, when no limit is given.
DEFAULT_MAX_ROWS = 16
DEFAULT_MAX_COLS = 16

# amsmath's matrix environments refuse more columns than this by default.
_AMSMATH_MAX_COLS = 10


class LatexError(ConvSpecError):
    """pdflatex failed (or is missing); the message carries the end of the log."""


# --------------------------------------------------------------------------- numbers


def format_number(value: Any) -> str:
    r"""A compact LaTeX form of a real or complex number.

    Integers (and floats with an integral value below ``1e15``) print as
    integers; other floats with 3 significant digits (``%.3g``), exponents as
    ``\times 10^{…}``.

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


# --------------------------------------------------------------------------- matrices


def _keep(size: int, limit: int) -> tuple[list[int], int | None]:
    """Indices shown along one axis and where the ellipsis goes (None: no elision)."""
    if size <= limit:
        return list(range(size)), None
    head = (limit + 1) // 2
    tail = limit - head
    return [*range(head), *range(size - tail, size)], head


def _check_limit(name: str, value: int | None, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConvSpecTypeError(f"{name}={value!r} must be an integer")
    if value < 2:
        raise ConvSpecError(f"{name}={value} must be >= 2 (first and last entries are kept)")
    return value


def _scalar_or_none(entry: Any) -> str | None:
    if "sympy" in sys.modules:
        import sympy

        if isinstance(entry, sympy.Basic):
            return None if entry == 0 else sympy.latex(entry)
    if entry == 0:
        return None
    return format_number(entry)


def _sparse_reader(matrix: Any, rows: list[int], cols: list[int]) -> Any:
    # Only the kept rows and columns are densified, so huge C stays cheap.
    import numpy as np

    block = matrix.tocsr()[np.asarray(rows)][:, np.asarray(cols)].toarray()
    where = {(r, c): (a, b) for a, r in enumerate(rows) for b, c in enumerate(cols)}

    def cell(i: int, j: int) -> str | None:
        a, b = where[(i, j)]
        return _scalar_or_none(block[a, b])

    return cell


def _matrix_latex(shape: tuple[int, int], reader: Any, printer: LatexPrinter) -> str:
    n_rows, n_cols = shape
    zero = printer.zero
    rows, row_gap = _keep(n_rows, printer.max_rows)
    cols, col_gap = _keep(n_cols, printer.max_cols)
    cell = reader if callable(reader) else _sparse_reader(reader, rows, cols)
    lines = []
    for position, i in enumerate(rows):
        if position == row_gap:
            gap = [r"\vdots"] * len(cols)
            if col_gap is not None:
                gap.insert(col_gap, r"\ddots")
            lines.append(" & ".join(gap))
        entries = []
        for j in cols:
            text = cell(i, j)
            entries.append(zero if text is None else text)
        if col_gap is not None:
            entries.insert(col_gap, r"\cdots")
        lines.append(" & ".join(entries))
    width = len(cols) + (col_gap is not None)
    body = " \\\\\n".join(lines)
    if n_rows == 0 or n_cols == 0:
        return r"\begin{bmatrix}\end{bmatrix}"
    if width <= _AMSMATH_MAX_COLS:
        return f"\\begin{{bmatrix}}\n{body}\n\\end{{bmatrix}}"
    return f"\\left[\\begin{{array}}{{@{{}}*{{{width}}}{{c}}@{{}}}}\n{body}\n\\end{{array}}\\right]"


# --------------------------------------------------------------------------- specs


def _dims(values: Sequence[Any]) -> str:
    return r" \times ".join(str(v) for v in values)


def _padding_latex(padding: Sequence[tuple[int, int]]) -> str:
    if all(before == after for before, after in padding):
        sizes = [before for before, _ in padding]
        return str(sizes[0]) if len(set(sizes)) == 1 else _dims(sizes)
    return _dims(f"({before}, {after})" for before, after in padding)


def _uniform(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else _dims(values)


def spec_latex(spec: Any) -> str:
    r"""Math-mode one-line description of a :class:`ConvSpec`.

    Shapes are ``channels × spatial``; ``k``, ``s``, ``p``, ``d``, ``g`` are
    kernel size, stride, padding (``(before, after)`` pairs when asymmetric),
    dilation and groups (shown when not 1).

    Examples
    --------
    >>> from transpose_matrix.spec import ConvSpec
    >>> for part in spec_latex(ConvSpec((4, 4), 3)).split(r",\quad "):
    ...     print(part)
    \mathrm{Conv2d}\colon 1 \times 4 \times 4 \to 1 \times 2 \times 2
    k = 3 \times 3,\ s = 1,\ p = 0,\ d = 1
    """
    parts = [
        f"k = {_dims(spec.kernel_size)}",
        f"s = {_uniform(spec.stride)}",
        f"p = {_padding_latex(spec.padding)}",
        f"d = {_uniform(spec.dilation)}",
    ]
    if spec.groups != 1:
        parts.append(f"g = {spec.groups}")
    source = _dims((spec.in_channels, *spec.input_shape))
    target = _dims((spec.out_channels, *spec.output_shape))
    return (
        f"\\mathrm{{Conv{spec.ndim}d}}\\colon {source} \\to {target},\\quad "
        + ",\\ ".join(parts)
    )


# --------------------------------------------------------------------------- entry point


class LatexPrinter:
    r"""The options of one LaTeX rendering; objects receive it in ``_latex(printer)``.

    The protocol follows SymPy's printers: :func:`to_latex` first asks the
    object itself (``obj._latex(printer)``), then the types registered with
    :func:`latex_of` (numbers, numpy, scipy.sparse, sympy). An object that
    prints its parts calls ``printer.doprint(part)`` so the parts inherit the
    options (elision limits, zero mark, width).

    Parameters
    ----------
    max_rows, max_cols : int, optional
        Elide matrices beyond this many rows / columns (at least 2).
    zero : str
        What a zero matrix entry prints as.
    """

    def __init__(
        self,
        *,
        max_rows: int | None = None,
        max_cols: int | None = None,
        zero: str = "0",
    ) -> None:
        self.max_rows = _check_limit("max_rows", max_rows, DEFAULT_MAX_ROWS)
        self.max_cols = _check_limit("max_cols", max_cols, DEFAULT_MAX_COLS)
        self.zero = zero

    def doprint(self, obj: Any) -> str:
        """LaTeX of ``obj`` with these options."""
        method = getattr(obj, "_latex", None)
        if callable(method) and not isinstance(obj, type):
            return method(self)
        return latex_of(obj, self)


@functools.singledispatch
def latex_of(obj: Any, printer: LatexPrinter) -> str:
    """LaTeX of one type; extend with ``@latex_of.register``.

    The fallback registers the optional libraries' types the first time an
    object arrives while they are loaded (an object of theirs cannot exist
    otherwise), so printing a number never imports sympy or scipy.
    """
    if _register_loaded_libraries():
        return latex_of(obj, printer)
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


def _numpy_latex(obj: Any, printer: LatexPrinter) -> str:
    import numpy as np

    if isinstance(obj, np.generic):
        if obj.dtype.kind not in "biufc":
            raise ConvSpecTypeError(f"to_latex cannot print a numpy {obj.dtype} scalar")
        return format_number(obj)
    array = obj
    if array.dtype.kind not in "biufcO":
        raise ConvSpecTypeError(
            f"to_latex prints numeric arrays; this one has dtype {array.dtype}"
        )
    if array.ndim == 1:
        array = array[:, None]  # a vector prints as a column, like x in C x
    if array.ndim != 2:
        raise ConvSpecError(
            f"array of shape {obj.shape} must be 1-D or 2-D to print as a matrix"
        )

    def cell(i: int, j: int) -> str | None:
        return _scalar_or_none(array[i, j])

    return _matrix_latex(tuple(array.shape), cell, printer)


def _sparse_latex(obj: Any, printer: LatexPrinter) -> str:
    if len(obj.shape) != 2:
        raise ConvSpecError(f"sparse array of shape {obj.shape} must be 2-D")
    return _matrix_latex(tuple(obj.shape), obj, printer)


def _sympy_latex(obj: Any, printer: LatexPrinter) -> str:
    import sympy

    if not getattr(obj, "is_Matrix", False):
        return sympy.latex(obj)

    def cell(i: int, j: int) -> str | None:
        entry = obj[i, j]
        return None if entry == 0 else sympy.latex(entry)

    return _matrix_latex(tuple(obj.shape), cell, printer)


_REGISTERED: set[str] = set()


def _register_loaded_libraries() -> bool:
    """Register numpy, scipy.sparse and sympy types once loaded; True if any was new."""
    new = False
    if "numpy" in sys.modules and "numpy" not in _REGISTERED:
        import numpy as np

        latex_of.register(np.ndarray, _numpy_latex)
        latex_of.register(np.generic, _numpy_latex)
        _REGISTERED.add("numpy")
        new = True
    if "scipy.sparse" in sys.modules and "scipy.sparse" not in _REGISTERED:
        import scipy.sparse

        latex_of.register(scipy.sparse.sparray, _sparse_latex)
        latex_of.register(scipy.sparse.spmatrix, _sparse_latex)
        _REGISTERED.add("scipy.sparse")
        new = True
    if "sympy" in sys.modules and "sympy" not in _REGISTERED:
        import sympy

        latex_of.register(sympy.Basic, _sympy_latex)
        latex_of.register(sympy.MatrixBase, _sympy_latex)
        _REGISTERED.add("sympy")
        new = True
    return new


def to_latex(
    obj: Any,
    *,
    max_rows: int | None = None,
    max_cols: int | None = None,
    zero: str = "0",
) -> str:
    r"""LaTeX of a matrix, number, spec or derivation: the one entry point.

    Parameters
    ----------
    obj
        A sympy matrix (dense or sparse) or expression, a ``scipy.sparse``
        matrix or array, a numpy array (1-D prints as a column) or number, a
        :class:`~transpose_matrix.spec.ConvSpec`, or any object with a
        ``_latex(printer)`` method (see :class:`LatexPrinter`).
    max_rows, max_cols : int, optional
        Elide matrices beyond this many rows / columns (default
        :data:`DEFAULT_MAX_ROWS`, :data:`DEFAULT_MAX_COLS`); at least 2. The
        first ``ceil(m/2)`` and last ``floor(m/2)`` are kept.
    zero : str
        What a zero entry prints as: ``"0"``, or ``r"\cdot"`` for a lighter
        picture of the sparsity.

    Returns
    -------
    str
        Math-mode LaTeX without delimiters for matrices, numbers and specs;
        objects' own ``_latex`` may return body fragments. Matrices up to 10
        columns wide are ``bmatrix``; wider ones use ``array`` so that
        amsmath's column limit never bites.

    Raises
    ------
    ConvSpecTypeError
        ``obj`` is of a type this function cannot print.
    ConvSpecError
        An array is not 1-D or 2-D, or a limit is below 2.

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
    printer = LatexPrinter(max_rows=max_rows, max_cols=max_cols, zero=zero)
    return printer.doprint(obj)


_DISPLAY_START = re.compile(
    r"\s*(\\begin\{|\\\[|\$|\\(sub)*section|\\noindent|\\par\b|\\paragraph)"
)
_MATRIX_START = re.compile(r"\s*\\begin\{[pbBvV]?matrix\*?\}")


def math_block(obj: Any, **options: Any) -> str:
    r"""``to_latex(obj)`` as a display block for a document body.

    Math-mode output is wrapped in ``\[ … \]``; output that already is a
    display environment (``\begin{align*}``, ``\[``, ``$``) or text
    (``\section``, ``\noindent``, ...) is left alone, except a bare matrix
    environment, which is math-mode and gets wrapped.

    Examples
    --------
    >>> import numpy as np
    >>> print(math_block(np.array([[1, 2]])))
    \[
    \begin{bmatrix}
    1 & 2
    \end{bmatrix}
    \]
    """
    text = obj if isinstance(obj, str) else to_latex(obj, **options)
    if _DISPLAY_START.match(text) and not _MATRIX_START.match(text):
        return text
    return f"\\[\n{text}\n\\]"


def repr_latex(obj: Any, **options: Any) -> str:
    r"""What a ``_repr_latex_`` method returns for Jupyter: ``$\displaystyle …$``."""
    text = to_latex(obj, **options)
    if _DISPLAY_START.match(text) and not _MATRIX_START.match(text):
        return text
    return f"$\\displaystyle {text}$"


# --------------------------------------------------------------------------- documents


def _package_line(package: str) -> str:
    # "[opts]name" carries options, like the \usepackage syntax itself.
    match = re.fullmatch(r"(\[[^\]]*\])?([A-Za-z0-9_-]+)", package.strip())
    if match is None:
        raise ConvSpecError(
            f"package={package!r} must be a package name, optionally with "
            "'[options]' in front, e.g. '[table]xcolor'"
        )
    options, name = match.groups()
    return f"\\usepackage{options or ''}{{{name}}}"


def _max_columns(body: str) -> int:
    rows = re.split(r"\\\\", body)
    return max((row.count("&") + 1 for row in rows), default=1)


def document(body: str, *, title: str | None = None, packages: Iterable[str] = ()) -> str:
    r"""A standalone LaTeX article around ``body`` that compiles with pdflatex as is.

    Loads ``amsmath`` and ``amssymb`` always, ``geometry`` with narrow
    margins (matrices are wide), ``tikz`` and ``xcolor`` when the body
    contains a ``tikzpicture``, and ``packages`` (names, optionally with
    ``[options]`` in front). ``MaxMatrixCols`` is raised to the widest row of
    the body so that any ``matrix`` environment in it compiles.

    Examples
    --------
    >>> tex = document(r"\[ x^2 \]", title="Notes")
    >>> tex.splitlines()[0]
    '\\documentclass{article}'
    >>> r"\title{Notes}" in tex and tex.rstrip().endswith(r"\end{document}")
    True
    """
    names = ["amsmath", "amssymb", "[margin=2cm]geometry"]
    if "tikzpicture" in body:
        names += ["xcolor", "tikz"]
    for package in packages:
        if package not in names:
            names.append(package)
    lines = [r"\documentclass{article}", r"\usepackage[T1]{fontenc}"]
    lines += [_package_line(name) for name in names]
    columns = max(_AMSMATH_MAX_COLS, _max_columns(body))
    lines.append(f"\\setcounter{{MaxMatrixCols}}{{{columns}}}")
    if title is not None:
        lines += [f"\\title{{{escape_text(title)}}}", r"\date{}"]
    lines.append(r"\begin{document}")
    if title is not None:
        lines.append(r"\maketitle")
    lines += [body.rstrip("\n"), r"\end{document}", ""]
    return "\n".join(lines)


_TEXT_SPECIALS = {
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
}


def escape_text(text: str) -> str:
    r"""Escape LaTeX's special characters in plain text.

    >>> escape_text("50% of x_1 & y")
    '50\\% of x\\_1 \\& y'
    """
    return "".join(_TEXT_SPECIALS.get(char, char) for char in text)


def compile_pdf(tex: str, workdir: str | os.PathLike[str], *, name: str = "document") -> Path:
    """Compile ``tex`` with pdflatex in ``workdir``; return the PDF's path.

    Runs ``pdflatex -interaction=nonstopmode -halt-on-error -no-shell-escape``
    once (nothing here needs cross-references).

    Raises
    ------
    LatexError
        pdflatex is missing, times out, or fails; the message ends with the
        last lines of its log, where the error is.
    """
    directory = Path(workdir)
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / f"{name}.tex"
    source.write_text(tex, encoding="utf-8")
    command = [
        "pdflatex",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-no-shell-escape",
        source.name,
    ]
    try:
        result = subprocess.run(
            command, cwd=directory, capture_output=True, text=True, timeout=120, check=False
        )
    except FileNotFoundError:
        raise LatexError("pdflatex was not found on PATH; install texlive") from None
    except subprocess.TimeoutExpired:
        raise LatexError(f"pdflatex took longer than 120 s on {source}") from None
    pdf = directory / f"{name}.pdf"
    if result.returncode != 0 or not pdf.exists():
        log = directory / f"{name}.log"
        text = log.read_text(errors="replace") if log.exists() else result.stdout
        tail = "\n".join(text.splitlines()[-25:])
        raise LatexError(
            f"pdflatex failed on {source} (exit status {result.returncode}):\n{tail}"
        )
    return pdf
