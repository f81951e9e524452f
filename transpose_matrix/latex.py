"""Old home of the LaTeX helpers; they live in :mod:`transpose_matrix.render` now.

Kept only so that scripts written against ``transpose_matrix.latex`` (the
``derivations/`` scripts) keep working until they import from
``transpose_matrix.render``; new code must not import this module.
"""

from __future__ import annotations

from .render.documents import compile_pdf, document
from .render.latex import LatexError, math_block, to_latex
from .render.latex import escape_text as _escape_text

__all__ = ["LatexError", "compile_pdf", "document", "escape_text", "math_block", "to_latex"]


def escape_text(text: str) -> str:
    """The old escape: LaTeX specials escaped, other characters passed through."""
    return _escape_text(text, strict=False)
