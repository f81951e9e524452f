"""verify(): the report against torch, and the fallback to the loop reference."""

from __future__ import annotations

import numpy as np
import pytest

from transpose_matrix import ConvSpec, ConvSpecError, VerifyReport, verify


def test_verify_with_torch_reports_all_four_checks(torch):
    spec = ConvSpec.from_transposed((3, 4), 4, 2, 3, stride=2, padding=1, output_padding=1, groups=2)
    report = verify(spec, seed=3)
    assert report.referee == f"torch {torch.__version__}"
    assert set(report.errors) == {
        "C @ x vs conv",
        "C.T @ g vs autograd input gradient",
        "C.T @ y vs conv_transpose",
        "dot test <Cx,y> vs <x,C.T y>",
    }
    assert report.ok
    assert max(report.errors.values()) < 1e-12
    assert str(report).endswith("all checks passed")


def test_verify_skips_conv_transpose_when_no_layer_matches(torch):
    report = verify(ConvSpec((6,), 3, padding=[(0, 2)]))
    assert "C.T @ y vs conv_transpose" not in report.errors
    assert report.ok


def test_verify_without_torch_uses_reference_and_says_so():
    spec = ConvSpec((5, 4), 3, stride=2, padding=1, in_channels=2, out_channels=2)
    report = verify(spec, use_torch=False)
    assert "reference loop builder" in report.referee
    # torch is installed here: the reference was chosen, and the report says so.
    assert report.referee == "reference loop builder (by request, instead of torch)"
    assert report.ok and "C vs reference C" in report.errors


def test_verify_without_torch_installed_says_so(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    report = verify(ConvSpec((4,), 2))
    assert report.referee == "reference loop builder (torch is not installed)"
    assert report.ok


def test_verify_takes_a_given_weight(torch):
    spec = ConvSpec((4,), 2)
    report = verify(spec, np.array([[[1.0, -2.0]]]))
    assert report.ok


def test_verify_rejects_wrong_weight_shape():
    with pytest.raises(ConvSpecError, match="weight shape"):
        verify(ConvSpec((4,), 2), np.ones((1, 1, 3)))


def test_report_flags_failures():
    report = VerifyReport(spec=ConvSpec((4,), 2), referee="test", errors={"a": 0.0, "b": 1.0})
    assert not report.ok
    text = str(report)
    assert "FAIL" in text and text.endswith("SOME CHECKS FAILED")
