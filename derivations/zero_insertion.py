"""Zero insertion: a transposed convolution is Cᵀ = D·P·Z.

Question: "Transposed convolution is basically regular convolution with zeros
inserted between each input" — exactly which zeros, how much padding, and
which kernel? Answer as a sparse identity, checked symbolically on a small
case and numerically (against torch's conv_transpose) on a grid of layers.

Run: ``python derivations/zero_insertion.py [--latex FILE]``.
"""

from __future__ import annotations

import math
import sys

import _common
import numpy as np
import scipy.sparse
import sympy
from _common import difference, max_error

import transpose_matrix as tm
from transpose_matrix import Derivation
from transpose_matrix.narrative.derivation import sympy_check


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


def build() -> Derivation:
    """The derivation: Cᵀ = D·P·Z symbolically, then on a grid of layers against torch."""
    import torch
    import torch.nn.functional as F

    doc = Derivation(r"Zero insertion: a transposed convolution is $C^{\mathsf T} = D\,P\,Z$")
    doc.say(
        r"A convolution with stride $s$ reads input position $js - p + td$ for output $j$ and "
        r"kernel tap $t$. Its transpose $C^{\mathsf T}$ sends input $y_j$ of the transposed "
        r"layer to output $m = js - p + td$ with weight $w_t$. Spreading the $y_j$ apart by "
        r"$s$ ($s - 1$ zeros in between), padding, and sliding the flipped kernel over the "
        r"result with stride 1 gives the same sums. As matrices, $C^{\mathsf T} = D\,P\,Z$, "
        r"where $Z$ inserts the zeros, $P$ pads $d(k - 1) - p$ on each side plus "
        r"`output_padding` after, and $D$ is an ordinary stride-1 convolution whose kernel is "
        r"the original one flipped in space with its two channel axes swapped."
    )

    doc.step("One dimension, with symbols")
    doc.say(
        "Take `ConvTranspose1d(1, 1, kernel_size=3, stride=2, padding=1, output_padding=1)` "
        r"on an input of length 3. Its output has length $(3 - 1) \cdot 2 - 2 + 3 + 1 = 6$."
    )
    spec = tm.ConvSpec.from_transposed(3, 1, 1, 3, stride=2, padding=1, output_padding=1)
    Ct = tm.symbolic_conv_matrix(spec).T
    w0, w1, w2 = tm.weight_symbols(spec)[0, 0]
    Z = tm.zero_insertion_matrix(3, 2)
    P = tm.pad_matrix(5, [(1, 2)])
    # D slides the flipped kernel (w2, w1, w0): swap the symbols of the plain one.
    D = tm.symbolic_conv_matrix(tm.ConvSpec(8, 3)).xreplace({w0: w2, w2: w0})
    doc.matrices([("Z", Z), ("P", P)], zero="0")
    doc.matrix("D", D, note="$D$ slides the flipped kernel with stride 1.")
    product = D * sympy.Matrix(P.toarray().astype(int)) * sympy.Matrix(Z.toarray().astype(int))
    doc.matrices([(r"D\,P\,Z", product), (r"C^{\mathsf T}", Ct)])
    doc.check(
        sympy_check(
            product,
            sympy.Matrix(Ct),
            says=r"$D\,P\,Z = C^{\mathsf T}$ entry by entry, as polynomials in the kernel symbols,",
        )
    )
    doc.check(
        Z.shape == (5, 3) and P.shape == (8, 5) and D.shape == (6, 8),
        r"The sizes chain as $3 \to 5$ (zeros inserted) $\to 8$ (padded 1 before, "
        r"$1 + 1$ after) $\to 6$.",
    )

    doc.step("Every kind of layer, against torch")
    doc.say(
        "The same recipe, with the padding computed from the textbook rule and $D$ built by "
        "the ordinary `conv_matrix`, reproduces `conv_transpose` for strides, dilations, "
        "groups, asymmetric `output_padding` and 1-, 2- and 3-D inputs. When $p > d(k - 1)$ "
        "the padding is negative and $P$ crops instead."
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
        worst_matrix = max(worst_matrix, max_error(product_n, Ct_n))
        worst_torch = max(
            worst_torch, max_error(product_n @ y.reshape(-1), expected.numpy().reshape(-1))
        )
        rows.append(
            (
                dims(shape),
                rf"${cin} \to {cout}$",
                dims(spec_n.kernel_size),
                dims(spec_n.stride),
                per_dim(padding, len(shape)),
                per_dim(extra, len(shape)),
                groups,
                dims(spec_n.dilation),
                dims(spec_n.input_shape),
                f"{D_n.nnz} / {Ct_n.nnz}",
            )
        )
    doc.table(
        (
            "input",
            "channels",
            "$k$",
            "$s$",
            "$p$",
            "$a$",
            "groups",
            "$d$",
            "output",
            r"entries of $D$ / $C^{\mathsf T}$",
        ),
        rows,
        r"Layers checked ($a$ is `output_padding`): $C^{\mathsf T} = D\,P\,Z$, and torch's "
        "`conv_transpose` agrees.",
    )
    doc.check(
        worst_matrix < 1e-12,
        r"For every layer in the table, $D\,P\,Z$ equals $C^{\mathsf T}$.",
        difference(worst_matrix, "largest entry difference"),
    )
    doc.check(
        worst_torch < 1e-10,
        r"For every layer in the table, $D\,P\,Z\,\mathbf{y}$ equals torch's "
        r"`conv_transpose` of $\mathbf{y}$.",
        difference(worst_torch),
    )

    doc.step("Why libraries do not insert the zeros")
    Ct_n, D_n, *_ = recipe((8, 8), 4, 4, 3, 2, 1, 1, 1, 1)
    ratio = D_n.nnz / Ct_n.nnz
    doc.say(
        "$D$ multiplies every kernel tap with every padded position, most of which hold "
        "inserted zeros. For `ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1)` "
        rf"on $8 \times 8$, $D$ stores {D_n.nnz} weights against {Ct_n.nnz} in "
        rf"$C^{{\mathsf T}}$, {ratio:.2f} times as many multiplications. Gradient-style "
        "implementations (scatter each input times the kernel) compute $C^{\\mathsf T}$ "
        "directly and skip them."
    )
    doc.check(
        math.isclose(ratio, 4, rel_tol=0.25),
        r"With stride 2 in two dimensions, $D$ does about $s^2 = 4$ times the work of "
        r"$C^{\mathsf T}$.",
        f"ratio {ratio:.2f}",
    )
    return doc


def dims(values) -> str:
    """``(4, 3)`` as maths ``$4 \\times 3$``; one value as itself."""
    values = tuple(values)
    return str(values[0]) if len(values) == 1 else "$" + r" \times ".join(map(str, values)) + "$"


def per_dim(value, ndim: int) -> str:
    """An int or per-dimension tuple of the layer's arguments as a table cell."""
    return dims(np.broadcast_to(value, ndim).tolist() if not isinstance(value, int) else [value])


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
