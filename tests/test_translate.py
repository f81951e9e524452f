"""Every translation proved against its framework: Keras 3 (torch backend), JAX, ONNX.

The referee's matrix is read off the framework itself by probing with unit
vectors (one batch of all of them); the translation's matrix is Cᵀ of its
spec (with the kernel mapped by ``kernel_to_torch``), and its PyTorch recipe
(``ConvTransposeNd`` with ``torch_arguments``, then ``F.pad`` by the negated
crop) is run too. Geometries come from strategies that build valid layers.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import transpose_matrix as tm
from transpose_matrix import ConvSpecError, ConvSpecTypeError

# Third-party noise that says nothing about the checks here.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def probe(run, shape, to_framework, from_framework):
    """The framework's matrix: unit inputs (channels first), converted in and out."""
    size = math.prod(shape)
    units = np.eye(size).reshape(size, *shape)
    outputs = from_framework(np.asarray(run(to_framework(units)), dtype=np.float64))
    return outputs.reshape(size, -1).T


def torch_recipe(torch, translation, weight, x):
    """The PyTorch equivalent the translation prints, run on one channels-first sample."""
    a = translation.torch_arguments
    F = torch.nn.functional
    conv_t = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[translation.spec.ndim - 1]
    y = conv_t(torch.tensor(x)[None], torch.tensor(weight), stride=a["stride"], padding=a["padding"],
               output_padding=a["output_padding"], groups=a["groups"], dilation=a["dilation"])
    if translation.crop is not None:
        y = F.pad(y, [-v for pair in reversed(translation.crop) for v in pair])
    return y[0].numpy()


def check(torch, translation, weight, referee_matrix, seed=0):
    M = translation.matrix(weight)
    assert M.shape == referee_matrix.shape == (math.prod(translation.output_shape),
                                               math.prod(translation.input_shape))
    np.testing.assert_allclose(M.toarray(), referee_matrix, rtol=0, atol=1e-12)
    x = np.random.default_rng(seed).standard_normal(translation.input_shape)
    recipe = torch_recipe(torch, translation, weight, x)
    assert recipe.shape == translation.output_shape
    np.testing.assert_allclose(recipe.reshape(-1), M @ x.reshape(-1), rtol=0, atol=1e-12)
    # Transposed means adjoint: the spec's C is the forward convolution.
    if not any(translation.leading_zeros):
        C = tm.conv_matrix(translation.spec, weight)
        np.testing.assert_array_equal(C.T.toarray(), M.toarray())


# ------------------------------------------------------------------ Keras


@st.composite
def keras_layers(draw):
    ndim = draw(st.integers(1, 3))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    dilated = all(s == 1 for s in strides) and draw(st.booleans())
    config = dict(
        filters=draw(st.integers(1, 3)),
        kernel_size=tuple(draw(st.integers(1, 4)) for _ in range(ndim)),
        strides=strides,
        padding=draw(st.sampled_from(["valid", "same"])),
        data_format=draw(st.sampled_from(["channels_last", "channels_first"])),
        dilation_rate=tuple(draw(st.integers(1, 3)) for _ in range(ndim)) if dilated else 1,
    )
    if draw(st.booleans()):
        config["output_padding"] = tuple(draw(st.integers(0, s - 1)) for s in strides)
    spatial = tuple(draw(st.integers(1, 3 if ndim == 3 else 5)) for _ in range(ndim))
    channels = draw(st.integers(1, 2))
    return config, channels, spatial


