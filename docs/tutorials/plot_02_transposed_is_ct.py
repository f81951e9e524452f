"""
The transposed layer is Cᵀ
==========================

``torch.nn.ConvTranspose2d`` computes ``Cᵀ y``, where C is the matrix of the
forward convolution whose *output* has the transposed layer's input size.
This tutorial builds that C for a real upsampling layer, checks the claim
three ways (against ``conv_transpose2d``, against autograd's input gradient,
and by the dot test), and shows why ``output_padding`` exists.
"""

# %%
# Describe the layer as torch does
# --------------------------------
# ``ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)`` on a 5×5
# input. :meth:`~transpose_matrix.ConvSpec.from_transposed` gives the forward
# convolution; ``padding`` means the padding of that forward convolution.
import numpy as np
import torch

import transpose_matrix as tm

layer = tm.ConvSpec.from_transposed((5, 5), 8, 4, 3, stride=2, padding=1, output_padding=1)
print(layer)
print("the transposed layer maps", layer.output_shape, "->", layer.input_shape)

# %%
# Cᵀ against torch
# ----------------
rng = np.random.default_rng(1)
w = rng.standard_normal(layer.weight_shape)  # (8, 4, 3, 3): the ConvTranspose layout too
y = rng.standard_normal((8, 5, 5))
CT = tm.transposed_conv_matrix(layer, w)
x_torch = torch.nn.functional.conv_transpose2d(torch.from_numpy(y)[None], torch.from_numpy(w),
                                               stride=2, padding=1, output_padding=1)
print("max |Cᵀ y - conv_transpose2d(y)| =", np.abs(CT @ y.ravel() - x_torch.numpy().ravel()).max())
assert np.allclose(CT @ y.ravel(), x_torch.numpy().ravel())

# %%
# The gradient and the dot test
# -----------------------------
# Cᵀ is also the gradient of the convolution with respect to its input, and
# ⟨Cx, y⟩ = ⟨x, Cᵀy⟩. :func:`~transpose_matrix.verify` runs all of these
# against torch and reports the largest errors.
report = tm.verify(layer, w)
print(report)

# %%
# Why ``output_padding``
# ----------------------
# The forward convolution (stride 2, kernel 3, padding 1) maps inputs of size
# 9 and 10 to the same output size 5; the transposed layer cannot know which
# one you want, so ``output_padding`` picks it.
for n in (9, 10):
    print(n, "->", tm.conv_output_size(n, 3, stride=2, padding=1))
solutions = tm.solve_sizes(5, 10, kernel_sizes=[3], strides=[2], paddings=[1])
print(tm.analysis.format_solutions(solutions))

# %%
# One input pixel of the transposed layer stamps its kernel-weighted patch into
# the output: that is a column of Cᵀ.
small = tm.ConvSpec.from_transposed((3, 3), 1, 1, 3, stride=2, padding=1, output_padding=1)
scatter = tm.animate(small, view="scatter")
ax = tm.plot_matrix(small, transposed=True)
