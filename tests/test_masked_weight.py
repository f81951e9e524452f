"""A masked weight (numpy.ma.MaskedArray) is refused wherever weights enter, never read blind.

``np.asarray`` drops a mask silently; every entry point routes the weight
through ``check_weight`` (or, for a framework's kernel, the same refusal),
so masked taps raise ``ConvSpecTypeError`` naming the count and the remedy.
The referee for the unmasked case is the plain array's result.
"""

from __future__ import annotations

import numpy as np
import pytest

import transpose_matrix as tm
from transpose_matrix import ConvSpec, ConvSpecTypeError

SPEC = ConvSpec((5, 4), 3, stride=2, padding=1, in_channels=2, out_channels=2)


def masked_weight(count: int = 2) -> np.ma.MaskedArray:
    data = np.random.default_rng(0).standard_normal(SPEC.weight_shape)
    mask = np.zeros(SPEC.weight_shape, dtype=bool)
    mask.reshape(-1)[:count] = True
    return np.ma.MaskedArray(data, mask=mask)


ENTRIES = {
    "conv_matrix": lambda w: tm.conv_matrix(SPEC, w),
    "transposed_conv_matrix": lambda w: tm.transposed_conv_matrix(SPEC, w),
    "conv_operator": lambda w: tm.conv_operator(SPEC, w),
    "verify": lambda w: tm.verify(SPEC, w, use_torch=False),
    "singular_values": lambda w: tm.singular_values(SPEC, w, k=1),
    "operator_norm": lambda w: tm.operator_norm(SPEC, w),
    "weight_substitution": lambda w: tm.weight_substitution(SPEC, w),
    "reference_conv_matrix": lambda w: tm.matrices.reference_conv_matrix(SPEC, w),
    "translation": lambda w: tm.interop.translate_onnx((2, 5, 4), (2, 1, 3, 3)).matrix(w[:, :1]),
}


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_masked_weights_are_refused_with_the_reason(entry):
    with pytest.raises(ConvSpecTypeError, match=r"weight is a numpy\.ma\.MaskedArray with 2 masked "
                       r"entries: .*would ignore the mask; pass weight\.filled\(0\)") as caught:
        ENTRIES[entry](masked_weight(2))
    assert caught.value.field == "weight"
    with pytest.raises(ConvSpecTypeError, match="with 1 masked entry:"):
        ENTRIES[entry](masked_weight(1))


def test_a_masked_array_with_nothing_masked_is_its_data():
    weight = masked_weight(0)
    plain = np.ma.getdata(weight).copy()
    np.testing.assert_array_equal(tm.conv_matrix(SPEC, weight).toarray(),
                                  tm.conv_matrix(SPEC, plain).toarray())
    # The remedy the message names goes through.
    assert tm.conv_matrix(SPEC, masked_weight(2).filled(0)).shape == SPEC.matrix_shape


def test_a_masked_framework_kernel_is_refused():
    kernel = np.ma.MaskedArray(np.ones((3, 3, 2, 4)), mask=np.eye(3, dtype=bool)[:, :, None, None]
                               & np.ones((3, 3, 2, 4), dtype=bool))
    with pytest.raises(ConvSpecTypeError, match=r"kernel is a numpy\.ma\.MaskedArray with 24 masked"):
        tm.interop.kernel_to_torch("keras", kernel)
    unmasked = np.ma.MaskedArray(np.arange(6.0).reshape(1, 2, 3))
    np.testing.assert_array_equal(tm.interop.kernel_to_torch("onnx", unmasked), np.arange(6.0).reshape(1, 2, 3))
