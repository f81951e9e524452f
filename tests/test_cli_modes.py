"""Padding modes in the views, reports and commands: sums of weights, Cᵀ = Pᵀ·Dᵀ, refusals.

Referees: torch (``F.pad`` of an index tensor says which input entry each
padded position copies, so the terms of C are rebuilt here by loops from
torch's own padding; ``ConvNd(padding_mode=...)``, autograd and the printed
torch recipe run against Cᵀy), sympy's symbolic C (the names the views
print), and pdflatex (every LaTeX document, with no line in the margin).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_padding_modes import mode_specs

import transpose_matrix as tm
from transpose_matrix import ConvSpec, ConvSpecError
from transpose_matrix.analysis.verification import random_weight, transpose_recipe
from transpose_matrix.cli import main
from transpose_matrix.matrices.conv import conv_matrix_max_terms, conv_matrix_nnz, conv_matrix_terms
from transpose_matrix.render import compile_pdf, report
from transpose_matrix.render.views import MAX_TERMS, ConvMatrixView

ROOT = Path(__file__).resolve().parent.parent

# Third-party noise that says nothing about the checks here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Using padding='same' with even kernel lengths:UserWarning"
)


def run_printed(code: str, folder: Path, **names) -> dict:
    """Run printed Python lines as a script of their own, with ``names`` defined; its globals."""
    script = folder / "printed.py"
    script.write_text(code, encoding="utf-8")
    return runpy.run_path(str(script), init_globals=names)


def call(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def torch_sources(torch, n: int, pair: tuple[int, int], mode: str) -> list[int]:
    """Which input entry each padded position holds, read off torch's own ``F.pad``."""
    index = torch.arange(n, dtype=torch.float64)[None, None]
    if mode == "zeros":
        padded = torch.nn.functional.pad(index + 1, list(pair)) - 1  # -1: a zero
    else:
        padded = torch.nn.functional.pad(index, list(pair), mode=mode)
    return [int(v) for v in padded[0, 0].tolist()]


