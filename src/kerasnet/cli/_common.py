"""Shared pieces of the commands: option types, the data options, one-line errors, atomic outputs."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import shutil
import sys
import tempfile
import traceback
import warnings

import click
import numpy as np

from ..data import InputError, load_dataset, load_table, split_features_target
from ..penalty import check_strength

PROG = "kerasnet"
DEBUG_ENV = "KERASNET_DEBUG"

# Click >= 8.2 raises this for a group called without a command; older Click prints help itself.
_NoArgsIsHelp = getattr(click.exceptions, "NoArgsIsHelpError", ())


# --------------------------------------------------------------------------- one-line errors


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _listing(names, limit: int = 5) -> str:
    names = [str(n) for n in names]
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def error_line(message) -> None:
    """Print ``kerasnet: error: <message>`` as a single line on stderr."""
    click.echo(f"{PROG}: error: {_one_line(message)}", err=True)


def warning_line(message) -> None:
    """Print ``kerasnet: warning: <message>`` as a single line on stderr."""
    click.echo(f"{PROG}: warning: {_one_line(message)}", err=True)


class Group(click.Group):
    """A click group whose errors are one line on stderr: exit 2 for bad input, 1 otherwise.

    Click's own usage errors print a usage block; here every error is one line naming the
    problem and the fix, and tracebacks appear only with ``KERASNET_DEBUG=1``.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        prog_name = prog_name or PROG
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            with warnings.catch_warnings():
                if not os.environ.get(DEBUG_ENV):
                    # Libraries' numeric warnings (NaN slices, overflow in a diverged run) are noise on
                    # a terminal; what matters is checked and said in kerasnet's own words.
                    warnings.simplefilter("ignore", RuntimeWarning)
                    warnings.simplefilter("ignore", UserWarning)
                code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _NoArgsIsHelp as err:
            # Bare `kerasnet`: the help is what the user wants, not an error line.
            click.echo(err.ctx.get_help())
            sys.exit(0)
        except click.UsageError as err:
            hint = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
            error_line(err.format_message() + hint)
            sys.exit(2)
        except click.ClickException as err:
            error_line(err.format_message())
            sys.exit(err.exit_code)
        except InputError as err:
            error_line(err)
            sys.exit(2)
        except OSError as err:
            # A file or folder the system refused (permissions, a full disk, a vanished path):
            # the user's environment, not a bug; atomic outputs left nothing half-written.
            where = f" '{err.filename}'" if getattr(err, "filename", None) else ""
            error_line(f"cannot read or write{where}: {err.strerror or err}; check the path, its "
                       "permissions and the free space.")
            sys.exit(2)
        except (click.Abort, KeyboardInterrupt):
            error_line("interrupted; nothing was written.")
            sys.exit(130)
        except Exception as err:  # noqa: BLE001 - the last line of defence prints one line
            if os.environ.get(DEBUG_ENV):
                traceback.print_exc()
            error_line(
                f"unexpected {type(err).__name__}: {err}; rerun with {DEBUG_ENV}=1 for the "
                "traceback and report it."
            )
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


# --------------------------------------------------------------------------- option types


#: Larger strengths zero every weight of a standardized problem many times over; they only
#: overflow float32 losses, so the command line refuses them up front.
MAX_STRENGTH = 1e6
#: Adam's steps are about the learning rate in size; beyond this every run diverges.
MAX_LEARNING_RATE = 10.0


class Strength(click.ParamType):
    """A penalty strength: a finite number >= 0."""

    name = "strength"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number; give a non-negative number such as 1e-4.", param, ctx)
        try:
            number = check_strength(number, param.name if param else "strength")
        except ValueError:
            self.fail(f"{value!r} must be a finite number >= 0, such as 1e-4.", param, ctx)
        if number > MAX_STRENGTH:
            self.fail(f"{value!r} is far too large: any strength above {MAX_STRENGTH:g} drives every weight "
                      "to zero (and larger ones overflow); give a number such as 1e-4.", param, ctx)
        return number


class LearningRate(click.ParamType):
    """An optimizer step size: a finite number in (0, MAX_LEARNING_RATE]."""

    name = "rate"

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number; give a step size such as 1e-3.", param, ctx)
        if not (math.isfinite(number) and 0 < number <= MAX_LEARNING_RATE):
            self.fail(f"{value!r} must be a finite number in (0, {MAX_LEARNING_RATE:g}]; Adam's usual step "
                      "sizes are 1e-4 to 1e-2, such as 1e-3.", param, ctx)
        return number


class Hidden(click.ParamType):
    """Hidden layer sizes as comma-separated positive integers: ``64,64``; ``none`` for no hidden layer."""

    name = "sizes"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        text = str(value).strip()
        if text.lower() in ("", "none", "0"):
            return ()
        parts = [p.strip() for p in text.split(",")]
        if not all(p.isdigit() and int(p) > 0 for p in parts):
            self.fail(
                f"{value!r} is not a list of layer sizes; give positive integers separated by "
                "commas, such as 64,64 (or 'none' for a linear model).",
                param,
                ctx,
            )
        return tuple(int(p) for p in parts)


class Columns(click.ParamType):
    """Comma-separated column names."""

    name = "cols"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        return tuple(c.strip() for c in str(value).split(",") if c.strip())


STRENGTH, HIDDEN, COLUMNS, LEARNING_RATE = Strength(), Hidden(), Columns(), LearningRate()


