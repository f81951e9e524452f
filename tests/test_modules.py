"""module_matrix, from_module, network_matrix against the torch modules themselves.

Two referees per module: its forward values (``M x + b == module(x)``) and its
matrix read off by probing the module with unit vectors (column ``i`` is
``module(e_i) - module(0)``), which never looks at the module's arguments.
Stacks are also checked against ``torch.autograd.functional.jacobian``.
Geometries come from strategies that build valid layers directly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import transpose_matrix as tm
from transpose_matrix import ConvSpecError, ConvSpecTypeError, MemoryGuardError

# Third-party noise that says nothing about the checks here.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")


def probe(torch, module, shape, **call):
    """M read off the module: every unit input as one batch, minus the response to 0."""
    size = math.prod(shape)
    with torch.no_grad():
        units = torch.eye(size, dtype=torch.float64).reshape(size, *shape)
        zero = torch.zeros(1, *shape, dtype=torch.float64)
        columns = module(units, **call).reshape(size, -1) - module(zero, **call).reshape(1, -1)
    return columns.numpy().T


def forward(torch, module, x, **call):
    with torch.no_grad():
        return module(torch.tensor(x)[None], **call)[0].numpy()


def check_module(torch, module, shape, seed=0, atol=1e-12, **call):
    """module_matrix and from/network offset against probing and the forward values."""
    module = module.double()
    M = tm.module_matrix(module, shape, **call)
    np.testing.assert_allclose(M.toarray(), probe(torch, module, shape, **call), rtol=0, atol=atol)
    x = np.random.default_rng(seed).standard_normal(shape)
    expected = forward(torch, module, x, **call)
    if not call:
        net = tm.network_matrix(module, shape)
        assert net.output_shape == expected.shape
        np.testing.assert_allclose(net.apply(x), expected, rtol=0, atol=1e-10)
        np.testing.assert_array_equal(net.matrix.toarray(), M.toarray())
    return M, x, expected


# ------------------------------------------------------------------ strategies


@st.composite
def conv_layers(draw):
    """A Conv{1,2,3}d with any padding mode, integer or string padding, and its input shape."""
    ndim = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    string = draw(st.sampled_from([None, "same", "valid"]))
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    shape, kernel, stride, padding, dilation = [], [], [], [], []
    for _ in range(ndim):
        n = draw(st.integers(2, 4 if ndim == 3 else 6))
        d = draw(st.integers(1, 2))
        s = 1 if string == "same" else draw(st.integers(1, 3))
        if string == "same":
            # torch pads d*(k - 1) in total: each side must suit the mode.
            limit = {"reflect": n - 1, "circular": n}.get(mode, 4)
            k = draw(st.integers(1, limit // d + 1))
            p = 0
        else:
            p = 0 if string == "valid" else draw(st.integers(0, {"reflect": n - 1, "circular": n}.get(mode, 2)))
            k = draw(st.integers(1, min(4, (n + 2 * p - 1) // d + 1)))
        for values, v in zip((shape, kernel, stride, padding, dilation), (n, k, s, p, d)):
            values.append(v)
    module_class = ("Conv1d", "Conv2d", "Conv3d")[ndim - 1]
    kwargs = dict(stride=tuple(stride), padding=string or tuple(padding), dilation=tuple(dilation),
                  groups=groups, bias=draw(st.booleans()), padding_mode=mode)
    return module_class, (cin, cout, tuple(kernel)), kwargs, (cin, *shape)


@st.composite
def conv_transpose_layers(draw):
    """A ConvTranspose{1,2,3}d, its input shape, and optionally an output_size in torch's range."""
    ndim = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    shape, kernel, stride, padding, dilation, extra, sizes = [], [], [], [], [], [], []
    for _ in range(ndim):
        n = draw(st.integers(1, 3 if ndim == 3 else 5))
        k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        smallest_unpadded = (n - 1) * s + d * (k - 1) + 1
        p = draw(st.integers(0, min(2, (smallest_unpadded - 1) // 2)))
        smallest = smallest_unpadded - 2 * p
        for values, v in zip((shape, kernel, stride, padding, dilation), (n, k, s, p, d)):
            values.append(v)
        extra.append(draw(st.integers(0, max(s, d) - 1)))
        sizes.append(smallest + draw(st.integers(0, s - 1)))
    module_class = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")[ndim - 1]
    kwargs = dict(stride=tuple(stride), padding=tuple(padding), output_padding=tuple(extra),
                  groups=groups, dilation=tuple(dilation), bias=draw(st.booleans()))
    output_size = tuple(sizes) if draw(st.booleans()) else None
    return module_class, (cin, cout, tuple(kernel)), kwargs, (cin, *shape), output_size


@st.composite
def avg_pools(draw):
    ndim = draw(st.integers(1, 3))
    shape, kernel, stride, padding = [], [], [], []
    for _ in range(ndim):
        n = draw(st.integers(1, 4 if ndim == 3 else 7))
        k = draw(st.integers(1, 4))
        p = draw(st.integers(0, k // 2))
        # The window must fit the padded input, k <= n + 2p; avg_pool3d wants k <= n.
        n = max(n, k if ndim == 3 else k - 2 * p)
        shape.append(n)
        kernel.append(k)
        stride.append(draw(st.integers(1, 3)))
        padding.append(p)
    kwargs = dict(kernel_size=tuple(kernel), stride=tuple(stride), padding=tuple(padding),
                  ceil_mode=draw(st.booleans()), count_include_pad=draw(st.booleans()))
    if ndim > 1 and draw(st.booleans()):
        kwargs["divisor_override"] = draw(st.integers(1, 5))
    return ("AvgPool1d", "AvgPool2d", "AvgPool3d")[ndim - 1], kwargs, (draw(st.integers(1, 2)), *shape)


# ------------------------------------------------------------------ single layers


@pytest.mark.slow
@given(layer=conv_layers())
def test_conv_modules(torch, layer):
    name, args, kwargs, shape = layer
    module = getattr(torch.nn, name)(*args, **kwargs).double()
    M, x, expected = check_module(torch, module, shape)
    found = tm.interop.from_module(module, shape)
    assert not found.transposed and found.spec.padding_mode == kwargs["padding_mode"]
    assert found.input_shape == shape and found.output_shape == expected.shape
    np.testing.assert_array_equal(found.matrix().toarray(), M.toarray())
    np.testing.assert_allclose(M @ x.reshape(-1) + found.offset, expected.reshape(-1), atol=1e-12)
    if isinstance(kwargs["padding"], str):
        assert found.spec.padding_string == kwargs["padding"]


@pytest.mark.slow
@given(layer=conv_transpose_layers())
def test_conv_transpose_modules(torch, layer):
    name, args, kwargs, shape, output_size = layer
    module = getattr(torch.nn, name)(*args, **kwargs).double()
    call = {} if output_size is None else {"output_size": list(output_size)}
    M, x, expected = check_module(torch, module, shape, **call)
    found = tm.interop.from_module(module, shape, **call)
    assert found.transposed and found.output_shape == expected.shape and found.input_shape == shape
    np.testing.assert_array_equal(found.matrix().toarray(), M.toarray())
    np.testing.assert_allclose(M @ x.reshape(-1) + found.offset, expected.reshape(-1), atol=1e-12)
    # The weight is the layer's own, as it is.
    np.testing.assert_array_equal(found.weight, module.weight.detach().numpy())


def test_conv_transpose_output_size_forms(torch):
    module = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1).double()
    shape = (2, 4, 3)
    x = np.random.default_rng(1).standard_normal(shape)
    for size in ([8, 6], [2, 3, 8, 6], [3, 8, 6]):
        M = tm.module_matrix(module, shape, output_size=size)
        expected = forward(torch, module, x, output_size=[1, 3, 8, 6])
        np.testing.assert_allclose(M @ x.reshape(-1), expected.reshape(-1) - np.repeat(
            module.bias.detach().numpy(), 48), atol=1e-12)
    with pytest.raises(ValueError, match="valid sizes range"):
        module(torch.zeros(1, *shape, dtype=torch.float64), output_size=[9, 6])
    with pytest.raises(ConvSpecError, match=r"output_size=\(9, 6\) must lie between \(7, 5\) and \(8, 6\)"):
        tm.module_matrix(module, shape, output_size=[9, 6])
    with pytest.raises(ConvSpecError, match=r"must have 2 entries"):
        tm.module_matrix(module, shape, output_size=[1, 2, 3, 8, 6])
    with pytest.raises(ConvSpecError, match="ConvTransposeNd only"):
        tm.module_matrix(torch.nn.Conv1d(1, 1, 1), (1, 3), output_size=[3])


UPSAMPLE_CASES = {
    # name: (input_shape, kwargs)
    "nearest-int": ((2, 3), dict(scale_factor=2, mode="nearest")),
    "nearest-float": ((1, 5), dict(scale_factor=1.7, mode="nearest")),
    "nearest-down": ((1, 7), dict(scale_factor=0.45, mode="nearest")),
    "nearest-size": ((2, 3, 4), dict(size=(5, 7), mode="nearest")),
    "nearest-size-int": ((1, 3, 2), dict(size=4, mode="nearest")),
    "nearest-2d-tuple": ((1, 3, 4), dict(scale_factor=(2.5, 1.25), mode="nearest")),
    "nearest-3d": ((1, 2, 3, 2), dict(scale_factor=(2, 1, 3), mode="nearest")),
    "nearest-recompute": ((1, 6), dict(scale_factor=1.3, mode="nearest", recompute_scale_factor=True)),
    "nearest-exact": ((1, 5, 3), dict(scale_factor=1.6, mode="nearest-exact")),
    "nearest-exact-size": ((1, 7), dict(size=3, mode="nearest-exact")),
    "nearest-same-size": ((1, 4), dict(scale_factor=1.1, mode="nearest")),
    "linear": ((2, 5), dict(scale_factor=2, mode="linear")),
    "linear-corners": ((1, 5), dict(scale_factor=2.5, mode="linear", align_corners=True)),
    "linear-size": ((1, 6), dict(size=4, mode="linear")),
    "bilinear": ((2, 3, 4), dict(scale_factor=2, mode="bilinear")),
    "bilinear-corners": ((1, 3, 4), dict(scale_factor=(1.5, 3), mode="bilinear", align_corners=True)),
    "bilinear-size": ((1, 4, 3), dict(size=(7, 2), mode="bilinear")),
    "bilinear-recompute": ((1, 4, 3), dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)),
    "bilinear-same-size": ((1, 4, 3), dict(scale_factor=1.2, mode="bilinear")),
    "trilinear": ((1, 2, 3, 2), dict(scale_factor=2, mode="trilinear")),
    "trilinear-corners-size": ((1, 2, 3, 3), dict(size=(3, 5, 2), mode="trilinear", align_corners=True)),
}


@pytest.mark.parametrize("case", sorted(UPSAMPLE_CASES))
def test_upsample_modules(torch, case):
    shape, kwargs = UPSAMPLE_CASES[case]
    module = torch.nn.Upsample(**kwargs)
    check_module(torch, module, shape, atol=1e-14)
    if kwargs["mode"] == "nearest" and "size" not in kwargs and float(
        np.prod(kwargs["scale_factor"])).is_integer() and case in ("nearest-int", "nearest-3d"):
        found = tm.interop.from_module(module, shape)
        assert found.transposed and found.spec.groups == shape[0]
        np.testing.assert_array_equal(found.matrix().toarray(), tm.module_matrix(module, shape).toarray())
    elif kwargs["mode"] != "nearest":
        with pytest.raises(ConvSpecError, match="no single convolution"):
            tm.interop.from_module(module, shape)


def test_upsample_subclasses_and_nearest_float64_rounding(torch):
    check_module(torch, torch.nn.UpsamplingBilinear2d(scale_factor=2), (1, 3, 3))
    check_module(torch, torch.nn.UpsamplingNearest2d(size=(5, 4)), (1, 2, 3))
    # 9 * (1/1.2857142857142858) is 6.999999999999999 in float64; torch rounds
    # it to float32 before the floor and reads entry 7, and so does the matrix.
    module = torch.nn.Upsample(scale_factor=9 / 7, mode="nearest")
    M, _, _ = check_module(torch, module, (1, 8))
    assert M[9, 7] == 1.0


@pytest.mark.slow
@given(pool=avg_pools())
def test_avg_pool_modules(torch, pool):
    name, kwargs, shape = pool
    module = getattr(torch.nn, name)(**kwargs)
    M, _, _ = check_module(torch, module, shape)
    try:
        found = tm.interop.from_module(module, shape)
    except ConvSpecError as error:
        assert "no single convolution" in str(error)
        # Only pools whose windows are divided unequally are refused: some row
        # of M must then hold a weight other than the kernel's 1/prod(k).
        divisor = kwargs.get("divisor_override") or math.prod(kwargs["kernel_size"])
        assert not np.allclose(M.data, 1.0 / divisor)
    else:
        np.testing.assert_allclose(found.matrix().toarray(), M.toarray(), atol=1e-15)


@pytest.mark.parametrize("r", [1, 2, 3])
def test_pixel_shuffle_modules(torch, r):
    shuffle, unshuffle = torch.nn.PixelShuffle(r), torch.nn.PixelUnshuffle(r)
    shape = (2 * r * r, 2, 3)
    M, _, expected = check_module(torch, shuffle, shape)
    found = tm.interop.from_module(shuffle, shape)
    assert found.transposed and found.spec.kernel_size == (r, r) and found.spec.stride == (r, r)
    np.testing.assert_array_equal(found.matrix().toarray(), M.toarray())
    U, _, _ = check_module(torch, unshuffle, expected.shape)
    # Unshuffling is the transpose (and the inverse) of shuffling.
    np.testing.assert_array_equal(U.toarray(), M.T.toarray())
    assert not tm.interop.from_module(unshuffle, expected.shape).transposed


RESHAPE_CASES = {
    "identity": (lambda nn: nn.Identity(), (2, 3, 2)),
    "flatten": (lambda nn: nn.Flatten(), (2, 3, 2)),
    "flatten-inner": (lambda nn: nn.Flatten(2, 3), (2, 3, 2)),
    "flatten-negative": (lambda nn: nn.Flatten(-2, -1), (3, 2, 2)),
    "unflatten": (lambda nn: nn.Unflatten(2, (2, 3)), (2, 6)),
    "unflatten-channels": (lambda nn: nn.Unflatten(1, (2, 3)), (6, 2)),
    "unflatten-inferred": (lambda nn: nn.Unflatten(-1, (2, -1)), (1, 2, 6)),
    "linear": (lambda nn: nn.Linear(4, 3), (2, 4)),
    "linear-1d": (lambda nn: nn.Linear(5, 2, bias=False), (5,)),
    "zero-pad": (lambda nn: nn.ZeroPad2d((1, 0, 2, 1)), (2, 3, 3)),
    "zero-pad-crop": (lambda nn: nn.ZeroPad1d((-1, 2)), (2, 4)),
    "constant-pad": (lambda nn: nn.ConstantPad1d((2, 1), 3.5), (2, 4)),
    "constant-pad-3d-on-4": (lambda nn: nn.ConstantPad3d((1, 0, 0, 1, 1, 1), -1.0), (2, 2, 3, 2)),
    "reflection-pad": (lambda nn: nn.ReflectionPad2d((1, 2, 2, 0)), (2, 3, 4)),
    "reflection-pad-3d": (lambda nn: nn.ReflectionPad3d(1), (1, 2, 3, 2)),
    "replication-pad": (lambda nn: nn.ReplicationPad1d((3, 1)), (2, 2)),
    "circular-pad": (lambda nn: nn.CircularPad2d((2, 1, 0, 3)), (1, 3, 2)),
}


@pytest.mark.parametrize("case", sorted(RESHAPE_CASES))
def test_reshaping_linear_and_padding_modules(torch, case):
    make, shape = RESHAPE_CASES[case]
    check_module(torch, make(torch.nn), shape)


def test_identity_is_a_depthwise_unit_kernel(torch):
    found = tm.interop.from_module(torch.nn.Identity(), (3, 2, 2))
    assert found.spec.groups == 3 and found.spec.kernel_size == (1, 1)
    np.testing.assert_array_equal(found.matrix().toarray(), np.eye(12))
    with pytest.raises(ConvSpecError, match="Flatten on input_shape=.* no single convolution"):
        tm.interop.from_module(torch.nn.Flatten(), (3, 2, 2))


def test_float32_modules_convert_exactly(torch):
    module = torch.nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect")  # float32
    shape = (2, 4, 5)
    M = tm.module_matrix(module, shape)
    assert M.dtype == np.float64
    np.testing.assert_allclose(M.toarray(), probe(torch, module.double(), shape), atol=1e-12)


def test_parametrized_layers_are_read_through_their_weight(torch):
    module = torch.nn.utils.parametrizations.weight_norm(torch.nn.Conv1d(2, 3, 3)).double()
    assert type(module) is not torch.nn.Conv1d
    check_module(torch, module, (2, 6))


# ------------------------------------------------------------------ stacks


def _decoder(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Linear(6, 8),
        nn.Unflatten(1, (2, 2, 2)),
        nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1),
        nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(3, 4, 3, padding_mode="zeros")),
        nn.PixelShuffle(2),
        nn.Upsample(scale_factor=1.5, mode="bilinear"),
        nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False, padding=1),
        nn.Conv2d(1, 2, 3, padding="same", padding_mode="circular"),
        nn.Flatten(),
    ).double()