def loop_terms(torch, spec: ConvSpec) -> dict[tuple[int, int], list[int]]:
    """The weights at every entry of C, by loops over rows, channels and taps."""
    sources = [
        torch_sources(torch, n, pair, spec.padding_mode)
        for n, pair in zip(spec.input_shape, spec.padding)
    ]
    out_shape = spec.output_shape
    per_in = spec.in_channels // spec.groups
    per_out = spec.out_channels // spec.groups
    taps = math.prod(spec.kernel_size)
    terms: dict[tuple[int, int], list[int]] = {}
    for o in range(spec.out_channels):
        for j in itertools.product(*map(range, out_shape)):
            row = int(np.ravel_multi_index((o, *j), (spec.out_channels, *out_shape)))
            for c_local in range(per_in):
                c = (o // per_out) * per_in + c_local
                for t in itertools.product(*map(range, spec.kernel_size)):
                    where = [
                        sources[a][j[a] * spec.stride[a] + t[a] * spec.dilation[a]]
                        for a in range(spec.ndim)
                    ]
                    if min(where) < 0:
                        continue
                    col = int(np.ravel_multi_index((c, *where),
                                                   (spec.in_channels, *spec.input_shape)))
                    flat = (o * per_in + c_local) * taps + int(
                        np.ravel_multi_index(t, spec.kernel_size))
                    terms.setdefault((row, col), []).append(flat)
    return terms


# ------------------------------------------------------------------ conv_matrix_terms


@pytest.mark.slow
@given(spec=mode_specs(modes=("zeros", "reflect", "replicate", "circular")))
def test_terms_are_the_weights_torch_padding_adds(torch, spec):
    rows, cols = spec.matrix_shape
    terms = conv_matrix_terms(spec, np.arange(rows), np.arange(cols))
    expected = loop_terms(torch, spec)
    got = {(r, c): list(cell) for r, row in enumerate(terms) for c, cell in enumerate(row) if cell}
    assert got == {key: sorted(value) for key, value in expected.items()}
    assert len(got) == conv_matrix_nnz(spec)
    assert max(map(len, got.values()), default=1) == conv_matrix_max_terms(spec) or not got
    # The sums are C: the builder and the terms agree on every entry.
    weight = random_weight(spec, 3)
    flat = weight.reshape(-1)
    dense = np.array([[flat[list(cell)].sum() for cell in row] for row in terms])
    np.testing.assert_allclose(tm.conv_matrix(spec, weight).toarray(), dense, rtol=0, atol=1e-12)


@settings(max_examples=20)
@given(spec=mode_specs(), data=st.data())
def test_terms_of_any_block_are_those_of_the_whole(spec, data):
    rows, cols = spec.matrix_shape
    pick_rows = data.draw(st.lists(st.integers(0, rows - 1), min_size=1, max_size=6))
    pick_cols = data.draw(st.lists(st.integers(0, cols - 1), min_size=1, max_size=6))
    whole = conv_matrix_terms(spec, np.arange(rows), np.arange(cols))
    block = conv_matrix_terms(spec, pick_rows, pick_cols)
    assert block == [[whole[r][c] for c in pick_cols] for r in pick_rows]


def test_a_huge_layer_has_the_corner_of_a_small_one():
    # The first rows of C read the start of the input only: a 10**12-long
    # input and a 20-long one share that corner, entry by entry.
    big = ConvSpec((10**12,), 7, stride=2, padding=3, padding_mode="replicate")
    small = ConvSpec((20,), 7, stride=2, padding=3, padding_mode="replicate")
    assert conv_matrix_terms(big, range(4), range(10)) == conv_matrix_terms(
        small, range(4), range(10))
    # Exact counts without a table of 5 * 10**11 rows.
    assert conv_matrix_nnz(big) == 7 * big.output_shape[0] - 6
    assert conv_matrix_max_terms(big) == 4
    text = report.show_text(big)
    assert "w₀+w₁+w₂+w₃" in text and "3499999999994 stored entries" in text


def test_terms_refuse_indices_outside_c():
    spec = ConvSpec((4,), 3, padding=1, padding_mode="reflect")
    with pytest.raises(ConvSpecError, match=r"rows must lie in \[0, 4\)"):
        conv_matrix_terms(spec, [4], [0])
    with pytest.raises(ConvSpecError, match="cols must lie"):
        conv_matrix_terms(spec, [0], [-1])
    # One weight per entry is a zero-padding notion: the single-weight view refuses.
    from transpose_matrix.matrices.conv import conv_matrix_entries

    with pytest.raises(ConvSpecError, match="use conv_matrix_terms") as error:
        conv_matrix_entries(spec, [0], [0])
    assert error.value.field == "padding_mode"


# ------------------------------------------------------------------ views


def _names(cell: str) -> list[str]:
    return [] if cell in ("", "0") else cell.split(" + ")


@pytest.mark.parametrize(
    "spec",
    [
        ConvSpec((4, 4), 3, padding=1, padding_mode="reflect"),
        ConvSpec((5,), 4, padding="same", padding_mode="circular", in_channels=2,
                 out_channels=2, groups=2),
        ConvSpec((3, 4), (3, 2), stride=(2, 1), padding=((2, 1), (1, 1)),
                 padding_mode="replicate"),
    ],
    ids=["reflect-2d", "circular-groups", "replicate-uneven"],
)
def test_view_cells_are_sympys_sums(spec):
    symbolic = tm.symbolic_conv_matrix(spec)
    view = ConvMatrixView(spec)
    rows, cols = spec.matrix_shape
    latex = view.latex_block(range(rows), range(cols))
    text = view.text_block(range(rows), range(cols))
    import sympy

    order = {symbol: flat for flat, symbol in enumerate(tm.weight_symbols(spec).reshape(-1))}
    for r, c in itertools.product(range(rows), range(cols)):
        entry = symbolic[r, c]
        terms = [] if entry == 0 else sorted(sympy.Add.make_args(entry), key=order.__getitem__)
        names = [sympy.latex(term) for term in terms]
        shown = _names(latex[r][c] or "")
        if len(names) > MAX_TERMS:
            assert shown == [names[0], r"\dots", names[-1]]
            assert text[r][c].count("+") == 2 and "…" in text[r][c]
        else:
            assert shown == names
            assert text[r][c].count("+") == max(0, len(names) - 1)
    assert view.text_cell_width >= max(len(cell) for row in text for cell in row)


def test_long_sums_print_first_and_last_term():
    # replicate, kernel 5, padding 4: the corner entry reads x[0, 0] with all 25 taps.
    spec = ConvSpec((3, 3), 5, padding=4, padding_mode="replicate")
    view = ConvMatrixView(spec)
    assert conv_matrix_max_terms(spec) == 25 > MAX_TERMS
    assert view.text_block([0], [0]) == [["w₀₀+…+w₄₄"]]
    assert view.latex_block([0], [0]) == [[r"w_{0,0} + \dots + w_{4,4}"]]
    assert view.text_cell_width == len("w₀₀+w₀₁+w₀₂+w₀₃")  # four terms spelled out
    assert "sums of more than 4 print as first + … + last" in report.show_text(spec)
    # Numeric weights: the value of the sum.
    weight = random_weight(spec, 1)
    numeric = ConvMatrixView(spec, weight)
    assert numeric.text_block([0], [0]) == [[f"{weight.sum():.2f}"]]


def test_transposed_view_is_the_transpose():
    spec = ConvSpec((4, 3), 3, stride=(1, 2), padding=1, padding_mode="reflect")
    view = ConvMatrixView(spec)
    rows, cols = spec.matrix_shape
    forward = view.text_block(range(rows), range(cols))
    assert view.T.text_block(range(cols), range(rows)) == [list(c) for c in zip(*forward)]


# ------------------------------------------------------------------ show / export / json


def recipe_lines(text: str) -> str:
    """The torch recipe as ``show`` prints it, unindented."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("    z = "))
    code = []
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        code.append(line[4:])
    return "\n".join(code)


MODE_CASES = {
    "reflect-2d": ["--input", "5x5", "--padding", "1", "--padding-mode", "reflect"],
    "reflect-strided-dilated": ["--input", "7x6", "--kernel", "3x2", "--stride", "2x1",
                                "--dilation", "2x1", "--padding", "2:1x1:0",
                                "--padding-mode", "reflect"],
    "replicate-1d": ["--input", "6", "--kernel", "4", "--stride", "3", "--padding", "3:2",
                     "--padding-mode", "replicate"],
    "circular-same-groups": ["--input", "5x4", "--kernel", "4x3", "--padding", "same",
                             "--padding-mode", "circular", "--in-channels", "2",
                             "--out-channels", "4", "--groups", "2"],
    "replicate-3d": ["--input", "3x3x2", "--kernel", "2", "--padding", "1",
                     "--padding-mode", "replicate", "--in-channels", "2"],
}


@pytest.mark.slow
@pytest.mark.parametrize("case", MODE_CASES)
def test_show_prints_the_recipe_that_torch_runs_to_ct_y(capsys, torch, tmp_path, case):
    status, out, err = call(capsys, "show", *MODE_CASES[case], "--numeric", "--seed", "2")
    assert status == 0 and err == ""
    assert (
        "Cᵀ is the input gradient but no ConvTransposeNd (torch's transposed layers pad "
        "with zeros): Cᵀ = PᵀDᵀ, a zero-padded transposed convolution onto the padded grid, "
        "then Pᵀ folds each border entry back onto the input entry it copied."
        in " ".join(out.split())
    )
    # The spec the options describe, rebuilt independently of the CLI's parser.
    from transpose_matrix.cli import build_parser, spec_from_args

    spec = spec_from_args(build_parser().parse_args(["show", *MODE_CASES[case]]))
    assert spec.padding_mode != "zeros"
    weight = random_weight(spec, 2)
    C = tm.conv_matrix(spec, weight)
    y = np.random.default_rng(5).standard_normal(spec.matrix_shape[0])
    yt = torch.tensor(y.reshape(1, spec.out_channels, *spec.output_shape))
    # The printed lines, as printed.
    x = run_printed(recipe_lines(out), tmp_path, torch=torch, y=yt, w=torch.tensor(weight))["x"]
    assert tuple(x.shape) == (1, spec.in_channels, *spec.input_shape)
    np.testing.assert_allclose(x.numpy().reshape(-1), C.T @ y, rtol=0, atol=1e-12)
    # Cᵀ is also autograd's input gradient through torch's own padding.
    xt = torch.zeros((1, spec.in_channels, *spec.input_shape), dtype=torch.float64,
                     requires_grad=True)
    amounts = [a for pair in reversed(spec.padding) for a in pair]
    conv = getattr(torch.nn.functional, f"conv{spec.ndim}d")
    out_t = conv(torch.nn.functional.pad(xt, amounts, mode=spec.padding_mode),
                 torch.tensor(weight), stride=spec.stride, dilation=spec.dilation,
                 groups=spec.groups)
    out_t.backward(yt)
    np.testing.assert_allclose(xt.grad.numpy().reshape(-1), C.T @ y, rtol=0, atol=1e-12)


def test_show_sums_and_conv_call(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    status, out, _ = call(capsys, "show", "--input", "4", "--padding", "1",
                          "--padding-mode", "reflect")
    assert status == 0
    assert out.startswith(
        "Convolution: torch.nn.Conv1d(1, 1, kernel_size=(3,), stride=(1,), padding=(1,), "
        "dilation=(1,), padding_mode='reflect', bias=False)\n"
    )
    # x[-1] holds x[1] (reflect): row y₀ reads x₁ with w₀ and w₂.
    assert "y₀     w₁ w₀+w₂   ·     ·" in out and "y₃    ·     ·   w₀+w₂    w₁" in out
    # The padded grid (4 + 1 + 1) less the reach of conv_transpose1d without padding.
    assert "    a = 6 - ((4 - 1) · 1 + 1 · (3 - 1) + 1) = 0" in out


def test_padding_same_is_torchs(capsys, torch):
    status, out, _ = call(capsys, "show", "--input", "6", "--kernel", "4", "--padding", "same",
                          "--numeric", "--format", "json")
    data = json.loads(out)
    assert status == 0 and data["spec"]["padding"] == [[1, 2]]
    layer = torch.nn.Conv1d(1, 1, 4, padding="same", bias=False).double()
    weight = random_weight(ConvSpec((6,), 4, padding="same"), 0)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        ys = layer(torch.eye(6, dtype=torch.float64)[:, None])[:, 0].numpy().T
    dense = np.zeros(data["matrix_shape"])
    for r, c, value in data["entries"]:
        dense[r, c] = value
    np.testing.assert_allclose(dense, ys, rtol=0, atol=1e-12)
    status, out, _ = call(capsys, "show", "--input", "6", "--kernel", "4", "--padding", "same")
    assert "padding='same'" in out.splitlines()[0]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_json_entries_are_sums(capsys, torch, tmp_path, mode):
    args = ["--input", "4x3", "--kernel", "3x2", "--padding", "2:1x1:1", "--padding-mode", mode]
    status, out, _ = call(capsys, "show", *args, "--format", "json")
    symbolic = json.loads(out)
    status_n, out_n, _ = call(capsys, "show", *args, "--format", "json", "--numeric")
    numeric = json.loads(out_n)
    assert status == status_n == 0
    spec = ConvSpec((4, 3), (3, 2), padding=((2, 1), (1, 1)), padding_mode=mode)
    assert symbolic["spec"]["padding_mode"] == mode and symbolic["transposed_layer"] is None
    import sympy

    C = tm.symbolic_conv_matrix(spec)
    assert symbolic["nnz"] == len(symbolic["entries"]) == conv_matrix_nnz(spec)
    for r, c, entry in symbolic["entries"]:
        assert sorted(entry.split(" + ")) == sorted(
            map(sympy.latex, sympy.Add.make_args(C[r, c])))
    dense = tm.conv_matrix(spec, random_weight(spec, 0)).toarray()
    for r, c, value in numeric["entries"]:
        assert value == pytest.approx(dense[r, c], abs=1e-12)
    # The JSON's recipe runs too.
    y = np.random.default_rng(0).standard_normal(spec.matrix_shape[0])
    x = run_printed(numeric["transposed_recipe"], tmp_path, torch=torch,
                    y=torch.tensor(y.reshape(1, 1, *spec.output_shape)),
                    w=torch.tensor(random_weight(spec, 0)))["x"]
    np.testing.assert_allclose(x.numpy().reshape(-1),
                               tm.conv_matrix(spec, random_weight(spec, 0)).T @ y, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["--input", "4x4", "--padding", "1", "--padding-mode", "reflect"],
        ["--input", "5", "--kernel", "5", "--stride", "2", "--padding", "3",
         "--padding-mode", "replicate", "--numeric"],
        ["--input", "2x3", "--padding", "1", "--padding-mode", "circular",
         "--in-channels", "2", "--out-channels", "2", "--beamer"],
    ],
    ids=["reflect-article", "replicate-numeric", "circular-beamer"],
)
def test_export_compiles_without_overfull_lines(capsys, pdflatex, tmp_path, args):
    status, out, err = call(capsys, "export", *args)
    assert status == 0 and err == ""
    if "--beamer" not in args:
        assert r"P^{\mathsf{T}} D^{\mathsf{T}}" in out and "conv\\_transpose" in out
    # Each case has entries summing several taps, so its sparsity figure has stripes.
    assert "outlined, striped square" in out
    pdf = compile_pdf(out, tmp_path)
    log = pdf.with_suffix(".log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log


def test_export_refuses_a_transposed_mode_layer():
    spec = ConvSpec((4,), 3, padding=1, padding_mode="reflect")
    with pytest.raises(ConvSpecError, match="the gradient derivation's sums") as error:
        report.export(spec, derivations=True)
    assert error.value.field == "padding_mode"
    for make in (lambda: report.export(spec, transposed=True),
                 lambda: report.show_text(spec, transposed=True),
                 lambda: report.show_latex(spec, transposed=True),
                 lambda: report.export(spec, transposed=True, beamer=True)):
        with pytest.raises(ConvSpecError, match="ConvTransposeNd pads with zeros only"):
            make()


# ------------------------------------------------------------------ figures


@pytest.mark.slow
def test_sparsity_figure_stripes_every_term(pdflatex, tmp_path):
    spec = ConvSpec((4, 4), 3, padding=1, padding_mode="reflect")
    picture = tm.sparsity_figure(spec)
    rows, cols = spec.matrix_shape
    terms = conv_matrix_terms(spec, range(rows), range(cols))
    assert picture.count(r"\fill[tap") == sum(len(cell) for row in terms for cell in row)
    assert picture.count(r"\draw[black!70") == sum(len(cell) > 1 for row in terms for cell in row)
    assert "an outlined, striped square shows each tap's colour" in picture
    # C[0, 5] (output y₀₀, input x₁₁) is w₀₀ + w₀₂ + w₂₀ + w₂₂: four stripes a
    # quarter cell wide, in the colours of taps 0, 2, 6 and 8 (named a, c, g, i).
    fills = re.findall(r"\\fill\[tap(\w+)\] \(([\d.]+),-([\d.]+)\) rectangle \+\(([\d.]+),",
                       picture)
    cell = max(float(width) for *_, width in fills)
    corner = [(name, float(width)) for name, x, y, width in fills
              if abs(float(y) - cell) < 1e-3 and 5 * cell - 1e-3 <= float(x) < 6 * cell - 1e-3]
    assert [name for name, _ in corner] == ["a", "c", "g", "i"]
    assert all(abs(width - cell / 4) < 2e-3 for _, width in corner)
    from transpose_matrix.render import document

    compile_pdf(document(picture, kind="standalone"), tmp_path)


def test_zero_padding_figure_is_unchanged():
    # Zero padding: one square per entry, no outline, no caption note.
    picture = tm.sparsity_figure(ConvSpec((4, 4), 3, padding=1))
    assert picture.count(r"\fill[tap") == conv_matrix_nnz(ConvSpec((4, 4), 3, padding=1))
    assert r"\draw[black!70" not in picture and "striped" not in picture


# ------------------------------------------------------------------ verify


@pytest.mark.slow
@settings(max_examples=25)
@given(spec=mode_specs())
def test_verify_passes_every_mode(torch, spec):
    result = tm.verify(spec)
    names = list(result.errors)
    assert result.ok, str(result)
    assert names[0].startswith("C @ x vs ") and spec.padding_mode in names[0]
    assert names[2] == f"C.T @ y vs conv_transpose{spec.ndim}d + fold (Pᵀ·Dᵀ)"


def test_verify_catches_zero_padding(torch, monkeypatch):
    # The old behaviour (C padded with zeros) must fail every torch check.
    from transpose_matrix.analysis import verification

    spec = ConvSpec((5, 5), 3, padding=1, padding_mode="reflect")
    zeros = ConvSpec((5, 5), 3, padding=1)
    monkeypatch.setattr(verification, "conv_matrix", lambda s, w: tm.conv_matrix(zeros, w))
    result = verification.verify(spec)
    assert not result.ok
    failing = [name for name, error in result.errors.items() if error > result.tolerance]
    assert len(failing) == 3 and "dot test <Cx,y> vs <x,C.T y>" not in failing


def test_verify_command_names_its_referees(capsys, torch):
    status, out, _ = call(capsys, "verify", "--input", "5x5", "--padding", "1",
                          "--padding-mode", "reflect")
    assert status == 0
    assert "  C @ x vs Conv2d(padding_mode='reflect')" in out
    assert "  C.T @ g vs autograd input gradient" in out
    assert "  C.T @ y vs conv_transpose2d + fold (Pᵀ·Dᵀ)" in out
    status, out, _ = call(capsys, "verify", "--input", "6", "--padding", "2:1",
                          "--padding-mode", "circular")
    assert status == 0 and "C @ x vs F.pad(mode='circular') + conv1d" in out
    status, out, _ = call(capsys, "verify", "--input", "6", "--padding", "2:1",
                          "--padding-mode", "circular", "--no-torch")
    assert status == 0 and "C vs reference C" in out


def test_recipe_refuses_zero_padding():
    with pytest.raises(ConvSpecError, match="ConvTransposeNd layer"):
        transpose_recipe(ConvSpec((4,), 3, padding=1))


# ------------------------------------------------------------------ refusals

REFUSED = {
    "placement": (["figure", "placement", "--padding", "1", "--padding-mode", "reflect"],
                  "--padding-mode: figure placement draws zero padding only"),
    "animate": (["animate", "--padding", "1", "--padding-mode", "replicate", "--out", "a.gif"],
                "--padding-mode: animate draws zero padding only"),
    "html": (["html", "--padding", "1", "--padding-mode", "circular"],
             "--padding-mode: html draws zero padding only"),
    "transposed mode": (["show", "--transposed", "--padding-mode", "reflect"],
                        "--padding-mode: padding_mode='reflect' has no transposed layer"),
    "transposed same": (["export", "--transposed", "--padding", "same"],
                        "--padding: 'same' is not allowed with --transposed"),
    "same strided": (["show", "--padding", "same", "--stride", "2"],
                     "--padding: padding='same' needs stride 1"),
    "preset": (["animate", "--preset", "no_padding_no_strides", "--padding-mode", "reflect",
                "--out", "a.gif"], "--padding-mode: not allowed with --preset"),
    "unknown mode": (["show", "--padding-mode", "edge"], "--padding-mode: invalid choice: 'edge'"),
    "reflect too wide": (["verify", "--input", "3", "--padding", "3", "--padding-mode", "reflect"],
                         "padding_mode='reflect' needs padding < input size"),
    "word": (["show", "--padding", "full"], "--padding: 'full' is not allowed; give same or valid"),
    "derivations": (["export", "--padding", "1", "--padding-mode", "reflect", "--derivations"],
                    "--derivations: not available with --padding-mode reflect"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_refusals_are_one_line(capsys, tmp_path, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    argv, message = REFUSED[case]
    status, out, err = call(capsys, *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("transpose_matrix: error: ")
    assert message in err
    assert not (tmp_path / "a.gif").exists()


def test_library_drawings_refuse_modes():
    spec = ConvSpec((4, 4), 3, padding=1, padding_mode="reflect")
    from transpose_matrix.render.animate import animate
    from transpose_matrix.render.html import html_page

    for make in (lambda: tm.placement_figure(spec, (1, 1)), lambda: html_page(spec),
                 lambda: animate(spec, "gather")):
        with pytest.raises(ConvSpecError, match="draws zero padding only") as error:
            make()
        assert error.value.field == "padding_mode"


@pytest.mark.slow
def test_modes_subprocess():
    env = {**os.environ, "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-m", "transpose_matrix", "show", "--input", "4", "--padding", "1",
         "--padding-mode", "reflect"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", env=env, timeout=120,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == ""
    assert "padding_mode='reflect'" in result.stdout and "w₀+w₂" in result.stdout
