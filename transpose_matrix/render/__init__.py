"""The presentation layer: everything the project shows, as text, LaTeX or TikZ.

The core (spec, shapes, matrix, operator, symbolic, upsample, memory) computes;
this package only presents, and the core never imports it. One module per
kind of output:

``render/latex.py``
    LaTeX of numbers, matrices (elided and split by typeset width) and specs;
    the one escape table; ``document``, fragment and beamer wrappers;
    ``compile_pdf``. A change to the LaTeX of a matrix goes here.
``render/text.py``
    Matrices for the terminal (Unicode labels, light zeros, blocks).
``render/tikz.py``
    TikZ figures: C's sparsity pattern, one kernel placement.
``render/report.py``
    What ``show`` and ``export`` narrate around C and Cᵀ.

Objects print themselves through ``_latex(printer)`` (as in SymPy), or
through types registered with :func:`~transpose_matrix.render.latex.latex_of`;
nothing dispatches on module names.

Entry points
------------
to_latex          LaTeX of a matrix, number, spec or any ``_latex`` object
latex_of          the per-type dispatch behind it (``@latex_of.register``)
LatexPrinter      the options one rendering hands to ``_latex(printer)``
math_block        ``to_latex`` as a display block for a document body
repr_latex        what ``_repr_latex_`` returns
escape_text       plain text to LaTeX text mode (the one escape table)
document          a standalone article around a body
compile_pdf       run pdflatex, ``LatexError`` with the log's end on failure
to_text           a matrix laid out for the terminal
sparsity_figure, placement_figure   TikZ figures of C
"""

from __future__ import annotations

import importlib
from typing import Any

from .latex import (
    LatexError,
    LatexPrinter,
    compile_pdf,
    document,
    escape_text,
    format_number,
    latex_of,
    math_block,
    repr_latex,
    spec_latex,
    to_latex,
)
from .text import render as to_text

__all__ = [
    "LatexError",
    "LatexPrinter",
    "compile_pdf",
    "document",
    "escape_text",
    "format_number",
    "latex_of",
    "math_block",
    "placement_figure",
    "repr_latex",
    "sparsity_figure",
    "spec_latex",
    "to_latex",
    "to_text",
]

# Figures need numpy and the sparse builders: loaded on first use only.
_LAZY = {"sparsity_figure": "tikz", "placement_figure": "tikz"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'transpose_matrix.render' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
