"""How the symbolic C prints, and why it stays a plain sympy matrix.

``print(C)`` is sympy's one-line ``str``; a readable grid comes from sympy's
own ``pprint``/``repr`` (documented on ``symbolic_conv_matrix``). A subclass
with a multi-line ``__str__`` was rejected: sympy hashes the class name, so
it would no longer be interchangeable with an equal sympy matrix as a dict
key. These tests pin both halves against sympy itself.
"""

from __future__ import annotations

import sympy

import transpose_matrix as tm


def test_symbolic_c_is_a_plain_sympy_matrix():
    spec = tm.ConvSpec((3, 3), 2, in_channels=2, out_channels=1)
    C = tm.symbolic_conv_matrix(spec)
    assert type(C) is sympy.ImmutableSparseMatrix
    same = sympy.ImmutableSparseMatrix(C.rows, C.cols, dict(C.todok()))
    assert C == same and hash(C) == hash(same) and {same: 1}[C] == 1


def test_the_documented_readable_forms_have_one_line_per_row():
    spec = tm.ConvSpec((4, 4), 3)
    C = tm.symbolic_conv_matrix(spec)
    rows = C.rows
    assert str(C).count("\n") == 0  # sympy's str: one line
    assert repr(C).count("\n") == rows  # 'Matrix([' then one line per row
    grid = sympy.pretty(C, use_unicode=False, wrap_line=False).splitlines()
    filled = [line for line in grid if line.strip("[] ")]
    assert len(filled) == rows
    for line, r in zip(filled, range(rows)):
        # Row r of C, entries in column order: the row's symbols appear in that order.
        names = [str(C[r, c]) for c in range(C.cols) if C[r, c] != 0]
        positions = [line.index(name) for name in names]
        assert positions == sorted(positions)
