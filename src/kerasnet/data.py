"""Tables in, arrays out: reading data, bundled datasets, task inference, fold-safe preprocessing.

Everything that can go wrong with a user's data raises :class:`InputError`, a ``ValueError``
whose message is one line naming the problem and the fix; the command line turns it into
exit code 2. Rows are never dropped silently: missing or infinite values are an error.
Columns that would be encoded wrongly are refused rather than guessed at: duplicate names,
dates, numbers with stray text, and ids or free text posing as categories (see
:class:`Preprocessor` for the exact rules).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re

import numpy as np
import pandas as pd

__all__ = [
    "DATASETS",
    "InputError",
    "Preprocessor",
    "check_finite",
    "infer_task",
    "load_dataset",
    "load_table",
    "split_features_target",
    "split_rows",
]

#: Bundled datasets (scikit-learn's own files, no download) and their tasks.
DATASETS = {
    "breast_cancer": "binary",
    "diabetes": "regression",
    "wine": "multiclass",
    "digits": "multiclass",
    "iris": "multiclass",
}

#: Integer-valued numeric targets with at most this many distinct values are classes.
MAX_INTEGER_CLASSES = 20

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

_TASKS = ("binary", "multiclass", "regression")
_FORMAT = "kerasnet.preprocessing"
_FORMAT_VERSION = 1


class InputError(ValueError):
    """Bad user input (file, column, value); the message is one line: the problem, then the fix."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def _short(value, width: int = 40) -> str:
    """A value as plain text (numpy scalars as Python ones), cut to ``width`` characters."""
    text = str(_plain(value))
    return text if len(text) <= width else text[: width - 3] + "..."


def _listing(values, limit: int = 5, quote: bool = False, width: int | None = 40) -> str:
    """At most ``limit`` values, each cut to ``width`` characters, then how many in all."""
    values = list(values)
    shown = [str(_plain(v)) if width is None else _short(v, width) for v in values[:limit]]
    shown = [repr(v) for v in shown] if quote else shown
    return ", ".join(shown) + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _check_unique_names(names, where: str) -> None:
    names = pd.Series([str(n) for n in names if not (isinstance(n, float) and math.isnan(n))])
    counts = names[names.duplicated(keep=False)].value_counts(sort=False)
    if len(counts):
        repeated = [f"'{_short(n)}' ({c} times)" for n, c in counts.items()]
        raise InputError(
            f"duplicate column names in {where}: {_listing(repeated, width=None)}; "
            "rename them so every column has its own name."
        )


# --------------------------------------------------------------------------- reading


def load_table(source) -> pd.DataFrame:
    """Read a table: a CSV file, a Parquet file (``.parquet`` / ``.pq``), or a DataFrame.

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        A DataFrame is returned as it is (not copied).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputError
        The file is missing, unreadable, empty or has no rows; two columns share a name
        (read from the CSV header itself: pandas would rename the second ``a`` to ``a.1``);
        or it is Parquet and ``pyarrow`` is not installed.
    """
    if isinstance(source, pd.DataFrame):
        frame = source
    else:
        if not isinstance(source, (str, os.PathLike)):
            raise InputError(
                f"data must be a file path or a pandas DataFrame; received {type(source).__name__}."
            )
        path = os.fspath(source)
        if not os.path.exists(path):
            raise InputError(f"data file '{path}' does not exist; check the path.")
        if os.path.isdir(path):
            raise InputError(f"data file '{path}' is a folder; give a CSV or Parquet file.")
        if not os.access(path, os.R_OK):
            raise InputError(f"data file '{path}' is not readable; check its permissions.")
        if os.path.getsize(path) == 0:
            raise InputError(f"data file '{path}' is empty; give a file with a header row and data rows.")
        frame = _read_file(path)
    _check_unique_names(frame.columns, "the data")
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise InputError(
            f"data has no rows (shape {frame.shape[0]} x {frame.shape[1]}); "
            "give a table with a header row and at least one data row."
        )
    return frame


