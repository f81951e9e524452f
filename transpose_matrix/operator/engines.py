"""The engines of :func:`~transpose_matrix.conv_operator`'s numpy backend, and ``'auto'``'s rule.

``engine='numpy'`` computes with numpy and BLAS only; ``engine='numba'``
(:mod:`.numba_backend`, the ``fast`` extra) compiles the correlations that
numpy cannot do well. This module holds what both need to know without
importing numba: the names, whether numba is installed, and the rule.
"""

from __future__ import annotations

import importlib.util

from ..geometry.spec import ConvSpec

__all__ = ["DIRECT_OUTPUTS", "ENGINES", "auto_engine", "direct_pays", "numba_installed"]

#: The ``engine=`` choices of :func:`~transpose_matrix.conv_operator` besides ``'auto'``.
ENGINES = ("numpy", "numba")

#: Outputs per group below which the numba engine runs a correlation directly
#: (:mod:`~.numba_backend`) instead of by im2col and BLAS.
DIRECT_OUTPUTS = 16


def direct_pays(inputs: int, outputs: int) -> bool:
    """Whether a correlation with ``inputs`` and ``outputs`` channels per group runs direct.

    ``outputs <`` :data:`DIRECT_OUTPUTS`: im2col then copies the input once
    per tap for products with fewer than 16 rows, which BLAS runs far below
    its speed (the numpy engine's own threshold for its cached bands), while
    the compiled loop reads each input entry from cache and does the same
    multiply-adds in place. ``inputs`` does not enter the rule: the direct
    loop's cost per output grows with it as the product's does.
    """
    return outputs < DIRECT_OUTPUTS


def numba_installed() -> bool:
    """Whether numba can be imported (looked up, not imported)."""
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # blocked: sys.modules["numba"] = None, a finder
        return False


def auto_engine(spec: ConvSpec) -> str:
    """The engine ``engine='auto'`` picks: ``'numba'`` when installed and some correlation runs
    direct.

    ``'numba'`` when numba is installed and :func:`direct_pays` for the
    forward (``out_channels / groups < 16``) or the adjoint
    (``in_channels / groups < 16``): depthwise and grouped layers, and
    layers with few channels on one side; ``'numpy'`` otherwise, where both
    engines multiply by BLAS and compute the same way.
    """
    cg, mg = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    if (direct_pays(cg, mg) or direct_pays(mg, cg)) and numba_installed():
        return "numba"
    return "numpy"
