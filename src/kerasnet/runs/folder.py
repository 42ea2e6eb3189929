"""The command line's outputs: run folders that never replace a user's file, atomic writes, JSON.

A finished run folder holds :data:`RUN_MARKER`, the sha256 of every file the run wrote;
``overwrite`` replaces only such a folder, and only when every file in it is one of those,
unchanged (:func:`check_out_dir`); ``kerasnet report`` writes only into such a folder
(:func:`check_run_folder`) and records what it wrote (:func:`record_files`). A predictions
file has the same record beside it (:func:`predictions_record`); the records live in
:mod:`kerasnet.runs.marker`. Everything is written to a temporary folder or file first and
moved into place at the end (:mod:`kerasnet.runs.atomic`), with the mode a new file gets
under the user's umask.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile

from .. import interrupts
from ..errors import InputError, plain, short
from .atomic import umask, write_file_atomic
from .marker import (
    RUN_MARKER,
    check_replaceable,
    check_run_folder,
    differences,
    is_predictions_file,
    predictions_marker,
    predictions_record,
    record_files,
    recorded,
    sha256,
    write_predictions_file,
    write_run_marker,
)

__all__ = ["RUN_MARKER", "atomic_dir", "check_out_dir", "check_out_file", "check_replaceable",
           "check_run_folder", "json_safe", "predictions_record", "record_files", "sha256",
           "write_file_atomic", "write_json", "write_predictions_file", "write_run_marker"]

#: What mkdtemp / mkstemp add to the prefix ``.{name}.tmp-``: eight random characters.
_RANDOM = "X" * 8


def _listing(names, limit: int = 5) -> str:
    names = [str(n) for n in names]
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _inside(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or lies below it (both real, absolute paths)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _real_inputs(inputs) -> list[str]:
    return [os.path.realpath(p) for p in inputs if p is not None and os.path.exists(p)]


def _check_name_length(out, target: str) -> None:
    """Refuse an ``out`` whose name, or its temporary sibling's, is too long for its file system."""
    existing = os.path.dirname(target)
    while not os.path.isdir(existing):
        existing = os.path.dirname(existing)
    try:
        limit = os.pathconf(existing, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    name = os.path.basename(target)
    for part in os.path.relpath(os.path.dirname(target), existing).split(os.sep):
        if part not in (".", "") and len(os.fsencode(part)) > limit:
            raise InputError(f"out='{short(out, 60)}' holds a folder name too long for the file system "
                             f"('{short(part, 40)}', {len(os.fsencode(part))} bytes; at most {limit}); "
                             "choose a shorter name.")
    size, extra = len(os.fsencode(name)), len(f"..tmp-{_RANDOM}")
    if size + extra > limit:
        raise InputError(f"out='{short(out, 60)}' is too long a name for its folder ({size} bytes; kerasnet "
                         f"first writes it under a name {extra} bytes longer, and the file system allows "
                         f"{limit}); choose a name of at most {limit - extra} bytes.")


def _check_can_write(folder: str, out: str) -> None:
    """Refuse an ``out`` whose folder cannot take new entries (missing rights, /proc, a file)."""
    while not os.path.isdir(folder):
        if os.path.lexists(folder):
            raise InputError(f"out='{out}' lies under '{folder}', which is a file; choose another folder.")
        folder = os.path.dirname(folder)
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".kerasnet-check-", dir=folder))
    except OSError as err:
        raise InputError(
            f"cannot write out='{out}' ({err.strerror or err} in '{folder}'); choose a folder you can "
            "write to."
        ) from None


