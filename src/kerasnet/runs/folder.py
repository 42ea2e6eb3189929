"""The command line's outputs: run folders that never replace a user's file, atomic writes, JSON.

A finished run folder holds :data:`RUN_MARKER` listing what the run wrote; ``overwrite``
replaces only such a folder, and only when it holds nothing else (:func:`check_out_dir`).
Everything is written to a temporary folder or file first and moved into place at the end.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import shutil
import tempfile

import numpy as np

from ..errors import InputError


def _listing(names, limit: int = 5) -> str:
    names = [str(n) for n in names]
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


#: The file that marks a folder as a kerasnet run: JSON naming the command and every entry it
#: wrote. ``overwrite`` replaces only folders holding it and nothing else.
RUN_MARKER = ".kerasnet-run"
_MARKER_FORMAT = "kerasnet.run"
#: Entries a run folder may gain after it was written (``kerasnet report`` rebuilds these).
_REBUILT = {"report.html", "learning_curves.png", "weight_histograms.png", "path.png", "compare.png",
            "compare_weights.png", "stability.png"}


def _inside(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or lies below it (both real, absolute paths)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _real_inputs(inputs) -> list[str]:
    return [os.path.realpath(p) for p in inputs if p is not None and os.path.exists(p)]


def _run_entries(folder: str) -> set[str] | None:
    """The entries the run marker in ``folder`` lists, or None when it is not a kerasnet run."""
    try:
        with open(os.path.join(folder, RUN_MARKER), encoding="utf-8") as fh:
            marker = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("format") != _MARKER_FORMAT:
        return None
    return {str(name) for name in marker.get("files", [])} | {RUN_MARKER}


def write_run_marker(folder: str, command: str) -> None:
    """Mark ``folder`` as a finished kerasnet run, listing what is in it (call last)."""
    files = sorted(os.listdir(folder))
    with open(os.path.join(folder, RUN_MARKER), "w", encoding="utf-8") as fh:
        json.dump({"format": _MARKER_FORMAT, "version": 1, "command": command, "files": files}, fh, indent=2)
        fh.write("\n")


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
    (or an input itself), something that is not a folder, a place that cannot be written.
    An existing non-empty folder is refused unless ``overwrite``, and even then unless it is a
    kerasnet run (:data:`RUN_MARKER`) holding only what that run wrote: ``overwrite`` never
    removes anything else.
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
    if not os.path.lexists(out) or not os.listdir(out):
        return
    if not overwrite:
        raise InputError(
            f"out='{out}' already exists and is not empty; choose a new folder or pass overwrite=True "
            "to replace an earlier kerasnet run."
        )
    known = _run_entries(out)
    if known is None:
        raise InputError(
            f"out='{out}' is not a kerasnet run folder (no {RUN_MARKER} file), so overwrite=True will not "
            "replace it; choose a new folder."
        )
    foreign = sorted(set(os.listdir(out)) - known - _REBUILT)
    if foreign:
        raise InputError(
            f"out='{out}' holds files this kerasnet run did not write ({_listing(foreign)}), so "
            "overwrite=True will not replace it; move them away or choose a new folder."
        )


def _is_predictions_file(path: str) -> bool:
    """True for a CSV file whose header has a ``predicted_...`` column (what ``predict`` writes)."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            header = next(csv.reader([fh.readline()]), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return any(str(name).startswith("predicted_") for name in header)


def check_out_file(out, overwrite: bool, inputs=()) -> None:
    """Refuse an ``out`` file that must not be written; raise :class:`InputError`.

    Refused always: a folder, an input file (``inputs``), a place that cannot be written.
    An existing file is refused unless ``overwrite``, and even then unless it is a
    predictions file that ``kerasnet predict`` wrote.
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
    if os.path.lexists(out):
        if not overwrite:
            raise InputError(f"out='{out}' already exists; choose a new name or pass overwrite=True.")
        if not _is_predictions_file(out):
            raise InputError(
                f"out='{out}' is not a predictions file written by kerasnet predict, so overwrite=True "
                "will not replace it; choose a new name."
            )
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
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        yield tmp
        write_run_marker(tmp, command)
        check_out_dir(out, overwrite, inputs)
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


def write_file_atomic(out, write) -> None:
    """Call ``write(tmp_path)`` then move the finished file to ``out`` in one step."""
    parent, name = os.path.split(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.tmp-", dir=parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
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
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path, data) -> None:
    """Write ``data`` as indented JSON (non-finite numbers as null, see :func:`json_safe`)."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(json_safe(data), fh, indent=2, allow_nan=False)
        fh.write("\n")
