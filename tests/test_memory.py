"""The memory guard, the exact size estimate, and the builders at scale.

The builders must refuse, before allocating, a matrix above the limit; their
size estimate must be the real size; and the paths that only run on large
layers (long runs of interior rows, threaded filling) must give exactly the
matrix of the loop reference.
"""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_matrix import FORWARD_CASES, make_spec

import transpose_matrix as tm
from transpose_matrix import (
    ConvSpec,
    ConvSpecError,
    ConvSpecTypeError,
    MemoryGuardError,
    conv_matrix,
    memory,
    transposed_conv_matrix,
)
from transpose_matrix.matrices import conv as matrix_module
from transpose_matrix.matrices.conv import conv_matrix_nbytes, conv_matrix_nnz
from transpose_matrix.matrices.reference import reference_conv_matrix

# 32->32 channels, 3x3, padding 1 on 128x128: C has 149,426,176 entries,
# 1.67 GiB; only ever handed to the guard here, never built.
LARGE = ConvSpec((128, 128), 3, padding=1, in_channels=32, out_channels=32)
# About 2.4e13 entries: no machine has room for this C.
ABSURD = ConvSpec((512, 512, 512), 3, padding=1, in_channels=256, out_channels=256)


def nbytes(matrix) -> int:
    return matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes


