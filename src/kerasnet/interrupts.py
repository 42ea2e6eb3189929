"""Ctrl-C and SIGTERM as a request that training honours between epochs, never an exception mid-code.

Python turns SIGINT into a ``KeyboardInterrupt`` raised wherever the interpreter happens to
be, which may be a garbage-collection callback of JAX, where it is printed and swallowed
(the run goes on and writes its output), or the middle of writing a file. Inside
:func:`deferred` a SIGINT or SIGTERM only records the request; the code polls :func:`check`
at safe points (after each epoch, before an output is moved into place), which raises
:class:`Interrupted` there. A second signal while one is pending raises at once, so a
command stuck between safe points still stops.

Outside :func:`deferred` (a library user's own program) nothing changes: :func:`check` is a
no-op and Python's default handlers stay in place. Only the command line installs it.
"""

from __future__ import annotations

import contextlib
import signal
import threading

__all__ = ["Interrupted", "check", "deferred"]

#: The signal received inside :func:`deferred` and not yet acted on (None: none).
_pending: int | None = None


class Interrupted(KeyboardInterrupt):
    """Raised by :func:`check` after a SIGINT or SIGTERM; ``signum`` is the signal.

    A ``KeyboardInterrupt``, so ``except Exception`` blocks (a report that may fail) let it
    through and the outputs' clean-up (``except BaseException``) runs.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's status for a process ended by ``signum``: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + int(self.signum)


def _record(signum, frame):
    global _pending
    if _pending is not None:  # asked twice: stop now, wherever we are
        raise Interrupted(signum)
    _pending = signum


def check() -> None:
    """Raise :class:`Interrupted` if a signal arrived inside :func:`deferred`; otherwise nothing."""
    if _pending is not None:
        raise Interrupted(_pending)


@contextlib.contextmanager
def deferred(signals=(signal.SIGINT, signal.SIGTERM)):
    """Record ``signals`` instead of acting on them, for :func:`check` to raise at a safe point.

    The previous handlers are restored on leaving. Outside the main thread (where Python
    cannot install handlers) it changes nothing. A signal that Python was told to ignore
    (``SIG_IGN``, e.g. SIGINT of a background job) stays ignored.
    """
    global _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    try:
        for sig in signals:
            if signal.getsignal(sig) is not signal.SIG_IGN:
                previous[sig] = signal.signal(sig, _record)
        _pending = None
        yield
    finally:
        for sig, handler in previous.items():
            # None: a handler installed outside Python; the default is the closest we can restore.
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        _pending = None
