"""Fixed upsamplers as matrices, each beside the transposed convolution that matches it.

Question: nearest neighbour, bed of nails, bilinear interpolation and
max-unpooling are "predefined" upsamplers; a transposed convolution "learns"
one. How exactly are they related? Answer: the first three are transposed
convolutions with fixed kernels (bilinear up to its border rows, shown
exactly), and max-unpooling is the transpose of max-pooling's selection
matrix, a bed of nails whose nails move with the data.

Run: ``python derivations/fixed_upsamplers.py [--latex FILE]``.
"""

from __future__ import annotations

import sys

import _common
import numpy as np
from _common import difference, max_error

import transpose_matrix as tm
from transpose_matrix import Derivation


def tent(s: int) -> tuple[np.ndarray, int]:
    """The linear-interpolation kernel for scale ``s`` and its padding."""
    if s % 2 == 0:
        taps = np.arange(2 * s)
        return 1 - np.abs(taps - (s - 0.5)) / s, s // 2
    taps = np.arange(2 * s - 1)
    return 1 - np.abs(taps - (s - 1)) / s, (s - 1) // 2


def tent_matrix(shape: tuple[int, ...], s: int):
    """Cᵀ of the transposed convolution with the (outer product) tent kernel."""
    kernel, pad = tent(s)
    weight = kernel
    for _ in shape[1:]:
        weight = np.multiply.outer(weight, kernel)
    spec = tm.ConvSpec.from_transposed(shape, 1, 1, len(kernel), stride=s, padding=pad)
    return tm.transposed_conv_matrix(spec, weight[None, None]), kernel, pad


def differing_rows(a, b) -> list[int]:
    diff = np.abs((a - b).toarray()).max(axis=1)
    return [int(i) for i in np.flatnonzero(diff > 1e-12)]


