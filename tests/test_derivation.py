"""The output-size derivation: its checks run and pass, it prints, and its LaTeX compiles."""

from __future__ import annotations

import pytest
import sympy

from transpose_matrix import ConvSpec, ConvSpecError, ConvSpecTypeError
from transpose_matrix.derivation import (
    Check,
    Derivation,
    Equation,
    Grid,
    exhaustive_check,
    latex_text,
    output_size_derivation,
    sympy_check,
)
from transpose_matrix.latex import compile_pdf


def _failures(derivation: Derivation) -> str:
    return "\n".join(f"{title}: {check.text()}" for title, check in derivation.failures())


@pytest.fixture(scope="module")
def general() -> Derivation:
    return output_size_derivation()


def test_every_check_of_the_general_derivation_passes(general):
    assert general.checks, "the derivation must check something"
    assert general.all_checks_passed, _failures(general)
    # Every step carries at least one check: nothing is only printed.
    assert all(step.checks for step in general.steps)


def test_checks_say_how_they_were_verified(general):
    methods = [check.method for check in general.checks]
    assert any(m.startswith("sympy: ") for m in methods)
    exhaustive = [m for m in methods if m.startswith("exhaustive over ")]
    assert any("n<=12, k<=5, s<=4, p<=3, d<=3" in m for m in exhaustive)
    for check in general.checks:
        if check.method.startswith("exhaustive over "):
            assert check.detail.endswith("cases, all hold")


def test_the_derivation_covers_the_asked_for_steps(general):
    titles = [step.title for step in general.steps]
    assert titles[:6] == [
        "Span of a dilated kernel",
        "Output size of a convolution: count the kernel placements",
        "Output size of a transposed convolution",
        "The inverse problem: every input size with the same output size",
        "output_padding selects one size of the interval",
        "Why output_padding lies in [0, max(stride, dilation))",
    ]
    cases = [
        "no zero padding, unit stride",
        "zero padding, unit stride",
        "half ('same') padding",
        "full padding",
        "no zero padding, strided",
        "zero padding, strided",
        "dilated",
    ]
    for case in cases:
        forward = [s for s in general.steps if s.title.startswith(f"Special case: {case}")]
        backward = [
            s for s in general.steps if s.title.startswith(f"Special case, transposed: {case}")
        ]
        assert len(forward) == 1 and len(backward) == 1, case
        for step in forward + backward:
            assert len(step.equations) == 1 and step.checks


def test_special_case_equations_are_the_literature_formulas(general):
    texts = {step.title: step.equations[0].text for step in general.steps if step.equations}
    assert texts["Special case: full padding (s = 1, p = k − 1)"] == "o = n + k − 1"
    assert texts["Special case, transposed: full padding (s = 1, p = k − 1)"] == "m = o − k + 1"
    assert (
        texts["Special case: half ('same') padding (s = 1, k = 2r + 1, p = r)"] == "o = n"
    )


@pytest.mark.parametrize(
    "spec",
    [
        ConvSpec((7, 5), 3, stride=2, padding=1),
        ConvSpec(9, 3, stride=2, padding=[(1, 0)], dilation=2),
        ConvSpec.from_transposed((3,), 1, 1, 3, stride=2, output_padding=2, dilation=3),
        ConvSpec((4, 4, 6), (2, 1, 3), stride=(1, 3, 2)),
    ],
    ids=["2d-strided", "asymmetric", "op>=stride", "3d"],
)
def test_spec_numbers_are_filled_in_and_checked(spec):
    derivation = output_size_derivation(spec, grid=Grid(n=6, k=3, s=2, p=1, d=2))
    assert derivation.all_checks_passed, _failures(derivation)
    last = derivation.steps[-1]
    assert last.title == "The numbers of this spec"
    sizes = [e.text for e in last.equations if e.text.startswith("o_")]
    assert [int(text.rsplit("= ", 1)[1]) for text in sizes] == list(spec.output_shape)
    if spec.transposed_arguments() is not None:
        backs = [e.text for e in last.equations if e.text.startswith("m_")]
        assert [int(text.rsplit("= ", 1)[1]) for text in backs] == list(spec.input_shape)


def test_spec_equation_text_for_a_strided_layer():
    derivation = output_size_derivation(
        ConvSpec(5, 3, stride=2, padding=1), grid=Grid(n=3, k=2, s=2, p=1, d=1)
    )
    texts = [e.text for e in derivation.steps[-1].equations]
    assert texts == [
        "o_0 = ⌊(5 + 1 + 1 − 1·(3 − 1) − 1)/2⌋ + 1 = ⌊4/2⌋ + 1 = 3",
        "dim 0: input sizes with o_0 = 3: 5 ≤ m ≤ 6",
        "m_0 = (3 − 1)·2 − 2·1 + 1·(3 − 1) + 0 + 1 = 5",
    ]


def test_text_rendering_shows_formulas_and_verdicts(general):
    text = general.text()
    assert text.startswith("Output sizes of convolution and transposed convolution\n=====")
    assert "o = ⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1" in text
    assert "m = (o − 1)·s − 2p + d·(k − 1) + a + 1" in text
    assert "0 ≤ a < max(s, d)" in text
    assert "[FAILED]" not in text and "check [ok] exhaustive over" in text


