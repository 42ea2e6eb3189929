"""Column checks: refuse columns that would be encoded wrongly, and missing or infinite values.

Duplicate names, dates, numbers with stray text, and ids or free text posing as categories
are refused with an :class:`~kerasnet.errors.InputError` naming the column, rather than
guessed at (see :class:`kerasnet.preprocessing.Preprocessor` for the exact rules); rows
with missing or infinite values are an error too (:func:`check_finite`), never dropped.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from .errors import InputError, listing, plain, short

__all__ = [
    "ID_MIN_DISTINCT",
    "ID_SHARE",
    "PARSE_SHARE",
    "check_finite",
    "check_float32_range",
    "check_text_column",
    "check_unique_names",
    "is_numeric",
    "is_text",
    "stray_text",
]

#: A text column in which more than this share of the cells are numbers (or dates) is a
#: numeric (or date) column, not categories: see :class:`Preprocessor`.
PARSE_SHARE = 0.5

#: A text column with more than ``ID_MIN_DISTINCT`` distinct values that are also more than
#: ``ID_SHARE`` of the training rows looks like an id or free text, not categories.
ID_MIN_DISTINCT = 20
ID_SHARE = 0.5

# Numeric dates: 2024-01-05, 2024/1/5, 2024.01.05, 5.1.2024, 01/05/24, a year and month
# (2024-01; not 2024.01, a number, nor 3.10.12, a version), each optionally with a time
# (T10:30, 10:30:00.5Z, +01:00). Month names ("March") stay categories on purpose.
_MONTH, _DAY = r"(0?[1-9]|1[0-2])", r"(0?[1-9]|[12]\d|3[01])"
_DATE = re.compile(
    rf"(\d{{4}}([-/]{_MONTH}([-/]{_DAY})?|\.{_MONTH}\.{_DAY})"
    rf"|{_DAY}-{_DAY}-(\d{{2}}|\d{{4}})|{_DAY}/{_DAY}/(\d{{2}}|\d{{4}})|{_DAY}\.{_DAY}\.\d{{4}})"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?"
)


# 0,942 / -1,5 / 1.234,5 (a thousands point): numbers with a decimal comma, not categories.
_DECIMAL_COMMA = re.compile(r"[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+")


def check_unique_names(names, where: str) -> None:
    """Raise :class:`InputError` listing the column names in ``names`` that occur more than once."""
    names = pd.Series([str(n) for n in names if not (isinstance(n, float) and math.isnan(n))])
    counts = names[names.duplicated(keep=False)].value_counts(sort=False)
    if len(counts):
        repeated = [f"'{short(n)}' ({c} times)" for n, c in counts.items()]
        raise InputError(
            f"duplicate column names in {where}: {listing(repeated, width=None)}; "
            "rename them so every column has its own name."
        )


def check_finite(frame, what: str = "features") -> None:
    """Raise :class:`InputError` naming the columns (the first 10) with NaN / missing or inf values.

    Parameters
    ----------
    frame : pandas.DataFrame or pandas.Series
    what : str
        How the message calls the data ("features", "target").
    """
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    problems = []
    for name in frame.columns:
        col = frame[name]
        n_nan = int(col.isna().sum())
        n_inf = 0
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            n_inf = int(np.isinf(col.to_numpy(dtype=float, na_value=np.nan)).sum())
        parts = [f"{n_nan} missing/NaN"] if n_nan else []
        parts += [f"{n_inf} inf"] if n_inf else []
        if parts:
            problems.append(f"'{short(name)}' ({', '.join(parts)})")
    if problems:
        raise InputError(
            f"{what} contain missing or infinite values: {listing(problems, 10, width=None)}; "
            "fill or remove them first (kerasnet never drops rows silently)."
        )


#: The largest magnitude float32, the type networks train in, can hold (about 3.4e38).
FLOAT32_MAX = float(np.finfo(np.float32).max)


def row_words(label) -> str:
    """A row for a message: ``row 3`` (1-based) for a frame's default integer labels, else its label."""
    if isinstance(label, (int, np.integer)) and not isinstance(label, (bool, np.bool_)):
        return f"row {int(label) + 1} (1-based; line {int(label) + 2} of a CSV file with a header)"
    return f"the row labelled {short(label)!r}"


