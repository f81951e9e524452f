"""Transposed is not inverse: Cᵀ beside the pseudo-inverse C⁺.

Question: a transposed convolution is often called a "deconvolution"; does
it undo the convolution? Answer: no. Cᵀ has C's shape transposed, not its
inverse; C⁺ is different unless the rows of C are orthogonal with equal
norms, which happens for k = s without padding. Real deconvolution solves
C x = y, e.g. with scipy.sparse.linalg.lsqr.

Run: ``python derivations/transposed_not_inverse.py [--latex FILE]``.
"""

from __future__ import annotations

import _common
import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import sympy

import transpose_matrix as tm


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main(argv: list[str] | None = None) -> int:
    import torch
    import torch.nn.functional as F

    doc = _common.Derivation(
        "transposed_not_inverse", "Transposed is not inverse: Cᵀ beside C⁺", argv
    )

    doc.heading("A small case, exactly")
    spec = tm.ConvSpec(7, 3, stride=2)
    w = np.array([[[1, 2, 3]]])
    C = sympy.Matrix(tm.conv_matrix(spec, w).toarray().astype(int))
    Ct = C.T
    gram = C * Ct
    pinv = Ct * gram.inv()
    doc.say(
        "Conv1d(1, 1, 3, stride=2) with kernel (1, 2, 3) on length 7 has a 3×7 matrix C of "
        "full row rank, so its pseudo-inverse is C⁺ = Cᵀ(CCᵀ)⁻¹, computed here in exact "
        "rational arithmetic:"
    )
    doc.matrix("C", "C", C, zero=r"\cdot")
    # One common denominator keeps the fractions legible.
    denominator = sympy.ilcm(*(sympy.fraction(v)[1] for v in pinv))
    scaled = pinv * denominator
    doc.matrices(
        [
            ("C^T", r"C^{\mathsf T}", Ct),
            (f"{denominator} C^+", rf"{denominator}\, C^{{+}}", scaled),
        ],
        zero=r"\cdot",
    )
    doc.matrix("C C^T", r"C C^{\mathsf T}", gram, zero="0")
    doc.check(
        C * pinv == sympy.eye(3),
        "C C⁺ = I3 exactly: C⁺ undoes C on its range.",
        tex=r"$C C^{+} = I_3$ exactly: $C^{+}$ undoes $C$ on its range.",
    )
    doc.check(
        np.allclose(np.array(pinv, dtype=float), np.linalg.pinv(np.array(C, dtype=float))),
        "The exact C⁺ agrees with numpy.linalg.pinv.",
    )
    doc.check(
        Ct != pinv and not (gram - gram[0, 0] * sympy.eye(3)).is_zero_matrix,
        "Cᵀ ≠ C⁺, and no multiple of Cᵀ is C⁺: CCᵀ is not a multiple of the identity, "
        "because neighbouring windows share an input (the off-diagonal 1·3 = 3).",
    )
    doc.say(
        "C⁺ even has entries of both signs where Cᵀ has only positive ones: undoing a blur "
        "sharpens, while transposing a blur blurs again."
    )
    doc.check(
        any(v < 0 for v in pinv) and all(v >= 0 for v in Ct),
        "C⁺ has negative entries; Cᵀ has none.",
    )

    doc.heading("When Cᵀ is the pseudo-inverse up to scale: k = s, no padding")
    spec2 = tm.ConvSpec(6, 2, stride=2)
    Cs = tm.symbolic_conv_matrix(spec2)
    w0, w1 = tm.weight_symbols(spec2)[0, 0]
    gram_s = sympy.Matrix(Cs) * sympy.Matrix(Cs).T
    doc.say(
        "With k = s and no padding the windows tile the input, so the rows of C have no "
        "input in common: they are orthogonal, each with squared norm ‖w‖². Then CCᵀ = ‖w‖² I "
        "and C⁺ = Cᵀ/‖w‖². For Conv1d(1, 1, 2, stride=2) on length 6:"
    )
    doc.matrix("C C^T", r"C C^{\mathsf T}", gram_s, zero="0")
    doc.check(
        (gram_s - (w0**2 + w1**2) * sympy.eye(3)).is_zero_matrix,
        "CCᵀ = (w0² + w1²) I3 symbolically.",
        tex=r"$C C^{\mathsf T} = (w_{0}^2 + w_{1}^2)\, I_3$ symbolically.",
    )
    rng = np.random.default_rng(0)
    w2 = rng.standard_normal((1, 1, 2, 2))
    C2 = tm.conv_matrix(tm.ConvSpec((6, 6), 2, stride=2), w2)
    norm2 = float((w2**2).sum())
    error = _common.max_error(np.linalg.pinv(C2.toarray()), C2.T.toarray() / norm2)
    doc.check(
        error < 1e-12,
        "In 2-D (Conv2d(1, 1, 2, stride=2) on 6×6, random kernel): C⁺ = Cᵀ/‖w‖².",
        f"largest difference {error:.1e}",
    )
    wc = rng.standard_normal((3, 2, 2, 2))
    Cc = tm.conv_matrix(tm.ConvSpec((4, 4), 2, stride=2, in_channels=2, out_channels=3), wc)
    Wm = wc.reshape(3, -1)
    error = _common.max_error(Cc @ Cc.T, scipy.sparse.kron(Wm @ Wm.T, scipy.sparse.eye(4)))
    doc.check(
        error < 1e-12,
        "With channels, CCᵀ = (W Wᵀ) ⊗ I, W the out × (in·k²) weight matrix: Cᵀ is a scaled "
        "C⁺ only if the filters are orthogonal with equal norms.",
        f"largest difference {error:.1e}",
    )

    doc.heading("Real deconvolution: solve C x = y")
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
    error = max(
        _common.max_error(y, y_torch.reshape(-1)),
        _common.max_error(C3.T @ y, back_torch.reshape(-1)),
    )
    doc.say(
        f"Blur a random {n}×{n} image with a 3×3 kernel ('same' padding, so C is square and "
        "here invertible). Applying Cᵀ — a transposed convolution with the same kernel, "
        "conv_transpose2d — does not give the image back, even after the best rescaling; "
        "lsqr, which solves min ‖C x − y‖ using only products with C and Cᵀ, does."
    )
    doc.check(
        error < 1e-12,
        "C x equals torch's conv2d and Cᵀ y equals torch's conv_transpose2d with that kernel.",
        f"largest difference {error:.1e}",
    )
    rows = []
    results = {}
    for label, operator, stride in (("square, s = 1", C3, 1), ("strided, s = 2", None, 2)):
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
                f"{operator.shape[0]}×{operator.shape[1]}",
                f"{results[stride][0]:.2f}",
                f"{results[stride][1]:.1e}",
                f"{results[stride][2]:.1e}",
            )
        )
    doc.table(
        ("conv", "C", "‖αCᵀy − x‖/‖x‖ (best α)", "‖x̂ − x‖/‖x‖ (lsqr)", "‖Cx̂ − y‖/‖y‖"),
        rows,
        "Recovering x from y = C x.",
    )
    doc.check(
        results[1][0] > 0.05 and results[1][1] < 1e-6,
        "Square case: lsqr recovers x to better than 1e-6; the transposed convolution misses "
        "by more than 5% even at the best scale.",
    )
    doc.check(
        results[2][2] < 1e-6 and results[2][1] > 0.1,
        "Strided case: C has fewer rows than columns, so lsqr fits y exactly but returns the "
        "minimum-norm x̂, not x: the stride threw information away that nothing recovers.",
    )
    doc.say(
        "So 'deconvolution' as a layer name means Cᵀ — the adjoint, the shape of an inverse "
        "but not its values — and a learned transposed convolution is a new linear map "
        "that only happens to have the output shape of an inverse."
    )
    return doc.close()


if __name__ == "__main__":
    _common.run(main)
