"""The regularization path: every strength x every CV fold in one stacked fit, then a refit.

:func:`fit_path` is glmnet's ``cv.glmnet`` for :func:`kerasnet.mlp` networks. Member
``(lambda_i, fold_f)`` of one :class:`~kerasnet.stack.StackedMLP` trains on the rows
outside fold ``f`` (standardized with those rows' statistics only) and is validated on
fold ``f``; the CV curve gives ``lambda_min_`` and ``lambda_1se_``; a second stacked fit
trains every strength on all rows, so any point of the path is a standalone Keras model.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from . import _grid
from ._path_result import Path
from .models import TASKS
from .penalty import check_strength, lambda_to_l1_l2
from .stack import StackedMLP, fit_stack

__all__ = ["fit_path", "Path"]


def _infer_task(y):
    try:  # the package's shared rule, when the data module is present
        from .data import infer_task
    except ImportError:  # pragma: no cover - same rule, inline
        from sklearn.utils.multiclass import type_of_target

        kind = type_of_target(y)
        return {"binary": "binary", "multiclass": "multiclass"}.get(kind, "regression")
    return infer_task(y)


def _check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; received {name}={value!r}.")
    return int(value)


def _check_xy(X, y):
    names = [str(c) for c in X.columns] if hasattr(X, "columns") else None
    try:
        X = np.asarray(X, dtype="float32")
    except (TypeError, ValueError):
        raise ValueError("X must be numeric (encode categorical columns first).") from None
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(
            f"X must be a 2-D array with at least 2 rows and 1 column; received shape {X.shape}."
        )
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values; impute or drop them first.")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one value per row of X ({X.shape[0]}); received {y.shape[0]}.")
    return X, y, names or [f"x{j}" for j in range(X.shape[1])]


def check_fold_count(cv: int, y, task) -> None:
    """Refuse ``cv`` folds that the rows (or, for classification, a class's rows) cannot fill.

    Raises :class:`kerasnet.data.InputError` (a ``ValueError``) naming the fix.
    """
    from .data import InputError

    if cv > len(y):
        raise InputError(
            f"cv={cv} folds need at least {cv} rows, but there are {len(y)}; give cv <= {len(y)}."
        )
    if task == "regression":
        return
    labels, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
    if counts.min() >= cv:
        return
    label, n = labels[np.argmin(counts)], int(counts.min())
    fix = f"give cv <= {n}" if n >= 2 else "a class needs 2 rows or more to be cross-validated"
    raise InputError(
        f"class '{label}' has only {n} row{'s' if n != 1 else ''}, fewer than cv={cv} folds (every fold "
        f"needs each class); {fix}, or add rows of that class."
    )


def _folds(cv, y, task, seed):
    from sklearn.model_selection import KFold, StratifiedKFold

    if hasattr(cv, "split"):
        splitter = cv
    else:
        cv = _check_int(cv, "cv", 2)
        check_fold_count(cv, y, task)
        kind = StratifiedKFold if task != "regression" else KFold
        splitter = kind(n_splits=cv, shuffle=True, random_state=seed)
    fold = np.full(len(y), -1)
    for f, (_, test) in enumerate(splitter.split(np.zeros((len(y), 1)), y)):
        fold[test] = f
    if (fold < 0).any():
        raise ValueError("cv must assign every row to exactly one validation fold.")
    return fold


def _target_standardizer(y, rows, task, standardize):
    """Regression target mean and sd of ``rows`` (the network fits the standardized target,
    so its intercept is not left to crawl towards ``mean(y)`` and ``lambda`` is scale-free)."""
    y = np.asarray(y, "float32").reshape(len(y), -1) if task == "regression" else np.zeros((len(y), 1))
    if task != "regression" or not standardize:
        return np.zeros(y.shape[1], "float32"), np.ones(y.shape[1], "float32")
    mean, sd = y[rows].mean(axis=0), y[rows].std(axis=0)
    return mean.astype("float32"), np.where(sd > 0, sd, 1.0).astype("float32")


def _standardizer(X, rows, standardize):
    if not standardize:
        return np.zeros(X.shape[1], "float32"), np.ones(X.shape[1], "float32")
    mean, sd = X[rows].mean(axis=0), X[rows].std(axis=0)
    return mean.astype("float32"), np.where(sd > 0, sd, 1.0).astype("float32")


class _Progress:
    """One rich progress bar over epochs, showing the best CV score so far (CV, then refit)."""

    def __init__(self, verbose):
        self.bar, self.best = None, ""
        if verbose:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), transient=False)
            self.task = self.bar.add_task("fit_path", total=1)
            self.bar.start()

    def phase(self, label, epochs, shape):
        """Restart the same bar for the next stacked fit (``shape``: strengths x members each)."""
        self.label, self.shape = label, shape
        if self.bar is not None:
            self.bar.reset(self.task, total=epochs, description=f"{label}{self.best}")

    def __call__(self, epoch, logs):
        if self.bar is None:
            return
        if "best_val_score" in logs:
            with warnings.catch_warnings():  # all-NaN rows before the first epoch's scores
                warnings.simplefilter("ignore", RuntimeWarning)
                per_lambda = np.nanmean(logs["best_val_score"].reshape(self.shape), axis=1)
            if np.isfinite(per_lambda).any():
                self.best = f" best CV {np.nanmax(per_lambda):.4f}"
        self.bar.update(self.task, completed=epoch + 1, description=f"{self.label}{self.best}")

    def close(self):
        if self.bar is not None:
            self.bar.stop()


def fit_path(
    X,
    y,
    *,
    hidden=(64, 64),
    task=None,
    l1_ratio=0.5,
    lambdas=None,
    n_lambdas=32,
    lambda_min_ratio=1e-3,
    cv=5,
    epochs=100,
    batch_size=32,
    learning_rate=1e-3,
    early_stopping=True,
    patience=10,
    proximal=False,
    standardize=True,
    seed=None,
    scheduler=None,
    verbose=1,
):
    """Fit the elastic-net path of :func:`kerasnet.mlp` with k-fold CV, all in one stacked fit.

    Strength ``lambda`` means glmnet's penalty ``lambda*(l1_ratio*|W|_1 +
    (1-l1_ratio)/2*|W|_2^2)`` on every kernel (Keras's ``l1 = lambda*l1_ratio``,
    ``l2 = lambda*(1-l1_ratio)/2``). Each (strength, fold) member trains with Adam on the
    rows outside its fold, standardized with those rows' mean and standard deviation, and
    is scored on its fold after every epoch (accuracy for classifiers, R^2 for
    regression, and the data loss). With ``early_stopping`` a member stops after
    ``patience`` epochs without a lower validation objective (data loss + penalty, as
    Keras's ``val_loss`` and ``EarlyStopping``) and keeps its best weights; watching the
    data loss alone would stop strongly penalized members before the penalty acts.
    Afterwards every strength is refit on all rows for the mean of its folds' best epochs
    (``epochs`` without early stopping), in one more stacked fit.

    Parameters
    ----------
    X : array-like [n, d]
        Numeric features (a DataFrame's column names are kept).
    y : array-like [n]
        Target; classes may be any labels.
    hidden : sequence of int, default (64, 64)
    task : {"binary", "multiclass", "regression"} or None, default None
        None infers it from ``y`` (:func:`kerasnet.data.infer_task`).
    l1_ratio : float in [0, 1], default 0.5
    lambdas : sequence of float or None
        The grid (sorted descending). None: ``n_lambdas`` log-spaced strengths from
        ``lambda_max`` (glmnet's null-model rule, see :func:`kerasnet._grid.lambda_max`) to
        ``lambda_max * lambda_min_ratio``.
    n_lambdas : int, default 32
    lambda_min_ratio : float, default 1e-3
    cv : int or scikit-learn splitter, default 5
        Number of folds: ``StratifiedKFold`` for classification, ``KFold`` for regression,
        shuffled with ``seed``.
    epochs, batch_size, learning_rate : default 100, 32, 1e-3
    early_stopping : bool, default True
    patience : int, default 10
    proximal : bool, default False
        L1 as a soft-threshold after each Adam step (exact zeros); see
        :func:`kerasnet.stack.fit_stack` for the threshold rule.
    standardize : bool, default True
        Standardize the features (and a regression target) with each member's own
        training rows; ``Path.model`` undoes it inside the model, so it takes raw ``X``
        and predicts in ``y``'s units. Scores are unchanged; the regression CV loss is
        the MSE of the standardized target.
    seed : int or None
        Initial weights, folds and batch order. Every member starts from the same weights
        and the members of one fold see the same batches, so differences along the path
        come from the strength alone (common random numbers, as glmnet's warm path).
    scheduler : str, dask.distributed.Client or None, default None
        None trains here. A Dask scheduler address or client splits the members across
        the cluster's workers (:func:`kerasnet.distributed.fit_stack`): same results,
        progress shown once per fit.
    verbose : int, default 1
        1 shows a progress bar with the best CV score so far; 0 is silent.

    Returns
    -------
    Path

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> path = fit_path(X, y, n_lambdas=8, epochs=20, seed=0, verbose=0)  # doctest: +SKIP
    >>> model = path.model(path.lambda_1se_)  # doctest: +SKIP
    """
    X, y, names = _check_xy(X, y)
    task = _infer_task(y) if task is None else task
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)} or None; received task={task!r}.")
    l1_ratio = check_strength(l1_ratio, "l1_ratio")
    if l1_ratio > 1:
        raise ValueError(f"l1_ratio must be in [0, 1]; received l1_ratio={l1_ratio!r}.")
    for name, value, low in (("n_lambdas", n_lambdas, 1), ("epochs", epochs, 1),
                             ("batch_size", batch_size, 1), ("patience", patience, 1)):
        _check_int(value, name, low)
    lambda_min_ratio = check_strength(lambda_min_ratio, "lambda_min_ratio")
    if not 0 < lambda_min_ratio < 1:
        raise ValueError(
            f"lambda_min_ratio must be in (0, 1); received lambda_min_ratio={lambda_min_ratio!r}."
        )
    if not float(learning_rate) > 0:
        raise ValueError(f"learning_rate must be > 0; received learning_rate={learning_rate!r}.")

    classes = None
    if task == "regression":
        y_enc = y.astype("float32")
    else:
        classes, y_enc = np.unique(y, return_inverse=True)
        if task == "binary" and len(classes) != 2:
            raise ValueError(f"task='binary' needs exactly 2 classes in y; received {len(classes)}.")
    n_outputs = 1 if task == "binary" else (len(classes) if task == "multiclass" else
                                            (y_enc.shape[1] if y_enc.ndim == 2 else 1))
    n, d = X.shape
    fold = _folds(cv, y_enc, task, seed)
    n_folds = int(fold.max()) + 1
    if lambdas is None:
        m_all, s_all = _standardizer(X, np.arange(n), standardize)
        ym, ys = _target_standardizer(y_enc, np.ones(n, bool), task, standardize)
        target = (y_enc.reshape(n, -1) - ym) / ys if task == "regression" else y_enc
        lam_max = _grid.lambda_max((X - m_all) / s_all, target, task, l1_ratio)
        lambdas = _grid.lambda_grid(lam_max, n_lambdas, lambda_min_ratio)
    else:
        lambdas = np.atleast_1d(np.asarray(lambdas, dtype=float))
        if lambdas.ndim != 1 or lambdas.size < 1:
            raise ValueError(f"lambdas must be a 1-D sequence of strengths; received {lambdas!r}.")
        for value in lambdas:
            check_strength(float(value), "each of lambdas")
        lambdas = np.sort(lambdas)[::-1]
    L = len(lambdas)
    l1, l2 = np.array([lambda_to_l1_l2(float(lam), l1_ratio) for lam in lambdas]).T

    # Members: k = i * n_folds + f (strength i, fold f). Without early stopping the refit
    # length is known up front, so the refit members (one per strength, all rows) join the
    # same stacked fit as "fold" n_folds: one compiled program, one pass.
    joint = not early_stopping
    groups = n_folds + 1 if joint else n_folds
    member_fold = np.tile(np.arange(groups), L)
    rows = [fold != f for f in range(n_folds)] + [np.ones(n, bool)]
    stats = [_standardizer(X, r, standardize) for r in rows]
    y_stats = [_target_standardizer(y_enc, r, task, standardize) for r in rows]
    m_all, s_all = stats[n_folds]
    init = StackedMLP(1, d, n_outputs, hidden, task, seed=seed).get_weights()

    def stacked(members):
        model = StackedMLP(members, d, n_outputs, hidden, task)
        model.set_weights([np.broadcast_to(w, (members,) + w.shape[1:]) for w in init])
        return model

    progress = _Progress(verbose)

    def run(members, label, **kw):
        progress.phase(label, kw["epochs"], (L, kw.pop("per_lambda")))
        if task != "regression":  # the target statistics only matter for regression
            kw.pop("y_mean"), kw.pop("y_scale")
        if scheduler is not None:  # members split across a Dask cluster, same numbers
            from .distributed import fit_stack as fit

            kw["scheduler"] = scheduler
        else:
            fit = fit_stack
        return fit(members, X, y_enc, callback=progress, batch_size=batch_size,
                   learning_rate=learning_rate, proximal=proximal, seed=seed, **kw)

    train = np.stack([rows[f] for f in member_fold])
    val = np.stack([~rows[f] if f < n_folds else np.zeros(n, bool) for f in member_fold])
    try:
        cv_model = stacked(L * groups)
        cvfit = run(cv_model, "CV   ", l1=np.repeat(l1, groups), l2=np.repeat(l2, groups), train_mask=train,
                    val_mask=val, mean=np.stack([stats[f][0] for f in member_fold]),
                    scale=np.stack([stats[f][1] for f in member_fold]),
                    y_mean=np.stack([y_stats[f][0] for f in member_fold]),
                    y_scale=np.stack([y_stats[f][1] for f in member_fold]), epochs=epochs,
                    early_stopping=early_stopping, patience=patience, streams=member_fold, per_lambda=groups)
        is_cv = member_fold < n_folds
        best_epoch = cvfit.best_epoch[is_cv].reshape(L, n_folds)
        if joint:
            refit_epochs = np.full(L, epochs)
            refit_diverged = cvfit.diverged[~is_cv]
            weights = [cv_model.member_weights(k) for k in np.flatnonzero(~is_cv)]
            refit = None
        else:
            refit_epochs = np.maximum(1, np.round(best_epoch.mean(axis=1))).astype(int)
            refit_model = stacked(L)
            refit = run(refit_model, "Refit", l1=l1, l2=l2, mean=np.tile(m_all, (L, 1)),
                        scale=np.tile(s_all, (L, 1)), y_mean=np.tile(y_stats[n_folds][0], (L, 1)),
                        y_scale=np.tile(y_stats[n_folds][1], (L, 1)), epochs=int(refit_epochs.max()),
                        max_epochs=refit_epochs, streams=np.zeros(L, int), per_lambda=1)
            refit_diverged = refit.diverged
            weights = [refit_model.member_weights(i) for i in range(L)]
    finally:
        progress.close()
    return Path(
        lambdas=lambdas, l1_ratio=l1_ratio, task=task, hidden=tuple(hidden), classes=classes,
        feature_names=names, mean=m_all, scale=s_all, y_mean=y_stats[n_folds][0],
        y_scale=y_stats[n_folds][1],
        cv_score=cvfit.best_val_score[is_cv].reshape(L, n_folds),
        cv_loss=cvfit.best_val_loss[is_cv].reshape(L, n_folds),
        member_diverged=cvfit.diverged[is_cv].reshape(L, n_folds), best_epoch=best_epoch,
        refit_epochs=refit_epochs, refit_diverged=refit_diverged, weights=weights, n_outputs=n_outputs,
        proximal=proximal, history={"cv": cvfit, "refit": refit},
    )