def data_options(command):
    """Add ``DATA``, ``--target``, ``--dataset`` and ``--drop`` to a command.

    The command receives ``data``, ``target``, ``dataset``, ``drop``; pass them to
    :func:`load_data`.
    """
    decorators = [
        click.argument("data", required=False, metavar="[DATA]"),
        click.option("--target", help="Target column of DATA (required with DATA)."),
        click.option(
            "--dataset",
            help="Bundled dataset instead of DATA: breast_cancer, diabetes, wine, digits, iris.",
        ),
        click.option("--drop", type=COLUMNS, default="", help="Comma-separated columns to leave out (ids)."),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def out_options(command):
    """Add ``--out DIR`` (required) and ``--overwrite`` to a command."""
    command = click.option(
        "--overwrite", is_flag=True, help="Replace --out if it exists (only after success)."
    )(command)
    return click.option("--out", required=True, type=click.Path(), help="Output folder.")(command)


def load_data(data, target, dataset, drop=()):
    """Features and target from ``DATA --target COL`` or ``--dataset NAME``.

    Returns
    -------
    (features, y, source) : (pandas.DataFrame, pandas.Series, str)
    """
    if (data is None) == (dataset is None):
        raise InputError(
            "give either a DATA file with --target COL, or --dataset NAME (not both, not neither)."
        )
    if dataset is not None:
        frame, default_target = load_dataset(dataset)
        target = target or default_target
        source = f"dataset:{dataset}"
    else:
        if not target:
            raise InputError(f"--target is required with DATA '{data}'; name the column to predict.")
        frame = load_table(data)
        source = os.path.abspath(data)
    features, y = split_features_target(frame, target, drop)
    return features, y, source


# --------------------------------------------------------------------------- outputs

#: The file that marks a folder as a kerasnet run: JSON naming the command and every entry it
#: wrote. ``--overwrite`` replaces only folders holding it and nothing else.
RUN_MARKER = ".kerasnet-run"
_MARKER_FORMAT = "kerasnet.run"
#: Entries a run folder may gain after it was written (``kerasnet report`` rebuilds these).
_REBUILT = {"report.html", "learning_curves.png", "weight_histograms.png", "path.png", "compare.png",
            "compare_weights.png"}


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
    """Refuse an ``--out`` whose folder cannot take new entries (missing rights, /proc, a file)."""
    while not os.path.isdir(folder):
        if os.path.lexists(folder):
            raise InputError(f"--out '{out}' lies under '{folder}', which is a file; choose another --out.")
        folder = os.path.dirname(folder)
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".kerasnet-check-", dir=folder))
    except OSError as err:
        raise InputError(
            f"cannot write --out '{out}' ({err.strerror or err} in '{folder}'); choose a folder you can "
            "write to."
        ) from None


def check_out_dir(out, overwrite: bool, inputs=()) -> None:
    """Refuse an ``out`` folder that a run may not create or replace; raise :class:`InputError`.

    Refused always: the current folder or one above it, a folder holding any of ``inputs``
    (or an input itself), something that is not a folder, a place that cannot be written.
    An existing non-empty folder is refused unless ``overwrite``, and even then unless it is a
    kerasnet run (:data:`RUN_MARKER`) holding only what that run wrote: ``--overwrite`` never
    removes anything else.
    """
    real = os.path.realpath(out)
    if _inside(os.path.realpath(os.getcwd()), real):
        raise InputError(
            f"--out '{out}' is the current folder or one above it; give a new folder such as runs/fit1."
        )
    for item in _real_inputs(inputs):
        if _inside(item, real):
            raise InputError(
                f"--out '{out}' holds the input '{item}'; give an output folder that holds no input."
            )
    if os.path.islink(out) or (os.path.lexists(out) and not os.path.isdir(out)):
        raise InputError(f"--out '{out}' exists and is not a folder; give a new folder name.")
    _check_can_write(os.path.dirname(real), out)
    if not os.path.lexists(out) or not os.listdir(out):
        return
    if not overwrite:
        raise InputError(
            f"--out '{out}' already exists and is not empty; choose a new folder or pass --overwrite "
            "to replace an earlier kerasnet run."
        )
    known = _run_entries(out)
    if known is None:
        raise InputError(
            f"--out '{out}' is not a kerasnet run folder (no {RUN_MARKER} file), so --overwrite will not "
            "replace it; choose a new folder."
        )
    foreign = sorted(set(os.listdir(out)) - known - _REBUILT)
    if foreign:
        raise InputError(
            f"--out '{out}' holds files this kerasnet run did not write ({_listing(foreign)}), so "
            "--overwrite will not replace it; move them away or choose a new folder."
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
        raise InputError(f"--out '{out}' is a folder; give a file name such as preds.csv.")
    real = os.path.realpath(out)
    if real in _real_inputs(inputs):
        raise InputError(f"--out '{out}' is an input of this command; give a new file name such as "
                         "preds.csv.")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise InputError(f"the folder of --out '{out}' does not exist; create it first.")
    if os.path.lexists(out):
        if not overwrite:
            raise InputError(f"--out '{out}' already exists; choose a new name or pass --overwrite.")
        if not _is_predictions_file(out):
            raise InputError(
                f"--out '{out}' is not a predictions file written by kerasnet predict, so --overwrite "
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


def stdout_console():
    """A rich console on the current stdout (click's test runner swaps it)."""
    from rich.console import Console

    return Console(file=sys.stdout, soft_wrap=False, width=max(100, shutil.get_terminal_size().columns))