@pytest.mark.slow
def test_network_matrix_matches_autograd_jacobian(torch):
    net = _decoder(torch)
    shape = (6,)
    M, b = tm.network_matrix(net, shape)
    x = np.random.default_rng(5).standard_normal(shape)
    with torch.no_grad():
        expected = net(torch.tensor(x)[None])[0].numpy()
        at_zero = net(torch.zeros(1, *shape, dtype=torch.float64))[0].numpy()
    jacobian = torch.autograd.functional.jacobian(lambda v: net(v[None])[0], torch.tensor(x))
    np.testing.assert_allclose(M.toarray(), jacobian.numpy().reshape(M.shape), atol=1e-12)
    np.testing.assert_allclose(b, at_zero, atol=1e-12)
    np.testing.assert_allclose(M @ x + b, expected, atol=1e-12)
    result = tm.network_matrix(net, shape)
    assert result.layers[0] == "Linear" and result.layers[-1] == "Flatten" and len(result.layers) == 10
    assert result.output_shape == expected.shape and "->" in repr(result)


def test_coverage_map_counts_paths_with_all_ones_kernels(torch):
    nn = torch.nn
    net = nn.Sequential(nn.ConvTranspose2d(1, 2, 3, stride=2), nn.ConvTranspose2d(2, 1, 3, stride=2)).double()
    shape = (1, 3, 3)
    with torch.no_grad():
        ones = nn.Sequential(*[nn.ConvTranspose2d(m.in_channels, m.out_channels, 3, stride=2, bias=False)
                               for m in net]).double()
        for m in ones:
            m.weight.fill_(1.0)
        expected = ones(torch.ones(1, *shape, dtype=torch.float64))[0].numpy()
    coverage = tm.coverage_map(net, shape)
    np.testing.assert_array_equal(coverage, expected)
    # Kernel 3 over stride 2 overlaps unevenly: a checkerboard of counts.
    assert len(np.unique(coverage)) > 2
    # Kernel 2 = stride 2 covers every output entry exactly once.
    even = nn.ConvTranspose1d(1, 1, 2, stride=2)
    np.testing.assert_array_equal(tm.coverage_map(even, (1, 5)), np.ones((1, 10)))


