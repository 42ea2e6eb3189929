"""Writing one file all at once, with the mode any new file gets under the user's umask.

The file is written to a temporary sibling (``.NAME.tmp-XXXXXXXX``) and moved into place
in one step, so a reader never sees half of it and a failure leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from .. import interrupts

__all__ = ["new_file_mode", "umask", "write_bytes", "write_file_atomic", "write_text"]


def umask() -> int:
    """The process's umask (reading it means setting it: put straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode ``open()`` gives a new file under the current umask."""
    return 0o666 & ~umask()


def write_file_atomic(out, write, check: bool = True) -> None:
    """Call ``write(tmp_path)`` then move the finished file to ``out`` in one step.

    The file gets the mode of any new file (``0o666`` less the umask), also when it replaces
    one; with ``check``, a pending Ctrl-C or SIGTERM (:mod:`kerasnet.interrupts`) stops it
    before the move, leaving ``out`` as it was.
    """
    parent, name = os.path.split(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.tmp-", dir=parent)
    os.close(fd)
    try:
        os.chmod(tmp, new_file_mode())  # mkstemp's 0600 would hide the file from colleagues
        write(tmp)
        if check:
            interrupts.check()
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path``."""
    with open(path, "wb") as fh:
        fh.write(data)
