"""Every mistake a learner can make gets a clear error naming parameter, value and rule.

Library rows call the public API; each names the exact error class it
expects (``ConvSpecError``, ``ConvSpecTypeError``, ``MemoryGuardError`` or
``OutputPathError``), the argument the error must name in ``.field``, and a
pattern its message must match. Rows whose cost would explode if a guard
regressed (huge sizes) run in a child process under ``RLIMIT_AS`` with a
timeout (``tests/limits.py``), so a regression fails fast instead of eating
the machine; each also asserts the child's time and peak memory.
"""

from __future__ import annotations

import math
import os
import re
import socket
import stat

import numpy as np
import pytest
import sympy
from limits import library_call

import transpose_matrix as tm
from transpose_matrix import (
    ConvSpec,
    ConvSpecError,
    ConvSpecTypeError,
    MemoryGuardError,
    OutputPathError,
    TransposeMatrixError,
)
from transpose_matrix.io import write_output, write_text_atomic
from transpose_matrix.shapes import parse_int

SPEC = ConvSpec((4, 4), 3, in_channels=2, out_channels=2)
GOOD_W = np.ones(SPEC.weight_shape)
HUGE = 10**5000 - 1  # 5,000 nines: past Python's 4,300-digit str() limit


def _nan_weight():
    w = GOOD_W.copy()
    w[0, 0, 0, 0] = math.nan
    return w


def _inf_weight():
    w = GOOD_W.copy()
    w[1, 1, 2, 2] = -math.inf
    return w


