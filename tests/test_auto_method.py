"""What ``method='auto'`` picks, from the rule its docstrings state.

:func:`~transpose_matrix.operator.auto_method` says: ``'im2col'`` when
``out_channels > 2 * in_channels``, else ``'summed'`` when the estimate of
:func:`~transpose_matrix.operator.numpy_backend.summed_pays` says so (one
group only), else ``'polyphase'``. The estimate's docstring gives its terms
per correlation (the forward, and each phase of the polyphase adjoint). This
module writes that rule again from the docstrings, finding the adjoint's
phases by brute force from the definition of the convolution (which output
and tap reads which input), and pins the pick for named layers, strided and
1-D ones among them, where the two terms of the estimate are close.
"""

from __future__ import annotations

import math

import pytest

from transpose_matrix import ConvSpec
from transpose_matrix.operator import auto_method, conv_operator

#: c of the docstring: one multiply-add costs this many copied entries.
PRODUCT_COST = 0.04


def _phases_along(n, out, k, s, d, before, after):
    """One dim of the adjoint: per residue of ``(i + before) % s``, (taps, count, step).

    Input ``i`` is read by tap ``t`` of output ``j`` when ``j*s - before +
    t*d == i``; the taps that can read an input of residue ``r`` are those
    with ``t*d % s == r``. Inputs cropped away (``i >= n + after``) receive
    nothing. A phase with no tap or no input is dropped.
    """
    kept = min(n, n + after)
    phases = {}
    for r in range(s):
        taps = [t for t in range(k) if (t * d) % s == r]
        count = sum(1 for i in range(kept) if (i + before) % s == r)
        if taps and count:
            # Consecutive taps of a phase read outputs this far apart.
            step = (taps[1] - taps[0]) * d // s if len(taps) > 1 else 1
            phases[r] = (len(taps), count, step)
    return phases


def _correlations(spec):
    """(cg, m, taps, step, count, stride) of the forward and of each adjoint phase."""
    forward = (spec.in_channels, spec.out_channels, spec.kernel_size, spec.dilation[0],
               spec.output_shape, spec.stride[0])
    per_dim = [
        _phases_along(n, out, k, s, d, before, after)
        for n, out, k, s, d, (before, after) in zip(
            spec.input_shape, spec.output_shape, spec.kernel_size, spec.stride, spec.dilation,
            spec.padding)
    ]
    adjoint = []
    for phase in _product([list(p.values()) for p in per_dim]):
        taps = tuple(p[0] for p in phase)
        count = tuple(p[1] for p in phase)
        adjoint.append((spec.out_channels, spec.in_channels, taps, phase[0][2], count, 1))
    return [forward, *adjoint]


def _product(lists):
    if not lists:
        return [()]
    return [(head, *tail) for head in lists[0] for tail in _product(lists[1:])]


def docstring_pick(spec: ConvSpec) -> str:
    """The pick by the rule as the docstrings state it."""
    if spec.out_channels > 2 * spec.in_channels:
        return "im2col"
    if spec.groups > 1:
        return "polyphase"
    im2col_cost = summed_cost = 0.0
    usable = False
    for cg, m, taps, step, count, stride in _correlations(spec):
        size, outputs = math.prod(taps), math.prod(count)
        gathered = cg * size * outputs + PRODUCT_COST * m * cg * size * outputs
        im2col_cost += gathered
        # One tap on the first dim, or a stride there: the same either way.
        if taps[0] == 1 or stride != 1:
            summed_cost += gathered
            continue
        usable = True
        columns = outputs // count[0] * (count[0] + (taps[0] - 1) * step)
        copies = 0 if len(taps) == 1 else cg * math.prod(taps[1:]) * columns
        summed_cost += (copies + PRODUCT_COST * m * cg * size * columns
                        + taps[0] * m * columns / 2)
    return "summed" if usable and summed_cost <= im2col_cost else "polyphase"


