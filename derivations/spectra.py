"""Spectra: the norm of a convolution layer, and the shortcuts taken for it.

Question: what is the operator norm (the Lipschitz constant) of a conv or
transposed-conv layer, and how far are the usual shortcuts from it? Answer:
C and Cᵀ share their singular values; circular padding makes C block
circulant, so the FFT gives every one of them; for zero padding the exact
numbers come from C itself. The reshaped-kernel norm that spectral
normalisation divides by is a lower bound when a window fits inside the
input and the groups are one, and exact when the kernel equals the stride;
sqrt(μ) times it is an upper bound; the circular layer of the same size is
no bound at all.

Run: ``python derivations/spectra.py [--latex FILE]``.
"""

from __future__ import annotations

import sys

import _common
import numpy as np
import sympy
from _common import difference

import transpose_matrix as tm
from transpose_matrix import Derivation
from transpose_matrix.narrative.derivation import sympy_check
from transpose_matrix.render import format_number


def svd(matrix) -> np.ndarray:
    """numpy's singular values of a sparse or dense matrix (the referee)."""
    dense = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
    return np.linalg.svd(dense, compute_uv=False)


def relative_gap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def plain(value: float) -> str:
    """Four significant digits, as maths (without the dollars)."""
    return format_number(float(f"{value:.4g}"))


def number(value: float) -> str:
    return f"${plain(value)}$"


def scaled_weight(shape: tuple[int, ...], seed: int) -> np.ndarray:
    fan_in = int(np.prod(shape[1:]))
    return np.random.default_rng(seed).standard_normal(shape) / np.sqrt(fan_in)


