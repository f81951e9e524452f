"""Sub-pixel convolution is transposed convolution.

Question: super-resolution networks upsample with a stride-1 convolution to
s^d times the channels followed by ``PixelShuffle`` ("sub-pixel
convolution"); decoders use a stride-s transposed convolution. Are they the
same layer? Answer: yes, exactly, for every kernel size k and stride s: the
transposed convolution's output splits into s^d phases, each a stride-1
convolution with the kernel taps of that phase, and the pixel shuffle
interleaves the phases. The kernel is re-indexed (taps every s, flipped, zero
filled to a multiple of s), and the shuffled result is cropped (or padded)
at the ends by amounts stated here. Checked as a matrix identity with sympy,
and against ``torch.nn.ConvTranspose2d`` and ``torch.nn.PixelShuffle``.

Run: ``python derivations/subpixel.py [--latex FILE]``.
"""

from __future__ import annotations

import itertools
import sys

import _common
import numpy as np
import scipy.sparse
import sympy
from _common import difference, max_error

import transpose_matrix as tm
from transpose_matrix import Derivation
from transpose_matrix.narrative import Equation
from transpose_matrix.narrative.derivation import exhaustive_check, sympy_check


def sub_kernel(weight: np.ndarray, s: int) -> np.ndarray:
    """The stride-1 kernel ``g`` of the sub-pixel form from a ConvTranspose weight.

    ``weight`` is ``(in, out, *k)`` (torch's ConvTranspose layout); ``g`` is
    ``(out * s**d, in, *K)`` with ``K = ceil(k / s)`` per dim and
    ``g[(o, *r), c, *v] = weight[c, o, *((K - 1 - v) * s + r)]``, zero where
    that tap is past the kernel. Channel ``(o, *r)`` is flattened as
    ``PixelShuffle`` reads it: ``o * s**d + r_0 * s**(d-1) + ...``.
    """
    cin, cout, *kernel = weight.shape
    ndim = len(kernel)
    taps = [-(-k // s) for k in kernel]
    # Zero-fill every dim to K*s taps, then read tap (K - 1 - v)*s + r.
    filled = np.zeros((cin, cout, *(K * s for K in taps)), dtype=weight.dtype)
    filled[(slice(None), slice(None), *(slice(0, k) for k in kernel))] = weight
    shaped = filled.reshape(cin, cout, *itertools.chain(*((K, s) for K in taps)))
    # axes: c, o, (u_0, r_0), (u_1, r_1), ... with tap = u*s + r; v = K - 1 - u.
    u_axes = [2 + 2 * a for a in range(ndim)]
    r_axes = [3 + 2 * a for a in range(ndim)]
    flipped = np.flip(shaped, axis=tuple(u_axes))
    g = flipped.transpose(1, *r_axes, 0, *u_axes)
    return np.ascontiguousarray(g).reshape(cout * s**ndim, cin, *taps)


def shuffle_matrix(channels: int, shape: tuple[int, ...], s: int) -> scipy.sparse.csr_array:
    """Π: ``(o, *r, *a)`` (channels ``o·s^d + r``, positions ``a``) to ``(o, *(a·s + r))``."""
    ndim = len(shape)
    index = np.indices((channels, *(s,) * ndim, *shape)).reshape(1 + 2 * ndim, -1)
    o, r, a = index[0], index[1 : 1 + ndim], index[1 + ndim :]
    source = np.ravel_multi_index(index, (channels, *(s,) * ndim, *shape))
    target = np.ravel_multi_index((o, *(a * s + r)), (channels, *(n * s for n in shape)))
    size = source.size
    return scipy.sparse.csr_array((np.ones(size), (target, source)), shape=(size, size))


def crop_matrix(channels: int, shape: tuple[int, ...], before, after) -> scipy.sparse.csr_array:
    """S: crop ``before``/``after`` entries per dim (negative ``after``: zeros appended)."""
    return scipy.sparse.csr_array(
        scipy.sparse.kron(
            scipy.sparse.eye(channels),
            tm.pad_matrix(shape, [(-b, -a) for b, a in zip(before, after)]),
        )
    )


def amounts(k: int, s: int, p: int, o: int) -> tuple[int, int, int]:
    """``K``, and the crop before and after the shuffled result along one dim."""
    K = -(-k // s)
    return K, p, s * K - k + p - o


def number(error: float) -> str:
    """A difference as maths with two digits: ``$4.4 \\times 10^{-16}$``, or ``0``."""
    from transpose_matrix.render import format_number

    return f"${format_number(float(f'{error:.1e}'))}$" if error else "0"


def subpixel(torch, y, weight, s, p, o):
    """crop ∘ PixelShuffle(s) ∘ conv2d(padding=K-1) of ``y`` (N, in, H, W) in torch."""
    F = torch.nn.functional
    g = torch.tensor(sub_kernel(weight, s))
    taps = g.shape[2:]
    z = torch.nn.PixelShuffle(s)(F.conv2d(y, g, padding=tuple(K - 1 for K in taps)))
    crops = [amounts(k, s, pi, oi) for k, pi, oi in zip(weight.shape[2:], p, o)]
    return F.pad(z, [-v for _, b, a in reversed(crops) for v in (b, a)])


def build() -> Derivation:
    """The derivation: phases, the 1-D identity with symbols, crops, torch on a grid."""
    import torch

    doc = Derivation("Sub-pixel convolution is transposed convolution")
    doc.say(
        "A transposed convolution with stride $s$ sends input $y_j$ times tap $w_t$ to output "
        r"position $js + t - p$. Sub-pixel convolution (a stride-1 convolution to "
        r"$s^d$ times the channels, then `PixelShuffle`) computes each output pixel from "
        "one of $s^d$ channels. The two are the same layer: below, the transposed convolution's "
        "matrix is factored exactly as a crop, a pixel shuffle and a stride-1 convolution, "
        "for every kernel size $k$ and stride $s$ (dilation 1)."
    )

    doc.step("Phases: every output position sees the taps of one residue")
    j, t, a, r, u, v = sympy.symbols("j t a r u v", integer=True, nonnegative=True)
    s, K, k = sympy.symbols("s K k", integer=True, positive=True)
    w, y, z, g = (sympy.IndexedBase(name) for name in ("w", "y", "z", "g"))
    doc.say(
        r"Without padding the transposed convolution has $F = (n - 1)s + k$ outputs, "
        r"$z_m = \sum w_t y_j$ over $js + t = m$. Write $m = as + r$ with phase "
        r"$0 \le r < s$: then $t - r$ is a multiple of $s$, so $t = us + r$ and $j = a - u$. Each "
        "phase is a stride-1 convolution of $y$ with the taps $w_r, w_{s + r}, \\dots$ only; "
        "as a cross-correlation (torch's `conv`) over $y$ padded by $K - 1$ zeros, "
        r"$K = \lceil k/s \rceil$, it reads the taps flipped:"
    )
    first = w[u * s + r] * y[a - u]
    second = g[r, v] * y[a - K + 1 + v]
    tap = (K - 1 - v) * s + r
    phase = Equation(
        z[a * s + r], sympy.Sum(first, (u, 0, K - 1)), sympy.Sum(second, (v, 0, K - 1))
    )
    doc.show(phase, Equation(g[r, v], w[tap], note=r"($w_t = 0$ for $t \ge k$)"))
    # The displayed index expressions, evaluated: what is shown is what is checked.
    first_tap = sympy.lambdify((u, s, r), first.args[0].indices[0] if first.args[0].base == w
                               else first.args[1].indices[0])
    second_tap = sympy.lambdify((K, v, s, r), tap)
    source = sympy.lambdify((a, K, v), second.args[1].indices[0] if second.args[1].base == y
                            else second.args[0].indices[0])

    def phase_formula(case) -> bool:
        n, k_, s_ = case
        rng_case = np.random.default_rng(k_ * 31 + s_ * 7 + n)
        wv, yv = rng_case.standard_normal(k_), rng_case.standard_normal(n)
        spec = tm.ConvSpec.from_transposed((n,), 1, 1, k_, stride=s_)
        full = tm.transposed_conv_matrix(spec, wv[None, None]) @ yv
        K_ = -(-k_ // s_)

        def at(values, i):
            return values[i] if 0 <= i < len(values) else 0.0

        ok = True
        for a_, r_ in itertools.product(range(n + K_ - 1), range(s_)):
            m = a_ * s_ + r_
            by_u = sum(at(wv, first_tap(u_, s_, r_)) * at(yv, a_ - u_) for u_ in range(K_))
            by_v = sum(at(wv, second_tap(K_, v_, s_, r_)) * at(yv, source(a_, K_, v_))
                       for v_ in range(K_))
            ok &= abs(by_u - at(full, m)) < 1e-12 and abs(by_v - at(full, m)) < 1e-12
        # sub_kernel (used below with torch) is that re-indexing.
        gv = sub_kernel(wv[None, None], s_)[:, 0]
        ok &= all(gv[r_, v_] == at(wv, second_tap(K_, v_, s_, r_))
                  for r_ in range(s_) for v_ in range(K_))
        return bool(ok)

    cases = [(n, k_, s_) for n in range(1, 6) for k_ in range(1, 8) for s_ in range(1, 5)]
    doc.check(
        exhaustive_check(
            cases,
            phase_formula,
            says=r"Both sums, with the displayed indices, equal the full transposed "
            r"convolution $C^{\mathsf T}\mathbf{y}$ at $as + r$ (0 past $F$), and the kernel "
            r"given to torch below is the displayed $g$",
            over=r"$n \le 5$, $k \le 7$, $s \le 4$, every $a$ and $r$",
        )
    )
    doc.say(
        r"With channels the layer's weight is $w_{c, o, t}$ (torch's `ConvTranspose` layout: "
        r"in, out, kernel), and in $d$ dimensions each dimension has its own phase. The "
        r"stride-1 convolution has $\mathit{out} \cdot s^d$ output channels, channel "
        r"$o s^d + r$ (in `PixelShuffle`'s order, $r$ read in C order over the dimensions) "
        r"holding phase $r$ of output channel $o$, and weight "
        r"$g_{o s^d + r,\, c,\, v} = w_{c,\, o,\, (K - 1 - v)s + r}$ per dimension."
    )

    doc.step(r"One dimension with symbols: $k = 3$, $s = 2$, $k$ not a multiple of $s$")
    spec = tm.ConvSpec.from_transposed(3, 1, 1, 3, stride=2, padding=1, output_padding=1)
    Ct = sympy.Matrix(tm.symbolic_conv_matrix(spec).T)
    w0, w1, w2 = tm.weight_symbols(spec)[0, 0]
    doc.say(
        "`ConvTranspose1d(1, 1, 3, stride=2, padding=1, output_padding=1)` on length 3 gives "
        r"length 6. Here $K = 2$: phase 0 uses taps $w_0, w_2$ and phase 1 only $w_1$, filled "
        "with a zero. The kernel $G$ of the stride-1 convolution (rows: phases = output "
        r"channels; columns: $v$), and that convolution's matrix $C_{\mathrm{sub}}$ on $y$ "
        r"padded by $K - 1 = 1$:"
    )
    G = sympy.Matrix(sub_kernel(np.array([[[w0, w1, w2]]], dtype=object), 2)[:, 0].tolist())
    G = G.applyfunc(lambda e: sympy.sympify(e))
    sub_spec = tm.ConvSpec(3, 2, padding=1, out_channels=2)
    labels = tm.weight_symbols(sub_spec).reshape(2, 2)
    Csub = tm.symbolic_conv_matrix(sub_spec).xreplace(
        {labels[i, jj]: G[i, jj] for i in range(2) for jj in range(2)}
    )
    doc.matrices([("G", G), (r"C_{\mathrm{sub}}", Csub)], zero="0")
    Pi = shuffle_matrix(1, (4,), 2)
    _, before, after_1d = amounts(3, 2, 1, 1)
    S = crop_matrix(1, (8,), (before,), (after_1d,))
    doc.say(
        r"The pixel shuffle $\Pi$ interleaves the two phases (entry $a$ of phase $r$ goes to "
        r"$2a + r$), and $S$ crops $p = 1$ entry at the start and $sK - k + p - o = 1$ at "
        "the end:"
    )
    doc.matrices([(r"\Pi", Pi), ("S", S)])
    product = sympy.Matrix(S.toarray().astype(int)) * sympy.Matrix(Pi.toarray().astype(int))
    product = product * sympy.Matrix(Csub)
    doc.matrices([(r"S\,\Pi\,C_{\mathrm{sub}}", product), (r"C^{\mathsf T}", Ct)])
    doc.check(
        sympy_check(
            product,
            Ct,
            says=r"$C^{\mathsf T} = S\,\Pi\,C_{\mathrm{sub}}$ entry by entry, as polynomials "
            "in the kernel symbols,",
        )
    )

    doc.step("The crop, exactly")
    n, p, o = sympy.symbols("n p o", integer=True, nonnegative=True)
    doc.say(
        r"Each phase of the stride-1 convolution has $n + K - 1$ outputs, so the shuffle gives "
        r"$s(n + K - 1)$ entries: the full $F = (n - 1)s + k$ followed by $sK - k$ zeros "
        r"($0 \le sK - k < s$). `ConvTranspose` with `padding` $p$ and `output_padding` $o$ "
        r"outputs entries $p, \dots, p + (n - 1)s - 2p + k + o - 1$ of that, so per "
        "dimension $S$ crops $p$ entries before and"
    )
    after = s * (n + K - 1) - p - ((n - 1) * s - 2 * p + k + o)
    with sympy.evaluate(False):
        doc.show(Equation(sympy.Symbol(r"c_{\mathrm{after}}"), s * K - k + p - o,
                          note="entries after."))
    doc.check(
        sympy_check(
            after,
            s * K - k + p - o,
            says=r"$s(n + K - 1) - p - ((n - 1)s - 2p + k + o) = sK - k + p - o$",
        )
    )
    doc.say(
        "A negative amount means zeros appended instead: it happens "
        r"when `output_padding` asks for more than the slack, $o > sK - k + p$ (e.g. $k = 4$, "
        r"$s = 2$, $p = 0$, $o = 1$ appends one zero, as `ConvTranspose` itself outputs a "
        r"zero there). No crop at all needs $p = 0$ and $o = sK - k$: with $k = s$ that is "
        "the U-Net case of kernel = stride, a $1 \\times 1$ convolution and a shuffle."
    )
    negative = [
        (k_, s_, p_, o_)
        for k_, s_ in itertools.product(range(1, 8), range(1, 5))
        for p_ in range(3)
        for o_ in range(s_)
        if amounts(k_, s_, p_, o_)[2] < 0
    ]
    doc.check(
        (4, 2, 0, 1) in negative
        and all(o_ > s_ * -(-k_ // s_) - k_ + p_ for k_, s_, p_, o_ in negative),
        r"Over $k \le 7$, $s \le 4$, $p \le 2$, $o < s$ the after-amount is negative "
        f"exactly when $o > sK - k + p$ ({len(negative)} cases).",
    )

    doc.step("Against torch: `ConvTranspose2d` and `PixelShuffle`")
    doc.say(
        r"In two dimensions with channels ($2 \to 3$, input $3 \times 4$), for every kernel "
        r"$k \le 6$ (square and $k \times (k + 1)$), stride $s \le 4$, padding $p \le 2$ and "
        r"`output_padding` $o < s$ that `ConvTranspose2d` accepts: torch's layer against "
        "`F.pad(PixelShuffle(s)(conv2d(y, g, padding=K - 1)), crop)` with the re-indexed "
        r"kernel $g$, and $C^{\mathsf T}$ against $S\,\Pi\,C_{\mathrm{sub}}$ built from the "
        "library's sparse matrices."
    )
    rng = np.random.default_rng(0)
    y_np = rng.standard_normal((1, 2, 3, 4))
    y_t = torch.tensor(y_np)
    rows = []
    worst = {"torch": 0.0, "matrix": 0.0}

    def layer_case(case) -> bool:
        kernel, s_, p_, o_ = case
        weight = rng.standard_normal((2, 3, *kernel))
        layer = torch.nn.ConvTranspose2d(2, 3, kernel, stride=s_, padding=p_, output_padding=o_,
                                         bias=False).double()
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(weight))
            expected = layer(y_t)
            got = subpixel(torch, y_t, weight, s_, (p_, p_), (o_, o_))
        error = max_error(got.numpy(), expected.numpy())
        # The same identity between matrices.
        spec = tm.ConvSpec.from_transposed((3, 4), 2, 3, kernel, stride=s_, padding=p_,
                                           output_padding=o_)
        taps = tuple(-(-k_ // s_) for k_ in kernel)
        sub = tm.ConvSpec((3, 4), taps, padding=tuple(K_ - 1 for K_ in taps), in_channels=2,
                          out_channels=3 * s_ * s_)
        Csub = tm.conv_matrix(sub, sub_kernel(weight, s_))
        Pi = shuffle_matrix(3, sub.output_shape, s_)
        crops = [amounts(k_, s_, p_, o_) for k_ in kernel]
        S = crop_matrix(3, tuple(n_ * s_ for n_ in sub.output_shape),
                        [c[1] for c in crops], [c[2] for c in crops])
        matrix_error = max_error(S @ Pi @ Csub, tm.transposed_conv_matrix(spec, weight))
        worst["torch"] = max(worst["torch"], error)
        worst["matrix"] = max(worst["matrix"], matrix_error)
        if (kernel[0] in (3, 4, 5) and kernel[0] == kernel[1] and s_ in (2, 3)
                and p_ == 1 and o_ == s_ - 1):
            K_ = taps[0]
            rows.append((
                f"${kernel[0]} \\times {kernel[1]}$", s_, p_, o_, K_, 3 * s_ * s_,
                f"${crops[0][1]}, {crops[0][2]}$", number(error),
            ))
        return error < 1e-12 and matrix_error < 1e-12

    grid = [
        (kernel, s_, p_, o_)
        for k_ in range(1, 7)
        for kernel in ((k_, k_), (k_, k_ + 1))
        for s_ in range(1, 5)
        for p_ in range(3)
        for o_ in range(s_)
        # torch's rule: a positive output size in both dims.
        if all((3 - 1) * s_ - 2 * p_ + kk + o_ >= 1 for kk in kernel)
    ]
    doc.check(
        exhaustive_check(
            grid,
            layer_case,
            says=r"`ConvTranspose2d` equals `conv2d` with the re-indexed kernel, then "
            r"`PixelShuffle`, then the crop, and $C^{\mathsf T} = S\,\Pi\,C_{\mathrm{sub}}$",
            over=r"$k \le 6$ (square and $k \times (k + 1)$), $s \le 4$, $p \le 2$, $o < s$",
        )
    )
    doc.table(
        ("$k$", "$s$", "$p$", "$o$", "$K$", "channels", "crop before, after", "difference"),
        rows,
        "Some of the layers checked: the stride-1 convolution's kernel size $K$ and output "
        "channels ($3 s^2$), the crop after the shuffle, and the largest difference from torch.",
    )
    doc.check(
        worst["torch"] < 1e-12,
        "Over the whole grid the two computations agree with torch's layer.",
        difference(worst["torch"]),
    )

    doc.step("What the re-indexing costs")
    weight = rng.standard_normal((2, 3, 5, 5))
    g_np = sub_kernel(weight, 2)
    values = np.sort(g_np[g_np != 0])
    doc.say(
        r"$g$ holds every weight of $w$ exactly once and zeros elsewhere: for $k = 5$, $s = 2$ "
        rf"it has $3 \cdot 2^2 \times 2 \times 3 \times 3$ = {g_np.size} entries for "
        rf"{weight.size} weights. The zeros are the taps past the kernel, $(sK)^d - k^d$ per "
        "channel pair; when $s$ divides $k$ there are none, and the sub-pixel form does "
        "exactly the multiplications the transposed convolution needs, none with inserted "
        "zeros."
    )
    doc.check(
        np.array_equal(values, np.sort(weight.reshape(-1)))
        and g_np.size - np.count_nonzero(g_np) == 6 * (6**2 - 5**2),
        r"$g$ is a rearrangement of $w$ plus $(sK)^d - k^d = 36 - 25$ zeros per channel pair.",
    )
    return doc


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
