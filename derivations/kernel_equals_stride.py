"""Kernel = stride, no padding: U-Net's 2×2, stride-2 up-convolution.

Question: how does ``ConvTranspose2d(1, 1, 2, stride=2)`` upsample, and what
happens to the channels in U-Net's up-convolution? Answer: every input pixel
becomes its own kernel-scaled s×s block, the blocks do not overlap, and Cᵀ
is a Kronecker product with its rows permuted; with channels it is a 1×1
convolution to out·s² channels followed by a pixel shuffle.

Run: ``python derivations/kernel_equals_stride.py [--latex FILE]``.
"""

from __future__ import annotations

import sys

import _common
import numpy as np
import scipy.sparse
import sympy
from _common import difference, max_error

import transpose_matrix as tm
from transpose_matrix import Derivation
from transpose_matrix.narrative.derivation import sympy_check


def block_permutation(channels: int, height: int, width: int, s: int) -> scipy.sparse.csr_array:
    """Π taking row ``((o·s + a)·s + b)·HW + i·W + j`` to output ``(o, i·s + a, j·s + b)``."""
    o, a, b, i, j = np.meshgrid(
        *(np.arange(n) for n in (channels, s, s, height, width)), indexing="ij"
    )
    source = ((((o * s + a) * s + b) * height + i) * width + j).reshape(-1)
    target = ((o * height * s + i * s + a) * width * s + j * s + b).reshape(-1)
    size = source.size
    return scipy.sparse.csr_array((np.ones(size), (target, source)), shape=(size, size))


