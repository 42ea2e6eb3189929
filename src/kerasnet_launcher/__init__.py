"""The ``kerasnet`` console script's entry point, outside the package on purpose.

Importing the command line is light (``kerasnet --help`` and the usage errors need neither Keras
nor JAX), but a command that trains imports Keras, JAX and scikit-learn, which takes seconds. A
Ctrl-C in those seconds happens before the command's own handling is ready: it would print a
KeyboardInterrupt traceback, or land in one of JAX's garbage-collection callbacks, where
Python swallows it and the command goes on. This module imports nothing heavy, so it can
handle Ctrl-C (and SIGTERM) itself while the imports run: nothing has been written yet, so
it exits at once like every other interrupted command (one line, status 130; 143 for
SIGTERM). After the imports the
command line's own handling takes over (it removes half-written outputs).
"""

import os
import signal
import sys

_INTERRUPTED = "kerasnet: error: interrupted; nothing was written.\n"


def _exit_at_once(signum, frame):
    sys.stderr.write(_INTERRUPTED)
    sys.stderr.flush()
    os._exit(128 + signum)  # 130 or 143; no clean-up to do, none of the importing modules' handlers to run


def main(args=None):
    """Import the command line and run it; a Ctrl-C or SIGTERM during the imports exits quietly.

    The handlers stay until the command line installs its own (:mod:`kerasnet.interrupts`),
    so no signal falls in the gap between the two.
    """
    # Leave an ignored signal (SIGINT of a background job) or a caller's own handler alone.
    default = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    replaced = {sig: handler for sig, handler in default.items() if signal.getsignal(sig) is handler}
    for sig in replaced:
        signal.signal(sig, _exit_at_once)
    try:
        from kerasnet.cli import main as run
    except BaseException:
        for sig, handler in replaced.items():
            signal.signal(sig, handler)
        raise
    return run(args)