@pytest.mark.parametrize("case", FORWARD_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128", "int64"])
def test_estimate_is_the_real_size(case, dtype):
    spec = make_spec(case)
    w = np.ones(spec.weight_shape, dtype=dtype)
    C = conv_matrix(spec, w)
    T = transposed_conv_matrix(spec, w)
    assert conv_matrix_nnz(spec) == C.nnz == T.nnz
    assert conv_matrix_nbytes(spec, dtype) == nbytes(C)
    assert conv_matrix_nbytes(spec, dtype, transposed=True) == nbytes(T)


def test_large_estimate_from_the_definition():
    # Per dim, 128 positions x 3 taps minus the 2 taps that fall on padding;
    # times 32 x 32 channel pairs. Data 8 bytes and int32 indices per entry,
    # plus 32 * 128 * 128 + 1 int32 row pointers.
    nnz = (128 * 3 - 2) ** 2 * 32 * 32
    assert conv_matrix_nnz(LARGE) == nnz
    assert conv_matrix_nbytes(LARGE) == nnz * 12 + (32 * 128 * 128 + 1) * 4


@pytest.mark.parametrize("builder", [conv_matrix, transposed_conv_matrix])
def test_guard_refuses_before_allocating(builder):
    w = np.ones(LARGE.weight_shape)
    tracemalloc.start()
    try:
        with pytest.raises(MemoryGuardError) as caught:
            builder(LARGE, w, max_bytes=10**6)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Nothing the size of C (1.67 GiB) or of its pattern was ever allocated.
    assert peak < 10**6
    message = str(caught.value)
    assert "would need 1.67 GiB" in message
    assert "above the memory limit of 977 KiB" in message
    assert "conv_operator" in message


def test_guard_error_is_a_conv_spec_error():
    with pytest.raises(ConvSpecError, match=r"C \(conv_matrix\) of shape \(524288, 524288\)"):
        conv_matrix(LARGE, np.ones(LARGE.weight_shape), max_bytes=0)
    with pytest.raises(ValueError, match=r"Cᵀ \(transposed_conv_matrix\)"):
        transposed_conv_matrix(LARGE, np.ones(LARGE.weight_shape), max_bytes=0)


def test_default_limit_refuses_an_impossible_matrix():
    # With no argument the limit is a share of the available memory, which
    # is far below ~300 TB: the guard must answer instead of the OOM killer.
    w = np.ones(ABSURD.weight_shape, dtype=np.float32)
    with pytest.raises(MemoryGuardError, match=r"would need \d.* TiB.*conv_operator"):
        conv_matrix(ABSURD, w)


def test_limit_counts_the_temporaries_too():
    spec = make_spec("2d-dilated-groups")
    w = np.ones(spec.weight_shape)
    exact = conv_matrix_nbytes(spec)
    with pytest.raises(MemoryGuardError, match="at peak while building"):
        conv_matrix(spec, w, max_bytes=exact)
    C = conv_matrix(spec, w, max_bytes=100 * exact + 2**27)
    assert nbytes(C) == exact


def test_module_default_and_argument_precedence(monkeypatch):
    spec = make_spec("2d-textbook")
    w = np.ones(spec.weight_shape)
    monkeypatch.setattr(memory, "DEFAULT_MAX_BYTES", 100)
    with pytest.raises(MemoryGuardError, match="memory limit of 100 B"):
        conv_matrix(spec, w)
    # An explicit argument beats the module default.
    assert conv_matrix(spec, w, max_bytes=2**30).nnz == 36
    monkeypatch.setattr(memory, "DEFAULT_MAX_BYTES", None)
    assert conv_matrix(spec, w).nnz == 36


@pytest.mark.parametrize(
    ("value", "error", "pattern"),
    [
        (True, ConvSpecTypeError, "max_bytes=True must be an integer number of bytes, not a bool"),
        (1.5, ConvSpecTypeError, "max_bytes=1.5 must be an integer number of bytes, not float"),
        ("1G", ConvSpecTypeError, "not str"),
        (-1, ConvSpecError, "max_bytes=-1 must be >= 0 bytes"),
    ],
)
def test_bad_limits_are_refused(value, error, pattern):
    spec = make_spec("2d-textbook")
    with pytest.raises(error, match=pattern) as caught:
        conv_matrix(spec, np.ones(spec.weight_shape), max_bytes=value)
    assert type(caught.value) is error and caught.value.field == "max_bytes"


@pytest.fixture
def no_cgroup(tmp_path, monkeypatch):
    """No cgroup and no address-space limit: only meminfo (or sysconf) counts."""
    monkeypatch.setattr(memory, "_PROC_CGROUP", str(tmp_path / "no-cgroup"))
    monkeypatch.setattr(memory, "_address_space_available", lambda: None)


def test_available_memory_reads_meminfo(tmp_path, monkeypatch, no_cgroup):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  4000 kB\nMemFree:  1000 kB\nMemAvailable:  2048 kB\n")
    monkeypatch.setattr(memory, "_MEMINFO", str(meminfo))
    assert memory.available_memory() == 2048 * 1024
    monkeypatch.setattr(memory, "SAFE_FRACTION", 0.25)
    assert memory.memory_limit() == 512 * 1024


def test_available_memory_falls_back_to_sysconf(tmp_path, monkeypatch, no_cgroup):
    monkeypatch.setattr(memory, "_MEMINFO", str(tmp_path / "missing"))
    values = {"SC_AVPHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(memory.os, "sysconf", lambda name: values[name])
    assert memory.available_memory() == 4096 * 1000


def test_unknown_memory_means_no_limit(tmp_path, monkeypatch, no_cgroup):
    monkeypatch.setattr(memory, "_MEMINFO", str(tmp_path / "missing"))

    def no_sysconf(name):
        raise ValueError(f"unknown {name}")

    monkeypatch.setattr(memory.os, "sysconf", no_sysconf)
    assert memory.available_memory() is None
    assert memory.memory_limit() is None
    memory.check_memory(10**15, what="C")  # nothing to compare against: allowed


def test_real_meminfo_is_sane(monkeypatch):
    available = memory.available_memory()
    assert available is not None and available > 0
    # Other processes change MemAvailable between two reads: pin the reading.
    monkeypatch.setattr(memory, "available_memory", lambda: available)
    assert memory.memory_limit() == int(available * memory.SAFE_FRACTION)


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1 KiB"), (1536, "1.5 KiB"),
     (5 * 2**20, "5 MiB"), (3 * 2**40, "3 TiB"), (2**50, "1.02e+03 TiB")],
)
def test_format_bytes(size, text):
    assert memory.format_bytes(size) == text


