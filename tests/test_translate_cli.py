"""``python -m transpose_matrix translate``: the report, its JSON, and its torch code run.

The printed PyTorch code is executed as printed and compared with the
framework itself: a Keras 3 layer (torch backend), ``jax.lax.conv_transpose``
and ONNX's ``ReferenceEvaluator``. The text report is the library's
``str(translate_layer(...))``, whose translations ``tests/test_translate.py``
proves against the same referees.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import transpose_matrix as tm
from transpose_matrix.cli import main

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def call(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_code(torch, code: str, folder: Path, **names) -> np.ndarray:
    """Run the printed torch lines as a script, with ``x`` and the kernel given; its ``y``."""
    script = folder / "printed.py"
    script.write_text(code, encoding="utf-8")
    with torch.no_grad():
        result = runpy.run_path(str(script), init_globals={"torch": torch, "tm": tm, **names})
    return result["y"].detach().numpy()


# ------------------------------------------------------------------ the report


KERAS = ["keras", "--input", "5x4", "--in-channels", "2", "--filters", "3", "--kernel-size",
         "3", "--strides", "2", "--padding", "same"]


def test_text_is_the_librarys_report(capsys):
    status, out, err = call(capsys, "translate", *KERAS)
    assert status == 0 and err == ""
    expected = tm.translate_layer("keras", (5, 4, 2), filters=3, kernel_size=3, strides=2,
                                  padding="same")
    assert out == f"{expected}\n"
    status, out, _ = call(capsys, "translate", "onnx", "--input", "1x2x4x4", "--weight",
                          "2x3x3x3", "--strides", "2x2", "--auto-pad", "SAME_UPPER")
    onnx = tm.translate_layer("onnx", (1, 2, 4, 4), (2, 3, 3, 3), strides=(2, 2),
                              auto_pad="SAME_UPPER")
    assert status == 0 and out == f"{onnx}\n"
    status, out, _ = call(capsys, "translate", "jax", "--lhs-shape", "1x5x2", "--rhs-shape",
                          "4x2x4", "--strides", "2", "--padding", "SAME")
    jax = tm.translate_layer("jax", (1, 5, 2), (4, 2, 4), (2,), "SAME")
    assert status == 0 and out == f"{jax}\n"


def test_json_holds_the_translation(capsys, tmp_path):
    target = tmp_path / "t.json"
    status, out, _ = call(capsys, "translate", *KERAS, "--format", "json", "--out", str(target))
    assert status == 0 and out == ""
    data = json.loads(target.read_text())
    t = tm.translate_layer("keras", (5, 4, 2), filters=3, kernel_size=3, strides=2,
                           padding="same")
    assert data["torch_code"] == t.torch_code() and data["layer"] == t.layer
    assert data["crop"] == [[0, 1], [0, 1]] and data["single_layer"] is False
    assert tuple(data["output_shape"]) == t.output_shape == (3, 10, 8)
    assert data["spec"]["padding"] == [list(pair) for pair in t.spec.padding]
    assert data["torch_arguments"]["stride"] == [2, 2]
    assert data["input_permutation"] == [0, 3, 1, 2] and data["notes"] == list(t.notes)
    # Keras' default bias is carried; the CLI prints the library's own JSON.
    assert data["bias"] is True and data["torch_arguments"]["bias"] is False
    assert data == json.loads(t.to_json()) == t.to_dict()
    assert data["spec"] == {"input_shape": [10, 8], "kernel_size": [3, 3], "stride": [2, 2],
                            "padding": [[0, 1], [0, 1]], "dilation": [1, 1], "in_channels": 3,
                            "out_channels": 2, "groups": 1, "padding_mode": "zeros"}
    status, out, _ = call(capsys, "translate", *KERAS, "--no-bias", "--format", "json")
    assert status == 0 and json.loads(out)["bias"] is False


# ------------------------------------------------------------------ the code, run


@pytest.mark.slow
def test_keras_code_runs_to_the_keras_layer(capsys, torch, tmp_path, keras):
    status, code, _ = call(capsys, "translate", *KERAS, "--code")
    assert status == 0 and code.startswith("layer = torch.nn.ConvTranspose2d(2, 3, ")
    # Keras' default use_bias=True: the code adds the bias after the crop.
    layer = keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same", dtype="float64")
    layer.build((None, 5, 4, 2))
    rng = np.random.default_rng(0)
    layer.set_weights([layer.get_weights()[0], rng.standard_normal(3)])
    x = rng.standard_normal((1, 5, 4, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = keras.ops.convert_to_numpy(layer(x))
    kernel, bias = layer.get_weights()
    got = run_code(torch, code, tmp_path, x=torch.tensor(x), kernel=kernel, bias=bias)
    assert got.shape == expected.shape == (1, 10, 8, 3)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_keras_dilated_valid_code_runs(capsys, torch, tmp_path, keras):
    args = ["keras", "--input", "6", "--in-channels", "1", "--filters", "2", "--kernel-size",
            "3", "--dilation-rate", "2", "--data-format", "channels_first", "--no-bias", "--code"]
    status, code, _ = call(capsys, "translate", *args)
    assert status == 0
    layer = keras.layers.Conv1DTranspose(2, 3, dilation_rate=2, data_format="channels_first",
                                         use_bias=False, dtype="float64")
    layer.build((None, 1, 6))
    x = np.random.default_rng(1).standard_normal((1, 1, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = keras.ops.convert_to_numpy(layer(x))
    got = run_code(torch, code, tmp_path, x=torch.tensor(x), kernel=layer.get_weights()[0])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_jax_code_runs_to_lax_conv_transpose(capsys, torch, tmp_path, jax):
    jax.config.update("jax_enable_x64", True)
    args = ["jax", "--lhs-shape", "1x4x3x2", "--rhs-shape", "3x2x2x3", "--strides", "2x3",
            "--padding", "1:2x0:1", "--rhs-dilation", "1x2", "--code"]
    status, code, _ = call(capsys, "translate", *args)
    assert status == 0
    rng = np.random.default_rng(2)
    x, kernel = rng.standard_normal((1, 4, 3, 2)), rng.standard_normal((3, 2, 2, 3))
    expected = np.asarray(jax.lax.conv_transpose(
        x, kernel, (2, 3), [(1, 2), (0, 1)], rhs_dilation=(1, 2),
        dimension_numbers=("NHWC", "HWIO", "NHWC")))
    got = run_code(torch, code, tmp_path, x=torch.tensor(x), kernel=kernel)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_jax_transpose_kernel_layouts(capsys, torch, tmp_path, jax):
    jax.config.update("jax_enable_x64", True)
    args = ["jax", "--lhs-shape", "1x2x5", "--rhs-shape", "3x2x4", "--strides", "2",
            "--padding", "VALID", "--dimension-numbers", "NCH,IOH,NCH", "--transpose-kernel",
            "--code"]
    status, code, _ = call(capsys, "translate", *args)
    assert status == 0
    rng = np.random.default_rng(3)
    x, kernel = rng.standard_normal((1, 2, 5)), rng.standard_normal((3, 2, 4))
    expected = np.asarray(jax.lax.conv_transpose(
        x, kernel, (2,), "VALID", dimension_numbers=("NCH", "IOH", "NCH"),
        transpose_kernel=True))
    got = run_code(torch, code, tmp_path, x=torch.tensor(x), kernel=kernel)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_onnx_code_runs_to_the_reference_evaluator(capsys, torch, tmp_path, onnx):
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    args = ["onnx", "--input", "1x2x4x3", "--weight", "2x3x3x2", "--strides", "2x2",
            "--pads", "1,0,0,1", "--output-padding", "1x0", "--code"]
    status, code, _ = call(capsys, "translate", *args)
    assert status == 0
    node = helper.make_node("ConvTranspose", ["X", "W"], ["Y"], strides=[2, 2],
                            pads=[1, 0, 0, 1], output_padding=[1, 0])
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info("X", TensorProto.DOUBLE, None),
         helper.make_tensor_value_info("W", TensorProto.DOUBLE, None)],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)],
    )
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((1, 2, 4, 3)), rng.standard_normal((2, 3, 3, 2))
    (expected,) = ReferenceEvaluator(helper.make_model(graph)).run(None, {"X": x, "W": w})
    got = run_code(torch, code, tmp_path, x=torch.tensor(x), W=w)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


# ------------------------------------------------------------------ errors and help

BAD = {
    "keras kernel dims": (["keras", "--input", "4x4", "--filters", "1", "--kernel-size",
                           "3x3x3"], "--kernel-size: kernel_size=(3, 3, 3) must have 2 entries"),
    "keras output padding": (["keras", "--input", "5", "--filters", "1", "--kernel-size", "3",
                              "--strides", "2", "--output-padding", "2"],
                             "--output-padding: output_padding=(2,) must be below strides"),
    "keras strides and dilation": (["keras", "--input", "6", "--filters", "1",
                                    "--kernel-size", "3", "--strides", "2",
                                    "--dilation-rate", "2"],
                                   "--strides: strides=(2,) with dilation_rate=(2,)"),
    "keras filters": (["keras", "--input", "6", "--filters", "0", "--kernel-size", "3"],
                      "--filters: '0' is not allowed"),
    "keras padding": (["keras", "--input", "6", "--filters", "1", "--kernel-size", "3",
                       "--padding", "SAME"], "--padding: invalid choice: 'SAME'"),
    "keras input": (["keras", "--input", "6.5", "--filters", "1", "--kernel-size", "3"],
                    "--input: '6.5' is not allowed"),
    "jax features": (["jax", "--lhs-shape", "1x8x4", "--rhs-shape", "3x5x8", "--strides", "2",
                      "--padding", "SAME"], "--lhs-shape: lhs_shape=(1, 8, 4) has 4 features"),
    "jax padding": (["jax", "--lhs-shape", "1x8x4", "--rhs-shape", "3x4x8", "--strides", "2",
                     "--padding", "same"], "--padding: 'same' is not allowed; give SAME, VALID"),
    "jax layouts": (["jax", "--lhs-shape", "1x8x4", "--rhs-shape", "3x4x8", "--strides", "2",
                     "--padding", "SAME", "--dimension-numbers", "NCH,OIH"],
                    "--dimension-numbers: dimension_numbers=('NCH', 'OIH') must be None, three strings"),
    "jax rank": (["jax", "--lhs-shape", "8x4", "--rhs-shape", "3x4x8", "--strides", "2",
                  "--padding", "SAME"], "--lhs-shape: '8x4' is not allowed; give 3 to 5"),
    "onnx pads": (["onnx", "--input", "1x2x4x4", "--weight", "2x3x3x3", "--pads", "1,1"],
                  "--pads: pads=(1, 1) must list 2 begins then 2 ends"),
    "onnx exclusive": (["onnx", "--input", "1x2x4x4", "--weight", "2x3x3x3", "--pads",
                        "1,1,1,1", "--auto-pad", "VALID"],
                       "--pads: pads and auto_pad='VALID' are exclusive"),
    "onnx output shape": (["onnx", "--input", "1x2x4", "--weight", "2x3x3", "--output-shape",
                           "20"], "--output-shape: output_shape=(20,) does not fit pads"),
    "onnx channels": (["onnx", "--input", "1x3x4", "--weight", "2x3x3"],
                      "--weight: weight_shape=(2, 3, 3) must start with the input's 3 channels"),
    "onnx zero stride": (["onnx", "--input", "1x2x4x4", "--weight", "2x3x3x3", "--strides", "0x1"],
                         "--strides: '0x1' is not allowed; every entry must be >= 1"),
    # Keras' 'same' with output_padding 0 and an even kernel on one entry: no output at all.
    "keras empty output": (["keras", "--input", "1", "--filters", "1", "--kernel-size", "2",
                            "--padding", "same", "--output-padding", "0"],
                           "--input/--kernel-size/--strides/--padding: dim 0: the layer's output "
                           "size 0 must be positive"),
    "no framework": ([], "the following arguments are required: FRAMEWORK"),
    "unknown framework": (["tensorflow"], "invalid choice: 'tensorflow'"),
    "code with json": (KERAS + ["--code", "--format", "json"],
                       "--code: not allowed with --format json"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line_naming_the_option(capsys, case):
    argv, message = BAD[case]
    status, out, err = call(capsys, "translate", *argv)
    assert status == 2 and out == ""
    assert err.startswith("transpose_matrix: error: ") and err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize("framework", [None, "keras", "jax", "onnx"])
def test_help_has_examples(capsys, framework):
    argv = ["translate", "--help"] if framework is None else ["translate", framework, "--help"]
    status, out, _ = call(capsys, *argv)
    assert status == 0
    examples = [line.split("python -m transpose_matrix ", 1)[1] for line in out.splitlines()
                if "python -m transpose_matrix translate" in line]
    assert examples
    # Every example runs.
    for example in examples:
        assert main(example.split()) == 0
    capsys.readouterr()


@pytest.mark.slow
def test_translate_subprocess():
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-m", "transpose_matrix", "translate", *KERAS],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", env=env, timeout=120,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines()[0] == (
        "keras.layers.Conv2DTranspose(3, kernel_size=(3, 3), strides=(2, 2), padding='same') "
        "on input (5, 4, 2)"
    )
    bad = subprocess.run(
        [sys.executable, "-m", "transpose_matrix", "translate", "onnx", "--input", "1x2x4",
         "--weight", "2x3x3", "--pads", "1"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", env=env, timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("transpose_matrix: error: --pads: ")