@pytest.mark.slow
@given(layer=keras_layers())
def test_keras_translation_matches_keras(torch, keras, layer):
    config, channels, spatial = layer
    last = config["data_format"] == "channels_last"
    shape = (*spatial, channels) if last else (channels, *spatial)
    cls = getattr(keras.layers, f"Conv{len(spatial)}DTranspose")
    module = cls(**config, use_bias=False, dtype="float64")
    module.build((None, *shape))
    kernel = module.get_weights()[0]

    def run(batch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return keras.ops.convert_to_numpy(module(batch))

    try:
        t = tm.interop.translate_keras(shape, **config)
    except ConvSpecError as error:
        # 'same' with output_padding can ask for an empty output (k even,
        # n = 1): Keras returns zero entries, the translation refuses.
        assert "output size 0 must be positive" in str(error)
        assert 0 in run(np.zeros((1, *shape))).shape
        return

    move_in = (lambda u: np.moveaxis(u, 1, -1)) if last else (lambda u: u)
    move_out = (lambda y: np.moveaxis(y, -1, 1)) if last else (lambda y: y)
    referee = probe(run, (channels, *spatial), move_in, move_out)
    check(torch, t, tm.interop.kernel_to_torch("keras", kernel), referee)
    # The layer's own config works as the arguments too.
    again = tm.interop.translate_keras(shape, **module.get_config())
    assert again.spec == t.spec and again.crop == t.crop


@pytest.mark.slow
def test_keras_same_odd_crop_is_at_the_end(keras):
    # k = 3, s = 2: torch's nearest single layer (padding=1, output_padding=1)
    # has the right size but is shifted; the translation crops the end instead.
    t = tm.translate_layer("keras", (5, 1), filters=1, kernel_size=3, strides=2, padding="same")
    assert t.crop == ((0, 1),) and t.torch_arguments["padding"] == (0,)
    assert t.spec.padding == ((0, 1),) and not t.single_layer
    assert str(t).splitlines()[:3] == [
        "keras.layers.Conv1DTranspose(1, kernel_size=(3,), strides=(2,), padding='same') on input (5, 1)",
        "PyTorch equivalent:",
        # Keras' default use_bias=True: the bias is added after the crop (see the bias test).
        "  layer = torch.nn.ConvTranspose1d(1, 1, kernel_size=(3,), stride=(2,), bias=False)",
    ]
    assert t.bias and not t.torch_arguments["bias"]
    assert "  y = torch.nn.functional.pad(y, (0, -1))  # crop (before, after) per dim: (0, 1)" in str(t)
    # k = 4, s = 2 splits evenly: one layer with padding 1.
    even = tm.interop.translate_keras((5, 1), 1, 4, 2, "same")
    assert even.single_layer and even.torch_arguments["padding"] == (1,)
    assert "one ConvTranspose layer reproduces it exactly" in str(even)


KERAS_BIAS_CASES = {
    # (input shape as Keras sees it, arguments): one layer carries the bias, or a crop
    # or zero padding follows and the bias is added after it.
    "single-layer": ((5, 2), dict(filters=3, kernel_size=4, strides=2, padding="same")),
    "crop-at-end": ((5, 1), dict(filters=2, kernel_size=3, strides=2, padding="same")),
    "channels-first-2d": ((2, 3, 4), dict(filters=2, kernel_size=(3, 2), strides=(2, 1),
                                          padding="same", data_format="channels_first")),
    "valid-output-padding": ((4, 3, 1), dict(filters=2, kernel_size=2, strides=3, padding="valid",
                                             output_padding=2)),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(KERAS_BIAS_CASES))
def test_keras_bias_is_carried_by_default(torch, keras, case):
    shape, config = KERAS_BIAS_CASES[case]
    ndim = len(shape) - 1
    module = getattr(keras.layers, f"Conv{ndim}DTranspose")(**config, dtype="float64")
    module.build((None, *shape))
    assert module.get_config()["use_bias"]  # Keras' default
    rng = np.random.default_rng(4)
    kernel = rng.standard_normal(module.get_weights()[0].shape)
    bias = rng.standard_normal(config["filters"])
    module.set_weights([kernel, bias])
    x = rng.standard_normal((1, *shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = keras.ops.convert_to_numpy(module(x))[0]
    t = tm.interop.translate_keras(shape, **config)
    assert t.bias and tm.interop.translate_keras(shape, **module.get_config()).bias
    last = config.get("data_format", "channels_last") == "channels_last"
    first = np.moveaxis(x[0], -1, 0) if last else x[0]
    y = t.matrix(tm.interop.kernel_to_torch("keras", kernel)) @ first.reshape(-1) + t.offset(bias)
    y = np.moveaxis(y.reshape(t.output_shape), 0, -1) if last else y.reshape(t.output_shape)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-12)
    # The printed PyTorch code, run as written, gives Keras' output, bias included.
    scope = {"torch": torch, "tm": tm, "kernel": kernel, "bias": bias,
             "x": torch.tensor(x)}
    exec(t.torch_code(), scope)  # noqa: S102 - the code under test, with the arrays given
    found = scope["y"].detach().numpy()[0]
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-12)
    assert ("layer.bias.data = torch.as_tensor(bias)" in t.torch_code()) == t.single_layer
    assert "bias: y = Cᵀ x + b" in str(t)


@pytest.mark.slow
def test_keras_without_bias_says_so(keras):
    t = tm.interop.translate_keras((5, 1), 1, 4, 2, "same", use_bias=False)
    assert not t.bias and "use_bias=False" in t.layer and "bias=False" in t.torch_code()
    with pytest.raises(ConvSpecError, match="has no bias"):
        t.offset([1.0])
    with pytest.raises(ConvSpecError, match="one per output channel, 2"):
        tm.interop.translate_keras((5, 1), 2, 4, 2, "same").offset([1.0, 2.0, 3.0])
    with pytest.raises(ConvSpecTypeError, match="use_bias='yes' must be True or False"):
        tm.interop.translate_keras((5, 1), 1, 4, use_bias="yes")


# ------------------------------------------------------------------ JAX

LAYOUTS = {
    1: [None, ("NCH", "OIH", "NCH"), ("NHC", "HOI", "NCH")],
    2: [None, ("NCHW", "OIHW", "NCHW"), ("NHWC", "HWIO", "NCHW"), ("NWHC", "WHOI", "NHWC")],
    3: [None, ("NCDHW", "OIDHW", "NCDHW")],
}


@st.composite
def jax_calls(draw):
    ndim = draw(st.integers(1, 3))
    dims = draw(st.sampled_from(LAYOUTS[ndim]))
    kernel = [draw(st.integers(1, 4)) for _ in range(ndim)]
    strides = [draw(st.integers(1, 3)) for _ in range(ndim)]
    dilation = [draw(st.integers(1, 2)) for _ in range(ndim)] if draw(st.booleans()) else None
    spatial = [draw(st.integers(1, 3 if ndim == 3 else 4)) for _ in range(ndim)]
    kind = draw(st.sampled_from(["SAME", "VALID", "pairs", "consistent"]))
    if kind in ("SAME", "VALID"):
        padding = kind
    else:
        padding = []
        for n, k, s, d in zip(spatial, kernel, strides, dilation or [1] * ndim):
            span = d * (k - 1) + 1
            if kind == "pairs":
                # Any window [b, b + m) of the full result [0, F) that an input
                # reaches; JAX's pads of the zero-inserted input follow from it.
                full = (n - 1) * s + span
                b = draw(st.integers(-2, full - 1))
                m = draw(st.integers(max(1, 1 - b), full + 2 - b))
                low = span - 1 - b
                high = m - (n - 1) * s - low + span - 2
            else:
                # The forward padding, which must leave an output: p0 + p1 < F.
                full = (n - 1) * s + span
                low = draw(st.integers(0, min(span - 1, full - 1)))
                high = draw(st.integers(0, min(span - 1, full - 1 - low)))
            padding.append((low, high))
    features_in, features_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return dict(ndim=ndim, dims=dims, kernel=kernel, strides=strides, dilation=dilation,
                spatial=spatial, padding=padding, consistent=kind == "consistent",
                transpose_kernel=draw(st.booleans()), features=(features_in, features_out))


def _layout(dims, ndim):
    if dims is None:
        letters = "HWD"[:ndim]
        return f"N{letters}C", f"{letters}IO", f"N{letters}C"
    return dims


@pytest.mark.slow
@given(call=jax_calls())
def test_jax_translation_matches_lax_conv_transpose(torch, jax, call):
    ndim = call["ndim"]
    lhs_spec, rhs_spec, out_spec = _layout(call["dims"], ndim)
    order = [c for c in rhs_spec if c not in "OI"]  # JAX orders spatial dims by the kernel's spec
    f_in, f_out = call["features"]
    # Kernel axes sizes: with transpose_kernel the kernel's O axis is the layer's input.
    sizes = dict(zip(order, call["kernel"]))
    sizes.update({"I": f_out, "O": f_in} if call["transpose_kernel"] else {"I": f_in, "O": f_out})
    rhs = np.random.default_rng(1).standard_normal([sizes[c] for c in rhs_spec])
    lhs_sizes = dict(zip(order, call["spatial"]))
    lhs_sizes.update({"N": 1, "C": f_in})
    lhs_shape = tuple(lhs_sizes[c] for c in lhs_spec)
    t = tm.interop.translate_jax(lhs_shape, rhs.shape, call["strides"], call["padding"], call["dilation"],
                         call["dims"], call["transpose_kernel"], call["consistent"])
    channels_first = (f_in, *call["spatial"])
    # A batch of channels-first units, axes (N, C, *spatial in `order`), to the
    # lhs layout; JAX's output back from the out layout.
    source = "NC" + "".join(order)
    to_lhs = [source.index(c) for c in lhs_spec]
    from_out = [out_spec.index(c) for c in source]

    def run(batch):
        with jax.enable_x64(True):
            return np.asarray(jax.lax.conv_transpose(
                jax.numpy.asarray(batch), jax.numpy.asarray(rhs), call["strides"], call["padding"],
                rhs_dilation=call["dilation"], dimension_numbers=call["dims"],
                transpose_kernel=call["transpose_kernel"],
                use_consistent_padding=call["consistent"]))

    referee = probe(run, channels_first, lambda u: np.transpose(u, to_lhs),
                    lambda y: np.transpose(y, from_out))
    weight = tm.interop.kernel_to_torch("jax", rhs, dimension_numbers=call["dims"],
                                transpose_kernel=call["transpose_kernel"])
    check(torch, t, weight, referee)
    # The translation's permutes undo the probe's conversions: x.permute(p)
    # takes the lhs layout to torch's, y.permute(q) torch's to the out layout.
    assert (t.input_permutation or tuple(range(ndim + 2))) == tuple(lhs_spec.index(c) for c in source)
    assert (t.output_permutation or tuple(range(ndim + 2))) == tuple(source.index(c) for c in out_spec)


@pytest.mark.slow
def test_jax_dimension_numbers_object(torch, jax):
    # lax.ConvDimensionNumbers (integer specs) work like their string form.
    lhs_shape, rhs_shape = (1, 2, 5, 4), (3, 2, 2, 3)  # NCHW input, OIHW kernel
    strings = ("NCHW", "OIHW", "NCHW")
    numbers = jax.lax.conv_dimension_numbers(lhs_shape, rhs_shape, strings)
    a = tm.interop.translate_jax(lhs_shape, rhs_shape, (2, 1), "SAME", dimension_numbers=numbers)
    b = tm.interop.translate_jax(lhs_shape, rhs_shape, (2, 1), "SAME", dimension_numbers=strings)
    assert a.spec == b.spec and a.crop == b.crop
    rhs = np.random.default_rng(5).standard_normal(rhs_shape)
    x = np.random.default_rng(6).standard_normal(lhs_shape)
    with jax.enable_x64(True):
        expected = np.asarray(jax.lax.conv_transpose(x, rhs, (2, 1), "SAME", dimension_numbers=numbers))
    weight = tm.interop.kernel_to_torch("jax", rhs, dimension_numbers=numbers)
    np.testing.assert_allclose(a.matrix(weight) @ x.reshape(-1), expected.reshape(-1), atol=1e-12)


@pytest.mark.slow
def test_jax_consistent_padding_is_torchs_padding(jax):
    # use_consistent_padding reads pairs as the forward padding, PyTorch's meaning.
    t = tm.interop.translate_jax((1, 6, 2), (3, 2, 4), (2,), [(1, 1)], use_consistent_padding=True)
    assert t.single_layer and t.torch_arguments["padding"] == (1,)
    assert t.spec.padding[0][0] == 1
    plain = tm.interop.translate_jax((1, 6, 2), (3, 2, 4), (2,), [(1, 1)])
    assert plain.spec.padding[0][0] == 1  # L = 1 of the zero-inserted input: b = k - 1 - L


# ------------------------------------------------------------------ ONNX


def onnx_run(onnx, x, w, **attributes):
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    node = helper.make_node("ConvTranspose", ["X", "W"], ["Y"], **attributes)
    graph = helper.make_graph(
        [node], "one_node",
        [helper.make_tensor_value_info("X", TensorProto.DOUBLE, None),
         helper.make_tensor_value_info("W", TensorProto.DOUBLE, None)],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return ReferenceEvaluator(model).run(None, {"X": x, "W": w})[0]


@st.composite
def onnx_nodes(draw):
    ndim = draw(st.integers(1, 3))
    group = draw(st.integers(1, 2))
    # onnx.reference's grouped ConvTranspose slices W by output channels, so it
    # only runs the depthwise case (one input and one output channel per
    # group); test_onnx_grouped_against_torch covers the others.
    per_group_out = 1 if group > 1 else draw(st.integers(1, 2))
    channels = group if group > 1 else draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 4)) for _ in range(ndim)]
    strides = [draw(st.integers(1, 3)) for _ in range(ndim)]
    dilations = [draw(st.integers(1, 2)) for _ in range(ndim)]
    spatial = [draw(st.integers(1, 3 if ndim == 3 else 4)) for _ in range(ndim)]
    extra = [draw(st.integers(0, s - 1)) for s in strides]
    attributes = dict(strides=strides, dilations=dilations, group=group)
    kind = draw(st.sampled_from(["pads", "SAME_UPPER", "SAME_LOWER", "VALID", "output_shape"]))
    fulls = [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(spatial, strides, dilations, kernel)]
    if draw(st.booleans()):
        attributes["output_padding"] = extra
    else:
        extra = [0] * ndim
    if kind == "pads":
        begins = [draw(st.integers(0, max(0, f - 1))) for f in fulls]
        ends = [draw(st.integers(-2, max(-2, f + a - b - 1))) for f, a, b in zip(fulls, extra, begins)]
        attributes["pads"] = begins + ends
    elif kind == "output_shape":
        # onnx.reference keeps pads 0 here: output_shape may add up to stride - 1 zeros.
        attributes["output_shape"] = [f + a + draw(st.integers(0, s - 1) if a == 0 else st.just(0))
                                      for f, a, s in zip(fulls, extra, strides)]
        attributes.pop("output_padding", None)
        if extra != [0] * ndim:
            attributes["output_shape"] = [f for f in fulls]
    else:
        attributes["auto_pad"] = kind
    w_shape = (channels, per_group_out, *kernel)
    return attributes, (1, channels, *spatial), w_shape


