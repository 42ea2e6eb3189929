"""The ``kerasnet`` console script's entry point, outside the package on purpose.

Importing ``kerasnet`` loads Keras, JAX and scikit-learn, which takes seconds. A Ctrl-C in
those seconds happens before any code of the command line runs: it would print a
KeyboardInterrupt traceback, or land in one of JAX's garbage-collection callbacks, where
Python swallows it and the command goes on. This module imports nothing heavy, so it can
handle Ctrl-C itself while the imports run: nothing has been written yet, so it exits at
once like every other interrupted command (one line, status 130). After the imports the
command line's own handling takes over (it removes half-written outputs).
"""

import os
import signal
import sys

_INTERRUPTED = "kerasnet: error: interrupted; nothing was written.\n"


def _exit_at_once(signum, frame):
    sys.stderr.write(_INTERRUPTED)
    sys.stderr.flush()
    os._exit(130)  # no clean-up to do, and none of the importing modules' handlers to run


def main(args=None):
    """Import the command line and run it; a Ctrl-C during the imports exits 130 quietly."""
    previous = signal.getsignal(signal.SIGINT)
    # Leave an ignored SIGINT (a background job) or a caller's own handler alone.
    if previous is signal.default_int_handler:
        signal.signal(signal.SIGINT, _exit_at_once)
    try:
        from kerasnet.cli import main as run
    finally:
        if previous is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous)
    return run(args)
