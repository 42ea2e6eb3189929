"""The records that make kerasnet's outputs verifiable: the run marker and the predictions record.

A run folder's :data:`RUN_MARKER` holds the sha256 of every file the run wrote (version 2;
version 1 listed names only, so any folder could pass for a run). A predictions file
``NAME`` has ``.NAME.kerasnet`` beside it with its sha256. A record copied elsewhere does
not vouch for other files: their bytes must match it. What may be replaced or written into
is decided from these records (:mod:`kerasnet.runs.folder`, :func:`check_run_folder`).
"""

from __future__ import annotations

import hashlib
import json
import os

from ..errors import InputError
from .atomic import write_file_atomic, write_text

__all__ = ["RUN_MARKER", "check_replaceable", "check_run_folder", "differences", "is_predictions_file",
           "predictions_marker", "predictions_record", "recorded", "record_files", "sha256",
           "write_predictions_file", "write_run_marker"]


def _listing(names, limit: int = 5) -> str:
    names = [str(n) for n in names]
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


#: The file that marks a folder as a kerasnet run: JSON naming the command and the sha256 of
#: every file it wrote. ``overwrite`` replaces only folders holding it and nothing else.
RUN_MARKER = ".kerasnet-run"
_MARKER_FORMAT = "kerasnet.run"
#: Version 1 listed entries without checksums: any folder could pass for a run.
_MARKER_VERSION = 2
_PREDICTIONS_FORMAT = "kerasnet.predictions"


