"""Padding as its own operator, ``C = D·P``, through the public names, for every mode.

The referees are independent of the package: ``numpy.pad`` pads (its mode
names are spelled here, not read from the package), a plain loop convolves
the padded input from the definition of cross-correlation, and
``jax.numpy.pad`` pads a second time. Every mode the package has must be in
:data:`NUMPY_PAD`, so a new mode cannot land without a referee.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math

import numpy as np
import pytest
import sympy

import transpose_matrix as tm
from transpose_matrix import ConvSpec, ConvSpecError
from transpose_matrix.analysis import transpose_recipe
from transpose_matrix.cli import main
from transpose_matrix.geometry import PADDING_MODES, padding_source
from transpose_matrix.geometry.padding import fold_array, pad_array, padding_borders
from transpose_matrix.matrices import conv_matrix_terms

#: numpy.pad's name of every padding mode: the referee of what P copies.
NUMPY_PAD = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
    "symmetric": "symmetric",
}

#: Small named geometries; every amount is legal in every mode (< input size).
CASES = {
    "1-D": dict(input_shape=(7,), kernel_size=3, padding=2),
    "1-D per side, stride, dilation": dict(
        input_shape=(9,), kernel_size=3, stride=2, padding=[(3, 1)], dilation=2
    ),
    "2-D channels, groups": dict(
        input_shape=(5, 6), kernel_size=(3, 2), padding=[(2, 0), (1, 2)],
        in_channels=4, out_channels=2, groups=2,
    ),
    "2-D same, dilation": dict(input_shape=(6, 5), kernel_size=(4, 3), padding="same",
                               dilation=(1, 2)),
    "3-D": dict(
        input_shape=(3, 4, 3), kernel_size=2, stride=(1, 2, 1),
        padding=[(1, 1), (2, 0), (0, 2)], in_channels=2, out_channels=3,
    ),
}


def _np_pad(x, padding, mode):
    return np.pad(x, padding, mode=NUMPY_PAD[mode])


def loop_conv(spec, weight, x):
    """Cross-correlation from the definition, on the input padded by ``numpy.pad``."""
    padded = np.stack([_np_pad(x[c], spec.padding, spec.padding_mode)
                       for c in range(spec.in_channels)])
    out = np.zeros((spec.out_channels, *spec.output_shape))
    cin, cout = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    for o in range(spec.out_channels):
        for j in itertools.product(*map(range, spec.output_shape)):
            for local in range(cin):
                c = (o // cout) * cin + local
                for t in itertools.product(*map(range, spec.kernel_size)):
                    at = tuple(j[a] * spec.stride[a] + t[a] * spec.dilation[a]
                               for a in range(spec.ndim))
                    out[(o, *j)] += weight[(o, local, *t)] * padded[(c, *at)]
    return out


def _loop_matrix(spec, weight):
    """C column by column: the loop convolution of every unit input."""
    cols = spec.matrix_shape[1]
    columns = []
    for i in range(cols):
        unit = np.zeros(cols)
        unit[i] = 1.0
        columns.append(loop_conv(spec, weight, unit.reshape(spec.in_channels, *spec.input_shape))
                       .reshape(-1))
    return np.stack(columns, axis=1)


def _spec(case, mode):
    return ConvSpec(**CASES[case], padding_mode=mode)


def test_every_mode_has_a_referee():
    assert set(PADDING_MODES) == set(NUMPY_PAD)
    assert PADDING_MODES[0] == "zeros"
    # The old homes of the names still answer, with the same value.
    from transpose_matrix.cli.options import PADDING_MODES as cli_modes
    from transpose_matrix.geometry.shapes import PADDING_MODES as shapes_modes

    assert cli_modes == shapes_modes == PADDING_MODES


@pytest.mark.parametrize("mode", sorted(NUMPY_PAD))
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_padding_source_is_numpy_pad(mode, n):
    # The largest amounts the mode allows, and some smaller ones.
    most = {"reflect": n - 1, "circular": n, "symmetric": n}.get(mode, 2 * n + 1)
    for before, after in itertools.product(range(most + 1), repeat=2):
        # Entries shifted by one, so that numpy's padding zeros read -1.
        extra = {"constant_values": 0} if mode == "zeros" else {}
        expected = np.pad(np.arange(1, n + 1), (before, after), mode=NUMPY_PAD[mode], **extra) - 1
        got = padding_source(np.arange(-before, n + after), n, mode)
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("mode", sorted(NUMPY_PAD))
@pytest.mark.parametrize("case", sorted(CASES))
def test_pad_matrix_and_its_transpose(mode, case):
    spec = _spec(case, mode)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(spec.input_shape)
    P = tm.pad_matrix(spec.input_shape, spec.padding, mode=mode)
    expected = _np_pad(x, spec.padding, mode)
    np.testing.assert_array_equal(P @ x.reshape(-1), expected.reshape(-1))
    # P by index (the operator's), and Pᵀ folding the border back: the dot test.
    borders = padding_borders(spec.input_shape, spec.padding, mode)
    np.testing.assert_array_equal(pad_array(x, spec.input_shape, spec.padding, borders), expected)
    z = rng.standard_normal(expected.shape)
    folded = fold_array(z.copy(), spec.input_shape, spec.padding, borders)
    np.testing.assert_allclose(folded.reshape(-1), P.T @ z.reshape(-1), atol=1e-12)
    assert np.isclose(np.vdot(expected, z), np.vdot(x, folded))


@pytest.mark.parametrize("mode", sorted(NUMPY_PAD))
@pytest.mark.parametrize("case", sorted(CASES))
def test_conv_matrix_is_the_loop_convolution_of_the_numpy_padded_input(mode, case):
    spec = _spec(case, mode)
    rng = np.random.default_rng(5)
    w = rng.standard_normal(spec.weight_shape)
    C = tm.conv_matrix(spec, w)
    np.testing.assert_allclose(C.toarray(), _loop_matrix(spec, w), atol=1e-12)
    # Cᵀ built directly, and the counts read from the spec alone.
    np.testing.assert_allclose(tm.transposed_conv_matrix(spec, w).toarray(), C.T.toarray(),
                               atol=1e-12)
    assert tm.conv_matrix_nnz(spec) == C.nnz
    # Every entry is the sum of the weights conv_matrix_terms lists for it.
    rows, cols = spec.matrix_shape
    terms = conv_matrix_terms(spec, range(rows), range(cols))
    flat = w.reshape(-1)
    sums = np.array([[flat[list(cell)].sum() if cell else 0.0 for cell in row] for row in terms])
    np.testing.assert_allclose(sums, C.toarray(), atol=1e-12)
    # None is stored twice, and the most any entry sums is counted right.
    assert all(len(set(cell)) == len(cell) for row in terms for cell in row)
    from transpose_matrix.matrices.conv import conv_matrix_max_terms

    assert conv_matrix_max_terms(spec) == max(len(cell) for row in terms for cell in row)


@pytest.mark.parametrize("mode", sorted(NUMPY_PAD))
@pytest.mark.parametrize("case", sorted(CASES))
def test_operator_matches_the_matrix(mode, case):
    spec = _spec(case, mode)
    rng = np.random.default_rng(7)
    w = rng.standard_normal(spec.weight_shape)
    C = tm.conv_matrix(spec, w)
    op = tm.conv_operator(spec, w)
    x, y = rng.standard_normal(C.shape[1]), rng.standard_normal(C.shape[0])
    np.testing.assert_allclose(op.matvec(x), C @ x, atol=1e-12)
    np.testing.assert_allclose(op.rmatvec(y), C.T @ y, atol=1e-12)
    X = rng.standard_normal((C.shape[1], 3))
    np.testing.assert_allclose(op.matmat(X), C @ X, atol=1e-12)


@pytest.mark.parametrize("mode", sorted(NUMPY_PAD))
def test_symbolic_matrix_sums_the_weights_the_padding_folds(mode):
    spec = ConvSpec((4,), 3, padding=2, padding_mode=mode)
    w = np.random.default_rng(11).standard_normal(spec.weight_shape)
    symbols = tm.symbolic_conv_matrix(spec)
    numeric = np.array(symbols.xreplace(tm.weight_substitution(spec, w)).tolist(), dtype=float)
    np.testing.assert_allclose(numeric, _loop_matrix(spec, w), atol=1e-12)
    assert all(isinstance(entry, sympy.Expr) for entry in symbols)


@pytest.mark.parametrize("mode", sorted(NUMPY_PAD))
def test_operator_norm_is_the_largest_singular_value(mode):
    spec = ConvSpec((5, 4), 3, padding=[(2, 1), (1, 2)], in_channels=2, padding_mode=mode)
    w = np.random.default_rng(13).standard_normal(spec.weight_shape)
    exact = np.linalg.norm(_loop_matrix(spec, w), 2)
    assert math.isclose(tm.operator_norm(spec, w), exact, rel_tol=1e-8)


@pytest.mark.parametrize("mode", [m for m in sorted(NUMPY_PAD) if m != "zeros"])
def test_transpose_recipe_folds_what_torch_transposes(torch, mode):
    spec = ConvSpec((6, 5), (3, 2), stride=(2, 1), padding=[(2, 1), (1, 1)], in_channels=2,
                    out_channels=2, padding_mode=mode)
    rng = np.random.default_rng(17)
    w, y = rng.standard_normal(spec.weight_shape), rng.standard_normal(spec.matrix_shape[0])
    recipe = transpose_recipe(spec)
    yt = torch.tensor(y.reshape(spec.out_channels, *spec.output_shape))[None]
    with torch.no_grad():
        folded = recipe.apply(yt, torch.tensor(w)).numpy().reshape(-1)
    np.testing.assert_allclose(folded, _loop_matrix(spec, w).T @ y, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("mode", sorted(NUMPY_PAD))
def test_jax_pads_as_p_does(jax, mode):
    jnp = jax.numpy
    jax_mode = NUMPY_PAD[mode]  # jax.numpy.pad takes numpy's names
    for shape, padding in (((5,), [(2, 3)]), ((4, 3), [(1, 3), (2, 0)]),
                           ((3, 2, 4), [(2, 1), (0, 1), (3, 0)])):
        if mode == "reflect" and any(max(p) >= n for n, p in zip(shape, padding)):
            continue
        x = np.random.default_rng(19).standard_normal(shape)
        P = tm.pad_matrix(shape, padding, mode=mode)
        expected = np.asarray(jnp.pad(jnp.asarray(x), padding, mode=jax_mode))
        np.testing.assert_allclose(P @ x.reshape(-1), expected.reshape(-1), atol=1e-6)


@pytest.mark.parametrize("mode", sorted(NUMPY_PAD))
def test_padding_strings_resolve_alike_in_every_mode(mode):
    spec = ConvSpec((6,), 4, padding="same", padding_mode=mode)
    assert spec.padding == ((1, 2),) and spec.output_shape == (6,)
    assert ConvSpec((6,), 4, padding="valid", padding_mode=mode).padding == ((0, 0),)


def test_refusals_name_the_rule_and_the_value():
    with pytest.raises(ConvSpecError, match=r"padding_mode='wrap' must be one of zeros, reflect"):
        ConvSpec((4,), 3, padding_mode="wrap")
    with pytest.raises(ConvSpecError, match=r"only padding_mode='zeros' crops") as error:
        tm.pad_matrix(4, [(-1, 0)], mode="replicate")
    assert error.value.field == "padding"
    spec = ConvSpec((4,), 3, padding=1, padding_mode="circular")
    with pytest.raises(ConvSpecError, match=r"^placement_figure draws zero padding only; with "
                       r"padding_mode='circular'") as error:
        tm.placement_figure(spec, (0,))
    assert error.value.field == "padding_mode"


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_cli_offers_every_mode():
    code, _, err = _run(["show", "--input", "4", "--padding-mode", "nope"])
    assert code == 2
    for mode in PADDING_MODES:
        assert repr(mode) in err


# --------------------------------------------------------------------------- symmetric


def test_symmetric_repeats_the_edge_entry_up_to_the_input_size():
    # TensorFlow's rule (tf.pad(mode='SYMMETRIC') pads at most the size); numpy
    # goes on mirroring, and agrees up to that amount.
    spec = ConvSpec((3,), 1, padding=3, padding_mode="symmetric")
    P = tm.pad_matrix(3, 3, mode="symmetric")
    np.testing.assert_array_equal(P @ np.array([1.0, 2.0, 3.0]),
                                  [3, 2, 1, 1, 2, 3, 3, 2, 1])
    assert spec.output_shape == (9,)
    with pytest.raises(ConvSpecError, match=r"padding_mode='symmetric' needs padding <= input "
                       r"size in every dim \(TensorFlow's rule.*dim 0 pads \(4, 4\) on input "
                       r"size 3") as error:
        ConvSpec((3,), 1, padding=4, padding_mode="symmetric")
    assert error.value.field == "padding"
    with pytest.raises(ConvSpecError, match=r"dim 1 pads \(0, 3\) on input size 2"):
        tm.pad_matrix((4, 2), [(1, 1), (0, 3)], mode="symmetric")


def test_symmetric_verify_uses_the_loop_reference_not_torch():
    spec = ConvSpec((5, 4), 3, padding=[(2, 1), (1, 2)], in_channels=2, out_channels=2,
                    groups=2, padding_mode="symmetric")
    report = tm.verify(spec)
    assert report.ok
    assert report.referee == "reference loop builder (torch has no padding_mode='symmetric')"
    with pytest.raises(ConvSpecError, match=r"verify\(use_torch=True\): torch has no "
                       r"padding_mode='symmetric' \(its modes are zeros, reflect, replicate, "
                       r"circular\)") as error:
        tm.verify(spec, use_torch=True)
    assert error.value.field == "padding_mode"


def test_symmetric_from_the_command_line():
    args = ["--input", "4x3", "--kernel", "3", "--padding", "2x1", "--padding-mode", "symmetric"]
    code, out, _ = _run(["show", *args, "--numeric"])
    # torch has no such layer: the call shows the pairs numpy.pad pads.
    assert code == 0 and "padding=((2, 2), (1, 1)) via numpy.pad(mode='symmetric')" in out
    code, out, _ = _run(["verify", *args])
    assert code == 0 and "torch has no padding_mode='symmetric'" in out
    code, _, err = _run(["html", *args])
    assert code == 2 and "--padding-mode: html draws zero padding only" in err
    code, _, err = _run(["show", "--transposed", "--padding-mode", "symmetric"])
    assert code == 2 and "padding_mode='symmetric' has no transposed layer" in err
