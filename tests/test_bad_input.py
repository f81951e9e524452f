"""Every mistake a learner can make gets a clear error naming parameter, value and rule.

Library rows call the public API; each expects a ConvSpecError (a ValueError)
or a ConvSpecTypeError (also a TypeError) whose message matches.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

import transpose_matrix as tm
from transpose_matrix import ConvSpec, ConvSpecError, ConvSpecTypeError

SPEC = ConvSpec((4, 4), 3, in_channels=2, out_channels=2)
GOOD_W = np.ones(SPEC.weight_shape)


def _nan_weight():
    w = GOOD_W.copy()
    w[0, 0, 0, 0] = math.nan
    return w


def _inf_weight():
    w = GOOD_W.copy()
    w[1, 1, 2, 2] = -math.inf
    return w


LIBRARY_CASES = {
    # ConvSpec fields
    "negative size": (lambda: ConvSpec((4, -1), 3), ConvSpecError, r"input_shape\[1\]=-1 must be >= 1"),
    "zero size": (lambda: ConvSpec(0, 1), ConvSpecError, r"input_shape\[0\]=0 must be >= 1"),
    "zero kernel": (lambda: ConvSpec((4,), 0), ConvSpecError, r"kernel_size=0 must be >= 1"),
    "float kernel": (lambda: ConvSpec((4,), 2.5), ConvSpecTypeError, r"kernel_size=2.5 must be an integer"),
    "bool stride": (lambda: ConvSpec((4,), 2, stride=True), ConvSpecTypeError, r"stride=True .*bool"),
    "string dilation": (lambda: ConvSpec((4,), 2, dilation="3"), ConvSpecTypeError,
                        r"dilation='3' must be an integer"),
    "float size": (lambda: ConvSpec((4.0, 4), 2), ConvSpecTypeError, r"input_shape\[0\]=4.0"),
    "zero stride": (lambda: ConvSpec((4,), 2, stride=0), ConvSpecError, r"stride=0 must be >= 1"),
    "zero dilation": (lambda: ConvSpec((4,), 2, dilation=0), ConvSpecError, r"dilation=0 must be >= 1"),
    "negative padding": (lambda: ConvSpec((4,), 2, padding=-2), ConvSpecError, r"padding=-2 must be >= 0"),
    "negative before": (lambda: ConvSpec((4,), 2, padding=[(-1, 1)]), ConvSpecError, r"before=-1"),
    "padding triple": (lambda: ConvSpec((4,), 2, padding=[(1, 1, 1)]), ConvSpecError,
                       r"\(before, after\) pair"),
    "padding string": (lambda: ConvSpec((4,), 3, padding="full"), ConvSpecTypeError, r"'full' must be 'same', 'valid'"),
    "padding same strided": (lambda: ConvSpec((4,), 3, stride=2, padding="same"), ConvSpecError,
                             r"padding='same' needs stride 1"),
    "padding mode": (lambda: ConvSpec((4,), 3, padding_mode="edge"), ConvSpecError, r"padding_mode='edge'"),
    "padding mode type": (lambda: ConvSpec((4,), 3, padding_mode=1), ConvSpecTypeError, r"padding_mode=1 must be a string"),
    "reflect too wide": (lambda: ConvSpec((2,), 3, padding=2, padding_mode="reflect"), ConvSpecError,
                         r"padding_mode='reflect' needs padding < input size"),
    "circular too wide": (lambda: ConvSpec((2,), 3, padding=3, padding_mode="circular"), ConvSpecError,
                          r"padding_mode='circular' needs padding <= input size"),
    "mode crop": (lambda: ConvSpec((4,), 3, padding=[(1, -1)], padding_mode="replicate"), ConvSpecError,
                  r"only padding_mode='zeros' crops"),
    "kernel too big": (lambda: ConvSpec((4, 4), 5), ConvSpecError, r"dim 0: dilated kernel size 5"),
    "dilated kernel too big": (lambda: ConvSpec((6,), 3, dilation=3), ConvSpecError,
                               r"dilated kernel size 7 .* exceeds padded input size 6"),
    "crop too much": (lambda: ConvSpec((4,), 3, padding=[(0, -2)]), ConvSpecError, r"exceeds padded"),
    "groups in": (lambda: ConvSpec((4,), 1, in_channels=3, out_channels=2, groups=2), ConvSpecError,
                  r"groups=2 must divide in_channels=3"),
    "groups out": (lambda: ConvSpec((4,), 1, in_channels=2, out_channels=3, groups=2), ConvSpecError,
                   r"groups=2 must divide out_channels=3"),
    "zero groups": (lambda: ConvSpec((4,), 1, groups=0), ConvSpecError, r"groups=0 must be >= 1"),
    "zero channels": (lambda: ConvSpec((4,), 1, in_channels=0), ConvSpecError, r"in_channels=0"),
    "four dims": (lambda: ConvSpec((2, 2, 2, 2), 1), ConvSpecError, r"1 to 3 spatial dims, got 4"),
    "no dims": (lambda: ConvSpec((), 1), ConvSpecError, r"1 to 3 spatial dims, got 0"),
    "kernel dims mismatch": (lambda: ConvSpec((4, 4), (2, 2, 2)), ConvSpecError,
                             r"kernel_size=\(2, 2, 2\) must have 2 entries"),
    "stride dims mismatch": (lambda: ConvSpec((4, 4), 2, stride=(1,)), ConvSpecError,
                             r"stride=\(1,\) must have 2 entries"),
    "shape string": (lambda: ConvSpec("4x4", 3), ConvSpecTypeError, r"input_shape='4x4'"),
    "shape none": (lambda: ConvSpec(None, 3), ConvSpecTypeError, r"input_shape=None"),
    # from_transposed
    "output_padding too big": (
        lambda: ConvSpec.from_transposed((3,), 1, 1, 3, stride=2, output_padding=2), ConvSpecError,
        r"output_padding=2 must be smaller than either stride=2 or dilation=1"),
    "negative output_padding": (
        lambda: ConvSpec.from_transposed((3,), 1, 1, 3, stride=2, output_padding=-1), ConvSpecError,
        r"output_padding=-1 must be >= 0"),
    "transposed nonpositive": (
        lambda: ConvSpec.from_transposed((1,), 1, 1, 1, padding=1), ConvSpecError,
        r"transposed output size -1 must be positive"),
    "transposed groups": (
        lambda: ConvSpec.from_transposed((3,), 3, 2, 1, groups=2), ConvSpecError, r"groups=2 must divide"),
    "transposed float": (
        lambda: ConvSpec.from_transposed((3,), 1, 1, 1.5), ConvSpecTypeError, r"kernel_size=1.5"),
    # weights
    "weight shape": (lambda: tm.conv_matrix(SPEC, np.ones((2, 2, 3))), ConvSpecError,
                     r"weight shape \(2, 2, 3\) must be .* = \(2, 2, 3, 3\)"),
    "weight transposed layout": (lambda: tm.conv_matrix(ConvSpec((4,), 3, in_channels=2), np.ones((2, 1, 3))),
                                 ConvSpecError, r"weight shape \(2, 1, 3\) must be"),
    "weight dtype bool": (lambda: tm.conv_matrix(SPEC, GOOD_W.astype(bool)), ConvSpecTypeError,
                          r"weight dtype bool must be one of"),
    "weight dtype object": (lambda: tm.conv_matrix(SPEC, GOOD_W.astype(object)), ConvSpecTypeError,
                            r"weight dtype object"),
    "weight dtype float16": (lambda: tm.conv_matrix(SPEC, GOOD_W.astype(np.float16)), ConvSpecTypeError,
                             r"weight dtype float16"),
    "weight nan": (lambda: tm.conv_matrix(SPEC, _nan_weight()), ConvSpecError, r"NaN or infinite"),
    "weight inf": (lambda: tm.transposed_conv_matrix(SPEC, _inf_weight()), ConvSpecError, r"NaN or infinite"),
    "weight strings": (lambda: tm.conv_matrix(SPEC, [["a"]]), ConvSpecTypeError, r"weight dtype"),
    "spec not a spec": (lambda: tm.conv_matrix((4, 4), GOOD_W), ConvSpecTypeError, r"must be a ConvSpec"),
    # size formulas
    "size float": (lambda: tm.conv_output_size(4.5, 3), ConvSpecTypeError, r"n=4.5 must be an integer"),
    "size zero": (lambda: tm.conv_output_size(0, 1), ConvSpecError, r"n=0 must be >= 1"),
    "size kernel too big": (lambda: tm.conv_output_size(4, 3, dilation=2), ConvSpecError,
                            r"dilated kernel size 5"),
    "size pad string": (lambda: tm.conv_output_size(4, 3, padding="same"), ConvSpecTypeError,
                        r"padding strings"),
    "size pad triple": (lambda: tm.conv_output_size(4, 3, padding=(1, 1, 1)), ConvSpecError,
                        r"\(before, after\) pair"),
    "size output_padding": (lambda: tm.transposed_conv_output_size(3, 3, 2, output_padding=2),
                            ConvSpecError, r"output_padding=2 must be smaller"),
    "size transposed negative": (lambda: tm.transposed_conv_output_size(1, 1, padding=2), ConvSpecError,
                                 r"must be positive"),
    "size symbolic rational": (lambda: tm.conv_output_size(sympy.Rational(1, 2), 3), ConvSpecTypeError,
                               r"n=1/2 must be an integer"),
    "verify complex": (lambda: tm.verify(ConvSpec((4,), 2), np.ones((1, 1, 2), complex)), TypeError,
                       r"real weights"),
}


@pytest.mark.parametrize("case", LIBRARY_CASES)
def test_library_rejects_bad_input(case):
    call, error, match = LIBRARY_CASES[case]
    with pytest.raises(error, match=match):
        call()


def test_every_library_error_is_a_value_or_type_error():
    for call, _, _ in LIBRARY_CASES.values():
        with pytest.raises((ValueError, TypeError)):
            call()


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
    "padding same": (["show", "--padding", "same"], r"--padding: 'same' is not allowed"),
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
