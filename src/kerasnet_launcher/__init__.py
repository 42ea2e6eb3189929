"""The ``kerasnet`` console script's entry point, outside the package on purpose.

Importing ``kerasnet`` loads Keras, JAX and scikit-learn, which takes seconds. A Ctrl-C in
those seconds happens before any code of the command line runs, so it would print a
KeyboardInterrupt traceback; this module imports nothing heavy, so it can catch it and
exit like every other interrupted command: one line, status 130, nothing written.
"""

import sys


def main(args=None):
    """Import the command line and run it; a Ctrl-C during the imports exits 130 quietly."""
    try:
        from kerasnet.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("kerasnet: error: interrupted; nothing was written.\n")
        sys.exit(130)
    return run(args)
