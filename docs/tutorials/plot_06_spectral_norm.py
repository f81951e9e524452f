"""
The spectral norm of a layer and its shortcuts
==============================================

The operator norm ‖C‖₂ of a convolution is its Lipschitz constant, and the
same number for its transposed layer (C and Cᵀ have the same singular
values). It is often replaced by shortcuts: the norm of the kernel reshaped
to a matrix (what ``torch.nn.utils.spectral_norm`` divides by), or the
circular layer's norm. This tutorial computes the exact values and shows
where the shortcuts hold and where they fail.
"""

# %%
# Exact singular values
# ---------------------
import numpy as np
import torch

import transpose_matrix as tm

rng = np.random.default_rng(0)
w = rng.standard_normal((8, 8, 3, 3)) / 12
zero = tm.ConvSpec((12, 12), 3, padding=1, in_channels=8, out_channels=8)
norm = tm.operator_norm(zero, w)
C = tm.conv_matrix(zero, w).toarray()
print(f"‖C‖₂ = {norm:.6f}; numpy's dense SVD of C: {np.linalg.norm(C, 2):.6f}")
assert np.isclose(norm, np.linalg.norm(C, 2))
# Cᵀ has the same singular values, so the transposed layer has the same norm.
assert np.isclose(np.linalg.norm(C.T, 2), norm)

# %%
# Circular padding: every value, by the FFT
# -----------------------------------------
circular = tm.ConvSpec((12, 12), 3, padding=1, padding_mode="circular",
                       in_channels=8, out_channels=8)
s = tm.singular_values(circular, w, which="all")
conv = torch.nn.Conv2d(8, 8, 3, padding=1, padding_mode="circular", bias=False).double()
conv.weight.data = torch.from_numpy(w)
J = torch.autograd.functional.jacobian(conv, torch.zeros(1, 8, 12, 12, dtype=torch.float64))
assert np.allclose(np.sort(s), np.sort(torch.linalg.svdvals(J.reshape(1152, 1152)).numpy()))
print(f"circular: {s.size} singular values, largest {s.max():.6f}, smallest {s.min():.6f}")

# %%
# The shortcuts
# -------------
# :func:`~transpose_matrix.compare_norms` puts the exact norm beside the
# reshaped-kernel norm and the proven bounds.
print(tm.compare_norms(zero, w))

# %%
# Where the shortcut fails: a depthwise layer
# -------------------------------------------
# With ``groups = channels`` and equal kernels, the reshaped norm of the whole
# weight is ``sqrt(channels)`` times the layer's true norm.
depthwise = tm.ConvSpec((12, 12), 3, padding=1, in_channels=8, out_channels=8, groups=8)
wd = np.repeat(rng.standard_normal((1, 1, 3, 3)), 8, axis=0)
true = tm.operator_norm(depthwise, wd)
shortcut = tm.analysis.reshaped_kernel_norm(wd)
print(f"depthwise: ‖C‖₂ = {true:.4f}, reshaped kernel norm = {shortcut:.4f}, "
      f"ratio {shortcut / true:.3f} (sqrt(8) = {np.sqrt(8):.3f})")