def test_effective_kernel_is_the_impulse_response(torch):
    nn = torch.nn
    net = nn.Sequential(nn.ConvTranspose1d(1, 2, 4, stride=2, padding=1),
                        nn.ConvTranspose1d(2, 1, 3, stride=3)).double()
    shape = (1, 5)
    impulse = np.zeros(shape)
    impulse[0, 2] = 1.0
    with torch.no_grad():
        expected = forward(torch, net, impulse) - forward(torch, net, np.zeros(shape))
    np.testing.assert_allclose(tm.effective_kernel(net, shape), expected, atol=1e-12)
    impulse[0, 2], impulse[0, 4] = 0.0, 1.0
    expected = forward(torch, net, impulse) - forward(torch, net, np.zeros(shape))
    np.testing.assert_allclose(tm.effective_kernel(net, shape, (4,)), expected, atol=1e-12)
    with pytest.raises(ConvSpecError, match=r"position=\(5,\) must index"):
        tm.effective_kernel(net, shape, (5,))
    with pytest.raises(ConvSpecError, match=r"channel=1 must be below the 1 input channels"):
        tm.effective_kernel(net, shape, channel=1)


def test_network_memory_guard(torch):
    net = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.Conv2d(4, 4, 3, padding=1))
    with pytest.raises(MemoryGuardError, match="above the memory limit"):
        tm.network_matrix(net, (4, 16, 16), max_bytes=50_000)
    # The layers alone fit, their product does not: the guard checks the product's bound.
    tm.module_matrix(net[0], (4, 16, 16), max_bytes=2**20)
    with pytest.raises(MemoryGuardError, match="product of layers 1 to 2"):
        tm.network_matrix(net, (4, 16, 16), max_bytes=2**20)


