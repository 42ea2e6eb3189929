"""The command line's outputs: run folders that never replace a user's file, atomic writes, JSON.

A finished run folder holds :data:`RUN_MARKER`, the sha256 of every file the run wrote;
``overwrite`` replaces only such a folder, and only when every file in it is one of those,
unchanged (:func:`check_out_dir`); ``kerasnet report`` writes only into such a folder
(:func:`check_run_folder`) and records what it wrote (:func:`record_files`). A predictions
file has the same record beside it (:func:`predictions_record`). Everything is written to a
temporary folder or file first and moved into place at the end, with the mode a new file
gets under the user's umask.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import tempfile

import numpy as np

from .. import interrupts
from ..errors import InputError, short


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
#: What mkdtemp / mkstemp add to the prefix ``.{name}.tmp-``: eight random characters.
_RANDOM = "X" * 8


def _inside(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or lies below it (both real, absolute paths)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _real_inputs(inputs) -> list[str]:
    return [os.path.realpath(p) for p in inputs if p is not None and os.path.exists(p)]


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


def _recorded(folder: str):
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


def _differences(folder: str, files: dict):
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
    write_file_atomic(os.path.join(folder, RUN_MARKER), lambda tmp: _write_text(tmp, text), check=False)


def _write_text(path, text) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


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
    files, why = _recorded(folder)
    if files is None:
        raise InputError(f"'{folder}' is not a kerasnet run folder ({why}); kerasnet report writes only into "
                         "a folder that kerasnet fit, path, demo, select or compare wrote.")
    changed, foreign = _differences(folder, files)
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


def _umask() -> int:
    """The process's umask (reading it means setting it: put straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _new_file_mode() -> int:
    """The mode ``open()`` gives a new file under the current umask."""
    return 0o666 & ~_umask()


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
    files, why = _recorded(out)
    if files is None:
        raise InputError(
            f"out='{out}' is not a kerasnet run folder ({why}), so overwrite=True will not replace it; "
            "choose a new folder."
        )
    changed, foreign = _differences(out, files)
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


def _predictions_marker(out) -> str:
    parent, name = os.path.split(os.path.abspath(out))
    return os.path.join(parent, f".{name}.kerasnet")


def predictions_record(out) -> str | None:
    """The sha256 that ``kerasnet predict`` recorded for the file ``out`` it wrote, or None."""
    try:
        with open(_predictions_marker(out), encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("format") != _PREDICTIONS_FORMAT:
        return None
    if record.get("file") != os.path.basename(os.path.abspath(out)):
        return None
    digest = record.get("sha256")
    return digest if isinstance(digest, str) and len(digest) == 64 else None


def _is_predictions_file(path: str) -> bool:
    """True for the file ``predict`` wrote at ``path``, unchanged since (its record beside it matches)."""
    digest = predictions_record(path)
    return digest is not None and os.path.isfile(path) and not os.path.islink(path) and sha256(path) == digest


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
        if not _is_predictions_file(out):
            raise InputError(
                f"out='{out}' is not a predictions file written by kerasnet predict (or it was changed "
                "since), so overwrite=True will not replace it; choose a new name."
            )
    marker = _predictions_marker(out)
    if os.path.lexists(marker) and predictions_record(out) is None:
        raise InputError(f"'{marker}' (where kerasnet records the predictions it writes) is not kerasnet's; "
                         "move it away or choose another --out name.")
    _check_can_write(parent, out)


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
    write_file_atomic(_predictions_marker(out), lambda tmp: _write_text(tmp, json.dumps(record) + "\n"),
                      check=False)


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
        os.chmod(tmp, 0o777 & ~_umask())
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
        os.chmod(tmp, _new_file_mode())  # mkstemp's 0600 would hide the file from colleagues
        write(tmp)
        if check:
            interrupts.check()
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
