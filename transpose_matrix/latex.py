"""Old home of the LaTeX helpers; they live in :mod:`transpose_matrix.render` now.

Kept only so that scripts written against ``transpose_matrix.latex`` (the
``derivations/`` scripts) keep working until they import from
``transpose_matrix.render``; new code must not import this module.
"""

from __future__ import annotations

from .render.latex import (
    LatexError,
    compile_pdf,
    document,
    escape_text,
    math_block,
    to_latex,
)

__all__ = ["LatexError", "compile_pdf", "document", "escape_text", "math_block", "to_latex"]