# ------------------------------------------------------------------ errors


def test_unsupported_modules_and_options_are_named(torch):
    nn = torch.nn

    class Doubled(nn.Conv1d):
        def forward(self, x):
            return 2 * super().forward(x)

    cases = [
        (nn.ReLU(), (1, 3), ConvSpecError, r"^ReLU is nonlinear: its Jacobian depends on x"),
        (Doubled(1, 1, 1), (1, 3), ConvSpecError, r"Doubled is not supported: it overrides the forward of Conv1d"),
        (nn.Sequential(nn.Conv1d(1, 1, 1), nn.Tanh()), (1, 3), ConvSpecError, r"^layer 2 \(net\[1\]\): Tanh is nonlinear"),
        (nn.AdaptiveAvgPool1d(2), (1, 3), ConvSpecError, r"^AdaptiveAvgPool1d is not supported: network_matrix reads Conv"),
        (nn.Upsample(scale_factor=2, mode="bicubic"), (1, 3, 3), ConvSpecError, r"mode='bicubic'\) is not supported"),
        (nn.Upsample(scale_factor=2, mode="bilinear"), (1, 3), ConvSpecError, "needs 2 spatial dims"),
        (nn.Upsample(scale_factor=2, mode="nearest", align_corners=True), (1, 3), ConvSpecError, "takes no align_corners"),
        (nn.Upsample(size=4, recompute_scale_factor=True), (1, 3), ConvSpecError, "recompute_scale_factor is not meaningful"),
        (nn.Conv2d(3, 1, 1), (2, 4, 4), ConvSpecError, r"Conv2d has in_channels=3, but input_shape=\(2, 4, 4\) has 2"),
        (nn.Conv2d(1, 1, 1), (1, 4), ConvSpecError, r"Conv2d takes one sample of shape \(C, 2 spatial dims\)"),
        (nn.Conv1d(1, 1, 3, padding=3, padding_mode="reflect"), (1, 3), ConvSpecError, "padding_mode='reflect' needs padding < input size"),
        (nn.ConvTranspose1d(1, 1, 3, padding="same"), (1, 3), ConvSpecError, "integer padding only"),
        (nn.Flatten(0), (2, 3), ConvSpecError, r"Flatten\(start_dim=0\) must name a dim of the sample"),
        (nn.Unflatten(1, (4, 2)), (2, 6), ConvSpecError, "does not fit dim 0"),
        (nn.Flatten(3, 2), (3, 2, 2), ConvSpecError, "start_dim comes after end_dim"),
        (nn.Linear(3, 2), (2, 4), ConvSpecError, r"Linear\(in_features=3\) acts on the last dim"),
        (nn.PixelShuffle(2), (3, 2, 2), ConvSpecError, "channels divisible by 4"),
        (nn.PixelUnshuffle(2), (1, 3, 2), ConvSpecError, "H and W divisible by 2"),
        (nn.PixelShuffle(2), (4, 2), ConvSpecError, r"shape \(C, H, W\)"),
        (nn.ReflectionPad1d(1), (1, 2, 3), ConvSpecError, r"ReflectionPad1d takes one sample of shape \(C, 1 spatial dims\)"),
        (nn.ReplicationPad1d((-1, 1)), (1, 3), ConvSpecError, "negative padding crops, which only the constant"),
        (nn.Upsample(scale_factor=2), (1, 2, 2, 2, 2), ConvSpecError, "1 to 3 spatial dims"),
        (nn.ZeroPad2d(1), (3,), ConvSpecError, "pads 2 dims"),
        (nn.AvgPool1d(4, padding=3), (1, 5), ConvSpecError, "at most half of kernel_size"),
        (nn.AvgPool3d((1, 2, 1), 1, (0, 1, 0)), (1, 1, 1, 3), ConvSpecError, "avg_pool3d|3-D average pooling"),
        (nn.Conv1d(1, 1, 1), "1x3", ConvSpecTypeError, "must be one sample's shape"),
        (nn.Conv1d(1, 1, 1), (), ConvSpecError, "at least one dim"),
        ("Conv1d", (1, 3), ConvSpecTypeError, "must be a torch.nn.Module"),
    ]
    for module, shape, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            tm.module_matrix(module, shape)
    with pytest.raises(ConvSpecError, match="not a Sequential"):
        tm.module_matrix(nn.Sequential(nn.ConvTranspose1d(1, 1, 2)), (1, 3), output_size=[4])
    with pytest.raises(ConvSpecError, match="Sequential on input_shape"):
        tm.interop.from_module(nn.Sequential(nn.Conv1d(1, 1, 1), nn.Conv1d(1, 1, 1)), (1, 3))
    # A Sequential of one convolution is that convolution.
    assert tm.interop.from_module(nn.Sequential(nn.Conv1d(1, 2, 1)), (1, 3)).spec.out_channels == 2


