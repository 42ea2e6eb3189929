"""A data file's checks that need no pandas: the file itself and the names in its header row.

:func:`kerasnet.data.load_table` runs :func:`check_data_file` before reading; the command line
runs it and :func:`check_named_columns` before importing Keras, pandas and scikit-learn, so a
missing file or a misspelt ``--target`` is answered at once. The messages are the ones the
full read would give.
"""

from __future__ import annotations

import csv
import os

from .errors import InputError, listing

__all__ = ["check_data_file", "check_named_columns", "column_names", "read_header", "spaces_hint"]

#: File name endings whose header :func:`read_header` does not read (binary or compressed).
NOT_PLAIN_CSV = (".parquet", ".pq", ".gz", ".bz2", ".zip", ".xz", ".zst", ".tar", ".xlsx", ".xlsm", ".xls",
                 ".ods", ".json", ".jsonl", ".ndjson", ".feather", ".arrow", ".pkl", ".pickle", ".h5",
                 ".hdf5", ".hdf", ".sav", ".dta", ".sas7bdat", ".rds", ".rdata", ".npy", ".npz")


def check_data_file(path: str) -> None:
    """Raise :class:`InputError` unless ``path`` is an existing, readable, non-empty file."""
    if not os.path.exists(path):
        raise InputError(f"data file '{path}' does not exist; check the path.")
    if os.path.isdir(path):
        raise InputError(f"data file '{path}' is a folder; give a CSV or Parquet file.")
    if not os.access(path, os.R_OK):
        raise InputError(f"data file '{path}' is not readable; check its permissions.")
    if os.path.getsize(path) == 0:
        raise InputError(f"data file '{path}' is empty; give a file with a header row and data rows.")


def read_header(path: str) -> list[str] | None:
    """The column names of a plain CSV file as pandas would read them, or None when unsure.

    None for a file that is not plain CSV by its name (Parquet, compressed, ...), one that does
    not decode as UTF-8 or parse as CSV, and one with a repeated name (the full read says so).
    Blank lines before the header are skipped and an empty name is ``Unnamed: i``, as in pandas.
    """
    if path.lower().endswith(NOT_PLAIN_CSV):
        return None
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for row in csv.reader(fh):
                if any(cell.strip() for cell in row):
                    names = [cell or f"Unnamed: {i}" for i, cell in enumerate(row)]
                    return names if len(set(names)) == len(names) else None
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return None


def column_names(columns, limit: int = 8) -> str:
    """Column names for a message; a name with spaces around it (``' a'``) is quoted so they show."""
    shown = [repr(c) if c != c.strip() or not c else c for c in map(str, columns)]
    return listing(shown, limit)


def spaces_hint(given, columns) -> str:
    """The fix when a name given matches a column only once the spaces around the column's name go."""
    stripped = {c.strip(): c for c in columns if c != c.strip()}
    for name in given:
        if name.strip() in stripped:
            column = stripped[name.strip()]
            return (f"the data's column {column!r} has spaces around its name: give {column!r} (quoted), or "
                    "remove the spaces from the header.")
    return ""


def check_named_columns(columns, target=None, drop=(), flags=None) -> None:
    """Refuse a ``target``, ``drop`` column or flag's column (``flags``: flag -> name) not in ``columns``.

    The target's and the drop columns' messages are :func:`kerasnet.data.split_features_target`'s.
    """
    columns = [str(c) for c in columns]
    if target is not None and target not in columns:
        fix = spaces_hint([target], columns) or "give one of the columns."
        shown = column_names(columns, 8)
        raise InputError(f"target={target!r} is not a column of the data (columns: {shown}); {fix}")
    missing = [c for c in drop if c not in columns]
    if missing:
        raise InputError(f"drop= names columns not in the data: {listing(missing)}; "
                         f"{spaces_hint(missing, columns) or 'check the names.'}")
    for flag, name in (flags or {}).items():
        if name and name not in columns:
            raise InputError(f"{flag} {name!r} is not a column of the data (columns: {listing(columns, 8)}); "
                             f"{spaces_hint([name], columns) or 'check the name.'}")
