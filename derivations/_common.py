"""Harness of the derivation scripts: command line, fragment, exit status.

A script builds a :class:`transpose_matrix.Derivation`, the library's one
derivation model, in a function and ends with ``sys.exit(_common.main(build,
__file__))``. The harness prints the derivation as text, writes it as a LaTeX
fragment with ``--latex FILE`` (rendered by ``transpose_matrix.render``), and
exits with status 1, writing nothing, when a claim did not hold: notes that
build are notes whose every claim held on this machine.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# The scripts document the package of the checkout they sit in, even where
# another copy is installed.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "transpose_matrix" / "__init__.py").exists():
    sys.path.insert(0, str(_CHECKOUT))

from transpose_matrix import Derivation  # noqa: E402

__all__ = ["NOTES_WIDTH", "difference", "main", "max_error"]

#: The line width the fragments are laid out for, in pt at 10 pt type:
#: ``notes.tex`` sets 11 pt type with 2 cm margins on letter paper, a
#: ``\linewidth`` of 500.5 pt, which holds what 457 pt of 10 pt type would.
NOTES_WIDTH = 450.0


def max_error(a: Any, b: Any) -> float:
    """Largest absolute difference of two arrays, tensors or sparse matrices.

    Raises
    ------
    ValueError
        The shapes differ (a claim comparing them cannot hold).
    """
    import numpy as np

    a = a.toarray() if hasattr(a, "toarray") else np.asarray(a)
    b = b.toarray() if hasattr(b, "toarray") else np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.abs(a - b).max(initial=0.0))


def difference(error: float, what: str = "largest difference") -> str:
    """``"largest difference $4.4 \\times 10^{-16}$"`` as prose markup (two digits)."""
    from transpose_matrix.render import format_number

    return f"{what} ${format_number(float(f'{error:.1e}'))}$"


def main(build: Callable[[], Derivation], script: str, argv: Sequence[str] | None = None) -> int:
    """Run ``build``, print it, write ``--latex FILE`` and ``--html FILE``; the exit status.

    0 when every claim held, 1 (with the failed claims on stderr, and no
    fragment written) when one did not.
    """
    name = Path(script).stem
    doc = (build.__module__ and sys.modules[build.__module__].__doc__) or name
    parser = argparse.ArgumentParser(
        description=doc.splitlines()[0],
        epilog=f"example: python derivations/{name}.py --latex {name}.tex",
    )
    parser.add_argument("--latex", metavar="FILE", help="also write the LaTeX fragment here")
    parser.add_argument(
        "--html", metavar="FILE", help="also write it as HTML (MathJax maths) for the web pages"
    )
    args = parser.parse_args(argv)
    derivation = build()
    derivation.label = derivation.label or name
    derivation.source = f"derivations/{name}.py"
    print(derivation.text())
    count = len(derivation.checks)
    print()
    print(f"{count} claims checked.")
    failures = derivation.failures()
    if failures:
        for title, check in failures:
            print(f"error: in {title!r}: {check.text()}", file=sys.stderr)
        return 1
    if args.latex or args.html:
        derivation.say(f"All {count} claims of this section held when it was built.")
    if args.latex:
        tex = derivation.latex(numbered=True, width=NOTES_WIDTH)
        Path(args.latex).write_text(tex, encoding="utf-8")
        print(f"LaTeX written to {args.latex}")
    if args.html:
        Path(args.html).write_text(derivation._repr_html_(), encoding="utf-8")
        print(f"HTML written to {args.html}")
    return 0
