"""transpose_matrix: transposed convolution explained through its matrix.

A convolution of one sample is a sparse matrix C; the transposed convolution
is Cᵀ, which is also the gradient of the convolution with respect to its
input. Conventions: PyTorch's cross-correlation (no flip); weight layout
``(out_channels, in_channels // groups, *kernel_size)``; rows and columns of
C flatten ``(channel, *spatial)`` in C order; ``padding`` of a transposed
layer is the padding of its forward convolution.

The top level holds the everyday names; each subpackage holds the rest of its
layer (see ``ARCHITECTURE.md``): :mod:`~transpose_matrix.geometry`,
:mod:`~transpose_matrix.matrices`, :mod:`~transpose_matrix.operator`,
:mod:`~transpose_matrix.analysis`, :mod:`~transpose_matrix.interop`,
:mod:`~transpose_matrix.narrative`, :mod:`~transpose_matrix.render`.

Public API
----------
Geometry and sizes
    ConvSpec                      frozen geometry of one layer; ``from_transposed``
    conv_output_size              ``floor((n + 2p - d(k-1) - 1)/s) + 1``, ints or sympy
    transposed_conv_output_size   ``(n-1)s - 2p + d(k-1) + output_padding + 1``
Matrices
    conv_matrix                   C as ``scipy.sparse.csr_array``
    transposed_conv_matrix        Cᵀ as ``scipy.sparse.csr_array``
    conv_matrix_nnz, conv_matrix_nbytes   exact entries and bytes of C (or Cᵀ) from the spec
    symbolic_conv_matrix          C with kernel symbols, ``sympy.ImmutableSparseMatrix``
    weight_symbols                the kernel symbols ``w_{o,c,t…}``
    symbolic_input, symbolic_output   x and y (or g) as symbol vectors
    symbolic_conv_equations       y = Cx entry by entry, ``sympy.Eq`` per output
    weight_substitution           ``{w_{...}: value}`` to substitute a weight array
    patch_matrix                  U(x) with y = U(x) vec(w); numeric or symbolic
    unfold_matrix                 im2col U: F.unfold(x) = U x, F.fold = Uᵀ, C = (W ⊗ I)·U
Fixed resampling (one channel's spatial grid; Cᵀ = D·P·Z)
    zero_insertion_matrix         Z: s - 1 zeros between inputs
    pad_matrix                    P: (before, after) per dim, negative crops; any padding mode
    nearest_upsample_matrix       = interpolate(mode='nearest'), any scale or size=
    bilinear_upsample_matrix      = interpolate(mode='bilinear'), either align_corners
    avg_pool_matrix               = avg_pool (ceil_mode, count_include_pad, divisor)
    max_unpool_matrix             = max_unpool from max_pool's indices
Scale (matrix-free)
    conv_operator, ConvOperator   C as a ``scipy.sparse.linalg.LinearOperator``, C never built
Derivations (every step checked by sympy or exhaustively)
    output_size_derivation        size formulas, inverse problem, output_padding, special cases
    gradient_derivation           dL/dx = Cᵀ dL/dy and dL/dw = U(x)ᵀ dL/dy, symbolically
    Derivation                    the record they return; ``.text()``, ``.latex()``, notebooks
Analysis
    verify, VerifyReport          C and Cᵀ against torch (or the loop reference)
    singular_values               exact: FFT (circular), dense SVD, Lanczos, shift-invert
    operator_norm                 ‖C‖₂ = ‖Cᵀ‖₂, the layer's Lipschitz constant
    compare_norms                 the norm beside the shortcuts and proven bounds
    solve_sizes, SizeSolution     parameter sets taking size n to m
Real layers (torch imported only here) and other frameworks
    module_matrix                 M with module(x) = M x + b for one sample
    network_matrix, NetworkMatrix   an nn.Sequential as M x + b: the sparse product
    coverage_map                  paths reaching each output (all-ones kernels): checkerboards
    effective_kernel              a stack's response to one unit input entry
    translate_layer, Translation  Keras/JAX/ONNX transposed conv -> PyTorch call (+ crop) + spec
LaTeX, figures and pictures that move
    to_latex                      the one LaTeX entry point: matrices, specs, derivations
    sparsity_figure               TikZ: C's pattern, entries coloured by kernel tap
    placement_figure              TikZ: one kernel placement and the row of C it makes
    animate                       GIF, animated PNG or beamer overlays (``[plot]`` extra)
    plot_matrix, plot_coverage    matplotlib figures of C and of the coverage map
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

``__version__`` is the release. Names the top level exported before the
layout was curated (``memory_limit``, ``translate_keras``, ``Step``,
``reference_conv_matrix``, …) still work from here, with a
``DeprecationWarning`` naming the subpackage that holds them now.
Names are imported lazily, so ``import transpose_matrix`` stays cheap and a
command pays only for the modules it uses.
"""

