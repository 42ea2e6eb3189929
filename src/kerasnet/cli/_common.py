"""Shared pieces of the commands: data options, one-line errors (option types: ``_types``)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import traceback
import warnings

import click

# Only light modules here: every command's --help and usage errors come before Keras, pandas and
# scikit-learn are imported (the commands import them when they run).
from .. import interrupts
from ..errors import InputError, listing
from ._types import (  # noqa: F401  (re-exported: the commands import them from here)
    COLUMNS,
    HIDDEN,
    LEARNING_RATE,
    MAX_BATCH_SIZE,
    MAX_COUNT,
    MAX_EPOCHS,
    MAX_HIDDEN_WEIGHTS,
    MAX_LAYERS,
    MAX_LEARNING_RATE,
    MAX_SEED,
    MAX_STRENGTH,
    MAX_UNITS,
    SEED,
    STRENGTH,
    Columns,
    FiniteRange,
    Hidden,
    LearningRate,
    Strength,
    count,
    count_or_auto,
)

PROG = "kerasnet"
DEBUG_ENV = "KERASNET_DEBUG"

# Click >= 8.2 raises this for a group called without a command; older Click prints help itself.
_NoArgsIsHelp = getattr(click.exceptions, "NoArgsIsHelpError", ())


# --------------------------------------------------------------------------- one-line errors


def _one_line(text) -> str:
    return " ".join(str(text).split())


def error_line(message) -> None:
    """Print ``kerasnet: error: <message>`` as a single line on stderr."""
    click.echo(f"{PROG}: error: {_one_line(message)}", err=True)


def warning_line(message) -> None:
    """Print ``kerasnet: warning: <message>`` as a single line on stderr."""
    click.echo(f"{PROG}: warning: {_one_line(message)}", err=True)


class _Stopped(Exception):
    """A Ctrl-C or SIGTERM on its way out of the command (see :meth:`Group.invoke`)."""

    def __init__(self, exit_code: int):
        super().__init__(exit_code)
        self.exit_code = exit_code


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
            # Ctrl-C and SIGTERM become a request honoured between epochs and before an output is
            # moved into place (kerasnet.interrupts), never an exception inside arbitrary code.
            with interrupts.deferred(), warnings.catch_warnings():
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
            error_line(self.flag_words(str(err)))
            sys.exit(2)
        except OSError as err:
            # A file or folder the system refused (permissions, a full disk, a vanished path):
            # the user's environment, not a bug; atomic outputs left nothing half-written.
            where = f" '{err.filename}'" if getattr(err, "filename", None) else ""
            error_line(f"cannot read or write{where}: {err.strerror or err}; check the path, its "
                       "permissions and the free space.")
            sys.exit(2)
        except (click.Abort, KeyboardInterrupt, _Stopped) as err:
            # Temporary outputs were removed on the way out (atomic_dir, write_file_atomic).
            error_line("interrupted; nothing was written.")
            sys.exit(err.exit_code if isinstance(err, (interrupts.Interrupted, _Stopped)) else 130)
        except Exception as err:  # noqa: BLE001 - the last line of defence prints one line
            if os.environ.get(DEBUG_ENV):
                traceback.print_exc()
            error_line(
                f"unexpected {type(err).__name__}: {err}; rerun with {DEBUG_ENV}=1 for the "
                "traceback and report it."
            )
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as err:
            # Click would print a blank line and turn it into Abort, losing which signal it was.
            raise _Stopped(err.exit_code if isinstance(err, interrupts.Interrupted) else 130) from None

    def flag_words(self, message: str) -> str:
        """A library message with its argument names (``validation_split=0.5``, ``threshold must``,
        ``overwrite=True``) spelled as the commands' flags (``--validation-split 0.5``,
        ``--threshold must``, ``--overwrite``)."""
        flags, switches = {}, set()
        for command in self.commands.values():
            for param in command.params:
                if isinstance(param, click.Option) and param.name and param.opts[0].startswith("--"):
                    flags.setdefault(param.name, param.opts[0])
                    if param.is_flag:
                        switches.add(param.name)
        names = "|".join(sorted(map(re.escape, flags), key=len, reverse=True))
        # overwrite=True -> --overwrite: a switch takes no value.
        message = re.sub(rf"(?<![\w-])({names})=True\b",
                         lambda m: flags[m.group(1)] if m.group(1) in switches else m.group(0), message)
        # task='binary' -> --task binary: a plain word needs no quotes on a command line.
        message = re.sub(rf"(?<![\w-])({names})='([\w.-]+)'", lambda m: f"{flags[m.group(1)]} {m.group(2)}",
                         message)
        return re.sub(rf"(?<![\w-])({names})(=| (?=must))", lambda m: flags[m.group(1)] + " ", message)


def report_warning(error, out) -> None:
    """The one-line warning for a report that could not be built (the run itself is saved)."""
    if error:
        warning_line(f"report.html not written ({error}); the run is saved, retry with "
                     f"'kerasnet report {out}'.")


def is_argument_error(err: ValueError) -> bool:
    """True when the library refused its arguments or rows, not when something failed during the fit.

    Refusals are raised by the library's checks: a ``check_*`` function, the argument checks of
    ``kerasnet.path.inputs``, ``stability_selection``, ``fit_path`` or ``encode_target`` itself
    (the innermost kerasnet frame of the traceback); anything else is a bug to report (exit 1,
    with its traceback under KERASNET_DEBUG).
    """
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    innermost = None
    tb = err.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if os.path.abspath(code.co_filename).startswith(package + os.sep):
            innermost = code
        tb = tb.tb_next
    if innermost is None:
        return False
    name, where = innermost.co_name, os.path.abspath(innermost.co_filename)
    return (name.startswith("check_") or name in ("stability_selection", "fit_path", "encode_target")
            or where == os.path.join(package, "path", "inputs.py"))


@contextlib.contextmanager
def argument_errors():
    """Turn the library's refusals of its arguments (:func:`is_argument_error`) into user errors (exit 2)."""
    try:
        yield
    except InputError:
        raise
    except ValueError as err:
        if not is_argument_error(err):
            raise
        # The library's checks on the arguments and rows (the command line words them as flags).
        raise InputError(str(err)) from None


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
            help="Bundled dataset instead of DATA: breast_cancer, diabetes, wine, digits, iris; rossi "
                 "(survival: kerasnet path --task cox).",
        ),
        click.option("--drop", type=COLUMNS, default="", help="Comma-separated columns to leave out (ids)."),
    ]
    from ._columns import early_checks

    command = early_checks(command)  # a missing file or column is answered before the heavy imports
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def out_options(command):
    """Add ``--out DIR`` (required) and ``--overwrite`` to a command."""
    command = click.option(
        "--overwrite", is_flag=True, help="Replace --out if it exists (only after success)."
    )(command)
    return click.option("--out", required=True, type=click.Path(), help="Output folder.")(command)


