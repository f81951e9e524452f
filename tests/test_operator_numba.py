"""conv_operator(engine='numba'): against C, torch, the numpy engine and the dot test; its
threads, its 'auto' rule and its disk cache in a read-only install folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import _module, require
from hypothesis import given
from hypothesis import strategies as st
from test_matrix import make_spec
from test_operator import ALL_CASES, FORWARD_CASES, arrays, specs
from torch_ref import torch_conv, torch_input_grad

from transpose_matrix import ConvSpec, ConvSpecError, ConvSpecTypeError, conv_matrix
from transpose_matrix.operator import auto_engine, conv_operator, numpy_backend
from transpose_matrix.operator.engines import direct_pays

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="module")
def numba():
    """numba, which the engine under test needs (CI installs the ``fast`` extra)."""
    module = _module("numba")
    require("numba", module is not None)
    return module


def _direct(spec: ConvSpec) -> bool:
    """Whether ``spec`` runs the compiled loops."""
    return direct_pays(spec.in_channels // spec.groups, spec.out_channels // spec.groups)


# Besides the shared grid: planes wider than the flat kernel's accumulator
# (the row kernel), a stride on the last dim only, dilation on the last dim,
# layers just under and at the channel threshold, 1-D and 3-D.
NUMBA_CASES = {
    "2d-depthwise-wide-plane": ConvSpec((70, 90), 3, 1, 1, 1, 2, 2, 2),
    "2d-depthwise-last-dim-stride": ConvSpec((9, 12), 3, (1, 2), 1, 1, 3, 3, 3),
    "2d-depthwise-last-dim-dilation": ConvSpec((8, 13), (2, 5), 1, [(1, 0), (4, 4)], (1, 3), 2,
                                               4, 2),
    "2d-15-channels-per-group": ConvSpec((7, 6), 3, 2, 1, 1, 30, 30, 2),
    "2d-16-inputs-3-outputs": ConvSpec((7, 6), 3, 2, 1, 1, 16, 3, 1),
    "1d-depthwise-long": ConvSpec((300,), 5, 1, [(4, 0)], 2, 4, 4, 4),
    "3d-depthwise-strided": ConvSpec((5, 6, 7), 3, (2, 1, 1), 1, (1, 2, 1), 3, 3, 3),
}
CASES = {**ALL_CASES, **NUMBA_CASES}


def test_the_cases_run_the_compiled_kernel_on_every_kind_of_geometry():
    # The grid below is only a test of the compiled kernel where it runs direct:
    # 1-, 2- and 3-D, strides, dilation, groups, crops and every padding mode must be there.
    direct = [spec for spec in CASES.values() if _direct(spec)]
    assert {spec.ndim for spec in direct} == {1, 2, 3}
    assert any(max(spec.stride) > 1 for spec in direct)
    assert any(max(spec.dilation) > 1 for spec in direct)
    assert any(spec.groups > 1 for spec in direct)
    assert any(e < 0 for spec in direct for _, e in spec.padding)
    assert any(b != e for spec in direct for b, e in spec.padding)
    assert {spec.padding_mode for spec in direct} == {"zeros", "reflect", "replicate", "circular"}


@pytest.mark.parametrize("case", CASES)
def test_numba_engine_equals_conv_matrix(case):
    spec = CASES[case]
    w, X, Y = arrays(spec, seed=0)
    C = conv_matrix(spec, w)
    op = conv_operator(spec, w, engine="numba")
    assert op.engine == "numba" and op.shape == C.shape and op.dtype == C.dtype
    np.testing.assert_allclose(op.matvec(X[:, 0]), C @ X[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.rmatvec(Y[:, 0]), C.T @ Y[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.matmat(X), C @ X, rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.rmatmat(Y), C.T @ Y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.H @ Y, C.T @ Y, rtol=0, atol=1e-12)
    # One sample shaped dims answers shaped dimsd, and back.
    x = X[:, 0].reshape(op.dims)
    np.testing.assert_allclose(op @ x, (C @ X[:, 0]).reshape(op.dimsd), rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", FORWARD_CASES)
def test_numba_engine_is_torch_conv_and_input_gradient(case, torch):
    spec = make_spec(case)
    rng = np.random.default_rng(1)
    for dtype, tolerance in ((np.float32, 1e-4), (np.float64, 1e-12)):
        w = rng.standard_normal(spec.weight_shape).astype(dtype)
        x = rng.standard_normal((spec.in_channels, *spec.input_shape)).astype(dtype)
        g = rng.standard_normal((spec.out_channels, *spec.output_shape)).astype(dtype)
        op = conv_operator(spec, w, engine="numba")
        result = op.matvec(x.reshape(-1))
        assert result.dtype == dtype
        np.testing.assert_allclose(result, torch_conv(torch, spec, w, x).reshape(-1),
                                   atol=tolerance, rtol=tolerance)
        np.testing.assert_allclose(op.rmatvec(g.reshape(-1)),
                                   torch_input_grad(torch, spec, w, x, g).reshape(-1),
                                   atol=tolerance, rtol=tolerance)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("case", CASES)
def test_numba_engine_dot_test(case, dtype):
    spec = CASES[case]
    w, X, Y = arrays(spec, seed=5, batch=1, dtype=dtype)
    op = conv_operator(spec, w, engine="numba")
    x, y = X[:, 0], Y[:, 0]
    left, right = np.vdot(y, op @ x), np.vdot(op.H @ y, x)
    assert abs(left - right) <= 1e-11 * max(1.0, abs(left))
    # Cᵀ (not Cᴴ) for complex weights.
    C = conv_matrix(spec, w)
    np.testing.assert_allclose(op.T @ y, C.T @ y, rtol=0, atol=1e-11)


@given(spec=specs(), seed=st.integers(0, 2**16), batch=st.integers(1, 3),
       dtype=st.sampled_from([np.float32, np.float64, np.complex128, np.int64]))
def test_property_numba_engine_is_c_and_the_numpy_engine(spec, seed, batch, dtype):
    w, X, Y = arrays(spec, seed, batch, np.float64 if dtype == np.int64 else dtype)
    if dtype == np.int64:  # exact in integers
        w, X, Y = (np.rint(3 * a).astype(np.int64) for a in (w, X, Y))
    C = conv_matrix(spec, w.astype(np.result_type(w.dtype, np.float64)))
    op = conv_operator(spec, w, engine="numba", threads=2)
    ref = conv_operator(spec, w, engine="numpy")
    tolerance = 1e-4 if dtype == np.float32 else 1e-11
    result, adjoint = op.matmat(X), op.rmatmat(Y)
    assert result.dtype == adjoint.dtype == dtype
    np.testing.assert_allclose(result, C @ X, atol=tolerance, rtol=tolerance)
    np.testing.assert_allclose(adjoint, C.conj().T @ Y, atol=tolerance, rtol=tolerance)
    np.testing.assert_allclose(result, ref.matmat(X), atol=tolerance, rtol=tolerance)
    np.testing.assert_allclose(adjoint, ref.rmatmat(Y), atol=tolerance, rtol=tolerance)


def test_threads_give_the_same_result_and_are_checked():
    spec = ConvSpec((20, 17), 3, 1, 1, 1, 6, 6, 6)
    w, X, _ = arrays(spec, seed=2, batch=2)
    one = conv_operator(spec, w, engine="numba", threads=1).matmat(X)
    for threads in (2, 64):  # more threads than cores: capped at numba's
        np.testing.assert_allclose(conv_operator(spec, w, engine="numba", threads=threads)
                                   .matmat(X), one, rtol=0, atol=1e-12)
        np.testing.assert_allclose(conv_operator(spec, w, threads=threads).matmat(X), one,
                                   rtol=0, atol=1e-12)
    # Gathers large enough to be split between threads (numpy_backend.PARALLEL_ENTRIES):
    # along the channels, and along the rows when there are fewer channels than threads.
    for big in (ConvSpec((64, 64), 3, 1, 1, 1, 16, 16, 1), ConvSpec((256, 256), 3, 1, 1, 1, 1, 16)):
        w_big, x_big, _ = arrays(big, seed=3, batch=1)
        gathered = 9 * big.in_channels * 256 * 256 if big.in_channels == 1 else 9 * 16 * 64 * 64
        assert gathered >= numpy_backend.PARALLEL_ENTRIES
        for method in ("im2col", "polyphase"):
            np.testing.assert_array_equal(
                conv_operator(big, w_big, method, threads=2).matmat(x_big),
                conv_operator(big, w_big, method, threads=1).matmat(x_big))
    with pytest.raises(ConvSpecError, match="threads=0 must be >= 1"):
        conv_operator(spec, w, threads=0)
    with pytest.raises(ConvSpecTypeError, match="threads=True must be an integer"):
        conv_operator(spec, w, threads=True)


def test_auto_engine_follows_its_rule():
    depthwise = ConvSpec((8, 8), 3, 1, 1, 1, 16, 16, 16)
    dense = ConvSpec((8, 8), 3, 1, 1, 1, 16, 16, 1)
    grouped = ConvSpec((8, 8), 3, 1, 1, 1, 32, 32, 4)  # 8 -> 8 channels per group
    wide_groups = ConvSpec((8, 8), 3, 1, 1, 1, 32, 32, 2)  # 16 -> 16
    stem = ConvSpec((8, 8), 3, 1, 1, 1, 3, 64, 1)  # 3 -> 64: the numpy engine's col2im
    small = ConvSpec((8, 8), 3, 1, 1, 1, 15, 15, 1)
    assert [auto_engine(spec) for spec in (depthwise, dense, grouped, wide_groups, stem,
                                           small)] == [
        "numba", "numpy", "numba", "numpy", "numpy", "numba"]
    assert conv_operator(depthwise, np.ones(depthwise.weight_shape), engine="auto").engine == \
        "numba"
    assert conv_operator(dense, np.ones(dense.weight_shape), engine="auto").engine == "numpy"
    assert conv_operator(dense, np.ones(dense.weight_shape)).engine == "numpy"


def test_unknown_engine_and_engine_with_torch_are_refused():
    spec = ConvSpec((5,), 3)
    with pytest.raises(ConvSpecError, match=r"engine='jax' must be 'auto' or one of 'numpy', "
                                            r"'numba'"):
        conv_operator(spec, np.ones((1, 1, 3)), engine="jax")
    with pytest.raises(ConvSpecError, match="engine='numba' applies to backend='numpy'"):
        conv_operator(spec, np.ones((1, 1, 3)), backend="torch", engine="numba")


def _read_only(folder: Path) -> bool:
    """Make ``folder`` (recursively) unwritable; whether it now is, even for this user."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    probe = folder / "probe"
    try:
        probe.touch()
    except OSError:
        return True
    probe.unlink()
    # root ignores modes: the immutable attribute stops it too (ext4 and others).
    if shutil.which("chattr") and subprocess.run(["chattr", "-R", "+i", str(folder)],
                                                 capture_output=True).returncode == 0:
        try:
            probe.touch()
        except OSError:
            return True
    return False