def build() -> Derivation:
    """The derivation: C and Cᵀ, the circulant case, four layers, the failures, k = s."""
    import torch

    doc = Derivation("Spectra: the norm of a layer, and the shortcuts taken for it")
    doc.say(
        r"The operator norm $\|C\|_2$ of a layer is its Lipschitz constant: what spectral "
        "normalisation, GAN stability and invertibility arguments need. It is the largest "
        "singular value of $C$. This section computes the singular values exactly for real "
        "geometries and sets the usual shortcuts beside them. Numbers come from "
        "`tm.singular_values`, `tm.operator_norm` and `tm.compare_norms`; the referee is "
        "`numpy.linalg.svd` of the explicit matrix, built by the library or probed from "
        "torch's own layer."
    )

    doc.step(r"$C$ and $C^{\mathsf T}$ have the same singular values")
    layer = torch.nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1, bias=False).double()
    torch.nn.init.normal_(layer.weight, generator=torch.Generator().manual_seed(0))
    probed = tm.module_matrix(layer, (4, 5, 5))
    spec = tm.ConvSpec.from_transposed((5, 5), 4, 2, 4, stride=2, padding=1)
    weight = layer.weight.detach().numpy()
    ours = tm.singular_values(spec, weight, which="all")
    doc.say(
        r"If $C = U \Sigma V^{\mathsf T}$ then $C^{\mathsf T} = V \Sigma^{\mathsf T} "
        r"U^{\mathsf T}$: the same singular values, $\min$ of the two sides of them. So the "
        "norm of a transposed layer is the norm of its forward convolution. For "
        r"`ConvTranspose2d(4, 2, 4, stride=2, padding=1)` on $5 \times 5$ (a DCGAN-style "
        r"upsampling), the layer's own matrix $C^{\mathsf T}$, probed from torch with unit "
        rf"vectors, is ${probed.shape[0]} \times {probed.shape[1]}$:"
    )
    gap = relative_gap(ours, svd(probed))
    doc.check(
        gap < 1e-12,
        r"The singular values of torch's layer equal those of the forward convolution's "
        "$C$ (`singular_values` of its `ConvSpec.from_transposed` spec), all "
        f"{len(ours)} of them.",
        difference(gap, "largest difference relative to the norm"),
    )

    doc.step("Circular padding: one small matrix per frequency")
    circ = tm.ConvSpec(4, 3, padding=1, padding_mode="circular")
    C = sympy.Matrix(tm.symbolic_conv_matrix(circ))
    w0, w1, w2 = tm.weight_symbols(circ)[0, 0]
    doc.say(
        "With `padding_mode='circular'` the input wraps around, so every row of $C$ is the "
        "previous one shifted by one place: $C$ is circulant. For `Conv1d(1, 1, 3, padding=1, "
        "padding_mode='circular')` on length 4:"
    )
    doc.matrix("C", C)
    doc.say(
        r"The Fourier vectors $v_f = (1, i^f, i^{2f}, i^{3f})$ are its eigenvectors, with "
        r"eigenvalue $\hat w(f) = w_0 i^{-f} + w_1 + w_2 i^{f}$, the kernel's DFT (the offset "
        r"of the padding is the factor $i^{-f}$, of modulus 1). $C$ is normal, so its "
        r"singular values are $|\hat w(f)|$."
    )
    fourier = [sympy.Matrix([sympy.I ** (f * j) for j in range(4)]) for f in range(4)]
    dft = [w0 * sympy.I ** (-f) + w1 + w2 * sympy.I**f for f in range(4)]
    doc.check(
        sympy_check(
            sympy.Matrix.hstack(*(C * v for v in fourier)),
            sympy.Matrix.hstack(*(value * v for value, v in zip(dft, fourier))),
            says=r"$C v_f = \hat w(f)\, v_f$ for $f = 0, 1, 2, 3$",
        )
    )
    doc.say(
        "With channels the same holds blockwise: for each frequency the "
        r"$\mathit{out} \times \mathit{in}$ matrix $M(f) = \sum_t W_t e^{2\pi i f t/n}$, and "
        r"the singular values of $C$ are those of all the $M(f)$ together (Sedghi, Gupta and "
        "Long, 2019). A stride $s$ dividing $n$ is reduced to stride 1 by splitting the "
        r"input into its $s$ phases $x_r[q] = x[qs + r]$: tap $t$ reads phase "
        r"$(t - p) \bmod s$ at a shift, so the layer is a stride-1 circular convolution "
        r"with $s^d$ times the input channels."
    )
    for name, arguments in (
        ("`Conv2d(8, 8, 3, padding=1, padding_mode='circular')` on $12 \\times 12$",
         dict(input_shape=(12, 12), kernel_size=3, padding=1)),
        ("`Conv2d(8, 8, 4, stride=2, padding=1, padding_mode='circular')` on $12 \\times 12$",
         dict(input_shape=(12, 12), kernel_size=4, stride=2, padding=1)),
    ):
        layer_spec = tm.ConvSpec(**arguments, padding_mode="circular", in_channels=8,
                                 out_channels=8)
        w = scaled_weight(layer_spec.weight_shape, seed=1)
        fft = tm.singular_values(layer_spec, w, which="all", method="fft")
        gap = relative_gap(fft, svd(tm.conv_matrix(layer_spec, w)))
        doc.check(
            gap < 1e-12,
            f"{name}: the {len(fft)} singular values from the FFT equal numpy's SVD of $C$.",
            difference(gap, "largest difference relative to the norm"),
        )

    doc.step("Four real layers: the exact norm beside the shortcuts")
    layers = [
        ("3x3 `'same'`", "`Conv2d(8, 8, 3, padding=1)`",
         tm.ConvSpec((12, 12), 3, padding=1, in_channels=8, out_channels=8)),
        ("4x4 up, stride 2", "`ConvTranspose2d(8, 4, 4, stride=2, padding=1)` on $6 \\times 6$",
         tm.ConvSpec.from_transposed((6, 6), 8, 4, 4, stride=2, padding=1)),
        ("depthwise", "`Conv2d(8, 8, 3, padding=1, groups=8)`",
         tm.ConvSpec((12, 12), 3, padding=1, in_channels=8, out_channels=8, groups=8)),
        ("dilated", "`Conv2d(8, 8, 3, padding=2, dilation=2)`",
         tm.ConvSpec((12, 12), 3, padding=2, dilation=2, in_channels=8, out_channels=8)),
    ]
    doc.say(
        "The layers: " + "; ".join(f"{short}, {description}" for short, description, _
                                  in layers)
        + r"; all but the transposed one on $12 \times 12$."
    )
    doc.say(
        r"Write $W_g$ for group $g$'s kernel reshaped to $\mathit{out}/g \times "
        r"\mathit{in}/g \cdot k^2$ and $\mu$ for the most (output, tap) pairs that read one "
        r"input entry. Then $\|C\|_2 \le \sqrt{\mu}\,\max_g \|W_g\|_2$ always, because "
        r"$C\mathbf{x} = W_g U(\mathbf{x})$ per group with $U$ the im2col block and "
        r"$\|U(\mathbf{x})\|_F^2 \le \mu \|\mathbf{x}\|^2$; and $\|C\|_2 \ge \max_g "
        r"\|W_g\|_2$ when some output reads all $k^2$ taps inside the input, because then "
        r"$W_g$ is a submatrix of $C$. Zero padding keeps rows of the stride-1 circular "
        r"layer on the padded grid, so that circular norm is an upper bound too. Weights "
        r"are normal with variance one over the fan-in, seed 0."
    )
    rows = []
    bounds_hold, exact_ok = True, True
    for short, _, layer_spec in layers:
        w = scaled_weight(layer_spec.weight_shape, seed=0)
        c = tm.compare_norms(layer_spec, w)
        exact = svd(tm.conv_matrix(layer_spec, w))[0]
        exact_ok &= abs(c.norm - exact) <= 1e-10 * exact
        bounds_hold &= (
            c.lower is not None and c.lower <= c.norm * (1 + 1e-12)
            and c.norm <= c.upper and c.norm <= c.circular_padded
        )
        rows.append((
            short,
            number(c.reshaped),
            number(c.reshaped_groups),
            "—" if c.circular is None else number(c.circular),
            number(c.norm),
            number(c.upper),
            number(c.circular_padded),
        ))
        if short == "depthwise":
            depthwise = c
        if short == "4x4 up, stride 2":
            upsampling = (c, w)
    doc.table(
        (
            "layer",
            r"$\|W\|_2$",
            r"$\max_g \|W_g\|_2$",
            "circ., same $n$",
            r"$\|C\|_2$",
            r"$\sqrt{\mu}\max_g \|W_g\|_2$",
            "circ., padded",
        ),
        rows,
        r"The exact norm $\|C\|_2$ beside the shortcuts. $\|W\|_2$ is what "
        "`spectral_norm` divides by ($W$ the whole weight reshaped, groups stacked); "
        "circ.: the circular layer on the same input, or stride 1 on the padded input.",
    )
    doc.check(
        exact_ok,
        r"Each $\|C\|_2$ in the table equals the largest singular value numpy's SVD finds "
        r"for the explicit $C$ (to $10^{-10}$ relative).",
    )
    doc.check(
        bounds_hold,
        r"For all four layers $\max_g\|W_g\|_2 \le \|C\|_2 \le \sqrt{\mu}\max_g\|W_g\|_2$, "
        r"and $\|C\|_2 \le$ the circular norm on the padded grid.",
    )
    doc.say(
        r"With groups, the whole weight's $\|W\|_2$ stacks kernels that $C$ keeps apart, so "
        r"it is no bound: for this depthwise layer it is "
        rf"{'below' if depthwise.reshaped < depthwise.norm else 'above'} $\|C\|_2$, and "
        "with equal kernels (next step) it is far above."
    )
    c, w = upsampling
    torch_dim = tm.analysis.reshaped_kernel_norm(w, dim=1)
    doc.say(
        "For the transposed layer, torch's `spectral_norm` reshapes the "
        "`ConvTranspose2d` weight with `dim=1`, a different matrix from the forward "
        rf"convolution's $W$: it divides by {number(torch_dim)}, against the layer's "
        rf"{number(c.norm)}."
    )

    doc.step("When the shortcuts are wrong")
    channels = 8
    kernel = np.random.default_rng(4).standard_normal((1, 1, 3, 3))
    same_kernels = np.repeat(kernel, channels, axis=0)
    spec_dw = tm.ConvSpec((10, 10), 3, padding=1, in_channels=channels,
                          out_channels=channels, groups=channels)
    c_dw = tm.compare_norms(spec_dw, same_kernels)
    doc.say(
        "Eight channels with the same $3 \\times 3$ kernel in a depthwise layer: the "
        r"stacked weight has norm $\sqrt{8}\,\|w\|$, while each channel's layer has norm at "
        r"most $\max_\theta |\hat w(\theta)| \le 3\|w\|$."
    )
    doc.check(
        abs(c_dw.reshaped - np.sqrt(channels) * np.linalg.norm(kernel)) < 1e-12
        and c_dw.reshaped > c_dw.norm,
        rf"$\|W\|_2 = \sqrt{{8}}\,\|w\| = {plain(c_dw.reshaped)}$ exceeds "
        rf"$\|C\|_2 = {plain(c_dw.norm)}$.",
    )
    spec_7 = tm.ConvSpec(7, 3, padding=1, in_channels=1, out_channels=3)
    w_7 = np.random.default_rng(3).standard_normal(spec_7.weight_shape)
    c_7 = tm.compare_norms(spec_7, w_7)
    doc.say(
        "The circular layer of the same size is a different operator: its $n$ frequencies "
        r"can miss the peak of $\|M(\theta)\|$ that the zero-padded layer's vectors reach. "
        "`Conv1d(1, 3, 3, padding=1)` on length 7 with standard normal weights (seed 3):"
    )
    doc.check(
        c_7.circular < c_7.norm <= c_7.circular_padded,
        rf"circular, same size {number(c_7.circular)} $<$ $\|C\|_2$ = {number(c_7.norm)} "
        rf"$\le$ circular on the padded length 9, {number(c_7.circular_padded)}.",
    )
    spec_2 = tm.ConvSpec(2, 2, stride=2, padding=1, in_channels=2, out_channels=3)
    w_2 = np.random.default_rng(11).standard_normal(spec_2.weight_shape)
    c_2 = tm.compare_norms(spec_2, w_2)
    doc.check(
        not c_2.whole_window and c_2.reshaped > c_2.norm,
        "When no window lies inside the input the reshaped norm can exceed the layer's: "
        rf"`Conv1d(2, 3, 2, stride=2, padding=1)` on length 2 has $\|W\|_2$ = "
        rf"{number(c_2.reshaped)} $>$ $\|C\|_2$ = {number(c_2.norm)}.",
    )

    doc.step(r"Kernel = stride: the spectrum in closed form")
    spec_ks = tm.ConvSpec(6, 2, stride=2)
    Cks = sympy.Matrix(tm.symbolic_conv_matrix(spec_ks))
    a, b = tm.weight_symbols(spec_ks)[0, 0]
    block = sympy.Matrix([[a], [b]]) * sympy.Matrix([[a, b]])
    doc.say(
        "With $k = s$ and no padding the windows tile the input: the rows of $C$ read "
        r"disjoint columns, so $C^{\mathsf T}C$ is block diagonal with one identical block "
        r"$W^{\mathsf T}W$ per output position. For `Conv1d(1, 1, 2, stride=2)` on length 6:"
    )
    doc.matrix(r"C^{\mathsf T} C", Cks.T * Cks, zero="0")
    doc.check(
        sympy_check(
            Cks.T * Cks,
            sympy.kronecker_product(sympy.eye(3), block),
            says=r"$C^{\mathsf T}C = I_3 \otimes (w w^{\mathsf T})$",
        )
    )
    doc.say(
        r"So the singular values of $C$ (and of the up-convolution $C^{\mathsf T}$) are "
        r"those of $W$, the $\mathit{out} \times \mathit{in} \cdot k^2$ reshaped kernel, each "
        "repeated once per output position, and zeros: here the reshaped-kernel norm is "
        "exact."
    )
    up = torch.nn.ConvTranspose2d(8, 4, 2, stride=2, bias=False).double()
    torch.nn.init.normal_(up.weight, generator=torch.Generator().manual_seed(2))
    probed = tm.module_matrix(up, (8, 6, 6))
    w_up = up.weight.detach().numpy()
    kernel_values = np.linalg.svd(w_up.reshape(8, -1), compute_uv=False)
    closed = np.sort(np.repeat(kernel_values, 36))[::-1]
    gap = relative_gap(closed, svd(probed))
    doc.check(
        gap < 1e-12,
        r"U-Net's up-convolution `ConvTranspose2d(8, 4, 2, stride=2)` on $6 \times 6$: the "
        r"288 singular values of torch's layer are the 8 singular values of its "
        r"$8 \times 16$ reshaped weight, each 36 times.",
        difference(gap, "largest difference relative to the norm"),
    )
    torch_dim = tm.analysis.reshaped_kernel_norm(w_up, dim=1)
    doc.check(
        abs(torch_dim - kernel_values[0]) > 0.01 * kernel_values[0],
        r"Even here `spectral_norm(ConvTranspose2d)`, which reshapes with `dim=1` to "
        rf"$4 \times 32$, divides by {number(torch_dim)} instead of the exact "
        rf"{number(kernel_values[0])}.",
    )
    return doc


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
