"""
Half ('same') padding, no strides
=================================

``same_padding_no_strides`` of Dumoulin and Visin's convolution arithmetic: a
``Conv2d`` on a 5×5 input with a 3×3 kernel, padding 1,
giving a 5×5 output. Each frame is one row of C: the kernel placed on the
(padded) input, the output cell it computes, and the row's nonzeros in the
taps' colours. Beside it, C itself, coloured the same way.
"""

# %%
import numpy as np
import torch

import transpose_matrix as tm

spec = tm.ConvSpec(input_shape=(5, 5), kernel_size=3, padding=1)
print(spec)

# %%
# The matrix is the convolution: ``C @ x`` equals ``torch.nn.functional.conv2d``
# for random weights and inputs (float64, so the match is to rounding).
rng = np.random.default_rng(0)
w = rng.standard_normal(spec.weight_shape)
x = rng.standard_normal((spec.in_channels, *spec.input_shape))
C = tm.conv_matrix(spec, w)
y_torch = torch.nn.functional.conv2d(torch.from_numpy(x)[None], torch.from_numpy(w),
                                     padding=1)
assert np.allclose(C @ x.ravel(), y_torch.numpy().ravel(), atol=1e-12)
print(f"C is {C.shape[0]} x {C.shape[1]} with {C.nnz} stored entries; C x = conv2d(x)")

# %%
# The animation (one frame per row of C) beside the matrix C.
animation = tm.animate(spec)
ax = tm.plot_matrix(spec)
