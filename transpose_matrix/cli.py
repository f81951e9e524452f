"""Command line interface (placeholder until the CLI issue lands)."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m transpose_matrix``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    from .spec import ConvSpec
    from .symbolic import symbolic_conv_matrix

    spec = ConvSpec((4, 4), 3)
    print(spec)
    print(symbolic_conv_matrix(spec))
    return 0