# Layers big enough for the builder paths the core grid never reaches: long
# runs of interior rows (contiguous fill), border rows, and all-interior
# layers (no padding), in 1-D, 2-D and 3-D, with groups.
SCALE_CASES = {
    "2d-runs": ConvSpec((24, 20), 3, 1, 1, 1, 3, 2, 1),
    "2d-runs-groups-dilated": ConvSpec((20, 22), 3, 1, 2, 2, 4, 6, 2),
    "2d-no-padding": ConvSpec((16, 16), 2, 2, 0, 1, 2, 3, 1),
    "1d-long": ConvSpec((200,), 5, 1, 2, 2, 2, 2, 1),
    "3d-runs": ConvSpec((10, 9, 8), 3, 1, 1, 1, 2, 2, 1),
    "2d-stride3-short-runs": ConvSpec((30, 31), 4, 3, [(2, 1), (3, 0)], 1, 1, 2, 1),
    # Cᵀ of this one has fully-covered rows at every other position only.
    "2d-stride2-dilation2": ConvSpec((20, 18), 2, 2, 1, 2, 2, 2, 1),
}


def assert_same_csr(result, expected):
    expected = expected.tocsr()
    expected.sort_indices()
    assert result.shape == expected.shape
    np.testing.assert_array_equal(result.indptr, expected.indptr)
    np.testing.assert_array_equal(result.indices, expected.indices)
    np.testing.assert_array_equal(result.data, expected.data)


@pytest.mark.slow
@pytest.mark.parametrize("case", SCALE_CASES)
def test_builders_at_scale_equal_reference(case):
    spec = SCALE_CASES[case]
    w = np.random.default_rng(0).standard_normal(spec.weight_shape)
    reference = reference_conv_matrix(spec, w)
    assert_same_csr(conv_matrix(spec, w), reference)
    assert_same_csr(transposed_conv_matrix(spec, w), reference.T)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["2d-runs-groups-dilated", "1d-long", "3d-runs"])
@pytest.mark.parametrize("path", ["box", "runs", "scatter"])
def test_threaded_fill_and_every_interior_path_equal_reference(case, path, monkeypatch):
    # Force three filling threads (single-channel layers then split each
    # channel in pieces), and each of the three ways of writing the rows
    # whose taps all land inside: one strided box, runs of consecutive rows,
    # or a scatter.
    monkeypatch.setattr(matrix_module, "_workers", lambda nnz: 3)
    if path != "box":
        monkeypatch.setattr(matrix_module._Pattern, "_inside_box", lambda self: None)
    if path == "scatter":
        monkeypatch.setattr(matrix_module, "_RUN_ROWS", 10**9)
    spec = SCALE_CASES[case]
    w = np.random.default_rng(1).standard_normal(spec.weight_shape)
    reference = reference_conv_matrix(spec, w)
    assert_same_csr(conv_matrix(spec, w), reference)
    assert_same_csr(transposed_conv_matrix(spec, w), reference.T)
    single = ConvSpec(spec.input_shape, spec.kernel_size, spec.stride, spec.padding,
                      spec.dilation)
    w1 = w[:1, :1]
    assert_same_csr(conv_matrix(single, w1), reference_conv_matrix(single, w1))


def test_small_blocks_split_the_pattern(monkeypatch):
    # Blocks of a few rows exercise the block boundaries of both paths.
    monkeypatch.setattr(matrix_module, "_BLOCK_ENTRIES", 50)
    spec = SCALE_CASES["2d-runs-groups-dilated"]
    w = np.random.default_rng(2).standard_normal(spec.weight_shape)
    reference = reference_conv_matrix(spec, w)
    assert_same_csr(conv_matrix(spec, w), reference)
    assert_same_csr(transposed_conv_matrix(spec, w), reference.T)


@pytest.mark.slow
@pytest.mark.parametrize(("cores", "threads"), [(1, None), (2, 2), (3, 3), (8, 4)])
def test_filling_threads_follow_the_cores(monkeypatch, cores, threads):
    # A build of millions of entries is filled by one thread per core the
    # process may run on (its CPU affinity, faked here), at most four; one
    # core fills it in the calling thread. The threads' matrix is the same.
    from concurrent.futures import ThreadPoolExecutor

    pools = []

    class Spy(ThreadPoolExecutor):
        def __init__(self, max_workers=None, **kwargs):
            pools.append(max_workers)
            super().__init__(max_workers=max_workers, **kwargs)

    spec = ConvSpec((128, 128), 3, padding=1, out_channels=32)  # 4.7 million entries
    w = np.random.default_rng(4).standard_normal(spec.weight_shape).astype(np.float32)
    monkeypatch.setattr(matrix_module, "ThreadPoolExecutor", Spy)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    C = conv_matrix(spec, w)
    assert pools == ([] if threads is None else [threads])
    # Small builds stay on the calling thread whatever the cores.
    conv_matrix(ConvSpec((8, 8), 3, out_channels=4), np.ones((4, 1, 3, 3)))
    assert len(pools) == (0 if threads is None else 1)
    # Every entry filled, whichever thread wrote it: C x against the
    # matrix-free operator.
    x = np.random.default_rng(5).standard_normal(spec.matrix_shape[1])
    np.testing.assert_allclose(C @ x, tm.conv_operator(spec, w.astype(np.float64)) @ x,
                               rtol=1e-5, atol=1e-4)


