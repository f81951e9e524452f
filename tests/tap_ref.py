"""Which kernel tap each stored entry of C holds, written from the definition with loops.

Output ``(o, *j)`` reads input ``(c, *i)`` through tap ``t`` when ``i = j*s -
p_before + t*d`` (every dim) and ``c`` is an input channel of ``o``'s group.
Shared by the tests of the pictures, which colour every entry by its tap.
"""

from __future__ import annotations

import itertools

import numpy as np


def taps_by_definition(spec) -> dict[tuple[int, int], int]:
    """``(row, column)`` of C -> flat kernel tap, for every entry inside the input."""
    taps = {}
    per_in = spec.in_channels // spec.groups
    per_out = spec.out_channels // spec.groups
    outputs = list(itertools.product(*(range(n) for n in spec.output_shape)))
    size = int(np.prod(spec.input_shape))
    kernel = list(itertools.product(*(range(k) for k in spec.kernel_size)))
    for o, (jj, j) in itertools.product(range(spec.out_channels), enumerate(outputs)):
        group = o // per_out
        for c in range(group * per_in, (group + 1) * per_in):
            for flat, t in enumerate(kernel):
                i = [j[a] * spec.stride[a] - spec.padding[a][0] + t[a] * spec.dilation[a]
                     for a in range(spec.ndim)]
                if all(0 <= i[a] < spec.input_shape[a] for a in range(spec.ndim)):
                    column = c * size + int(np.ravel_multi_index(i, spec.input_shape))
                    taps[(o * len(outputs) + jj, column)] = flat
    return taps