def _writable(folder: Path) -> None:
    if shutil.which("chattr"):
        subprocess.run(["chattr", "-R", "-i", str(folder)], capture_output=True)
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)


RUN = """
import numpy as np, transpose_matrix as tm
from transpose_matrix.operator import numba_backend
assert tm.__file__.startswith({site!r}), tm.__file__
spec = tm.ConvSpec((9, 8), 3, 1, 1, 1, 4, 4, 4)
w = np.arange(36.0).reshape(4, 1, 3, 3)
x = np.linspace(-1, 1, 4 * 72)
op = tm.conv_operator(spec, w, engine="numba")
np.testing.assert_allclose(op @ x, tm.conv_matrix(spec, w) @ x, atol=1e-12)
kernels = numba_backend.flat, numba_backend.direct
print(sum(sum(k.stats.cache_hits.values()) for k in kernels),
      sum(sum(k.stats.cache_misses.values()) for k in kernels))
"""


def test_kernels_are_cached_in_the_user_folder_when_the_install_folder_is_read_only(tmp_path):
    site, cache = tmp_path / "site", tmp_path / "cache"
    shutil.copytree(ROOT / "transpose_matrix", site / "transpose_matrix",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if not _read_only(site):
        _writable(site)
        reason = "this user can write to any folder (no read-only folder to test)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)  # CI runs as root, where chattr +i makes one
        pytest.skip(reason)
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(cache),
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("NUMBA_CACHE_DIR", None)
    try:
        runs = [subprocess.run([sys.executable, "-c", RUN.format(site=str(site))], env=env,
                               capture_output=True, text=True, cwd=tmp_path)
                for _ in range(2)]
        for run in runs:
            assert run.returncode == 0, run.stderr
        (hits, misses), (hits_again, misses_again) = (
            map(int, run.stdout.split()) for run in runs)
        assert (hits, misses) == (0, 1)  # compiled, and written to the user folder
        assert (hits_again, misses_again) == (1, 0)  # loaded from it
        assert list(cache.rglob("*.nbi")) and not list(site.rglob("*.nbi"))
        # No writable folder at all: compiled in memory, still correct.
        assert _read_only(cache)
        run = subprocess.run([sys.executable, "-c", RUN.format(site=str(site))],
                             env={**env, "XDG_CACHE_HOME": str(cache / "nowhere")},
                             capture_output=True, text=True, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
    finally:
        _writable(tmp_path)
