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
from transpose_matrix.cli import MAX_JSON_ENTRIES
from transpose_matrix.geometry.shapes import parse_int
from transpose_matrix.io import write_output, write_text_atomic

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
    "gradient derivation of reflect": (lambda: tm.gradient_derivation(ConvSpec((4,), 3, padding=1, padding_mode="reflect")),
                                       ConvSpecError, "padding_mode", r"derives zero padding only.*transpose_recipe"),
    "reflect too wide": (lambda: ConvSpec((2,), 3, padding=2, padding_mode="reflect"), ConvSpecError, "padding",
                         r"padding_mode='reflect' needs padding < input size"),
    "circular too wide": (lambda: ConvSpec((2,), 3, padding=3, padding_mode="circular"), ConvSpecError, "padding",
                          r"padding_mode='circular' needs padding <= input size"),
    "mode crop": (lambda: ConvSpec((4,), 3, padding=[(1, -1)], padding_mode="replicate"), ConvSpecError, "padding",
                  r"only padding_mode='zeros' crops"),
    "kernel too big": (lambda: ConvSpec((4, 4), 5), ConvSpecError, "kernel_size", r"dim 0: dilated kernel size 5"),
    "dilated kernel too big": (lambda: ConvSpec((6,), 3, dilation=3), ConvSpecError, "dilation",
                               r"dilated kernel size 7 .* exceeds padded input size 6"),
    "crop too much": (lambda: ConvSpec((4,), 3, padding=[(0, -2)]), ConvSpecError, "padding", r"exceeds padded"),
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
    "reference tuple": (lambda: tm.matrices.reference_conv_matrix((4, 4), GOOD_W), ConvSpecTypeError, "spec", r"must be a ConvSpec"),
    "symbolic_vector empty letter": (lambda: tm.matrices.symbolic_vector("", 1, (3,)), ConvSpecTypeError, "letter",
                                     r"letter='' must be a non-empty string"),
    "symbolic_vector float channels": (lambda: tm.matrices.symbolic_vector("x", 1.5, (3,)), ConvSpecTypeError, "channels",
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
                                r"seed=<a 5000-digit integer> must be <= 2\*\*128 - 1"),
    "verify use_torch text": (lambda: tm.verify(ConvSpec((4,), 2), use_torch="no"), ConvSpecTypeError, "use_torch",
                              r"use_torch='no' must be True, False or None"),
    # size formulas
    "size float": (lambda: tm.conv_output_size(4.5, 3), ConvSpecTypeError, "n", r"n=4.5 must be an integer"),
    "size zero": (lambda: tm.conv_output_size(0, 1), ConvSpecError, "n", r"n=0 must be >= 1"),
    "size 5000 digits": (lambda: tm.conv_output_size(HUGE, 3), ConvSpecError, "n", r"n=<a 5000-digit integer>"),
    "size kernel too big": (lambda: tm.conv_output_size(4, 3, dilation=2), ConvSpecError, "dilation",
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
                                  "kernel_size", r"would try more than 100,000 \(kernel_size, stride, dilation\) sets"),
    "solve too many sets": (lambda: tm.solve_sizes(4, 1, transposed=False, kernel_sizes=range(1, 1000),
                                                   strides=range(1, 1000)),
                            ConvSpecError, None, r"the search would try 997,995 .* above its limit of 100,000"),
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
    # presentation entry points
    "placement index float": (lambda: _tikz().placement_figure(SPEC, 1.5), ConvSpecTypeError, "output_index",
                              r"output_index=1.5 must be an int \(a row of C\) or a tuple"),
    "placement index outside": (lambda: _tikz().placement_figure(SPEC, (9, 9)), ConvSpecError, "output_index",
                                r"must be a position in the output"),
    "placement 3-D": (lambda: _tikz().placement_figure(ConvSpec((3, 3, 3), 2)), ConvSpecError, "input_shape",
                      r"figures draw 1-D and 2-D"),
    "placement kernel of 10**5 taps": (lambda: _tikz().placement_figure(ConvSpec((10**6,), 10**5)), ConvSpecError,
                                       "kernel_size", r"100,000 taps, above 1,024"),
    "placement span": (lambda: _tikz().placement_figure(ConvSpec((10**6,), 3, dilation=1000)), ConvSpecError,
                       "dilation", r"spans 2,001 cells, above 1,024"),
    "placement row of 2**20 channels": (lambda: _tikz().placement_figure(ConvSpec((4,), 1, in_channels=2**20)),
                                        ConvSpecError, "in_channels", r"1,048,576 entries, above 65,536"),
    "sparsity kernel of 10**6 taps": (lambda: _tikz().sparsity_figure(ConvSpec((3000, 3000), 1000)), ConvSpecError,
                                      "kernel_size", r"1,000,000 taps"),
    "sparsity beyond 64-bit indices": (lambda: _tikz().sparsity_figure(ConvSpec((2**31, 2**31), 1, in_channels=4)),
                                       MemoryGuardError, None, r"64-bit sparse indices"),
    "figure width text": (lambda: _tikz().sparsity_figure(SPEC, width="wide"), ConvSpecTypeError, "width",
                          r"width='wide' must be a number of points"),
    "to_latex strings": (lambda: _to_latex(np.array(["a"])), ConvSpecTypeError, None, r"dtype <U1"),
    "to_latex object strings": (lambda: _to_latex(np.array(["a", 1], dtype=object)), ConvSpecTypeError, None,
                                r"an entry is 'a' \(str\)"),
    "to_latex object None": (lambda: _to_latex(np.array([[None]])), ConvSpecTypeError, None, r"an entry is None"),
    "operator broadcast weight of 2**40": (
        lambda: tm.conv_operator(ConvSpec((4,), 1, in_channels=2**20, out_channels=2**20),
                                 np.broadcast_to(1.0, (2**20, 2**20, 1))),
        MemoryGuardError, None, r"conv_operator's copy of the weight \(1048576, 1048576, 1\) would need"),
}


def _tikz():
    from transpose_matrix.render import tikz

    return tikz


def _to_latex(obj):
    from transpose_matrix.render import to_latex

    return to_latex(obj)


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
    with pytest.raises(tm.MissingDependencyError,
                       match=r'^verify\(use_torch=True\) needs PyTorch: pip install "transpose_matrix\[torch\]"$'):
        tm.verify(ConvSpec((4,), 2), use_torch=True)


# Every optional feature, with its package hidden: (call, package hidden, the one line it prints).
MISSING_EXTRAS = {
    "animation": (lambda: tm.animate(ConvSpec((4, 4), 3)).to_bytes("gif"), "PIL",
                  'drawing animations needs Pillow: pip install "transpose_matrix[plot]"'),
    "plot": (lambda: tm.plot_coverage(ConvSpec((4, 4), 3)), "matplotlib",
             'plotting needs matplotlib: pip install "transpose_matrix[plot]"'),
    "torch backend": (lambda: tm.conv_operator(ConvSpec((4,), 2), np.ones((1, 1, 2)), backend="torch"), "torch",
                      'backend=\'torch\' needs PyTorch: pip install "transpose_matrix[torch]"'),
    "torch modules": (lambda: tm.module_matrix(object(), (1, 4, 4)), "torch",
                      'reading torch modules needs PyTorch: pip install "transpose_matrix[torch]"'),
}


