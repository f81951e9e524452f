"""
The spectrum of a layer
=======================

The singular values of C are those of Cᵀ: the operator norm (Lipschitz
constant) and the condition number of a convolution and of its transposed
layer are the same. With circular padding the layer is block circulant and
the FFT gives every singular value exactly; with zero padding the spectrum
differs, most at its ends. Both are checked against the singular values of
the Jacobian of torch's ``conv2d``, computed densely by autograd.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import transpose_matrix as tm

rng = np.random.default_rng(0)
w = rng.standard_normal((4, 4, 3, 3)) / 6
fig, ax = plt.subplots(figsize=(7, 3.8))
for mode in ("circular", "zeros"):
    spec = tm.ConvSpec((8, 8), 3, padding=1, padding_mode=mode, in_channels=4, out_channels=4)
    s = np.sort(tm.singular_values(spec, w, which="all"))[::-1]
    conv = torch.nn.Conv2d(4, 4, 3, padding=1, padding_mode=mode, bias=False).double()
    conv.weight.data = torch.from_numpy(w)
    jacobian = torch.autograd.functional.jacobian(conv, torch.zeros(1, 4, 8, 8,
                                                                   dtype=torch.float64))
    s_torch = torch.linalg.svdvals(jacobian.reshape(256, 256)).numpy()
    assert np.allclose(s, s_torch, atol=1e-10)
    print(f"{mode:>8}: ‖C‖₂ = {s[0]:.4f}, σ_min = {s[-1]:.4f}, condition {s[0] / s[-1]:.1f}")
    ax.hist(s, bins=40, alpha=0.6, label=f"padding_mode={mode!r}")
ax.set_xlabel("singular value of C (and of Cᵀ)")
ax.set_ylabel("count")
ax.legend()

# %%
# The shortcuts, beside the exact norm: what ``spectral_norm`` divides by
# (the reshaped kernel's norm) and the bounds that hold.
print(tm.compare_norms(tm.ConvSpec((8, 8), 3, padding=1, in_channels=4, out_channels=4), w))
