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

import _common
import numpy as np
import scipy.sparse
import sympy

import transpose_matrix as tm


def flip_swap(weight: np.ndarray) -> np.ndarray:
    """``(a, b, kh, kw)`` -> ``(b, a, kh, kw)`` with the kernel flipped in space."""
    return np.flip(weight.swapaxes(0, 1), axis=(2, 3)).copy()


def shape_text(shape) -> str:
    return "×".join(str(int(n)) for n in shape)


def main(argv: list[str] | None = None) -> int:
    import torch
    import torch.nn.functional as F

    doc = _common.Derivation(
        "one_by_one", "1×1 convolution vs transposed convolution for the channel count", argv
    )
    rng = np.random.default_rng(0)

    doc.heading("A 1×1 convolution is W ⊗ I")
    spec = tm.ConvSpec((2, 2), 1, in_channels=3, out_channels=2)
    symbols = tm.weight_symbols(spec)[:, :, 0, 0]
    # The 1×1 kernel's spatial index is always (0, 0): drop it from the names.
    short = {
        symbols[o, c]: sympy.Symbol(f"w_{{{o},{c}}}", real=True) for o in range(2) for c in range(3)
    }
    C = tm.symbolic_conv_matrix(spec).xreplace(short)
    W = sympy.Matrix(symbols.tolist()).xreplace(short)
    doc.say(
        "A 1×1 convolution mixes the channels of each pixel with one matrix W (out × in) and "
        "never mixes pixels. With rows and columns ordered (channel, pixel), its matrix is "
        "the Kronecker product W ⊗ I, I the identity on the H·W pixels. For Conv2d(3, 2, 1) "
        "on 2×2:"
    )
    doc.matrix("W", "W", W)
    doc.matrix("C", "C", C)
    doc.check(
        (sympy.Matrix(C) - sympy.kronecker_product(W, sympy.eye(4))).is_zero_matrix,
        "C = W ⊗ I4 entry by entry, for Conv2d(3, 2, 1) on 2×2.",
        tex=r"$C = W \otimes I_4$ entry by entry, for Conv2d(3, 2, 1) on $2\times 2$.",
    )
    weight = rng.standard_normal((3, 6, 1, 1))
    x = rng.standard_normal((6, 4, 4))
    C_big = tm.conv_matrix(tm.ConvSpec((4, 4), 1, in_channels=6, out_channels=3), weight)
    kron = scipy.sparse.kron(weight[:, :, 0, 0], scipy.sparse.eye(16))
    expected = F.conv2d(torch.tensor(x)[None], torch.tensor(weight)).numpy()
    error = max(
        _common.max_error(C_big, kron),
        _common.max_error(C_big @ x.reshape(-1), expected.reshape(-1)),
    )
    doc.check(
        error < 1e-12,
        "For Conv2d(6, 3, 1) on 4×4: C = W ⊗ I16, and C x equals torch's conv2d.",
        f"largest difference {error:.1e}",
    )

    doc.heading("At stride 1 a transposed convolution is a convolution")
    doc.say(
        "Transposing W ⊗ I gives Wᵀ ⊗ I: the stride-1, 1×1 transposed convolution is the "
        "1×1 convolution with the transposed channel matrix. More generally, a stride-1 "
        "transposed convolution is the convolution with the kernel flipped and its channel "
        "axes swapped (the zero-insertion section with s = 1: Z = I). Neither can add pixels."
    )
    w_t = rng.standard_normal((6, 3, 1, 1))  # ConvTranspose2d(6, 3, 1).weight
    xt = torch.tensor(rng.standard_normal((1, 6, 5, 5)))
    error = _common.max_error(
        F.conv_transpose2d(xt, torch.tensor(w_t)).numpy(),
        F.conv2d(xt, torch.tensor(w_t).transpose(0, 1)).numpy(),
    )
    doc.check(
        error < 1e-12,
        "torch: ConvTranspose2d(6, 3, 1) computes the same as Conv2d(6, 3, 1) with weight Wᵀ.",
        f"largest difference {error:.1e}",
    )
    w_3 = rng.standard_normal((6, 3, 3, 3))  # ConvTranspose2d(6, 3, 3, padding=1).weight
    error = _common.max_error(
        F.conv_transpose2d(xt, torch.tensor(w_3), padding=1).numpy(),
        F.conv2d(xt, torch.tensor(flip_swap(w_3)), padding=1).numpy(),
    )
    doc.check(
        error < 1e-12,
        "torch: ConvTranspose2d(6, 3, 3, padding=1) equals Conv2d(6, 3, 3, padding=1) with "
        "the kernel flipped and its channel axes swapped.",
        f"largest difference {error:.1e}",
    )
    doc.say(
        "So the lecture slide's step that keeps H and W and only reduces the channels could "
        "have been drawn as a convolution: at stride 1 the transposed layer is one. What "
        "only a strided transposed convolution can do is make more pixels than it receives, "
        "with learned weights:"
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
        worst = max(worst, _common.max_error(M @ x16.numpy().reshape(-1), out.numpy().reshape(-1)))
        grows.append(out.shape[2] * out.shape[3] > 64)
        rows.append(
            (name, shape_text(x16.shape[1:]), shape_text(out.shape[1:]), shape_text(M.shape))
        )
    doc.table(
        ("layer", "input", "output", "matrix"),
        rows,
        "Each layer on a 16×8×8 input, run by torch; its matrix applied to the input agrees.",
    )
    doc.check(
        worst < 1e-12,
        "For each layer in the table, its matrix times the input equals torch's output.",
        f"largest difference {worst:.1e}",
    )
    doc.check(
        grows == [False, False, False, False, True],
        "Of these layers only the strided transposed convolution increases H·W; all of them "
        "can set the channel count freely.",
    )

    doc.heading("The U-Net decoder step")
    doc.say(
        "In U-Net each decoder step is: up-convolution (2×2, stride 2: H and W double, "
        "channels halve), concatenation with the encoder's skip features, then two 3×3 "
        "convolutions. It is the two 3×3 convolutions after the concatenation that bring the "
        "channel count back down; the up-convolution's job is the resolution. Below with "
        "'same' padding (the original paper used unpadded convolutions and cropped the skip) "
        "and without the ReLUs, so that the whole step is one matrix."
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
    steps = [
        ("input (bottom, skip)", "16×4×4, 8×8×8", "", ""),
        ("up-conv 2×2, s = 2", shape_text(u.shape[1:]), shape_text(U.shape), U.nnz),
        ("concatenate skip", shape_text(cat.shape[1:]), shape_text(J.shape), J.nnz),
        ("conv 3×3, 16 → 8", shape_text(h1.shape[1:]), shape_text(C1.shape), C1.nnz),
        ("conv 3×3, 8 → 8", shape_text(h2.shape[1:]), shape_text(C2.shape), C2.nnz),
    ]
    doc.table(("step", "shape after", "matrix", "stored entries"), steps, "One decoder step.")
    M = (C2 @ C1 @ J).tocsr()
    stacked = np.concatenate([bottom.numpy().reshape(-1), skip.numpy().reshape(-1)])
    error = _common.max_error(M @ stacked, h2.numpy().reshape(-1))
    doc.check(
        error < 1e-11,
        f"The product C2·C1·[U 0; 0 I] ({shape_text(M.shape)}) applied to the stacked "
        "(bottom, skip) vector equals torch's decoder step.",
        f"largest difference {error:.1e}",
    )
    doc.check(
        tuple(u.shape[1:]) == (8, 8, 8) and tuple(h2.shape[1:]) == (8, 8, 8),
        "The up-convolution doubles H and W (4 → 8) and halves the channels (16 → 8); the "
        "concatenation doubles the channels again, and the 3×3 convolutions halve them.",
    )
    return doc.close()


if __name__ == "__main__":
    _common.run(main)