# --------------------------------------------------------- cgroups, rlimits


class FakeCgroups:
    """A fake /proc/self/cgroup, /proc/self/mountinfo and cgroup folders under tmp."""

    def __init__(self, root, monkeypatch):
        self.root = root
        self.lines: list[str] = []
        self.mounts: list[str] = []
        (root / "meminfo").write_text("MemTotal: 33554432 kB\nMemAvailable: 20971520 kB\n")
        monkeypatch.setattr(memory, "_MEMINFO", str(root / "meminfo"))
        monkeypatch.setattr(memory, "_PROC_CGROUP", str(root / "cgroup"))
        monkeypatch.setattr(memory, "_MOUNTINFO", str(root / "mountinfo"))
        monkeypatch.setattr(memory, "_address_space_available", lambda: None)

    def mount(self, version, point, root="/"):
        kind = "cgroup2 cgroup2 rw" if version == 2 else "cgroup cgroup rw,memory"
        escaped = str(point).replace(" ", "\\040")
        self.mounts.append(f"41 31 0:38 {root} {escaped} rw,relatime - {kind}")
        self.write()

    def belong(self, line):
        self.lines.append(line)
        self.write()

    def write(self):
        (self.root / "mountinfo").write_text("\n".join(
            ["22 1 0:21 / /proc rw - proc proc rw", *self.mounts]) + "\n")
        (self.root / "cgroup").write_text("\n".join(self.lines) + "\n")

    def files(self, folder, **values):
        folder.mkdir(parents=True, exist_ok=True)
        for name, value in values.items():
            (folder / name.replace("_", ".", 1)).write_text(value)
        return folder


MiB = 2**20


@pytest.fixture
def cgroups(tmp_path, monkeypatch):
    return FakeCgroups(tmp_path, monkeypatch)


def test_cgroup_v2_limit_minus_usage_plus_reclaimable_cache(cgroups):
    mount = cgroups.root / "cg2"
    cgroups.mount(2, mount)
    cgroups.belong("0::/user.slice/job")
    cgroups.files(mount / "user.slice", memory_max="max\n", memory_current=f"{900 * MiB}\n")
    cgroups.files(mount / "user.slice" / "job", memory_max=f"{1024 * MiB}\n",
                  memory_current=f"{100 * MiB}\n",
                  memory_stat=f"anon 1\nfile 2\ninactive_file {10 * MiB}\nactive_file 3\n")
    assert memory.cgroup_available() == (1024 - 100 + 10) * MiB
    # The machine has 20 GiB available, the cgroup far less: the cgroup wins.
    assert memory.available_memory() == 934 * MiB
    assert memory.memory_limit() == 467 * MiB


def test_an_ancestor_cgroup_can_be_the_tighter_one(cgroups):
    mount = cgroups.root / "cg2"
    cgroups.mount(2, mount)
    cgroups.belong("0::/a/b")
    cgroups.files(mount / "a", memory_max=f"{512 * MiB}", memory_current=f"{400 * MiB}")
    cgroups.files(mount / "a" / "b", memory_max=f"{2048 * MiB}", memory_current=f"{300 * MiB}")
    assert memory.cgroup_available() == 112 * MiB


def test_the_issue_case_is_refused_inside_a_1_gib_cgroup(cgroups):
    # 1.67 GiB of C in a 1 GiB memory cgroup on a machine with 20 GiB
    # free: the default limit must come from the cgroup, not MemAvailable.
    mount = cgroups.root / "cg2"
    cgroups.mount(2, mount)
    cgroups.belong("0::/job")
    cgroups.files(mount / "job", memory_max=str(2**30), memory_current=str(50 * MiB))
    with pytest.raises(MemoryGuardError, match=r"would need 1.67 GiB .* above the memory limit of 487 MiB"):
        conv_matrix(LARGE, np.ones(LARGE.weight_shape))


