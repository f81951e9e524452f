"""
``output_padding``: one transposed layer, two output sizes
==========================================================

A stride-2 convolution with a 3×3 kernel and padding 1 maps both a 5×5 and a
6×6 input to 3×3. Its transposed layer must pick one: ``output_padding=0``
gives 5×5, ``output_padding=1`` gives 6×6. Each choice is Cᵀ of a different
forward convolution. The animations show each transposed layer scattering
its input pixels (a column of Cᵀ per frame; the grey border is what the
padding crops); the extra row and column of the second are reached only by
the last taps.
"""

# %%
import numpy as np
import torch

import transpose_matrix as tm

rng = np.random.default_rng(0)
animations = {}
for output_padding in (0, 1):
    layer = tm.ConvSpec.from_transposed((3, 3), 1, 1, 3, stride=2, padding=1,
                                        output_padding=output_padding)
    w = rng.standard_normal(layer.weight_shape)
    y = rng.standard_normal((1, 3, 3))
    CT = tm.transposed_conv_matrix(layer, w)
    x_torch = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(y)[None], torch.from_numpy(w), stride=2, padding=1,
        output_padding=output_padding)
    assert np.allclose(CT @ y.ravel(), x_torch.numpy().ravel(), atol=1e-12)
    print(f"output_padding={output_padding}: 3x3 -> {layer.input_shape}, Cᵀ {CT.shape}")
    animations[output_padding] = tm.animate(layer, view="scatter")

# %%
# ``output_padding=0``: the 5×5 output.
scatter_5x5 = animations[0]

# %%
# ``output_padding=1``: the 6×6 output.
scatter_6x6 = animations[1]

# %%
# The sizes ``output_padding`` can choose from are solved, not searched:
# :func:`transpose_matrix.solve_sizes` lists the layers that take 3 to 6.
print(tm.analysis.format_solutions(tm.solve_sizes(3, 6, kernel_sizes=[3], strides=[2])))
