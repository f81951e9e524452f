"""Output sizes: the library's derivation of the size formulas, checked against torch.

Question: what output size does a (transposed) convolution have, why does a
transposed layer need ``output_padding``, and which values may it take?
Answer: ``transpose_matrix.output_size_derivation``, the library's own
derivation (every formula a sympy expression checked symbolically or
exhaustively), for a transposed layer of a lecture example; then the formulas
against PyTorch's layers on a grid of geometries.

Run: ``python derivations/output_sizes.py [--latex FILE]``.
"""

from __future__ import annotations

import itertools
import sys

import _common

import transpose_matrix as tm
from transpose_matrix import Derivation


def build() -> Derivation:
    """The library's output-size derivation, then torch's layers on a grid."""
    import torch

    # The transposed layer ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)
    # on 3 x 3: its forward convolution maps 6 x 6 to 3 x 3.
    spec = tm.ConvSpec.from_transposed((3, 3), 1, 1, 3, stride=2, padding=1, output_padding=1)
    doc = tm.output_size_derivation(spec)

    doc.step("Against PyTorch")
    doc.say(
        "The formulas above are the library's; PyTorch's layers are the outside referee. "
        "On a grid of one-dimensional geometries, `Conv1d` and `ConvTranspose1d` are run on "
        "zeros and their output lengths compared, and every `output_padding` from 0 to "
        r"$\max(s, d) + 1$ is tried on the transposed layer."
    )
    sizes_ok = transposed_ok = refused_ok = True
    cases = 0
    for n, k, s, p, d in itertools.product(range(1, 9), range(1, 4), range(1, 4), range(3), (1, 2)):
        if n + 2 * p < d * (k - 1) + 1:
            continue
        cases += 1
        conv = torch.nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
        o = conv(torch.zeros(1, 1, n)).shape[-1]
        sizes_ok &= o == tm.conv_output_size(n, k, s, p, d)
        for a in range(max(s, d) + 2):
            try:
                layer = torch.nn.ConvTranspose1d(
                    1, 1, k, stride=s, padding=p, output_padding=a, dilation=d, bias=False
                )
                m = layer(torch.zeros(1, 1, o)).shape[-1]
            except (RuntimeError, ValueError):
                m = None  # torch refuses this output_padding (or the size)
            try:
                ours = tm.transposed_conv_output_size(o, k, s, p, a, d)
            except tm.ConvSpecError:
                ours = None
            transposed_ok &= m == ours
            refused_ok &= (m is None) == (a >= max(s, d) or ours is None)
    grid = r"$n \le 8$, $k \le 3$, $s \le 3$, $p \le 2$, $d \le 2$"
    doc.check(
        sizes_ok,
        f"`Conv1d` has `conv_output_size` outputs for every geometry with {grid} "
        f"({cases} geometries).",
    )
    doc.check(
        transposed_ok,
        "`ConvTranspose1d` has `transposed_conv_output_size` outputs for every one of them "
        "and every `output_padding` it accepts.",
    )
    doc.check(
        refused_ok,
        r"PyTorch refuses exactly the `output_padding` values $a \ge \max(s, d)$ that the "
        "derivation excludes (or sizes below 1).",
    )
    return doc


if __name__ == "__main__":
    sys.exit(_common.main(build, __file__))