# ------------------------------------------------------------------ networks as users write them


def _randomised_batch_norms(torch, net):
    """Running statistics and affine parameters away from their identity defaults."""
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for layer in net.modules():
            if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
                n = layer.num_features
                layer.running_mean.copy_(torch.randn(n, generator=generator))
                layer.running_var.copy_(0.2 + torch.rand(n, generator=generator))
                if layer.affine:
                    layer.weight.copy_(torch.randn(n, generator=generator))
                    layer.bias.copy_(torch.randn(n, generator=generator))
    return net


def _eval_stacks(torch):
    nn = torch.nn
    return {
        "1d": (nn.Sequential(
            nn.Conv1d(2, 3, 3, padding=1), nn.BatchNorm1d(3), nn.Dropout(0.4), nn.Identity(),
            nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1), nn.BatchNorm1d(2, affine=False),
            nn.Dropout1d(0.2),
        ), (2, 7)),
        "2d": (nn.Sequential(
            nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2), nn.BatchNorm2d(4), nn.Dropout2d(0.5),
            nn.Sequential(nn.Identity(), nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)),
            nn.BatchNorm2d(3, eps=1e-3), nn.AlphaDropout(0.3), nn.Conv2d(3, 1, 1),
        ), (2, 6, 5)),
        "3d": (nn.Sequential(
            nn.ConvTranspose3d(1, 2, 2, stride=2), nn.BatchNorm3d(2), nn.Dropout3d(),
            nn.Conv3d(2, 2, 3, padding=1, bias=False), nn.FeatureAlphaDropout(0.1), nn.Identity(),
        ), (1, 2, 3, 2)),
        "linear": (nn.Sequential(nn.Flatten(), nn.Linear(6, 4), nn.BatchNorm1d(4), nn.Dropout()), (2, 3)),
    }


