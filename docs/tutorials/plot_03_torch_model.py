"""
From your torch model to its matrix
===================================

You have a model, not a ``ConvSpec``. :func:`~transpose_matrix.module_matrix`
reads a layer, :func:`~transpose_matrix.network_matrix` a whole
``nn.Sequential``, and both answer with the matrix M and offset b such that
``model(x) = M x + b`` for one sample.
"""

# %%
# One layer
# ---------
import numpy as np
import torch

import transpose_matrix as tm

torch.manual_seed(0)
layer = torch.nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1).double()
M = tm.module_matrix(layer, (8, 5, 5))
found = tm.interop.from_module(layer, (8, 5, 5))
print(M.shape, "transposed:", found.transposed)
print(found.spec)
x = torch.randn(1, 8, 5, 5, dtype=torch.float64)
bias = np.repeat(layer.bias.detach().numpy(), 100)
assert np.allclose(M @ x.numpy().ravel() + bias, layer(x).detach().numpy().ravel())

# %%
# A whole decoder
# ---------------
# Transposed convolution, padding layer, convolution, upsampling: one sparse
# matrix and one offset (the biases pushed through the later layers).
decoder = torch.nn.Sequential(
    torch.nn.ConvTranspose2d(4, 4, 3, stride=2),
    torch.nn.ReflectionPad2d(1),
    torch.nn.Conv2d(4, 2, 3),
    torch.nn.Upsample(scale_factor=1.5, mode="bilinear"),
).double()
net = tm.network_matrix(decoder, (4, 3, 3))
A, b = net
x = torch.randn(1, 4, 3, 3, dtype=torch.float64)
print("A:", A.shape, "nonzeros:", A.nnz)
assert np.allclose(A @ x.numpy().ravel() + b, decoder(x).detach().numpy().ravel())

# %%
# What one input entry reaches
# ----------------------------
# :func:`~transpose_matrix.effective_kernel` is the stack's response to one unit
# input entry (a column of A); the picture shows where the decoder spreads it.
response = tm.effective_kernel(decoder, (4, 3, 3))
print(response.shape)
ax = tm.plot_matrix(A)
