"""What show and export narrate: every claim checked against torch or the loop reference."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from transpose_matrix.geometry.spec import ConvSpec
from transpose_matrix.geometry.transposed import output_padding_choices, zero_insertion
from transpose_matrix.matrices.conv import conv_matrix, transposed_conv_matrix
from transpose_matrix.matrices.reference import reference_conv
from transpose_matrix.matrices.resampling import pad_matrix, zero_insertion_matrix
from transpose_matrix.render import prose, report

ROOT = Path(__file__).resolve().parent.parent

# ConvTranspose arguments: (input, in_channels, out_channels, kernel, stride, padding,
# output_padding, groups, dilation).
TRANSPOSED = {
    "2d-s2-p1-op1": ((3, 3), 1, 1, 3, 2, 1, 1, 1, 1),
    "1d-s3-op2": ((4,), 2, 3, 4, 3, 0, 2, 1, 1),
    "2d-dilated-op": ((3, 4), 2, 2, 3, (1, 2), (2, 1), (1, 2), 2, (2, 3)),
    "1d-crop-more-than-span": ((5,), 1, 2, 2, 2, 2, 0, 1, 1),
    "3d-groups": ((2, 3, 2), 4, 2, 2, 2, 1, 1, 2, 1),
}


def transposed_spec(name: str) -> ConvSpec:
    shape, cin, cout, k, s, p, op, g, d = TRANSPOSED[name]
    return ConvSpec.from_transposed(shape, cin, cout, k, s, p, op, g, d)


@pytest.mark.slow
@pytest.mark.parametrize("name", TRANSPOSED)
def test_output_padding_choices_are_torchs_sizes(name, torch):
    spec = transposed_spec(name)
    layer = spec.transposed_arguments()
    choices = output_padding_choices(spec)
    assert len(choices) == spec.ndim
    for axis, dim in enumerate(choices):
        n = spec.output_shape[axis]
        k, s, d = spec.kernel_size[axis], spec.stride[axis], spec.dilation[axis]
        p = layer["padding"][axis]
        assert [extra for extra, _ in dim] == list(range(max(s, d)))[-len(dim):]
        assert (layer["output_padding"][axis], spec.input_shape[axis]) in dim
        for extra, size in dim:
            up = torch.nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, output_padding=extra,
                                          dilation=d)
            assert up(torch.zeros(1, 1, n)).shape[-1] == size
            down = torch.nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)
            back = down(torch.zeros(1, 1, size)).shape[-1]
            assert back == n if extra < s else back > n  # what the reports say of them


@pytest.mark.parametrize("name", TRANSPOSED)
def test_zero_insertion_view_computes_c_transpose(name):
    # Insert zeros, pad (or crop), cross-correlate with the flipped kernel whose two
    # channel axes are swapped: the printed recipe, run with the upsample matrices
    # and the loop reference, must give C^T y.
    spec = transposed_spec(name)
    steps = zero_insertion(spec)
    rng = np.random.default_rng(0)
    weight = rng.standard_normal(spec.weight_shape)
    y = rng.standard_normal((spec.out_channels, *spec.output_shape))
    stretch = zero_insertion_matrix(spec.output_shape, spec.stride)
    pad = pad_matrix(tuple(step.stretched for step in steps),
                     [(step.before, step.after) for step in steps])
    padded = np.stack([(pad @ (stretch @ channel.reshape(-1))) for channel in y])
    padded = padded.reshape(spec.out_channels, *(step.padded for step in steps))
    groups = spec.groups
    per_out, per_in = spec.out_channels // groups, spec.in_channels // groups
    flipped = np.flip(weight, axis=tuple(range(2, 2 + spec.ndim)))
    swapped = flipped.reshape(groups, per_out, per_in, *spec.kernel_size).swapaxes(1, 2)
    direct = ConvSpec(
        padded.shape[1:], spec.kernel_size, dilation=spec.dilation,
        in_channels=spec.out_channels, out_channels=spec.in_channels, groups=groups,
    )
    assert direct.output_shape == spec.input_shape == tuple(step.out for step in steps)
    result = reference_conv(direct, swapped.reshape(direct.weight_shape), padded)
    expected = transposed_conv_matrix(spec, weight) @ y.reshape(-1)
    np.testing.assert_allclose(result.reshape(-1), expected, atol=1e-12)


def test_output_padding_choices_of_a_huge_dilation_are_elided():
    spec = ConvSpec.from_transposed((4, 4), 1, 1, 3, dilation=10**9, output_padding=5)
    (first, *_), _ = output_padding_choices(spec)
    dim = output_padding_choices(spec)[0]
    assert dim[:4] == [(0, 2 * 10**9 + 4), (1, 2 * 10**9 + 5), (2, 2 * 10**9 + 6),
                       (3, 2 * 10**9 + 7)]
    assert dim[4] is None and dim[5:] == [(10**9 - 2, 3 * 10**9 + 2), (10**9 - 1, 3 * 10**9 + 3)]
    assert first == dim[0]
    text = report.show_text(spec, transposed=True)
    assert "a = 0 → 2000000004, a = 1 → 2000000005, a = 2 → 2000000006, a = 3 → 2000000007, …" in text


def test_no_transposed_layer_no_views():
    spec = ConvSpec((6,), 3, padding=[(0, 2)])
    assert zero_insertion(spec) is None and output_padding_choices(spec) == []
    # One sentence, printed as text and as LaTeX.
    assert "Cᵀ y is no single ConvTransposeNd layer" in report.show_text(spec)
    body = report.export_body(spec, figures=False)
    assert r"$C^{\mathsf{T}}\,y$ is no single \texttt{ConvTransposeNd} layer" in body


def test_show_transposed_leads_with_the_transposed_layer():
    spec = transposed_spec("2d-s2-p1-op1")
    text = report.show_text(spec, transposed=True)
    lines = text.splitlines()
    assert lines[0].startswith("Transposed convolution: torch.nn.ConvTranspose2d(1, 1,")
    assert lines[1].startswith("  input  y: 1 × 3 × 3") and "1 × 6 × 6" in lines[3]
    assert "  dim 0: a = 0 → 5, a = 1 → 6 (this layer)" in lines
    assert text.index("Cᵀ: 36 × 9") < text.index("C: 9 × 36")
    latex = report.show_latex(spec, transposed=True)
    assert latex.index("C^{\\mathsf{T}} =") < latex.index("\nC =")


def test_export_narrates_the_transposed_layer():
    spec = transposed_spec("2d-s2-p1-op1")
    tex = report.export(spec, transposed=True)
    # Every number of the title in maths (not "3 $\times$ 3" in text).
    assert (
        r"\title{ConvTranspose2d: \mbox{${3 \times 3}$ input} $\to$ \mbox{${6 \times 6}$ output}}"
        in tex
    )
    assert r"a = 0 \mapsto 5,\ a = 1 \mapsto 6\ (\text{this layer})" in tex
    assert r"\section*{The scatter view}" in tex and r"\section*{The zero-insertion view}" in tex
    assert tex.index(r"C^{\mathsf{T}} = ") < tex.index("\\[\nC = ")
    assert "column 4 of $C^{\\mathsf{T}}$" in tex  # the scatter figure, centre pixel (1, 1)
    beamer = report.export(spec, transposed=True, beamer=True, fragment_only=True)
    assert beamer.startswith("% transpose_matrix beamer frames")
    assert beamer.index(r"\begin{frame}{$C^{\mathsf{T}}$") < beamer.index(r"\begin{frame}{$C$")


def test_headings_read_as_prose():
    spec = ConvSpec((5, 5), 3, stride=2, padding=((1, 0), (1, 0)), dilation=(1, 2),
                    in_channels=2, out_channels=4, groups=2)
    assert prose.heading(spec) == (
        "5 × 5 input, 3 × 3 kernel, stride 2, padding 1 before and 0 after, dilation 1 × 2, "
        "2 to 4 channels in 2 groups"
    )
    # Per-dim values are maths, code is typewriter, nothing is a Python tuple.
    transposed = transposed_spec("2d-dilated-op")
    assert prose.heading(transposed, transposed=True, latex=True) == (
        r"${3 \times 4}$ input, ${3 \times 3}$ kernel, stride ${1 \times 2}$, "
        r"padding ${2 \times 1}$, dilation ${2 \times 3}$, \texttt{output\_padding} "
        r"${1 \times 2}$, 2 channels in 2 groups"
    )
    # One sentence, two printers: the derivation's step title is the same words.
    from transpose_matrix.narrative.markup import describe_spec
    from transpose_matrix.render.prose import prose_latex

    assert prose.heading(spec, latex=True) == prose_latex(describe_spec(spec))


def test_titles_set_numbers_in_maths():
    spec = ConvSpec((5, 6), 3, stride=(1, 2))
    # Numbers in maths; a long title breaks between phrases only.
    title = (
        r"Conv2d: \mbox{${5 \times 6}$ input}, \mbox{${3 \times 3}$ kernel}, "
        r"\mbox{stride ${1 \times 2}$}"
    )
    assert prose.title(spec, latex=True) == title
    assert f"\\title{{{title}}}" in report.export(spec, figures=False)
    frames = report.export(spec, beamer=True, figures=False, fragment_only=True)
    assert f"\\begin{{frame}}{{{title}}}" in frames


def _forbid_building(monkeypatch):
    """Make every builder of the whole C fail, so only per-entry lookups can work."""
    import transpose_matrix.matrices.conv as matrix
    import transpose_matrix.matrices.symbolic as symbolic

    def refuse(*_args, **_kwargs):
        raise AssertionError("the view built the whole matrix")

    for module, name in ((matrix, "conv_matrix"), (matrix, "weight_label_matrix"),
                         (matrix, "transposed_conv_matrix"), (symbolic, "symbolic_conv_matrix")):
        monkeypatch.setattr(module, name, refuse)


def test_views_of_a_huge_layer_compute_only_what_they_print(monkeypatch):
    _forbid_building(monkeypatch)
    spec = ConvSpec((224, 224), 3, padding=1, in_channels=64, out_channels=64)
    text = report.show_text(spec)
    # Per dim the taps land inside 223 + 224 + 223 = 670 times; 670² per channel pair.
    assert f"C: 3211264 × 3211264, {670**2 * 64 * 64} stored entries" in text
    # The last row of C is output channel 63 at (223, 223): its last column holds w[63, 63, 1, 1].
    last = next(line for line in reversed(text.split("Cᵀ:")[0].splitlines()) if "y₆₃" in line)
    assert last.startswith("y₆₃.₂₂₃.₂₂₃") and last.rstrip().endswith("w₆₃.₆₃.₁.₁")
    latex = report.show_latex(spec, seed=1)
    assert latex.count(r"\cdots") >= 2
    body = report.export_body(spec, figures=True)
    assert "C = " in body and r"\begin{tikzpicture}" in body


@pytest.mark.slow
def test_show_stays_small_in_memory():
    # The same show in a fresh interpreter limited to 1.5 GiB of address space
    # (C itself would need about 0.4 GB, its symbolic form far more).
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({3 << 29}, {3 << 29}))\n"
        "from transpose_matrix.cli import main\n"
        "sys.exit(main(['show', '--input', '224x224', '--in-channels', '64', "
        "'--out-channels', '64', '--padding', '1']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "COLUMNS": "100"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "y₆₃.₂₂₃.₂₂₃" in result.stdout
    assert resource.RLIMIT_AS  # the limit this test relies on exists here


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _named(letter, index):
    return letter + "".join(str(int(i)) for i in index).translate(_SUB)


@pytest.mark.parametrize("name", TRANSPOSED)
def test_show_says_what_the_centre_pixel_scatters_where(name):
    spec = transposed_spec(name)
    # Weights 1, 2, 3, …: C's value names the weight, read from the matrix alone.
    weight = np.arange(1.0, 1 + np.prod(spec.weight_shape)).reshape(spec.weight_shape)
    C = conv_matrix(spec, weight).tocsr()
    centre = tuple(n // 2 for n in spec.output_shape)
    j = int(np.ravel_multi_index((0, *centre), (spec.out_channels, *spec.output_shape)))
    single = spec.in_channels == spec.out_channels == 1

    def x_index(i):
        return np.unravel_index(i, (spec.in_channels, *spec.input_shape))[
            1 if spec.in_channels == 1 else 0:]

    def w_index(f):
        return np.unravel_index(f, spec.weight_shape)[2 if single else 0:]

    y = _named("y", np.unravel_index(j, (spec.out_channels, *spec.output_shape))[
        1 if spec.out_channels == 1 else 0:])
    row = C[[j], :].tocoo()
    terms = [f"{y} · {_named('w', w_index(int(v) - 1))} to {_named('x', x_index(i))}"
             for i, v in sorted(zip(row.col.tolist(), row.data.tolist()))]
    more = f", … ({len(terms) - 6} more)" if len(terms) > 6 else ""
    said = " ".join(report.show_text(spec, transposed=True).split())
    assert f"Column {j}: {y} adds " + ", ".join(terms[:6]) + more + "." in said