def check_out_dir(out, overwrite: bool, inputs=()) -> None:
    """Refuse an ``out`` folder that a run may not create or replace; raise :class:`InputError`.

    Refused always: the current folder or one above it, a folder holding any of ``inputs``
    (or an input itself), something that is not a folder, a place that cannot be written, a
    name too long for its file system (with the temporary sibling's longer name). An existing
    non-empty folder is refused unless ``overwrite``, and even then unless it is a kerasnet run
    (:data:`RUN_MARKER`) holding only the files that run wrote, each with its recorded sha256:
    ``overwrite`` never removes anything else, and a marker copied into another folder does
    not match its files.
    """
    real = os.path.realpath(out)
    if _inside(os.path.realpath(os.getcwd()), real):
        raise InputError(
            f"out='{out}' is the current folder or one above it; give a new folder such as runs/fit1."
        )
    for item in _real_inputs(inputs):
        if _inside(item, real):
            raise InputError(
                f"out='{out}' holds the input '{item}'; give an output folder that holds no input."
            )
    if os.path.islink(out) or (os.path.lexists(out) and not os.path.isdir(out)):
        raise InputError(f"out='{out}' exists and is not a folder; give a new folder name.")
    _check_can_write(os.path.dirname(real), out)
    _check_name_length(out, os.path.abspath(out))
    if os.path.lexists(out) and os.path.ismount(real):
        raise InputError(f"out='{out}' is a mount point, which cannot be replaced by the finished run; "
                         "give a new folder inside it.")
    if not os.path.lexists(out) or not os.listdir(out):
        return
    if not overwrite:
        raise InputError(
            f"out='{out}' already exists and is not empty; choose a new folder or pass overwrite=True "
            "to replace an earlier kerasnet run."
        )
    files, why = recorded(out)
    if files is None:
        raise InputError(
            f"out='{out}' is not a kerasnet run folder ({why}), so overwrite=True will not replace it; "
            "choose a new folder."
        )
    changed, foreign = differences(out, files)
    if foreign:
        raise InputError(
            f"out='{out}' holds files this kerasnet run did not write ({_listing(foreign)}), so "
            "overwrite=True will not replace it; move them away or choose a new folder."
        )
    if changed:
        raise InputError(
            f"out='{out}' holds files changed since kerasnet wrote them ({_listing(changed)}), so "
            "overwrite=True will not replace it; move them away or choose a new folder."
        )


def check_out_file(out, overwrite: bool, inputs=()) -> None:
    """Refuse an ``out`` file that must not be written; raise :class:`InputError`.

    Refused always: a folder, an input file (``inputs``), a place that cannot be written, a
    name too long for its file system. An existing file is refused unless ``overwrite``, and
    even then unless it is a predictions file that ``kerasnet predict`` wrote, unchanged
    since: the sha256 recorded beside it (``.NAME.kerasnet``) must match.
    """
    if os.path.isdir(out):
        raise InputError(f"out='{out}' is a folder; give a file name such as preds.csv.")
    real = os.path.realpath(out)
    if real in _real_inputs(inputs):
        raise InputError(f"out='{out}' is an input of this command; give a new file name such as "
                         "preds.csv.")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise InputError(f"the folder of out='{out}' does not exist; create it first.")
    _check_name_length(out, os.path.abspath(out))
    if os.path.lexists(out):
        if not overwrite:
            raise InputError(f"out='{out}' already exists; choose a new name or pass overwrite=True.")
        if not is_predictions_file(out):
            raise InputError(
                f"out='{out}' is not a predictions file written by kerasnet predict (or it was changed "
                "since), so overwrite=True will not replace it; choose a new name."
            )
    marker = predictions_marker(out)
    if os.path.lexists(marker) and predictions_record(out) is None:
        raise InputError(f"'{marker}' (where kerasnet records the predictions it writes) is not kerasnet's; "
                         "move it away or choose another --out name.")
    _check_can_write(parent, out)


def _make_parents(path: str) -> list[str]:
    created = []
    while not os.path.isdir(path):
        created.append(path)
        path = os.path.dirname(path)
    for folder in reversed(created):
        os.mkdir(folder)
    return created


@contextlib.contextmanager
def atomic_dir(out, overwrite: bool = False, inputs=(), command: str = "run"):
    """Yield a temporary folder next to ``out``; on success it becomes ``out``, else vanishes.

    An existing ``out`` is replaced (with ``overwrite``, and only when :func:`check_out_dir`
    allows it) only after the body succeeded, so an interrupted or failed run leaves neither
    half-written files nor a damaged old folder. The finished folder carries the run marker.
    """
    check_out_dir(out, overwrite, inputs)
    out = os.path.abspath(out)
    parent, name = os.path.split(out)
    created = []
    tmp = None
    try:
        created = _make_parents(parent)
        tmp = tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=parent)
        # mkdtemp makes the folder private (0700); the result should look like any new folder.
        os.chmod(tmp, 0o777 & ~umask())
        yield tmp
        write_run_marker(tmp, command)
        check_out_dir(out, overwrite, inputs)
        interrupts.check()  # a Ctrl-C or SIGTERM while saving: the old folder stays, tmp goes
        old = None
        if os.path.lexists(out):
            old = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
            os.rmdir(old)
            os.rename(out, old)
        os.rename(tmp, out)
        tmp = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for folder in created:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise


def json_safe(value):
    """``value`` with every NaN / inf float made None and numpy scalars made Python ones.

    A diverged run's losses are not finite; JSON has no such numbers, so they are written
    as ``null`` (the run records the divergence separately).
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    value = plain(value)  # numpy scalars to Python numbers, without importing numpy
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path, data) -> None:
    """Write ``data`` as indented JSON (non-finite numbers as null, see :func:`json_safe`)."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(json_safe(data), fh, indent=2, allow_nan=False)
        fh.write("\n")
