"""Fold-safe preprocessing (:class:`Preprocessor`): statistics from training rows only, saved as plain JSON.

Numeric columns are standardized and other columns one-hot encoded with what the training
rows hold; the fitted state is written and read as JSON (format ``kerasnet.preprocessing``,
version 1), never pickle. Columns that would be encoded wrongly are refused with an
:class:`~kerasnet.errors.InputError` (see :mod:`kerasnet.columns`).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .columns import (
    check_finite,
    check_float32_range,
    check_text_column,
    check_unique_names,
    is_numeric,
    is_text,
)
from .errors import InputError, listing, plain, short
from .saved_state import check_state
from .standardization import weighted_moments
from .tasks import check_task, infer_task

__all__ = ["Preprocessor"]

_FORMAT = "kerasnet.preprocessing"
_FORMAT_VERSION = 1


class Preprocessor:
    """Fold-safe preprocessing: statistics from training rows only, saved as plain JSON.

    Numeric columns are standardized, ``(x - mean) / std`` with the training rows' mean and
    (population) standard deviation; a constant column gets its value as mean and scale 1, so it
    becomes 0 (:mod:`kerasnet.standardization`, the rule the path uses too). Other columns
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

    - numbers beyond float32's range (magnitude above about 3.4e38, the type networks train
      in), named by column and row; :meth:`transform` refuses them too;
    - numbers with a decimal comma (``"0,942"``) in a text column.

    Booleans and text columns with few distinct values, including codes made of digits
    (``"01"``, ``"02"``), are one-hot encoded as before.

    The state is JSON (:meth:`to_json`, :meth:`save`), never pickle, so loading a
    preprocessing file cannot run code.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression", "poisson", "cox"} or None, default None
        None infers it from the target with :func:`infer_task` (never ``"cox"``). With
        ``"cox"`` the target is a DataFrame of two columns, time (> 0) and event (1 or 0).

    Attributes
    ----------
    task_ : str
    target_ : str or None
        Name of the target column (Cox: the time column).
    event_ : str or None
        Cox: name of the event column.
    columns_ : list of dict
        One entry per input column, in order: ``{"name", "kind": "numeric", "mean",
        "scale"}`` or ``{"name", "kind": "categorical", "categories"}``.
    feature_names_ : list of str
        Names of the output columns (``"color=red"`` for one-hot columns).
    classes_ : list or None
        Class labels in the order of the model's outputs (classification only).
    offset_column_ : str or None
        Poisson: the column of each row's log exposure that the model was fit with (not a
        feature; set by whoever fit the offset, e.g. ``kerasnet path --offset-column``), so
        predictions can be turned into expected counts from the preprocessing file alone.
    offset_recorded_ : bool
        False for a Poisson file written before ``offset_column`` was saved (then the
        offset, if any, is recorded only with the run: ``kerasnet predict`` reads metrics.json).

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
        check_unique_names(X.columns, "the features")
        check_finite(X, "features")
        check_float32_range(X)
        columns = []
        for name in X.columns:
            col = X[name]
            if is_numeric(col):
                # Population mean and sd in float64; a constant column gets its own value as mean
                # and scale 1, so it becomes exactly 0 (kerasnet.standardization's one rule).
                mean, scale = (float(v[0]) for v in weighted_moments(col.to_numpy(dtype=float)))
                columns.append({"name": str(name), "kind": "numeric", "mean": mean, "scale": scale})
            elif pd.api.types.is_bool_dtype(col) or is_text(col):
                if is_text(col):
                    check_text_column(str(name), col)
                categories = sorted(set(col.astype(str)))
                columns.append({"name": str(name), "kind": "categorical", "categories": categories})
            elif (
                pd.api.types.is_datetime64_any_dtype(col)
                or pd.api.types.is_timedelta64_dtype(col)
                or isinstance(col.dtype, pd.PeriodDtype)
            ):
                raise InputError(
                    f"column '{short(name)}' holds dates or times ({col.dtype}), which kerasnet does "
                    "not encode; convert them to numbers (for example days since a fixed date), or "
                    f"leave the column out (drop={short(name)!r})."
                )
            else:
                raise InputError(
                    f"column '{short(name)}' has type {col.dtype}, which kerasnet cannot encode; "
                    f"convert it to numbers or strings, or leave it out (drop={short(name)!r})."
                )
        self.columns_ = columns
        self.feature_names_ = []
        for spec in columns:
            if spec["kind"] == "numeric":
                self.feature_names_.append(spec["name"])
            else:
                self.feature_names_.extend(f"{spec['name']}={c}" for c in spec["categories"])
        self.target_ = self.event_ = self.offset_column_ = None
        self.offset_recorded_ = True
        self.task_ = None if self.task is None else check_task(self.task)
        self.classes_ = None
        if y is not None and self.task_ == "cox":
            self._fit_survival(y)
        elif y is not None:
            self._fit_target(pd.Series(y) if not isinstance(y, pd.Series) else y)
        return self

    def _fit_survival(self, y) -> None:
        if not isinstance(y, pd.DataFrame) or y.shape[1] != 2:
            raise InputError("task 'cox' takes its target as a DataFrame of two columns, the time and the "
                             "event (1: it happened, 0: censored); give y in that form.")
        self.target_, self.event_ = (str(c) for c in y.columns)
        self._survival(y)

    def _survival(self, y) -> np.ndarray:
        """(time, event) columns as float32 ``[n, 2]``, each checked with its column's name."""
        time, event = (y.iloc[:, k] for k in (0, 1))
        t = pd.to_numeric(time, errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(t) & (t > 0))
        if bad.any():
            raise InputError(f"time column '{short(time.name)}' needs a number > 0 on every row (the time to "
                             f"the event or to censoring), not {short(time[bad].iloc[0])!r}; fix or drop "
                             "those rows.")
        e = pd.to_numeric(event.astype(float) if pd.api.types.is_bool_dtype(event) else event,
                          errors="coerce").to_numpy(dtype=float)
        if not np.isin(e, (0.0, 1.0)).all():
            raise InputError(f"event column '{short(event.name)}' must hold 1 (the event happened) or 0 "
                             "(censored), or true/false, on every row; recode it.")
        if not e.any():
            raise InputError(f"event column '{short(event.name)}' has no events (no 1s): a Cox model needs "
                             "some; check the column.")
        return np.column_stack([t, e]).astype("float32")

    def _fit_target(self, y: pd.Series) -> None:
        self.target_ = None if y.name is None else str(y.name)
        inferred = infer_task(y)  # also checks NaN / inf and a single class
        task = self.task_ or inferred
        if task == "cox":  # an inferred task is never cox
            raise InputError("task 'cox' takes its target as a DataFrame of two columns, the time and the "
                             "event; give y in that form.")
        if task in ("regression", "poisson"):
            if not is_numeric(y):
                raise InputError(
                    f"task '{task}' needs a numeric target, but '{short(self.target_ or 'y')}' holds "
                    f"values like {short(y.iloc[0])!r}; use task='binary' or task='multiclass'."
                )
            if task == "poisson" and (pd.to_numeric(y) < 0).any():
                raise InputError(f"task 'poisson' needs counts >= 0, but '{short(self.target_ or 'y')}' has "
                                 f"negative values; use task='regression'.")
        else:
            classes = np.unique(self._labels(y))
            if task == "binary" and len(classes) != 2:
                raise InputError(
                    f"task 'binary' needs exactly 2 classes, but target '{short(self.target_ or 'y')}' has "
                    f"{len(classes)} ({listing(classes)}); use task='multiclass' (or leave task= out to "
                    "infer it)."
                )
            self.classes_ = [plain(c) for c in classes]
        self.task_ = task

    @staticmethod
    def _labels(y: pd.Series) -> np.ndarray:
        # Mixed or string labels compare as strings; numbers and booleans keep their type.
        if is_numeric(y) or pd.api.types.is_bool_dtype(y):
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
                f"data is missing columns used in training: {listing(missing, 8)}; "
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
                    example = short(col[bad].iloc[0])
                    raise InputError(
                        f"column '{short(spec['name'])}' was numeric in training but holds text such as "
                        f"{example!r} ({int(bad.sum())} rows); fix those values."
                    )
                values = values.to_numpy(dtype=float)
                check_float32_range(pd.DataFrame({spec["name"]: values}, index=X.index))
                blocks.append(((values - spec["mean"]) / spec["scale"])[:, None])
            else:
                text = col.astype(str)
                new = sorted(set(text) - set(spec["categories"]))
                if new:
                    unseen.append(f"'{short(spec['name'])}': {listing(new, 3)}")
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
        if self.task_ == "cox":
            if not isinstance(y, pd.DataFrame) or y.shape[1] != 2:
                raise InputError("task 'cox' takes its target as a DataFrame of two columns, the time and "
                                 "the event; give y in that form.")
            return self._survival(y)
        y = pd.Series(y) if not isinstance(y, pd.Series) else y
        check_finite(y, "target")
        if self.task_ in ("regression", "poisson"):
            return pd.to_numeric(y).to_numpy(dtype="float32")[:, None]
        labels = self._labels(y)
        lookup = {c: i for i, c in enumerate(self.classes_)}
        if pd.api.types.is_object_dtype(labels) and not all(isinstance(c, str) for c in self.classes_):
            lookup = {str(c): i for i, c in enumerate(self.classes_)}
        codes = [lookup.get(plain(v), -1) for v in labels]
        unknown = sorted({str(v) for v, code in zip(labels, codes, strict=True) if code < 0})
        if unknown:
            raise InputError(
                f"target has classes not seen in training: {listing(unknown)}; "
                f"known classes are {listing(self.classes_, 10)}."
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
        if self.task_ == "cox":  # the network's output is the log relative hazard
            eta = outputs[:, 0]
            return pd.DataFrame({"log_relative_hazard": eta, "relative_hazard": np.exp(eta)})
        name = f"predicted_{self.target_ or 'target'}"
        if self.task_ in ("regression", "poisson"):  # values, or expected counts (rates)
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
            **({"event": self.event_} if self.task_ == "cox" else {}),
            # Poisson files always say (null: no offset); older files without the key are told apart.
            **({"offset_column": getattr(self, "offset_column_", None)} if self.task_ == "poisson" else {}),
            "classes": self.classes_,
            "columns": self.columns_,
            "feature_names": self.feature_names_,
        }

    def to_json(self) -> str:
        """The fitted state as a JSON string (see :meth:`from_json`)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    @classmethod
    def from_dict(cls, state: dict) -> Preprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_dict`'s output.

        A state with a missing or malformed entry (columns, task, scales, classes) is refused
        with a one-line :class:`InputError` naming it, rather than failing at predict time.
        """
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
        check_state(state)
        pre = cls(task=state["task"])
        pre.task_ = state["task"]
        pre.target_ = state.get("target")
        pre.event_ = state.get("event")
        # Files written before the offset was recorded here have no key: no offset is known.
        pre.offset_column_ = state.get("offset_column")
        pre.offset_recorded_ = "offset_column" in state
        pre.classes_ = state.get("classes")
        pre.columns_ = [dict(spec) for spec in state["columns"]]
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
        except UnicodeDecodeError:
            raise InputError(f"preprocessing file '{path}' is not text (not the JSON kerasnet writes); copy "
                             "preprocessing.json again from the run folder, or refit the model.") from None