@pytest.mark.parametrize("case", ["1d", "2d", "3d", "linear"])
def test_eval_mode_networks_fold_batch_norm_and_drop_dropout(torch, case):
    net, shape = _eval_stacks(torch)[case]
    net = _randomised_batch_norms(torch, net.double()).eval()
    M, b = tm.network_matrix(net, shape)
    xs = np.random.default_rng(7).standard_normal((3, *shape))
    with torch.no_grad():
        expected = net(torch.tensor(xs)).numpy()
    for x, y in zip(xs, expected):
        np.testing.assert_allclose(M @ x.reshape(-1) + b, y.reshape(-1), rtol=0, atol=1e-10)
    # The linear part is the Jacobian autograd finds, the offset the output at 0.
    jacobian = torch.autograd.functional.jacobian(lambda v: net(v[None])[0], torch.tensor(xs[0]))
    np.testing.assert_allclose(M.toarray(), jacobian.numpy().reshape(M.shape), rtol=0, atol=1e-10)
    with torch.no_grad():
        at_zero = net(torch.zeros(1, *shape, dtype=torch.float64))[0].numpy()
    np.testing.assert_allclose(b, at_zero.reshape(-1), rtol=0, atol=1e-10)


@pytest.mark.parametrize("make, shape", [
    (lambda nn: nn.BatchNorm1d(3), (3,)),
    (lambda nn: nn.BatchNorm1d(3), (3, 4)),
    (lambda nn: nn.BatchNorm2d(2, momentum=None), (2, 3, 2)),
    (lambda nn: nn.BatchNorm3d(2, affine=False), (2, 2, 1, 3)),
    (lambda nn: nn.Dropout(0.9), (2, 3)),
    (lambda nn: nn.Dropout2d(0.5), (2, 3, 3)),
])
def test_eval_batch_norm_and_dropout_modules(torch, make, shape):
    module = _randomised_batch_norms(torch, make(torch.nn).double()).eval()
    check_module(torch, module, shape)


