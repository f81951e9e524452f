"""transpose_matrix: transposed convolution explained through its matrix.

A convolution of one sample is a sparse matrix C; the transposed convolution
is Cᵀ, which is also the gradient of the convolution with respect to its
input. Conventions: PyTorch's cross-correlation (no flip); weight layout
``(out_channels, in_channels // groups, *kernel_size)``; rows and columns of
C flatten ``(channel, *spatial)`` in C order; ``padding`` of a transposed
layer is the padding of its forward convolution.

Public API
----------
Geometry and sizes
    ConvSpec                      frozen geometry of one layer; ``from_transposed``
    conv_output_size              ``floor((n + 2p - d(k-1) - 1)/s) + 1``, ints or sympy
    transposed_conv_output_size   ``(n-1)s - 2p + d(k-1) + output_padding + 1``
Matrices
    conv_matrix                   C as ``scipy.sparse.csr_array``
    transposed_conv_matrix        Cᵀ as ``scipy.sparse.csr_array``
    symbolic_conv_matrix          C with kernel symbols, ``sympy.ImmutableSparseMatrix``
    weight_symbols, symbolic_vector
    symbolic_input, symbolic_output   x and y (or g) as symbol vectors
    symbolic_conv_equations       y = Cx entry by entry, ``sympy.Eq`` per output
    weight_substitution           ``{w_{...}: value}`` to substitute a weight array
    patch_matrix                  U(x) with y = U(x) vec(w); numeric or symbolic
    reference_conv_matrix         slow loop builder from the definition (a referee)
Scale (matrix-free and memory-safe)
    conv_operator, ConvOperator   C as a ``scipy.sparse.linalg.LinearOperator``, C never built;
                                  ``method='im2col'|'polyphase'|'summed'``, any padding_mode,
                                  ``backend='numpy'|'torch'``
    conv_matrix_nnz, conv_matrix_nbytes   exact entries and bytes of C (or Cᵀ) from the spec
    conv_matrix_entries           which weight sits at C[r, c], for any block of indices
    conv_matrix_terms             the weights summed at C[r, c] (padding modes), any block
    memory_limit, available_memory    the guard's byte limit; ``max_bytes=`` overrides it
Derivations (every step checked by sympy or exhaustively)
    output_size_derivation        size formulas, inverse problem, output_padding, special cases
    gradient_derivation           dL/dx = Cᵀ dL/dy and dL/dw = U(x)ᵀ dL/dy, symbolically
    Derivation, Step, Check, Equation, Grid   records; ``.text()``, ``.latex()``, notebooks
    sympy_check, exhaustive_check, computed_check   checks that state claim and method
Size solver
    solve_sizes, SizeSolution     parameter sets taking size n to m; uneven-overlap flag
    format_solutions              those as a text table
Fixed resampling (one channel's spatial grid; Cᵀ = D·P·Z)
    zero_insertion_matrix         Z: s - 1 zeros between inputs
    pad_matrix                    P: (before, after) per dim, negative crops; mode= reflect,
                                  replicate, circular (torch's padding_mode; C = D·P)
    padding_source                the input entry a padded position copies, per mode
    nearest_upsample_matrix       = interpolate(mode='nearest'), any scale or size=
    bilinear_upsample_matrix      = interpolate(mode='bilinear'), either align_corners
    avg_pool_matrix               = avg_pool (ceil_mode, count_include_pad, divisor)
    max_unpool_matrix             = max_unpool from max_pool's indices; its transpose selects
Real layers in (torch modules; torch imported only here)
    module_matrix                 M with module(x) = M x + b for one sample
    from_module, LayerSpec        a layer as spec + weight + bias (transposed or not)
    network_matrix, NetworkMatrix an nn.Sequential as M x + b: the sparse product
    coverage_map                  paths reaching each output (all-ones kernels): checkerboards
    effective_kernel              a stack's response to one unit input entry
Other frameworks' conventions (no framework needed to translate)
    translate_layer, Translation  Keras/JAX/ONNX transposed conv -> PyTorch call (+ crop) + spec
    translate_keras, translate_jax, translate_onnx   the same, one framework each
    kernel_to_torch               their kernel layouts -> (in, out // groups, *kernel_size)
Spectra (also those of Cᵀ, the transposed layer)
    singular_values               exact: FFT (circular), dense SVD, Lanczos, shift-invert
    operator_norm                 ‖C‖₂ = ‖Cᵀ‖₂, the layer's Lipschitz constant
    reshaped_kernel_norm          ‖W reshaped to out × in·k…‖₂, the spectral-norm shortcut
    compare_norms, NormComparison   the norm beside the shortcuts and proven bounds
Checking
    verify, VerifyReport          C and Cᵀ against torch (or the reference)
    transpose_recipe              Cᵀ = Pᵀ·Dᵀ of a padding mode as torch code (and run)
LaTeX and figures (the presentation layer, ``transpose_matrix.render``)
    to_latex                      the one LaTeX entry point: matrices (elided or split
                                  by typeset ``width=``), specs, derivations
    sparsity_figure               TikZ: C's pattern, entries coloured by kernel tap
    placement_figure              TikZ: one kernel placement and the row of C it makes;
                                  ``transposed=True``: one pixel's scatter, a column of Cᵀ
Pictures that move (Pillow, matplotlib: ``pip install "transpose_matrix[plot]"``)
    animate                       GIF, animated PNG or beamer overlays, one frame per placement
    plot_matrix                   matplotlib: C's sparsity, entries coloured by kernel tap
    plot_coverage                 matplotlib: the coverage map Cᵀ·1 of the transposed layer
    html_page                     a self-contained interactive page; shows inline in Jupyter
Errors (``error.field`` names the argument an error is about)
    TransposeMatrixError          base of every error the library raises on purpose
    ConvSpecError                 bad geometry or argument (a ``ValueError``)
    ConvSpecTypeError             wrong-type input (also a ``TypeError``)
    MemoryGuardError              result would not fit; refused first (also a ``MemoryError``)
    LatexError                    pdflatex missing or failed (not a geometry error)
    OutputPathError               an output file cannot be written (also an ``OSError``)
    MissingDependencyError        an optional package is missing; says how to install it
                                  (also an ``ImportError``)

Names are imported lazily, so ``import transpose_matrix`` stays cheap and a
command pays only for the modules it uses.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import (
    ConvSpecError,
    ConvSpecTypeError,
    LatexError,
    MemoryGuardError,
    MissingDependencyError,
    OutputPathError,
    TransposeMatrixError,
)

__version__ = "0.1.0"

# Public name -> module that defines it.
_EXPORTS = {
    "ConvSpec": "spec",
    "conv_output_size": "shapes",
    "transposed_conv_output_size": "shapes",
    "conv_matrix": "matrix",
    "transposed_conv_matrix": "matrix",
    "symbolic_conv_matrix": "symbolic",
    "weight_symbols": "symbolic",
    "symbolic_vector": "symbolic",
    "symbolic_input": "symbolic",
    "symbolic_output": "symbolic",
    "symbolic_conv_equations": "symbolic",
    "weight_substitution": "symbolic",
    "patch_matrix": "gradient",
    "gradient_derivation": "gradient",
    "output_size_derivation": "derivation",
    "Derivation": "derivation",
    "Step": "derivation",
    "Check": "derivation",
    "Equation": "derivation",
    "Grid": "derivation",
    "sympy_check": "derivation",
    "exhaustive_check": "derivation",
    "computed_check": "derivation",
    "solve_sizes": "solver",
    "SizeSolution": "solver",
    "format_solutions": "solver",
    "reference_conv_matrix": "reference",
    "conv_operator": "operator",
    "ConvOperator": "operator",
    "conv_matrix_nnz": "matrix",
    "conv_matrix_nbytes": "matrix",
    "conv_matrix_entries": "matrix",
    "conv_matrix_terms": "matrix",
    "memory_limit": "memory",
    "available_memory": "memory",
    "verify": "verification",
    "singular_values": "spectrum",
    "operator_norm": "spectrum",
    "reshaped_kernel_norm": "spectrum",
    "compare_norms": "spectrum",
    "NormComparison": "spectrum",
    "VerifyReport": "verification",
    "transpose_recipe": "verification",
    "zero_insertion_matrix": "upsample",
    "pad_matrix": "upsample",
    "nearest_upsample_matrix": "upsample",
    "bilinear_upsample_matrix": "upsample",
    "max_unpool_matrix": "upsample",
    "avg_pool_matrix": "upsample",
    "padding_source": "upsample",
    "module_matrix": "modules",
    "from_module": "modules",
    "network_matrix": "modules",
    "coverage_map": "modules",
    "effective_kernel": "modules",
    "LayerSpec": "modules",
    "NetworkMatrix": "modules",
    "translate_layer": "translate",
    "translate_keras": "translate",
    "translate_jax": "translate",
    "translate_onnx": "translate",
    "Translation": "translate",
    "kernel_to_torch": "translate",
    "to_latex": "render",
    "sparsity_figure": "render",
    "placement_figure": "render",
    "animate": "render.animate",
    "plot_matrix": "render.plot",
    "plot_coverage": "render.plot",
    "html_page": "render.html",
}

__all__ = [
    "TransposeMatrixError",
    "ConvSpecError",
    "ConvSpecTypeError",
    "MemoryGuardError",
    "LatexError",
    "OutputPathError",
    "MissingDependencyError",
    "__version__",
    *_EXPORTS,
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'transpose_matrix' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
