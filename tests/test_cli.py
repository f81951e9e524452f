"""The command line: golden textbook output, real referees, one-line errors.

Commands run in-process through ``main([...])`` and as the real
``python -m transpose_matrix`` in a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import transpose_matrix as tm
from transpose_matrix.analysis.verification import random_weight
from transpose_matrix.cli import main, parse_dims, parse_padding
from transpose_matrix.errors import ConvSpecError
from transpose_matrix.geometry.spec import ConvSpec
from transpose_matrix.io import OutputPathError, write_text_atomic
from transpose_matrix.matrices.reference import reference_conv_matrix
from transpose_matrix.render import compile_pdf

ROOT = Path(__file__).resolve().parent.parent

# The textbook case (4x4 input, 3x3 kernel): output 4 - 3 + 1 = 2 per dim, so
# C is 4 x 16 with 4 * 9 = 36 stored entries; row y_ij holds w_ab at x_(i+a)(j+b).
# The transposed layer with the same arguments takes 2x2 back to 4x4.
TEXTBOOK_SHOW = """\
Convolution: torch.nn.Conv2d(1, 1, kernel_size=(3, 3), stride=(1, 1), padding=(0, 0), \
dilation=(1, 1), bias=False)
  input  x: 1 × 4 × 4  (channels × spatial), 16 values
  weight w: 1 × 1 × 3 × 3  (out_channels × in_channels/groups × kernel)
  output y: 1 × 2 × 2, 4 values

Output size along each dim: o = ⌊(n + 2p - d(k - 1) - 1)/s⌋ + 1
  (n input size, p padding, d dilation, k kernel size, s stride)
  o₀ = o₁ = ⌊(4 + 2 · 0 - 1 · (3 - 1) - 1)/1⌋ + 1 = ⌊1/1⌋ + 1 = 2

C: 4 × 16, 36 stored entries, symbolic weights. y = C x (row = output position, \
column = input position)
     x₀₀ x₀₁ x₀₂ x₀₃ │ x₁₀ x₁₁ x₁₂ x₁₃ │ x₂₀ x₂₁ x₂₂ x₂₃ │ x₃₀ x₃₁ x₃₂ x₃₃
y₀₀  w₀₀ w₀₁ w₀₂  ·  │ w₁₀ w₁₁ w₁₂  ·  │ w₂₀ w₂₁ w₂₂  ·  │  ·   ·   ·   ·
y₀₁   ·  w₀₀ w₀₁ w₀₂ │  ·  w₁₀ w₁₁ w₁₂ │  ·  w₂₀ w₂₁ w₂₂ │  ·   ·   ·   ·
     ────────────────┼─────────────────┼─────────────────┼────────────────
y₁₀   ·   ·   ·   ·  │ w₀₀ w₀₁ w₀₂  ·  │ w₁₀ w₁₁ w₁₂  ·  │ w₂₀ w₂₁ w₂₂  ·
y₁₁   ·   ·   ·   ·  │  ·  w₀₀ w₀₁ w₀₂ │  ·  w₁₀ w₁₁ w₁₂ │  ·  w₂₀ w₂₁ w₂₂

Cᵀ: 16 × 4. Column j of Cᵀ is row j of C.
     y₀₀ y₀₁ │ y₁₀ y₁₁
x₀₀  w₀₀  ·  │  ·   ·
x₀₁  w₀₁ w₀₀ │  ·   ·
x₀₂  w₀₂ w₀₁ │  ·   ·
x₀₃   ·  w₀₂ │  ·   ·
     ────────┼────────
x₁₀  w₁₀  ·  │ w₀₀  ·
x₁₁  w₁₁ w₁₀ │ w₀₁ w₀₀
x₁₂  w₁₂ w₁₁ │ w₀₂ w₀₁
x₁₃   ·  w₁₂ │  ·  w₀₂
     ────────┼────────
x₂₀  w₂₀  ·  │ w₁₀  ·
x₂₁  w₂₁ w₂₀ │ w₁₁ w₁₀
x₂₂  w₂₂ w₂₁ │ w₁₂ w₁₁
x₂₃   ·  w₂₂ │  ·  w₁₂
     ────────┼────────
x₃₀   ·   ·  │ w₂₀  ·
x₃₁   ·   ·  │ w₂₁ w₂₀
x₃₂   ·   ·  │ w₂₂ w₂₁
x₃₃   ·   ·  │  ·  w₂₂

