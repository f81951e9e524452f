"""
Dilation in the transposed layer
================================

The classic set stops at the dilated convolution. Its transposed layer,
``ConvTranspose2d(1, 1, 3, dilation=2)`` on a 3×3 input, spreads each input
pixel over a 5×5 footprint with holes; the zero-insertion view shows the
same layer as a stride-1 convolution of the bordered input with the flipped,
dilated kernel.
"""

# %%
import numpy as np
import torch

import transpose_matrix as tm

layer = tm.ConvSpec.from_transposed((3, 3), 1, 1, 3, dilation=2)
rng = np.random.default_rng(0)
w = rng.standard_normal(layer.weight_shape)
y = rng.standard_normal((1, 3, 3))
CT = tm.transposed_conv_matrix(layer, w)
x_torch = torch.nn.functional.conv_transpose2d(torch.from_numpy(y)[None], torch.from_numpy(w),
                                               dilation=2)
assert np.allclose(CT @ y.ravel(), x_torch.numpy().ravel(), atol=1e-12)
print(f"3x3 -> {layer.input_shape}; Cᵀ {CT.shape}")

# %%
# Scatter: one input pixel (a column of Cᵀ) per frame, beside Cᵀ.
scatter = tm.animate(layer, view="scatter")
ax = tm.plot_matrix(layer, transposed=True)

# %%
# Zero insertion: one output pixel (a row of Cᵀ) per frame.
zero_insertion = tm.animate(layer, view="zero-insertion")
