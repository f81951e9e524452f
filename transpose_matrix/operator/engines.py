"""The engines of :func:`~transpose_matrix.conv_operator`'s numpy backend, and ``'auto'``'s rule.

``engine='numpy'`` computes with numpy and BLAS only; ``engine='numba'``
(:mod:`.numba_backend`, the ``fast`` extra) compiles the correlations that
numpy cannot do well. This module holds what both need to know without
importing numba: the names, whether numba is installed, and the rule.
"""

from __future__ import annotations

import importlib.util

from ..geometry.spec import ConvSpec

__all__ = ["DIRECT_CHANNELS", "ENGINES", "auto_engine", "direct_pays", "numba_installed"]

#: The ``engine=`` choices of :func:`~transpose_matrix.conv_operator` besides ``'auto'``.
ENGINES = ("numpy", "numba")

#: Channels per group (inputs and outputs) below which the numba engine runs a
#: correlation directly (:mod:`~.numba_backend`) instead of by im2col and BLAS.
DIRECT_CHANNELS = 16


def direct_pays(inputs: int, outputs: int) -> bool:
    """Whether a correlation with ``inputs`` and ``outputs`` channels per group runs direct.

    Both fewer than :data:`DIRECT_CHANNELS`: im2col then copies the input
    once per tap for products with fewer than 16 rows (the numpy engine's
    own threshold for products BLAS runs far below its speed) and a short
    inner dimension, while the compiled loop reads each input entry from
    cache and does the same multiply-adds in place. With 16 or more
    channels on either side the numpy engine has a product BLAS runs well
    (im2col with many outputs, col2im with many inputs) and the loop loses:
    the ResNet stem's adjoint (3 outputs from 64 inputs) took 1.7-2.2x the
    numpy engine's col2im as a direct loop.
    """
    return max(inputs, outputs) < DIRECT_CHANNELS


def numba_installed() -> bool:
    """Whether numba can be imported (looked up, not imported)."""
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # blocked: sys.modules["numba"] = None, a finder
        return False


def auto_engine(spec: ConvSpec) -> str:
    """The engine ``engine='auto'`` picks: ``'numba'`` when installed and the layer runs direct.

    ``'numba'`` when numba is installed and :func:`direct_pays` for the
    layer's channels per group (``in_channels / groups`` and
    ``out_channels / groups`` both below 16: depthwise and grouped layers
    such as MobileNet's and ResNeXt's, and small layers), where the numba
    engine computes the forward and the adjoint by compiled loops;
    ``'numpy'`` otherwise, where both engines multiply by BLAS and compute
    the same way.

    Parameters
    ----------
    spec : ConvSpec
        The convolution's geometry (its channels and groups are read).

    Returns
    -------
    {'numba', 'numpy'}
        The engine for this layer on this installation.

    Raises
    ------
    AttributeError
        Only Python's own, when ``spec`` is not a :class:`ConvSpec`: it is not
        validated here (:func:`~transpose_matrix.conv_operator` validates it).

    Examples
    --------
    >>> from transpose_matrix import ConvSpec
    >>> depthwise = ConvSpec((8, 8), 3, padding=1, in_channels=32, out_channels=32, groups=32)
    >>> auto_engine(depthwise) == ("numba" if numba_installed() else "numpy")
    True
    >>> auto_engine(ConvSpec((8, 8), 3, in_channels=64, out_channels=64))
    'numpy'
    """
    cg, mg = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    if direct_pays(cg, mg) and numba_installed():
        return "numba"
    return "numpy"
