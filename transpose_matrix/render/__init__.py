"""The presentation layer: everything the project shows, as text, LaTeX or TikZ.

The core (spec, shapes, matrix, operator, symbolic, upsample, memory) computes;
this package only presents, and the core never imports it. One module per
kind of output:

``render/latex.py``
    LaTeX of numbers, matrices (elided and split by typeset width) and specs;
    the one escape table; typewriter code. A change to the LaTeX of a matrix
    goes here.
``render/prose.py``
    The prose markup (``$…$`` maths, backtick code) as LaTeX, text and HTML,
    reading the one symbol table both ways; a layer's geometry in words
    (``describe_spec``), which every heading and title prints.
``render/measure.py``
    How wide typeset maths will be, estimated without TeX.
``render/documents.py``
    Article, beamer and standalone documents, fragments, frames;
    ``compile_pdf``; the page sizes layouts are made for.
``render/views.py``
    Lazy views of C and Cᵀ whose cells are computed from their indices.
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
::

    to_latex          LaTeX of a matrix, number, spec or any _latex object
    format_number     one number as LaTeX (integers, fractions, floats, symbols)
    spec_latex        a spec's geometry as one LaTeX line
    latex_of          the per-type dispatch behind it (@latex_of.register)
    LatexPrinter      the options one rendering hands to _latex(printer)
    math_block        to_latex as a display block for a document body
    repr_latex        what _repr_latex_ returns
    escape_text       plain text to LaTeX text mode (the one escape table)
    code_latex        code in typewriter type, straight quotes, breaks between arguments
    document          an article, beamer or standalone document around a body
    fragment, frame   a body headed by the packages it needs; one beamer frame
    ARTICLE, BEAMER   the room (Page) a 10 pt article line and a beamer frame offer
    compile_pdf       run pdflatex, LatexError with the log's end on failure
    ConvMatrixView    C or Cᵀ of a spec, cells computed on demand
    to_text           a matrix laid out for the terminal
    sparsity_figure, placement_figure   TikZ figures of C
"""

from __future__ import annotations

from .documents import ARTICLE, BEAMER, Page, compile_pdf, document, fragment, frame
from .latex import (
    LatexError,
    LatexPrinter,
    code_latex,
    escape_text,
    format_number,
    latex_of,
    math_block,
    repr_latex,
    spec_latex,
    to_latex,
)
from .text import render as to_text
from .tikz import placement_figure, sparsity_figure
from .views import ConvMatrixView

__all__ = [
    "ARTICLE",
    "BEAMER",
    "ConvMatrixView",
    "LatexError",
    "LatexPrinter",
    "Page",
    "code_latex",
    "compile_pdf",
    "document",
    "escape_text",
    "format_number",
    "fragment",
    "frame",
    "latex_of",
    "math_block",
    "placement_figure",
    "repr_latex",
    "sparsity_figure",
    "spec_latex",
    "to_latex",
    "to_text",
]