# name: (call, exact error class, .field (None: names no single argument), message pattern)
LIBRARY_CASES = {
    # ConvSpec fields
    "negative size": (lambda: ConvSpec((4, -1), 3), ConvSpecError, "input_shape", r"input_shape\[1\]=-1 must be >= 1"),
    "zero size": (lambda: ConvSpec(0, 1), ConvSpecError, "input_shape", r"input_shape\[0\]=0 must be >= 1"),
    "zero kernel": (lambda: ConvSpec((4,), 0), ConvSpecError, "kernel_size", r"kernel_size=0 must be >= 1"),
    "float kernel": (lambda: ConvSpec((4,), 2.5), ConvSpecTypeError, "kernel_size", r"kernel_size=2.5 must be an integer"),
    "bool stride": (lambda: ConvSpec((4,), 2, stride=True), ConvSpecTypeError, "stride", r"stride=True .*bool"),
    "numpy bool stride": (lambda: ConvSpec((4,), 2, stride=np.True_), ConvSpecTypeError, "stride", r"stride=True .*bool"),
    "string dilation": (lambda: ConvSpec((4,), 2, dilation="3"), ConvSpecTypeError, "dilation",
                        r"dilation='3' must be an integer"),
    "float size": (lambda: ConvSpec((4.0, 4), 2), ConvSpecTypeError, "input_shape", r"input_shape\[0\]=4.0"),
    "zero stride": (lambda: ConvSpec((4,), 2, stride=0), ConvSpecError, "stride", r"stride=0 must be >= 1"),
    "zero dilation": (lambda: ConvSpec((4,), 2, dilation=0), ConvSpecError, "dilation", r"dilation=0 must be >= 1"),
    "negative padding": (lambda: ConvSpec((4,), 2, padding=-2), ConvSpecError, "padding", r"padding=-2 must be >= 0"),
    "negative before": (lambda: ConvSpec((4,), 2, padding=[(-1, 1)]), ConvSpecError, "padding", r"before=-1"),
    "padding triple": (lambda: ConvSpec((4,), 2, padding=[(1, 1, 1)]), ConvSpecError, "padding",
                       r"\(before, after\) pair"),
    "padding symbol": (lambda: ConvSpec((4, 4), 3, padding=sympy.Symbol("p")), ConvSpecTypeError, "padding",
                       r"padding=p must be an integer, not Symbol \(symbols belong to conv_output_size"),
    "padding positive symbol": (lambda: ConvSpec((4, 4), 3, padding=sympy.Symbol("p", positive=True)),
                                ConvSpecTypeError, "padding", r"padding=p must be an integer"),
    "padding integer symbol pair": (lambda: ConvSpec((4,), 3, padding=[(0, sympy.Symbol("q", integer=True))]),
                                    ConvSpecTypeError, "padding", r"padding\[0\]=q must be an integer"),
    "padding nan": (lambda: ConvSpec((4, 4), 3, padding=sympy.nan), ConvSpecTypeError, "padding", r"padding=nan"),
    "padding float nan": (lambda: ConvSpec((4, 4), 3, padding=math.nan), ConvSpecTypeError, "padding", r"padding=nan"),
    "padding string": (lambda: ConvSpec((4,), 3, padding="full"), ConvSpecTypeError, "padding", r"'full' must be 'same', 'valid'"),
    "padding same strided": (lambda: ConvSpec((4,), 3, stride=2, padding="same"), ConvSpecError, "padding",
                             r"padding='same' needs stride 1"),
    "padding mode": (lambda: ConvSpec((4,), 3, padding_mode="edge"), ConvSpecError, "padding_mode", r"padding_mode='edge'"),
    "padding mode type": (lambda: ConvSpec((4,), 3, padding_mode=1), ConvSpecTypeError, "padding_mode", r"padding_mode=1 must be a string"),
    "reflect too wide": (lambda: ConvSpec((2,), 3, padding=2, padding_mode="reflect"), ConvSpecError, "padding",
                         r"padding_mode='reflect' needs padding < input size"),
    "circular too wide": (lambda: ConvSpec((2,), 3, padding=3, padding_mode="circular"), ConvSpecError, "padding",
                          r"padding_mode='circular' needs padding <= input size"),
    "mode crop": (lambda: ConvSpec((4,), 3, padding=[(1, -1)], padding_mode="replicate"), ConvSpecError, "padding",
                  r"only padding_mode='zeros' crops"),
    "kernel too big": (lambda: ConvSpec((4, 4), 5), ConvSpecError, "kernel_size", r"dim 0: dilated kernel size 5"),
    "dilated kernel too big": (lambda: ConvSpec((6,), 3, dilation=3), ConvSpecError, "kernel_size",
                               r"dilated kernel size 7 .* exceeds padded input size 6"),
    "crop too much": (lambda: ConvSpec((4,), 3, padding=[(0, -2)]), ConvSpecError, "kernel_size", r"exceeds padded"),
    "groups in": (lambda: ConvSpec((4,), 1, in_channels=3, out_channels=2, groups=2), ConvSpecError, "groups",
                  r"groups=2 must divide in_channels=3"),
    "groups out": (lambda: ConvSpec((4,), 1, in_channels=2, out_channels=3, groups=2), ConvSpecError, "groups",
                   r"groups=2 must divide out_channels=3"),
    "zero groups": (lambda: ConvSpec((4,), 1, groups=0), ConvSpecError, "groups", r"groups=0 must be >= 1"),
    "zero channels": (lambda: ConvSpec((4,), 1, in_channels=0), ConvSpecError, "in_channels", r"in_channels=0"),
    "four dims": (lambda: ConvSpec((2, 2, 2, 2), 1), ConvSpecError, "input_shape", r"1 to 3 spatial dims, got 4"),
    "no dims": (lambda: ConvSpec((), 1), ConvSpecError, "input_shape", r"1 to 3 spatial dims, got 0"),
    "kernel dims mismatch": (lambda: ConvSpec((4, 4), (2, 2, 2)), ConvSpecError, "kernel_size",
                             r"kernel_size=\(2, 2, 2\) must have 2 entries"),
    "stride dims mismatch": (lambda: ConvSpec((4, 4), 2, stride=(1,)), ConvSpecError, "stride",
                             r"stride=\(1,\) must have 2 entries"),
    "shape string": (lambda: ConvSpec("4x4", 3), ConvSpecTypeError, "input_shape", r"input_shape='4x4'"),
    "shape none": (lambda: ConvSpec(None, 3), ConvSpecTypeError, "input_shape", r"input_shape=None"),
    "shape 2-D array": (lambda: ConvSpec(np.array([[4, 4]]), 3), ConvSpecTypeError, "input_shape",
                        r"must be an int or a sequence of 1 to 3 ints"),
    "shape long array": (lambda: ConvSpec(np.arange(1, 10**6), 3), ConvSpecError, "input_shape",
                         r"input_shape has 999999 entries; give at most 3"),
    "shape float array": (lambda: ConvSpec(np.array([4.0, 4.0]), 3), ConvSpecTypeError, "input_shape",
                          r"input_shape\[0\]=4.0 must be an integer"),
    "stride array wrong length": (lambda: ConvSpec((4, 4), 2, stride=np.array([1, 1, 1])), ConvSpecError,
                                  "stride", r"stride=\(1, 1, 1\) must have 2 entries"),
    # integers too large for any index, or to print
    "size 10**30": (lambda: ConvSpec((10**30,), 3), ConvSpecError, "input_shape",
                    r"input_shape\[0\]=<a 31-digit integer> must be <= 2\*\*60"),
    "stride 10**30": (lambda: ConvSpec((4,), 3, stride=10**30), ConvSpecError, "stride",
                      r"stride=<a 31-digit integer> must be <= 2\*\*60"),
    "padding 2**63": (lambda: ConvSpec((4,), 3, padding=2**63), ConvSpecError, "padding",
                      r"padding=9223372036854775808 must be <= 2\*\*60"),
    "after -2**63": (lambda: ConvSpec((4,), 3, padding=[(0, -(2**63))]), ConvSpecError, "padding",
                     r"must be >= -2\*\*60"),
    "in_channels 2**63": (lambda: ConvSpec((4,), 1, in_channels=2**63), ConvSpecError, "in_channels",
                          r"in_channels=9223372036854775808 must be <= 2\*\*60"),
    "groups 2**63": (lambda: ConvSpec((4,), 1, groups=2**63), ConvSpecError, "groups", r"<= 2\*\*60"),
    "dilation 5000 digits": (lambda: ConvSpec((4,), 3, dilation=HUGE), ConvSpecError, "dilation",
                             r"dilation=<a 5000-digit integer> must be <= 2\*\*60"),
    "kernel -5000 digits": (lambda: ConvSpec((4,), -HUGE), ConvSpecError, "kernel_size",
                            r"kernel_size=-<a 5000-digit integer> must be >= 1"),
    "numpy uint64 size": (lambda: ConvSpec((np.uint64(2**63),), 1), ConvSpecError, "input_shape", r"<= 2\*\*60"),
    # from_transposed
    "output_padding too big": (
        lambda: ConvSpec.from_transposed((3,), 1, 1, 3, stride=2, output_padding=2), ConvSpecError, "output_padding",
        r"output_padding=2 must be smaller than either stride=2 or dilation=1"),
    "negative output_padding": (
        lambda: ConvSpec.from_transposed((3,), 1, 1, 3, stride=2, output_padding=-1), ConvSpecError,
        "output_padding", r"output_padding=-1 must be >= 0"),
    "transposed nonpositive": (
        lambda: ConvSpec.from_transposed((1,), 1, 1, 1, padding=1), ConvSpecError, "padding",
        r"transposed output size -1 must be positive"),
    "transposed groups": (
        lambda: ConvSpec.from_transposed((3,), 3, 2, 1, groups=2), ConvSpecError, "groups",
        r"groups=2 must divide in_channels=3"),
    "transposed float": (
        lambda: ConvSpec.from_transposed((3,), 1, 1, 1.5), ConvSpecTypeError, "kernel_size", r"kernel_size=1.5"),
    "transposed output too big": (
        lambda: ConvSpec.from_transposed((2**59,), 1, 1, 1, stride=2**10), ConvSpecError, "input_shape",
        r"dim 0: the layer's output size .* must be <= 2\*\*60"),
    "transposed stride 10**30": (
        lambda: ConvSpec.from_transposed((3,), 1, 1, 1, stride=10**30), ConvSpecError, "stride", r"<= 2\*\*60"),
    "transposed string channels": (
        lambda: ConvSpec.from_transposed((3,), "1", 1, 1), ConvSpecTypeError, "in_channels", r"in_channels='1'"),
    # weights
    "weight shape": (lambda: tm.conv_matrix(SPEC, np.ones((2, 2, 3))), ConvSpecError, "weight",
                     r"weight shape \(2, 2, 3\) must be .* = \(2, 2, 3, 3\)"),
    "weight transposed layout": (lambda: tm.conv_matrix(ConvSpec((4,), 3, in_channels=2), np.ones((2, 1, 3))),
                                 ConvSpecError, "weight", r"weight shape \(2, 1, 3\) must be"),
    "weight dtype bool": (lambda: tm.conv_matrix(SPEC, GOOD_W.astype(bool)), ConvSpecTypeError, "weight",
                          r"weight dtype bool must be one of"),
    "weight dtype object": (lambda: tm.conv_matrix(SPEC, GOOD_W.astype(object)), ConvSpecTypeError, "weight",
                            r"weight dtype object"),
    "weight dtype float16": (lambda: tm.conv_matrix(SPEC, GOOD_W.astype(np.float16)), ConvSpecTypeError, "weight",
                             r"weight dtype float16"),
    "weight nan": (lambda: tm.conv_matrix(SPEC, _nan_weight()), ConvSpecError, "weight", r"NaN or infinite"),
    "weight inf": (lambda: tm.transposed_conv_matrix(SPEC, _inf_weight()), ConvSpecError, "weight", r"NaN or infinite"),
    "weight strings": (lambda: tm.conv_matrix(SPEC, [["a"]]), ConvSpecTypeError, "weight", r"weight dtype"),
    "weight ragged": (lambda: tm.conv_matrix(SPEC, [[1.0], [1.0, 2.0]]), ConvSpecTypeError, "weight",
                      r"weight could not be read as an array"),
    "spec not a spec": (lambda: tm.conv_matrix((4, 4), GOOD_W), ConvSpecTypeError, "spec", r"must be a ConvSpec"),
    # specs that are not specs, at every entry point taking one
    "symbolic_conv_matrix tuple": (lambda: tm.symbolic_conv_matrix((4, 4)), ConvSpecTypeError, "spec",
                                   r"spec=\(4, 4\) must be a ConvSpec, e.g. ConvSpec\(input_shape"),
    "symbolic_input letter first": (lambda: tm.symbolic_input("x"), ConvSpecTypeError, "spec", r"spec='x' must be a ConvSpec"),
    "symbolic_output tuple": (lambda: tm.symbolic_output((4,)), ConvSpecTypeError, "spec", r"must be a ConvSpec"),
    "symbolic_conv_equations none": (lambda: tm.symbolic_conv_equations(None), ConvSpecTypeError, "spec", r"spec=None"),
    "weight_symbols dict": (lambda: tm.weight_symbols({}), ConvSpecTypeError, "spec", r"must be a ConvSpec"),
    "verify tuple": (lambda: tm.verify((4, 4)), ConvSpecTypeError, "spec", r"spec=\(4, 4\) must be a ConvSpec"),
    "conv_matrix_nnz tuple": (lambda: tm.conv_matrix_nnz((4, 4)), ConvSpecTypeError, "spec", r"must be a ConvSpec"),
    "conv_matrix_nbytes tuple": (lambda: tm.conv_matrix_nbytes((4, 4)), ConvSpecTypeError, "spec", r"must be a ConvSpec"),
    "reference tuple": (lambda: tm.reference_conv_matrix((4, 4), GOOD_W), ConvSpecTypeError, "spec", r"must be a ConvSpec"),
    "symbolic_vector empty letter": (lambda: tm.symbolic_vector("", 1, (3,)), ConvSpecTypeError, "letter",
                                     r"letter='' must be a non-empty string"),
    "symbolic_vector float channels": (lambda: tm.symbolic_vector("x", 1.5, (3,)), ConvSpecTypeError, "channels",
                                       r"channels=1.5"),
    # verify
    "verify complex": (lambda: tm.verify(ConvSpec((4,), 2), np.ones((1, 1, 2), complex)), ConvSpecTypeError, "weight",
                       r"real weights"),
    "verify seed text": (lambda: tm.verify(ConvSpec((4,), 2), seed="1"), ConvSpecTypeError, "seed",
                         r"seed='1' must be an integer, not str"),
    "verify seed negative": (lambda: tm.verify(ConvSpec((4,), 2), seed=-1), ConvSpecError, "seed", r"seed=-1 must be >= 0"),
    "verify seed float": (lambda: tm.verify(ConvSpec((4,), 2), seed=1.5), ConvSpecTypeError, "seed", r"seed=1.5"),
    "verify seed bool": (lambda: tm.verify(ConvSpec((4,), 2), seed=True), ConvSpecTypeError, "seed", r"bool"),
    "verify seed 5000 digits": (lambda: tm.verify(ConvSpec((4,), 2), seed=HUGE), ConvSpecError, "seed",
                                r"seed=<a 5000-digit integer> must be <= 2\*\*60"),
    "verify use_torch text": (lambda: tm.verify(ConvSpec((4,), 2), use_torch="no"), ConvSpecTypeError, "use_torch",
                              r"use_torch='no' must be True, False or None"),
    # size formulas
    "size float": (lambda: tm.conv_output_size(4.5, 3), ConvSpecTypeError, "n", r"n=4.5 must be an integer"),
    "size zero": (lambda: tm.conv_output_size(0, 1), ConvSpecError, "n", r"n=0 must be >= 1"),
    "size 5000 digits": (lambda: tm.conv_output_size(HUGE, 3), ConvSpecError, "n", r"n=<a 5000-digit integer>"),
    "size kernel too big": (lambda: tm.conv_output_size(4, 3, dilation=2), ConvSpecError, "kernel_size",
                            r"dilated kernel size 5"),
    "size pad string": (lambda: tm.conv_output_size(4, 3, padding="same"), ConvSpecTypeError, "padding",
                        r"padding strings"),
    "size pad triple": (lambda: tm.conv_output_size(4, 3, padding=(1, 1, 1)), ConvSpecError, "padding",
                        r"\(before, after\) pair"),
    "size pad nan": (lambda: tm.conv_output_size(4, 3, padding=sympy.nan), ConvSpecTypeError, "padding",
                     r"padding=nan must be an integer \(symbol or number\)"),
    "size pad oo": (lambda: tm.conv_output_size(4, 3, padding=sympy.oo), ConvSpecTypeError, "padding", r"padding=oo"),
    "size pad negative symbol": (lambda: tm.conv_output_size(4, 3, padding=sympy.Symbol("p", negative=True)),
                                 ConvSpecError, "padding", r"padding=p must be >= 0"),
    "size stride matrix": (lambda: tm.conv_output_size(4, 3, stride=sympy.Matrix([2])), ConvSpecTypeError, "stride",
                           r"must be an integer or a sympy expression"),
    "size sympy integers too small": (lambda: tm.conv_output_size(sympy.Integer(2), 3), ConvSpecError, "kernel_size",
                                      r"dilated kernel size 3 .* exceeds padded input size 2"),
    "size output_padding": (lambda: tm.transposed_conv_output_size(3, 3, 2, output_padding=2),
                            ConvSpecError, "output_padding", r"output_padding=2 must be smaller"),
    "size transposed negative": (lambda: tm.transposed_conv_output_size(1, 1, padding=2), ConvSpecError, "padding",
                                 r"must be positive"),
    "size symbolic rational": (lambda: tm.conv_output_size(sympy.Rational(1, 2), 3), ConvSpecTypeError, "n",
                               r"n=1/2 must be an integer"),
    # text the library reads (ASCII digits only)
    "parse arabic-indic digit": (lambda: parse_int("input_shape", "٣"), ConvSpecError, "input_shape",
                                 r"must be written with ASCII digits 0-9"),
    "parse fullwidth digit": (lambda: parse_int("stride", "２"), ConvSpecError, "stride", r"ASCII digits"),
    "parse underscore": (lambda: parse_int("stride", "1_0"), ConvSpecError, "stride", r"must be an integer"),
    "parse 5000 digits": (lambda: parse_int("padding", "9" * 5000, 0), ConvSpecError, "padding",
                          r"padding=<a 5000-digit integer> must be <= 2\*\*60"),
    "parse negative 5000 digits": (lambda: parse_int("seed", "-" + "9" * 5000, 0), ConvSpecError, "seed",
                                   r"seed=-<a 5000-digit integer> must be >= 0"),
    "parse bytes": (lambda: parse_int("n", b"3"), ConvSpecTypeError, "n", r"must be text"),
    # memory and entry limits as arguments
    "max_bytes negative": (lambda: tm.conv_matrix(SPEC, GOOD_W, max_bytes=-1), ConvSpecError, "max_bytes",
                           r"max_bytes=-1 must be >= 0 bytes"),
    "max_bytes float": (lambda: tm.conv_matrix(SPEC, GOOD_W, max_bytes=1.5), ConvSpecTypeError, "max_bytes",
                        r"max_bytes=1.5"),
    "max_entries negative": (lambda: tm.symbolic_conv_matrix(SPEC, max_entries=-1), ConvSpecError, "max_entries",
                             r"max_entries=-1 must be >= 0 entries"),
    "max_entries text": (lambda: tm.symbolic_conv_matrix(SPEC, max_entries="many"), ConvSpecTypeError, "max_entries",
                         r"max_entries='many'"),
    "symbolic over max_entries": (lambda: tm.symbolic_conv_matrix(SPEC, max_entries=10), MemoryGuardError, None,
                                  r"symbolic C .* would hold 144 entries, above the limit of 10"),
    "symbolic vector over max_entries": (lambda: tm.symbolic_input(SPEC, max_entries=3), MemoryGuardError, None,
                                         r"the vector x would hold 32 entries"),
    "C over max_bytes": (lambda: tm.conv_matrix(SPEC, GOOD_W, max_bytes=10), MemoryGuardError, None,
                         r"C \(conv_matrix\) of shape \(8, 32\) would need"),
    # solver
    "solve unknown keyword": (lambda: tm.solve_sizes(4, 8, kernel=3), ConvSpecTypeError, "kernel",
                              r"unknown keyword\(s\) kernel"),
    "solve transposed text": (lambda: tm.solve_sizes(4, 8, transposed="no"), ConvSpecTypeError, "transposed",
                              r"transposed='no' must be True or False"),
    "solve candidates text": (lambda: tm.solve_sizes(4, 8, kernel_sizes="3"), ConvSpecTypeError, "kernel_size",
                              r"not text"),
    "solve too many candidates": (lambda: tm.solve_sizes(4, 8, kernel_sizes=range(1, 10**18)), ConvSpecError,
                                  "kernel_size", r"kernel_size offers more than 10,000 candidate values"),
    "solve too many sets": (lambda: tm.solve_sizes(4, 8, kernel_sizes=range(1, 1000), strides=range(1, 1000)),
                            ConvSpecError, None, r"the search would try 3,992,004 .* above its limit of 100,000"),
    "solve n 5000 digits": (lambda: tm.solve_sizes(HUGE, 8), ConvSpecError, "n", r"n=<a 5000-digit integer>"),
    "solve pinned stride 10**30": (lambda: tm.solve_sizes(8, 16, stride=10**30), ConvSpecError, "stride", r"<= 2\*\*60"),
    "solve huge stride listing": (lambda: tm.SizeSolution(1, 3, True, 3, 2**40, 0).taps_per_position, ConvSpecError,
                                  "stride", r"use taps_histogram"),
    # resampling matrices
    "unpool ragged indices": (lambda: tm.max_unpool_matrix([[1], [1, 2]], 4), ConvSpecTypeError, "indices",
                              r"indices could not be read as an array"),
    "unpool float indices": (lambda: tm.max_unpool_matrix(np.array([[1.0]]), 4), ConvSpecTypeError, "indices",
                             r"indices dtype float64"),
    "pad symbol": (lambda: tm.pad_matrix(4, sympy.Symbol("p")), ConvSpecTypeError, "padding", r"must be an integer"),
    "pad crop all": (lambda: tm.pad_matrix(4, [(-2, -2)]), ConvSpecError, "padding", r"must leave at least one entry"),
    "bilinear align text": (lambda: tm.bilinear_upsample_matrix(3, 2, align_corners="yes"), ConvSpecTypeError,
                            "align_corners", r"align_corners='yes' must be a bool"),
    "zero insertion stride 10**30": (lambda: tm.zero_insertion_matrix(3, 10**30), ConvSpecError, "stride",
                                     r"<= 2\*\*60"),
}


