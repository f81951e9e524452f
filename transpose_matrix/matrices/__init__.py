"""The matrices: C and Cᵀ, their symbolic form, resampling matrices, the referee.

Every builder takes a :class:`~transpose_matrix.geometry.ConvSpec` and
returns a ``scipy.sparse.csr_array`` (or a ``sympy`` matrix): the rows and
columns of C flatten ``(channel, *spatial)`` of one sample in C order.
:mod:`.reference` is the plain-loop builder written from the definition,
sharing no code with the fast path.

May import: :mod:`transpose_matrix.geometry`, :mod:`transpose_matrix.errors`,
:mod:`transpose_matrix.memory`.

Public names
------------
::

    conv_matrix, transposed_conv_matrix   C and Cᵀ (conv)
    conv_matrix_nnz, conv_matrix_nbytes   their exact size from the spec
    conv_matrix_entries, conv_matrix_terms   which weights sit at C[r, c]
    check_weight                          a weight array checked against the spec's layout
    symbolic_conv_matrix, weight_symbols, symbolic_vector, symbolic_input,
    symbolic_output, symbolic_conv_equations, weight_substitution   (symbolic)
    zero_insertion_matrix, pad_matrix, padding_source, nearest_upsample_matrix,
    bilinear_upsample_matrix, avg_pool_matrix, max_unpool_matrix   (resampling)
    patch_matrix                          U(x) with y = U(x) vec(w) (patch)
    unfold_matrix                         U with unfold(x) = U x, im2col (unfold)
    reference_conv_matrix                 the loop referee (reference)
"""

from __future__ import annotations

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "conv_matrix": "conv",
        "transposed_conv_matrix": "conv",
        "conv_matrix_nnz": "conv",
        "conv_matrix_nbytes": "conv",
        "conv_matrix_entries": "conv",
        "conv_matrix_terms": "conv",
        "check_weight": "conv",
        "symbolic_conv_matrix": "symbolic",
        "weight_symbols": "symbolic",
        "symbolic_vector": "symbolic",
        "symbolic_input": "symbolic",
        "symbolic_output": "symbolic",
        "symbolic_conv_equations": "symbolic",
        "weight_substitution": "symbolic",
        "zero_insertion_matrix": "resampling",
        "pad_matrix": "resampling",
        "padding_source": "resampling",
        "nearest_upsample_matrix": "resampling",
        "bilinear_upsample_matrix": "resampling",
        "avg_pool_matrix": "resampling",
        "max_unpool_matrix": "resampling",
        "patch_matrix": "patch",
        "unfold_matrix": "unfold",
        "reference_conv_matrix": "reference",
    },
)
