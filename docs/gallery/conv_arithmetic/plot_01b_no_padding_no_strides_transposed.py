"""
No padding, no strides, transposed
==================================

``no_padding_no_strides_transposed``: the transposed layer of the convolution
``no_padding_no_strides``, a ``ConvTranspose2d`` taking its 2×2 output
back to 4×4 (kernel 3×3). It is drawn
as the classic set draws it: zeros inserted between the input pixels, a
border, and a stride-1 convolution with the flipped kernel. Each frame is one
row of Cᵀ. Beside it, Cᵀ itself.
"""

# %%
import numpy as np
import torch

import transpose_matrix as tm

layer = tm.ConvSpec.from_transposed((2, 2), 1, 1, 3,
                                    stride=1, padding=0, output_padding=0, dilation=1)
print(layer)

# %%
# The transposed layer is Cᵀ: ``Cᵀ @ y`` equals
# ``torch.nn.functional.conv_transpose2d`` with the same weight.
rng = np.random.default_rng(0)
w = rng.standard_normal(layer.weight_shape)
y = rng.standard_normal((layer.out_channels, *layer.output_shape))
CT = tm.transposed_conv_matrix(layer, w)
x_torch = torch.nn.functional.conv_transpose2d(torch.from_numpy(y)[None], torch.from_numpy(w),
                                               stride=1, padding=0, output_padding=0, dilation=1)
assert np.allclose(CT @ y.ravel(), x_torch.numpy().ravel(), atol=1e-12)
assert (CT != tm.conv_matrix(layer, w).T).nnz == 0  # and it is exactly C transposed
print(f"Cᵀ is {CT.shape[0]} x {CT.shape[1]}; Cᵀ y = conv_transpose2d(y)")

# %%
# The animation (one frame per row of Cᵀ) beside the matrix Cᵀ.
animation = tm.animate(layer, view="zero-insertion")
ax = tm.plot_matrix(layer, transposed=True)