def test_eval_batch_norm_is_a_depthwise_unit_convolution_with_bias(torch):
    norm = _randomised_batch_norms(torch, torch.nn.BatchNorm2d(3).double()).eval()
    found = tm.interop.from_module(norm, (3, 4, 2))
    assert found.spec.groups == 3 and found.spec.kernel_size == (1, 1) and not found.transposed
    # A torch Conv2d with that weight and bias computes the BatchNorm.
    conv = torch.nn.Conv2d(3, 3, 1, groups=3).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(found.weight))
        conv.bias.copy_(torch.tensor(found.bias))
        x = torch.randn(2, 3, 4, 2, dtype=torch.float64)
        np.testing.assert_allclose(conv(x).numpy(), norm(x).numpy(), rtol=0, atol=1e-12)
    # coverage_map treats its scale as a learned weight: ones, bias dropped.
    np.testing.assert_array_equal(tm.coverage_map(norm, (3, 4, 2)), np.ones((3, 4, 2)))


def test_training_mode_and_nonlinear_layers_are_refused_by_position(torch):
    nn = torch.nn
    stack = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Conv2d(2, 1, 1))
    shape = (1, 5, 5)
    # A fresh module is in training mode: batch statistics are refused.
    with pytest.raises(ConvSpecError, match=r"^layer 2 \(net\[1\]\): BatchNorm2d is in training mode: it normalises by the mean and variance of the batch.*call \.eval\(\)"):
        tm.network_matrix(stack, shape)
    stack.eval()
    with pytest.raises(ConvSpecError, match=r"^layer 3 \(net\[2\]\): ReLU is nonlinear: its Jacobian depends on x") as caught:
        tm.network_matrix(stack, shape)
    assert len(str(caught.value)) < 400 and "ConstantPad" not in str(caught.value)
    nested = nn.Sequential(nn.Conv1d(1, 1, 1), nn.Sequential(nn.Identity(), nn.Dropout(0.2))).train()
    with pytest.raises(ConvSpecError, match=r"^layer 3 \(net\[1\]\[1\]\): Dropout\(p=0.2\) is in training mode: it zeros a random"):
        tm.network_matrix(nested, (1, 4))
    # p=0 drops nothing even in training mode.
    assert tm.network_matrix(nn.Sequential(nn.Dropout(0.0)).train(), (1, 4)).matrix.nnz == 4
    no_stats = nn.BatchNorm1d(1, track_running_stats=False).eval()
    with pytest.raises(ConvSpecError, match=r"track_running_stats=False\) normalises by the batch's own"):
        tm.network_matrix(no_stats, (1, 4))
    for layer in (nn.MaxPool1d(2), nn.LayerNorm(4), nn.GELU(), nn.Softmax(-1), nn.InstanceNorm1d(1),
                  nn.GroupNorm(1, 1), nn.LPPool1d(2, 2), nn.AdaptiveMaxPool1d(2)):
        with pytest.raises(ConvSpecError, match=rf"^layer 2 \(net\[1\]\): {type(layer).__name__} is nonlinear"):
            tm.network_matrix(nn.Sequential(nn.Conv1d(1, 1, 1), layer).eval(), (1, 4))
    with pytest.raises(ConvSpecError, match=r"BatchNorm2d\(num_features=2\) normalises 2 channels"):
        tm.network_matrix(nn.BatchNorm2d(2).eval(), (3, 2, 2))
    with pytest.raises(ConvSpecError, match=r"BatchNorm2d takes one sample of shape \(C, 2 spatial dims\)"):
        tm.network_matrix(nn.BatchNorm2d(2).eval(), (2, 2))


def test_layer_spec_and_network_describe_themselves(torch):
    found = tm.interop.from_module(torch.nn.ConvTranspose1d(2, 1, 3, stride=2, bias=False), (2, 4))
    assert repr(found).startswith("LayerSpec(ConvTranspose1d: ConvSpec(") and "Cᵀ" in repr(found)
    np.testing.assert_array_equal(found.offset, np.zeros(9))
    M, b = tm.network_matrix(torch.nn.Sequential(), (2, 3))
    np.testing.assert_array_equal(M.toarray(), np.eye(6))