def data_name(data) -> str:
    """The data file as the run records and reports it: the path as the user gave it, or its file
    name when that path is absolute (a report names the file, not the machine's folders)."""
    data = os.fspath(data)
    return os.path.basename(data) if os.path.isabs(data) else data


def load_data(data, target, dataset, drop=()):
    """Features and target from ``DATA --target COL`` or ``--dataset NAME``.

    Returns
    -------
    (features, y, source) : (pandas.DataFrame, pandas.Series, str)
    """
    from ..data import DATASETS, load_dataset, load_table, split_features_target

    if (data is None) == (dataset is None):
        raise InputError(
            "give either a DATA file with --target COL, or --dataset NAME (not both, not neither)."
        )
    if dataset is not None:
        if DATASETS.get(dataset) == "cox":
            raise InputError(f"dataset '{dataset}' is survival data (a time and an event); fit it with "
                             f"kerasnet path --dataset {dataset} --task cox.")
        frame, default_target = load_dataset(dataset)
        target = target or default_target
        source = f"dataset:{dataset}"
    else:
        if not target:
            raise InputError(f"--target is required with DATA '{data}'; name the column to predict.")
        frame = load_table(data)
        source = data_name(data)
    features, y = split_features_target(frame, target, drop)
    return features, y, source


def load_survival(data, target, dataset, drop, time_column, event_column):
    """Features and the (time, event) frame from ``DATA --time-column T --event-column E`` or a
    bundled survival ``--dataset`` (its own columns by default).

    Returns
    -------
    (features, y, source) : (pandas.DataFrame, pandas.DataFrame, str)
    """
    from ..data import SURVIVAL_COLUMNS, load_dataset, load_table, split_features_target

    if target:
        raise InputError("--task cox takes --time-column and --event-column instead of --target; give "
                         "those two.")
    if (data is None) == (dataset is None):
        raise InputError("give either a DATA file with --time-column and --event-column, or --dataset NAME "
                         "(not both, not neither).")
    if dataset is not None:
        if dataset not in SURVIVAL_COLUMNS:
            raise InputError(f"dataset '{dataset}' has no survival times; --task cox needs DATA with "
                             f"--time-column and --event-column, or --dataset {', '.join(SURVIVAL_COLUMNS)}.")
        frame, _ = load_dataset(dataset)
        time_column, event_column = (given or default for given, default in
                                     zip((time_column, event_column), SURVIVAL_COLUMNS[dataset], strict=True))
        source = f"dataset:{dataset}"
    else:
        if not time_column or not event_column:
            raise InputError(f"--task cox needs --time-column and --event-column with DATA '{data}'; name "
                             "the column of times and the column of events (1: it happened, 0: censored).")
        frame = load_table(data)
        source = data_name(data)
    columns = [str(c) for c in frame.columns]
    for flag, name in (("--time-column", time_column), ("--event-column", event_column)):
        if name not in columns:
            raise InputError(f"{flag} {name!r} is not a column of the data (columns: {listing(columns, 8)}); "
                             "check the name.")
    if time_column == event_column:
        raise InputError("--time-column and --event-column name the same column; give two columns.")
    features, _ = split_features_target(frame, time_column, (event_column, *drop))
    return features, frame.rename(columns=str)[[time_column, event_column]], source


def stdout_console():
    """A rich console on the current stdout (click's test runner swaps it)."""
    from rich.console import Console

    return Console(file=sys.stdout, soft_wrap=False, width=max(100, shutil.get_terminal_size().columns))
