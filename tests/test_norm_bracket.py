"""The certified norm bracket: ``lower <= ‖C‖₂ <= upper`` against numpy's dense SVD.

The referee is :func:`numpy.linalg.svd` of ``conv_matrix(spec, w).toarray()``,
which shares no code with the FFT upper bound (the polyphase transform of a
circulant) or the Lanczos lower bound (the matrix-free operator).
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import transpose_matrix as tm
from transpose_matrix.analysis import spectrum
from transpose_matrix.analysis.spectrum import (
    BRACKET_TOL,
    NormBracket,
    norm_bracket,
    operator_norm,
)

# Rounding in ‖C v‖ and in the FFT: a bound may miss the exact value by this (relative).
ROUNDING = 1e-12


def exact_norm(spec: tm.ConvSpec, weight: np.ndarray) -> float:
    return float(np.linalg.svd(tm.conv_matrix(spec, weight).toarray(), compute_uv=False)[0])


def weight_for(spec: tm.ConvSpec, seed: int = 0, complex_: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(spec.weight_shape)
    return w + 1j * rng.standard_normal(spec.weight_shape) if complex_ else w


def assert_brackets(bracket: NormBracket, exact: float) -> None:
    assert bracket.lower <= exact * (1 + ROUNDING), (bracket, exact)
    assert exact <= bracket.upper * (1 + ROUNDING), (bracket, exact)
    assert float(bracket) == bracket.upper
    assert 0 <= bracket.gap <= 1  # 1 when C is zero (it reads no input) but not W


CASES = [
    ("1d", dict(input_shape=20, kernel_size=3, padding=1, in_channels=2, out_channels=3)),
    ("1d-stride3", dict(input_shape=19, kernel_size=5, stride=3, padding=2, in_channels=2,
                        out_channels=2)),
    ("2d-same", dict(input_shape=(9, 8), kernel_size=3, padding=1, in_channels=2,
                     out_channels=3)),
    ("2d-stride2-k7", dict(input_shape=(14, 13), kernel_size=7, stride=2, padding=3,
                           in_channels=3, out_channels=4)),
    ("2d-dilated", dict(input_shape=(10, 9), kernel_size=(3, 2), dilation=(2, 3),
                        padding=((2, 1), (0, 3)), in_channels=2, out_channels=2)),
    ("2d-per-side", dict(input_shape=(8, 11), kernel_size=(4, 3), stride=(2, 3),
                         padding=((0, 3), (2, 0)), in_channels=2, out_channels=2)),
    ("2d-crop", dict(input_shape=(10, 9), kernel_size=3, stride=2, padding=((1, -1), (0, -2)),
                     in_channels=2, out_channels=2)),
    ("groups", dict(input_shape=(8, 8), kernel_size=3, stride=2, padding=1, in_channels=4,
                    out_channels=6, groups=2)),
    ("depthwise", dict(input_shape=(7, 9), kernel_size=3, padding=1, in_channels=3,
                       out_channels=3, groups=3)),
    ("3d", dict(input_shape=(4, 5, 4), kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=1,
                in_channels=2, out_channels=2)),
    ("no-padding", dict(input_shape=(9, 9), kernel_size=3, stride=2, in_channels=2,
                        out_channels=3)),
    ("stride-over-kernel", dict(input_shape=11, kernel_size=2, stride=3, in_channels=2,
                                out_channels=2)),
    ("reflect", dict(input_shape=(8, 7), kernel_size=3, stride=2, padding=1,
                     padding_mode="reflect", in_channels=2, out_channels=3)),
    ("replicate", dict(input_shape=(6, 6), kernel_size=3, padding=(2, 1),
                       padding_mode="replicate", in_channels=2, out_channels=2)),
    ("circular-not-circulant", dict(input_shape=(7, 6), kernel_size=3, stride=2, padding=1,
                                    padding_mode="circular", in_channels=2, out_channels=2)),
]


@pytest.mark.parametrize("arguments", [a for _, a in CASES], ids=[n for n, _ in CASES])
def test_bracket_holds_the_exact_norm(monkeypatch, arguments):
    spec = tm.ConvSpec(**arguments)
    for seed in range(3):
        w = weight_for(spec, seed)
        assert_brackets(norm_bracket(spec, w), exact_norm(spec, w))
    # Small grids take the FFT of the polyphase kernel; force the direct DFT too.
    monkeypatch.setattr(spectrum, "_DIRECT_DFT", 1)
    assert_brackets(norm_bracket(spec, w), exact_norm(spec, w))


def test_bracket_of_a_complex_kernel():
    spec = tm.ConvSpec((9, 8), 3, stride=2, padding=1, in_channels=2, out_channels=2)
    w = weight_for(spec, 1, complex_=True)
    assert_brackets(norm_bracket(spec, w), exact_norm(spec, w))


def random_geometry(rng: np.random.Generator) -> tm.ConvSpec:
    ndim = int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 5, ndim))
    stride = tuple(int(s) for s in rng.integers(1, 4, ndim))
    dilation = tuple(int(d) for d in rng.integers(1, 3, ndim))
    padding = tuple((int(rng.integers(0, 4)), int(rng.integers(0, 4))) for _ in range(ndim))
    reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    shape = tuple(int(rng.integers(max(1, r - b - a), r + 12))
                  for r, (b, a) in zip(reach, padding))
    groups = int(rng.choice([1, 2]))
    return tm.ConvSpec(shape, kernel, stride=stride, dilation=dilation, padding=padding,
                       in_channels=groups * int(rng.integers(1, 3)),
                       out_channels=groups * int(rng.integers(1, 3)), groups=groups)


@pytest.mark.parametrize("seed", range(40))
def test_bracket_on_random_geometries(seed):
    rng = np.random.default_rng(seed)
    spec = random_geometry(rng)
    w = rng.standard_normal(spec.weight_shape)
    assert_brackets(norm_bracket(spec, w, maxiter=int(rng.integers(1, 12))),
                    exact_norm(spec, w))


def test_circulant_layer_is_exact_at_both_ends():
    spec = tm.ConvSpec((8, 6), 4, stride=2, padding=1, padding_mode="circular",
                       in_channels=2, out_channels=3)
    w = weight_for(spec)
    bracket = norm_bracket(spec, w)
    assert bracket.exact and bracket.lower == bracket.upper and bracket.products == 0
    assert bracket.upper == pytest.approx(exact_norm(spec, w), rel=1e-12)


@pytest.mark.parametrize("ndim", [1, 2])
def test_the_gap_shrinks_as_the_input_grows(ndim):
    # The circulant's excess over ‖C‖ is a boundary effect: it fades with n.
    excess, gaps = [], []
    for n in ([12, 48, 192] if ndim == 1 else [6, 12, 24]):
        spec = tm.ConvSpec((n,) * ndim, 5, stride=2, padding=2, in_channels=2,
                           out_channels=2)
        w = weight_for(spec, 3)
        exact = exact_norm(spec, w)
        bracket = norm_bracket(spec, w, tol=1e-9, maxiter=60)
        assert_brackets(bracket, exact)
        excess.append(bracket.upper / exact - 1)
        gaps.append(bracket.gap)
    assert excess[0] > excess[1] > excess[2]
    assert gaps[0] > gaps[1] > gaps[2]


def test_the_upper_end_is_the_exact_norm_of_a_circulant_holding_c():
    # The FFT's top singular vector: ‖C_circ x‖ = σ ‖x‖ for numpy's matrix of C_circ.
    spec = tm.ConvSpec((9, 10), (3, 2), stride=(2, 3), dilation=(1, 2),
                       padding=((1, 2), (0, 1)), in_channels=2, out_channels=3)
    w = weight_for(spec)
    circulant = spectrum._strided_circulant(spec, 0)
    assert spectrum.circulant_repeats(circulant) == (1, 1)
    matrix = tm.conv_matrix(circulant, w).toarray()
    sigma, x = spectrum._circulant_top(circulant, w)
    assert sigma == pytest.approx(np.linalg.svd(matrix, compute_uv=False)[0], rel=1e-12)
    assert np.linalg.norm(matrix @ x.ravel()) == pytest.approx(sigma * np.linalg.norm(x),
                                                               rel=1e-12)
    # C is a submatrix of it: the first outputs, the input at offset `before`.
    rows = np.arange(matrix.shape[0]).reshape(3, *circulant.output_shape)[
        :, : spec.output_shape[0], : spec.output_shape[1]].ravel()
    cols = np.arange(matrix.shape[1]).reshape(2, *circulant.input_shape)[
        :, 1 : 1 + 9, 0:10].ravel()
    np.testing.assert_array_equal(matrix[np.ix_(rows, cols)], tm.conv_matrix(spec, w).toarray())


def test_tolerance_and_budget_stop_the_lower_end():
    # Long and thin: the circulant's excess is 4.5e-5, below the tolerances asked.
    spec = tm.ConvSpec(200, 3, padding=1, in_channels=2, out_channels=2)
    w = weight_for(spec)
    exact = exact_norm(spec, w)
    one = norm_bracket(spec, w, maxiter=1)
    assert one.products == 1
    assert_brackets(one, exact)
    tight = norm_bracket(spec, w, tol=1e-4)
    assert_brackets(tight, exact)
    assert tight.converged and tight.gap <= 1e-4
    loose = norm_bracket(spec, w, tol=0.5)
    assert loose.products == 1 and loose.converged  # the start vector alone is enough
    timed = norm_bracket(spec, w, tol=1e-9, seconds=1e-9)
    assert timed.products == 1 and not timed.converged


def test_operator_norm_bracket_method():
    spec = tm.ConvSpec((30,), 3, stride=2, padding=1, in_channels=2, out_channels=2)
    w = weight_for(spec)
    exact = exact_norm(spec, w)
    bracket = operator_norm(spec, w, method="bracket")
    assert isinstance(bracket, NormBracket) and bracket.tol == BRACKET_TOL
    assert_brackets(bracket, exact)
    assert operator_norm(spec, w, method="bracket", tol=1e-2).tol == 1e-2
    # Every other method is unchanged: the exact value, a plain float.
    plain = operator_norm(spec, w)
    assert type(plain) is float and plain == pytest.approx(exact, rel=1e-9)


def test_bracket_value_object():
    b = NormBracket(3.0, 4.0, products=2, tol=0.1)
    assert (float(b), b.lower, b.upper, b.gap, b.converged) == (4.0, 3.0, 4.0, 0.25, False)
    again = pickle.loads(pickle.dumps(b))
    assert repr(again) == repr(b) and again.lower == 3.0
    assert NormBracket(0.0, 0.0).gap == 0.0


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        (dict(tol=0.0), tm.ConvSpecError, r"tol=0.0 must be in \(0, 1\)"),
        (dict(maxiter=0), tm.ConvSpecError, "maxiter=0 must be >= 1"),
        (dict(seconds=-1.0), tm.ConvSpecError, "seconds=-1.0 must be a positive number"),
        (dict(seconds="1"), tm.ConvSpecError, "seconds='1' must be a positive number"),
    ],
)
def test_argument_errors(options, error, match):
    spec = tm.ConvSpec(8, 3, padding=1)
    with pytest.raises(error, match=match):
        norm_bracket(spec, np.ones((1, 1, 3)), **options)


def test_a_zero_kernel_has_a_zero_bracket():
    spec = tm.ConvSpec((6, 6), 3, padding=1)
    bracket = norm_bracket(spec, np.zeros(spec.weight_shape))
    assert (bracket.lower, bracket.upper, bracket.gap) == (0.0, 0.0, 0.0)


# --------------------------------------------------------------------------- the command


def spectrum_call(capsys, *args: str) -> tuple[int, str, str]:
    from transpose_matrix.cli import main

    status = main(["spectrum", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def printed_bracket(out: str) -> tuple[float, float]:
    line = next(line for line in out.splitlines() if "‖C‖₂ = σ_max ∈ [" in line)
    lower, upper = line.split("[")[1].rstrip("]").split(", ")
    return float(lower), float(upper)


LARGE = ["--input", "40x40", "--kernel", "5", "--stride", "2", "--padding", "2",
         "--in-channels", "2", "--out-channels", "3", "--seed", "5"]


def test_command_brackets_the_norm_of_a_large_layer(capsys):
    spec = tm.ConvSpec((40, 40), 5, stride=2, padding=2, in_channels=2, out_channels=3)
    assert spectrum.choose_method(spec) == "iterative"  # what took minutes at full size
    exact = exact_norm(spec, np.random.default_rng(5).standard_normal(spec.weight_shape))
    status, out, err = spectrum_call(capsys, *LARGE)
    assert (status, err) == (0, "")
    assert "Methods: largest: certified bracket: FFT upper bound, Lanczos lower bound" in out
    lower, upper = printed_bracket(out)  # six digits, so compare to six digits
    assert lower <= float(f"{exact:.6g}") <= upper
    assert "tolerance 0.001" in out and "--method iterative" in out
    # On a 40x40 input the circulant is 0.43% above ‖C‖: the command says so.
    assert upper / exact - 1 > 1e-3 and "Note: the bracket is 0.0043 wide" in out
    status, out, _ = spectrum_call(capsys, *LARGE, "--tol", "1e-5")
    assert status == 0 and "tolerance 1e-05" in out
    lower, upper = printed_bracket(out)
    assert lower <= float(f"{exact:.6g}") <= upper
    # The exact value stays one option away.
    status, out, _ = spectrum_call(capsys, *LARGE, "--method", "iterative")
    assert status == 0 and f"‖C‖₂ = σ_max       {exact:.6g}" in out
    assert "Methods: largest: Lanczos, tolerance-bound" in out


def test_command_says_when_the_bracket_stays_wide(capsys):
    # A short input with a wide stride: the circulant's norm is well above C's.
    args = ["--input", "6", "--kernel", "4", "--stride", "3", "--padding", "3",
            "--in-channels", "2", "--out-channels", "2", "--method", "bracket"]
    status, out, _ = spectrum_call(capsys, *args)
    assert status == 0
    spec = tm.ConvSpec(6, 4, stride=3, padding=3, in_channels=2, out_channels=2)
    exact = exact_norm(spec, np.random.default_rng(0).standard_normal(spec.weight_shape))
    lower, upper = printed_bracket(out)
    assert lower <= float(f"{exact:.6g}") < upper and (upper - lower) / upper > 1e-3
    assert "Note: the bracket is" in out and "more than the tolerance 0.001" in out
    assert "--method iterative computes ‖C‖₂ itself" in out


def test_command_bracket_refuses_what_it_cannot_give(capsys):
    status, _, err = spectrum_call(capsys, *LARGE, "--method", "bracket", "--k", "3")
    assert status == 2 and "method='bracket' brackets the norm only" in err


def test_command_bracket_in_latex_compiles(capsys, tmp_path, pdflatex):
    from transpose_matrix.render.documents import compile_pdf, document

    out = tmp_path / "bracket.tex"
    status, _, _ = spectrum_call(capsys, *LARGE, "--format", "latex", "--out", str(out))
    body = out.read_text()
    assert status == 0 and "bracket, lower" in body and "bracket, upper" in body
    pdf = compile_pdf(document(body), tmp_path, name="bracket")
    log = (tmp_path / "bracket.log").read_text(errors="replace")
    assert pdf.exists() and "Overfull \\hbox" not in log


CIRCULANT = [
    dict(input_shape=64, kernel_size=3, padding=1, padding_mode="circular", in_channels=2,
         out_channels=3),
    dict(input_shape=(12, 10), kernel_size=(4, 3), stride=2, padding=1,
         padding_mode="circular", in_channels=2, out_channels=3),
    dict(input_shape=(9, 8), kernel_size=3, stride=(3, 2), dilation=(2, 1), padding=1,
         padding_mode="circular", in_channels=2, out_channels=2),
]


@pytest.mark.parametrize("direct", [1, 10**6], ids=["direct-dft", "fft"])
@pytest.mark.parametrize("arguments", CIRCULANT)
@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_both_transforms_of_the_polyphase_kernel_match_numpy(monkeypatch, direct, arguments,
                                                             complex_):
    # A kernel reaching few of the grid's shifts gets a direct DFT of them,
    # else an FFT: force each on circulant layers and compare every value.
    monkeypatch.setattr(spectrum, "_DIRECT_DFT", direct)
    spec = tm.ConvSpec(**arguments)
    w = weight_for(spec, 2, complex_)
    got = spectrum.singular_values(spec, w, which="all", method="fft")
    want = np.linalg.svd(tm.conv_matrix(spec, w).toarray(), compute_uv=False)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * want[0])
    assert norm_bracket(spec, w).upper == pytest.approx(want[0], rel=1e-12)
