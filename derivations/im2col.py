"""im2col: how frameworks compute a convolution as one matrix product, C = (W ⊗ I)·U.

Question: libraries run a convolution as a matrix multiplication ("im2col",
``unfold`` then ``matmul``). How is that the same as the sparse matrix C?
Answer: copying the kernel windows is itself a fixed sparse 0/1 matrix U
(``tm.unfold_matrix``), independent of the weights and of x; the product with
the reshaped weight is ``W ⊗ I`` on the flattened columns; so C = (W ⊗ I)·U,
one such product per group. Checked symbolically on a small case and against
torch's ``unfold``, ``fold`` and ``conv2d``.

Run: ``python derivations/im2col.py [--latex FILE]``.
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


def torch_arguments(spec: tm.ConvSpec) -> dict:
    """``unfold``/``fold``/``conv2d`` keywords of a spec with symmetric padding."""
    return {
        "dilation": spec.dilation,
        "padding": tuple(before for before, _ in spec.padding),
        "stride": spec.stride,
    }


def build() -> Derivation:
    """U for a small layer with symbols, then C = (W ⊗ I)·U per group against torch."""
    import torch
    import torch.nn.functional as F

    doc = Derivation(r"im2col: a convolution as one matrix product, $C = (W \otimes I)\,U$")
    doc.say(
        "Frameworks compute a convolution in two moves: copy every kernel window of the "
        "input into a column (`torch.nn.functional.unfold`, im2col), then multiply by the "
        r"weight reshaped to a matrix $W$ of out $\times$ (in $\cdot$ kernel taps). "
        r"The copying reads each input entry into the windows that contain it and never "
        r"looks at the values: it is a fixed sparse 0/1 matrix $U$, one 1 per row (none where "
        r"the window reads zero padding). Row $(c, t, j)$ of $U$ reads input entry "
        r"$(c, i)$ with $i = js - p + td$: channel $c$, kernel tap $t$, output position $j$."
    )

    doc.step("The unfold matrix U, with symbols")
    spec = tm.ConvSpec((3, 3), 2)
    U = tm.unfold_matrix(spec)
    x = tm.symbolic_input(spec)
    taps, positions = math.prod(spec.kernel_size), math.prod(spec.output_shape)
    columns = (sympy.Matrix(U.toarray().astype(int)) * x).reshape(taps, positions)
    doc.say(
        r"Take `Conv2d(1, 1, 2)` on a $3 \times 3$ input: 4 kernel taps, 4 output positions, "
        r"so $U$ has $4 \cdot 4 = 16$ rows and 9 columns. $U\mathbf{x}$, read as 4 rows (taps) "
        r"of 4 columns (positions), is the im2col matrix $X$: column $j$ is the window of "
        r"output $j$."
    )
    doc.matrix("U", U, zero="0")
    doc.matrix("X", columns)
    rng = np.random.default_rng(0)
    values = rng.standard_normal((1, 3, 3))
    unfolded = F.unfold(torch.tensor(values)[None], spec.kernel_size)[0].numpy()
    error = max_error(U @ values.reshape(-1), unfolded.reshape(-1))
    doc.check(
        error == 0.0,
        r"With numbers for $\mathbf{x}$, $U\mathbf{x}$ is torch's `unfold` exactly.",
        difference(error),
    )

    doc.step(r"The product: $C = (W \otimes I_L)\,U$")
    weight = tm.weight_symbols(spec)
    W = sympy.Matrix(weight.reshape(spec.out_channels, -1).tolist())
    kron = sympy.kronecker_product(W, sympy.eye(positions))
    product = kron * sympy.Matrix(U.toarray().astype(int))
    doc.say("The weight as a matrix (out by in times taps) is one row here:")
    doc.matrix("W", W)
    doc.say(
        r"Output $j$ is $W$ times column $j$ of $X$; flattening the outputs (channel, "
        r"position) and the rows of $X$ (channel, tap, position) turns that into the "
        r"Kronecker product $W \otimes I_L$, $L$ the number of output positions, applied to "
        r"$U\mathbf{x}$. So $C = (W \otimes I_L)\,U$, for every $\mathbf{x}$:"
    )
    doc.matrix(r"(W \otimes I_4)\,U", product)
    doc.check(
        sympy_check(
            product,
            sympy.Matrix(tm.symbolic_conv_matrix(spec)),
            says=r"$(W \otimes I_4)\,U = C$ entry by entry, as polynomials in the kernel symbols,",
        )
    )

    doc.step("Channels, groups, strides: one product per group")
    doc.say(
        r"With $G$ groups, output channel $o$ of group $g$ reads only the input channels of "
        r"that group. Let $W_g$ be that group's weight reshaped to $(\text{out}/G) \times "
        r"(\text{in}/G \cdot \text{taps})$ and $U_g$ the rows of $U$ of its input channels; "
        r"then $C_g = (W_g \otimes I_L)\,U_g$ and $C$ stacks the $C_g$. This is exactly "
        r"what a framework does, one matrix product $W_g\,X_g$ per group. Checked for "
        "`Conv2d(4, 6, 3, stride=2, padding=1, dilation=(1, 2), groups=2)` on $7 \\times 6$, "
        "a depthwise 3-D layer and a 1-D layer with reflect padding."
    )
    cases = (
        tm.ConvSpec((7, 6), 3, stride=2, padding=1, dilation=(1, 2), in_channels=4,
                    out_channels=6, groups=2),
        tm.ConvSpec((3, 4, 3), 2, padding=1, in_channels=3, out_channels=6, groups=3),
        tm.ConvSpec((9,), 3, stride=2, padding=2, in_channels=2, out_channels=3,
                    padding_mode="reflect"),
    )
    worst = 0.0
    for case in cases:
        U = tm.unfold_matrix(case)
        w = rng.standard_normal(case.weight_shape)
        L = math.prod(case.output_shape)
        out_g = case.out_channels // case.groups
        rows_g = case.in_channels // case.groups * math.prod(case.kernel_size)
        blocks = [
            scipy.sparse.kron(w[g * out_g:(g + 1) * out_g].reshape(out_g, rows_g),
                              scipy.sparse.eye_array(L))
            @ U[g * rows_g * L:(g + 1) * rows_g * L]
            for g in range(case.groups)
        ]
        worst = max(worst, max_error(scipy.sparse.vstack(blocks), tm.conv_matrix(case, w)))
    doc.check(
        worst < 1e-12,
        r"For these three layers, the stacked $(W_g \otimes I_L)\,U_g$ equal `conv_matrix`.",
        difference(worst),
    )

    case = cases[0]
    w = rng.standard_normal(case.weight_shape)
    values = rng.standard_normal((case.in_channels, *case.input_shape))
    X = (tm.unfold_matrix(case) @ values.reshape(-1)).reshape(case.in_channels * 9, -1)
    framework = np.vstack([w[3 * g:3 * (g + 1)].reshape(3, 18) @ X[18 * g:18 * (g + 1)]
                           for g in range(2)])
    expected = F.conv2d(torch.tensor(values)[None], torch.tensor(w), groups=2,
                        **torch_arguments(case))[0].numpy()
    error = max_error(framework, expected.reshape(6, -1))
    doc.check(
        error < 1e-12,
        r"For the grouped `Conv2d`, $W_g\,X_g$ per group equals torch's `conv2d`.",
        difference(error),
    )

    doc.step(r"Going back: `fold` is $U^{\mathsf T}$")
    doc.say(
        r"$U^{\mathsf T}$ adds every window entry back onto the input entry it was copied "
        r"from: torch's `fold`, which is why `fold(unfold(x))` is $U^{\mathsf T}U\mathbf{x}$, "
        r"each entry times the number of windows containing it, not $\mathbf{x}$. The "
        r"gradient of the convolution with respect to its input is then "
        r"$C^{\mathsf T} = U^{\mathsf T}(W^{\mathsf T} \otimes I_L)$: scatter with "
        r"$W^{\mathsf T}$, then fold."
    )
    U = tm.unfold_matrix(case)
    patches = rng.standard_normal(U.shape[0])
    folded = F.fold(torch.tensor(patches.reshape(1, case.in_channels * 9, -1)),
                    case.input_shape, case.kernel_size, **torch_arguments(case))[0].numpy()
    error = max_error(U.T @ patches, folded.reshape(-1))
    dot = abs(np.dot(U @ values.reshape(-1), patches) - np.dot(values.reshape(-1), U.T @ patches))
    doc.check(
        error < 1e-12 and dot < 1e-10,
        r"For the grouped layer's geometry, $U^{\mathsf T}$ applied to random windows is "
        r"torch's `fold`, and $\langle U\mathbf{x}, \mathbf{y}\rangle = "
        r"\langle \mathbf{x}, U^{\mathsf T}\mathbf{y}\rangle$.",
        difference(max(error, dot)),
    )
    once = F.fold(F.unfold(torch.tensor(values)[None], case.kernel_size,
                           **torch_arguments(case)),
                  case.input_shape, case.kernel_size, **torch_arguments(case))[0].numpy()
    gram = (U.T @ U).tocoo()
    counts = np.asarray(U.sum(axis=0)).reshape(-1)
    error = max_error(counts * values.reshape(-1), once.reshape(-1))
    doc.check(
        error < 1e-12 and bool(np.all(gram.row == gram.col)),
        r"$U^{\mathsf T}U$ is diagonal, holding the number of windows that contain each "
        r"input entry, and `fold(unfold(x))` is $\mathbf{x}$ times those counts.",
        difference(error),
    )
    doc.say(
        rf"The cost of the shortcut: $U$ copies each input entry into up to "
        rf"{math.prod(case.kernel_size)} windows, so $X$ has {U.shape[0]} entries for an "
        rf"input of {U.shape[1]}: memory that a direct convolution, or $C$ applied without "
        r"forming $X$, does not spend."
    )
    return doc


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
