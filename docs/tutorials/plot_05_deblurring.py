"""
An inverse problem: deblurring with ``conv_operator`` and ``lsqr``
==================================================================

A blurred image is ``y = C x``. The transposed convolution Cᵀ is not the
inverse ("deconvolution" is a misnomer): it is the adjoint, which is exactly
what an iterative least-squares solver needs. :func:`~transpose_matrix.conv_operator`
gives C as a matrix-free ``scipy.sparse.linalg.LinearOperator`` (``matvec``
convolves, ``rmatvec`` applies the transposed convolution), so
``scipy.sparse.linalg.lsqr`` deblurs without ever building C.
"""

# %%
# A blurred image
# ---------------
import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.sparse.linalg import lsqr

import transpose_matrix as tm

n = 48
yy, xx = np.mgrid[:n, :n]
image = ((xx // 8 + yy // 8) % 2).astype(float)          # a checkerboard
image[(xx - 30) ** 2 + (yy - 18) ** 2 < 80] = 0.5          # and a disc

k = 7
g = np.exp(-0.5 * (np.arange(k) - k // 2) ** 2 / 1.5**2)
kernel = np.outer(g, g) / np.outer(g, g).sum()
spec = tm.ConvSpec((n, n), k, padding=k // 2)
C = tm.conv_operator(spec, kernel[None, None])
# The operator is the convolution, and its adjoint the transposed convolution.
x_t = torch.from_numpy(image)[None, None]
w_t = torch.from_numpy(kernel)[None, None]
assert np.allclose(C.matvec(image.ravel()),
                   torch.nn.functional.conv2d(x_t, w_t, padding=k // 2).numpy().ravel())
assert np.allclose(C.rmatvec(image.ravel()),
                   torch.nn.functional.conv_transpose2d(x_t, w_t, padding=k // 2).numpy().ravel())

rng = np.random.default_rng(0)
blurred = C.matvec(image.ravel()) + 0.01 * rng.standard_normal(n * n)

# %%
# Cᵀ is not the inverse; least squares is
# ---------------------------------------
# ``C.rmatvec`` (Cᵀ y) blurs again. ``lsqr`` minimises ``‖C x - y‖² + damp² ‖x‖²``
# using only ``matvec`` and ``rmatvec``; the damping keeps the noise from
# being amplified (without it, more iterations make the result worse).
adjoint = C.rmatvec(blurred)
restored = lsqr(C, blurred, damp=0.05, iter_lim=100)[0]
for name, guess in [("blurred", blurred), ("Cᵀ y", adjoint), ("lsqr", restored)]:
    print(f"{name:>8}: error {np.linalg.norm(guess - image.ravel()) / np.linalg.norm(image):.3f}")
assert np.linalg.norm(restored - image.ravel()) < 0.7 * np.linalg.norm(blurred - image.ravel())

fig, axes = plt.subplots(1, 4, figsize=(12, 3.3))
for ax, (title, picture) in zip(axes, [("image x", image), ("blurred y = C x", blurred),
                                       ("Cᵀ y", adjoint), ("lsqr", restored)]):
    ax.imshow(picture.reshape(n, n), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.set_axis_off()

# %%
# A strided layer: deblurring and upsampling at once
# --------------------------------------------------
# With ``stride=2`` the forward operator also subsamples, so y has a quarter of
# the entries: recovering x is underdetermined and the damping chooses among
# the solutions. The adjoint of this operator is a ``ConvTranspose2d(stride=2)``.
strided = tm.ConvSpec((n, n), k, stride=2, padding=k // 2)
S = tm.conv_operator(strided, kernel[None, None])
print("S:", S.shape, "dims", S.dims, "->", S.dimsd)
assert np.allclose(S.matvec(image.ravel()),
                   torch.nn.functional.conv2d(x_t, w_t, stride=2,
                                              padding=k // 2).numpy().ravel())
low = S.matvec(image.ravel()) + 0.01 * rng.standard_normal(S.shape[0])
assert np.allclose(S.rmatvec(low), torch.nn.functional.conv_transpose2d(
    torch.from_numpy(low.reshape(1, 1, n // 2, n // 2)), w_t, stride=2, padding=k // 2,
    output_padding=1).numpy().ravel())
up = lsqr(S, low, damp=0.05, iter_lim=100)[0]
print(f"strided lsqr: error {np.linalg.norm(up - image.ravel()) / np.linalg.norm(image):.3f}")

fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
for ax, (title, picture, size) in zip(axes, [("y = S x (24×24)", low, n // 2),
                                             ("Sᵀ y: ConvTranspose2d", S.rmatvec(low), n),
                                             ("lsqr", up, n)]):
    ax.imshow(picture.reshape(size, size), cmap="gray")
    ax.set_title(title)
    ax.set_axis_off()
