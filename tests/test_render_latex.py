"""LaTeX: golden strings for the textbook C, one entry point for every type, pdflatex."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
import scipy.sparse
import sympy
from conftest import require

from transpose_matrix.errors import ConvSpecError, ConvSpecTypeError
from transpose_matrix.geometry.spec import ConvSpec
from transpose_matrix.matrices.conv import conv_matrix
from transpose_matrix.matrices.symbolic import symbolic_conv_matrix
from transpose_matrix.render.documents import compile_pdf, document, fragment
from transpose_matrix.render.latex import (
    LatexError,
    code_latex,
    escape_text,
    format_number,
    math_block,
    repr_latex,
    to_latex,
)
from transpose_matrix.render.measure import math_width

# C of the 4x4 input, 3x3 kernel: row (i, j) holds w_{a,b} at column
# 4*(i+a) + (j+b). 16 columns exceed amsmath's limit of 10, so it is an array.
TEXTBOOK_C = r"""\left[\begin{array}{@{}*{16}{c}@{}}
w_{0,0} & w_{0,1} & w_{0,2} & 0 & w_{1,0} & w_{1,1} & w_{1,2} & 0 & w_{2,0} & w_{2,1} & w_{2,2} & 0 & 0 & 0 & 0 & 0 \\
0 & w_{0,0} & w_{0,1} & w_{0,2} & 0 & w_{1,0} & w_{1,1} & w_{1,2} & 0 & w_{2,0} & w_{2,1} & w_{2,2} & 0 & 0 & 0 & 0 \\
0 & 0 & 0 & 0 & w_{0,0} & w_{0,1} & w_{0,2} & 0 & w_{1,0} & w_{1,1} & w_{1,2} & 0 & w_{2,0} & w_{2,1} & w_{2,2} & 0 \\
0 & 0 & 0 & 0 & 0 & w_{0,0} & w_{0,1} & w_{0,2} & 0 & w_{1,0} & w_{1,1} & w_{1,2} & 0 & w_{2,0} & w_{2,1} & w_{2,2}
\end{array}\right]"""  # noqa: E501

# Column (i, j) of C^T, i.e. input position x_{r,c} per row: w_{r-i, c-j}.
TEXTBOOK_CT = r"""\begin{bmatrix}
w_{0,0} & 0 & 0 & 0 \\
w_{0,1} & w_{0,0} & 0 & 0 \\
w_{0,2} & w_{0,1} & 0 & 0 \\
0 & w_{0,2} & 0 & 0 \\
w_{1,0} & 0 & w_{0,0} & 0 \\
w_{1,1} & w_{1,0} & w_{0,1} & w_{0,0} \\
w_{1,2} & w_{1,1} & w_{0,2} & w_{0,1} \\
0 & w_{1,2} & 0 & w_{0,2} \\
w_{2,0} & 0 & w_{1,0} & 0 \\
w_{2,1} & w_{2,0} & w_{1,1} & w_{1,0} \\
w_{2,2} & w_{2,1} & w_{1,2} & w_{1,1} \\
0 & w_{2,2} & 0 & w_{1,2} \\
0 & 0 & w_{2,0} & 0 \\
0 & 0 & w_{2,1} & w_{2,0} \\
0 & 0 & w_{2,2} & w_{2,1} \\
0 & 0 & 0 & w_{2,2}
\end{bmatrix}"""


def rows_of(tex: str) -> list[list[str]]:
    body = tex.split("\n", 1)[1].rsplit("\n", 1)[0]
    return [[cell.strip() for cell in row.split("&")] for row in body.split("\\\\")]


def test_textbook_golden():
    C = symbolic_conv_matrix(ConvSpec((4, 4), 3))
    assert to_latex(C) == TEXTBOOK_C
    assert to_latex(C.T) == TEXTBOOK_CT


def test_golden_agrees_with_definition():
    cells = rows_of(TEXTBOOK_C)
    for i, j, r, c in np.ndindex(2, 2, 4, 4):
        a, b = r - i, c - j
        expected = f"w_{{{a},{b}}}" if 0 <= a < 3 and 0 <= b < 3 else "0"
        assert cells[2 * i + j][4 * r + c] == expected
        assert rows_of(TEXTBOOK_CT)[4 * r + c][2 * i + j] == expected


def test_numpy_scipy_sympy_print_alike():
    dense = np.array([[1.0, 0.0, -2.5], [0.0, 3.0, 1e-7]])
    expected = "\\begin{bmatrix}\n1 & 0 & -2.5 \\\\\n0 & 3 & 1 \\times 10^{-7}\n\\end{bmatrix}"
    assert to_latex(dense) == expected
    assert to_latex(scipy.sparse.csr_array(dense)) == expected
    assert to_latex(scipy.sparse.coo_matrix(dense)) == expected
    symbolic = sympy.Matrix([[1, 0, sympy.Rational(-5, 2)], [0, 3, 0]])
    assert to_latex(symbolic, zero=r"\cdot") == (
        "\\begin{bmatrix}\n1 & \\cdot & - \\frac{5}{2} \\\\\n\\cdot & 3 & \\cdot\n\\end{bmatrix}"
    )


def test_elision_keeps_the_corners():
    spec = ConvSpec((8, 8), 3)
    weight = np.arange(1, 10, dtype=np.int64).reshape(1, 1, 3, 3)
    C = conv_matrix(spec, weight)
    dense = C.toarray()
    cells = rows_of(to_latex(C, max_rows=4, max_cols=6))
    assert len(cells) == 5 and all(len(row) == 7 for row in cells)
    assert cells[2] == [r"\vdots"] * 3 + [r"\ddots"] + [r"\vdots"] * 3
    assert [row[3] for row in cells if row[3] != r"\ddots"] == [r"\cdots"] * 4
    kept_rows, kept_cols = [0, 1, 34, 35], [0, 1, 2, 61, 62, 63]
    shown = [row[:3] + row[4:] for k, row in enumerate(cells) if k != 2]
    assert shown == [[str(dense[r, c]) for c in kept_cols] for r in kept_rows]


def test_wide_elided_matrix_uses_array():
    tex = to_latex(np.ones((3, 30)), max_cols=12)
    assert tex.startswith(r"\left[\begin{array}{@{}*{13}{c}@{}}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "0"), (7, "7"), (np.int64(-3), "-3"), (2.0, "2"), (0.123456, "0.123"),
     (-1234567.0, "-1234567"), (2.5e-12, r"2.5 \times 10^{-12}"), (complex(0, 1), "i"),
     (complex(1.5, -2), "1.5 - 2i"), (float("inf"), r"\infty")],
)
def test_format_number(value, expected):
    assert format_number(value) == expected


def test_spec_and_vector():
    spec = ConvSpec((5,), 3, stride=2, padding=((1, 0),), groups=2, in_channels=2,
                    out_channels=4)
    assert to_latex(spec) == (
        r"\mathrm{Conv1d}\colon 2 \times 5 \to 4 \times 2,\quad k = 3,\ s = 2,\ "
        r"p = (1, 0),\ d = 1,\ g = 2"
    )
    assert to_latex(np.array([1, 2])) == "\\begin{bmatrix}\n1 \\\\\n2\n\\end{bmatrix}"


def test_objects_with_latex_method_are_passed_through():
    class Note:
        def latex(self):
            return r"\begin{align*} a &= b \end{align*}"

    assert to_latex(Note()) == r"\begin{align*} a &= b \end{align*}"
    assert math_block(Note()) == r"\begin{align*} a &= b \end{align*}"
    assert math_block(np.eye(1)).startswith("\\[\n\\begin{bmatrix}")
    assert repr_latex(np.eye(1)).startswith(r"$\displaystyle \begin{bmatrix}")


def test_errors():
    with pytest.raises(ConvSpecTypeError, match="to_latex cannot print str"):
        to_latex("x")
    with pytest.raises(ConvSpecError, match=r"shape \(2, 2, 2\) must be 1-D or 2-D"):
        to_latex(np.zeros((2, 2, 2)))
    with pytest.raises(ConvSpecError, match="max_rows=1 must be >= 2"):
        to_latex(np.eye(3), max_rows=1)
    with pytest.raises(ConvSpecError, match="package='bad name'"):
        document("x", packages=["bad name"])


def test_escape_text():
    assert escape_text(r"a_b & 50% {x} \ ~") == (
        r"a\_b \& 50\% \{x\} \textbackslash{} \textasciitilde{}"
    )


def test_documents_compile(pdflatex, tmp_path):
    spec = ConvSpec((4, 4), 3)
    C = symbolic_conv_matrix(spec)
    big = conv_matrix(ConvSpec((12, 12), 3, stride=2), np.ones((1, 1, 3, 3)))
    # A raw sympy printout with 16 columns needs the raised MaxMatrixCols.
    body = "\n".join(
        [math_block(spec), math_block(C), math_block(C.T, zero=r"\cdot"),
         math_block(big), math_block(sympy.latex(sympy.Matrix(C)))]
    )
    pdf = compile_pdf(document(body, title="C & its transpose_matrix"), tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_fragment_compiles_without_maxmatrixcols(pdflatex, tmp_path):
    # Fragments are \input into notes that only load amsmath: the >10-column
    # matrix must not rely on the preamble.
    (tmp_path / "fragment.tex").write_text(
        math_block(symbolic_conv_matrix(ConvSpec((4, 4), 3)))
    )
    notes = "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n" \
        "\\input{fragment}\n\\end{document}\n"
    assert compile_pdf(notes, tmp_path, name="notes").exists()


def test_compile_failure_reports_the_log(pdflatex, tmp_path):
    with pytest.raises(LatexError, match=r"(?s)pdflatex failed.*Undefined control sequence"):
        compile_pdf(document(r"\[ \nosuchmacro \]"), tmp_path)


def test_derivation_renders_through_to_latex(pdflatex, tmp_path):
    from transpose_matrix.narrative.derivation import output_size_derivation

    derivation = output_size_derivation(ConvSpec((5,), 3, stride=2))
    tex = to_latex(derivation)
    assert tex == derivation.latex()
    assert compile_pdf(document(math_block(derivation)), tmp_path).exists()


# --------------------------------------------------------------------------- layout by width


def _parse_layout(tex: str) -> list[list[list[str]]]:
    """Blocks of rows of cells from to_latex output (one block unless split)."""
    blocks, rows = [], None
    for line in tex.splitlines():
        if "\\begin{bmatrix}" in line or "\\begin{array}" in line:
            rows = []
        elif "\\end{bmatrix}" in line or "\\end{array}" in line:
            blocks.append(rows)
            rows = None
        elif rows is not None:
            rows.append([cell.strip() for cell in line.removesuffix("\\\\").split("&")])
    return blocks


_ROW_LABELS = re.compile(r"\\begin\{array\}\{@\{\}r@\{\\;\}\}\n(.*?)\n\\end\{array\}\n", re.S)
_HEAD = re.compile(r"\\smash\[t\]\{\\overset\{([^{}]*(?:\{[^{}]*\})?)\}"
                   r"\{\\smash\[b\]\{\\vphantom\{\\Big\|\}\}([^&\n]*?)\}\}(?= &| \\\\|$)", re.M)


def unlabelled(tex: str) -> tuple[str, list[list[str]], list[list[str]]]:
    """``tex`` without its labels, the row labels and the column labels of each block."""
    rows = [[label.replace(r"\scriptstyle", "").strip() for label in block.split("\\\\")]
            for block in _ROW_LABELS.findall(tex)]
    heads = [[head for head, _ in _HEAD.findall(line)] for line in tex.splitlines()]
    return _HEAD.sub(r"\2", _ROW_LABELS.sub("", tex)), rows, [h for h in heads if h]


def test_split_blocks_are_all_columns_in_order_and_end_on_input_rows():
    from transpose_matrix.render.views import ConvMatrixView

    spec = ConvSpec((4, 4), 3)
    labelled = to_latex(ConvMatrixView(spec), width=305.0)  # 280 pt and the row labels
    tex, row_labels, col_labels = unlabelled(labelled)
    assert tex.startswith("\\begin{aligned}[t]") and tex.count("\\left[") == 1
    # Every block names its rows and the columns it holds.
    assert row_labels == [["y_{0,0}", "y_{0,1}", "y_{1,0}", "y_{1,1}"]] * 2
    assert col_labels == [[f"x_{{{i},{j}}}" for i in rows for j in range(4)]
                          for rows in ((0, 1), (2, 3))]
    blocks = _parse_layout(tex)
    assert [len(block[0]) for block in blocks] == [8, 8]  # two input rows of 4 per block
    joined = [sum((block[r] for block in blocks), []) for r in range(4)]
    assert joined == rows_of(TEXTBOOK_C)
    for block in blocks:  # each line fits the width by the estimate
        widths = [max(math_width(row[j]) for row in block) for j in range(len(block[0]))]
        assert sum(widths) + 10 * (len(widths) - 1) + 12 <= 280.0


def test_split_blocks_are_balanced_without_structure():
    # The sympy textbook C names no column blocks: 16 equal columns on two
    # lines are 8 + 8 (packing greedily gave 14 + 2).
    C = symbolic_conv_matrix(ConvSpec((4, 4), 3))
    full = sum(max(math_width(row[j]) for row in rows_of(TEXTBOOK_C)) for j in range(16))
    width = full / 16 * 14 + 10 * 13 + 12 + 1  # room for 14 columns, not 16
    blocks = _parse_layout(to_latex(C, width=width))
    assert [len(block[0]) for block in blocks] == [8, 8]
    joined = [sum((block[r] for block in blocks), []) for r in range(4)]
    assert joined == rows_of(TEXTBOOK_C)


def test_split_keeps_input_rows_unless_cutting_saves_lines():
    from transpose_matrix.render.latex import _pack

    equal = [20.0] * 12
    # Rows of 3 columns: 6 + 6 ends on a row where 7 + 5 would not.
    assert _pack(equal, 300.0, 280.0, [3, 6, 9], 3) == [(0, 6), (6, 12)]
    # No structure: the widest line as narrow as it can be, a continued line
    # counted with its 20 pt indent: 3 + 5 columns (122 pt each way), where
    # filling the first line would give 6 + 2.
    widths = [40.0, 40.0] + [10.0] * 6
    assert _pack(widths, 200.0, 180.0, [], 3) == [(0, 3), (3, 8)]
    # Rows of 5 columns and 9 fit a line: one input row per line takes five
    # lines, cutting inside rows three with two cuts: no gain, rows stay whole.
    # With rows of 8 and 12 fitting, 3 rows take 3 lines, 2 lines need 1 cut.
    assert _pack([28.0] * 25, 345.0, 325.0, [5, 10, 15, 20], 7) == [
        (0, 5), (5, 10), (10, 15), (15, 20), (20, 25)
    ]
    assert _pack([20.0] * 24, 365.0, 345.0, [8, 16], 3) == [(0, 8), (8, 16), (16, 24)]
    # Rows of 6 columns, 11 fit: 4 whole rows take 4 lines, 3 lines of 8 cut
    # inside rows twice (5 > 4); 2 lines are impossible.
    assert _pack([20.0] * 24, 345.0, 325.0, [6, 12, 18], 4) == [(0, 6), (6, 12), (12, 18), (18, 24)]
    # Rows of 5 columns but only 4 fit a line: cutting inside rows is the
    # only way, with as few lines as the limit allows.
    assert _pack(equal, 130.0, 125.0, [5, 10], 3) == [(0, 4), (4, 8), (8, 12)]
    assert _pack(equal, 130.0, 125.0, [5, 10], 2) is None


def test_elided_by_width_keeps_first_and_last_columns():
    spec = ConvSpec((12, 12), 3)
    weight = np.arange(1, 10, dtype=np.int64).reshape(1, 1, 3, 3)
    dense = conv_matrix(spec, weight).toarray()
    tex = to_latex(conv_matrix(spec, weight), width=200.0, max_rows=4)
    (block,) = _parse_layout(tex)
    gap = block[0].index(r"\cdots")
    head, tail = gap, len(block[0]) - gap - 1
    assert head >= 2 and tail >= 2 and head - tail in (0, 1)
    for cells, r in zip([block[0], block[1], block[3], block[4]], [0, 1, 98, 99], strict=True):
        expected = [str(v) for v in dense[r, :head]] + [str(v) for v in dense[r, 144 - tail:]]
        assert cells[:gap] + cells[gap + 1:] == expected
    widths = [max(math_width(row[j]) for row in block) for j in range(len(block[0]))]
    assert sum(widths) + 10 * (len(widths) - 1) + 12 <= 200.0


def test_width_estimates_are_never_narrow(pdflatex, tmp_path):
    # pdflatex measures what the printers emit; the estimate must not be below it
    # (layouts would overflow) nor far above it (they would waste the line).
    samples = [
        "w_{0,0}", "w_{1,0,2,2}", "w_{12,3,2,1}", "0", r"\cdot", "-0.123", r"1.5 \times 10^{-7}",
        r"\cdots", r"\vdots", r"\ddots", r"- \frac{5}{2}", "x_{0}", r"C^{\mathsf{T}} = ",
        r"\mathrm{Conv2d}\colon 1 \times 4 \times 4 \to 1 \times 2 \times 2",
        r"o_{0} = \left\lfloor \frac{5 + 1 + 1 - 1 \cdot (3 - 1) - 1}{2} \right\rfloor + 1 = 3",
        "2.35", "-12.3", "w_{0,0} + w_{1,1}", r"\frac{\partial L}{\partial x}", "1 - 2i",
        r"\mathrm{NaN}", r"-\infty",
    ]
    probes = "\n".join(
        f"\\setbox0\\hbox{{${text}$}}\\typeout{{W{i}=\\the\\wd0}}" for i, text in enumerate(samples)
    )
    compile_pdf(document(probes + "\n\\mbox{}"), tmp_path)
    log = (tmp_path / "document.log").read_text()
    real = {int(i): float(w) for i, w in re.findall(r"W(\d+)=([\d.]+)pt", log)}
    for i, text in enumerate(samples):
        assert real[i] <= math_width(text) <= 1.3 * real[i] + 2, (text, real[i], math_width(text))


# --------------------------------------------------------------------------- protocol


def test_objects_print_through_latex_with_the_printer():
    seen = []

    class Part:
        def _latex(self, printer):
            seen.append((printer.max_rows, printer.width))
            return printer.doprint(np.eye(2))

    assert to_latex(Part(), max_rows=5, width=200.0).startswith("\\begin{bmatrix}")
    assert seen == [(5, 200.0)]


def test_latex_of_takes_registrations():
    from transpose_matrix.render.latex import latex_of

    class Celsius(float):
        pass

    @latex_of.register(Celsius)
    def _(obj, printer):
        return f"{float(obj):g}^{{\\circ}}\\mathrm{{C}}"

    assert to_latex(Celsius(21.5)) == r"21.5^{\circ}\mathrm{C}"
    assert to_latex(sympy.Symbol("alpha") ** 2) == r"\alpha^{2}"


def test_non_numeric_arrays_and_limits_are_refused():
    with pytest.raises(ConvSpecTypeError, match="numeric arrays; this one has dtype <U1"):
        to_latex(np.array(["a"]))
    with pytest.raises(ConvSpecTypeError, match="numpy <U1 scalar"):
        to_latex(np.array(["a"])[0])
    with pytest.raises(ConvSpecError, match="width=10 must be between 40"):
        to_latex(np.eye(2), width=10)
    with pytest.raises(ConvSpecTypeError, match="height='x' must be a number"):
        to_latex(np.eye(2), height="x")
    with pytest.raises(ConvSpecTypeError, match="max_cols=2.5 must be an integer"):
        to_latex(np.eye(2), max_cols=2.5)
    with pytest.raises(ConvSpecError, match=r"sparse array of shape \(2, 2, 2\)"):
        to_latex(type("Fake", (scipy.sparse.coo_array,), {"shape": (2, 2, 2)}).__new__(
            type("Fake", (scipy.sparse.coo_array,), {"shape": (2, 2, 2)})))


def test_escape_and_code():
    assert escape_text("Cᵀ = D·P·Z, a ≤ b — ok") == (
        r"C$^{\mathsf{T}}$ = D$\cdot$P$\cdot$Z, a $\le$ b --- ok"
    )
    assert escape_text("café") == "café"
    with pytest.raises(ConvSpecError, match=r"'☃' \(SNOWMAN\) has no LaTeX form"):
        escape_text("☃")
    assert escape_text("☃", strict=False) == "☃"
    # A line may end (ragged) between the call's arguments; spaces inside
    # brackets are tied.
    ragged = r"\argbreak"  # defined once per document (documents.ARGBREAK)
    assert code_latex("F.pad(x, (1, 0), mode='constant')") == (
        rf"\texttt{{F.pad(x,{ragged}\ (1,~0),{ragged}\ "
        r"mode=\textquotesingle{}constant\textquotesingle{})}"
    )
    assert code_latex("x[0]") == r"\texttt{x[0]}"
    assert code_latex("--input") == r"\texttt{-{}-{}input}"


def test_code_prints_double_hyphens_as_typed(pdflatex, tmp_path):
    # T1 typewriter fonts have the -- ligature: a command line copied out of
    # the PDF must still read --input, not an en dash.
    compile_pdf(document(code_latex("python -m transpose_matrix show --input 4x4 --padding-mode circular")),
                tmp_path)
    pdftotext = shutil.which("pdftotext")
    require("pdftotext (poppler-utils)", pdftotext is not None)
    text = subprocess.run([pdftotext, str(tmp_path / "document.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "show --input 4x4 --padding-mode circular" in " ".join(text.split())
    assert "\u2013" not in text


def test_long_torch_calls_in_a_paragraph_never_overflow(pdflatex, tmp_path):
    # Typewriter spaces alone do not stretch: a justified paragraph holding a
    # long call had nowhere to put the slack and overran its line.
    from transpose_matrix.render.report import conv_call, transposed_call

    specs = [
        ConvSpec((64, 64), (3, 5), stride=(2, 1), padding=((1, 1), (2, 2)), in_channels=16,
                 out_channels=32, groups=4, dilation=(1, 2)),
        ConvSpec.from_transposed((7, 9, 5), 8, 4, 3, stride=2, padding=1, output_padding=1),
        ConvSpec((100,), 7, padding=[(3, 2)], in_channels=3, out_channels=6, groups=3),
    ]
    calls = [conv_call(spec) for spec in specs] + [transposed_call(specs[1])]
    paragraphs = [
        f"Word {i} leads into the layer {code_latex(call)} and then the sentence goes on "
        "for a while so that the call lands somewhere in the middle of a line."
        for i, call in enumerate(calls)
    ]
    compile_pdf(document("\n\n".join(paragraphs)), tmp_path)
    log = (tmp_path / "document.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log


def test_document_kinds_and_fragments():
    beamer = document(r"\begin{frame}x\end{frame}", title="T", kind="beamer")
    assert beamer.startswith(r"\documentclass{beamer}") and r"\titlepage" in beamer
    standalone = document(r"\begin{tikzpicture}\end{tikzpicture}", kind="standalone")
    assert standalone.startswith(r"\documentclass[border=4pt]{standalone}")
    assert r"\usepackage{tikz}" in standalone and r"\usepackage{lmodern}" in standalone
    with pytest.raises(ConvSpecError, match="kind='letter' must be one of"):
        document("x", kind="letter")
    head = fragment("body").splitlines()
    assert head[0].startswith("% transpose_matrix body") and head[-1] == "body"
    assert head[1] == r"%   \usepackage{amsmath,amssymb,tikz}"
