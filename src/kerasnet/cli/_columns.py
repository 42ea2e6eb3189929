"""Options that name columns of the data table or choose the grid, and the checks run before the imports.

``--weights-column``, ``--foldid-column`` and ``--groups-column`` name columns of DATA that are
no features: they become ``fit_path``'s ``sample_weight``, ``foldid`` and ``groups``
(:func:`take_columns`). ``--lambdas`` gives the grid itself, ``--quiet`` silences the epoch
lines and progress. :func:`early_checks` answers a missing DATA file or a column flag naming
no column from the file and its header alone, before a command imports Keras and pandas.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import math
import os
import signal
import sys
import threading

import click

from .. import interrupts
from ..errors import InputError

__all__ = ["LAMBDAS", "early_checks", "lambdas_option", "quiet_option", "sample_options", "take_columns"]

#: The column flags of :func:`sample_options`, by the name the command receives.
SAMPLE_FLAGS = {
    "weights_column": "Column of DATA holding each row's weight (glmnet's weights: > 0 and finite); it is "
                      "not a feature.",
    "foldid_column": "Column of DATA holding each row's CV fold (glmnet's foldid: one label per fold; "
                     "overrides --cv); it is not a feature.",
    "groups_column": "Column of DATA holding each row's group: rows of a group stay in one fold "
                     "(scikit-learn's GroupKFold); it is not a feature.",
}


def sample_options(*names):
    """Add the column flags of :data:`SAMPLE_FLAGS` named in ``names`` (all when none) to a command."""
    names = names or tuple(SAMPLE_FLAGS)

    def decorate(command):
        for name in reversed(names):
            flag = "--" + name.replace("_", "-")
            command = click.option(flag, name, metavar="COLUMN", help=SAMPLE_FLAGS[name])(command)
        return command

    return decorate


def quiet_option(command):
    """Add ``--quiet``: no epoch lines and no progress display (the summary is still printed)."""
    return click.option("--quiet", "-q", is_flag=True,
                        help="No epoch lines or progress display; only the summary.")(command)


class Lambdas(click.ParamType):
    """Comma-separated penalty strengths, each finite and > 0: ``1e-1,1e-2,1e-3``."""

    name = "strengths"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        parts = [p.strip() for p in str(value).split(",")]
        numbers = []
        for part in parts:
            try:
                number = float(part)
            except ValueError:
                number = math.nan
            if not (math.isfinite(number) and number > 0):
                self.fail(f"{part!r} in {value!r} is not a strength; give finite numbers > 0 separated by "
                          "commas, such as 0.1,0.01,0.001.", param, ctx)
            numbers.append(number)
        if len(set(numbers)) != len(numbers):
            self.fail(f"{value!r} repeats a strength; give each strength once.", param, ctx)
        return tuple(numbers)


LAMBDAS = Lambdas()


def lambdas_option(command):
    """Add ``--lambdas`` (the strengths themselves instead of --n-lambdas' grid)."""
    return click.option("--lambdas", type=LAMBDAS, default=None, metavar="L1,L2,...",
                        help="The strengths to fit, comma-separated (largest first is glmnet's order); "
                             "replaces the grid of --n-lambdas and --lambda-min-ratio.")(command)


def early_checks(command):
    """Wrap a command's function: a missing DATA file, or a --target, --drop or ``--*-column`` naming no
    column of a CSV file's header, is refused before the command runs (and imports Keras and pandas).

    The full read gives the same messages; the header is read with :mod:`csv`, and files it cannot
    judge (Parquet, compressed) are left to it.
    """

    @functools.wraps(command)
    def checked(*args, **kwargs):
        data = kwargs.get("data")
        if data is not None and kwargs.get("dataset") is None:
            from ..header import check_data_file, check_named_columns, read_header

            check_data_file(os.fspath(data))
            columns = read_header(os.fspath(data))
            if columns is not None:
                flags = {"--" + key.replace("_", "-"): value for key, value in kwargs.items()
                         if key.endswith("_column") and isinstance(value, str)}
                target = None if kwargs.get("task") == "cox" else kwargs.get("target")
                check_named_columns(columns, target, kwargs.get("drop") or (), flags)
        with _exit_at_once():
            for name in HEAVY:
                importlib.import_module(name)
        return command(*args, **kwargs)

    return checked


#: What a command that reads data imports when it runs (Keras, JAX, pandas, scikit-learn,
#: matplotlib), imported by :func:`early_checks` once the checks have passed.
HEAVY = ("keras", "kerasnet.data", "kerasnet.path.fit", "kerasnet.runs.training", "kerasnet.runs.save")


@contextlib.contextmanager
def _exit_at_once():
    """While the libraries are imported nothing has been written: a Ctrl-C or SIGTERM exits at once
    (one line, 130 or 143), as the console script does while it imports the command line, instead of
    waiting for the first epoch (:mod:`kerasnet.interrupts`)."""
    interrupts.check()  # a signal recorded before: stop now
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        sys.stderr.write("kerasnet: error: interrupted; nothing was written.\n")
        sys.stderr.flush()
        os._exit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)
                if signal.getsignal(sig) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)


def take_columns(features, taken=None, **columns):
    """``(features without the named columns, {name: values or None})`` for :data:`SAMPLE_FLAGS`' flags.

    ``columns`` maps ``weights_column``, ``foldid_column``, ``groups_column`` to a column name or
    None; the values are a float array for the weights (finite and >= 0), integer codes of the
    column's labels for the folds and groups. ``taken`` (the target's and dropped columns) words
    the message for a column that is no input.
    """
    import numpy as np
    import pandas as pd

    from .path import not_a_column

    values, names = {}, list(map(str, features.columns))
    for key, name in columns.items():
        flag = "--" + key.replace("_", "-")
        if name is None:
            values[key] = None
            continue
        if name not in names:
            raise InputError(not_a_column(flag, name, names, taken))
        column = features[name]
        if key == "weights_column":
            weights = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            if not (np.all(np.isfinite(weights)) and np.all(weights >= 0) and weights.sum() > 0):
                raise InputError(f"{flag} {name!r} must hold a finite weight >= 0 on every row (not all 0); "
                                 "fill or drop the rows without one.")
            values[key] = weights
        else:
            if column.isna().any():
                raise InputError(f"{flag} {name!r} has rows without a value; give every row its label.")
            values[key] = pd.factorize(column)[0]  # labels of any type as 0, 1, ...
    given = [name for name in columns.values() if name is not None]
    if len(set(given)) != len(given):
        raise InputError("the --*-column flags name the same column twice; give each its own column.")
    return features.drop(columns=given), values