What Cᵀ computes:
  Cᵀ y = torch.nn.ConvTranspose2d(1, 1, kernel_size=(3, 3), stride=(1, 1), padding=(0, 0), \
output_padding=(0, 0), dilation=(1, 1), bias=False)(y)
        1 × 2 × 2 -> 1 × 4 × 4, with the same weight w
  Cᵀ g = ∂L/∂x for g = ∂L/∂y: the gradient of the convolution with respect to its input
"""


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "80", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "transpose_matrix", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )


def call(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_show_textbook_golden_in_process(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert call(capsys, "show") == (0, TEXTBOOK_SHOW, "")
    # No command at all means show.
    assert call(capsys) == (0, TEXTBOOK_SHOW, "")


def test_show_textbook_golden_subprocess():
    result = run("show")
    assert (result.returncode, result.stdout, result.stderr) == (0, TEXTBOOK_SHOW, "")


def test_transposed_geometry_matches_from_transposed(capsys):
    status, out, _ = call(
        capsys, "show", "--transposed", "--input", "3x3", "--kernel", "3", "--stride", "2",
        "--padding", "1", "--output-padding", "1", "--in-channels", "2", "--out-channels", "3",
        "--format", "json",
    )
    data = json.loads(out)
    spec = ConvSpec.from_transposed((3, 3), 2, 3, 3, stride=2, padding=1, output_padding=1)
    assert status == 0
    assert data["spec"]["input_shape"] == [6, 6] == list(spec.input_shape)
    assert data["transposed_layer"]["output_padding"] == [1, 1]
    assert (data["spec"]["in_channels"], data["spec"]["out_channels"]) == (3, 2)


def test_numeric_json_is_the_convolution_and_its_transpose(capsys, torch):
    args = ["--input", "5x6", "--kernel", "3x2", "--stride", "2", "--padding", "1:0x0:1",
            "--dilation", "1x2", "--in-channels", "2", "--out-channels", "4", "--groups", "2"]
    status, out, _ = call(capsys, "show", *args, "--numeric", "--seed", "7", "--format", "json")
    assert status == 0
    data = json.loads(out)
    spec = ConvSpec((5, 6), (3, 2), stride=2, padding=((1, 0), (0, 1)), dilation=(1, 2),
                    in_channels=2, out_channels=4, groups=2)
    rows, cols = data["matrix_shape"]
    C = np.zeros((rows, cols))
    for r, c, v in data["entries"]:
        C[r, c] = v
    weight = torch.tensor(random_weight(spec, 7))
    x = torch.randn(1, 2, 5, 6, dtype=torch.float64)
    padded = torch.nn.functional.pad(x, (0, 1, 1, 0))
    y = torch.nn.functional.conv2d(padded, weight, stride=2, dilation=(1, 2), groups=2)
    np.testing.assert_allclose(C @ x.numpy().reshape(-1), y.numpy().reshape(-1), atol=1e-12)
    assert data["nnz"] == reference_conv_matrix(spec, np.ones(spec.weight_shape)).nnz


def test_transposed_call_shown_is_right(capsys, torch):
    # show prints the ConvTranspose1d call; running that call must give C^T y.
    status, out, _ = call(capsys, "show", "--input", "7", "--kernel", "3", "--stride", "2",
                          "--padding", "1", "--numeric", "--format", "json")
    data = json.loads(out)
    layer = data["transposed_layer"]
    spec = ConvSpec((7,), 3, stride=2, padding=1)
    C = np.zeros(data["matrix_shape"])
    for r, c, v in data["entries"]:
        C[r, c] = v
    module = torch.nn.ConvTranspose1d(
        layer["in_channels"], layer["out_channels"], layer["kernel_size"],
        stride=layer["stride"], padding=layer["padding"],
        output_padding=layer["output_padding"], dilation=layer["dilation"], bias=False,
    ).double()
    with torch.no_grad():
        module.weight.copy_(torch.tensor(random_weight(spec, 0)))
        y = torch.randn(1, 1, 4, dtype=torch.float64)
        np.testing.assert_allclose(module(y).numpy().reshape(-1), C.T @ y.numpy().reshape(-1),
                                   atol=1e-12)
    assert status == 0 and "ConvTranspose1d" in call(capsys, "show", "--input", "7")[1]


def test_show_latex_textbook(capsys):
    status, out, _ = call(capsys, "show", "--format", "latex")
    assert status == 0
    lines = out.splitlines()
    # The rows are labelled left of the bracket, each column above its first entry.
    assert lines[:8] == ["\\[", "C = \\begin{array}{@{}r@{\\;}}",
                         "\\scriptstyle y_{0,0} \\\\", "\\scriptstyle y_{0,1} \\\\",
                         "\\scriptstyle y_{1,0} \\\\", "\\scriptstyle y_{1,1}", "\\end{array}",
                         "\\left[\\begin{array}{@{}*{16}{c}@{}}"]
    head = re.findall(r"\\overset\{(x_\{\d,\d\})\}\{\\smash\[b\]\{\\vphantom\{\\Big\|\}\}([^}]*\}?)\}\}",
                      lines[8])
    assert [label for label, _ in head] == [f"x_{{{i},{j}}}" for i in range(4) for j in range(4)]
    assert " & ".join(entry for _, entry in head) == (
        "w_{0,0} & w_{0,1} & w_{0,2} & 0 & w_{1,0} & w_{1,1} & w_{1,2} & 0 & "
        "w_{2,0} & w_{2,1} & w_{2,2} & 0 & 0 & 0 & 0 & 0")
    assert "C^{\\mathsf{T}} = \\begin{array}{@{}r@{\\;}}" in lines
    assert "\\begin{bmatrix}" in lines  # 4 columns: amsmath's bmatrix
    assert lines[-2:] == ["\\end{bmatrix}", "\\]"]


def test_wide_matrix_elided_unless_full(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    _, out, _ = call(capsys, "show", "--input", "9x9")
    assert "…" in out and max(len(line) for line in out.splitlines() if "·" in line) <= 80
    _, out, _ = call(capsys, "show", "--input", "9x9", "--full")
    assert "…" not in out and "x₈₈" in out


def test_large_input_is_elided_not_refused(capsys, monkeypatch):
    # C is 63504 x 65536 here: the text view must only look at what it prints.
    monkeypatch.setenv("COLUMNS", "100")
    status, out, _ = call(capsys, "show", "--input", "128x128", "--in-channels", "4",
                          "--out-channels", "4")
    assert status == 0
    matrix_lines = [line for line in out.splitlines() if "·" in line or "⋮" in line]
    assert "…" in out and "⋮" in out
    assert max(len(line) for line in matrix_lines) <= 100
    # The last row of C is output channel 3, position (125, 125), and it reads
    # input channel 3 at (127, 127) with tap w₃₃₂₂ in its last column.
    last_row = next(line for line in reversed(out.split("Cᵀ:")[0].splitlines()) if "y₃" in line)
    assert last_row.startswith("y₃.₁₂₅.₁₂₅") and last_row.rstrip().endswith("w₃₃₂₂")


def test_export_document_compiles(pdflatex, tmp_path):
    target = tmp_path / "notes.tex"
    result = run("export", "--input", "5x5", "--stride", "2", "--padding", "1",
                 "--out", str(target))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    tex = target.read_text()
    assert "\\frac{\\partial L}{\\partial x} = C^{\\mathsf{T}}" in tex
    assert "ConvTranspose2d" in tex and "\\begin{tikzpicture}" in tex
    assert compile_pdf(tex, tmp_path / "build").exists()


def test_export_fragment_inputs_into_notes(capsys, pdflatex, tmp_path):
    status, out, _ = call(capsys, "export", "--fragment", "--numeric", "--no-figures",
                          "--input", "6", "--kernel", "2", "--derivations")
    assert status == 0 and "\\documentclass" not in out
    (tmp_path / "body.tex").write_text(out)
    notes = ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
             "\\input{body}\n\\end{document}\n")
    assert compile_pdf(notes, tmp_path, name="notes").exists()


@pytest.mark.parametrize("kind", ["sparsity", "placement"])
def test_figure_command_compiles(capsys, pdflatex, tmp_path, kind):
    status, out, _ = call(capsys, "figure", kind, "--input", "6", "--kernel", "3",
                          "--stride", "2", "--index", "1")
    assert status == 0 and out.startswith("\\documentclass")
    assert compile_pdf(out, tmp_path).exists()


def test_verify_command(capsys):
    status, out, _ = call(capsys, "verify", "--input", "6x5", "--kernel", "3", "--stride", "2",
                          "--no-torch")
    assert status == 0 and out.rstrip().endswith("all checks passed")
    assert "reference loop builder" in out


def test_verify_with_torch_subprocess(torch):
    result = run("verify", "--transposed", "--input", "3", "--kernel", "3", "--stride", "2",
                 "--output-padding", "1")
    assert result.returncode == 0, result.stderr
    assert f"torch {torch.__version__}" in result.stdout
    assert "C.T @ y vs conv_transpose" in result.stdout


def test_solve_command(capsys):
    status, out, _ = call(capsys, "solve", "8", "16", "--kernel", "4")
    # (8 - 1)*2 - 2*1 + (4 - 1) + 0 + 1 = 16
    assert status == 0 and out.splitlines()[1].split() == ["ConvTranspose", "4", "2", "1",
                                                           "1", "0", "2,2"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["show", "--stride", "2.5"], "--stride: '2.5' is not allowed; give an integer >= 1"),
        (["show", "--input", "4x4x4x4"], "--input: '4x4x4x4' is not allowed"),
        (["show", "--kernel", "0"], "--kernel: '0' is not allowed; every entry must be >= 1"),
        (["show", "--padding", "1:"], "--padding: '1:' is not allowed"),
        (["show", "--groups", "2"], "--groups: groups=2 must divide in_channels=1"),
        (["show", "--kernel", "5"], "dilated kernel size 5"),
        (["show", "--stride", "1x1x1"], "--stride: stride=(1, 1, 1) must have 2 entries"),
        (["show", "--format", "xml"], "--format: invalid choice: 'xml' (choose from"),
        (["show", "--output-padding", "1"], "--output-padding: '1' is only allowed with"),
        (["show", "--transposed", "--output-padding", "3", "--stride", "2"],
         "output_padding=3 must be smaller than either stride=2"),
        (["show", "--transposed", "--padding", "1:0"], "--padding: '1:0' is not allowed with"),
        (["show", "--bogus"], "unrecognized arguments: --bogus; see"),
        (["show", "--seed", "-1", "--numeric"], "--seed: '-1' is not allowed"),
        (["figure", "placement", "--index", "9"], "--index: output_index=9 must be a row"),
        (["figure", "sparsity", "--input", "3x3x3", "--kernel", "2"], "figures draw 1-D and"),
        (["solve", "0", "4"], "n: '0' is not allowed"),
        (["figure"], "the following arguments are required: kind"),
    ],
)
def test_bad_input_is_one_line_and_status_2(capsys, args, expected):
    status, out, err = call(capsys, *args)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("transpose_matrix: error: ")
    assert expected in err


def test_bad_input_subprocess_has_no_traceback(tmp_path):
    for args in (["show", "--dilation", "x"], ["export", "--out", str(tmp_path)]):
        result = run(*args)
        assert result.returncode == 2 and result.stdout == ""
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert "--out: output path" in result.stderr and "is a directory" in result.stderr


@pytest.mark.parametrize("command", ["show", "export", "verify", "figure", "solve"])
def test_help_has_an_example(capsys, command):
    status, out, _ = call(capsys, command, "--help")
    assert status == 0 and f"example: python -m transpose_matrix {command}" in out


def test_parsers():
    assert parse_dims("--input", "4×5,6") == (4, 5, 6)
    assert parse_padding("2:-1", 1) == ((2, -1),)
    with pytest.raises(ConvSpecError, match="--input: '1e3' is not allowed"):
        parse_dims("--input", "1e3")
    with pytest.raises(ConvSpecError, match=r"--padding: '__import__\(\"os\"\)'"):
        parse_padding('__import__("os")', 2)


def test_write_text_atomic(tmp_path):
    target = tmp_path / "out.tex"
    target.write_text("old")
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tex"]
    with pytest.raises(OutputPathError, match="is a directory"):
        write_text_atomic(tmp_path, "x")
    with pytest.raises(OutputPathError, match="does not exist"):
        write_text_atomic(tmp_path / "missing" / "f.tex", "x")


def test_write_text_atomic_unwritable_leaves_nothing(tmp_path, monkeypatch):
    # chmod does not stop root, so make the write itself fail: the rename
    # raises, and neither a partial file nor the temporary may remain.
    target = tmp_path / "f.tex"
    target.write_text("old")

    def refuse(*_args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputPathError, match="cannot be written: Permission denied"):
        write_text_atomic(target, "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.tex"]


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs Linux sysfs")
def test_write_text_atomic_refuses_read_only_directory():
    # sysfs refuses new files even to root.
    with pytest.raises(OutputPathError, match="cannot be written"):
        write_text_atomic("/sys/transpose_matrix_test.tex", "x")


def test_export_beamer_and_transposed(capsys):
    status, out, _ = call(capsys, "export", "--beamer", "--transposed", "--input", "3x3",
                          "--stride", "2", "--padding", "1", "--output-padding", "1")
    assert status == 0 and out.startswith("\\documentclass{beamer}")
    # The PDF metadata (hyperref) gets the title as plain text.
    assert (
        r"\title{\texorpdfstring{ConvTranspose2d: \mbox{${3 \times 3}$ input} $\to$ "
        r"\mbox{${6 \times 6}$ output}}{ConvTranspose2d: 3 x 3 input -> 6 x 6 output}}"
        in out
    )
    status, out, err = call(capsys, "export", "--beamer", "--derivations")
    assert status == 2 and out == ""
    assert err == ("transpose_matrix: error: --derivations: not available with --beamer "
                   "(derivations are article sections)\n")


def test_figure_standalone_fragment_and_scatter(capsys):
    status, out, _ = call(capsys, "figure", "placement", "--transposed", "--input", "3x3",
                          "--stride", "2", "--index", "1,1")
    assert status == 0 and out.startswith("\\documentclass[border=4pt]{standalone}")
    assert "column 4 of $C^{\\mathsf{T}}$" in out and "input $y_{1,1}$" in out
    status, out, _ = call(capsys, "figure", "sparsity", "--fragment")
    lines = out.splitlines()
    assert lines[0].startswith("% transpose_matrix figure") and lines[3] == "\\noindent"


def test_commands_are_a_registry(capsys, monkeypatch):
    from transpose_matrix import cli

    assert sorted(cli.COMMANDS) == sorted([
        "show", "export", "verify", "figure", "solve", "animate", "html", "translate", "spectrum"
    ])
    assert list(cli.COMMANDS)[:5] == ["show", "export", "verify", "figure", "solve"]

    def arguments(parser):
        parser.add_argument("--word", default="hi")

    def run(args):
        print(args.word)
        return 0

    monkeypatch.setitem(cli.COMMANDS, "echo", cli.Command("echo", "say a word", "echo",
                                                         arguments, run))
    assert call(capsys, "echo", "--word", "yes") == (0, "yes\n", "")
    status, out, _ = call(capsys, "echo", "--help")
    assert status == 0 and "example: python -m transpose_matrix echo" in out
    cli.register(cli.COMMANDS["echo"])  # registering again replaces, never duplicates
    assert list(cli.COMMANDS).count("echo") == 1


def test_seeds_as_long_as_numpy_takes_them(capsys):
    # numpy's default_rng takes any non-negative integer; the command line
    # and random_weight take up to 2**128 - 1 and draw numpy's own weights.
    from transpose_matrix import ConvSpec

    seed = 1234567890123456789012345678901  # 31 digits
    spec = ConvSpec((4, 4), 3)
    expected = np.random.default_rng(seed).standard_normal(spec.weight_shape)
    assert np.array_equal(random_weight(spec, seed), expected)
    assert main(["verify", "--seed", str(seed)]) == 0
    assert main(["show", "--numeric", "--seed", str(2**128 - 1)]) == 0
    capsys.readouterr()
    assert main(["show", "--numeric", "--seed", str(2**128)]) == 2
    assert "--seed: '<a 39-digit integer>' is not allowed; give a single integer <= 2**128 - 1" in (
        capsys.readouterr().err
    )


def test_verify_transposed_names_the_layer_it_checked(capsys, torch):
    args = ["--input", "8x8", "--in-channels", "4", "--out-channels", "6", "--groups", "2",
            "--transposed", "--stride", "2", "--output-padding", "1"]
    status, out, _ = call(capsys, "verify", *args)
    assert status == 0 and out.rstrip().endswith("all checks passed")
    line = next(line for line in out.splitlines() if line.startswith("Transposed convolution: "))
    # Build the layer exactly as printed, in torch, and compare it with Cᵀ.
    layer = eval(line.split(": ", 1)[1], {"torch": torch}).double()  # noqa: S307 - our output
    assert isinstance(layer, torch.nn.ConvTranspose2d)
    from transpose_matrix.cli import build_parser, spec_from_args

    spec = spec_from_args(build_parser().parse_args(["verify", *args]))
    weight = random_weight(spec, 0)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        y = np.random.default_rng(1).standard_normal(spec.matrix_shape[0])
        x = layer(torch.tensor(y.reshape(1, spec.out_channels, *spec.output_shape)))
    C = tm.conv_matrix(spec, weight)
    np.testing.assert_allclose(x.numpy().reshape(-1), C.T @ y, rtol=0, atol=1e-12)
    # What was checked for it: Cᵀ is the layer, and its input gradient is C.
    said = " ".join(out.split())
    assert "its output is Cᵀy (C.T @ y vs conv_transpose)" in said
    assert "its input gradient is Ch (C @ h vs conv_transpose's autograd input gradient)" in said
    assert "C @ h vs conv_transpose's autograd input gradient" in out.split("referee:")[1]
