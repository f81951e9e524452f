"""What is computed about a layer: checks against PyTorch, spectra, the size solver.

May import: the layers below (geometry, matrices, operator); never the
narrative, render or cli layers, except that report objects display
themselves through a printer at display time (``_repr_*_``).

Public names
------------
::

    verify, VerifyReport, transpose_recipe   C and Cᵀ against torch (verification)
    singular_values, operator_norm, reshaped_kernel_norm, compare_norms,
    NormComparison                           spectra (spectrum)
    norm_bracket, NormBracket                ‖C‖₂ certified between two bounds in seconds
    solve_sizes, SizeSolution, format_solutions   layers taking size n to m (solver)
"""

from __future__ import annotations

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "verify": "verification",
        "VerifyReport": "verification",
        "transpose_recipe": "verification",
        "singular_values": "spectrum",
        "operator_norm": "spectrum",
        "reshaped_kernel_norm": "spectrum",
        "compare_norms": "spectrum",
        "NormComparison": "spectrum",
        "norm_bracket": "spectrum",
        "NormBracket": "spectrum",
        "solve_sizes": "solver",
        "SizeSolution": "solver",
        "format_solutions": "solver",
    },
)