def test_cgroup_v1_memory_controller(cgroups):
    mount = cgroups.root / "memory"
    cgroups.mount(1, mount)
    cgroups.belong("5:cpu,cpuacct:/docker/x")
    cgroups.belong("4:memory:/docker/x")
    cgroups.belong("0::/")
    cgroups.files(mount / "docker" / "x", memory_limit_in_bytes=str(768 * MiB),
                  memory_usage_in_bytes=str(200 * MiB),
                  memory_stat=f"cache 5\ninactive_file 1\ntotal_inactive_file {8 * MiB}\n")
    cgroups.files(mount / "docker", memory_limit_in_bytes="9223372036854771712",
                  memory_usage_in_bytes=str(300 * MiB))
    assert memory.cgroup_available() == (768 - 200 + 8) * MiB


def test_unlimited_cgroups_limit_nothing(cgroups):
    mount = cgroups.root / "memory"
    cgroups.mount(1, mount)
    cgroups.mount(2, cgroups.root / "unified")
    cgroups.belong("4:memory:/x")
    cgroups.belong("0::/")
    cgroups.files(mount / "x", memory_limit_in_bytes="9223372036854771712", memory_usage_in_bytes="5")
    cgroups.files(cgroups.root / "unified", memory_current="5")  # the root cgroup has no memory.max
    assert memory.cgroup_available() is None
    assert memory.available_memory() == 20 * 2**30


def test_namespaced_cgroup_is_the_mount_point_itself(cgroups):
    # Inside a container the mount's root is the container's own cgroup.
    mount = cgroups.root / "sys fs cgroup"  # mountinfo escapes the spaces
    cgroups.mount(2, mount, root="/kubepods/pod1")
    cgroups.belong("0::/kubepods/pod1")
    cgroups.files(mount, memory_max=str(256 * MiB), memory_current=str(6 * MiB))
    assert memory.cgroup_available() == 250 * MiB


@pytest.mark.parametrize("text", ["١٠٠", "", "12 kB", "-5", "9" * 40, "max"])
def test_unreadable_limits_are_ignored(cgroups, text):
    mount = cgroups.root / "cg2"
    cgroups.mount(2, mount)
    cgroups.belong("0::/job")
    cgroups.files(mount / "job", memory_max=text, memory_current="1")
    assert memory.cgroup_available() is None


def test_conventional_mount_points_when_mountinfo_is_unreadable(cgroups, monkeypatch):
    root = cgroups.root / "sys-fs-cgroup"
    monkeypatch.setattr(memory, "_MOUNTINFO", str(cgroups.root / "missing"))
    monkeypatch.setattr(memory, "_CGROUP_ROOT", str(root))
    cgroups.belong("7:memory:/slice")
    cgroups.belong("0::/job")
    cgroups.files(root / "memory" / "slice", memory_limit_in_bytes=str(300 * MiB),
                  memory_usage_in_bytes=str(100 * MiB))
    cgroups.files(root / "unified" / "job", memory_max=str(900 * MiB), memory_current=str(100 * MiB))
    assert memory.cgroup_available() == 200 * MiB


def test_usage_above_the_limit_means_nothing_left(cgroups):
    mount = cgroups.root / "cg2"
    cgroups.mount(2, mount)
    cgroups.belong("0::/job")
    cgroups.files(mount / "job", memory_max=str(100 * MiB), memory_current=str(120 * MiB))
    assert memory.cgroup_available() == 0
    with pytest.raises(MemoryGuardError, match="above the memory limit of 0 B"):
        conv_matrix(ConvSpec((4,), 2), np.ones((1, 1, 2)))


def test_this_machine_s_cgroups_are_read_without_error():
    size = memory.cgroup_available()
    assert size is None or size >= 0


def test_address_space_limit_counts(monkeypatch, tmp_path):
    import resource

    status = tmp_path / "status"
    status.write_text("Name: python\nVmPeak: 900000 kB\nVmSize:  409600 kB\nVmRSS: 1 kB\n")
    monkeypatch.setattr(memory, "_PROC_STATUS", str(status))
    monkeypatch.setattr(resource, "getrlimit", lambda which: (2**30, resource.RLIM_INFINITY))
    assert memory._address_space_available() == 2**30 - 400 * MiB
    monkeypatch.setattr(resource, "getrlimit", lambda which: (resource.RLIM_INFINITY,) * 2)
    assert memory._address_space_available() is None


