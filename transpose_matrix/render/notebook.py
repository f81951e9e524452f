r"""What Jupyter shows for the library's objects: ``_repr_html_`` and ``_repr_latex_`` bodies.

The objects keep only one-line methods that call these functions, so what a
notebook shows is made in the presentation layer like every other output:

* :func:`spec_html` — a :class:`~transpose_matrix.geometry.spec.ConvSpec` as a small
  table: the layer, its shapes, C's shape (its LaTeX is
  :func:`~transpose_matrix.render.latex.spec_latex`).
* :func:`verify_html`, :func:`verify_latex` — a
  :class:`~transpose_matrix.analysis.verification.VerifyReport` as a table of checks
  with their largest error and verdict.
* :func:`solution_latex` — one :class:`~transpose_matrix.analysis.solver.SizeSolution`
  as ``\mathrm{ConvTranspose}(k = 4, s = 2, p = 1)\colon 8 \to 16``.
"""

from __future__ import annotations

import html
import re
from typing import Any

from .latex import escape_text
from .text import dims_text

__all__ = ["solution_latex", "spec_html", "verify_html", "verify_latex"]

_TABLE = '<table style="border-collapse: collapse">'
_CELL = 'style="text-align: left; padding: 0 0.8em 0 0"'


def _rows(pairs: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><th {_CELL}>{html.escape(key)}</th><td {_CELL}>{html.escape(value)}</td></tr>"
        for key, value in pairs
    )
    return f"{_TABLE}{body}</table>"


def spec_html(spec: Any) -> str:
    """HTML table of a spec: the torch layer, shapes, weight, C.

    Examples
    --------
    >>> from transpose_matrix.geometry.spec import ConvSpec
    >>> "<td" in spec_html(ConvSpec((4, 4), 3))
    True
    """
    from ..narrative.report import conv_call
    from .prose import heading

    rows, cols = spec.matrix_shape
    return _rows(
        [
            ("layer", conv_call(spec)),
            ("geometry", heading(spec)),
            ("input x", dims_text((spec.in_channels, *spec.input_shape))),
            ("output y", dims_text((spec.out_channels, *spec.output_shape))),
            ("weight w", dims_text(spec.weight_shape)),
            ("C", f"{rows} × {cols}"),
        ]
    )


def _verdict(report: Any, error: float) -> str:
    return "ok" if error <= report.tolerance else "FAIL"


def verify_html(report: Any) -> str:
    """HTML table of a verify report: one row per check, then the overall verdict."""
    head = (
        f"<p>referee: {html.escape(report.referee)}; "
        f"{'all checks passed' if report.ok else 'SOME CHECKS FAILED'}</p>"
    )
    body = "".join(
        f"<tr><td {_CELL}>{html.escape(name)}</td><td {_CELL}>{error:.3e}</td>"
        f"<td {_CELL}>{_verdict(report, error)}</td></tr>"
        for name, error in report.errors.items()
    )
    header = (
        f"<tr><th {_CELL}>check</th><th {_CELL}>max error</th><th {_CELL}>verdict</th></tr>"
    )
    return f"{head}{_TABLE}{header}{body}</table>"


def _text(name: str) -> str:
    r"""A check's name as maths: text pieces, with ``<…>`` as angle brackets.

    >>> print(_text("dot test <Cx,y>"))
    \text{dot test }\langle\text{Cx,y}\rangle
    """
    pieces = []
    for part in re.split(r"([<>])", name):
        if part == "<":
            pieces.append(r"\langle")
        elif part == ">":
            pieces.append(r"\rangle")
        elif part:
            pieces.append(f"\\text{{{escape_text(part)}}}")
    return "".join(pieces)


def verify_latex(report: Any) -> str:
    r"""Math-mode table of a verify report (an ``array`` of text cells)."""
    lines = [
        r"\text{check} & \text{max error} & \text{verdict} \\ \hline",
    ]
    for name, error in report.errors.items():
        mantissa, exponent = f"{error:.2e}".split("e")
        value = "0" if error == 0 else f"{mantissa} \\times 10^{{{int(exponent)}}}"
        lines.append(
            f"{_text(name)} & {value} & \\text{{{_verdict(report, error)}}} \\\\"
        )
    verdict = "all checks passed" if report.ok else "SOME CHECKS FAILED"
    lines.append(
        f"\\multicolumn{{3}}{{l}}{{\\text{{referee: {escape_text(report.referee)}; "
        f"{verdict}}}}}"
    )
    return "\\begin{array}{lll}\n" + "\n".join(lines) + "\n\\end{array}"


def solution_latex(solution: Any) -> str:
    r"""``\mathrm{ConvTranspose}(k = 4, s = 2, p = 1)\colon 8 \to 16`` for one size solution.

    Examples
    --------
    >>> from transpose_matrix.analysis.solver import SizeSolution
    >>> print(solution_latex(SizeSolution(8, 16, True, 4, 2, 1, 1, 0)))
    \mathrm{ConvTranspose}(k = 4,\ s = 2,\ p = 1)\colon 8 \to 16
    """
    names = {"kernel_size": "k", "stride": "s", "padding": "p", "dilation": "d",
             "output_padding": "a"}
    arguments = ",\\ ".join(
        f"{names[key]} = {value}" for key, value in solution.arguments().items()
    )
    layer = "ConvTranspose" if solution.transposed else "Conv"
    text = f"\\mathrm{{{layer}}}({arguments})\\colon {solution.n} \\to {solution.m}"
    if solution.uneven_overlap:
        text += r"\quad\text{(uneven overlap)}"
    return text