@pytest.mark.parametrize("case", LIBRARY_CASES)
def test_library_rejects_bad_input(case):
    call, error, field, match = LIBRARY_CASES[case]
    with pytest.raises(TransposeMatrixError, match=match) as caught:
        call()
    assert type(caught.value) is error, (case, type(caught.value))
    assert caught.value.field == field, (case, caught.value.field)
    # One line, short enough to read, whatever the input's size.
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message


def test_every_library_error_belongs_to_the_family():
    for call, error, _, _ in LIBRARY_CASES.values():
        with pytest.raises(TransposeMatrixError):
            call()
        # Geometry errors are ValueErrors (type errors also TypeErrors), and
        # the memory guard's are also MemoryErrors.
        assert issubclass(error, ValueError)
    assert issubclass(ConvSpecTypeError, TypeError)
    assert issubclass(MemoryGuardError, MemoryError) and issubclass(MemoryGuardError, ConvSpecError)
    assert issubclass(OutputPathError, OSError) and not issubclass(OutputPathError, ConvSpecError)
    assert not issubclass(tm.LatexError, ConvSpecError)


# What users pass and the library takes: numpy sizes, torch weights that
# require grad. Each is compared with the plain-int / plain-array answer.
def test_numpy_shapes_and_scalars_are_accepted():
    plain = ConvSpec((4, 4), 3, stride=(1, 2), padding=((1, 0), (0, 1)))
    assert ConvSpec(np.array([4, 4]), np.int64(3), stride=np.array([1, 2]),
                    padding=np.array([[1, 0], [0, 1]]).tolist()) == plain
    assert ConvSpec(np.array([4, 4]), 3, stride=np.array([1, 2]), padding=[np.array([1, 0]), (0, 1)]) == plain
    assert ConvSpec(np.int32(5), np.uint8(3)) == ConvSpec((5,), 3)
    assert ConvSpec(np.array(5), 3) == ConvSpec((5,), 3)  # a 0-d array is a number
    assert ConvSpec.from_transposed(np.array([2, 2]), np.int64(1), 1, 3) == ConvSpec.from_transposed((2, 2), 1, 1, 3)
    assert tm.conv_output_size(np.int64(5), 3, padding=np.array([1, 1])) == 5


