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
    "symbolic_vector": "matrices.symbolic",
    "symbolic_input": "matrices.symbolic",
    "symbolic_output": "matrices.symbolic",
    "symbolic_conv_equations": "matrices.symbolic",
    "weight_substitution": "matrices.symbolic",
    "patch_matrix": "matrices.patch",
    "gradient_derivation": "narrative.gradient",
    "output_size_derivation": "narrative.derivation",
    "Derivation": "narrative.derivation",
    "Step": "narrative.derivation",
    "Check": "narrative.derivation",
    "Equation": "narrative.derivation",
    "Grid": "narrative.derivation",
    "sympy_check": "narrative.derivation",
    "exhaustive_check": "narrative.derivation",
    "computed_check": "narrative.derivation",
    "solve_sizes": "analysis.solver",
    "SizeSolution": "analysis.solver",
    "format_solutions": "analysis.solver",
    "reference_conv_matrix": "matrices.reference",
    "conv_operator": "operator",
    "ConvOperator": "operator",
    "conv_matrix_nnz": "matrices.conv",
    "conv_matrix_nbytes": "matrices.conv",
    "conv_matrix_entries": "matrices.conv",
    "conv_matrix_terms": "matrices.conv",
    "memory_limit": "memory",
    "available_memory": "memory",
    "verify": "analysis.verification",
    "singular_values": "analysis.spectrum",
    "operator_norm": "analysis.spectrum",
    "reshaped_kernel_norm": "analysis.spectrum",
    "compare_norms": "analysis.spectrum",
    "NormComparison": "analysis.spectrum",
    "VerifyReport": "analysis.verification",
    "transpose_recipe": "analysis.verification",
    "zero_insertion_matrix": "matrices.resampling",
    "pad_matrix": "matrices.resampling",
    "nearest_upsample_matrix": "matrices.resampling",
    "bilinear_upsample_matrix": "matrices.resampling",
    "max_unpool_matrix": "matrices.resampling",
    "avg_pool_matrix": "matrices.resampling",
    "padding_source": "matrices.resampling",
    "module_matrix": "interop.modules",
    "from_module": "interop.modules",
    "network_matrix": "interop.modules",
    "coverage_map": "interop.modules",
    "effective_kernel": "interop.modules",
    "LayerSpec": "interop.modules",
    "NetworkMatrix": "interop.modules",
    "translate_layer": "interop.translate",
    "translate_keras": "interop.translate",
    "translate_jax": "interop.translate",
    "translate_onnx": "interop.translate",
    "Translation": "interop.translate",
    "kernel_to_torch": "interop.translate",
    "to_latex": "render",
    "sparsity_figure": "render",
    "placement_figure": "render",
    "animate": "render.animate",
    "plot_matrix": "render.plot",
    "plot_coverage": "render.plot",
    "html_page": "render.html",
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
)
