"""Transposed is not inverse: Cᵀ beside the pseudo-inverse C⁺.

Question: a transposed convolution is often called a "deconvolution"; does
it undo the convolution? Answer: no. Cᵀ has C's shape transposed, not its
inverse; C⁺ is different unless the rows of C are orthogonal with equal
norms, which happens for k = s without padding. Real deconvolution solves
C x = y, e.g. with scipy.sparse.linalg.lsqr.

Run: ``python derivations/transposed_not_inverse.py [--latex FILE]``.
"""

from __future__ import annotations

import sys

import _common
import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import sympy
from _common import difference, max_error

import transpose_matrix as tm
from transpose_matrix import Derivation
from transpose_matrix.narrative.derivation import sympy_check
from transpose_matrix.render import format_number


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def build() -> Derivation:
    """The derivation: exact C⁺ beside Cᵀ, the k = s case, lsqr against Cᵀ."""
    import torch
    import torch.nn.functional as F

    doc = Derivation(r"Transposed is not inverse: $C^{\mathsf T}$ beside $C^{+}$")

    doc.step("A small case, exactly")
    spec = tm.ConvSpec(7, 3, stride=2)
    w = np.array([[[1, 2, 3]]])
    C = sympy.Matrix(tm.conv_matrix(spec, w).toarray().astype(int))
    Ct = C.T
    gram = C * Ct
    pinv = Ct * gram.inv()
    doc.say(
        "`Conv1d(1, 1, 3, stride=2)` with kernel $(1, 2, 3)$ on length 7 has a "
        r"$3 \times 7$ matrix $C$ of full row rank, so its pseudo-inverse is "
        r"$C^{+} = C^{\mathsf T}(CC^{\mathsf T})^{-1}$, computed here in exact rational "
        "arithmetic:"
    )
    doc.matrix("C", C)
    # One common denominator keeps the fractions legible.
    denominator = sympy.ilcm(*(sympy.fraction(v)[1] for v in pinv))
    scaled = pinv * denominator
    doc.matrices([(r"C^{\mathsf T}", Ct), (rf"{denominator}\,C^{{+}}", scaled)])
    doc.matrix(r"C C^{\mathsf T}", gram, zero="0")
    doc.check(
        sympy_check(
            C * pinv, sympy.eye(3), says=r"$C C^{+} = I_3$: $C^{+}$ undoes $C$ on its range"
        ),
    )
    doc.check(
        np.allclose(np.array(pinv, dtype=float), np.linalg.pinv(np.array(C, dtype=float))),
        r"The exact $C^{+}$ agrees with `numpy.linalg.pinv`.",
    )
    doc.check(
        Ct != pinv and not (gram - gram[0, 0] * sympy.eye(3)).is_zero_matrix,
        r"$C^{\mathsf T} \ne C^{+}$, and no multiple of $C^{\mathsf T}$ is $C^{+}$: "
        r"$CC^{\mathsf T}$ is not a multiple of the identity, because neighbouring windows "
        r"share an input (the off-diagonal $1 \cdot 3 = 3$).",
    )
    doc.say(
        r"$C^{+}$ even has entries of both signs where $C^{\mathsf T}$ has only positive "
        "ones: undoing a blur sharpens, while transposing a blur blurs again."
    )
    doc.check(
        any(v < 0 for v in pinv) and all(v >= 0 for v in Ct),
        r"$C^{+}$ has negative entries; $C^{\mathsf T}$ has none.",
    )

    doc.step(r"When $C^{\mathsf T}$ is the pseudo-inverse up to scale: $k = s$, no padding")
    spec2 = tm.ConvSpec(6, 2, stride=2)
    Cs = tm.symbolic_conv_matrix(spec2)
    w0, w1 = tm.weight_symbols(spec2)[0, 0]
    gram_s = sympy.Matrix(Cs) * sympy.Matrix(Cs).T
    doc.say(
        "With $k = s$ and no padding the windows tile the input, so the rows of $C$ have no "
        r"input in common: they are orthogonal, each with squared norm $\|w\|^2$. Then "
        r"$CC^{\mathsf T} = \|w\|^2 I$ and $C^{+} = C^{\mathsf T}/\|w\|^2$. For "
        "`Conv1d(1, 1, 2, stride=2)` on length 6:"
    )
    doc.matrix(r"C C^{\mathsf T}", gram_s, zero="0")
    doc.check(
        sympy_check(
            gram_s,
            (w0**2 + w1**2) * sympy.eye(3),
            says=r"$C C^{\mathsf T} = (w_{0}^2 + w_{1}^2) I_3$",
        )
    )
    rng = np.random.default_rng(0)
    w2 = rng.standard_normal((1, 1, 2, 2))
    C2 = tm.conv_matrix(tm.ConvSpec((6, 6), 2, stride=2), w2)
    norm2 = float((w2**2).sum())
    error = max_error(np.linalg.pinv(C2.toarray()), C2.T.toarray() / norm2)
    doc.check(
        error < 1e-12,
        r"In two dimensions (`Conv2d(1, 1, 2, stride=2)` on $6 \times 6$, random kernel), "
        r"$C^{+} = C^{\mathsf T}/\|w\|^2$.",
        difference(error),
    )
    wc = rng.standard_normal((3, 2, 2, 2))
    Cc = tm.conv_matrix(tm.ConvSpec((4, 4), 2, stride=2, in_channels=2, out_channels=3), wc)
    Wm = wc.reshape(3, -1)
    error = max_error(Cc @ Cc.T, scipy.sparse.kron(Wm @ Wm.T, scipy.sparse.eye(4)))
    doc.check(
        error < 1e-12,
        r"With channels, $CC^{\mathsf T} = (W W^{\mathsf T}) \otimes I$, $W$ the "
        r"$\mathit{out} \times (\mathit{in} \cdot k^2)$ weight matrix: $C^{\mathsf T}$ is a "
        r"scaled $C^{+}$ only if the filters are orthogonal with equal norms.",
        difference(error),
    )

    doc.step(r"Real deconvolution: solve $C\mathbf{x} = \mathbf{y}$")
    n = 12
    kernel = np.zeros((1, 1, 3, 3))
    kernel[0, 0, 1, 1] = 1.0
    kernel += 0.15 * rng.standard_normal((1, 1, 3, 3))
    x = rng.standard_normal((n, n))
    spec3 = tm.ConvSpec((n, n), 3, padding=1)
    C3 = tm.conv_matrix(spec3, kernel)
    xt = torch.tensor(x)[None, None]
    y_torch = F.conv2d(xt, torch.tensor(kernel), padding=1)
    y = C3 @ x.reshape(-1)
    back_torch = F.conv_transpose2d(y_torch, torch.tensor(kernel), padding=1)
    error = max(max_error(y, y_torch.reshape(-1)), max_error(C3.T @ y, back_torch.reshape(-1)))
    doc.say(
        rf"Blur a random ${n} \times {n}$ image with a $3 \times 3$ kernel (`padding=1`, so "
        r"$C$ is square and here invertible). Applying $C^{\mathsf T}$, a transposed "
        "convolution with the same kernel (`conv_transpose2d`), does not give the image back, "
        r"even after the best rescaling; `lsqr`, which solves $\min \|C\mathbf{x} - "
        r"\mathbf{y}\|$ using only products with $C$ and $C^{\mathsf T}$, does."
    )
    doc.check(
        error < 1e-12,
        r"$C\mathbf{x}$ equals torch's `conv2d`, and $C^{\mathsf T}\mathbf{y}$ equals torch's "
        "`conv_transpose2d` with that kernel.",
        difference(error),
    )
    rows = []
    results = {}
    for label, operator, stride in (("square, $s = 1$", C3, 1), ("strided, $s = 2$", None, 2)):
        if operator is None:
            operator = tm.conv_matrix(tm.ConvSpec((n, n), 3, stride=2, padding=1), kernel)
        y = operator @ x.reshape(-1)
        back = operator.T @ y
        scale = float(back @ x.reshape(-1) / (back @ back))  # best possible rescaling
        solved = scipy.sparse.linalg.lsqr(operator, y, atol=1e-14, btol=1e-14, iter_lim=5000)[0]
        results[stride] = (
            relative(scale * back, x.reshape(-1)),
            relative(solved, x.reshape(-1)),
            relative(operator @ solved, y),
        )
        rows.append(
            (
                label,
                rf"${operator.shape[0]} \times {operator.shape[1]}$",
                f"{results[stride][0]:.2f}",
                f"${format_number(float(f'{results[stride][1]:.1e}'))}$",
                f"${format_number(float(f'{results[stride][2]:.1e}'))}$",
            )
        )
    doc.table(
        (
            "convolution",
            "$C$",
            r"$\|\alpha C^{\mathsf T}\mathbf{y} - \mathbf{x}\| / \|\mathbf{x}\|$, best $\alpha$",
            r"$\|\hat{\mathbf{x}} - \mathbf{x}\| / \|\mathbf{x}\|$, `lsqr`",
            r"$\|C\hat{\mathbf{x}} - \mathbf{y}\| / \|\mathbf{y}\|$",
        ),
        rows,
        r"Recovering $\mathbf{x}$ from $\mathbf{y} = C\mathbf{x}$.",
    )
    doc.check(
        results[1][0] > 0.05 and results[1][1] < 1e-6,
        r"Square case: `lsqr` recovers $\mathbf{x}$ to better than $10^{-6}$; the transposed "
        "convolution misses by more than 5% even at the best scale.",
    )
    doc.check(
        results[2][2] < 1e-6 and results[2][1] > 0.1,
        "Strided case: $C$ has fewer rows than columns, so `lsqr` fits $\\mathbf{y}$ exactly "
        r"but returns the minimum-norm $\hat{\mathbf{x}}$, not $\mathbf{x}$: the stride threw "
        "information away that nothing recovers.",
    )
    doc.say(
        r"So deconvolution as a layer name means $C^{\mathsf T}$, the adjoint, with the shape "
        "of an inverse but not its values; a learned transposed convolution is a new linear "
        "map that only happens to have the output shape of an inverse."
    )
    return doc


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
