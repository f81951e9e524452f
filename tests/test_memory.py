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
from test_matrix import FORWARD_CASES, make_spec

from transpose_matrix import (
    ConvSpec,
    ConvSpecError,
    ConvSpecTypeError,
    MemoryGuardError,
    conv_matrix,
    memory,
    transposed_conv_matrix,
)
from transpose_matrix import matrix as matrix_module
from transpose_matrix.matrix import conv_matrix_nbytes, conv_matrix_nnz
from transpose_matrix.reference import reference_conv_matrix

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
        (-1, MemoryGuardError, "max_bytes=-1 must be >= 0 bytes"),
    ],
)
def test_bad_limits_are_refused(value, error, pattern):
    spec = make_spec("2d-textbook")
    with pytest.raises(error, match=pattern):
        conv_matrix(spec, np.ones(spec.weight_shape), max_bytes=value)


def test_available_memory_reads_meminfo(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  4000 kB\nMemFree:  1000 kB\nMemAvailable:  2048 kB\n")
    monkeypatch.setattr(memory, "_MEMINFO", str(meminfo))
    assert memory.available_memory() == 2048 * 1024
    monkeypatch.setattr(memory, "SAFE_FRACTION", 0.25)
    assert memory.memory_limit() == 512 * 1024


def test_available_memory_falls_back_to_sysconf(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "_MEMINFO", str(tmp_path / "missing"))
    values = {"SC_AVPHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(memory.os, "sysconf", lambda name: values[name])
    assert memory.available_memory() == 4096 * 1000


def test_unknown_memory_means_no_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "_MEMINFO", str(tmp_path / "missing"))

    def no_sysconf(name):
        raise ValueError(f"unknown {name}")

    monkeypatch.setattr(memory.os, "sysconf", no_sysconf)
    assert memory.available_memory() is None
    assert memory.memory_limit() is None
    memory.check_memory(10**15, what="C")  # nothing to compare against: allowed


def test_real_meminfo_is_sane():
    available = memory.available_memory()
    assert available is not None and available > 0
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


@pytest.mark.parametrize("case", SCALE_CASES)
def test_builders_at_scale_equal_reference(case):
    spec = SCALE_CASES[case]
    w = np.random.default_rng(0).standard_normal(spec.weight_shape)
    reference = reference_conv_matrix(spec, w)
    assert_same_csr(conv_matrix(spec, w), reference)
    assert_same_csr(transposed_conv_matrix(spec, w), reference.T)


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


def test_filling_threads_follow_the_cores():
    # Small builds stay on one thread; large ones use the cores this process
    # may run on, at most _MAX_THREADS.
    assert matrix_module._workers(10) == 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    expected = max(1, min(cores, matrix_module._MAX_THREADS))
    assert matrix_module._workers(1 << 40) == expected