def test_latex_is_ascii_and_compiles(general, pdflatex, tmp_path):
    body = general.latex()
    assert body.isascii()
    assert body.startswith("\\section*{Output sizes of convolution and transposed convolution}")
    assert "\\begin{gather*}" in body
    document = (
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
        f"{body}\n\\end{{document}}\n"
    )
    # A bare amsmath article on purpose: the fragment must need nothing more.
    pdf = compile_pdf(document, tmp_path, name="derivation")
    assert pdf.stat().st_size > 1000


def test_repr_latex_is_display_math_for_jupyter(general):
    shown = general._repr_latex_()
    assert shown.startswith("$$\\begin{gathered}") and shown.endswith("\\end{gathered}$$")
    assert r"o = \left\lfloor \frac{n + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1" in shown
    assert r"\textbf{6. Why output padding lies in [0, max(stride, dilation))}" in shown


# ----------------------------------------------------------------- the records themselves


def test_small_derivation_latex_golden():
    d = Derivation("Demo_1")
    d.add("Step & one", "50% ≤ all", [Equation("a = b", "a = b")], [Check("by hand", True)])
    assert d.latex() == (
        "\\section*{Demo\\_1}\n"
        "\\subsection*{1. Step \\& one}\n"
        "50\\% $\\le$ all\n"
        "\n"
        "\\begin{gather*}\na = b\n\\end{gather*}\n"
        "\\noindent\\textit{Check passed:} by hand\\par\n"
    )


def test_latex_text_escapes_specials_and_maps_unicode():
    assert latex_text("x_{1} ~ #2 ^ \\ ∂Lᵀ") == (
        "x\\_\\{1\\} \\textasciitilde{} \\#2 \\textasciicircum{} \\textbackslash{} "
        "$\\partial$L$^{\\mathsf{T}}$"
    )


def test_latex_text_refuses_unmapped_unicode():
    with pytest.raises(ConvSpecError, match=r"character '☃' \(U\+2603\) has no LaTeX"):
        latex_text("snow ☃")


def test_a_failed_check_is_recorded_not_raised():
    n = sympy.Symbol("n", integer=True, positive=True)
    wrong = sympy_check(n + 1, n)
    assert not wrong.passed and wrong.detail == "residual 1"
    d = Derivation("Has a failure")
    d.add("right", "", checks=[sympy_check(2 * n, n + n)])
    d.add("wrong", "", checks=[wrong])
    assert not d.all_checks_passed
    assert [title for title, _ in d.failures()] == ["wrong"]
    assert "[FAILED] sympy: simplify(lhs - rhs) == 0 (residual 1)" in d.text()
    assert "\\textit{Check FAILED:}" in d.latex()


def test_exhaustive_check_reports_the_first_counterexample():
    check = exhaustive_check("n<=9", range(1, 10), lambda n: n < 5)
    assert not check.passed and check.detail == "counterexample 5"
    crash = exhaustive_check("n<=3", range(3), lambda n: 1 // n > 0)
    assert not crash.passed and crash.detail.startswith("counterexample 0: ZeroDivisionError")
    empty = exhaustive_check("nothing", [], lambda n: True)
    assert not empty.passed and empty.detail == "no cases to check"


def test_sympy_check_compares_matrices_entrywise():
    x = sympy.Symbol("x")
    same = sympy_check(sympy.Matrix([x + x, 0]), sympy.Matrix([2 * x, 0]))
    assert same.passed and same.detail == "2x1 matrices, every entry zero"
    differ = sympy_check(sympy.Matrix([x, 1]), sympy.Matrix([x, 2]))
    assert not differ.passed and differ.detail == "1 nonzero entries, e.g. -1"


def test_grid_changes_what_is_checked_and_says_so():
    small = output_size_derivation(grid=Grid(n=4, k=2, s=2, p=1, d=1))
    assert small.all_checks_passed, _failures(small)
    assert any("n<=4, k<=2, s<=2, p<=1, d<=1" in c.method for c in small.checks)


def test_bad_arguments_are_refused():
    with pytest.raises(ConvSpecTypeError, match=r"spec=\(4, 4\) must be a ConvSpec"):
        output_size_derivation((4, 4))
    with pytest.raises(ConvSpecTypeError, match=r"grid=\{'n': 3\} must be a Grid"):
        output_size_derivation(grid={"n": 3})
    with pytest.raises(ConvSpecError, match=r"grid s=0 must be >= 1"):
        Grid(s=0)
    with pytest.raises(ConvSpecTypeError, match=r"grid n=2.5 must be an integer"):
        Grid(n=2.5)


def test_sympy_check_records_a_crash_as_a_failure():
    crash = sympy_check(sympy.Matrix([1, 2]), sympy.Matrix([1, 2, 3]))
    assert not crash.passed and crash.detail.startswith("ShapeError")


def test_derivation_summary_and_step_verdicts():
    d = Derivation("Tiny")
    d.add("fine", "", checks=[Check("by hand", True)])
    d.add("bad", "", checks=[Check("by hand", True), Check("by eye", False)])
    assert len(d) == 2
    assert [step.passed for step in d.steps] == [True, False]
    assert repr(d) == "<Derivation 'Tiny': 2 steps, 2/3 checks passed>"
    assert str(d) == d.text()
