"""The engines of :func:`~transpose_matrix.conv_operator`'s numpy backend, and ``'auto'``'s rule.

``engine='numpy'`` computes with numpy and BLAS only; ``engine='numba'``
(:mod:`.numba_backend`, the ``fast`` extra) compiles the correlations that
numpy cannot do well. This module holds what both need to know without
importing numba: the names, whether numba is installed, and the rule.
"""

from __future__ import annotations

import importlib.util

from ..spec import ConvSpec

__all__ = ["DIRECT_PRODUCTS", "ENGINES", "auto_engine", "direct_pays", "numba_installed"]

#: The ``engine=`` choices of :func:`~transpose_matrix.conv_operator` besides ``'auto'``.
ENGINES = ("numpy", "numba")

#: ``(in/groups) * (out/groups)`` below which the numba engine runs a correlation
#: directly (:func:`~.numba_backend.direct`) instead of by im2col and BLAS.
DIRECT_PRODUCTS = 8


def direct_pays(inputs: int, outputs: int) -> bool:
    """Whether a correlation with ``inputs`` and ``outputs`` channels per group runs direct.

    ``inputs * outputs <`` :data:`DIRECT_PRODUCTS`: each gathered entry then
    feeds fewer than 8 multiply-adds, so im2col's copy of the input per tap
    costs more than the products, and the per-group products are far too
    small for BLAS (a depthwise layer's are ``1 x taps`` by ``taps x
    positions``).
    """
    return inputs * outputs < DIRECT_PRODUCTS


def numba_installed() -> bool:
    """Whether numba can be imported (looked up, not imported)."""
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # blocked: sys.modules["numba"] = None, a finder
        return False


def auto_engine(spec: ConvSpec) -> str:
    """The engine ``engine='auto'`` picks: ``'numba'`` when installed and the layer runs direct.

    ``'numba'`` when numba is installed and :func:`direct_pays` for the
    layer's channels per group (depthwise layers and others with few
    channels per group: every correlation of the layer, forward and
    adjoint phases, then runs compiled, 2-10x faster than the numpy engine
    on the panel's depthwise layer); ``'numpy'`` otherwise, where both
    engines multiply by BLAS and the numpy engine is as fast.
    """
    groups = spec.groups
    if direct_pays(spec.in_channels // groups, spec.out_channels // groups) and numba_installed():
        return "numba"
    return "numpy"
