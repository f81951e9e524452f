"""Layers from elsewhere: torch modules and other frameworks' conventions.

torch is imported only inside the functions that read modules; translating
Keras, JAX or ONNX arguments needs no framework.

May import: geometry, matrices, operator.

Public names
------------
::

    module_matrix, from_module, LayerSpec, network_matrix, NetworkMatrix,
    coverage_map, effective_kernel          torch modules (modules)
    translate_layer, Translation, translate_keras, translate_jax, translate_onnx,
    kernel_to_torch                         other frameworks (translate)
"""

from __future__ import annotations

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "module_matrix": "modules",
        "from_module": "modules",
        "LayerSpec": "modules",
        "network_matrix": "modules",
        "NetworkMatrix": "modules",
        "coverage_map": "modules",
        "effective_kernel": "modules",
        "translate_layer": "translate",
        "Translation": "translate",
        "translate_keras": "translate",
        "translate_jax": "translate",
        "translate_onnx": "translate",
        "kernel_to_torch": "translate",
    },
)