def build() -> Derivation:
    """The derivation: nearest, bed of nails, bilinear and max-unpooling as matrices."""
    import torch
    import torch.nn.functional as F

    doc = Derivation("Fixed upsamplers as matrices beside transposed convolutions")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3))
    xt = torch.tensor(x)[None, None]

    doc.step("Nearest neighbour: a transposed convolution with a kernel of ones, $k = s$")
    U = tm.nearest_upsample_matrix((2, 3), 2)
    spec = tm.ConvSpec.from_transposed((2, 3), 1, 1, 2, stride=2)
    ones = tm.transposed_conv_matrix(spec, np.ones((1, 1, 2, 2)))
    doc.say(r"Nearest-neighbour upsampling of a $2 \times 3$ input by $s = 2$:")
    doc.matrix("U", U, max_rows=24)
    error = max_error(U @ x.reshape(-1), F.interpolate(xt, scale_factor=2).reshape(-1))
    doc.check(
        error == 0.0,
        r"$U\mathbf{x}$ equals torch's `interpolate(x, scale_factor=2, mode='nearest')`.",
        difference(error),
    )
    doc.check(
        max_error(U, ones) == 0.0,
        r"$U$ equals $C^{\mathsf T}$ of `ConvTranspose2d(1, 1, 2, stride=2)` with the kernel "
        "of ones.",
    )

    doc.step("Bed of nails: a one-hot kernel, which is zero insertion and padding")
    nails = tm.transposed_conv_matrix(spec, np.array([[[[1.0, 0.0], [0.0, 0.0]]]]))
    Z = tm.zero_insertion_matrix((2, 3), 2)
    P = tm.pad_matrix((3, 5), [(0, 1), (0, 1)])
    doc.say(
        r"Bed of nails copies each input to the top-left corner of its $s \times s$ block and "
        "fills the rest with zeros. That is the transposed convolution with the one-hot "
        r"$2 \times 2$ kernel ($w_{0,0} = 1$, zeros elsewhere), and also just $Z$ followed "
        r"by $P$ with $s - 1$ zeros after: the first two steps of "
        r"$C^{\mathsf T} = D\,P\,Z$ with $D$ the identity."
    )
    one_hot = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]], dtype=torch.float64)
    error = max_error(
        (P @ Z) @ x.reshape(-1), F.conv_transpose2d(xt, one_hot, stride=2).reshape(-1)
    )
    doc.check(
        max_error(nails, P @ Z) == 0.0 and error == 0.0,
        r"$C^{\mathsf T}$ of the one-hot kernel is $P\,Z$, and $P\,Z\,\mathbf{x}$ equals "
        "torch's `conv_transpose2d` with that kernel.",
    )

    doc.step("Bilinear: the tent kernel, except at the border")
    n, s = 4, 2
    B = tm.bilinear_upsample_matrix(n, s)
    T, kernel, pad = tent_matrix((n,), s)
    taps = ", ".join(f"{v:g}" for v in kernel)
    doc.say(
        rf"Linear interpolation by $s = {s}$ (`align_corners=False`) reads output $j$ from "
        r"the source coordinate $u = (j + \frac{1}{2})/s - \frac{1}{2}$ and mixes the two "
        "nearest inputs. Away from the border this is the transposed convolution with stride "
        rf"{s}, padding {pad} and the tent kernel $({taps})$. Side by side for $n = {n}$: "
        "$B$ from `bilinear_upsample_matrix`, $T$ from the tent kernel."
    )
    doc.matrices([("B", B), ("T", T)], zero="0")
    rows = differing_rows(B, T)
    xs = rng.standard_normal(n)
    xs_t = torch.tensor(xs)[None, None]
    torch_B = F.interpolate(xs_t, scale_factor=s, mode="linear", align_corners=False)
    torch_T = F.conv_transpose1d(xs_t, torch.tensor(kernel)[None, None], stride=s, padding=pad)
    error = max(
        max_error(B @ xs, torch_B.reshape(-1)),
        max_error(T @ xs, torch_T.reshape(-1)),
    )
    doc.check(
        error < 1e-12,
        r"$B\mathbf{x}$ equals torch's `interpolate(mode='linear')`, and $T\mathbf{x}$ equals "
        "torch's `conv_transpose1d` with the tent kernel.",
        difference(error),
    )
    doc.check(rows == [0, n * s - 1], f"$B$ and $T$ differ in rows 0 and {n * s - 1} only.")
    sums = T.sum(axis=1)
    doc.say(
        r"Why: for row 0 the source coordinate is $u = -\frac{1}{4}$, left of the first "
        "input. torch clamps $u$ to 0 and copies the edge pixel (weight 1), while the tent "
        r"there reaches into the zero padding and keeps only $\frac{3}{4}$ of the weight. The "
        "last row mirrors this. So $T$ darkens the border; the rows of $B$ always sum to 1."
    )
    doc.check(
        np.allclose(B.sum(axis=1), 1)
        and np.allclose(sums[[0, -1]], 0.75)
        and np.allclose(sums[1:-1], 1),
        r"Every row of $B$ sums to 1; the rows of $T$ sum to 1 except the first and the last "
        r"($\frac{3}{4}$).",
    )
    table = []
    predicted_ok = True
    for scale in (2, 3, 4, 5):
        length = 5
        Bs = tm.bilinear_upsample_matrix(length, scale)
        Ts, _, _ = tent_matrix((length,), scale)
        found = differing_rows(Bs, Ts)
        out = length * scale
        half = scale // 2
        predicted = [*range(half), *range(out - half, out)]
        source = (np.arange(out) + 0.5) / scale - 0.5
        outside = [int(j) for j in np.flatnonzero((source < 0) | (source > length - 1))]
        predicted_ok &= found == predicted == outside
        kernel_s, pad_s = tent(scale)
        table.append((scale, len(kernel_s), pad_s, out, ", ".join(map(str, found))))
    doc.table(
        ("$s$", "tent taps $k$", "padding", "output length", r"rows where $B \ne T$"),
        table,
        "Length-5 input: the rows where interpolation and the tent convolution disagree.",
    )
    doc.check(
        predicted_ok,
        r"The differing rows are exactly the first $\lfloor s/2 \rfloor$ and the last "
        r"$\lfloor s/2 \rfloor$: those whose source coordinate $u$ lies outside $[0, n - 1]$.",
    )
    n2 = (4, 5)
    B2 = tm.bilinear_upsample_matrix(n2, 2)
    T2, kernel, pad = tent_matrix(n2, 2)
    x2 = rng.standard_normal(n2)
    x2t = torch.tensor(x2)[None, None]
    weight2 = torch.tensor(np.multiply.outer(kernel, kernel))[None, None]
    error = max(
        max_error(
            B2 @ x2.reshape(-1), F.interpolate(x2t, scale_factor=2, mode="bilinear").reshape(-1)
        ),
        max_error(
            T2 @ x2.reshape(-1),
            F.conv_transpose2d(x2t, weight2, stride=2, padding=pad).reshape(-1),
        ),
    )
    ring = np.ones((8, 10), dtype=bool)
    ring[1:-1, 1:-1] = False
    found = np.zeros(80, dtype=bool)
    found[differing_rows(B2, T2)] = True
    doc.check(
        error < 1e-12 and (found.reshape(8, 10) == ring).all(),
        r"In two dimensions ($4 \times 5 \to 8 \times 10$, both against torch) the two "
        f"differ exactly on the one-pixel border ring, {int(ring.sum())} of 80 output pixels.",
        difference(error, "largest difference to torch"),
    )
    Bac = tm.bilinear_upsample_matrix(n, s, align_corners=True)
    dense = Bac.toarray()
    shifted_equal = all(
        np.allclose(dense[j + s, 1:], dense[j, :-1]) for j in range(1, n * s - s - 1)
    )
    error = max_error(
        Bac @ xs, F.interpolate(xs_t, scale_factor=s, mode="linear", align_corners=True).reshape(-1)
    )
    doc.say(
        "With `align_corners=True` the source coordinate is $u = j (n - 1)/(ns - 1)$, whose "
        "fractional part changes from block to block: the rows are not shifted copies of one "
        "pattern, so no transposed convolution gives this matrix."
    )
    doc.matrix(r"B_{\mathrm{ac}}", Bac, zero="0")
    doc.check(
        error < 1e-12 and not shifted_equal,
        r"$B_{\mathrm{ac}}$ equals torch's `interpolate(..., align_corners=True)`, and its row "
        "$j + s$ is not row $j$ shifted by one input: it is not shift-invariant.",
        difference(error),
    )

    doc.step("Max-unpooling: the transpose of max-pooling's selection matrix")
    xp = np.array(
        [[1.0, 5.0, 2.0, 0.0], [3.0, 2.0, 1.0, 4.0], [0.0, 1.0, 6.0, 2.0], [7.0, 2.0, 3.0, 1.0]]
    )
    xpt = torch.tensor(xp)[None, None].requires_grad_(True)
    pooled, indices = F.max_pool2d(xpt, 2, return_indices=True)
    M = tm.max_unpool_matrix(indices[0].numpy(), (4, 4))
    S = M.T
    doc.say(
        "Max-pooling picks one entry per window, so on a given input $\\mathbf{x}$ it is a "
        r"selection matrix $S$ (one 1 per row): $S\mathbf{x} = \operatorname{maxpool}("
        r"\mathbf{x})$. Max-unpooling puts each pooled value back where it came from, which "
        r"is $S^{\mathsf T}$; and since $\operatorname{maxpool}(\mathbf{x}) = S\mathbf{x}$ "
        r"locally, $S^{\mathsf T}$ is also max-pooling's gradient. For the $4 \times 4$ input "
        r"with rows $(1, 5, 2, 0)$, $(3, 2, 1, 4)$, $(0, 1, 6, 2)$, $(7, 2, 3, 1)$ and "
        r"$2 \times 2$ windows:"
    )
    doc.matrix("S", S)
    y = rng.standard_normal(4)
    unpooled = F.max_unpool2d(torch.tensor(y).reshape(1, 1, 2, 2), indices, 2)
    (pooled.reshape(-1) @ torch.tensor(y)).backward()
    doc.check(
        max_error(S @ xp.reshape(-1), pooled.detach().reshape(-1)) == 0.0
        and (S @ xp.reshape(-1)).tolist() == [5.0, 4.0, 7.0, 6.0],
        r"$S\mathbf{x}$ equals torch's `max_pool2d(x, 2)`: $(5, 4, 7, 6)$.",
    )
    doc.check(
        max_error(M @ y, unpooled.reshape(-1)) == 0.0,
        r"$M = S^{\mathsf T}$ = `max_unpool_matrix(indices)` applied to any $\mathbf{y}$ "
        "equals torch's `max_unpool2d`.",
    )
    doc.check(
        max_error(M @ y, xpt.grad.reshape(-1)) == 0.0,
        r"$M\mathbf{y}$ equals the gradient of "
        r"$\langle \operatorname{maxpool}(\mathbf{x}), \mathbf{y} \rangle$ with respect to "
        r"$\mathbf{x}$ (torch's autograd).",
    )
    corner = np.zeros((4, 4))
    corner[::2, ::2] = 10.0
    _, corner_idx = F.max_pool2d(torch.tensor(corner)[None, None], 2, return_indices=True)
    M_corner = tm.max_unpool_matrix(corner_idx[0].numpy(), (4, 4))
    doc.say(
        "Beside a transposed convolution: when every window's maximum sits in its top-left "
        "corner, $M$ is exactly the bed of nails. In general the nails move with the data, so "
        "$M$ is a different matrix for every input: max-unpooling is not one fixed linear map "
        "of the pooled values, while a transposed convolution is."
    )
    nails_22 = tm.transposed_conv_matrix(
        tm.ConvSpec.from_transposed((2, 2), 1, 1, 2, stride=2), np.array([[[[1.0, 0], [0, 0]]]])
    )
    doc.check(
        max_error(M_corner, nails_22) == 0.0 and max_error(M, nails_22) > 0,
        r"With the maxima in the top-left corners $M$ equals the bed-of-nails $C^{\mathsf T}$; "
        "for the input above it does not.",
    )
    return doc


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
