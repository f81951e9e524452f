"""Checkerboard artifacts: the coverage map Cᵀ·1.

Question: why do transposed convolutions leave checkerboard patterns, and
why does "resize, then convolve" not? Answer: count how many kernel taps
reach each output pixel, which is Cᵀ applied to a vector of ones when the
kernel is all ones. That count is uniform exactly when the stride divides the
kernel size; after a nearest-neighbour resize it is always uniform.

Run: ``python derivations/checkerboard.py [--latex FILE]``.
"""

from __future__ import annotations

import sys

import _common
import numpy as np
from _common import max_error

import transpose_matrix as tm
from transpose_matrix import Derivation


def coverage(n: int | tuple[int, ...], k: int, s: int, weight=None) -> np.ndarray:
    """Cᵀ·1 for ConvTransposeNd(1, 1, k, stride=s) on an all-ones input of shape n."""
    shape = (n,) if isinstance(n, int) else n
    spec = tm.ConvSpec.from_transposed(shape, 1, 1, k, stride=s)
    if weight is None:
        weight = np.ones(spec.weight_shape)
    Ct = tm.transposed_conv_matrix(spec, weight)
    return (Ct @ np.ones(Ct.shape[1])).reshape(spec.input_shape)


def interior(values: np.ndarray, n: int, k: int, s: int) -> np.ndarray:
    """Outputs ``k - 1 .. (n - 1)s`` of a 1-D map: every tap could reach them."""
    return values[k - 1 : (n - 1) * s + 1]


