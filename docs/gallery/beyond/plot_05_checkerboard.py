"""
Checkerboards: the coverage of a layer and of a stack
=====================================================

Give a transposed layer an all-ones kernel and an all-ones input: output
pixel m receives one unit per (input, tap) pair that lands on it, so the
coverage map Cᵀ·1 counts them. With kernel 3 and stride 2 the counts
alternate 1, 2, 4: a constant image comes out as a checkerboard. With kernel
4 and stride 2 the interior is flat. Stacking layers multiplies the pattern.
Each map is checked against torch's ``conv_transpose2d`` of ones.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import transpose_matrix as tm

fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
for ax, k in zip(axes, (3, 4)):
    layer = tm.ConvSpec.from_transposed((4, 4), 1, 1, k, stride=2)
    coverage = tm.transposed_conv_matrix(layer, np.ones(layer.weight_shape)) @ np.ones(16)
    ones = torch.nn.functional.conv_transpose2d(torch.ones(1, 1, 4, 4, dtype=torch.float64),
                                                torch.ones(1, 1, k, k, dtype=torch.float64),
                                                stride=2)
    assert np.array_equal(coverage, ones.numpy().ravel())
    tm.plot_coverage(layer, ax=ax)
    ax.set_title(f"kernel {k}, stride 2: {int(coverage.min())} to {int(coverage.max())} taps")

# %%
# A stack: two ``ConvTranspose2d(k=3, s=2)``. :func:`transpose_matrix.coverage_map`
# pushes ones through the network with all-ones kernels; the product of the
# two layers' matrices gives the same map.
stack = torch.nn.Sequential(torch.nn.ConvTranspose2d(1, 1, 3, stride=2),
                            torch.nn.ConvTranspose2d(1, 1, 3, stride=2))
coverage = tm.coverage_map(stack, (1, 4, 4))
with torch.no_grad():
    for layer in stack:
        layer.weight.fill_(1.0)
        layer.bias.zero_()
    assert np.allclose(coverage, stack(torch.ones(1, 1, 4, 4)).numpy()[0])
print("stack output", coverage.shape[1:], "taps per pixel from", coverage.min(), "to",
      coverage.max())
fig, ax = plt.subplots(figsize=(5, 5))
image = ax.imshow(coverage[0], cmap="viridis")
fig.colorbar(image, ax=ax, shrink=0.8)
ax.set_title("two ConvTranspose2d(k=3, s=2): coverage")