from __future__ import annotations

from ._lazy import attach
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
    "ConvSpec": "geometry.spec",
    "conv_output_size": "geometry.shapes",
    "transposed_conv_output_size": "geometry.shapes",
    "conv_matrix": "matrices.conv",
    "transposed_conv_matrix": "matrices.conv",
    "symbolic_conv_matrix": "matrices.symbolic",
    "weight_symbols": "matrices.symbolic",
    "symbolic_input": "matrices.symbolic",
    "symbolic_output": "matrices.symbolic",
    "symbolic_conv_equations": "matrices.symbolic",
    "weight_substitution": "matrices.symbolic",
    "patch_matrix": "matrices.patch",
    "unfold_matrix": "matrices.unfold",
    "gradient_derivation": "narrative.gradient",
    "output_size_derivation": "narrative.derivation",
    "Derivation": "narrative.derivation",
    "solve_sizes": "analysis.solver",
    "SizeSolution": "analysis.solver",
    "conv_operator": "operator",
    "ConvOperator": "operator",
    "conv_matrix_nnz": "matrices.conv",
    "conv_matrix_nbytes": "matrices.conv",
    "verify": "analysis.verification",
    "singular_values": "analysis.spectrum",
    "operator_norm": "analysis.spectrum",
    "compare_norms": "analysis.spectrum",
    "VerifyReport": "analysis.verification",
    "zero_insertion_matrix": "matrices.resampling",
    "pad_matrix": "matrices.resampling",
    "nearest_upsample_matrix": "matrices.resampling",
    "bilinear_upsample_matrix": "matrices.resampling",
    "max_unpool_matrix": "matrices.resampling",
    "avg_pool_matrix": "matrices.resampling",
    "module_matrix": "interop.modules",
    "network_matrix": "interop.modules",
    "coverage_map": "interop.modules",
    "effective_kernel": "interop.modules",
    "NetworkMatrix": "interop.modules",
    "translate_layer": "interop.translate",
    "Translation": "interop.translate",
    "to_latex": "render",
    "sparsity_figure": "render",
    "placement_figure": "render",
    "animate": "render.animate",
    "plot_matrix": "render.plot",
    "plot_coverage": "render.plot",
    "html_page": "render.html",
}

# Names the top level used to export -> the subpackage that holds them now.
_MOVED = {
    "symbolic_vector": "matrices",
    "reference_conv_matrix": "matrices",
    "conv_matrix_entries": "matrices",
    "conv_matrix_terms": "matrices",
    "padding_source": "matrices",
    "Step": "narrative",
    "Check": "narrative",
    "Equation": "narrative",
    "Grid": "narrative",
    "sympy_check": "narrative",
    "exhaustive_check": "narrative",
    "computed_check": "narrative",
    "format_solutions": "analysis",
    "reshaped_kernel_norm": "analysis",
    "NormComparison": "analysis",
    "transpose_recipe": "analysis",
    "memory_limit": "memory",
    "available_memory": "memory",
    "from_module": "interop",
    "LayerSpec": "interop",
    "translate_keras": "interop",
    "translate_jax": "interop",
    "translate_onnx": "interop",
    "kernel_to_torch": "interop",
}

__getattr__, __dir__, __all__ = attach(
    __name__,
    _EXPORTS,
    eager={
        "TransposeMatrixError": TransposeMatrixError,
        "ConvSpecError": ConvSpecError,
        "ConvSpecTypeError": ConvSpecTypeError,
        "MemoryGuardError": MemoryGuardError,
        "LatexError": LatexError,
        "OutputPathError": OutputPathError,
        "MissingDependencyError": MissingDependencyError,
        "__version__": __version__,
    },
    moved=_MOVED,
    submodules=(
        "analysis", "cli", "geometry", "interop", "matrices", "memory", "narrative", "operator",
        "render",
    ),
)
