"""
Padding modes: entries that are sums of weights
===============================================

With ``padding_mode`` ``'reflect'``, ``'replicate'`` or ``'circular'`` the
border copies input entries instead of zeros, so C = D·P: a convolution D of
the padded signal after a padding matrix P. An entry of C can then be a sum
of weights. Below, C of a 1-D layer (6 inputs, kernel 3, padding 1) in each
mode, printed with symbolic weights and drawn with the weights 1, 10, 100 so
each sum shows as its own value; each is checked against torch's
``Conv1d(padding_mode=...)`` and its transpose against autograd's input
gradient (no ``ConvTranspose`` pads with anything but zeros).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import transpose_matrix as tm
from transpose_matrix.cli import main

w = np.array([[[1.0, 10.0, 100.0]]])
fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
for ax, mode in zip(axes, ["zeros", "reflect", "replicate", "circular"]):
    spec = tm.ConvSpec((6,), 3, padding=1, padding_mode=mode)
    C = tm.conv_matrix(spec, w)
    conv = torch.nn.Conv1d(1, 1, 3, padding=1, padding_mode=mode, bias=False).double()
    conv.weight.data = torch.from_numpy(w)
    x = torch.randn(1, 1, 6, dtype=torch.float64, requires_grad=True)
    y = conv(x)
    assert np.allclose(C @ x.detach().numpy().ravel(), y.detach().numpy().ravel())
    g = torch.randn_like(y)
    (grad,) = torch.autograd.grad(y, x, g)
    assert np.allclose(C.T @ g.numpy().ravel(), grad.numpy().ravel())  # Cᵀ = input gradient
    tm.plot_matrix(C, ax=ax)
    ax.set_title(f"padding_mode={mode!r}")

# %%
# The same matrices with the weights as symbols (``python -m transpose_matrix
# show --input 6 --padding 1 --padding-mode MODE``): a border entry is
# ``w₀+w₂`` in reflect mode, ``w₀+w₁`` in replicate mode.
for mode in ["reflect", "replicate"]:
    main(["show", "--input", "6", "--padding", "1", "--padding-mode", mode])