def check_float32_range(frame) -> None:
    """Raise :class:`InputError` naming the first numeric column and row whose magnitude exceeds float32's.

    Such a value is finite in the table but infinite once encoded in float32, so training gives NaN
    and predictions come out empty; refusing it names what to rescale. Non-numeric columns are
    checked where they are encoded.
    """
    for name in frame.columns:
        col = frame[name]
        if not is_numeric(col):
            continue
        values = np.abs(col.to_numpy(dtype=float, na_value=np.nan))
        over = np.flatnonzero(values > FLOAT32_MAX)
        if len(over):
            value, row = col.to_numpy()[over[0]], row_words(frame.index[over[0]])
            raise InputError(
                f"column '{short(name)}' holds {plain(value):.3g} in {row}, beyond "
                f"float32's range (about {FLOAT32_MAX:.2g}), the type networks train in; rescale the column "
                f"(e.g. divide by a power of ten) or fix that value ({len(over)} such value"
                f"{'s' if len(over) > 1 else ''} in all)."
            )


def is_numeric(col: pd.Series) -> bool:
    """Numbers (booleans excluded): what :class:`Preprocessor` standardizes."""
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def is_text(col: pd.Series) -> bool:
    """Strings, mixed objects or categories: what :class:`Preprocessor` one-hot encodes."""
    return not pd.api.types.is_bool_dtype(col) and (
        pd.api.types.is_object_dtype(col)
        or pd.api.types.is_string_dtype(col)
        or isinstance(col.dtype, pd.CategoricalDtype)
    )


def stray_text(col: pd.Series):
    """``(count, first bad values)`` when most cells are numbers but some are not, else None."""
    text = col.astype(str).str.strip()
    ok = pd.to_numeric(text, errors="coerce").notna().to_numpy()
    if ok.all() or ok.mean() <= PARSE_SHARE:
        return None
    return int((~ok).sum()), list(dict.fromkeys(text.to_numpy()[~ok]))


def check_text_column(name: str, col: pd.Series) -> None:
    """Refuse a text column that is really dates, numbers with stray text, or an id."""
    text = col.astype(str).str.strip()
    dates = text.str.fullmatch(_DATE).to_numpy(dtype=bool)
    if dates.mean() > PARSE_SHARE:
        raise InputError(
            f"column '{short(name)}' holds dates (such as {short(text.to_numpy()[dates][0])!r}), "
            "which kerasnet does not encode; convert them to numbers (for example days since a "
            f"fixed date), or leave the column out (drop={short(name)!r})."
        )
    bad = stray_text(col)
    if bad is not None:
        comma = " (with a decimal point, not a comma)" if any("," in v for v in bad[1]) else ""
        raise InputError(
            f"column '{short(name)}' holds numbers but {bad[0]} of {len(col)} cells are not "
            f"numbers: {listing(bad[1], quote=True)}; fix or fill those cells{comma}, or leave "
            f"the column out (drop={short(name)!r})."
        )
    commas = text.str.fullmatch(_DECIMAL_COMMA).to_numpy(dtype=bool)
    if commas.mean() > PARSE_SHARE:
        raise InputError(
            f"column '{short(name)}' holds numbers written with a decimal comma (such as "
            f"{short(text.to_numpy()[commas][0])!r}); write them with a decimal point (in pandas: "
            f"read_csv(..., decimal=',')), or leave the column out (drop={short(name)!r})."
        )
    n_distinct = int(text.nunique())
    if n_distinct > ID_MIN_DISTINCT and n_distinct > ID_SHARE * len(col):
        what = (
            "numbers stored as text; convert the column to numbers"
            if pd.to_numeric(text, errors="coerce").notna().all()
            else "an id or free text, not categories; group its values into fewer categories"
        )
        raise InputError(
            f"column '{short(name)}' has {n_distinct} distinct values in {len(col)} training rows "
            f"(such as {listing(list(dict.fromkeys(text))[:3], quote=True)}), so it looks like "
            f"{what}, or leave it out (drop={short(name)!r})."
        )