def test_torch_weight_that_requires_grad_is_accepted(torch):
    spec = ConvSpec((5,), 3, in_channels=2, out_channels=3)
    layer = torch.nn.Conv1d(2, 3, 3, bias=False).double()
    assert layer.weight.requires_grad
    expected = layer.weight.detach().numpy()
    for builder in (tm.conv_matrix, tm.transposed_conv_matrix):
        np.testing.assert_array_equal(builder(spec, layer.weight).toarray(), builder(spec, expected).toarray())
    x = torch.randn(1, 2, 5, dtype=torch.float64)
    C = tm.conv_matrix(spec, layer.weight)
    np.testing.assert_allclose(C @ x.reshape(-1).numpy(), layer(x).detach().reshape(-1).numpy(), atol=1e-12)
    assert tm.verify(spec, layer.weight).ok
    assert tm.weight_substitution(spec, layer.weight)  # the symbolic path takes it too


def test_torch_bfloat16_weight_is_a_clean_type_error(torch):
    spec = ConvSpec((5,), 3)
    weight = torch.ones(1, 1, 3, dtype=torch.bfloat16, requires_grad=True)
    with pytest.raises(ConvSpecTypeError) as caught:
        tm.conv_matrix(spec, weight)
    assert caught.value.field == "weight"