def build() -> Derivation:
    """The derivation: Cᵀ = I ⊗ w, the permuted Kronecker product, pixel shuffle."""
    import torch
    import torch.nn.functional as F

    doc = Derivation("Kernel = stride, no padding: the U-Net up-convolution")
    doc.say(
        "When the kernel size equals the stride and there is no padding, the windows of the "
        "forward convolution tile its input without overlap: every input pixel is read by "
        "exactly one output. So every row of $C$ reads a disjoint block, and every row of "
        r"$C^{\mathsf T}$ holds exactly one weight: the transposed convolution pastes a copy "
        r"of the kernel, scaled by one input pixel, into each $s \times s$ block of the output."
    )

    doc.step(r"One dimension: $C^{\mathsf T} = I \otimes w$")
    spec1 = tm.ConvSpec.from_transposed(3, 1, 1, 2, stride=2)
    Ct1 = tm.symbolic_conv_matrix(spec1).T
    w = sympy.Matrix(tm.weight_symbols(spec1)[0, 0].tolist())
    kron1 = sympy.kronecker_product(sympy.eye(3), w)
    doc.say("For `ConvTranspose1d(1, 1, 2, stride=2)` on length 3:")
    doc.matrices([(r"C^{\mathsf T}", Ct1), (r"I_3 \otimes w", kron1)])
    doc.check(
        sympy_check(
            sympy.Matrix(Ct1),
            kron1,
            says=r"$C^{\mathsf T} = I_3 \otimes w$ entry by entry",
        )
    )

    doc.step(r"The worked example: `ConvTranspose2d(1, 1, 2, stride=2)` on $2 \times 3$")
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
    shape = r" \times ".join(map(str, out.shape[1:]))
    doc.say(
        rf"The layer maps $1 \times 2 \times 3$ to ${shape}$. With torch's own layer (random "
        r"kernel, seed 0), each $2 \times 2$ block of the output is the kernel times one input "
        "pixel, compared with exact equality."
    )
    doc.check(
        blocks_ok and tuple(out.shape) == (1, 1, 4, 6),
        "`out[2i:2i+2, 2j:2j+2] == weight * x[i, j]` for all six pixels (torch, bit for bit).",
    )
    spec = tm.ConvSpec.from_transposed((2, 3), 1, 1, 2, stride=2)
    Ct = tm.symbolic_conv_matrix(spec).T
    doc.matrix(r"C^{\mathsf T}", Ct, max_rows=24)
    pattern = np.array(Ct.tolist(), dtype=object) != 0
    doc.check(
        (pattern.sum(axis=1) == 1).all() and (pattern.sum(axis=0) == 4).all(),
        r"Every row of $C^{\mathsf T}$ holds exactly one weight (no overlap); every column "
        "holds all four.",
    )
    vec_w = sympy.Matrix(tm.weight_symbols(spec)[0, 0].reshape(-1).tolist())
    Pi = block_permutation(1, 2, 3, 2)
    kron = sympy.kronecker_product(vec_w, sympy.eye(6))
    permuted = sympy.Matrix(Pi.toarray().astype(int)) * kron
    doc.say(
        r"Writing $\operatorname{vec}(w) = (w_{0,0}, w_{0,1}, w_{1,0}, w_{1,1})^{\mathsf T}$, "
        r"the product $\operatorname{vec}(w) \otimes I_6$ lists the four scaled copies of the "
        r"input one after another; a permutation $\Pi$ of the rows moves entry $(a, b)$ of "
        r"copy $(i, j)$ to output pixel $(2i + a, 2j + b)$."
    )
    doc.check(
        sympy_check(
            permuted,
            sympy.Matrix(Ct),
            says=r"$C^{\mathsf T} = \Pi\,(\operatorname{vec}(w) \otimes I_6)$, a permuted "
            "Kronecker product, entry by entry",
        )
    )
    weight = up.weight.detach().numpy()
    Ct_numeric = tm.transposed_conv_matrix(spec, weight)
    error = max_error(Ct_numeric @ x.numpy().reshape(-1), out.numpy().reshape(-1))
    doc.check(
        error == 0.0,
        r"With the layer's own kernel, $C^{\mathsf T}\mathbf{x}$ equals the layer's output.",
        difference(error),
    )

    doc.step("Channels: the U-Net up-convolution halves them while $H$ and $W$ double")
    cin, cout, n = 8, 4, 6
    layer = torch.nn.ConvTranspose2d(cin, cout, 2, stride=2, bias=False).double()
    xb = torch.randn((1, cin, n, n), dtype=torch.float64)
    with torch.no_grad():
        yb = layer(xb)
    weight = layer.weight.detach().numpy()  # (in, out, 2, 2)
    spec_u = tm.ConvSpec.from_transposed((n, n), cin, cout, 2, stride=2)
    Ct_u = tm.transposed_conv_matrix(spec_u, weight)
    rows_u, cols_u = Ct_u.shape
    doc.say(
        r"In U-Net's decoder a $2 \times 2$, stride-2 transposed convolution takes "
        rf"${cin} \times {n} \times {n}$ to ${cout} \times {2 * n} \times {2 * n}$: the "
        "channel count halves because the layer is built with `out_channels = in_channels // "
        "2`, and $H$ and $W$ double because $k = s = 2$. Its matrix $C^{\\mathsf T}$ is "
        rf"${rows_u} \times {cols_u}$ with {Ct_u.nnz} stored entries, yet only "
        f"{weight.size} parameters."
    )
    doc.check(
        tuple(yb.shape) == (1, cout, 2 * n, 2 * n)
        and Ct_u.shape == (cout * 4 * n * n, cin * n * n),
        rf"torch's layer maps ${cin} \times {n} \times {n}$ to "
        rf"${cout} \times {2 * n} \times {2 * n}$, and $C^{{\mathsf T}}$ has that shape.",
    )
    error = max_error(Ct_u @ xb.numpy().reshape(-1), yb.numpy().reshape(-1))
    doc.check(
        error < 1e-12,
        r"$C^{\mathsf T}\mathbf{x}$ equals the layer's output.",
        difference(error),
    )
    rows_nnz = np.diff(Ct_u.indptr)
    doc.check(
        (rows_nnz == cin).all(),
        f"Every output value reads exactly one input pixel, in all {cin} input channels.",
    )
    # A[(o, a, b), c] = weight[c, o, a, b]: a 1x1 convolution to out*s^2 channels.
    A = weight.transpose(1, 2, 3, 0).reshape(cout * 4, cin)
    Pi_u = block_permutation(cout, n, n, 2)
    structured = Pi_u @ scipy.sparse.kron(A, scipy.sparse.eye(n * n)).tocsr()
    error = max_error(structured, Ct_u)
    doc.say(
        r"The same structure with channels: $C^{\mathsf T} = \Pi\,(A \otimes I)$, where $A$ "
        rf"is the ${cout * 4} \times {cin}$ matrix $A_{{(o, a, b), c}} = w_{{c, o, a, b}}$, "
        rf"the matrix of a $1 \times 1$ convolution from {cin} to $ {cout} \cdot 2^2 = "
        rf"{cout * 4}$ channels, and $\Pi$ is the depth-to-space permutation that torch calls "
        "`pixel_shuffle`."
    )
    doc.check(
        error < 1e-15,
        r"$C^{\mathsf T} = \Pi\,(A \otimes I)$ entry by entry.",
        difference(error),
    )
    shuffled = F.pixel_shuffle(F.conv2d(xb, torch.tensor(A)[:, :, None, None]), 2)
    error = max_error(shuffled.numpy(), yb.numpy())
    doc.check(
        error < 1e-12,
        "In torch, `conv_transpose2d(x, w, stride=2)` equals `pixel_shuffle(y, 2)` for "
        "`y = conv2d(x, A[:, :, None, None])`.",
        difference(error),
    )
    doc.say(
        "So with $k = s$ and no padding, upsampling by $s$ means a learned "
        r"$1 \times 1$ convolution to $\mathit{out} \cdot s^2$ channels, then a fixed "
        "rearrangement. Use kernel size $s$, stride $s$ and no padding to upsample by an "
        "integer factor $s$ without any overlap."
    )
    return doc


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
