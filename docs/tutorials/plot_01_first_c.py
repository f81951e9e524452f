"""
Your first C
============

A convolution of one sample, with its geometry fixed, is a matrix: stack the
input into a vector x, the output into y, and ``y = C x``. This tutorial
builds C for the textbook case (a 4×4 input, a 3×3 kernel, no padding,
stride 1), reads it, and checks it against PyTorch.
"""

# %%
# The geometry
# ------------
# :class:`~transpose_matrix.ConvSpec` holds the geometry of one layer. The
# output size follows ``floor((n + 2p - d(k-1) - 1)/s) + 1``.
import numpy as np
import torch

import transpose_matrix as tm

spec = tm.ConvSpec(input_shape=(4, 4), kernel_size=3)
print(spec)
print("output", spec.output_shape, "weight", spec.weight_shape, "C is", spec.matrix_shape)

# %%
# C with symbols
# --------------
# Row r of C is output position r; column c is input position c (both
# flattened in C order). Each row holds the nine weights where the kernel
# sits on the input, and zeros elsewhere.
C_sym = tm.symbolic_conv_matrix(spec)
print(C_sym[0, :])
print(tm.to_latex(C_sym[0, :8]))

# %%
# The terminal shows the same matrix (``python -m transpose_matrix show``):
from transpose_matrix.cli import main  # noqa: E402 (imported where it is used)

main(["show"])

# %%
# C with numbers, checked
# -----------------------
# :func:`~transpose_matrix.conv_matrix` gives C as a ``scipy.sparse.csr_array``
# for a weight array in PyTorch's layout ``(out, in // groups, kh, kw)``.
# PyTorch computes cross-correlation (no kernel flip); so does C.
rng = np.random.default_rng(0)
w = rng.standard_normal(spec.weight_shape)
x = rng.standard_normal((1, 4, 4))
C = tm.conv_matrix(spec, w)
y = torch.nn.functional.conv2d(torch.from_numpy(x)[None], torch.from_numpy(w))
print("max |C x - conv2d(x)| =", np.abs(C @ x.ravel() - y.numpy().ravel()).max())
assert np.allclose(C @ x.ravel(), y.numpy().ravel())

# %%
# A picture of C
# --------------
# Each stored entry coloured by its kernel tap; light lines separate the
# input rows. The animation shows the kernel sliding: frame r is row r of C.
ax = tm.plot_matrix(spec)
animation = tm.animate(spec)

# %%
# Next: :ref:`the transposed layer is Cᵀ <sphx_glr_auto_tutorials_plot_02_transposed_is_ct.py>`.
