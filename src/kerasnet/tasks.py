"""The task a target asks for (:func:`infer_task`) and the split into training and validation rows.

A target is ``binary``, ``multiclass`` or ``regression`` by the rule of :func:`infer_task`;
:func:`split_rows` holds out validation rows, stratified by class for classification.
Problems raise :class:`~kerasnet.errors.InputError` with a one-line message.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .columns import check_finite, is_numeric, is_text, stray_text
from .errors import InputError, listing, plain, short

__all__ = ["MAX_INTEGER_CLASSES", "check_task", "infer_task", "split_rows"]

#: Integer-valued numeric targets with at most this many distinct values are classes.
MAX_INTEGER_CLASSES = 20

_TASKS = ("binary", "multiclass", "regression")


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
    name = short(y.name) if y.name is not None else "y"
    n_distinct = int(y.nunique())
    if n_distinct < 2:
        value = plain(y.iloc[0]) if len(y) else None
        value = short(value) if isinstance(value, str) else value
        raise InputError(
            f"target '{name}' has one class ({value!r}) in "
            f"{len(y)} rows; a model needs at least two distinct target values."
        )
    if is_text(y):
        bad = stray_text(y)
        if bad is not None:
            raise InputError(
                f"target '{name}' holds numbers but {bad[0]} of {len(y)} values are not numbers: "
                f"{listing(bad[1], quote=True)}; fix or fill those values (or remove those rows) "
                "in the data."
            )
    if is_numeric(y):
        values = y.to_numpy(dtype=float)
        if n_distinct > MAX_INTEGER_CLASSES or not np.all(values == np.round(values)):
            return "regression"
    return "binary" if n_distinct == 2 else "multiclass"


def check_task(task) -> str:
    """``task`` itself when it is one of ``"binary"``, ``"multiclass"``, ``"regression"``; else raise."""
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
            "use more rows, a different --validation-split, or --validation-split 0."
        ) from None
    return np.sort(train), np.sort(valid)
