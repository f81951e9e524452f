"""The narrative model: derivations as data, every step checked.

A :class:`Derivation` is a list of steps, each of prose (in the project's
markup: ``$…$`` maths, backtick code), equations built from the checked sympy
objects, matrices and checks. It knows nothing of formats: the printers of
:mod:`transpose_matrix.render` turn it into text, LaTeX and HTML when it is
displayed.

May import: geometry, matrices, analysis; render only at display time
(``text()``, ``latex()``, ``_repr_latex_``).

Public names
------------
::

    Derivation, Step, Check, Equation, Grid   the records (derivation)
    sympy_check, exhaustive_check, computed_check   checks that state claim and method
    output_size_derivation                  the size formulas, derived and checked
    gradient_derivation                     ∂L/∂x = Cᵀ ∂L/∂y and ∂L/∂w = U(x)ᵀ ∂L/∂y (gradient)
"""

from __future__ import annotations

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Derivation": "derivation",
        "Step": "derivation",
        "Check": "derivation",
        "Equation": "derivation",
        "Grid": "derivation",
        "sympy_check": "derivation",
        "exhaustive_check": "derivation",
        "computed_check": "derivation",
        "output_size_derivation": "derivation",
        "gradient_derivation": "gradient",
    },
)
