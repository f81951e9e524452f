"""Boundaries of the matrix builders that a mutation of the code once changed unnoticed.

Expected values are written from the documented conventions (or torch's
behaviour), never read back from the code.
"""

from __future__ import annotations

import numpy as np
import pytest

import transpose_matrix as tm
from transpose_matrix import ConvSpec, ConvSpecError


def test_weight_symbols_name_both_channels_when_either_side_has_several():
    # w_{o,c,t}: output channel, input channel in its group, tap. Only a
    # layer with one input and one output channel drops the channels.
    names = [str(w) for w in tm.weight_symbols(ConvSpec((4,), 2, out_channels=2)).reshape(-1)]
    assert names == ["w_{0,0,0}", "w_{0,0,1}", "w_{1,0,0}", "w_{1,0,1}"]
    names = [str(w) for w in tm.weight_symbols(ConvSpec((4,), 2, in_channels=2)).reshape(-1)]
    assert names == ["w_{0,0,0}", "w_{0,0,1}", "w_{0,1,0}", "w_{0,1,1}"]
    names = [str(w) for w in tm.weight_symbols(ConvSpec((4,), 2)).reshape(-1)]
    assert names == ["w_{0}", "w_{1}"]


def test_max_unpool_indices_must_lie_inside_the_output(torch):
    # Flat indices address 0 .. prod(output_shape) - 1; torch refuses the
    # first one past the end as well.
    M = tm.max_unpool_matrix(np.array([[0, 5]]), (6,))
    assert M.shape == (6, 2)
    # The message names the entry outside, not the legal 0 before it.
    with pytest.raises(ConvSpecError, match=r"^indices entry 6 must lie in \[0, 6\)") as caught:
        tm.max_unpool_matrix(np.array([[0, 6]]), (6,))
    assert caught.value.field == "indices"
    with pytest.raises(ConvSpecError, match=r"^indices entry -1 must lie in \[0, 6\)"):
        tm.max_unpool_matrix(np.array([[0, -1]]), (6,))
    with pytest.raises(RuntimeError):
        torch.nn.functional.max_unpool1d(
            torch.ones(1, 1, 2), torch.tensor([[[0, 6]]]), 3, output_size=(6,)
        )
