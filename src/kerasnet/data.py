"""Tables in: reading CSV / Parquet files and DataFrames, bundled datasets, features and target.

Everything that can go wrong with a user's data raises :class:`InputError`, a ``ValueError``
whose message is one line naming the problem and the fix; the command line turns it into
exit code 2. This module is also where the data layer is imported from: it re-exports
:class:`InputError` (:mod:`kerasnet.errors`), :func:`check_finite` and the column-check
thresholds (:mod:`kerasnet.columns`), :func:`infer_task` (:mod:`kerasnet.tasks`) and
:class:`Preprocessor` (:mod:`kerasnet.preprocessing`); :func:`split_rows` holds out validation rows.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pandas as pd

# Re-exported: kerasnet.data is where the command line, the tests and users import these from.
from .columns import ID_MIN_DISTINCT as ID_MIN_DISTINCT
from .columns import ID_SHARE as ID_SHARE
from .columns import PARSE_SHARE as PARSE_SHARE
from .columns import check_finite, check_unique_names
from .errors import InputError, listing, plain, short
from .header import check_data_file, check_named_columns
from .preprocessing import Preprocessor
from .tasks import MAX_INTEGER_CLASSES as MAX_INTEGER_CLASSES
from .tasks import infer_task

__all__ = [
    "DATASETS",
    "InputError",
    "Preprocessor",
    "check_finite",
    "infer_task",
    "load_dataset",
    "load_survival_dataset",
    "load_table",
    "split_features_target",
    "split_rows",
]

#: Bundled datasets and their tasks: scikit-learn's own files, and survival data shipped with
#: kerasnet (``kerasnet/datasets``, each file's source and licence in its README). No download.
DATASETS = {
    "breast_cancer": "binary",
    "diabetes": "regression",
    "wine": "multiclass",
    "digits": "multiclass",
    "iris": "multiclass",
    "rossi": "cox",
}

#: The (time, event) columns of the bundled survival datasets.
SURVIVAL_COLUMNS = {"rossi": ("week", "arrest")}


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
        check_data_file(path)
        frame = _read_file(path)
    check_unique_names(frame.columns, "the data")
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise InputError(
            f"data has no rows (shape {frame.shape[0]} x {frame.shape[1]}); "
            "give a table with a header row and at least one data row."
        )
    return frame


#: Formats often given by mistake, by file name ending: read as CSV they give "no rows" or garbage.
UNSUPPORTED = {(".xlsx", ".xlsm", ".xls", ".ods"): "a spreadsheet", (".json", ".jsonl", ".ndjson"): "JSON",
               (".feather", ".arrow"): "Arrow/Feather", (".pkl", ".pickle"): "a pickle",
               (".h5", ".hdf5", ".hdf"): "HDF5", (".sav", ".dta", ".sas7bdat", ".rds", ".rdata"): "a "
               "statistics package's file", (".npy", ".npz"): "a numpy array"}


def _read_file(path: str) -> pd.DataFrame:
    for endings, what in UNSUPPORTED.items():
        if path.lower().endswith(endings):
            ending = os.path.splitext(path)[1]
            raise InputError(f"data file '{path}' is {what} ({ending}), which kerasnet does not read; "
                             "save it as CSV (read from any other file name, also .gz / .zip) or "
                             "Parquet (.parquet / .pq).")
    if path.lower().endswith((".parquet", ".pq")):
        if importlib.util.find_spec("pyarrow") is None:
            raise InputError(
                f"reading Parquet file '{path}' needs pyarrow; run `pip install pyarrow` "
                "(or `pip install kerasnet[parquet]`), or give a CSV file."
            )
        import pyarrow.parquet as pq

        try:
            # Check the names first: pyarrow's own error for duplicates is many lines long.
            check_unique_names(pq.read_schema(path).names, f"Parquet file '{path}'")
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
        check_unique_names(header, f"data file '{path}'")
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
    return short(lines[0] if lines else type(err).__name__, width)


def load_dataset(name: str) -> tuple[pd.DataFrame, str]:
    """A bundled dataset as a DataFrame and the name of its target column.

    Uses scikit-learn's bundled files and kerasnet's own (no download). Class labels of
    ``breast_cancer``, ``wine`` and ``iris`` are the class names (``"malignant"``,
    ``"setosa"``...); ``digits`` keeps its digits 0-9; ``diabetes`` is regression.
    ``rossi`` is survival data (Rossi et al. 1980: weeks to re-arrest of 432 released
    prisoners): its target is the time column ``week``, and its event column
    (``SURVIVAL_COLUMNS["rossi"]``, ``arrest``) is among the others;
    :func:`load_survival_dataset` gives features and (time, event) apart.

    Parameters
    ----------
    name : {"breast_cancer", "diabetes", "wine", "digits", "iris", "rossi"}

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
    if name in SURVIVAL_COLUMNS:
        from importlib import resources

        with resources.files("kerasnet.datasets").joinpath(f"{name}.csv").open("r", encoding="utf-8") as fh:
            return pd.read_csv(fh), SURVIVAL_COLUMNS[name][0]
    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    frame = bunch.frame.copy()
    target = "target"
    names = getattr(bunch, "target_names", None)
    if DATASETS[name] != "regression" and name != "digits" and names is not None:
        frame[target] = np.asarray(names)[frame[target].to_numpy()]
    return frame, target


