"""The geometry of one layer: the spec, every size formula, and padding, once.

:class:`ConvSpec` validates and normalises a layer's arguments (per-dimension
tuples, ``(before, after)`` padding pairs, padding mode) once, at the
boundary; everything above trusts it. :mod:`.shapes` holds each size formula
exactly once, generic over ``int`` and ``sympy.Expr``, so the numeric and the
symbolic paths cannot drift apart. :mod:`.padding` owns the padding ``P`` of
``C = D·P``: the modes, the padding strings, the index map of ``P``, ``Pᵀ``,
each mode's rules and the refusals; a new padding mode goes there.

May import: :mod:`transpose_matrix.errors` only (and sympy, numpy).
A change to an output-size formula goes to :mod:`.shapes`.

Public names
------------
::

    ConvSpec                      frozen geometry of one layer; from_transposed
    as_spec                       the check every function taking a spec makes first
    conv_output_size              floor((n + 2p - d(k-1) - 1)/s) + 1, ints or sympy
    transposed_conv_output_size   (n-1)s - 2p + d(k-1) + output_padding + 1
    effective_kernel_size         the kernel span d(k-1) + 1
    PADDING_MODES                 the padding_mode values (padding)
    PADDING_STRINGS               'same', 'valid'
    padding_source                the input entry a padded position copies, per mode
"""

from __future__ import annotations

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "ConvSpec": "spec",
        "as_spec": "spec",
        "conv_output_size": "shapes",
        "transposed_conv_output_size": "shapes",
        "effective_kernel_size": "shapes",
        "PADDING_MODES": "padding",
        "PADDING_STRINGS": "padding",
        "padding_source": "padding",
    },
)
