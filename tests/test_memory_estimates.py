"""The memory guard's estimate of a build, against what the build really holds.

``conv_matrix`` and ``transposed_conv_matrix`` refuse a build whose
estimated peak exceeds ``max_bytes`` before allocating anything. The
referee here is :mod:`tracemalloc`, which counts every allocation numpy and
scipy make: the estimate must cover the peak it measures (a guard that
under-estimates lets a build run out of memory) and stay within a small
factor of it (one that over-estimates refuses layers that would fit).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import transpose_matrix as tm
from transpose_matrix import ConvSpec, MemoryGuardError

#: Layers of a few MB, each padding mode and the zero padding's paths
#: (1-D to 3-D, strided, grouped); the allowed over-estimate per case.
CASES = {
    "2d-reflect": (ConvSpec((48, 48), 3, padding=1, padding_mode="reflect", in_channels=4,
                            out_channels=4), 2.0),
    "1d-circular": (ConvSpec((300,), 5, padding=2, padding_mode="circular", in_channels=8,
                             out_channels=8), 2.0),
    "3d-replicate": (ConvSpec((12, 12, 12), 3, padding=1, padding_mode="replicate",
                              in_channels=2, out_channels=3), 2.0),
    "2d-reflect-strided": (ConvSpec((64, 64), 4, stride=2, padding=2, padding_mode="reflect",
                                    in_channels=3, out_channels=6), 2.0),
    "2d-zeros": (ConvSpec((64, 64), 3, padding=1, in_channels=4, out_channels=4), 2.0),
    "1d-zeros": (ConvSpec((4000,), 7, padding=3, in_channels=4, out_channels=4), 2.0),
    # Cᵀ of a strided 3-D layer: its per-row tables are allowed for in full.
    "3d-zeros-strided": (ConvSpec((16, 16, 16), 3, stride=2, padding=1, in_channels=3,
                                  out_channels=5), 2.5),
    "2d-zeros-grouped": (ConvSpec((48, 48), 3, padding=1, in_channels=8, out_channels=8,
                                  groups=4), 2.0),
}
BUILDERS = {"C": tm.conv_matrix, "CT": tm.transposed_conv_matrix}


def _traced_peak(build):
    """(result, peak bytes allocated while ``build()`` ran), by tracemalloc."""
    tracemalloc.start()
    try:
        result = build()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize("which", BUILDERS)
@pytest.mark.parametrize("case", CASES)
def test_guard_estimate_covers_the_real_peak_and_stays_close(case, which):
    spec, factor = CASES[case]
    build = BUILDERS[which]
    weight = np.random.default_rng(3).standard_normal(spec.weight_shape)
    matrix, peak = _traced_peak(lambda: build(spec, weight, max_bytes=2**40))
    real = matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
    assert real <= peak
    # Safe: a limit at the real peak is refused before anything is built.
    with pytest.raises(MemoryGuardError, match=r"above the memory limit"):
        build(spec, weight, max_bytes=peak)
    # Tight: a limit `factor` times the real peak lets the build run.
    again = build(spec, weight, max_bytes=int(factor * peak))
    assert again.nnz == matrix.nnz
