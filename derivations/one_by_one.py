"""1×1 convolution vs transposed convolution for changing the channel count.

Question (from a U-Net lecture): why use a transposed convolution to reduce
the number of channels, when a 1×1 convolution does that? Answer with
matrices: a 1×1 convolution is W ⊗ I; a stride-1 transposed convolution is a
convolution too (with the transposed or flipped kernel), so at stride 1 the two
are the same family; only a strided transposed convolution adds pixels. Then
the U-Net decoder step, shape by shape and matrix by matrix.

Run: ``python derivations/one_by_one.py [--latex FILE]``.
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


def flip_swap(weight: np.ndarray) -> np.ndarray:
    """``(a, b, kh, kw)`` -> ``(b, a, kh, kw)`` with the kernel flipped in space."""
    return np.flip(weight.swapaxes(0, 1), axis=(2, 3)).copy()


def shape_text(shape) -> str:
    """A shape as maths, ``$16 \\times 8 \\times 8$``."""
    return "$" + r" \times ".join(str(int(n)) for n in shape) + "$"


def build() -> Derivation:
    """The derivation: W ⊗ I, stride-1 transposed convolutions, the U-Net decoder step."""
    import torch
    import torch.nn.functional as F

    doc = Derivation(r"$1 \times 1$ convolution vs transposed convolution for the channel count")
    rng = np.random.default_rng(0)

    doc.step(r"A $1 \times 1$ convolution is $W \otimes I$")
    spec = tm.ConvSpec((2, 2), 1, in_channels=3, out_channels=2)
    symbols = tm.weight_symbols(spec)[:, :, 0, 0]
    # The 1x1 kernel's spatial index is always (0, 0): drop it from the names.
    short = {
        symbols[o, c]: sympy.Symbol(f"w_{{{o},{c}}}", real=True) for o in range(2) for c in range(3)
    }
    C = tm.symbolic_conv_matrix(spec).xreplace(short)
    W = sympy.Matrix(symbols.tolist()).xreplace(short)
    doc.say(
        r"A $1 \times 1$ convolution mixes the channels of each pixel with one matrix $W$ "
        r"(out $\times$ in) and never mixes pixels. With rows and columns ordered (channel, "
        r"pixel), its matrix is the Kronecker product $W \otimes I$, $I$ the identity on the "
        r"$H \cdot W$ pixels. For `Conv2d(3, 2, 1)` on $2 \times 2$:"
    )
    doc.matrix("W", W)
    doc.matrix("C", C)
    doc.check(
        sympy_check(
            sympy.Matrix(C),
            sympy.kronecker_product(W, sympy.eye(4)),
            says=r"$C = W \otimes I_4$ entry by entry",
        )
    )
    weight = rng.standard_normal((3, 6, 1, 1))
    x = rng.standard_normal((6, 4, 4))
    C_big = tm.conv_matrix(tm.ConvSpec((4, 4), 1, in_channels=6, out_channels=3), weight)
    kron = scipy.sparse.kron(weight[:, :, 0, 0], scipy.sparse.eye(16))
    expected = F.conv2d(torch.tensor(x)[None], torch.tensor(weight)).numpy()
    error = max(max_error(C_big, kron), max_error(C_big @ x.reshape(-1), expected.reshape(-1)))
    doc.check(
        error < 1e-12,
        r"For `Conv2d(6, 3, 1)` on $4 \times 4$, $C = W \otimes I_{16}$, and $C\mathbf{x}$ "
        "equals torch's `conv2d`.",
        difference(error),
    )

    doc.step("At stride 1 a transposed convolution is a convolution")
    doc.say(
        r"Transposing $W \otimes I$ gives $W^{\mathsf T} \otimes I$: the stride-1, "
        r"$1 \times 1$ transposed convolution is the $1 \times 1$ convolution with the "
        "transposed channel matrix. More generally, a stride-1 transposed convolution is the "
        "convolution with the kernel flipped and its channel axes swapped (the zero-insertion "
        "section with $s = 1$, where $Z = I$). Neither can add pixels."
    )
    w_t = rng.standard_normal((6, 3, 1, 1))  # ConvTranspose2d(6, 3, 1).weight
    xt = torch.tensor(rng.standard_normal((1, 6, 5, 5)))
    error = max_error(
        F.conv_transpose2d(xt, torch.tensor(w_t)).numpy(),
        F.conv2d(xt, torch.tensor(w_t).transpose(0, 1)).numpy(),
    )
    doc.check(
        error < 1e-12,
        "In torch, `ConvTranspose2d(6, 3, 1)` computes the same as `Conv2d(6, 3, 1)` with "
        r"weight $W^{\mathsf T}$.",
        difference(error),
    )
    w_3 = rng.standard_normal((6, 3, 3, 3))  # ConvTranspose2d(6, 3, 3, padding=1).weight
    error = max_error(
        F.conv_transpose2d(xt, torch.tensor(w_3), padding=1).numpy(),
        F.conv2d(xt, torch.tensor(flip_swap(w_3)), padding=1).numpy(),
    )
    doc.check(
        error < 1e-12,
        "In torch, `ConvTranspose2d(6, 3, 3, padding=1)` equals `Conv2d(6, 3, 3, padding=1)` "
        "with the kernel flipped and its channel axes swapped.",
        difference(error),
    )
    doc.say(
        "So the lecture slide's step that keeps $H$ and $W$ and only reduces the channels "
        "could have been drawn as a convolution: at stride 1 the transposed layer is one. "
        "What only a strided transposed convolution can do is make more pixels than it "
        "receives, with learned weights:"
    )

    x16 = torch.tensor(rng.standard_normal((1, 16, 8, 8)))
    layers = [
        ("Conv2d(16, 8, 1)", torch.nn.Conv2d(16, 8, 1, bias=False)),
        ("Conv2d(16, 8, 3, padding=1)", torch.nn.Conv2d(16, 8, 3, padding=1, bias=False)),
        ("ConvTranspose2d(16, 8, 1)", torch.nn.ConvTranspose2d(16, 8, 1, bias=False)),
        (
            "ConvTranspose2d(16, 8, 3, padding=1)",
            torch.nn.ConvTranspose2d(16, 8, 3, padding=1, bias=False),
        ),
        ("ConvTranspose2d(16, 8, 2, stride=2)", torch.nn.ConvTranspose2d(16, 8, 2, 2, bias=False)),
    ]
    rows = []
    grows = []
    worst = 0.0
    for name, layer in layers:
        layer = layer.double()
        with torch.no_grad():
            out = layer(x16)
        weight = layer.weight.detach().numpy()
        if isinstance(layer, torch.nn.ConvTranspose2d):
            spec_l = tm.ConvSpec.from_transposed(
                (8, 8), 16, 8, layer.kernel_size, layer.stride, layer.padding
            )
            M = tm.transposed_conv_matrix(spec_l, weight)
        else:
            spec_l = tm.ConvSpec((8, 8), layer.kernel_size, layer.stride, layer.padding, 1, 16, 8)
            M = tm.conv_matrix(spec_l, weight)
        worst = max(worst, max_error(M @ x16.numpy().reshape(-1), out.numpy().reshape(-1)))
        grows.append(out.shape[2] * out.shape[3] > 64)
        rows.append(
            (f"`{name}`", shape_text(x16.shape[1:]), shape_text(out.shape[1:]), shape_text(M.shape))
        )
    doc.table(
        ("layer", "input", "output", "matrix"),
        rows,
        r"Each layer on a $16 \times 8 \times 8$ input, run by torch; its matrix applied to "
        "the input agrees.",
    )
    doc.check(
        worst < 1e-12,
        "For each layer in the table, its matrix times the input equals torch's output.",
        difference(worst),
    )
    doc.check(
        grows == [False, False, False, False, True],
        r"Of these layers only the strided transposed convolution increases $H \cdot W$; all "
        "of them can set the channel count freely.",
    )

    doc.step("The U-Net decoder step")
    doc.say(
        r"In U-Net each decoder step is an up-convolution ($2 \times 2$, stride 2: $H$ and "
        r"$W$ double, channels halve), concatenation with the encoder's skip features, then "
        r"two $3 \times 3$ convolutions. It is the two $3 \times 3$ convolutions after the "
        "concatenation that bring the channel count back down; the up-convolution's job is "
        "the resolution. Below with `padding=1` (the original paper used unpadded "
        "convolutions and cropped the skip) and without the ReLUs, so that the whole step is "
        "one matrix."
    )
    torch.manual_seed(0)
    up = torch.nn.ConvTranspose2d(16, 8, 2, stride=2, bias=False).double()
    conv1 = torch.nn.Conv2d(16, 8, 3, padding=1, bias=False).double()
    conv2 = torch.nn.Conv2d(8, 8, 3, padding=1, bias=False).double()
    bottom = torch.tensor(rng.standard_normal((1, 16, 4, 4)))
    skip = torch.tensor(rng.standard_normal((1, 8, 8, 8)))
    with torch.no_grad():
        u = up(bottom)
        cat = torch.cat([u, skip], dim=1)
        h1 = conv1(cat)
        h2 = conv2(h1)
    U = tm.transposed_conv_matrix(
        tm.ConvSpec.from_transposed((4, 4), 16, 8, 2, stride=2), up.weight.detach().numpy()
    )
    # Concatenation is a block matrix: [U 0; 0 I] acting on (bottom, skip).
    J = scipy.sparse.block_diag([U, scipy.sparse.eye(8 * 64)]).tocsr()
    C1 = tm.conv_matrix(tm.ConvSpec((8, 8), 3, 1, 1, 1, 16, 8), conv1.weight.detach().numpy())
    C2 = tm.conv_matrix(tm.ConvSpec((8, 8), 3, 1, 1, 1, 8, 8), conv2.weight.detach().numpy())
    steps = [("input (bottom, skip)", r"$16 \times 4 \times 4$, $8 \times 8 \times 8$", "", "")]
    steps += [
        (label, shape_text(tensor.shape[1:]), shape_text(matrix.shape), matrix.nnz)
        for label, tensor, matrix in (
            (r"up-convolution $2 \times 2$, $s = 2$", u, U),
            (r"concatenate the skip: $J = \operatorname{diag}(U, I)$", cat, J),
            (r"convolution $3 \times 3$, $16 \to 8$", h1, C1),
            (r"convolution $3 \times 3$, $8 \to 8$", h2, C2),
        )
    ]
    doc.table(("step", "shape after", "matrix", "stored entries"), steps, "One decoder step.")
    M = (C2 @ C1 @ J).tocsr()
    stacked = np.concatenate([bottom.numpy().reshape(-1), skip.numpy().reshape(-1)])
    error = max_error(M @ stacked, h2.numpy().reshape(-1))
    doc.check(
        error < 1e-11,
        r"The product $C_2 C_1 J$, with $J = \operatorname{diag}(U, I)$ the concatenation "
        rf"(${shape_text(M.shape)[1:-1]}$ in all), applied to the stacked "
        "(bottom, skip) vector equals torch's decoder step.",
        difference(error),
    )
    doc.check(
        tuple(u.shape[1:]) == (8, 8, 8) and tuple(h2.shape[1:]) == (8, 8, 8),
        r"The up-convolution doubles $H$ and $W$ ($4 \to 8$) and halves the channels "
        r"($16 \to 8$); the concatenation doubles the channels again, and the $3 \times 3$ "
        "convolutions halve them.",
    )
    return doc


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
