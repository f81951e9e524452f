"""Reflect padding as a matrix, and why its transpose folds border gradients back inside.

Question: CycleGAN and many image-to-image networks pad with
``padding_mode='reflect'``. What is the convolution's matrix then, and what
does backpropagation do at the border? Answer: reflect padding is a 0/1
matrix P (one 1 per row, copying the mirrored input entry), the layer is
C = D·P with D the convolution of the padded grid, and Cᵀ = Pᵀ·Dᵀ: the
transposed convolution lands on the padded grid and Pᵀ adds each border
entry's gradient onto the interior entry it mirrored. Replicate and circular
padding work the same way with other P. Checked with sympy and against
torch's ``F.pad``, ``Conv2d(padding_mode=...)`` and autograd.

Run: ``python derivations/reflect_padding.py [--latex FILE]``.
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
from transpose_matrix.analysis.verification import transpose_recipe
from transpose_matrix.narrative.derivation import exhaustive_check, sympy_check


def torch_pad_gradient(torch, shape, pairs, mode, upstream):
    """Autograd's gradient through ``F.pad(x, pairs, mode)`` for an upstream gradient."""
    x = torch.zeros((1, 1, *shape), dtype=torch.float64, requires_grad=True)
    amounts = [amount for pair in reversed(pairs) for amount in pair]
    padded = torch.nn.functional.pad(x, amounts, mode=mode)
    padded.backward(torch.tensor(upstream).reshape(padded.shape))
    return x.grad.numpy().reshape(-1)


def torch_pad(torch, x, pairs, mode):
    """``F.pad`` of one channel's grid ``x``, flattened."""
    amounts = [amount for pair in reversed(pairs) for amount in pair]
    padded = torch.nn.functional.pad(torch.tensor(x)[None, None], amounts, mode=mode)
    return padded.numpy().reshape(-1)


def symbols(letter: str, first: int, count: int) -> sympy.Matrix:
    """The column of symbols ``letter_first … letter_{first + count - 1}``."""
    return sympy.Matrix([sympy.Symbol(f"{letter}_{{{i}}}", real=True)
                         for i in range(first, first + count)])