def sha256(path) -> str:
    """The sha256 of the file at ``path``, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entries(folder: str):
    """``(files, odd)`` below ``folder``: regular files as {relative posix name: path}, and the
    names of everything else (links, devices, folders without files) besides the marker."""
    files, odd = {}, []
    for root, dirs, names in os.walk(folder):
        prefix = os.path.relpath(root, folder).replace(os.sep, "/") + "/"
        prefix = "" if prefix == "./" else prefix

        def rel(n, prefix=prefix):
            return prefix + n

        for name in [*dirs]:
            if os.path.islink(os.path.join(root, name)):
                odd.append(rel(name))
                dirs.remove(name)
            elif not os.listdir(os.path.join(root, name)):
                odd.append(rel(name))
        for name in names:
            path = os.path.join(root, name)
            if rel(name) == RUN_MARKER:
                continue
            if os.path.islink(path) or not os.path.isfile(path):
                odd.append(rel(name))
            else:
                files[rel(name)] = path
    return files, sorted(odd)


def recorded(folder: str):
    """``(files, None)``: the {name: sha256} the marker of ``folder`` records, or ``(None, why not)``."""
    path = os.path.join(folder, RUN_MARKER)
    if not os.path.isfile(path):
        return None, f"no {RUN_MARKER} file"
    try:
        with open(path, encoding="utf-8") as fh:
            marker = json.load(fh)
    except (OSError, ValueError):
        return None, f"its {RUN_MARKER} file is damaged"
    if not isinstance(marker, dict) or marker.get("format") != _MARKER_FORMAT:
        return None, f"its {RUN_MARKER} file is not kerasnet's"
    files = marker.get("files")
    if marker.get("version") == 1:
        return None, f"its {RUN_MARKER} file was written by an older kerasnet, without checksums"
    if (marker.get("version") != _MARKER_VERSION or not isinstance(files, dict)
            or not all(isinstance(v, str) and len(v) == 64 for v in files.values())):
        return None, f"its {RUN_MARKER} file is damaged or from a newer kerasnet"
    return {str(k): v for k, v in files.items()}, None


def differences(folder: str, files: dict):
    """``(changed, foreign)``: recorded files whose bytes differ, and entries the record lacks."""
    present, odd = _entries(folder)
    known_dirs = {name.rsplit("/", 1)[0] for name in files if "/" in name}
    foreign = [n for n in odd if n not in known_dirs] + sorted(set(present) - set(files))
    changed = sorted(n for n, path in present.items() if n in files and sha256(path) != files[n])
    return changed, foreign


def _write_marker(folder: str, command: str, files: dict) -> None:
    record = {"format": _MARKER_FORMAT, "version": _MARKER_VERSION, "command": command,
              "files": dict(sorted(files.items()))}
    text = json.dumps(record, indent=2) + "\n"
    write_file_atomic(os.path.join(folder, RUN_MARKER), lambda tmp: write_text(tmp, text), check=False)


def write_run_marker(folder: str, command: str) -> None:
    """Mark ``folder`` as a finished kerasnet run: the sha256 of every file in it (call last)."""
    present, _ = _entries(folder)
    _write_marker(folder, command, {name: sha256(path) for name, path in present.items()})


def check_run_folder(folder, reads=()) -> dict:
    """The record of a kerasnet run folder whose files are all as kerasnet wrote them.

    Raises :class:`InputError` for a folder without a valid :data:`RUN_MARKER` (a marker of
    another folder copied in does not help: the checksums must match), one whose recorded
    files were changed since, or one holding a file the run did not write under a name in
    ``reads`` (what the caller would read, e.g. ``path.csv``). Other files the run never
    wrote are left alone and allowed.
    """
    folder = os.fspath(folder)
    files, why = recorded(folder)
    if files is None:
        raise InputError(f"'{folder}' is not a kerasnet run folder ({why}); kerasnet report writes only into "
                         "a folder that kerasnet fit, path, demo, select, compare or search wrote.")
    changed, foreign = differences(folder, files)
    foreign = [name for name in foreign if name.rsplit("/", 1)[-1] in set(reads)]
    if foreign:
        raise InputError(f"'{folder}' holds {_listing(foreign)}, which kerasnet did not write there and the "
                         "report would read; move it away, or rerun the command that wrote the folder.")
    if changed:
        raise InputError(f"'{folder}' holds files changed since kerasnet wrote them ({_listing(changed)}); "
                         "kerasnet report writes only into an unchanged run folder: move or remove them, or "
                         "rerun the command that wrote the folder.")
    return files


def check_replaceable(folder, names, files: dict) -> None:
    """Refuse writing ``names`` into ``folder`` if one exists and is not recorded in ``files``."""
    for name in names:
        if os.path.lexists(os.path.join(folder, name)) and name not in files:
            raise InputError(f"'{os.path.join(folder, name)}' was not written by kerasnet, so it will not be "
                             "written over; move it away or remove it, then rerun.")


def record_files(folder, names) -> None:
    """Add the sha256 of ``names`` (just written into the run folder ``folder``) to its marker."""
    folder = os.fspath(folder)
    path = os.path.join(folder, RUN_MARKER)
    with open(path, encoding="utf-8") as fh:
        marker = json.load(fh)
    files = {**marker["files"], **{name: sha256(os.path.join(folder, name)) for name in names}}
    _write_marker(folder, str(marker.get("command", "run")), files)


def predictions_marker(out) -> str:
    parent, name = os.path.split(os.path.abspath(out))
    return os.path.join(parent, f".{name}.kerasnet")


def predictions_record(out) -> str | None:
    """The sha256 that ``kerasnet predict`` recorded for the file ``out`` it wrote, or None."""
    try:
        with open(predictions_marker(out), encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("format") != _PREDICTIONS_FORMAT:
        return None
    if record.get("file") != os.path.basename(os.path.abspath(out)):
        return None
    digest = record.get("sha256")
    return digest if isinstance(digest, str) and len(digest) == 64 else None


def is_predictions_file(path: str) -> bool:
    """True for the file ``predict`` wrote at ``path``, unchanged since (its record beside it matches)."""
    digest = predictions_record(path)
    return digest is not None and os.path.isfile(path) and not os.path.islink(path) and sha256(path) == digest


def write_predictions_file(out, write) -> None:
    """Write a predictions file as :func:`write_file_atomic` does, and record its sha256 beside it.

    The record (``.NAME.kerasnet``) is what lets ``overwrite`` replace the file later
    (:func:`check_out_file`); it is written after the file, so an interruption in between
    leaves a record that does not match: the file is then refused, never lost.
    """
    digest = []

    def write_and_hash(tmp):
        write(tmp)
        digest.append(sha256(tmp))

    write_file_atomic(out, write_and_hash)
    record = {"format": _PREDICTIONS_FORMAT, "version": 1, "file": os.path.basename(os.path.abspath(out)),
              "sha256": digest[0]}
    write_file_atomic(predictions_marker(out), lambda tmp: write_text(tmp, json.dumps(record) + "\n"),
                      check=False)