@pytest.mark.slow
@given(node=onnx_nodes())
def test_onnx_translation_matches_reference_evaluator(torch, onnx, node):
    attributes, x_shape, w_shape = node
    w = np.random.default_rng(2).standard_normal(w_shape)
    t = tm.interop.translate_onnx(x_shape, w_shape, **attributes)
    referee = probe(lambda batch: onnx_run(onnx, batch, w, **attributes), x_shape[1:],
                    lambda u: u, lambda y: y)
    check(torch, t, tm.interop.kernel_to_torch("onnx", w), referee)


def test_onnx_same_upper_lower_and_the_leading_zero(torch, onnx):
    x = np.arange(1.0, 4.0).reshape(1, 1, 3)
    w = np.array([[[1.0, 10.0, 100.0]]])
    upper = tm.interop.translate_onnx(x.shape, w.shape, strides=[2], auto_pad="SAME_UPPER")
    lower = tm.interop.translate_onnx(x.shape, w.shape, strides=[2], auto_pad="SAME_LOWER")
    # UPPER crops the odd entry at the end: torch cannot; LOWER at the start,
    # which is torch's padding=1, output_padding=1.
    assert upper.crop == ((0, 1),) and lower.single_layer
    assert lower.torch_arguments["padding"] == (1,) and lower.torch_arguments["output_padding"] == (1,)
    assert any("extra entry at the end" in note for note in upper.notes)
    for t, auto_pad in ((upper, "SAME_UPPER"), (lower, "SAME_LOWER")):
        expected = onnx_run(onnx, x, w, strides=[2], auto_pad=auto_pad)[0]
        np.testing.assert_allclose(t.matrix(w) @ x.reshape(-1), expected.reshape(-1), atol=1e-12)
    # A 1-wide kernel at stride 2: the total is -1, floored to -1 before: a zero first.
    one = np.array([[[1.0]]])
    t = tm.interop.translate_onnx(x.shape, one.shape, strides=[2], auto_pad="SAME_UPPER")
    assert t.leading_zeros == (1,) and t.output_shape == (1, 6)
    assert any("starts with a zero entry" in note for note in t.notes)
    expected = onnx_run(onnx, x, one, strides=[2], auto_pad="SAME_UPPER")[0]
    np.testing.assert_array_equal(t.matrix(one) @ x.reshape(-1), expected.reshape(-1))
    np.testing.assert_array_equal(torch_recipe(torch, t, one, x[0]), expected)
    assert "after (1,) leading zero entries per dim" in str(t)


