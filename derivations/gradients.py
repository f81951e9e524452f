"""Gradients: the library's derivation of ∂L/∂x = Cᵀg and ∂L/∂w = U(x)ᵀg, checked by torch.

Question: why is the transposed convolution the gradient of a convolution,
and what is the gradient with respect to the weights? Answer:
``transpose_matrix.gradient_derivation``, the library's own derivation (every
step checked by sympy), for the textbook layer; then the same matrices with
numbers against PyTorch's autograd, for that layer and for a strided, grouped
one.

Run: ``python derivations/gradients.py [--latex FILE]``.
"""

from __future__ import annotations

import sys

import _common
import numpy as np
from _common import difference, max_error

import transpose_matrix as tm
from transpose_matrix import Derivation


def build() -> Derivation:
    """The library's gradient derivation, then its matrices against torch's autograd."""
    import torch
    import torch.nn.functional as F

    doc = tm.gradient_derivation(tm.ConvSpec((4, 4), 3))

    doc.step("Against PyTorch's autograd")
    doc.say(
        r"With numbers in place of the symbols, $C^{\mathsf T}\mathbf{g}$ and "
        r"$U(\mathbf{x})^{\mathsf T}\mathbf{g}$ must be what autograd computes for a loss "
        r"whose output gradient is $\mathbf{g}$: here "
        r"$L = \langle \operatorname{conv}(\mathbf{x}), \mathbf{g} \rangle$ with random "
        r"$\mathbf{x}$, $w$ and $\mathbf{g}$."
    )
    rng = np.random.default_rng(0)
    for spec, call in (
        (tm.ConvSpec((4, 4), 3), "`Conv2d(1, 1, 3)` on $4 \\times 4$"),
        (
            tm.ConvSpec((6, 5), 3, stride=2, padding=1, in_channels=4, out_channels=6, groups=2),
            "`Conv2d(4, 6, 3, stride=2, padding=1, groups=2)` on $6 \\times 5$",
        ),
    ):
        weight = rng.standard_normal(spec.weight_shape)
        x = rng.standard_normal((spec.in_channels, *spec.input_shape))
        g = rng.standard_normal(spec.matrix_shape[0])
        w_t = torch.tensor(weight, requires_grad=True)
        x_t = torch.tensor(x[None], requires_grad=True)
        y = F.conv2d(x_t, w_t, stride=spec.stride, padding=spec.padding[0][0], groups=spec.groups)
        y.backward(torch.tensor(g.reshape(y.shape)))
        C = tm.conv_matrix(spec, weight)
        U = tm.patch_matrix(spec, x)
        error_x = max_error(C.T @ g, x_t.grad.numpy().reshape(-1))
        error_w = max_error(U.T @ g, w_t.grad.numpy().reshape(-1))
        doc.check(
            error_x < 1e-12 and error_w < 1e-12,
            rf"For {call}, $C^{{\mathsf T}}\mathbf{{g}}$ equals torch's input gradient and "
            rf"$U(\mathbf{{x}})^{{\mathsf T}}\mathbf{{g}}$ its weight gradient.",
            difference(max(error_x, error_w)),
        )
    return doc


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
