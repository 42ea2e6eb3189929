"""One-line input errors: :class:`InputError` and the helpers that keep its messages short.

Everything that can go wrong with a user's data raises :class:`InputError`, a ``ValueError``
whose message is one line naming the problem and the fix; the command line turns it into
exit code 2. :func:`short`, :func:`listing` and :func:`plain` put values into such messages
(plain Python values, each cut to a width, long lists cut to their first few).
"""

from __future__ import annotations

import sys

__all__ = ["InputError", "listing", "plain", "short"]


class InputError(ValueError):
    """Bad user input (file, column, value); the message is one line: the problem, then the fix."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def short(value, width: int = 40) -> str:
    """A value as plain text (numpy scalars as Python ones), cut to ``width`` characters."""
    text = str(plain(value))
    return text if len(text) <= width else text[: width - 3] + "..."


def listing(values, limit: int = 5, quote: bool = False, width: int | None = 40) -> str:
    """At most ``limit`` values, each cut to ``width`` characters, then how many in all."""
    values = list(values)
    shown = [str(plain(v)) if width is None else short(v, width) for v in values[:limit]]
    shown = [repr(v) for v in shown] if quote else shown
    return ", ".join(shown) + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def plain(value):
    """A JSON-native copy of a label (numpy scalars become Python numbers)."""
    # Looked up, not imported: numpy is heavy next to a usage error, and a value can only be a
    # numpy scalar once numpy has been imported.
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        return value.item()
    return value