def test_onnx_grouped_against_torch(torch):
    # Several channels per group: onnx.reference cannot run it (its grouped
    # path slices W by output channels); W is torch's layout, so torch referees.
    w = np.random.default_rng(3).standard_normal((4, 3, 2, 3))
    x = np.random.default_rng(4).standard_normal((4, 3, 2))
    t = tm.interop.translate_onnx((1, 4, 3, 2), w.shape, group=2, strides=[2, 1], pads=[1, 0, 0, 1])
    assert t.output_shape[0] == 6 and t.spec.groups == 2 and "groups=2" in t.torch_code()
    expected = torch_recipe(torch, t, w, x)
    np.testing.assert_allclose(t.matrix(w) @ x.reshape(-1), expected.reshape(-1), atol=1e-12)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: tm.translate_layer("tf", (4, 1)), ConvSpecError, r"framework='tf' must be one of keras, jax, onnx"),
        (lambda: tm.interop.kernel_to_torch("caffe", np.ones(3)), ConvSpecError, "framework='caffe'"),
        (lambda: tm.interop.translate_keras((4, 1), 1, 3, padding="causal"), ConvSpecError, "'valid' or 'same'"),
        (lambda: tm.interop.translate_keras((4, 1), 1, 3, strides=2, output_padding=2), ConvSpecError,
         r"output_padding=\(2,\) must be below strides"),
        (lambda: tm.interop.translate_keras((4, 1), 1, 3, strides=2, dilation_rate=2), ConvSpecError,
         "Keras refuses strides > 1 together with dilation_rate > 1"),
        (lambda: tm.interop.translate_keras((4, 1), 1, 3, data_format="NHWC"), ConvSpecError, "data_format"),
        (lambda: tm.interop.translate_keras((4,), 1, 3), ConvSpecError, "1 to 3 spatial dims"),
        (lambda: tm.interop.translate_keras("4x1", 1, 3), ConvSpecTypeError, "sequence of ints"),
        (lambda: tm.interop.translate_jax((1, 4, 2), (3, 2, 1), (2,), "same"), ConvSpecError, "'SAME', 'VALID'"),
        (lambda: tm.interop.translate_jax((1, 4, 2), (3, 3, 1), (2,), "SAME"), ConvSpecError, "has 2 features but the kernel expects 3"),
        (lambda: tm.interop.translate_jax((1, 4, 2), (3, 2), (2,), "SAME"), ConvSpecError, "same rank"),
        (lambda: tm.interop.translate_jax((1, 4, 2), (3, 2, 1), (2,), "SAME", dimension_numbers=("NHC", "HIO")),
         ConvSpecTypeError, "three strings"),
        (lambda: tm.interop.translate_jax((1, 4, 2), (3, 2, 1), (2,), "SAME", dimension_numbers=("NHC", "HIX", "NHC")),
         ConvSpecError, "'O' and 'I' once each"),
        (lambda: tm.interop.translate_jax((1, 4, 2), (3, 2, 1), (2,), "SAME", dimension_numbers=("NHC", "WIO", "NHC")),
         ConvSpecError, "same spatial letters"),
        (lambda: tm.interop.translate_jax((1, 4, 2), (3, 2, 1), (2,), [(0, 0), (1, 1)]), ConvSpecError, "1 \\(low, high\\) pairs"),
        (lambda: tm.interop.translate_jax((1, 2, 1), (3, 1, 1), (1,), [(-3, -3)]), ConvSpecError, "output size -6 must be positive"),
        (lambda: tm.interop.translate_jax((1, 1, 1), (1, 1, 1), (1,), [(3, -3)]), ConvSpecError, r"window \[-3, -2\) misses the entries \[0, 1\)"),
        (lambda: tm.interop.translate_onnx((1, 1, 2), (1, 1, 1), dilations=[2], output_padding=[1]), ConvSpecError,
         r"output_padding=\(1,\) must be below strides=\(1,\) .*onnx.reference"),
        (lambda: tm.interop.translate_onnx((1, 1, 2), (1, 1, 1), pads=[3, -3]), ConvSpecError, "no input reaches the output at all"),
        (lambda: tm.interop.translate_onnx((1, 2, 4), (2, 1, 3), auto_pad="SAME", strides=[2]), ConvSpecError, "auto_pad='SAME' must be"),
        (lambda: tm.interop.translate_onnx((1, 2, 4), (2, 1, 3), auto_pad="VALID", pads=[0, 0]), ConvSpecError, "exclusive"),
        (lambda: tm.interop.translate_onnx((1, 2, 4), (3, 1, 3)), ConvSpecError, "must start with the input's 2 channels"),
        (lambda: tm.interop.translate_onnx((1, 2, 4), (2, 1, 3), kernel_shape=[2]), ConvSpecError, r"kernel_shape=\(2,\) must match"),
        (lambda: tm.interop.translate_onnx((1, 2, 4), (2, 1, 3), pads=[1]), ConvSpecError, "1 begins then 1 ends"),
        (lambda: tm.interop.translate_onnx((1, 2, 4), (2, 1, 3), strides=[2], output_shape=[6]), ConvSpecError,
         "onnx.reference needs"),
        (lambda: tm.interop.translate_onnx((2, 4, 4, 4), (2, 1, 3)), ConvSpecError, r"\(N, C, \*spatial\) or \(C, \*spatial\)"),
        (lambda: tm.interop.translate_onnx((1, 2, 4), (2, 1)), ConvSpecError, "1 to 3 spatial dims"),
    ],
)
def test_translation_errors_name_the_rule(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_onnx_output_shape_without_pads_is_noted(onnx):
    # 3 inputs, k = 3, s = 2 reach 7 entries; output_shape 8 adds a zero at
    # the end, which is torch's output_padding=1.
    t = tm.interop.translate_onnx((1, 1, 3), (1, 1, 3), strides=[2], output_shape=[8])
    assert t.output_shape == (1, 8) and t.single_layer
    assert t.torch_arguments["output_padding"] == (1,)
    assert any("onnx.reference keeps pads 0" in note for note in t.notes)
    x, w = np.arange(1.0, 4.0).reshape(1, 1, 3), np.array([[[1.0, 10.0, 100.0]]])
    expected = onnx_run(onnx, x, w, strides=[2], output_shape=[8])
    np.testing.assert_array_equal(t.matrix(w) @ x.reshape(-1), expected.reshape(-1))
