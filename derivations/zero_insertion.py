"""Zero insertion: a transposed convolution is Cᵀ = D·P·Z.

Question: "Transposed convolution is basically regular convolution with zeros
inserted between each input" — exactly which zeros, how much padding, and
which kernel? Answer as a sparse identity, checked symbolically on a small
case and numerically (against torch's conv_transpose) on a grid of layers.

Run: ``python derivations/zero_insertion.py [--latex FILE]``.
"""

from __future__ import annotations

import math

import _common
import numpy as np
import scipy.sparse
import sympy

import transpose_matrix as tm


def flip_swap(weight: np.ndarray, groups: int) -> np.ndarray:
    """Forward weight ``(Co, Ci/g, *k)`` -> ``(Ci, Co/g, *k)``, kernel flipped in space."""
    co, cig = weight.shape[:2]
    kernel = weight.shape[2:]
    grouped = weight.reshape(groups, co // groups, cig, *kernel).swapaxes(1, 2)
    swapped = grouped.reshape(groups * cig, co // groups, *kernel)
    return np.flip(swapped, axis=tuple(range(2, 2 + len(kernel)))).copy()


def recipe(shape, cin, cout, kernel, stride, padding, extra, groups, dilation):
    """The layer ``ConvTransposeNd(cin, cout, ...)`` as (Cᵀ, D, P, Z, spec)."""
    spec = tm.ConvSpec.from_transposed(
        shape, cin, cout, kernel, stride, padding, extra, groups, dilation
    )
    ndim = spec.ndim
    pads_in = np.broadcast_to(padding, ndim).tolist()
    extras = np.broadcast_to(extra, ndim).tolist()
    pads = [
        (d * (k - 1) - p, d * (k - 1) - p + op)
        for k, d, p, op in zip(spec.kernel_size, spec.dilation, pads_in, extras, strict=True)
    ]
    shape = spec.output_shape  # the transposed layer's input
    inserted = tuple((n - 1) * s + 1 for n, s in zip(shape, spec.stride, strict=True))
    padded = tuple(n + b + a for n, (b, a) in zip(inserted, pads, strict=True))
    Z = tm.zero_insertion_matrix(shape, spec.stride)
    P = tm.pad_matrix(inserted, pads)
    weight = np.random.default_rng(0).standard_normal(spec.weight_shape)
    d_spec = tm.ConvSpec(padded, spec.kernel_size, 1, 0, spec.dilation, cin, cout, groups)
    D = tm.conv_matrix(d_spec, flip_swap(weight, groups))
    Ct = tm.transposed_conv_matrix(spec, weight)
    return Ct, D, P, Z, spec, weight


def main(argv: list[str] | None = None) -> int:
    import torch
    import torch.nn.functional as F

    doc = _common.Derivation(
        "zero_insertion", "Zero insertion: a transposed convolution is Cᵀ = D·P·Z", argv
    )
    doc.say(
        "A convolution with stride s reads input position j·s − p + t·d for output j and "
        "kernel tap t. Its transpose Cᵀ sends input y[j] of the transposed layer to output "
        "m = j·s − p + t·d with weight w[t]. Spreading the y[j] s apart (s − 1 zeros in "
        "between), padding, and sliding the flipped kernel over the result with stride 1 "
        "gives the same sums. As matrices: Cᵀ = D·P·Z, where Z inserts the zeros, P pads "
        "d(k − 1) − p on each side plus output_padding after, and D is an ordinary stride-1 "
        "convolution whose kernel is the original one flipped in space with its two channel "
        "axes swapped."
    )

    doc.heading("One dimension, with symbols")
    doc.say(
        "Take ConvTranspose1d(1, 1, kernel_size=3, stride=2, padding=1, output_padding=1) "
        "on an input of length 3. Its output has length (3 − 1)·2 − 2 + 3 + 1 = 6."
    )
    spec = tm.ConvSpec.from_transposed(3, 1, 1, 3, stride=2, padding=1, output_padding=1)
    Ct = tm.symbolic_conv_matrix(spec).T
    w0, w1, w2 = tm.weight_symbols(spec)[0, 0]
    Z = tm.zero_insertion_matrix(3, 2)
    P = tm.pad_matrix(5, [(1, 2)])
    # D slides the flipped kernel (w2, w1, w0): swap the symbols of the plain one.
    D = tm.symbolic_conv_matrix(tm.ConvSpec(8, 3)).xreplace({w0: w2, w2: w0})
    doc.matrices([("Z", "Z", Z), ("P", "P", P)], zero="0")
    doc.matrix("D (stride 1, flipped kernel)", "D", D)
    product = D * sympy.Matrix(P.toarray().astype(int)) * sympy.Matrix(Z.toarray().astype(int))
    doc.matrices([("D P Z", r"D\,P\,Z", product), ("C^T", r"C^{\mathsf T}", Ct)])
    doc.check(
        (sympy.Matrix(product) - sympy.Matrix(Ct)).is_zero_matrix,
        "D·P·Z equals Cᵀ entry by entry, as polynomials in w0, w1, w2.",
        tex=r"$D\,P\,Z = C^{\mathsf T}$ entry by entry, as polynomials in "
        r"$w_{0}, w_{1}, w_{2}$.",
    )
    doc.check(
        Z.shape == (5, 3) and P.shape == (8, 5) and D.shape == (6, 8),
        "The sizes chain as 3 → 5 (zeros inserted) → 8 (padded 1 before, 1 + 1 after) → 6.",
    )

    doc.heading("Every kind of layer, against torch")
    doc.say(
        "The same recipe, with the padding computed from the textbook rule and D built by "
        "the ordinary conv_matrix, reproduces conv_transpose for strides, dilations, groups, "
        "asymmetric output_padding and 1-, 2- and 3-D inputs. When p > d(k − 1) the "
        "'padding' is negative and P crops instead."
    )
    cases = [
        # (input shape, in, out, kernel, stride, padding, output_padding, groups, dilation)
        ((3,), 1, 1, 3, 2, 1, 1, 1, 1),
        ((5,), 2, 3, 4, 3, 0, 2, 1, 1),
        ((4,), 1, 1, 3, 2, 3, 0, 1, 1),
        ((4, 3), 2, 4, (3, 2), (2, 1), (1, 0), (1, 0), 2, 1),
        ((3, 3), 3, 2, 2, 2, 0, 0, 1, (2, 1)),
        ((2, 3, 2), 2, 1, 3, 2, 1, 1, 1, 1),
    ]
    rows = []
    conv_t = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)
    worst_matrix = worst_torch = 0.0
    for case in cases:
        shape, cin, cout, kernel, stride, padding, extra, groups, dilation = case
        Ct_n, D_n, P_n, Z_n, spec_n, weight = recipe(*case)
        PZ = scipy.sparse.kron(scipy.sparse.eye(cin), P_n @ Z_n)
        product_n = (D_n @ PZ).tocsr()
        y = np.random.default_rng(1).standard_normal((cin, *shape))
        expected = conv_t[len(shape) - 1](
            torch.tensor(y)[None],
            torch.tensor(weight),
            stride=stride,
            padding=padding,
            output_padding=extra,
            groups=groups,
            dilation=dilation,
        )
        worst_matrix = max(worst_matrix, _common.max_error(product_n, Ct_n))
        worst_torch = max(
            worst_torch,
            _common.max_error(product_n @ y.reshape(-1), expected.numpy().reshape(-1)),
        )
        rows.append(
            (
                "×".join(map(str, shape)),
                f"{cin}→{cout}",
                "×".join(map(str, spec_n.kernel_size)),
                "×".join(map(str, spec_n.stride)),
                str(padding),
                str(extra),
                groups,
                "×".join(map(str, spec_n.dilation)),
                "×".join(map(str, spec_n.input_shape)),
                f"{D_n.nnz}/{Ct_n.nnz}",
            )
        )
    doc.table(
        (
            "input",
            "channels",
            "k",
            "s",
            "p",
            "op",
            "groups",
            "d",
            "output",
            "nnz D / nnz Cᵀ",
        ),
        rows,
        "Layers checked (op = output_padding): Cᵀ = D·P·Z and torch's conv_transpose agree.",
    )
    doc.check(
        worst_matrix < 1e-12,
        "For every layer in the table, D·P·Z equals Cᵀ.",
        f"largest entry difference {worst_matrix:.1e}",
    )
    doc.check(
        worst_torch < 1e-10,
        "For every layer in the table, D·P·Z·y equals torch's conv_transpose of y.",
        f"largest difference {worst_torch:.1e}",
    )

    doc.heading("Why libraries do not insert the zeros")
    Ct_n, D_n, *_ = recipe((8, 8), 4, 4, 3, 2, 1, 1, 1, 1)
    ratio = D_n.nnz / Ct_n.nnz
    doc.say(
        f"D multiplies every kernel tap with every padded position, most of which hold "
        f"inserted zeros. For ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1) "
        f"on 8×8, D stores {D_n.nnz} weights against {Ct_n.nnz} in Cᵀ, {ratio:.2f} times as "
        f"many multiplications. Gradient-style implementations (scatter each input times the "
        f"kernel) compute Cᵀ directly and skip them."
    )
    doc.check(
        math.isclose(ratio, 4, rel_tol=0.25),
        "With stride 2 in two dims, D does about s² = 4 times the work of Cᵀ.",
        f"ratio {ratio:.2f}",
    )
    return doc.close()


if __name__ == "__main__":
    _common.run(main)