@pytest.mark.parametrize("case", MISSING_EXTRAS)
def test_missing_extras_say_how_to_install_them(case, monkeypatch):
    import sys

    call, package, line = MISSING_EXTRAS[case]
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, package, None)  # import now fails
    with pytest.raises(tm.MissingDependencyError) as caught:
        call()
    assert str(caught.value) == line
    assert isinstance(caught.value, ImportError) and caught.value.field is None


def test_cli_prints_the_install_hint_alone(monkeypatch, capsys):
    import sys

    from transpose_matrix.cli import main

    for name in [name for name in sys.modules if name == "PIL" or name.startswith("PIL.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "PIL", None)
    assert main(["animate", "--out", "never.gif"]) == 2
    err = capsys.readouterr().err
    assert err == 'transpose_matrix: error: drawing animations needs Pillow: pip install "transpose_matrix[plot]"\n'


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
DERIVE = "__import__('transpose_matrix.narrative.derivation').narrative.derivation.output_size_derivation"
TIKZ = "__import__('transpose_matrix.render.tikz').render.tikz"
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
    "symbol vector of 10**18": ("tm.matrices.symbolic_vector('x', 10**9, (10**9,))", "MemoryGuardError", None),
    "patch matrix of 10**9": ("tm.patch_matrix(ConvSpec((10**9,), 3), np.ones((1, 10**3)))", "MemoryGuardError", None),
    "symbolic patch matrix 56x56x64": ("tm.patch_matrix(ConvSpec((56, 56), 3, padding=1, in_channels=64, "
                                       "out_channels=64))", "MemoryGuardError", None),
    "loop reference of 10**12": (f"tm.matrices.reference_conv_matrix(ConvSpec((10**12,), 3), {W3})", "MemoryGuardError", None),
    "verify loop reference of 10**7": ("tm.verify(ConvSpec((10**7,), 3), use_torch=False)", "MemoryGuardError", None),
    "verify vectors of 10**18": ("tm.verify(ConvSpec((10**18,), 1, stride=10**18))", "MemoryGuardError", None),
    "random weight of 2**80 entries": ("__import__('transpose_matrix.analysis.verification').analysis.verification.random_weight(ConvSpec((4,), 1, in_channels=2**40, "
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
    "solve stride 2**60, printed": ("len(tm.analysis.format_solutions(tm.solve_sizes(1, 3, stride=2**60)))", "returned", None),
    "solve kernel range 10**18": ("tm.solve_sizes(8, 16, kernel_sizes=range(1, 10**18))", "ConvSpecError", "kernel_size"),
    "ConvSpec of 5000 digits": ("ConvSpec((4,), 3, stride=10**5000 - 1)", "ConvSpecError", "stride"),
    # 10**12 + 8 placements read 3 entries each, except the two whose taps
    # straddle an edge symmetrically ([-1, 0, 1] reads x1, x0, x1): 2 each.
    "nnz of reflect 10**12, padding 5": ("tm.conv_matrix_nnz(ConvSpec((10**12,), 3, padding=5, "
                                         "padding_mode='reflect')) == 3 * (10**12 + 8) - 2", "returned", None),
    "nnz of circular 10**12 squared": ("tm.conv_matrix_nnz(ConvSpec((10**12,) * 2, 3, padding=1, "
                                       "padding_mode='circular')) > 0", "returned", None),
    "nnz of replicate padding 10**11": ("tm.conv_matrix_nnz(ConvSpec((10**12,), 3, padding=10**11, "
                                        "padding_mode='replicate'))", "MemoryGuardError", None),
    "size derivation of 10**12": (f"{DERIVE}(ConvSpec((10**12,), 3)).all_checks_passed", "returned", None),
    "size derivation stride 2**60": (f"{DERIVE}(ConvSpec((2**60,), 3, stride=2**60)).all_checks_passed",
                                     "returned", None),
    "size derivation dilation 10**9": (f"{DERIVE}(ConvSpec((10**12, 10**11), 3, stride=(1000, 10**6), "
                                       "dilation=(10**8, 1), padding=3)).all_checks_passed", "returned", None),
    "placement figure of 10**12": (f"len({TIKZ}.placement_figure(ConvSpec((10**12,), 3), 5))", "returned", None),
    "sparsity figure of 2**40 groups": (f"len({TIKZ}.sparsity_figure(ConvSpec((4,), 1, in_channels=2**40, "
                                        "out_channels=2**40, groups=2**40)))", "returned", None),
    "operator of 10**12": (f"tm.conv_operator(ConvSpec((10**12,), 3), {W3}).shape", "returned", None),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", PATHOLOGICAL)
def test_pathological_sizes_are_answered_fast_in_bounded_memory(case):
    expression, outcome, field = PATHOLOGICAL[case]
    report = library_call(expression, timeout=2 * CHILD_SECONDS)
    limited = report["limited"]
    assert report["outcome"] != "died", limited.describe()
    if outcome == "returned":
        assert report["outcome"] == "returned", report
        assert report["repr"] != "False", report
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


# ================================================================= the command line
# Every CLI vector asserts the exit status, exactly one stderr line naming
# the option (none on success), no traceback, and bounded time and traced
# memory. Parsing vectors run in-process (they fail before any work);
# pathological sizes run in batches in children under RLIMIT_AS
# (tests/limits.py), each vector with its own deadline.

IN_PROCESS_SECONDS = 10  # generous: the first call of a command imports its modules
IN_PROCESS_PEAK = 64 * 2**20  # traced bytes
CHILD_VECTOR_SECONDS = 30  # a regressed guard runs for minutes; tracemalloc slows sympy 3x
CHILD_VECTOR_PEAK = 256 * 2**20
CHILD_BATCH_RSS = 3 * 2**30 // 2

GEOMETRY_COMMANDS = {
    "show": ["show"],
    "export": ["export"],
    "verify": ["verify", "--no-torch"],
    "figure sparsity": ["figure", "sparsity"],
    "figure placement": ["figure", "placement"],
    "animate": ["animate", "--out", "x.gif"],
    "html": ["html"],
}
GEOMETRY_OPTIONS = ("--input", "--kernel", "--stride", "--padding", "--dilation", "--in-channels",
                    "--out-channels", "--groups", "--output-padding")
# Text no numeric option accepts, and what the message must say about it.
BAD_NUMBERS = {
    "10**30": (str(10**30), r"<a 31-digit integer>"),
    "2**63": (str(2**63), r"9223372036854775808"),
    "5000 digits": ("9" * 5000, r"<a 5000-digit integer>"),
    "minus 5000 digits": ("-" + "9" * 5000, r"-<a 5000-digit integer>"),
    "arabic-indic digit": ("٣", r"ASCII digits 0-9"),
    "full-width digit": ("３", r"ASCII digits 0-9"),
    "devanagari digits": ("३४", r"ASCII digits 0-9"),
    "bold digit": ("𝟑", r"ASCII digits 0-9"),
    "negative": ("-1", r"'-1' is not allowed"),
    "float": ("2.5", r"'2.5' is not allowed"),
    "exponent": ("1e3", r"'1e3' is not allowed"),
    "empty": ("", r"'' is not allowed"),
    "blank": ("  ", r"'  ' is not allowed"),
    "garbage": ("abc", r"'abc' is not allowed"),
    "plus sign": ("+3", r"'\+3' is not allowed"),
    "underscore": ("1_0", r"'1_0' is not allowed"),
    "nul byte": ("3\x00", r"'3\\x00' is not allowed"),
}
# The classes every other command is also swept with (show takes them all).
CORE_KINDS = ("10**30", "5000 digits", "arabic-indic digit", "full-width digit", "negative", "float", "empty",
              "garbage")
# Too many entries for the option (the default input is 2-D).
WRONG_COUNT = {
    "--input": ("4x4x4x4", r"'4x4x4x4' is not allowed"),
    "--in-channels": ("2x2", r"'2x2' is not allowed"),
    "--out-channels": ("2x2", r"'2x2' is not allowed"),
    "--groups": ("1,1", r"'1,1' is not allowed"),
}

# name: (argv, exit status, option the stderr line names or None, pattern or None)
CLI_VECTORS: dict[str, tuple[list[str], int, str | None, str | None]] = {}


def _vector(name, argv, option, pattern=None, status=2):
    assert name not in CLI_VECTORS, name
    CLI_VECTORS[name] = (argv, status, option, pattern)


for _command, _argv in GEOMETRY_COMMANDS.items():
    _kinds_swept = BAD_NUMBERS if _command == "show" else {k: BAD_NUMBERS[k] for k in CORE_KINDS}
    for _option in GEOMETRY_OPTIONS:
        _extra = ["--transposed"] if _option == "--output-padding" else []
        for _kind, (_text, _pattern) in {**_kinds_swept, "wrong count": WRONG_COUNT.get(
                _option, ("1x1x1", r"must have 2 entries"))}.items():
            _vector(f"{_command} {_option} {_kind}", [*_argv, *_extra, _option, _text], _option, _pattern)
    for _kind, (_text, _pattern) in _kinds_swept.items():
        if _kind == "2**63":  # a seed may be that large (numpy takes it)
            continue
        if _kind == "10**30":  # a seed may be that long too: one past 2**128 - 1 is refused
            _kind, _text, _pattern = "2**128", str(2**128), r"<= 2\*\*128 - 1"
        if _command in ("show", "export", "verify", "animate"):
            _vector(f"{_command} --seed {_kind}", [*_argv, "--numeric", "--seed", _text]
                    if _command != "verify" else [*_argv, "--seed", _text], "--seed", _pattern)
for _kind, (_text, _pattern) in {**BAD_NUMBERS, "wrong count": ("1x1x1", r"output_index")}.items():
    _vector(f"figure --index {_kind}", ["figure", "placement", "--index", _text], "--index", _pattern)
for _kind, (_text, _pattern) in BAD_NUMBERS.items():
    _vector(f"animate --duration {_kind}", ["animate", "--out", "x.gif", "--duration", _text], "--duration",
            _pattern)
    _vector(f"solve n {_kind}", ["solve", _text, "8"], "n", _pattern)
    _vector(f"solve m {_kind}", ["solve", "8", _text], "m", _pattern)
    for _option in ("--kernel", "--stride", "--padding", "--dilation", "--output-padding"):
        _vector(f"solve {_option} {_kind}", ["solve", "8", "16", _option, _text], _option, _pattern)

# Rules each command checks after parsing.
for _name, _args in {
    "kernel too big": (["show", "--kernel", "5"], "--kernel", r"dilated kernel size 5 .* exceeds padded input size 4"),
    "dilation too big": (["show", "--dilation", "3"], "--dilation", r"dilated kernel size 7 \(kernel_size=3, dilation=3\)"),
    "crop too much": (["show", "--padding", "0:-2"], "--padding", r"exceeds padded input size 2"),
    "dilated kernel too wide anyway": (["show", "--kernel", "5", "--dilation", "2"], "--kernel", r"dilated kernel size 9 .* exceeds padded input size 4"),
    "1-D crop too much": (["show", "--input", "4", "--padding", "0:-2"], "--padding", r"exceeds padded input size 2"),
    "crop a huge amount": (["show", "--padding", "0:-" + "9" * 5000], "--padding", r">= -2\*\*60"),
    "groups": (["show", "--groups", "2", "--in-channels", "3"], "--groups", r"groups=2 must divide in_channels=3"),
    "groups out": (["show", "--groups", "2", "--in-channels", "2", "--out-channels", "3"], "--groups",
                   r"groups=2 must divide out_channels=3"),
    "zero channels": (["show", "--in-channels", "0"], "--in-channels", r"'0' is not allowed; give a single integer >= 1"),
    "zero stride": (["show", "--stride", "0"], "--stride", r"every entry must be >= 1"),
    "zero input": (["show", "--input", "0x4"], "--input", r"every entry must be >= 1"),
    "stride 10**30": (["show", "--stride", str(10**30)], "--stride", r"<= 2\*\*60"),
    "input 2**60 + 1": (["show", "--input", str(2**60 + 1)], "--input", r"<= 2\*\*60"),
    "output padding alone": (["show", "--output-padding", "1"], "--output-padding", r"only allowed with --transposed"),
    "output padding too big": (["show", "--transposed", "--stride", "2", "--output-padding", "2"], "--output-padding",
                               r"output_padding=2 must be smaller than either stride=2"),
    "transposed pair padding": (["show", "--transposed", "--padding", "1:0"], "--padding",
                                r"not allowed with --transposed"),
    "transposed output not positive": (["show", "--transposed", "--input", "1", "--kernel", "1", "--padding", "1"],
                                       "--padding", r"must be positive"),
    "format": (["show", "--format", "pdf"], "--format", r"invalid choice: 'pdf'"),
    "unknown option": (["show", "--bogus"], "unrecognized arguments", r"--bogus; see"),
    "unknown command": (["nope"], "invalid choice", r"'nope'"),
    "figure kind missing": (["figure"], "the following arguments are required", r"kind"),
    "figure kind wrong": (["figure", "pie"], "kind", r"invalid choice: 'pie'"),
    "figure 3-D": (["figure", "sparsity", "--input", "3x3x3", "--kernel", "2"], "--input", r"1-D and 2-D"),
    "figure index out of range": (["figure", "placement", "--index", "99"], "--index", r"output_index=99 must be a row"),
    "figure index beyond the output": (["figure", "placement", "--index", "5,5"], "--index", r"position in the output"),
    "figure kernel of 1,600 taps": (["figure", "sparsity", "--input", "64x64", "--kernel", "40"], "--kernel",
                                    r"1,600 taps, above 1,024"),
    "export figures of 1,600 taps": (["export", "--input", "64x64", "--kernel", "40"], "--kernel", r"--no-figures"),
    "export beamer derivations": (["export", "--beamer", "--derivations"], "--derivations", r"not available"),
    # 6 × 6 outputs by 8 × 8 inputs: C has 36 × 64 = 2,304 cells.
    "export derivations of 8x8": (["export", "--derivations", "--input", "8x8"], "--derivations",
                                  r"this C has 36 × 64 = 2,304; give a smaller --input"),
    "solve missing m": (["solve", "4"], "the following arguments are required", r"m"),
    "solve zero": (["solve", "0", "4"], "n", r"'0' is not allowed; give a single integer >= 1"),
    "solve output padding below zero": (["solve", "4", "8", "--output-padding", "-1"], "--output-padding", r">= 0"),
    "verify huge": (["verify", "--input", "4096x4096", "--in-channels", "512", "--out-channels", "512"], "--input",
                    r"too large for verify: C \(conv_matrix\) .* would need .*GiB|TiB"),
    "verify seed negative": (["verify", "--seed", "-1"], "--seed", r"give a single integer >= 0"),
    "html too big": (["html", "--input", "100"], "--input", r"up to 64 cells a side"),
    "animate without out": (["animate"], "--out", r"give the file to write"),
    "animate unknown extension": (["animate", "--out", "x.bmp"], "--out", r"cannot tell the format .* or give --format"),
    "animate fragment gif": (["animate", "--fragment", "--out", "x.gif"], "--fragment", r"only with beamer"),
    "animate gather transposed": (["animate", "--transposed", "--view", "gather", "--out", "x.gif"], "--view",
                                  r"'gather' is not allowed with --transposed"),
    "animate preset geometry": (["animate", "--preset", "no_padding_no_strides", "--input", "5", "--out", "x.gif"],
                                "--input", r"not allowed with --preset"),
    "animate duration short": (["animate", "--duration", "9", "--out", "x.gif"], "--duration", r">= 10"),
    "animate duration long": (["animate", "--duration", "10001", "--out", "x.gif"], "--duration", r"<= 10000"),
    "show full of 360,000 cells": (["show", "--full", "--input", "600", "--kernel", "1"], "--full", r"360,000 cells"),
    "show json too many": (["show", "--format", "json", "--input", "400x400"], "--format",
                           r"this C has 1,425,636, above the limit of 100,000"),  # 398² outputs × 9 taps
    "padding Same": (["show", "--padding", "Same"], "--padding", r"'Same' is not allowed; give same or valid"),
    "padding same transposed": (["show", "--transposed", "--padding", "same"], "--padding",
                                r"not allowed with --transposed"),
    "padding mode transposed": (["show", "--transposed", "--padding", "1", "--padding-mode", "reflect"],
                                "--padding-mode", r"pads with zeros only"),
    "padding mode unknown": (["show", "--padding-mode", "edge"], "--padding-mode", r"invalid choice: 'edge'"),
    "padding mode placement": (["figure", "placement", "--padding", "1", "--padding-mode", "circular"],
                               "--padding-mode", r"draws zero padding only"),
    "padding mode html": (["html", "--padding", "1", "--padding-mode", "replicate"], "--padding-mode",
                          r"draws zero padding only"),
    "export derivations with a mode": (["export", "--derivations", "--padding", "1", "--padding-mode", "reflect"],
                                       "--derivations", r"not available with --padding-mode reflect"),
    "show channels beyond 64-bit indices": (["show", "--input", "2097152x2097152x2097152", "--kernel", "1"],
                                            "--input", r"too large for show: C has more rows or columns"),
}.items():
    _vector(_name, *_args)

# Documented successes that bad-input sweeps once broke.
_vector("verify cropped to the kernel", ["verify", "--input", "1", "--kernel", "1", "--padding", "2:-2", "--no-torch"],
        None, r"all checks passed", status=0)
_vector("verify no torch says so", ["verify", "--no-torch"], None,
        r"referee: reference loop builder \(by request, instead of torch\)", status=0)
# Padded (0, 0) after cropping x0 away: the one tap reads padding, C holds nothing.
_vector("show padding 2:-2", ["show", "--input", "1", "--kernel", "1", "--padding", "2:-2"], None,
        r"C: 1 × 1, 0 stored entries", status=0)
_vector("solve finds nothing", ["solve", "8", "16", "--stride", "1000000"], None,
        r"no ConvTranspose layer takes 8 to 16", status=1)
_vector("surrounding blanks", ["show", "--input", " 4x4 ", "--seed", " 3 ", "--numeric"], None, r"seed 3", status=0)
_vector("leading zeros", ["show", "--stride", "0002", "--input", "005"], None, r"output y: 1 × 2", status=0)


def _run_in_process(argv, capsys):
    """``main(argv)`` with its time and traced peak memory; (status, out, err, seconds, peak)."""
    import time
    import tracemalloc

    from transpose_matrix.cli import main

    tracemalloc.start()
    start = time.monotonic()
    try:
        status = main(argv)
    finally:
        seconds = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    captured = capsys.readouterr()
    return status, captured.out, captured.err, seconds, peak


def _check_error_line(err, option, pattern, context):
    assert err.count("\n") == 1 and err.endswith("\n"), (context, err)
    assert "Traceback" not in err and len(err) < 500, (context, err)
    assert err.startswith("transpose_matrix: error: "), (context, err)
    assert option in err, (context, option, err)
    if pattern is not None:
        assert re.search(pattern, err), (context, pattern, err)


def test_the_cli_table_is_large_and_covers_every_class():
    assert len(CLI_VECTORS) + len(OUT_VECTORS) + len(PATHOLOGICAL_CLI) >= 300
    kinds = " ".join(CLI_VECTORS)
    for kind in (*BAD_NUMBERS, "wrong count"):
        assert kind in kinds
    for command in ("show", "export", "verify", "figure", "animate", "html", "solve"):
        assert any(argv[0] == command for argv, *_ in CLI_VECTORS.values()), command
    for option in (*GEOMETRY_OPTIONS, "--seed", "--index", "--duration", "n", "m"):
        assert any(expected == option for _, _, expected, _ in CLI_VECTORS.values()), option


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """One empty folder for the in-process vectors (a refused command writes nothing)."""
    return tmp_path_factory.mktemp("cli")


@pytest.mark.slow
@pytest.mark.parametrize("case", CLI_VECTORS)
def test_cli_vector(case, capsys, workdir, monkeypatch):
    argv, status, option, pattern = CLI_VECTORS[case]
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("COLUMNS", "100")
    got, out, err, seconds, peak = _run_in_process(argv, capsys)
    assert got == status, (case, got, err)
    if status == 2:
        assert out == ""
        _check_error_line(err, option, pattern, case)
        assert os.listdir(workdir) == [], "a refused command wrote something"
    else:
        assert err == "" and re.search(pattern, out), (case, err, out[:500])
    assert seconds < IN_PROCESS_SECONDS, (case, seconds)
    assert peak < IN_PROCESS_PEAK, (case, peak)


def test_json_lists_up_to_its_limit_and_refuses_past_it(capsys, monkeypatch):
    import json

    import transpose_matrix.cli as cli

    # A 1-D input of 12 and kernel 3: 10 outputs × 3 taps = 30 stored entries.
    monkeypatch.setattr(cli.show, "MAX_JSON_ENTRIES", 30)
    assert cli.main(["show", "--format", "json", "--input", "12"]) == 0
    assert len(json.loads(capsys.readouterr().out)["entries"]) == 30
    assert cli.main(["show", "--format", "json", "--input", "13"]) == 2
    assert "this C has 33, above the limit of 30" in capsys.readouterr().err
    assert MAX_JSON_ENTRIES == 100_000  # what --help and the README state


def test_full_prints_up_to_its_limit_and_refuses_past_it(capsys, monkeypatch):
    import transpose_matrix.cli as cli

    # Input 10, kernel 3: C is 8 × 10 = 80 cells.
    monkeypatch.setattr(cli.show, "MAX_FULL_CELLS", 80)
    assert cli.main(["show", "--full", "--input", "10"]) == 0
    assert "x₉" in capsys.readouterr().out
    assert cli.main(["show", "--full", "--input", "11"]) == 2
    assert "9 × 11 = 99 cells, above the limit of 80" in capsys.readouterr().err


def test_animations_are_refused_by_cells_and_pixels_before_drawing(capsys, monkeypatch, tmp_path):
    import transpose_matrix.cli as cli

    # Input 3, kernel 2: 2 frames (one per output) over C's 2 rows + 3 columns.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli.animate, "MAX_ANIMATION_CELLS", 9)
    assert cli.main(["animate", "--input", "3", "--kernel", "2", "--out", "x.gif"]) == 2
    assert "2 frames of at least 5 cells each, above the limit of 9 cells" in capsys.readouterr().err
    monkeypatch.setattr(cli.animate, "MAX_ANIMATION_CELLS", 10)
    monkeypatch.setattr(cli.animate, "MAX_ANIMATION_PIXELS", 1000)
    assert cli.main(["animate", "--input", "3", "--kernel", "2", "--out", "x.gif"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"--input: the GIF would draw 2 frames of [\d,]+ × [\d,]+ pixels", err), err
    assert os.listdir(tmp_path) == []
    monkeypatch.setattr(cli.animate, "MAX_ANIMATION_PIXELS", 2**26)
    assert cli.main(["animate", "--input", "3", "--kernel", "2", "--out", "x.gif"]) == 0
    assert capsys.readouterr().err.startswith("x.gif: 2 frames, GIF, ")  # a summary: stdout is no file
    assert (tmp_path / "x.gif").read_bytes().startswith(b"GIF89a")


def test_huge_numbers_in_the_size_derivation_are_checked_at_the_ends():
    from transpose_matrix.narrative.derivation import (
        Grid,
        _membership_check,
        _placement_check,
        output_size_derivation,
    )

    derivation = output_size_derivation(ConvSpec((10**12,), 3, stride=1000), grid=Grid(n=4, k=2, s=2, p=1, d=1))
    assert derivation.all_checks_passed
    checks = derivation.steps[-1].checks
    # o = floor((10**12 - 3) / 1000) + 1 = 10**9 placements.
    assert "placement 999999999 ends at 999999999002, inside the padded input of length 1000000000000" in \
        checks[1].claim
    assert "the ends of the set and the sizes just outside it" in checks[2].method
    # Both checks can fail: a wrong output size is caught.
    assert not _placement_check(10**12, 3, 1000, 0, 0, 1, 10**9 + 1).passed
    assert not _membership_check((3, 1000, (0, 0), 1), 10**9, 10**12 - 997, 1000,
                                 lambda m: 10**12 - 997 <= m < 10**12 + 4).passed


@pytest.mark.slow
def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    import subprocess
    import sys

    from limits import PACKAGE_ROOT

    # 500 × 500 cells of C and of Cᵀ: megabytes, far more than a pipe holds.
    process = subprocess.Popen(
        [sys.executable, "-m", "transpose_matrix", "show", "--full", "--input", "500", "--kernel", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": PACKAGE_ROOT, "COLUMNS": "80"},
    )
    assert process.stdout.readline().startswith(b"Convolution:")
    process.stdout.close()  # the reader leaves, like `| head -1`
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""
    process.stderr.close()


def test_parsers_refuse_what_is_not_text():
    from transpose_matrix.cli import UsageError, parse_dims, parse_padding

    with pytest.raises(UsageError, match=r"^--input: 3 is not allowed; give it as text$"):
        parse_dims("--input", 3)
    with pytest.raises(UsageError, match=r"^--padding: None is not allowed; give it as text$"):
        parse_padding(None, 2)


def test_cli_turns_memory_error_into_one_line(capsys, monkeypatch):
    import dataclasses

    import transpose_matrix.cli as cli

    def exhausted(args):
        raise MemoryError

    monkeypatch.setitem(cli.COMMANDS, "show", dataclasses.replace(cli.COMMANDS["show"], run=exhausted))
    assert cli.main(["show"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "out of memory" in err and "--input" in err


def test_cli_interrupt_is_one_line_and_status_130(capsys, monkeypatch):
    import dataclasses

    import transpose_matrix.cli as cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "show", dataclasses.replace(cli.COMMANDS["show"], run=interrupted))
    assert cli.main(["show"]) == 130
    assert capsys.readouterr().err == "transpose_matrix: interrupted\n"


def test_cli_library_errors_are_named_by_field_not_by_message(capsys, monkeypatch):
    # A library error whose message names nothing is still put on the option
    # of its field; one without a field on the command's geometry.
    import dataclasses

    import transpose_matrix.cli as cli

    for error, option in ((ConvSpecError("something is off", field="stride"), "--stride"),
                          (ConvSpecError("something is off", field="padding_mode"), "--padding-mode"),
                          (ConvSpecTypeError("something is off", field="seed"), "--seed"),
                          (ConvSpecError("something is off", field="output_index"), "--index"),
                          (ConvSpecError("something is off", field="no_such_option"), "--input"),
                          (ConvSpecError("something is off"), "--input"),
                          (OutputPathError("something is off"), "--out")):
        def failing(args, error=error):
            raise error

        monkeypatch.setitem(cli.COMMANDS, "show", dataclasses.replace(cli.COMMANDS["show"], run=failing))
        assert cli.main(["show"]) == 2
        assert capsys.readouterr().err == f"transpose_matrix: error: {option}: something is off\n"
    # solve takes no geometry options: its errors without a field are the command's.
    def search_too_large(args):
        raise ConvSpecError("the search is too large")

    monkeypatch.setitem(cli.COMMANDS, "solve", dataclasses.replace(cli.COMMANDS["solve"], run=search_too_large))
    assert cli.main(["solve", "1", "2"]) == 2
    assert capsys.readouterr().err == "transpose_matrix: error: solve: the search is too large\n"


# ------------------------------------------------------------- --out for every command
OUT_COMMANDS = {
    "show": ["show"],
    "show json": ["show", "--format", "json"],
    "export": ["export", "--no-figures"],
    "export beamer": ["export", "--beamer", "--no-figures"],
    "figure": ["figure", "sparsity"],
    "html": ["html", "--input", "3", "--kernel", "2"],
    "solve": ["solve", "8", "16"],
    "animate gif": ["animate", "--input", "3", "--kernel", "2", "--format", "gif"],
    "animate apng": ["animate", "--input", "3", "--kernel", "2", "--format", "apng"],
    "animate beamer": ["animate", "--input", "3", "--kernel", "2", "--format", "beamer"],
}
ROOT = os.geteuid() == 0
BAD_OUTS = {
    "nul byte": (lambda d: str(d / "a\x00b"), r"contains a NUL byte"),
    "empty": (lambda d: "", r"output path '' is empty"),
    "directory": (lambda d: str(d), r"is a directory"),
    "missing directory": (lambda d: str(d / "no" / "such" / "f"), r"does not exist"),
    "name of 256 bytes": (lambda d: str(d / ("a" * 256)), r"256 bytes long"),
    "component of 300 bytes": (lambda d: str(d / ("é" * 150) / "f"), r"300 bytes long"),
    "path over PATH_MAX": (lambda d: str(d / "/".join(["d" * 200] * 25)), r"above the limit of 4096 bytes"),
    "socket": (lambda d: str(d / "sock"), r"is a socket"),
    "symlink loop": (lambda d: str(d / "loop"), r"Too many levels of symbolic links"),
    "dangling into nowhere": (lambda d: str(d / "dangling"), r"does not exist"),
    "block device": (lambda d: str(d / "block"), r"is a block device"),
    "full device": (lambda d: str(d / "full"), r"No space left on device"),
}
GOOD_OUTS = ("dash", "null device", "fifo", "symlink", "file of mode 0600", "dev stdout")
OUT_VECTORS = {f"{command} --out {kind}": (command, kind) for command in OUT_COMMANDS
               for kind in (*BAD_OUTS, *GOOD_OUTS)}


def _specials(folder):
    """A folder of odd targets: socket, symlink loop, dangling link, devices (as root)."""
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock"))
    (folder / "loop").symlink_to("loop")
    (folder / "dangling").symlink_to(folder / "no-such-dir" / "target")
    if ROOT:
        os.mknod(folder / "block", 0o600 | stat.S_IFBLK, os.makedev(7, 250))
        os.mknod(folder / "full", 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        os.mknod(folder / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return sock


def _kinds(folder):
    return {p.name: stat.S_IFMT(os.lstat(p).st_mode) for p in folder.iterdir()}


_REFERENCE: dict[str, bytes] = {}

#: Commands that name the file they wrote on stderr (stdout stays the document's).
SUMMARISED = ("export", "figure", "html", "animate")


def _check_summary(err, command, path, expected):
    """stderr after writing ``expected`` to ``path``: one summary line, or nothing."""
    if command.split()[0] not in SUMMARISED:
        assert err == b"", (command, err)
        return
    kib = -(-len(expected) // 1024)
    line = err.decode()
    assert line.startswith(f"{path}: ") and line.endswith(f", {kib} KB\n"), (command, line)
    assert line.count("\n") == 1, line


def _same(written, expected):
    """Equal outputs; an HTML page's element id counts pages made by this process."""
    unique = re.compile(rb"tm-([0-9a-f]{8})-[0-9]+")
    return unique.sub(rb"tm-\1", written) == unique.sub(rb"tm-\1", expected)


def _reference(command, capture, tmp_path):
    """What ``command`` writes to a new regular file: what every good --out must hold.

    Text commands write exactly what they print without ``--out``.
    """
    if command not in _REFERENCE:
        from transpose_matrix.cli import main

        target = tmp_path / "reference"
        assert main([*OUT_COMMANDS[command], "--out", str(target)]) == 0
        captured = capture.readouterr()
        _REFERENCE[command] = target.read_bytes()
        target.unlink()
        assert captured.out == b""
        _check_summary(captured.err, command, target, _REFERENCE[command])
        if not (command.startswith("animate") and "beamer" not in command):
            assert main(OUT_COMMANDS[command]) == 0
            assert _same(capture.readouterr().out, _REFERENCE[command])
    return _REFERENCE[command]


@pytest.mark.slow
@pytest.mark.parametrize("case", OUT_VECTORS)
def test_cli_out_vector(case, capfdbinary, tmp_path, monkeypatch):
    import threading
    import time
    import tracemalloc

    from transpose_matrix.cli import main

    command, kind = OUT_VECTORS[case]
    argv = OUT_COMMANDS[command]
    expected_status = 0
    folder = tmp_path / "targets"
    folder.mkdir()
    monkeypatch.chdir(folder)
    expected = _reference(command, capfdbinary, tmp_path)
    sock = _specials(folder)
    specials = _kinds(folder)
    try:
        if kind in BAD_OUTS:
            make, pattern = BAD_OUTS[kind]
            if kind in ("block device", "full device") and not ROOT:
                pytest.skip("mknod needs root")
            before = _kinds(folder)
            tracemalloc.start()
            start = time.monotonic()
            status = main([*argv, "--out", make(folder)])
            seconds, peak = time.monotonic() - start, tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            captured = capfdbinary.readouterr()
            assert status == 2 and captured.out == b"", (case, status)
            _check_error_line(captured.err.decode(), "--out", pattern, case)
            assert captured.err.decode().startswith("transpose_matrix: error: --out: ")
            assert _kinds(folder) == before, "a refused --out changed the folder"
            assert seconds < IN_PROCESS_SECONDS and peak < IN_PROCESS_PEAK, (seconds, peak)
            return
        if kind == "dash":
            assert main([*argv, "--out", "-"]) == expected_status
            captured = capfdbinary.readouterr()
            assert _same(captured.out, expected) and captured.err == b""
            assert _kinds(folder) == specials
        elif kind == "dev stdout":
            assert main([*argv, "--out", "/dev/stdout"]) == expected_status
            captured = capfdbinary.readouterr()
            assert _same(captured.out, expected) and captured.err == b""
            assert _kinds(folder) == specials
        elif kind == "null device":
            if not ROOT:
                pytest.skip("mknod needs root")
            assert main([*argv, "--out", str(folder / "null")]) == expected_status
            _check_summary(capfdbinary.readouterr().err, command, folder / "null", expected)
            assert stat.S_ISCHR(os.lstat(folder / "null").st_mode)
        elif kind == "fifo":
            os.mkfifo(folder / "pipe")
            received = []

            def read():
                with open(folder / "pipe", "rb") as pipe:
                    received.append(pipe.read())

            reader = threading.Thread(target=read)
            reader.start()
            assert main([*argv, "--out", str(folder / "pipe")]) == expected_status
            reader.join(timeout=60)
            assert len(received) == 1 and _same(received[0], expected)
            _check_summary(capfdbinary.readouterr().err, command, folder / "pipe", expected)
            assert stat.S_ISFIFO(os.lstat(folder / "pipe").st_mode)
        elif kind == "symlink":
            (folder / "real").write_bytes(b"old")
            (folder / "link").symlink_to("real")
            assert main([*argv, "--out", str(folder / "link")]) == expected_status
            _check_summary(capfdbinary.readouterr().err, command, folder / "link", expected)
            assert (folder / "link").is_symlink() and _same((folder / "real").read_bytes(), expected)
        else:  # an existing file keeps its mode
            target = folder / "private"
            target.write_bytes(b"old")
            os.chmod(target, 0o600)
            assert main([*argv, "--out", str(target)]) == expected_status
            _check_summary(capfdbinary.readouterr().err, command, target, expected)
            assert _same(target.read_bytes(), expected) and stat.S_IMODE(target.stat().st_mode) == 0o600
        leftovers = [name for name in os.listdir(folder) if name.endswith(".tmp")]
        assert leftovers == []
    finally:
        sock.close()


def test_out_nul_byte_in_process_is_a_clean_exit(capsys, tmp_path, monkeypatch):
    from transpose_matrix.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["show", "--out", "a\x00b"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "transpose_matrix: error: --out: output path 'a\\x00b' contains a NUL byte\n"
    assert os.listdir(tmp_path) == []


def test_animation_bytes_are_not_written_to_a_terminal(capsys, monkeypatch):
    import sys

    from transpose_matrix.cli import main

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert main(["animate", "--input", "3", "--kernel", "2", "--format", "gif", "--out", "-"]) == 2
    err = capsys.readouterr().err
    assert err == ("transpose_matrix: error: --out: '-' is a terminal; GIF data is not written to one: "
                   "redirect standard output or give a file name\n")


@pytest.mark.slow
@pytest.mark.parametrize("out", ["-", "/dev/stdout"])
def test_animation_bytes_are_not_written_to_a_real_terminal(out):
    # A pseudo-terminal as standard output: '-' and /dev/stdout are both it.
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "transpose_matrix", "animate", "--input", "3", "--kernel", "2",
                               "--format", "gif", "--out", out], stdout=follower, stderr=subprocess.PIPE,
                              timeout=120, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        os.set_blocking(leader, False)
        try:
            shown = os.read(leader, 1 << 16)
        except BlockingIOError:
            shown = b""
    finally:
        os.close(leader)
        os.close(follower)
    assert done.returncode == 2 and b"GIF" not in shown
    assert done.stderr.decode() == (f"transpose_matrix: error: --out: {out!r} is a terminal; GIF data is not "
                                    "written to one: redirect standard output or give a file name\n")


def test_export_with_a_padding_mode_is_not_refused_over_the_placement_figure(tmp_path, capsys):
    # The placement figure is drawn for zero padding only: 8,000 channels
    # make its row too long to draw, which must not refuse a reflect layer's
    # export, whose figures are the sparsity pattern alone.
    from transpose_matrix.cli import main

    argv = ["export", "--input", "4x4", "--in-channels", "8000", "--padding", "1", "--out", str(tmp_path / "e.tex")]
    assert main([*argv, "--padding-mode", "reflect"]) == 0
    assert main(argv) == 2 and "placement figures draw one row of C" in capsys.readouterr().err


# ---------------------------------------------- pathological sizes, batched in children
# (argv, status, option named or None, pattern on stderr (status 2) or stdout (0/1)).
G60, T40 = str(2**60), str(2**40)
PATHOLOGICAL_CLI = {
    "show 10**12": (["show", "--input", "1000000000000", "--kernel", "3"], 0, None, r"999999999998 × 1000000000000"),
    "show 2**60 stride 2**60": (["show", "--input", G60, "--kernel", "1", "--stride", G60], 0, None, r"1 stored entry,"),
    "show stored entries of 10**8": (["show", "--input", "100000000", "--kernel", "1"], 0, None,
                                     r"100000000 stored entries"),
    "show one entry of 10**8": (["show", "--input", "100000000", "--kernel", "1", "--stride", "100000000"], 0, None,
                                r"C: 1 × 100000000, 1 stored entry,"),
    "show transposed dilation 10**9": (["show", "--transposed", "--dilation", "1000000000", "--output-padding", "5"],
                                       0, None, r"output_padding"),
    "show 128x128x64": (["show", "--input", "128x128", "--in-channels", "64", "--out-channels", "64", "--padding", "1"],
                        0, None, r"Conv2d\(64, 64"),
    "show 224x224x64": (["show", "--input", "224x224", "--in-channels", "64", "--out-channels", "64", "--padding", "1"],
                        0, None, r"Conv2d\(64, 64"),
    "show latex 64x64x4": (["show", "--format", "latex", "--input", "64x64", "--in-channels", "4",
                            "--out-channels", "4"], 0, None, r"\\\["),
    "show latex 10**12": (["show", "--format", "latex", "--input", "1000000000000"], 0, None, r"\\\["),
    "show latex numeric 10**6 squared": (["show", "--format", "latex", "--numeric", "--input", "1000000x1000000",
                                          "--in-channels", "64", "--out-channels", "64"], 0, None, r"\\\["),
    "show transposed 10**12": (["show", "--transposed", "--input", "1000000000000", "--stride", "1000"], 0, None,
                               r"Transposed convolution"),
    "show 10**9 output_padding choices": (["show", "--transposed", "--input", "1000000000", "--kernel", "3", "--stride",
                                           "1000000000", "--output-padding", "999999999"], 0, None, r"…"),
    "show json of 10**8 refused": (["show", "--format", "json", "--input", "100000000", "--kernel", "1"], 2,
                                   "--format", r"above the limit of 100,000"),
    "show full of 10**12 refused": (["show", "--full", "--input", "1000000", "--kernel", "1"], 2, "--full",
                                    r"1,000,000,000,000 cells"),
    "show random weight of 2**80": (["show", "--numeric", "--input", "4", "--kernel", "1", "--in-channels", T40,
                                     "--out-channels", T40], 2, "--in-channels", r"too large for show: a random weight"),
    "show beyond 64-bit indices": (["show", "--input", "1000000x1000000", "--in-channels", T40, "--out-channels", T40],
                                   2, "--input", r"64-bit"),
    "export 10**12": (["export", "--input", "1000000000000", "--kernel", "3"], 0, None, r"\\begin\{tikzpicture\}"),
    "export derivations of 10**12": (["export", "--input", "1000000000000", "--kernel", "3", "--derivations",
                                      "--no-figures"], 2, "--derivations", r"at most 1,024 cells"),
    "export derivations stride 2**60": (["export", "--derivations", "--input", "2", "--kernel", "1", "--stride", G60,
                                         "--no-figures"], 0, None, r"numbers of one convolution"),
    "export beamer 10**12": (["export", "--beamer", "--input", "1000000000000", "--kernel", "3"], 0, None,
                             r"documentclass\{beamer\}"),
    "export transposed 10**12": (["export", "--transposed", "--input", "1000000000000", "--stride", "1000"], 0, None,
                                 r"ConvTranspose1d"),
    "export 10**6 squared x 1000": (["export", "--input", "1000000x1000000", "--in-channels", "1000",
                                     "--out-channels", "1000"], 0, None, r"tikzpicture"),
    "verify 10**12": (["verify", "--input", "1000000000000", "--kernel", "3"], 2, "--input",
                      r"too large for verify: C \(conv_matrix\)"),
    "verify loop reference 10**7": (["verify", "--no-torch", "--input", "10000000", "--kernel", "3"], 2, "--input",
                                    r"too large for verify"),
    "verify weight 2**80": (["verify", "--input", "4", "--kernel", "1", "--in-channels", T40, "--out-channels", T40],
                            2, "--in-channels", r"random weight"),
    "figure sparsity 10**12": (["figure", "sparsity", "--input", "1000000000000", "--kernel", "3"], 0, None,
                               r"tikzpicture"),
    "figure placement 10**12": (["figure", "placement", "--input", "1000000000000", "--kernel", "3", "--index", "5"],
                                0, None, r"row 5 of"),
    "figure placement last of 2**60": (["figure", "placement", "--input", G60, "--index", str(2**60 - 1), "--kernel",
                                        "1"], 0, None, rf"row {2**60 - 1} of"),
    "figure kernel 50000 squared": (["figure", "placement", "--input", "100000x100000", "--kernel", "50000"], 2,
                                    "--kernel", r"2,500,000,000 taps"),
    "figure dilation 10**9": (["figure", "placement", "--input", "3000000000", "--kernel", "3", "--dilation",
                               "1000000000"], 2, "--dilation", r"spans 2,000,000,001 cells"),
    "figure row of 2**40 channels": (["figure", "placement", "--input", "8", "--in-channels", T40, "--kernel", "3"], 2,
                                     "--in-channels", r"above 65,536"),
    "figure beyond 64-bit indices": (["figure", "placement", "--input", "1000000000x1000000000", "--out-channels",
                                      "1000000000000", "--index", "5"], 2, "--input", r"64-bit"),
    "figure sparsity 2**40 groups": (["figure", "sparsity", "--input", "4", "--kernel", "1", "--groups", T40,
                                      "--in-channels", T40, "--out-channels", T40], 0, None, r"tikzpicture"),
    "figure scatter 10**12": (["figure", "placement", "--transposed", "--input", "1000000000000", "--stride", "1000",
                               "--index", "5"], 0, None, r"column 5 of"),
    "figure 1,024 taps dilated": (["figure", "placement", "--input", "1000000x1000000", "--kernel", "32x32",
                                   "--in-channels", "64", "--padding", "100000", "--dilation", "33"], 0, None,
                                  r"tikzpicture"),
    "html 10**12": (["html", "--input", "1000000000000"], 2, "--input", r"up to 64 cells"),
    "html 2**40 channels": (["html", "--input", "8", "--in-channels", T40], 2, "--input", r"too large for html"),
    "html dilation 10**9": (["html", "--input", "3000000000", "--dilation", "1000000000", "--kernel", "3"], 2,
                            "--input", r"up to 64 cells"),
    "animate 10**12": (["animate", "--input", "1000000000000", "--out", "x.gif"], 2, "--input", r"frames"),
    "animate 2**40 channels": (["animate", "--input", "8", "--in-channels", T40, "--out", "x.gif"], 2, "--input",
                               r"cells in all"),
    "animate weight 2**80": (["animate", "--numeric", "--input", "8", "--in-channels", T40, "--out-channels", T40,
                              "--out", "x.gif"], 2, "--in-channels", r"random weight"),
    "animate transposed stride 1000": (["animate", "--transposed", "--input", "1000", "--stride", "1000", "--out",
                                        "x.gif"], 2, "--input", r"1,000 frames of at least 1,000,003 cells"),
    "animate 2048 frames of pixels": (["animate", "--input", "2048", "--kernel", "1", "--out", "x.gif"], 2, "--input",
                                      r"above the limit of 67,108,864"),
    "animate 2048 frames as beamer": (["animate", "--format", "beamer", "--input", "2048", "--kernel", "1"], 0, None,
                                      r"documentclass"),
    # The default kernel range of 2**60 sizes is refused at once, naming the option.
    "solve 2**60 to 2**60": (["solve", G60, G60], 2, "--kernel", r"the search would try more than"),
    "solve 2**60 to 2**60, kernel 1": (["solve", G60, G60, "--kernel", "1"], 0, None, r"ConvTranspose"),
    "solve stride 10**6": (["solve", "8", "16", "--stride", "1000000"], 1, None, r"no ConvTranspose layer"),
    "solve 1 to 2**60": (["solve", "1", G60, "--stride", G60, "--kernel", G60], 2, "--padding", r"more than 100,000 parameter sets"),
    "solve 1 to 2**60, padding 0": (["solve", "1", G60, "--stride", G60, "--kernel", G60, "--padding", "0"], 0, None, r"ConvTranspose"),
    # kernel 2**60 cropped by padding (2**60 - 9)/2: a legal (if useless) layer.
    "solve kernel 2**60": (["solve", "8", "16", "--kernel", G60], 0, None, r"ConvTranspose"),
    "solve dilation 2**60": (["solve", "8", "16", "--dilation", G60, "--output-padding", str(2**60 - 1)], 1, None,
                             r"no ConvTranspose"),
    "solve padding 2**60": (["solve", "8", G60, "--padding", G60, "--kernel", "3"], 2, "solve", r"would try [0-9,]+ \(kernel_size"),
}
# Batches: one child each, about ten seconds each.
BATCHES = {
    "show": [k for k in PATHOLOGICAL_CLI if k.startswith("show")],
    "export and verify": [k for k in PATHOLOGICAL_CLI if k.startswith(("export", "verify"))],
    "figure, html, animate, solve": [k for k in PATHOLOGICAL_CLI if k.startswith(("figure", "html", "animate",
                                                                                   "solve"))],
}


def test_batches_hold_every_pathological_vector():
    assert sorted(k for batch in BATCHES.values() for k in batch) == sorted(PATHOLOGICAL_CLI)


@pytest.mark.slow
@pytest.mark.parametrize("batch", BATCHES)
def test_pathological_cli_sizes_in_a_limited_child(batch, tmp_path):
    from limits import run_cli_batch

    names = BATCHES[batch]
    records, limited = run_cli_batch([PATHOLOGICAL_CLI[name][0] for name in names], cwd=tmp_path,
                                     deadline=2 * CHILD_VECTOR_SECONDS, timeout=240,
                                     env={"COLUMNS": "100"})
    assert len(records) == len(names), limited.describe()
    assert limited.max_rss < CHILD_BATCH_RSS, limited.describe()
    for name, record in zip(names, records, strict=True):
        argv, status, option, pattern = PATHOLOGICAL_CLI[name]
        assert record["crash"] is None, (name, record["crash"])
        assert record["status"] == status, (name, record)
        if status == 2:
            assert record["stdout_size"] == 0, name
            _check_error_line(record["stderr"], option, pattern, name)
        else:
            assert record["stderr"] == "", (name, record["stderr"])
            assert re.search(pattern, record["stdout"]), (name, record["stdout"][:2000])
        assert record["seconds"] < CHILD_VECTOR_SECONDS, (name, record["seconds"])
        assert record["peak"] < CHILD_VECTOR_PEAK, (name, record["peak"])


# ---------------------------------------------- the real entry point, in limited children
REAL_CLI = {
    "5000-digit stride": (["show", "--stride", "9" * 5000], 2, r"--stride: '<a 5000-digit integer>' is not allowed"),
    "arabic-indic input": (["show", "--input", "٣"], 2, r"--input: '٣' is not allowed; write numbers with ASCII"),
    "solve 5000 digits": (["solve", "9" * 5000, "8"], 2, r"^transpose_matrix: error: n: "),
    "verify crops the input away (torch)": (["verify", "--input", "1", "--kernel", "1", "--padding", "2:-2"], 0,
                                            r"referee: torch"),
    "json refused": (["show", "--format", "json", "--input", "100000000", "--kernel", "1"], 2, r"--format: json"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", REAL_CLI)
def test_real_entry_point_in_a_limited_child(case, tmp_path):
    from limits import run_cli

    argv, status, pattern = REAL_CLI[case]
    result = run_cli(argv, cwd=tmp_path, timeout=60)
    assert result.returncode == status, result.describe()
    text = result.stderr if status == 2 else result.stdout
    assert re.search(pattern, text, re.MULTILINE), result.describe()
    if status == 2:
        assert result.stdout == "" and result.stderr.count("\n") == 1, result.describe()
    else:
        assert result.stderr == "", result.describe()
    assert "Traceback" not in result.stderr
    assert result.seconds < 30 and result.max_rss < CHILD_BATCH_RSS, result.describe()


@pytest.mark.slow
def test_real_entry_point_writes_stdout_through_dash_and_dev_stdout(tmp_path):
    from limits import run_cli

    text = run_cli(["show"], cwd=tmp_path)
    for out in ("-", "/dev/stdout"):
        result = run_cli(["show", "--out", out], cwd=tmp_path)
        assert (result.returncode, result.stdout, result.stderr) == (0, text.stdout, ""), result.describe()
    gif = run_cli(["animate", "--input", "3", "--kernel", "2", "--format", "gif", "--out", "-"], cwd=tmp_path)
    assert gif.returncode == 0 and gif.stderr == "", gif.describe()
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_real_entry_point_animation_bytes_on_stdout(tmp_path):
    import subprocess
    import sys

    from limits import PACKAGE_ROOT

    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    result = subprocess.run([sys.executable, "-m", "transpose_matrix", "animate", "--input", "3", "--kernel", "2",
                             "--format", "gif", "--out", "-"], capture_output=True, cwd=tmp_path, env=env,
                            timeout=60, check=False)
    assert result.returncode == 0 and result.stderr == b""
    assert result.stdout.startswith(b"GIF89a") and result.stdout.endswith(b";")
    target = tmp_path / "x.gif"
    assert subprocess.run([sys.executable, "-m", "transpose_matrix", "animate", "--input", "3", "--kernel", "2",
                           "--out", str(target)], capture_output=True, cwd=tmp_path, env=env, timeout=60,
                          check=False).returncode == 0
    assert target.read_bytes() == result.stdout
