"""
Channels and groups
===================

Four input channels, two output channels, ``groups=2``: output channel 0
reads input channels 0 and 1 only, output channel 1 reads channels 2 and 3.
C is block diagonal, one block per group; the animation stacks the channels
as planes and lights the cells each output reads. The transposed layer
(Cᵀ) scatters each input pixel into the output channels of its own group.
"""

# %%
import numpy as np
import torch

import transpose_matrix as tm

spec = tm.ConvSpec((4, 4), 3, padding=1, in_channels=4, out_channels=2, groups=2)
rng = np.random.default_rng(0)
w = rng.standard_normal(spec.weight_shape)  # (2, 2, 3, 3): (out, in // groups, kh, kw)
x = rng.standard_normal((4, 4, 4))
C = tm.conv_matrix(spec, w)
y_torch = torch.nn.functional.conv2d(torch.from_numpy(x)[None], torch.from_numpy(w),
                                     padding=1, groups=2)
assert np.allclose(C @ x.ravel(), y_torch.numpy().ravel(), atol=1e-12)
# Block diagonal: no output of group 0 reads an input of group 1.
assert C.toarray()[:16, 32:].any() == False  # noqa: E712
print(f"C: {C.shape}, {C.nnz} stored entries in two diagonal blocks")

# %%
# The convolution, one frame per row of C, beside C.
gather = tm.animate(spec)
ax = tm.plot_matrix(spec)

# %%
# The transposed layer ``ConvTranspose2d(2, 4, 3, padding=1, groups=2)`` is
# Cᵀ: each frame is a column of Cᵀ, one input pixel stamping its patch into
# the two output channels of its group.
layer = tm.ConvSpec.from_transposed((3, 3), 2, 4, 3, stride=2, padding=1, groups=2)
wt = rng.standard_normal(layer.weight_shape)
yt = rng.standard_normal((2, 3, 3))
x_torch = torch.nn.functional.conv_transpose2d(torch.from_numpy(yt)[None], torch.from_numpy(wt),
                                               stride=2, padding=1, groups=2)
assert np.allclose(tm.transposed_conv_matrix(layer, wt) @ yt.ravel(),
                   x_torch.numpy().ravel(), atol=1e-12)
scatter = tm.animate(layer, view="scatter")
ax = tm.plot_matrix(layer, transposed=True)
