"""Cross-validation splits and row weights for the path, as the user gave them.

A split is a pair of row masks: the rows a member trains on and the rows it is scored on.
Splits come from an int (shuffled, stratified k-fold), glmnet's ``foldid``, or any
scikit-learn splitter (with ``groups``) or iterable of ``(train, test)`` index pairs, and
each split's train and test rows are used exactly: rows in neither are not touched by that
split's members (purged, embargoed, grouped and time-series splits keep their meaning).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import short

__all__ = ["check_fold_count", "normalized_weights", "refit_epochs_for", "splits"]


def check_fold_count(cv: int, y, task) -> None:
    """Refuse ``cv`` folds that the rows (or, for classification, a class's rows) cannot fill.

    Raises :class:`kerasnet.data.InputError` (a ``ValueError``) naming the fix.
    """
    from ..errors import InputError

    if cv > len(y):
        raise InputError(
            f"cv={cv} folds need at least {cv} rows, but there are {len(y)}; give cv <= {len(y)}."
        )
    if task not in ("binary", "multiclass"):  # values and counts: no classes to spread
        return
    try:
        labels, counts = np.unique(np.asarray(y), return_counts=True)
    except TypeError:  # mixed label types: compare them as text (a copy of n strings)
        labels, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
    if counts.min() >= cv:
        return
    label, n = labels[np.argmin(counts)], int(counts.min())
    few = int((counts < cv).sum())
    others = f" ({few} classes have fewer than {cv})" if few > 1 else ""
    fix = f"give cv <= {n}, or add rows of that class" if n >= 2 else \
        "add rows of that class or leave its rows out (a class needs 2 rows to be cross-validated)"
    raise InputError(
        f"class '{label}' has only {n} row{'s' if n != 1 else ''}, fewer than cv={cv} folds{others} (every "
        f"fold needs each class); {fix}."
    )


def _rows(part, n, f, name):
    """A split's row mask from its indices, or from a boolean mask of all ``n`` rows (as
    scikit-learn's splitters accept neither negative nor out-of-range indices, nor do we:
    numpy would wrap a negative index around to the last rows)."""
    part = np.asarray(part)
    mask = np.zeros(n, bool)
    if part.dtype == bool:
        if part.shape != (n,):
            raise ValueError(f"cv split {f}'s {name} rows are a boolean mask of shape {part.shape}; a mask "
                             f"needs one entry per row ({n}).")
        return part.copy()
    whole = np.issubdtype(part.dtype, np.integer) or (
        np.issubdtype(part.dtype, np.floating) and np.all(np.mod(part, 1) == 0))
    if part.size and (not whole or part.min() < 0 or part.max() >= n):
        raise ValueError(f"cv split {f}'s {name} rows must be row indices in [0, {n - 1}] (or a boolean mask "
                         f"of {n} rows); received {short(part)}.")
    mask[part.astype(int)] = True
    return mask


def _masks(pairs, n):
    train, test = [], []
    for f, pair in enumerate(pairs):
        try:
            tr, te = pair
        except (TypeError, ValueError):  # an int, or a sequence of another length
            raise ValueError(f"cv split {f} is {short(pair)}, not a (train, test) pair of row indices; give "
                             "cv as an iterable of such pairs.") from None
        a, b = (_rows(part, n, f, name) for part, name in ((tr, "training"), (te, "test")))
        if not a.any() or not b.any():
            raise ValueError(f"cv split {f} has no {'training' if not a.any() else 'test'} rows; every split "
                             "needs both.")
        if (a & b).any():
            raise ValueError(f"cv split {f} has rows both in its training and its test set; they must be "
                             "disjoint.")
        train.append(a)
        test.append(b)
    if len(train) < 2:
        raise ValueError(
            f"cv gave {len(train)} split; the path needs at least 2 (each fold's epoch is chosen on the "
            "other folds)."
        )
    return np.stack(train), np.stack(test)


def splits(cv, y, task, seed, foldid=None, groups=None):
    """Training and test row masks ``[n_splits, n]`` of every CV split.

    Parameters
    ----------
    cv : int, scikit-learn splitter, or iterable of (train, test) index pairs
        An int makes shuffled folds seeded by ``seed``: ``StratifiedKFold`` for classes,
        ``KFold`` for regression, and with ``groups`` ``StratifiedGroupKFold`` (shuffled,
        seeded) / ``GroupKFold`` (groups of balanced total size, not shuffled): a group never
        spans two folds.
    y : array [n]
        Encoded targets (for stratification).
    foldid : int array [n] or None
        glmnet's ``foldid``: row ``i`` is in the test set of fold ``foldid[i]``, trained on
        in the others. Takes precedence over ``cv``.
    groups : array [n] or None
        Passed to the splitter's ``split(X, y, groups)``.
    """
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    n = len(y)
    if foldid is not None:
        foldid = np.asarray(foldid).ravel()
        if foldid.shape[0] != n:
            raise ValueError(f"foldid must have one entry per row ({n}); received {foldid.shape[0]}.")
        values = np.unique(foldid)
        if len(values) < 2:  # else the one split would have no training rows
            raise ValueError(f"foldid has {len(values)} distinct value{'s' if len(values) != 1 else ''}; it "
                             "needs at least 2 (each fold is tested on its rows, trained on the others').")
        return _masks([(np.flatnonzero(foldid != v), np.flatnonzero(foldid == v)) for v in values], n)
    if groups is not None:
        groups = np.asarray(groups).ravel()
        if groups.shape[0] != n:
            raise ValueError(f"groups must have one entry per row ({n}); received {groups.shape[0]}.")
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be an integer >= 2; received cv={cv!r}.")
        if groups is None:
            check_fold_count(int(cv), y, task)
            kind = StratifiedKFold if task in ("binary", "multiclass") else KFold
            splitter = kind(n_splits=int(cv), shuffle=True, random_state=seed)
        elif task in ("binary", "multiclass"):
            splitter = StratifiedGroupKFold(n_splits=int(cv), shuffle=True, random_state=seed)
        else:
            splitter = GroupKFold(n_splits=int(cv))
    elif isinstance(cv, (str, bytes)):  # has .split and is iterable, but is neither a splitter nor pairs
        text = cv.decode(errors="replace") if isinstance(cv, bytes) else cv
        number = text.strip().isdecimal() and int(text) >= 2
        fix = f"give the number cv={int(text)}" if number else "give an int >= 2 (e.g. cv=5)"
        raise ValueError(f"cv must be an int >= 2, a scikit-learn splitter or an iterable of (train, test) "
                         f"pairs; received the string cv={cv!r}; {fix}.")
    elif hasattr(cv, "split"):
        splitter = cv
    elif cv is not None and np.iterable(cv):
        return _masks(list(cv), n)
    else:
        raise ValueError(
            f"cv must be an int >= 2, a scikit-learn splitter or an iterable of (train, test) pairs; "
            f"received cv={cv!r}."
        )
    return _masks(list(splitter.split(np.zeros((n, 1)), y, groups)), n)


def normalized_weights(sample_weight, n):
    """Row weights scaled to sum to ``n`` (glmnet), or ones; checked finite and >= 0."""
    if sample_weight is None:
        return np.ones(n, "float64")
    w = np.asarray(sample_weight, float).ravel()
    if w.shape[0] != n:
        raise ValueError(f"sample_weight must have one entry per row ({n}); received {w.shape[0]}.")
    if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise ValueError("sample_weight must be finite, >= 0 and not all 0.")
    return w * (n / w.sum())


def refit_epochs_for(chosen, train_rows, batch_size, n):
    """Epochs on all ``n`` rows with the optimizer steps of ``chosen`` epochs on a fold's rows.

    Early stopping regularizes by the number of steps; the refit has more rows per epoch.
    """
    fold_steps = np.mean(np.ceil(np.asarray(train_rows).sum(axis=1) / batch_size))
    all_steps = np.ceil(n / batch_size)
    return np.maximum(1, np.round(np.asarray(chosen) * fold_steps / all_steps)).astype(int)