def _read_file(path: str) -> pd.DataFrame:
    if path.lower().endswith((".parquet", ".pq")):
        if importlib.util.find_spec("pyarrow") is None:
            raise InputError(
                f"reading Parquet file '{path}' needs pyarrow; run `pip install pyarrow` "
                "(or `pip install kerasnet[parquet]`), or give a CSV file."
            )
        import pyarrow.parquet as pq

        try:
            # Check the names first: pyarrow's own error for duplicates is many lines long.
            _check_unique_names(pq.read_schema(path).names, f"Parquet file '{path}'")
            return pd.read_parquet(path)
        except (OSError, ValueError) as err:
            if isinstance(err, InputError):
                raise
            raise InputError(
                f"cannot read Parquet file '{path}': {_first_line(err)}; check the file."
            ) from None
    try:
        # pandas renames a repeated header name ("a", "a.1"), so read the header row as written.
        header = pd.read_csv(path, header=None, nrows=1, dtype=str).iloc[0].tolist()
        _check_unique_names(header, f"data file '{path}'")
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise InputError(
            f"data file '{path}' is empty; give a file with a header row and data rows."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(f"cannot parse CSV file '{path}': {err}; check the file is valid CSV.") from None
    except OSError as err:
        raise InputError(f"cannot read data file '{path}': {err.strerror or err}; check the path.") from None


def _first_line(err, width: int = 200) -> str:
    lines = str(err).strip().splitlines()
    return _short(lines[0] if lines else type(err).__name__, width)


def load_dataset(name: str) -> tuple[pd.DataFrame, str]:
    """A bundled dataset as a DataFrame and the name of its target column.

    Uses scikit-learn's bundled files (no download). Class labels of ``breast_cancer``,
    ``wine`` and ``iris`` are the class names (``"malignant"``, ``"setosa"``...);
    ``digits`` keeps its digits 0-9; ``diabetes`` is regression.

    Parameters
    ----------
    name : {"breast_cancer", "diabetes", "wine", "digits", "iris"}

    Returns
    -------
    (frame, target) : (pandas.DataFrame, str)

    Examples
    --------
    >>> frame, target = load_dataset("iris")
    >>> frame.shape, target
    ((150, 5), 'target')
    """
    from sklearn import datasets

    if name not in DATASETS:
        raise InputError(f"unknown dataset '{name}'; choose one of {', '.join(DATASETS)}.")
    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    frame = bunch.frame.copy()
    target = "target"
    names = getattr(bunch, "target_names", None)
    if DATASETS[name] != "regression" and name != "digits" and names is not None:
        frame[target] = np.asarray(names)[frame[target].to_numpy()]
    return frame, target


def split_features_target(frame: pd.DataFrame, target: str, drop=()) -> tuple[pd.DataFrame, pd.Series]:
    """Split ``frame`` into features (all columns but ``target`` and ``drop``) and the target.

    Raises
    ------
    InputError
        ``target`` or a ``drop`` column is not in ``frame``, two columns share a name, or
        no feature column is left.
    """
    _check_unique_names(frame.columns, "the data")
    columns = [str(c) for c in frame.columns]
    if target not in columns:
        raise InputError(
            f"target column '{target}' is not in the data (columns: {_listing(columns, 8)}); "
            "pass one of the columns to --target."
        )
    missing = [c for c in drop if c not in columns]
    if missing:
        raise InputError(f"columns to drop not in the data: {_listing(missing)}; check the names.")
    frame = frame.rename(columns=str)
    features = frame.drop(columns=[target, *drop])
    if features.shape[1] == 0:
        raise InputError("no feature columns are left besides the target; give a table with features.")
    return features, frame[target]


# --------------------------------------------------------------------------- checks and task


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
            problems.append(f"'{_short(name)}' ({', '.join(parts)})")
    if problems:
        raise InputError(
            f"{what} contain missing or infinite values: {_listing(problems, 10, width=None)}; "
            "fill or remove them first (kerasnet never drops rows silently)."
        )


def _is_numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _is_text(col: pd.Series) -> bool:
    """Strings, mixed objects or categories: what :class:`Preprocessor` one-hot encodes."""
    return not pd.api.types.is_bool_dtype(col) and (
        pd.api.types.is_object_dtype(col)
        or pd.api.types.is_string_dtype(col)
        or isinstance(col.dtype, pd.CategoricalDtype)
    )


def _stray_text(col: pd.Series):
    """``(count, first bad values)`` when most cells are numbers but some are not, else None."""
    text = col.astype(str).str.strip()
    ok = pd.to_numeric(text, errors="coerce").notna().to_numpy()
    if ok.all() or ok.mean() <= PARSE_SHARE:
        return None
    return int((~ok).sum()), list(dict.fromkeys(text.to_numpy()[~ok]))


def _check_text_column(name: str, col: pd.Series) -> None:
    """Refuse a text column that is really dates, numbers with stray text, or an id."""
    text = col.astype(str).str.strip()
    dates = text.str.fullmatch(_DATE).to_numpy(dtype=bool)
    if dates.mean() > PARSE_SHARE:
        raise InputError(
            f"column '{_short(name)}' holds dates (such as {_short(text.to_numpy()[dates][0])!r}), "
            "which kerasnet does not encode; convert them to numbers (for example days since a "
            f"fixed date), or leave the column out with --drop {_short(name)}."
        )
    bad = _stray_text(col)
    if bad is not None:
        comma = " (with a decimal point, not a comma)" if any("," in v for v in bad[1]) else ""
        raise InputError(
            f"column '{_short(name)}' holds numbers but {bad[0]} of {len(col)} cells are not "
            f"numbers: {_listing(bad[1], quote=True)}; fix or fill those cells{comma}, or leave "
            f"the column out with --drop {_short(name)}."
        )
    n_distinct = int(text.nunique())
    if n_distinct > ID_MIN_DISTINCT and n_distinct > ID_SHARE * len(col):
        what = (
            "numbers stored as text; convert the column to numbers"
            if pd.to_numeric(text, errors="coerce").notna().all()
            else "an id or free text, not categories; group its values into fewer categories"
        )
        raise InputError(
            f"column '{_short(name)}' has {n_distinct} distinct values in {len(col)} training rows "
            f"(such as {_listing(list(dict.fromkeys(text))[:3], quote=True)}), so it looks like "
            f"{what}, or leave it out with --drop {_short(name)}."
        )


def infer_task(y) -> str:
    """The task a target asks for: ``"binary"``, ``"multiclass"`` or ``"regression"``.

    The rule:

    - a non-numeric target (strings, categories, booleans) is classification: ``binary``
      with 2 distinct values, ``multiclass`` with more;
    - a numeric target whose values are all integers and that has at most
      ``MAX_INTEGER_CLASSES`` (20) distinct values is classification the same way;
    - any other numeric target is ``regression``;
    - a target with a single distinct value is an error (nothing to learn);
    - a text target that is mostly numbers (more than ``PARSE_SHARE`` of the values parse)
      but holds some text ("?", "n/a") is an error: the text would become extra classes.

    The command line's ``--task`` overrides the rule.

    Examples
    --------
    >>> infer_task(["a", "b", "a"]), infer_task([0, 1, 2, 1]), infer_task([0.5, 1.25, 3.0])
    ('binary', 'multiclass', 'regression')
    """
    y = pd.Series(y) if not isinstance(y, pd.Series) else y
    check_finite(y, "target")
    name = _short(y.name) if y.name is not None else "y"
    n_distinct = int(y.nunique())
    if n_distinct < 2:
        value = _plain(y.iloc[0]) if len(y) else None
        value = _short(value) if isinstance(value, str) else value
        raise InputError(
            f"target '{name}' has one class ({value!r}) in "
            f"{len(y)} rows; a model needs at least two distinct target values."
        )
    if _is_text(y):
        bad = _stray_text(y)
        if bad is not None:
            raise InputError(
                f"target '{name}' holds numbers but {bad[0]} of {len(y)} values are not numbers: "
                f"{_listing(bad[1], quote=True)}; fix or fill those values (or remove those rows) "
                "in the data."
            )
    if _is_numeric(y):
        values = y.to_numpy(dtype=float)
        if n_distinct > MAX_INTEGER_CLASSES or not np.all(values == np.round(values)):
            return "regression"
    return "binary" if n_distinct == 2 else "multiclass"


def _check_task(task) -> str:
    if task not in _TASKS:
        raise InputError(f"task must be one of {', '.join(_TASKS)}; received {task!r}.")
    return task


def split_rows(n_rows: int, validation_split: float, y=None, task=None, seed=None):
    """Indices of training and validation rows, stratified by class for classification.

    Parameters
    ----------
    n_rows : int
    validation_split : float
        Share of rows held out, in [0, 1). 0 gives no validation rows.
    y : array-like, optional
        Targets, used to stratify when ``task`` is ``binary`` or ``multiclass``.
    task : str, optional
    seed : int, optional
        Seed of the shuffle (scikit-learn's ``random_state``).

    Returns
    -------
    (train_index, validation_index) : tuple of numpy arrays
    """
    from sklearn.model_selection import train_test_split

    if not 0 <= validation_split < 1:
        raise InputError(
            f"validation split must be in [0, 1); received {_plain(validation_split)!r}."
        )
    index = np.arange(n_rows)
    if validation_split == 0:
        return index, index[:0]
    stratify = None
    if task in ("binary", "multiclass") and y is not None:
        stratify = np.asarray(pd.Series(y).astype(str))
    try:
        train, valid = train_test_split(
            index, test_size=validation_split, random_state=seed, stratify=stratify
        )
    except ValueError as err:
        reason = str(err).split(".")[0]  # scikit-learn's first sentence; its class list can be huge
        if stratify is not None:
            labels, counts = np.unique(stratify, return_counts=True)
            rare = labels[counts < 2]
            if len(rare):
                many = len(rare) > 1
                reason = (f"{len(rare)} class{'es have' if many else ' has'} a single row "
                          f"({_listing(rare)}), and a stratified split needs 2 rows of each")
        raise InputError(
            f"cannot split {n_rows} rows with validation split {validation_split}: {reason}; "
            "use more rows, a different --validation-split, or --validation-split 0."
        ) from None
    return np.sort(train), np.sort(valid)


# --------------------------------------------------------------------------- preprocessing


def _plain(value):
    """A JSON-native copy of a label (numpy scalars become Python numbers)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


class Preprocessor:
    """Fold-safe preprocessing: statistics from training rows only, saved as plain JSON.

    Numeric columns are standardized, ``(x - mean) / std`` with the training rows' mean and
    (population) standard deviation; a constant column gets scale 1. Other columns
    (strings, categories, booleans) are one-hot encoded with the categories seen in the
    training rows, compared as strings. For classification the target's classes (sorted)
    become integers ``0..K-1``; a regression target is left in its own units.

    :meth:`fit` refuses, with an :class:`InputError` naming the column, columns that one-hot
    encoding would get wrong (checked on the training rows, whitespace around cells ignored):

    - duplicate column names;
    - dates: a ``datetime64`` / ``timedelta64`` / period column, or a text column in which
      more than ``PARSE_SHARE`` (half) of the cells are numeric dates (``2024-01-05``,
      ``2024/1/5``, ``5.1.2024``, ``2024-01-05T10:30``); convert them to numbers first;
    - numbers with stray text: a text column in which more than half of the cells parse
      as numbers (:func:`pandas.to_numeric`) but some do not (``"?"``, ``"n/a"``, ``"1,5"``);
    - ids and free text: a text column with more than ``ID_MIN_DISTINCT`` (20) distinct
      values that are also more than ``ID_SHARE`` (half) of the training rows.

    Booleans and text columns with few distinct values, including codes made of digits
    (``"01"``, ``"02"``), are one-hot encoded as before.

    The state is JSON (:meth:`to_json`, :meth:`save`), never pickle, so loading a
    preprocessing file cannot run code.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"} or None, default None
        None infers it from the target with :func:`infer_task`.

    Attributes
    ----------
    task_ : str
    target_ : str or None
        Name of the target column.
    columns_ : list of dict
        One entry per input column, in order: ``{"name", "kind": "numeric", "mean",
        "scale"}`` or ``{"name", "kind": "categorical", "categories"}``.
    feature_names_ : list of str
        Names of the output columns (``"color=red"`` for one-hot columns).
    classes_ : list or None
        Class labels in the order of the model's outputs (classification only).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"age": [20.0, 30.0, 40.0], "color": ["red", "blue", "red"]})
    >>> pre = Preprocessor().fit(X, pd.Series(["no", "yes", "no"], name="buy"))
    >>> pre.task_, pre.feature_names_, pre.classes_
    ('binary', ['age', 'color=blue', 'color=red'], ['no', 'yes'])
    """

    def __init__(self, task=None):
        self.task = task

    # ---- fitting
    def fit(self, X: pd.DataFrame, y=None) -> Preprocessor:
        """Learn column statistics from ``X`` (training rows only) and the classes of ``y``."""
        if not isinstance(X, pd.DataFrame):
            raise InputError(f"X must be a pandas DataFrame; received {type(X).__name__}.")
        if len(X) == 0:
            raise InputError("no training rows to fit the preprocessing on; give more data.")
        _check_unique_names(X.columns, "the features")
        check_finite(X, "features")
        columns = []
        for name in X.columns:
            col = X[name]
            if _is_numeric(col):
                values = col.to_numpy(dtype=float)
                mean, std = float(values.mean()), float(values.std())
                # A constant column carries no information; scale 1 keeps it at 0, not NaN.
                scale = std if std > 0 and math.isfinite(std) else 1.0
                columns.append({"name": str(name), "kind": "numeric", "mean": mean, "scale": scale})
            elif pd.api.types.is_bool_dtype(col) or _is_text(col):
                if _is_text(col):
                    _check_text_column(str(name), col)
                categories = sorted(set(col.astype(str)))
                columns.append({"name": str(name), "kind": "categorical", "categories": categories})
            elif (
                pd.api.types.is_datetime64_any_dtype(col)
                or pd.api.types.is_timedelta64_dtype(col)
                or isinstance(col.dtype, pd.PeriodDtype)
            ):
                raise InputError(
                    f"column '{_short(name)}' holds dates or times ({col.dtype}), which kerasnet does "
                    "not encode; convert them to numbers (for example days since a fixed date), or "
                    f"leave the column out with --drop {_short(name)}."
                )
            else:
                raise InputError(
                    f"column '{_short(name)}' has type {col.dtype}, which kerasnet cannot encode; "
                    f"convert it to numbers or strings, or leave it out with --drop {_short(name)}."
                )
        self.columns_ = columns
        self.feature_names_ = []
        for spec in columns:
            if spec["kind"] == "numeric":
                self.feature_names_.append(spec["name"])
            else:
                self.feature_names_.extend(f"{spec['name']}={c}" for c in spec["categories"])
        self.target_ = None
        self.task_ = None if self.task is None else _check_task(self.task)
        self.classes_ = None
        if y is not None:
            self._fit_target(pd.Series(y) if not isinstance(y, pd.Series) else y)
        return self

    def _fit_target(self, y: pd.Series) -> None:
        self.target_ = None if y.name is None else str(y.name)
        inferred = infer_task(y)  # also checks NaN / inf and a single class
        task = self.task_ or inferred
        if task == "regression":
            if not _is_numeric(y):
                raise InputError(
                    f"task 'regression' needs a numeric target, but '{_short(self.target_ or 'y')}' holds "
                    f"values like {_short(y.iloc[0])!r}; use --task binary or multiclass."
                )
        else:
            classes = np.unique(self._labels(y))
            if task == "binary" and len(classes) != 2:
                raise InputError(
                    f"task 'binary' needs exactly 2 classes, but target '{_short(self.target_ or 'y')}' has "
                    f"{len(classes)} ({_listing(classes)}); use --task multiclass (or leave --task out)."
                )
            self.classes_ = [_plain(c) for c in classes]
        self.task_ = task

    @staticmethod
    def _labels(y: pd.Series) -> np.ndarray:
        # Mixed or string labels compare as strings; numbers and booleans keep their type.
        if _is_numeric(y) or pd.api.types.is_bool_dtype(y):
            return y.to_numpy()
        return y.astype(str).to_numpy(dtype=object)

    def _check_fitted(self):
        if not hasattr(self, "columns_"):
            raise RuntimeError("this Preprocessor is not fitted yet; call fit(X, y) first.")

    # ---- applying
    @property
    def n_features_out(self) -> int:
        """Number of model inputs after encoding."""
        self._check_fitted()
        return len(self.feature_names_)

    @property
    def n_outputs(self) -> int:
        """Number of model outputs: 1 (binary, regression) or the number of classes."""
        return len(self.classes_) if self.task_ == "multiclass" else 1

    @property
    def input_columns(self) -> list[str]:
        """Names of the raw columns :meth:`transform` needs, in order."""
        self._check_fitted()
        return [spec["name"] for spec in self.columns_]

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Encode raw rows into the model's float32 inputs; extra columns are ignored.

        Raises
        ------
        InputError
            Columns used in training are missing, values are missing / infinite, a
            numeric column holds text, or a categorical column holds an unseen category.
        """
        self._check_fitted()
        X = X.rename(columns=str)
        missing = [c for c in self.input_columns if c not in X.columns]
        if missing:
            raise InputError(
                f"data is missing columns used in training: {_listing(missing, 8)}; "
                "add them (extra columns are fine)."
            )
        X = X[self.input_columns]
        check_finite(X, "features")
        blocks, unseen = [], []
        for spec in self.columns_:
            col = X[spec["name"]]
            if spec["kind"] == "numeric":
                values = pd.to_numeric(col, errors="coerce")
                bad = values.isna() & col.notna()
                if bad.any():
                    example = _short(col[bad].iloc[0])
                    raise InputError(
                        f"column '{_short(spec['name'])}' was numeric in training but holds text such as "
                        f"{example!r} ({int(bad.sum())} rows); fix those values."
                    )
                values = values.to_numpy(dtype=float)
                blocks.append(((values - spec["mean"]) / spec["scale"])[:, None])
            else:
                text = col.astype(str)
                new = sorted(set(text) - set(spec["categories"]))
                if new:
                    unseen.append(f"'{_short(spec['name'])}': {_listing(new, 3)}")
                    continue
                codes = pd.Categorical(text, categories=spec["categories"]).codes
                blocks.append(np.eye(len(spec["categories"]))[codes])
        if unseen:
            raise InputError(
                f"categories not seen in training: {'; '.join(unseen[:5])}"
                f"{f'; ... ({len(unseen)} columns in all)' if len(unseen) > 5 else ''}; "
                "give only categories the model was trained on (or refit with these rows)."
            )
        return np.hstack(blocks).astype("float32") if blocks else np.zeros((len(X), 0), "float32")

    def encode_target(self, y) -> np.ndarray:
        """Targets as the model's labels: class indices 0..K-1, or float32 values ``(n, 1)``."""
        self._check_fitted()
        y = pd.Series(y) if not isinstance(y, pd.Series) else y
        check_finite(y, "target")
        if self.task_ == "regression":
            return pd.to_numeric(y).to_numpy(dtype="float32")[:, None]
        labels = self._labels(y)
        lookup = {c: i for i, c in enumerate(self.classes_)}
        if pd.api.types.is_object_dtype(labels) and not all(isinstance(c, str) for c in self.classes_):
            lookup = {str(c): i for i, c in enumerate(self.classes_)}
        codes = [lookup.get(_plain(v), -1) for v in labels]
        unknown = sorted({str(v) for v, code in zip(labels, codes, strict=True) if code < 0})
        if unknown:
            raise InputError(
                f"target has classes not seen in training: {_listing(unknown)}; "
                f"known classes are {_listing(self.classes_, 10)}."
            )
        dtype = "float32" if self.task_ == "binary" else "int32"
        return np.asarray(codes, dtype=dtype)

    def decode_predictions(self, outputs) -> pd.DataFrame:
        """Model outputs as a table: the class label and one probability per class, or values.

        Classification gives ``predicted_<target>`` (original labels) and
        ``proba_<class>`` columns; regression gives ``predicted_<target>``.
        """
        self._check_fitted()
        outputs = np.asarray(outputs, dtype=float)
        if outputs.ndim == 1:
            outputs = outputs[:, None]
        name = f"predicted_{self.target_ or 'target'}"
        if self.task_ == "regression":
            if outputs.shape[1] == 1:
                return pd.DataFrame({name: outputs[:, 0]})
            return pd.DataFrame(outputs, columns=[f"{name}_{i}" for i in range(outputs.shape[1])])
        if self.task_ == "binary":
            proba = np.hstack([1.0 - outputs[:, :1], outputs[:, :1]])
        else:
            proba = outputs
        labels = np.asarray(self.classes_, dtype=object)[np.argmax(proba, axis=1)]
        table = {name: labels}
        for i, c in enumerate(self.classes_):
            table[f"proba_{c}"] = proba[:, i]
        return pd.DataFrame(table)

    # ---- saving
    def to_dict(self) -> dict:
        """The fitted state as JSON-native types."""
        self._check_fitted()
        return {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "task": self.task_,
            "target": self.target_,
            "classes": self.classes_,
            "columns": self.columns_,
            "feature_names": self.feature_names_,
        }

    def to_json(self) -> str:
        """The fitted state as a JSON string (see :meth:`from_json`)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    @classmethod
    def from_dict(cls, state: dict) -> Preprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_dict`'s output."""
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise InputError(
                "this is not a kerasnet preprocessing file (no 'format': 'kerasnet.preprocessing'); "
                "give the preprocessing.json that kerasnet fit wrote."
            )
        if state.get("version") != _FORMAT_VERSION:
            raise InputError(
                f"preprocessing format version {state.get('version')!r} is not supported "
                f"(this kerasnet reads version {_FORMAT_VERSION}); refit with this kerasnet."
            )
        pre = cls(task=state["task"])
        pre.task_ = _check_task(state["task"])
        pre.target_ = state.get("target")
        pre.classes_ = state.get("classes")
        pre.columns_ = list(state["columns"])
        pre.feature_names_ = list(state["feature_names"])
        return pre

    @classmethod
    def from_json(cls, text: str) -> Preprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_json`'s output."""
        try:
            state = json.loads(text)
        except ValueError as err:
            raise InputError(f"preprocessing file is not valid JSON: {err}; refit the model.") from None
        return cls.from_dict(state)

    def save(self, path) -> None:
        """Write :meth:`to_json` to ``path`` (conventionally ``preprocessing.json``)."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_json() + "\n")

    @classmethod
    def load(cls, path) -> Preprocessor:
        """Read a preprocessing file written by :meth:`save`."""
        try:
            with open(path, encoding="utf-8") as fh:
                return cls.from_json(fh.read())
        except OSError as err:
            raise InputError(f"cannot read preprocessing file '{path}': {err.strerror or err}.") from None