#: Named layers and the pick the rule gives (worked out from docstring_pick
#: above; the comments say which term decides).
NAMED = {
    # 1-D: no copies in the summed form, so it pays for short products ...
    "1d-audio-3tap": (ConvSpec((64,), 3, 1, 1, 1, 16, 16), "summed"),
    # ... and even for wide ones, where 2-D layers of the same width do not.
    "1d-wide-3tap": (ConvSpec((64,), 3, 1, 1, 1, 96, 96), "summed"),
    "2d-wide-3x3": (ConvSpec((16, 16), 3, 1, 1, 1, 96, 96), "polyphase"),
    # Strided forward: only the adjoint's phases (stride 1) can be summed;
    # here their one-tap phases make summing not worth it ...
    "2d-stride2-3x3": (ConvSpec((16, 16), 3, 2, 1, 1, 16, 16), "polyphase"),
    # ... while a 5-tap stride-2 layer's two- and three-tap phases pay.
    "2d-stride2-5x5": (ConvSpec((16, 16), 5, 2, 2, 1, 8, 8), "summed"),
    "1d-stride2-4tap": (ConvSpec((64,), 4, 2, 1, 1, 8, 8), "summed"),
    # Stride 3 with kernel 3: every phase has one tap, nothing to sum.
    "1d-stride3-3tap": (ConvSpec((63,), 3, 3, 0, 1, 8, 8), "polyphase"),
    # The U-Net 3x3 and a 3-D 3x3x3 'same' layer: summed.
    "2d-unet-3x3": (ConvSpec((32, 32), 3, 1, 1, 1, 16, 16), "summed"),
    "3d-3x3x3": (ConvSpec((6, 8, 8), 3, 1, 1, 1, 4, 4), "summed"),
    # Dilated along the second dim only: the first dim's reach decides, and
    # at 128 channels the summed form still pays.
    "2d-dilated-columns": (ConvSpec((24, 24), 3, 1, (1, 4), (1, 4), 128, 128), "summed"),
    # A one-tap first dim: nothing to sum whatever the rest.
    "2d-1x3": (ConvSpec((16, 16), (1, 3), 1, (0, 1), 1, 8, 8), "polyphase"),
    # Many more outputs than inputs: im2col; grouped: polyphase.
    "2d-stem": (ConvSpec((16, 16), 7, 2, 3, 1, 3, 64), "im2col"),
    "2d-grouped": (ConvSpec((16, 16), 3, 1, 1, 1, 8, 8, 2), "polyphase"),
}


@pytest.mark.parametrize("name", NAMED)
def test_auto_picks_what_the_stated_rule_gives(name):
    spec, expected = NAMED[name]
    assert docstring_pick(spec) == expected  # the table is the rule's answer
    assert auto_method(spec) == expected
    assert conv_operator(spec, _ones(spec)).method == expected


def _ones(spec):
    import numpy as np

    return np.ones(spec.weight_shape)


def test_the_rule_matches_auto_on_a_grid_of_small_layers():
    # Channels around the break-even points, strides and dilations 1-3,
    # crops and padding: the written-out rule and auto_method agree.
    checked = picks = 0
    seen = set()
    for ndim in (1, 2):
        for k in (1, 2, 3, 5):
            for s in (1, 2, 3):
                for d in (1, 2):
                    for channels in (2, 8, 40, 120):
                        for after in (-1, 0, 2):
                            n = 12
                            shape = (n,) * ndim
                            if n + 1 + after < d * (k - 1) + 1:
                                continue
                            spec = ConvSpec(shape, k, s, [(1, after)] * ndim, d, channels,
                                            channels)
                            pick = docstring_pick(spec)
                            assert auto_method(spec) == pick, spec
                            seen.add(pick)
                            checked += 1
                            picks += pick == "summed"
    assert checked > 250 and seen == {"summed", "polyphase"}
    assert 0 < picks < checked