def load_survival_dataset(name: str = "rossi") -> tuple[pd.DataFrame, pd.DataFrame]:
    """A bundled survival dataset as features and a (time, event) frame for ``task="cox"``.

    Parameters
    ----------
    name : {"rossi"}, default "rossi"
        Rossi et al. (1980): weeks to re-arrest (``week``, at most 52) and whether it happened
        (``arrest``) of 432 men released from prison, with 7 features (financial aid, age,
        race, work experience, marriage, parole, prior convictions).

    Returns
    -------
    (X, y) : (pandas.DataFrame, pandas.DataFrame)
        ``y`` has the time and event columns, in that order: the form
        :func:`kerasnet.fit_path` takes with ``task="cox"``.

    Examples
    --------
    >>> X, y = load_survival_dataset("rossi")
    >>> X.shape, list(y.columns)
    ((432, 7), ['week', 'arrest'])
    """
    if name not in SURVIVAL_COLUMNS:
        raise InputError(f"'{name}' is not a bundled survival dataset; choose one of "
                         f"{', '.join(SURVIVAL_COLUMNS)}.")
    frame, _ = load_dataset(name)
    columns = list(SURVIVAL_COLUMNS[name])
    return frame.drop(columns=columns), frame[columns]


def split_features_target(frame: pd.DataFrame, target: str, drop=()) -> tuple[pd.DataFrame, pd.Series]:
    """Split ``frame`` into features (all columns but ``target`` and ``drop``) and the target.

    Raises
    ------
    InputError
        ``target`` or a ``drop`` column is not in ``frame``, two columns share a name, or
        no feature column is left.
    """
    check_unique_names(frame.columns, "the data")
    columns = [str(c) for c in frame.columns]
    check_named_columns(columns, target, drop)
    frame = frame.rename(columns=str)
    features = frame.drop(columns=[target, *drop])
    if features.shape[1] == 0:
        raise InputError("no feature columns are left besides the target; give a table with features.")
    check_written_index(features)
    return features, frame[target]


def check_written_index(features: pd.DataFrame) -> None:
    """Refuse a feature that is the row index pandas writes with ``to_csv()`` (``Unnamed: 0``: 0, 1, ...).

    It would be used as a feature (the row number); refusing says how to leave it out rather than
    guessing that it is an index.
    """
    for name in features.columns:
        col = features[name]
        if (str(name).startswith("Unnamed: ") and pd.api.types.is_integer_dtype(col)
                and np.array_equal(col.to_numpy(), np.arange(len(col)))):
            raise InputError(f"column {str(name)!r} holds the row numbers 0, 1, 2, ... of a CSV file written "
                             "with its index (pandas' to_csv() without index=False), not a feature; leave "
                             f"it out (drop={str(name)!r}), or write the file with index=False.")


# --------------------------------------------------------------------------- splitting


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
            f"validation split must be in [0, 1); received {plain(validation_split)!r}."
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
                          f"({listing(rare)}), and a stratified split needs 2 rows of each")
        raise InputError(
            f"cannot split {n_rows} rows with validation split {validation_split}: {reason}; "
            "use more rows, another validation_split= value, or validation_split=0 (no validation rows)."
        ) from None
    return np.sort(train), np.sort(valid)
