r"""What a row of C or a column of Cᵀ says, in words: the sentences every view shares.

A row of C gathers (``yᵢ = Σ w·x``); a column of Cᵀ scatters (``yⱼ`` adds
``yⱼ·w`` to each ``x`` it reaches). :data:`READOUTS` holds those sentences as
templates, so the reports (:mod:`transpose_matrix.narrative.report`) and the
HTML page's readouts (which fill them in the browser) say the same thing;
:func:`frame_caption` captions the animations' frames. Imports nothing heavy:
the animations load it without sympy.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ConvSpecError

__all__ = ["READOUTS", "VIEW_CAPTIONS", "frame_caption", "readout"]

#: What a row of C or a column of Cᵀ says, as (lead, term, joiner) templates:
#: ``{y}``/``{x}`` are the position the row or column belongs to, ``{w}`` a
#: weight and ``{other}`` the position that weight meets. A row of C gathers
#: (yᵢ = Σ w·x); a column of Cᵀ scatters (yⱼ adds yⱼ·w to each x it reaches).
READOUTS = {
    "row of C": ("{y} = ", "{w}·{other}", " + "),
    "column of C": ("{x} adds ", "{w}·{x} to {other}", ", "),
    "column of Cᵀ": ("{y} adds ", "{y}·{w} to {other}", ", "),
    "row of Cᵀ": ("{x} = ", "{w}·{other}", " + "),
}


def readout(
    kind: str, own: str, terms: Sequence[tuple[str, str]], limit: int | None = None
) -> str:
    """The sentence of :data:`READOUTS` ``kind`` for position ``own`` and ``(weight, other)`` terms.

    Examples
    --------
    >>> readout("column of Cᵀ", "y₀₀", [("w₁₁", "x₀₀"), ("w₁₂", "x₀₁")])
    'y₀₀ adds y₀₀·w₁₁ to x₀₀, y₀₀·w₁₂ to x₀₁'
    >>> readout("row of C", "y₀", [("w₀", "x₀"), ("w₁", "x₁"), ("w₂", "x₂")], limit=2)
    'y₀ = w₀·x₀ + w₁·x₁ + … (1 more)'
    """
    if kind not in READOUTS:
        raise ConvSpecError(f"kind={kind!r} must be one of {', '.join(map(repr, READOUTS))}")
    lead, term, joiner = READOUTS[kind]
    names = {"y": own, "x": own}
    shown = list(terms if limit is None else terms[:limit])
    parts = [term.format(w=w, other=other, **names) for w, other in shown]
    if limit is not None and len(terms) > limit:
        parts.append(f"… ({len(terms) - limit} more)")
    return lead.format(**names) + (joiner.join(parts) if parts else "0")


#: What each animation view's frame shows: the active cell's word and the vector.
VIEW_CAPTIONS = {
    "gather": ("output", "row {r} of C"),
    "scatter": ("input pixel", "column {r} of Cᵀ"),
    "zero-insertion": ("output", "row {r} of Cᵀ"),
}


def frame_caption(
    view: str, r: int, channel: int, channels: int, position: Sequence[int]
) -> str:
    """The caption of frame ``r`` of an animation ``view`` (a key of :data:`VIEW_CAPTIONS`).

    Examples
    --------
    >>> frame_caption("scatter", 4, 0, 1, (1, 1))
    'input pixel (1, 1) = column 4 of Cᵀ'
    >>> frame_caption("gather", 7, 1, 2, (3,))
    'output 3 of channel 1 = row 7 of C'
    """
    word, vector = VIEW_CAPTIONS[view]
    where = str(position[0]) if len(position) == 1 else "(" + ", ".join(map(str, position)) + ")"
    cell = f"{word} {where}" + (f" of channel {channel}" if channels != 1 else "")
    return f"{cell} = {vector.format(r=r)}"