def test_forcing_torch_without_torch_gives_an_install_hint(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails
    with pytest.raises(ModuleNotFoundError, match=r"verify\(use_torch=True\) needs PyTorch: pip install torch"):
        tm.verify(ConvSpec((4,), 2), use_torch=True)


# ----------------------------------------------------------------- output paths


def _output_cases(folder):
    """(path, pattern) pairs that must each raise OutputPathError and leave no file."""
    os.mkfifo(folder / "fifo-unused")  # not used here; the folder holds specials
    block = folder / "block"
    os.mknod(block, 0o600 | stat.S_IFBLK, os.makedev(7, 250))
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock"))
    (folder / "loop").symlink_to("loop")
    (folder / "dangling").symlink_to(folder / "no-such-dir" / "target")
    return sock, {
        "nul byte": (str(folder / "a\x00b"), r"contains a NUL byte"),
        "empty": ("", r"output path '' is empty"),
        "directory": (str(folder), r"is a directory; give a file name"),
        "missing directory": (str(folder / "no" / "dir" / "f.tex"), r"directory .* does not exist"),
        "name of 256 bytes": (str(folder / ("a" * 256)), r"is 256 bytes long, above the file system's limit of 255"),
        "component of 300 bytes": (str(folder / ("é" * 150) / "f.tex"), r"is 300 bytes long"),
        "path over PATH_MAX": (str(folder / "/".join(["d" * 200] * 25)), r"above the limit of 4096 bytes"),
        "block device": (str(block), r"is a block device; refusing"),
        "socket": (str(folder / "sock"), r"is a socket; use '-' for standard output"),
        "symlink loop": (str(folder / "loop"), r"Too many levels of symbolic links"),
        "dangling into nowhere": (str(folder / "dangling"), r"no-such-dir' does not exist"),
        "not a path": (3.5, r"must be a file name \(str or path-like\), not float"),
        "bytes path": (b"out.tex", r"must be a file name"),
    }


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a block device needs root")
def test_bad_output_paths_are_one_clean_error(tmp_path):
    sock, cases = _output_cases(tmp_path)
    try:
        before = sorted(p.name for p in tmp_path.iterdir())
        for name, (path, pattern) in cases.items():
            with pytest.raises(OutputPathError) as caught:
                write_text_atomic(path, "text")
            message = str(caught.value)
            assert type(caught.value) is OutputPathError, name
            assert re.search(pattern, message), (name, message)
            assert "\n" not in message and len(message) < 400, (name, message)
            with pytest.raises(OutputPathError):
                write_output(path, "text")
        assert sorted(p.name for p in tmp_path.iterdir()) == before
        assert stat.S_ISBLK(os.lstat(tmp_path / "block").st_mode)
    finally:
        sock.close()


def test_full_device_is_a_clean_error_and_stays_a_device(tmp_path):
    full = tmp_path / "full"
    if os.geteuid() != 0:
        pytest.skip("mknod of /dev/full's twin needs root")
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    with pytest.raises(OutputPathError, match=r"output path '.*full' cannot be written: No space left on device"):
        write_text_atomic(full, "x" * 5000)
    assert stat.S_ISCHR(os.lstat(full).st_mode)
    assert os.listdir(tmp_path) == ["full"]


# -------------------------------------------------- pathological sizes, in a child
# Each row: (expression evaluated in a child under RLIMIT_AS = 2 GiB, exact
# error class or "returned", .field). The child must answer within
# CHILD_SECONDS and CHILD_MEMORY: a guard answers before it allocates.
CHILD_SECONDS = 30
CHILD_MEMORY = 600 * 2**20

W3 = "np.ones((1, 1, 3))"
PATHOLOGICAL = {
    "C of 2**31 inputs": (f"tm.conv_matrix(ConvSpec((2**31,), 3), {W3})", "MemoryGuardError", None),
    "C of 2**60 inputs": (f"tm.conv_matrix(ConvSpec((2**60,), 3), {W3})", "MemoryGuardError", None),
    "C with padding 2**40": (f"tm.conv_matrix(ConvSpec((4,), 3, padding=2**40), {W3})", "MemoryGuardError", None),
    "C with stride 2**60 is tiny": (f"tm.conv_matrix(ConvSpec((4,), 3, stride=2**60), {W3}).nnz", "returned", None),
    "C of 10**8 under 1 MiB": (f"tm.conv_matrix(ConvSpec((10**8,), 3), {W3}, max_bytes=2**20)", "MemoryGuardError", None),
    "Ct of 10**8 under 1 MiB": (f"tm.transposed_conv_matrix(ConvSpec((10**8,), 3), {W3}, max_bytes=2**20)",
                                "MemoryGuardError", None),
    "Ct of 10**18 rows, one entry": ("tm.transposed_conv_matrix(ConvSpec((10**18,), 1, stride=10**18), np.ones((1,1,1)))",
                                     "MemoryGuardError", None),
    "C beyond 64-bit columns": ("tm.conv_matrix(ConvSpec((2**21,) * 3, 1, stride=2**21), np.ones((1,) * 5))",
                                "MemoryGuardError", None),
    "C whose taps are all padding": ("tm.conv_matrix(ConvSpec((1,), 10**6, padding=10**6), np.ones((1, 1, 10**6)))",
                                     "MemoryGuardError", None),
    "nnz of the largest spec": ("tm.conv_matrix_nnz(ConvSpec((2**60,) * 3, 2**20, padding=2**59, in_channels=2**60, "
                                "out_channels=2**60)) > 0", "returned", None),
    "symbolic C of a 56x56x64 layer": ("tm.symbolic_conv_matrix(ConvSpec((56, 56), 3, padding=1, in_channels=64, "
                                       "out_channels=64))", "MemoryGuardError", None),
    "symbolic C of 10**12 inputs": ("tm.symbolic_conv_matrix(ConvSpec((10**12,), 3))", "MemoryGuardError", None),
    "symbolic equations of 10**12": ("tm.symbolic_conv_equations(ConvSpec((10**12,), 3))", "MemoryGuardError", None),
    "kernel symbols of 2**40 channels": ("tm.weight_symbols(ConvSpec((4,), 1, in_channels=2**40, out_channels=2**40))",
                                         "MemoryGuardError", None),
    "input symbols of 10**12": ("tm.symbolic_input(ConvSpec((10**12,), 1))", "MemoryGuardError", None),
    "symbol vector of 10**18": ("tm.symbolic_vector('x', 10**9, (10**9,))", "MemoryGuardError", None),
    "patch matrix of 10**9": ("tm.patch_matrix(ConvSpec((10**9,), 3), np.ones((1, 10**3)))", "MemoryGuardError", None),
    "symbolic patch matrix 56x56x64": ("tm.patch_matrix(ConvSpec((56, 56), 3, padding=1, in_channels=64, "
                                       "out_channels=64))", "MemoryGuardError", None),
    "loop reference of 10**12": (f"tm.reference_conv_matrix(ConvSpec((10**12,), 3), {W3})", "MemoryGuardError", None),
    "verify loop reference of 10**7": ("tm.verify(ConvSpec((10**7,), 3), use_torch=False)", "MemoryGuardError", None),
    "verify vectors of 10**18": ("tm.verify(ConvSpec((10**18,), 1, stride=10**18))", "MemoryGuardError", None),
    "random weight of 2**80 entries": ("__import__('transpose_matrix.verification').verification.random_weight(ConvSpec((4,), 1, in_channels=2**40, "
                                       "out_channels=2**40))", "MemoryGuardError", None),
    "Z of 10**12": ("tm.zero_insertion_matrix(10**12, 2)", "MemoryGuardError", None),
    "Z stride 10**12": ("tm.zero_insertion_matrix(4, 10**12)", "MemoryGuardError", None),
    "P of 10**12": ("tm.pad_matrix(10**12, 1)", "MemoryGuardError", None),
    "P cropping 10**12 to one": ("tm.pad_matrix(10**12, [(-(10**12 - 1), 0)])", "MemoryGuardError", None),
    "P padding 10**12": ("tm.pad_matrix(3, 10**12)", "MemoryGuardError", None),
    "nearest of 10**12": ("tm.nearest_upsample_matrix(10**12, 2)", "MemoryGuardError", None),
    "bilinear of 10**12": ("tm.bilinear_upsample_matrix(10**12, 2)", "MemoryGuardError", None),
    "bilinear scale 2**60": ("tm.bilinear_upsample_matrix(3, 2**60)", "MemoryGuardError", None),
    "unpool into 10**12": ("tm.max_unpool_matrix(np.array([[1, 2]]), 10**12)", "MemoryGuardError", None),
    "Z beyond 64-bit rows": ("tm.zero_insertion_matrix((2**21,) * 3, 1)", "MemoryGuardError", None),
    "solve stride 10**6": ("tm.solve_sizes(8, 16, stride=1000000)", "returned", None),
    "solve stride 2**60, printed": ("len(tm.format_solutions(tm.solve_sizes(1, 3, stride=2**60)))", "returned", None),
    "solve kernel range 10**18": ("tm.solve_sizes(8, 16, kernel_sizes=range(1, 10**18))", "ConvSpecError", "kernel_size"),
    "ConvSpec of 5000 digits": ("ConvSpec((4,), 3, stride=10**5000 - 1)", "ConvSpecError", "stride"),
}


@pytest.mark.parametrize("case", PATHOLOGICAL)
def test_pathological_sizes_are_answered_fast_in_bounded_memory(case):
    expression, outcome, field = PATHOLOGICAL[case]
    report = library_call(expression, timeout=2 * CHILD_SECONDS)
    limited = report["limited"]
    assert report["outcome"] != "died", limited.describe()
    if outcome == "returned":
        assert report["outcome"] == "returned", report
    else:
        assert report["outcome"] == "raised", report
        assert report["type"] == outcome, report
        assert report["field"] == field, report
        assert "\n" not in report["message"] and len(report["message"]) < 400, report
    assert limited.seconds < CHILD_SECONDS, limited.describe()
    assert limited.max_rss < CHILD_MEMORY, limited.describe()


def test_default_limit_follows_the_address_space_limit():
    # 1.67 GiB of C under a 1.5 GiB address space: refused by the guard
    # (which reads RLIMIT_AS), not left to numpy's MemoryError.
    report = library_call(
        "tm.conv_matrix(ConvSpec((128, 128), 3, padding=1, in_channels=32, out_channels=32), "
        "np.ones((32, 32, 3, 3)))",
        memory=3 * 2**29,
    )
    assert report["outcome"] == "raised" and report["type"] == "MemoryGuardError", report
    assert "would need 1.67 GiB" in report["message"]


# CLI rows: (argv, pattern the one stderr line must match). Each must exit 2.
CLI_CASES = {
    "input float": (["show", "--input", "4.5x4"], r"--input: '4.5x4' is not allowed"),
    "input zero": (["show", "--input", "0x4"], r"--input: '0x4' is not allowed; every entry must be >= 1"),
    "input negative": (["show", "--input", "-4"], r"--input: '-4'"),
    "input four dims": (["show", "--input", "4x4x4x4"], r"--input: '4x4x4x4' .*up to 3 dims"),
    "input empty": (["show", "--input", ""], r"--input: '' is not allowed"),
    "kernel too big": (["show", "--input", "4x4", "--kernel", "5"], r"--kernel/.*dim 0: dilated kernel size 5 .* exceeds padded input size 4"),
    "kernel dims": (["show", "--input", "4x4", "--kernel", "3x3x3"], r"--kernel: kernel_size=\(3, 3, 3\) must have 2 entries"),
    "kernel bool": (["show", "--kernel", "True"], r"--kernel: 'True' is not allowed"),
    "stride zero": (["show", "--stride", "0"], r"--stride: '0' is not allowed; every entry must be >= 1"),
    "stride float": (["show", "--stride", "2.5"], r"--stride: '2.5' is not allowed"),
    "dilation too big": (["show", "--input", "4x4", "--dilation", "3"], r"--dilation: .*dilated kernel size 7"),
    "padding Same": (["show", "--padding", "Same"], r"--padding: 'Same' is not allowed; give same or valid"),
    "padding negative before": (["show", "--padding=-1:0"], r"--padding: '-1:0'"),
    "groups": (["show", "--groups", "2", "--in-channels", "3"], r"--groups: groups=2 must divide in_channels=3"),
    "channels zero": (["show", "--in-channels", "0"], r"--in-channels: '0' is not allowed"),
    "output padding without transposed": (["show", "--output-padding", "1"], r"--output-padding: '1' is only allowed with --transposed"),
    "output padding too big": (["show", "--transposed", "--stride", "2", "--output-padding", "2"],
                               r"--output-padding: dim 0: output_padding=2 must be smaller than either stride=2"),
    "seed": (["show", "--numeric", "--seed", "-1"], r"--seed: '-1' is not allowed; give a single integer >= 0"),
    "format": (["show", "--format", "pdf"], r"--format: invalid choice: 'pdf'"),
    "unknown option": (["show", "--bogus"], r"unrecognized arguments: --bogus"),
    "unknown command": (["nope"], r"invalid choice: 'nope'"),
    "out is a directory": (["show", "--out", "."], r"--out: output path '\.' is a directory"),
    "out missing directory": (["show", "--out", "no/such/dir/f.txt"], r"--out: .*does not exist"),
    "export 3-D figure": (["figure", "sparsity", "--input", "3x3x3", "--kernel", "2"], r"3-D"),
    "solve missing m": (["solve", "4"], r"required: m"),
    "solve float": (["solve", "4", "8.5"], r"8\.5"),
    "verify huge": (["verify", "--input", "4096x4096", "--in-channels", "512", "--out-channels", "512"],
                    r"(memory|GiB|GB|bytes)"),
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_rejects_bad_input_with_one_line(case, capsys, tmp_path, monkeypatch):
    from transpose_matrix.cli import main

    monkeypatch.chdir(tmp_path)
    argv, pattern = CLI_CASES[case]
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2, (argv, captured.err)
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith("transpose_matrix: error: ")
    import re

    assert re.search(pattern, captured.err), captured.err


def test_cli_turns_memory_error_into_one_line(capsys, monkeypatch):
    import transpose_matrix.cli as cli

    def exhausted(args):
        raise MemoryError

    import dataclasses

    monkeypatch.setitem(cli.COMMANDS, "show", dataclasses.replace(cli.COMMANDS["show"], run=exhausted))
    assert cli.main(["show"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "out of memory" in err
