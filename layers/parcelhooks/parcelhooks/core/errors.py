"""Domain errors: what a caller did wrong or what could not be done, in domain terms."""

from __future__ import annotations


class InvalidCursorError(ValueError):
    """A pagination cursor we did not hand out (or one of another merchant)."""
