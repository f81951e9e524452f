"""LaTeX: golden strings for the textbook C, one entry point for every type, pdflatex."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import sympy

from transpose_matrix.errors import ConvSpecError, ConvSpecTypeError
from transpose_matrix.matrix import conv_matrix
from transpose_matrix.render.latex import (
    LatexError,
    compile_pdf,
    document,
    escape_text,
    format_number,
    math_block,
    repr_latex,
    to_latex,
)
from transpose_matrix.spec import ConvSpec
from transpose_matrix.symbolic import symbolic_conv_matrix

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
    from transpose_matrix.derivation import output_size_derivation

    derivation = output_size_derivation(ConvSpec((5,), 3, stride=2))
    tex = to_latex(derivation)
    assert tex == derivation.latex()
    assert compile_pdf(document(math_block(derivation)), tmp_path).exists()
