"""The project's error types, importable from anywhere without cycles.

Every error the library raises on bad input is a :class:`ConvSpecError`, so
``except ConvSpecError`` catches them all. Type problems (a float where an
integer belongs, a string, a bool) are also :class:`TypeError`; everything
else is also :class:`ValueError`. Messages name the parameter, the offending
value and the rule it broke.
"""

from __future__ import annotations

__all__ = ["ConvSpecError", "ConvSpecTypeError", "MemoryGuardError"]


class ConvSpecError(ValueError):
    """A parameter broke a rule: ``groups=2 must divide in_channels=3``."""


class ConvSpecTypeError(ConvSpecError, TypeError):
    """A parameter has the wrong type: ``stride=2.5 must be an integer``."""


class MemoryGuardError(ConvSpecError):
    """The explicit matrix would need more memory than the allowed limit."""