# ----------------------------------------------- the estimate, in closed form


def _count_from_definition(n, k, s, before, after, d):
    """Stored (j, t) pairs along one dim, by looping over the definition."""
    out = (n + before + after - d * (k - 1) - 1) // s + 1
    return sum(1 for j in range(out) for t in range(k) if 0 <= j * s - before + t * d < n)


def _count_per_tap(n, k, s, before, after, d):
    """The same count tap by tap, in O(k): for each tap, the range of j inside."""
    out = (n + before + after - d * (k - 1) - 1) // s + 1
    total = 0
    for t in range(k):
        low = max(0, -(-(before - t * d) // s))
        high = min(out - 1, (n - 1 + before - t * d) // s)
        total += max(0, high - low + 1)
    return total


@st.composite
def axis_geometry(draw, largest):
    k = draw(st.integers(1, 8))
    d = draw(st.integers(1, 6))
    s = draw(st.integers(1, largest))
    before = draw(st.integers(0, largest))
    after = draw(st.integers(-largest, largest))
    span = d * (k - 1) + 1
    # The dilated kernel must fit: n >= span - before - after, and n >= 1.
    smallest = max(1, span - before - after, 1 - after)
    n = draw(st.integers(smallest, smallest + largest))
    return n, k, s, before, after, d


@given(axis_geometry(largest=12))
def test_closed_form_count_equals_the_definition(geometry):
    n, k, s, before, after, d = geometry
    spec = ConvSpec((n,), k, s, [(before, after)], d)
    assert matrix_module.axis_nnz(spec, 0) == _count_from_definition(*geometry)
    assert matrix_module.axis_nnz(spec, 0) == _count_per_tap(*geometry)


@given(axis_geometry(largest=2**59))
def test_closed_form_count_at_any_size(geometry):
    # Sizes, strides and paddings up to 2**59, where only the per-tap count
    # (independent of the floor sums) can referee.
    n, k, s, before, after, d = geometry
    spec = ConvSpec((n,), k, s, [(before, after)], d)
    assert matrix_module.axis_nnz(spec, 0) == _count_per_tap(*geometry)


def test_floor_sum_against_a_loop():
    rng = np.random.default_rng(5)
    for _ in range(2000):
        count, divisor, slope, offset = (int(v) for v in rng.integers([0, 1, 0, 0], [60, 40, 90, 90]))
        expected = sum((slope * i + offset) // divisor for i in range(count))
        assert matrix_module._floor_sum(count, divisor, slope, offset) == expected


def test_the_estimate_allocates_nothing():
    # O(dims) arithmetic: no table of positions, whatever the size.
    spec = ConvSpec((2**60, 2**60, 2**60), 2**20, padding=2**59, in_channels=2**60, out_channels=2**60)
    tracemalloc.start()
    try:
        nnz = conv_matrix_nnz(spec)
        nbytes = conv_matrix_nbytes(spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert nnz > 2**300 and nbytes > nnz * 12
    assert peak < 100_000


# --------------------------------- the guard's peak estimate bounds the real peak


def _guarded(monkeypatch, module):
    """Record every (needed, peak) the module hands to check_memory."""
    calls = []
    original = module.check_memory

    def recording(needed, **kwargs):
        calls.append((needed, kwargs.get("peak") or needed))
        return original(needed, **kwargs)

    monkeypatch.setattr(module, "check_memory", recording)
    return calls


PEAK_CASES = {
    **SCALE_CASES,
    "taps mostly on padding": ConvSpec((3,), 40, padding=30),
    "wide kernel 2d": ConvSpec((6, 5), (4, 5), padding=((4, 3), (4, 4)), in_channels=3, out_channels=5),
    "huge stride": ConvSpec((1000,), 3, stride=400, in_channels=2, out_channels=2),
}


@pytest.mark.parametrize("case", PEAK_CASES)
@pytest.mark.parametrize("builder", [conv_matrix, transposed_conv_matrix])
def test_real_peak_stays_under_the_estimate(case, builder, monkeypatch):
    spec = PEAK_CASES[case]
    w = np.random.default_rng(3).standard_normal(spec.weight_shape)
    calls = _guarded(monkeypatch, matrix_module)
    matrix_module._axis_tables.cache_clear()
    tracemalloc.start()
    try:
        C = builder(spec, w)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (needed, estimate), = calls
    assert nbytes(C) == needed
    assert peak <= estimate, (peak, estimate)


RESAMPLING_CASES = {
    "Z 2-D": lambda: tm.zero_insertion_matrix((30, 20), (3, 2)),
    "Z 3-D": lambda: tm.zero_insertion_matrix((6, 5, 4), 2),
    "P pad": lambda: tm.pad_matrix((40, 30), ((3, 5), (0, 2))),
    "P crop": lambda: tm.pad_matrix((40, 30), ((-3, 5), (0, -20))),
    "nearest": lambda: tm.nearest_upsample_matrix((20, 30), (3, 2)),
    "bilinear": lambda: tm.bilinear_upsample_matrix((20, 30), (3, 2)),
    "bilinear corners": lambda: tm.bilinear_upsample_matrix((5, 6, 7), 2, align_corners=True),
    "unpool": lambda: tm.max_unpool_matrix(
        np.random.default_rng(0).permutation(400)[:150].reshape(3, 5, 10), (20, 20)),
}


@pytest.mark.parametrize("case", RESAMPLING_CASES)
def test_resampling_guards_bound_the_result_and_the_peak(case, monkeypatch):
    from transpose_matrix.matrices import resampling as upsample

    calls = _guarded(monkeypatch, upsample)
    tracemalloc.start()
    try:
        M = RESAMPLING_CASES[case]()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (needed, estimate), = calls
    assert nbytes(M) <= needed
    assert peak <= estimate, (peak, estimate)


def test_resampling_builders_obey_the_module_limit(monkeypatch):
    monkeypatch.setattr(memory, "DEFAULT_MAX_BYTES", 1000)
    for call in RESAMPLING_CASES.values():
        with pytest.raises(MemoryGuardError, match="use a smaller shape"):
            call()


# ------------------------------------------------ entries and index range


def test_symbolic_builds_are_limited_by_entry_count(monkeypatch):
    spec = ConvSpec((6, 6), 3, in_channels=2, out_channels=2)  # 4 * 16 * 9 = 576 entries
    assert tm.symbolic_conv_matrix(spec, max_entries=576).shape == spec.matrix_shape
    with pytest.raises(MemoryGuardError, match=r"would hold 576 entries, above the limit of 575"):
        tm.symbolic_conv_matrix(spec, max_entries=575)
    monkeypatch.setattr(memory, "DEFAULT_MAX_ENTRIES", 100)
    with pytest.raises(MemoryGuardError, match=r"above the limit of 100 symbolic entries"):
        tm.symbolic_conv_matrix(spec)
    # C holds one entry, its input vector 150 symbols.
    with pytest.raises(MemoryGuardError, match=r"the vector x would hold 150 entries"):
        tm.symbolic_conv_equations(ConvSpec((150,), 1, stride=150))
    with pytest.raises(MemoryGuardError, match=r"symbolic U\(x\)"):
        tm.patch_matrix(ConvSpec((12,), 3, in_channels=4, out_channels=4))
    assert tm.symbolic_conv_matrix(ConvSpec((4,), 2)).shape == (3, 4)  # small ones still build


def test_symbolic_guard_answers_in_closed_form():
    spec = ConvSpec((56, 56), 3, padding=1, in_channels=64, out_channels=64)
    tracemalloc.start()
    try:
        with pytest.raises(MemoryGuardError, match=r"would hold 112,869,376 entries"):
            tm.symbolic_conv_matrix(spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_index_range():
    memory.check_index_range((2**63 - 1, 1), what="C")
    with pytest.raises(MemoryGuardError, match="more rows or columns than 64-bit sparse indices"):
        memory.check_index_range((1, 2**63), what="C")


def test_format_bytes_of_astronomical_sizes():
    assert memory.format_bytes(2**2000) == "more than 1e+300 TiB"
    assert memory.format_bytes(2**100).endswith("TiB")
