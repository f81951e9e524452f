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


# ------------------------------------------ limits and messages at their edges


def test_default_symbolic_limit_is_fifty_thousand_entries():
    from transpose_matrix.memory import check_entries

    check_entries(50_000, what="symbolic C")
    with pytest.raises(MemoryGuardError, match=r"would hold 50,001 entries, above the limit of 50,000"):
        check_entries(50_001, what="symbolic C")


def test_entry_counts_print_in_full_below_thirty_digits():
    from transpose_matrix.memory import check_entries

    with pytest.raises(MemoryGuardError, match=r"would hold 100,000,000,000,000,000,000,000,000,000 "):
        check_entries(10**29, what="C", max_entries=1)
    with pytest.raises(MemoryGuardError, match=r"would hold <a 31-digit integer> entries"):
        check_entries(10**30, what="C", max_entries=1)


def test_format_bytes_names_sizes_beyond_floats():
    from transpose_matrix.memory import format_bytes

    assert format_bytes(2**1000) == "more than 1e+300 TiB"
    # Just below, the size is still a float's: 2**999 bytes = 2**959 TiB.
    assert format_bytes(2**1000 - 1) == f"{float(2**1000) / 2**40:.3g} TiB"
    assert format_bytes(1023) == "1023 B" and format_bytes(1024) == "1 KiB"


def test_address_space_used_beyond_the_limit_leaves_nothing(monkeypatch, tmp_path):
    import resource

    from transpose_matrix import memory

    status = tmp_path / "status"
    status.write_text("Name: python\nVmSize:  2097152 kB\n")  # 2 GiB in use
    monkeypatch.setattr(memory, "_PROC_STATUS", str(status))
    monkeypatch.setattr(resource, "getrlimit", lambda which: (2**30, resource.RLIM_INFINITY))
    monkeypatch.setattr(memory, "cgroup_available", lambda: None)
    assert memory.available_memory() == 0


def test_truncated_mountinfo_lines_are_skipped(tmp_path, monkeypatch):
    # A cgroup v1 line cut before its super options names no controller: it
    # is skipped, and the good cgroup2 line after it still counts.
    from test_memory import FakeCgroups

    from transpose_matrix import memory

    cgroups = FakeCgroups(tmp_path, monkeypatch)
    mount = tmp_path / "cg2"
    cgroups.mount(2, mount)
    cgroups.mounts.insert(0, f"40 31 0:37 / {tmp_path / 'v1'} rw,relatime - cgroup cgroup")
    cgroups.belong("0::/job")
    cgroups.files(mount / "job", memory_max=str(100 * 2**20), memory_current=str(40 * 2**20))
    assert memory.cgroup_available() == 60 * 2**20


def test_an_unreadable_status_counts_no_usage(monkeypatch, tmp_path):
    import resource

    from transpose_matrix import memory

    monkeypatch.setattr(memory, "_PROC_STATUS", str(tmp_path / "missing"))
    monkeypatch.setattr(resource, "getrlimit", lambda which: (2**30, resource.RLIM_INFINITY))
    monkeypatch.setattr(memory, "cgroup_available", lambda: None)
    monkeypatch.setattr(memory, "_meminfo_available", lambda: None)
    assert memory.available_memory() == 2**30
