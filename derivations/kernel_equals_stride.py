"""Kernel = stride, no padding: U-Net's 2×2, stride-2 up-convolution.

Question: how does ``ConvTranspose2d(1, 1, 2, stride=2)`` upsample, and what
happens to the channels in U-Net's up-convolution? Answer: every input pixel
becomes its own kernel-scaled s×s block, the blocks do not overlap, and Cᵀ
is a Kronecker product with its rows permuted; with channels it is a 1×1
convolution to out·s² channels followed by a pixel shuffle.

Run: ``python derivations/kernel_equals_stride.py [--latex FILE]``.
"""

from __future__ import annotations

import _common
import numpy as np
import scipy.sparse
import sympy

import transpose_matrix as tm


def block_permutation(channels: int, height: int, width: int, s: int) -> scipy.sparse.csr_array:
    """Π taking row ``((o·s + a)·s + b)·HW + i·W + j`` to output ``(o, i·s + a, j·s + b)``."""
    o, a, b, i, j = np.meshgrid(
        *(np.arange(n) for n in (channels, s, s, height, width)), indexing="ij"
    )
    source = ((((o * s + a) * s + b) * height + i) * width + j).reshape(-1)
    target = ((o * height * s + i * s + a) * width * s + j * s + b).reshape(-1)
    size = source.size
    return scipy.sparse.csr_array((np.ones(size), (target, source)), shape=(size, size))