def build() -> Derivation:
    """The derivation: coverage maps in 1-D and 2-D, phase sums, resize-convolution."""
    import torch
    import torch.nn.functional as F

    doc = Derivation(r"Checkerboard artifacts: the coverage map $C^{\mathsf T}\mathbf{1}$")
    doc.say(
        "Give a transposed convolution an all-ones kernel and an all-ones input. Output pixel "
        "$m$ then receives one unit from every (input, tap) pair that lands on it, so "
        r"$C^{\mathsf T}\mathbf{1}$ counts the kernel taps that reach $m$. Where that count "
        "varies from pixel to pixel, even a constant image comes out striped: the "
        "checkerboard."
    )

    doc.step("One dimension")
    n = 6
    rows = []
    for k, s in ((3, 2), (4, 2), (3, 3), (1, 2), (5, 2)):
        values = coverage(n, k, s)
        rows.append((k, s, " ".join(str(int(v)) for v in values)))
    doc.table(
        ("$k$", "$s$", rf"$C^{{\mathsf T}}\mathbf{{1}}$ for an input of length {n}"),
        rows,
        "Coverage in one dimension.",
    )
    doc.say(
        "With $k = 3$, $s = 2$ the interior alternates 1, 2, 1, 2: odd outputs get one tap, "
        "even outputs two. With $k = 4$, $s = 2$ every interior output gets two. With "
        "$k < s$ some outputs get none at all."
    )
    table = []
    rule_ok = bounds_ok = True
    worst = 0.0
    n = 8
    for k in range(1, 7):
        row = [k]
        for s in range(1, 5):
            values = coverage(n, k, s)
            reference = F.conv_transpose1d(
                torch.ones(1, 1, n, dtype=torch.float64),
                torch.ones(1, 1, k, dtype=torch.float64),
                stride=s,
            )
            worst = max(worst, max_error(values, reference.reshape(-1)))
            inner = interior(values, n, k, s)
            low, high = int(inner.min()), int(inner.max())
            rule_ok &= (low == high) == (k % s == 0)
            bounds_ok &= (low, high) == (k // s, -(-k // s))
            row.append(f"{low}" if low == high else f"{low}–{high}")
        table.append(row)
    doc.table(
        ("$k$", "$s = 1$", "$s = 2$", "$s = 3$", "$s = 4$"),
        table,
        "Interior coverage (least and most taps over the interior) for an input of length 8.",
    )
    doc.check(
        worst == 0.0,
        "Every coverage vector of the table equals torch's `conv_transpose1d` of ones with a "
        "kernel of ones.",
    )
    doc.check(rule_ok, "The interior coverage is uniform exactly when $s$ divides $k$.")
    doc.check(
        bounds_ok,
        r"The interior values are $\lfloor k/s \rfloor$ and $\lceil k/s \rceil$: each output "
        "gets one of two tap counts.",
    )

    doc.step("Two dimensions")
    map3 = coverage((4, 4), 3, 2)
    map4 = coverage((4, 4), 4, 2)
    doc.say(
        "In two dimensions the kernel of ones is the outer product of two one-dimensional "
        r"ones kernels, so the map is the outer product of the one-dimensional maps: "
        r"$1 \cdot 1$, $1 \cdot 2$ and $2 \cdot 2$ taps give the familiar checkerboard of 1, "
        "2 and 4 for $k = 3$, $s = 2$, against a flat 4 for $k = 4$, $s = 2$."
    )
    doc.matrices([("M_{3,2}", map3), ("M_{4,2}", map4)], zero="0")
    ones = torch.ones(1, 1, 4, 4, dtype=torch.float64)
    error = max(
        max_error(
            map3,
            F.conv_transpose2d(ones, torch.ones(1, 1, 3, 3, dtype=torch.float64), stride=2)[0, 0],
        ),
        max_error(
            map4,
            F.conv_transpose2d(ones, torch.ones(1, 1, 4, 4, dtype=torch.float64), stride=2)[0, 0],
        ),
    )
    doc.check(
        error == 0.0 and max_error(map3, np.outer(coverage(4, 3, 2), coverage(4, 3, 2))) == 0.0,
        r"Both maps ($M_{k,s}$ for a $4 \times 4$ input) equal torch's `conv_transpose2d` of "
        "ones, and the two-dimensional map is the outer product of the one-dimensional maps.",
    )
    doc.check(
        set(np.unique(map3[2:-2, 2:-2])) == {1.0, 2.0, 4.0}
        and set(np.unique(map4[3:-3, 3:-3])) == {4.0},
        r"Interior values: $\{1, 2, 4\}$ for $k = 3$, $s = 2$; only 4 for $k = 4$, $s = 2$.",
    )

    doc.step("Uniform counts are necessary, not sufficient")
    rng = np.random.default_rng(0)
    w = rng.uniform(0.5, 1.5, 4)
    learned = interior(coverage(8, 4, 2, w[None, None]), 8, 4, 2)
    balanced = w.copy()
    balanced[1::2] *= balanced[0::2].sum() / balanced[1::2].sum()
    fixed = interior(coverage(8, 4, 2, balanced[None, None]), 8, 4, 2)
    doc.say(
        r"With a learned kernel, output $m$ sums the taps of one phase ($t \equiv m + p \bmod "
        "s$), so a constant input comes out flat only if every phase of the kernel has the "
        "same sum. $k$ divisible by $s$ makes each phase have the same number of taps; the "
        "weights must still balance. For a random $k = 4$ kernel the even and odd interior "
        f"outputs get {learned[0]:.3f} and {learned[1]:.3f}; rescaling the odd taps to the "
        "even taps' sum flattens it."
    )
    doc.check(
        np.ptp(learned) > 1e-3 and np.ptp(fixed) < 1e-12,
        "For a random $k = 4$, $s = 2$ kernel the interior output of a constant input varies; "
        "with equal phase sums it is constant.",
    )

    doc.step("Resize-convolution has uniform coverage")
    doc.say(
        "Upsampling with nearest neighbour and then running an ordinary stride-1, unpadded "
        "convolution ($C\\,U$ with $U$ from `nearest_upsample_matrix`) copies every input "
        "$s$ times first, so every output of the convolution sees exactly $k$ taps ($k^d$ in "
        "$d$ dimensions) of real data, whatever $k$ and $s$."
    )
    uniform = True
    worst = 0.0
    for k in range(1, 7):
        for s in range(1, 5):
            U = tm.nearest_upsample_matrix(8, s)
            C = tm.conv_matrix(tm.ConvSpec(8 * s, k), np.ones((1, 1, k)))
            values = C @ (U @ np.ones(8))
            up = F.interpolate(torch.ones(1, 1, 8, dtype=torch.float64), scale_factor=s)
            reference = F.conv1d(up, torch.ones(1, 1, k, dtype=torch.float64))
            worst = max(worst, max_error(values, reference.reshape(-1)))
            uniform &= bool(np.all(values == k))
    U2 = tm.nearest_upsample_matrix((4, 4), 2)
    C2 = tm.conv_matrix(tm.ConvSpec((8, 8), 3), np.ones((1, 1, 3, 3)))
    map_resize = (C2 @ (U2 @ np.ones(16))).reshape(6, 6)
    doc.say(r"For $k = 3$ after nearest upsampling by 2 of a $4 \times 4$ input:")
    doc.matrix(r"C\,U\,\mathbf{1}", map_resize, zero="0")
    doc.check(
        uniform and worst == 0.0,
        r"For all $k \le 6$ and $s \le 4$, $C\,U\,\mathbf{1} = k$ at every output "
        "(checked against torch's `interpolate` followed by `conv1d`).",
    )
    learned_w = rng.standard_normal((1, 1, 3, 3))
    flat = tm.conv_matrix(tm.ConvSpec((8, 8), 3), learned_w) @ (U2 @ np.ones(16))
    doc.check(
        np.ptp(flat) < 1e-12,
        "Unlike the transposed convolution, the resize-convolution maps a constant image to a "
        r"constant image for any kernel weights (a random $3 \times 3$ kernel).",
    )
    doc.check(
        set(np.unique(map_resize)) == {9.0},
        "In two dimensions with $k = 3$, $s = 2$ every output of the resize-convolution gets "
        "9 taps.",
    )
    return doc


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