def build() -> Derivation:
    """The derivation: P, C = D·P, Pᵀ as the fold, the gradient, replicate and circular."""
    import torch

    doc = Derivation("Reflect padding as a matrix, and its transpose")
    doc.say(
        "`padding_mode='reflect'` fills the border with the input mirrored about its edge "
        r"entry, without repeating it: $x_1, x_0, x_1, x_2, \dots$ Every padded entry is a "
        "copy of an input entry, so padding is a linear map, a matrix $P$ with a single 1 in "
        "every row. A convolution with that padding is the convolution $D$ of the padded grid "
        r"(no padding) after $P$: $C = D\,P$. Its transpose, the input gradient, is "
        r"$C^{\mathsf T} = P^{\mathsf T} D^{\mathsf T}$, and $P^{\mathsf T}$ is where the "
        "border's gradient goes."
    )

    doc.step(r"The padding matrix $P$")
    n, before = 5, 2
    P = tm.pad_matrix(n, before, mode="reflect")
    doc.say(
        rf"For $n = {n}$ and {before} entries of padding on each side, the padded grid has "
        rf"{n + 2 * before} entries, read from the input as $x_2, x_1$, then $x_0, \dots, x_4$, "
        r"then $x_3, x_2$. Row $i$ of $P$ holds a 1 in the column of the input entry that "
        "padded position $i$ copies:"
    )
    x = symbols("x", 0, n)
    doc.matrices([("P", P), (r"P\mathbf{x}", sympy.Matrix(P.toarray().astype(int)) * x)])
    values = np.random.default_rng(0).standard_normal(n)
    error = max_error(P @ values, torch_pad(torch, values, [(before, before)], "reflect"))
    doc.check(
        error == 0.0 and (np.diff(P.indptr) == 1).all(),
        r"$P\mathbf{x}$ is torch's `F.pad(x, (2, 2), mode='reflect')`, bit for bit, and "
        "every row of $P$ holds exactly one 1.",
        difference(error),
    )

    doc.step(r"The convolution: $C = D\,P$")
    spec = tm.ConvSpec((n,), 3, padding=1, padding_mode="reflect")
    C = sympy.Matrix(tm.symbolic_conv_matrix(spec))
    P1 = sympy.Matrix(tm.pad_matrix(n, 1, mode="reflect").toarray().astype(int))
    plain = tm.ConvSpec((n + 2,), 3)
    D = sympy.Matrix(tm.symbolic_conv_matrix(plain))
    doc.say(
        "A kernel of 3 taps with reflect padding 1, as `Conv1d(1, 1, 3, padding=1, "
        "padding_mode='reflect')`: $D$ slides the kernel over the padded grid of 7, "
        "$P$ pads. The first output reads $x_1, x_0, x_1$, so $w_0$ and $w_2$ both "
        r"multiply $x_1$: an entry of $C$ is a sum of weights, something no zero-padded "
        "convolution has."
    )
    doc.matrices([("D", D), ("P", P1)], zero="0")
    doc.matrix("C", C, zero="0")
    doc.check(sympy_check(D * P1, C, says=r"$C = D\,P$ entry by entry"))
    weight = np.random.default_rng(1).standard_normal(spec.weight_shape)
    layer = torch.nn.Conv1d(1, 1, 3, padding=1, padding_mode="reflect", bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        probed = layer(torch.eye(n, dtype=torch.float64)[:, None])[:, 0].numpy().T
    error = max_error(tm.conv_matrix(spec, weight), probed)
    doc.check(
        error < 1e-15,
        r"With a random kernel, the library's $C$ is torch's `Conv1d(padding_mode='reflect')` "
        "probed with unit vectors.",
        difference(error),
    )

    doc.step(r"The transpose folds the border back: $P^{\mathsf T}$")
    g = symbols("g", -before, n + 2 * before)
    Pt = sympy.Matrix(P.T.toarray().astype(int))
    doc.say(
        r"$P^{\mathsf T}$ has one 1 per column: column $i$ of $P^{\mathsf T}$ sends the "
        "gradient of padded position $i$ to the input entry that position copied. Applied to "
        r"a gradient $\mathbf{g}$ on the padded grid (positions $-2, \dots, 6$), it keeps "
        "the interior and adds each border entry onto its mirror image inside:"
    )
    folded = Pt * g
    doc.matrices([(r"P^{\mathsf T}", P.T), (r"P^{\mathsf T}\mathbf{g}", folded)])
    at = {i: g[i + before] for i in range(-before, n + before)}  # g_i by its position i
    expected = sympy.Matrix(
        [at[0], at[1] + at[-1], at[2] + at[-2] + at[6], at[3] + at[5], at[4]]
    )
    doc.check(
        sympy_check(
            folded,
            expected,
            says=r"$(P^{\mathsf T}\mathbf{g})_1 = g_1 + g_{-1}$, "
            r"$(P^{\mathsf T}\mathbf{g})_2 = g_2 + g_{-2} + g_6$, "
            r"$(P^{\mathsf T}\mathbf{g})_3 = g_3 + g_5$, and the edges keep their own",
        )
    )
    upstream = np.random.default_rng(2).standard_normal(n + 2 * before)
    error = max_error(P.T @ upstream,
                      torch_pad_gradient(torch, (n,), [(before, before)], "reflect", upstream))
    doc.check(
        error == 0.0,
        r"Autograd's gradient through `F.pad(x, (2, 2), mode='reflect')` is "
        r"$P^{\mathsf T}\mathbf{g}$, bit for bit.",
        difference(error),
    )
    counts = np.asarray(P.sum(axis=0)).reshape(-1).astype(int)
    doc.say(
        r"So the edge entries $x_0$ and $x_4$, which the mirror never copies, get the "
        "gradient of their own position only, while the entries next to them get their own "
        rf"and their mirror's; $x_2$ is mirrored from both sides. "
        rf"$P^{{\mathsf T}}\mathbf{{1}} = ({', '.join(map(str, counts))})$ counts the "
        "positions that read each entry."
    )
    doc.check(
        counts.tolist() == [1, 2, 3, 2, 1],
        r"$P^{\mathsf T}\mathbf{1} = (1, 2, 3, 2, 1)$: with reflect padding 2 on 5 entries, "
        r"the edges are read once, $x_1$ and $x_3$ twice, $x_2$ three times.",
    )

    doc.step("Two dimensions: corners fold twice")
    shape, pads = (4, 5), [(2, 1), (1, 2)]
    P2 = tm.pad_matrix(shape, pads, mode="reflect")
    kron = scipy.sparse.kron(tm.pad_matrix(4, [(2, 1)], mode="reflect"),
                             tm.pad_matrix(5, [(1, 2)], mode="reflect"))
    upstream = np.random.default_rng(3).standard_normal(P2.shape[0])
    error = max_error(P2.T @ upstream,
                      torch_pad_gradient(torch, shape, pads, "reflect", upstream))
    coverage = np.asarray(P2.sum(axis=0)).reshape(shape).astype(int)
    doc.say(
        r"Padding each dimension is independent, so $P = P_0 \otimes P_1$, and "
        r"$P^{\mathsf T} = P_0^{\mathsf T} \otimes P_1^{\mathsf T}$ folds one dimension "
        rf"after the other. On a ${shape[0]} \times {shape[1]}$ input padded "
        rf"${pads[0]}$ and ${pads[1]}$, "
        r"$P^{\mathsf T}\mathbf{1}$ counts the padded positions that copy each input entry; a "
        "position in a corner of the border is mirrored in both dimensions:"
    )
    doc.matrix(r"P^{\mathsf T}\mathbf{1}", sympy.Matrix(coverage.tolist()), zero="0")
    doc.check(
        max_error(P2, kron) == 0.0,
        r"`pad_matrix((4, 5), ...)` is $P_0 \otimes P_1$.",
    )
    doc.check(
        error == 0.0 and coverage.sum() == P2.shape[0],
        r"Autograd's gradient through the 2-D `F.pad` is $P^{\mathsf T}\mathbf{g}$, and the "
        "counts add up to the padded grid's size.",
        difference(error),
    )

    doc.step(r"The input gradient: $C^{\mathsf T} = P^{\mathsf T} D^{\mathsf T}$")
    spec2 = tm.ConvSpec((6, 5), 3, stride=2, padding=1, in_channels=2, out_channels=3,
                        padding_mode="reflect")
    recipe = transpose_recipe(spec2)
    weight = np.random.default_rng(4).standard_normal(spec2.weight_shape)
    Cn = tm.conv_matrix(spec2, weight)
    yv = np.random.default_rng(5).standard_normal(spec2.matrix_shape[0])
    layer = torch.nn.Conv2d(2, 3, 3, stride=2, padding=1, padding_mode="reflect",
                            bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
    xt = torch.zeros((1, 2, 6, 5), dtype=torch.float64, requires_grad=True)
    layer(xt).backward(torch.tensor(yv.reshape(1, 3, *spec2.output_shape)))
    gradient_error = max_error(Cn.T @ yv, xt.grad.numpy().reshape(-1))
    with torch.no_grad():
        folded_t = recipe.apply(torch.tensor(yv.reshape(1, 3, *spec2.output_shape)),
                                torch.tensor(weight))
    recipe_error = max_error(Cn.T @ yv, folded_t.numpy().reshape(-1))
    padded = " \\times ".join(map(str, recipe.padded_shape))
    doc.say(
        r"The input gradient of the layer is $C^{\mathsf T} = P^{\mathsf T} D^{\mathsf T}$: "
        r"$D^{\mathsf T}$ is an ordinary zero-padded transposed convolution that lands on "
        r"the padded grid, and $P^{\mathsf T}$ folds its border back. For "
        "`Conv2d(2, 3, 3, stride=2, padding=1, padding_mode='reflect')` on $6 \\times 5$, "
        rf"$D^{{\mathsf T}}$ is `conv_transpose2d(y, w, stride=2, output_padding="
        rf"{recipe.output_padding})` onto ${padded}$, then the fold. This is no "
        "`ConvTranspose2d` (torch's transposed layers pad with zeros only): the `show` "
        "command prints this recipe for any layer with a padding mode, and the library "
        "runs it as `transpose_recipe(spec).apply(y, w)`."
    )
    doc.check(
        gradient_error < 1e-12,
        r"$C^{\mathsf T}\mathbf{y}$ is autograd's input gradient through torch's "
        "`Conv2d(padding_mode='reflect')`.",
        difference(gradient_error),
    )
    doc.check(
        recipe_error < 1e-12,
        r"The recipe `conv_transpose2d` then the fold equals $C^{\mathsf T}\mathbf{y}$.",
        difference(recipe_error),
    )
    Ct_sym = sympy.Matrix(tm.symbolic_conv_matrix(spec)).T
    sums = sum(1 for entry in Ct_sym if isinstance(entry, sympy.Add))
    doc.check(
        sums == 2,
        r"In the 1-D example, $C^{\mathsf T}$ has 2 entries that are sums of two weights "
        r"($w_0 + w_2$); every entry of a `ConvTranspose` layer's matrix is a single weight, so "
        "no such layer has this matrix.",
    )

    doc.step("Replicate and circular padding")
    rows = []

    def fold_matches(case) -> bool:
        mode, shape_, pairs = case
        Pm = tm.pad_matrix(shape_, pairs, mode=mode)
        grid = np.random.default_rng(len(shape_) * 100 + sum(map(sum, pairs))).standard_normal
        v = grid(Pm.shape[1])
        ok = max_error(Pm @ v, torch_pad(torch, v.reshape(shape_), pairs, mode)) == 0.0
        up = grid(Pm.shape[0])
        # Autograd adds a folded entry's terms in its own order: equal up to rounding.
        gradient = torch_pad_gradient(torch, shape_, pairs, mode, up)
        return ok and max_error(Pm.T @ up, gradient) < 1e-14

    cases = []
    for mode in ("reflect", "replicate", "circular"):
        for n_ in range(1, 6):
            limit = {"reflect": n_ - 1, "replicate": 4, "circular": n_}[mode]
            for b in range(limit + 1):
                for a in range(limit + 1):
                    cases.append((mode, (n_,), [(b, a)]))
        cases.append((mode, (3, 4), [(1, 2), (2, 0)]))
        cases.append((mode, (2, 3, 3), [(1, 0), (0, 2), (1, 1)]))
    doc.say(
        "`replicate` copies the edge entry into the whole border, so $P^{\\mathsf T}$ adds "
        "all of the border's gradient onto the edge entries $x_0$ and $x_4$; `circular` "
        "copies the other end of the input, so the gradient of the border before wraps "
        "onto the last entries and that of the border after onto the first. For padding 2 "
        "on 5 entries:"
    )
    for mode in ("replicate", "circular"):
        Pm = tm.pad_matrix(5, 2, mode=mode)
        folded_m = sympy.Matrix(Pm.T.toarray().astype(int)) * g
        column_sums = np.asarray(Pm.sum(axis=0)).reshape(-1).astype(int)
        rows.append((f"`{mode}`", ", ".join(map(str, column_sums))))
        doc.matrices([(rf"P_{{\mathrm{{{mode}}}}}^{{\mathsf T}}", Pm.T),
                      (r"P^{\mathsf T}\mathbf{g}", folded_m)])
    counts_reflect = ", ".join(map(str, counts))
    doc.table(("mode", r"$P^{\mathsf T}\mathbf{1}$"),
              [("`reflect`", counts_reflect), *rows],
              r"How many padded positions read each input entry: $P^{\mathsf T}\mathbf{1}$ "
              "for padding 2 on 5 entries.")
    doc.check(
        [row[1] for row in rows] == ["3, 1, 1, 1, 3", "2, 2, 1, 2, 2"],
        r"$P^{\mathsf T}\mathbf{1}$ is $(3, 1, 1, 1, 3)$ for replicate and $(2, 2, 1, 2, 2)$ "
        "for circular.",
    )
    doc.check(
        exhaustive_check(
            cases,
            fold_matches,
            says=r"For every mode, $P\mathbf{x}$ is torch's `F.pad(x, ..., mode)` bit for bit, "
            r"and $P^{\mathsf T}\mathbf{g}$ is autograd's gradient through it (to within "
            r"$10^{-14}$: autograd adds the folded terms in its own order)",
            over=r"1-D sizes $n \le 5$ with every padding torch allows (up to 4 for "
            "replicate), and a 2-D and a 3-D case per mode",
        )
    )
    return doc


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