def main(argv: list[str] | None = None) -> int:
    import torch
    import torch.nn.functional as F

    doc = _common.Derivation(
        "kernel_equals_stride", "Kernel = stride, no padding: the U-Net up-convolution", argv
    )
    doc.say(
        "When the kernel size equals the stride and there is no padding, the windows of the "
        "forward convolution tile its input without overlap: every input pixel is read by "
        "exactly one output. So every row of C reads a disjoint block, and every row of Cᵀ "
        "holds exactly one weight: the transposed convolution pastes a copy of the kernel, "
        "scaled by one input pixel, into each s×s block of the output."
    )

    doc.heading("One dimension: Cᵀ = I ⊗ w")
    spec1 = tm.ConvSpec.from_transposed(3, 1, 1, 2, stride=2)
    Ct1 = tm.symbolic_conv_matrix(spec1).T
    w = sympy.Matrix(tm.weight_symbols(spec1)[0, 0].tolist())
    kron1 = sympy.kronecker_product(sympy.eye(3), w)
    doc.matrices([("C^T", r"C^{\mathsf T}", Ct1), ("I_3 ⊗ w", r"I_3 \otimes w", kron1)])
    doc.check(
        (sympy.Matrix(Ct1) - kron1).is_zero_matrix,
        "For ConvTranspose1d(1, 1, 2, stride=2) on length 3, Cᵀ = I3 ⊗ w exactly.",
        tex=r"For ConvTranspose1d(1, 1, 2, stride=2) on length 3, "
        r"$C^{\mathsf T} = I_3 \otimes w$ exactly.",
    )

    doc.heading("The worked example: ConvTranspose2d(1, 1, 2, stride=2) on 2×3")
    torch.manual_seed(0)
    up = torch.nn.ConvTranspose2d(1, 1, (2, 2), stride=2, bias=False).double()
    x = torch.randn((1, 1, 2, 3), dtype=torch.float64)
    with torch.no_grad():
        out = up(x)
    blocks_ok = all(
        torch.equal(
            out[0, 0, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2], up.weight[0, 0] * x[0, 0, i, j]
        )
        for i in range(2)
        for j in range(3)
    )
    doc.say(
        f"The layer maps 1×2×3 to {'×'.join(map(str, out.shape[1:]))}. With torch's own "
        "layer (random kernel, seed 0), each 2×2 block of the output is the kernel times one "
        "input pixel, compared with exact equality:"
    )
    doc.check(
        blocks_ok and tuple(out.shape) == (1, 1, 4, 6),
        "out[2i:2i+2, 2j:2j+2] == weight · x[i, j] for all six pixels (torch, bit for bit).",
    )
    spec = tm.ConvSpec.from_transposed((2, 3), 1, 1, 2, stride=2)
    Ct = tm.symbolic_conv_matrix(spec).T
    doc.matrix("C^T", r"C^{\mathsf T}", Ct, max_rows=24)
    pattern = np.array(Ct.tolist(), dtype=object) != 0
    doc.check(
        (pattern.sum(axis=1) == 1).all() and (pattern.sum(axis=0) == 4).all(),
        "Every row of Cᵀ holds exactly one weight (no overlap); every column holds all four.",
    )
    vec_w = sympy.Matrix(tm.weight_symbols(spec)[0, 0].reshape(-1).tolist())
    Pi = block_permutation(1, 2, 3, 2)
    kron = sympy.kronecker_product(vec_w, sympy.eye(6))
    permuted = sympy.Matrix(Pi.toarray().astype(int)) * kron
    doc.say(
        "Writing vec(w) = (w00, w01, w10, w11)ᵀ, the product vec(w) ⊗ I6 lists the four "
        "scaled copies of the input one after another; a permutation Π of the rows moves "
        "entry (a, b) of copy (i, j) to output pixel (2i + a, 2j + b).",
        tex=r"Writing $\operatorname{vec}(w) = (w_{0,0}, w_{0,1}, w_{1,0}, w_{1,1})^{\mathsf T}$, "
        r"the product $\operatorname{vec}(w) \otimes I_6$ lists the four scaled copies of the "
        r"input one after another; a permutation $\Pi$ of the rows moves entry $(a, b)$ of "
        r"copy $(i, j)$ to output pixel $(2i + a,\, 2j + b)$.",
    )
    doc.check(
        (permuted - sympy.Matrix(Ct)).is_zero_matrix,
        "Cᵀ = Π (vec(w) ⊗ I6): a permuted Kronecker product.",
        tex=r"$C^{\mathsf T} = \Pi\,(\operatorname{vec}(w) \otimes I_6)$: "
        r"a permuted Kronecker product.",
    )
    weight = up.weight.detach().numpy()
    Ct_numeric = tm.transposed_conv_matrix(spec, weight)
    error = _common.max_error(Ct_numeric @ x.numpy().reshape(-1), out.numpy().reshape(-1))
    doc.check(
        error == 0.0,
        "With the layer's own kernel, Cᵀ x equals the layer's output exactly.",
        f"largest difference {error:.1e}",
    )

    doc.heading("Channels: the U-Net up-convolution halves them while H and W double")
    cin, cout, n = 8, 4, 6
    layer = torch.nn.ConvTranspose2d(cin, cout, 2, stride=2, bias=False).double()
    xb = torch.randn((1, cin, n, n), dtype=torch.float64)
    with torch.no_grad():
        yb = layer(xb)
    weight = layer.weight.detach().numpy()  # (in, out, 2, 2)
    spec_u = tm.ConvSpec.from_transposed((n, n), cin, cout, 2, stride=2)
    Ct_u = tm.transposed_conv_matrix(spec_u, weight)
    doc.say(
        f"In U-Net's decoder a 2×2, stride-2 transposed convolution takes {cin}×{n}×{n} to "
        f"{cout}×{2 * n}×{2 * n}: the channel count halves because the layer is built with "
        f"out_channels = in_channels / 2, and H and W double because k = s = 2. Its matrix "
        f"Cᵀ is {Ct_u.shape[0]}×{Ct_u.shape[1]} with {Ct_u.nnz} stored entries, yet only "
        f"{weight.size} parameters."
    )
    doc.check(
        tuple(yb.shape) == (1, cout, 2 * n, 2 * n)
        and Ct_u.shape == (cout * 4 * n * n, cin * n * n),
        f"torch's layer maps {cin}×{n}×{n} to {cout}×{2 * n}×{2 * n}, and Cᵀ has that shape.",
    )
    error = _common.max_error(Ct_u @ xb.numpy().reshape(-1), yb.numpy().reshape(-1))
    doc.check(error < 1e-12, "Cᵀ x equals the layer's output.", f"largest difference {error:.1e}")
    rows_nnz = np.diff(Ct_u.indptr)
    doc.check(
        (rows_nnz == cin).all(),
        f"Every output value reads exactly one input pixel, in all {cin} input channels.",
    )
    # A[(o, a, b), c] = weight[c, o, a, b]: a 1×1 convolution to out·s² channels.
    A = weight.transpose(1, 2, 3, 0).reshape(cout * 4, cin)
    Pi_u = block_permutation(cout, n, n, 2)
    structured = Pi_u @ scipy.sparse.kron(A, scipy.sparse.eye(n * n)).tocsr()
    error = _common.max_error(structured, Ct_u)
    doc.say(
        "The same structure with channels: Cᵀ = Π (A ⊗ I), where A is the "
        f"{cout * 4}×{cin} matrix A[(o, a, b), c] = w[c, o, a, b] — the matrix of a 1×1 "
        f"convolution from {cin} to {cout}·2² = {cout * 4} channels — and Π is the "
        "depth-to-space permutation that torch calls pixel_shuffle."
    )
    doc.check(error < 1e-15, "Cᵀ = Π (A ⊗ I) entry by entry.", f"largest difference {error:.1e}")
    shuffled = F.pixel_shuffle(F.conv2d(xb, torch.tensor(A)[:, :, None, None]), 2)
    error = _common.max_error(shuffled.numpy(), yb.numpy())
    doc.check(
        error < 1e-12,
        "In torch: conv_transpose2d(x, w, stride=2) == pixel_shuffle(conv2d(x, A as 1×1), 2).",
        f"largest difference {error:.1e}",
    )
    doc.say(
        "So with k = s and no padding, upsampling by s means: a learned 1×1 convolution "
        "to out·s² channels, then a fixed rearrangement. Use kernel size s, stride s, no "
        "padding to upsample by an integer factor s without any overlap."
    )
    return doc.close()


if __name__ == "__main__":
    _common.run(main)
