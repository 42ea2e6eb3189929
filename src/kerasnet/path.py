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

from . import _grid, _measures
from ._folds import check_fold_count, normalized_weights, refit_epochs_for, splits
from ._path_result import Path
from .models import TASKS
from .penalty import check_strength, lambda_to_l1_l2
from .stack import StackedMLP, fit_stack

__all__ = ["fit_path", "Path", "check_fold_count"]


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


def _weighted_moments(values, rows, weight):
    """Weighted mean and (population) sd of ``values[rows]``; sd 1 where constant."""
    w = weight[rows][:, None]
    mean = (values[rows] * w).sum(axis=0) / w.sum()
    sd = np.sqrt((np.square(values[rows] - mean) * w).sum(axis=0) / w.sum())
    return mean.astype("float32"), np.where(sd > 0, sd, 1.0).astype("float32")


def _target_standardizer(y, rows, task, standardize, weight):
    """Regression target mean and sd of ``rows`` (the network fits the standardized target,
    so its intercept is not left to crawl towards ``mean(y)`` and ``lambda`` is scale-free)."""
    y = np.asarray(y, "float64").reshape(len(y), -1) if task == "regression" else np.zeros((len(y), 1))
    if task != "regression" or not standardize:
        return np.zeros(y.shape[1], "float32"), np.ones(y.shape[1], "float32")
    return _weighted_moments(y, rows, weight)


def _standardizer(X, rows, standardize, weight):
    if not standardize:
        return np.zeros(X.shape[1], "float32"), np.ones(X.shape[1], "float32")
    return _weighted_moments(X.astype("float64"), rows, weight)


class _Progress:
    """One rich progress bar over epochs, showing the best CV score so far (CV, then refit).

    The score is each fold's accuracy (R^2 for regression) at the epoch the other folds chose,
    averaged over folds: a progress read-out, not the selection measure.
    """

    def __init__(self, verbose, score_name="accuracy"):
        self.bar, self.best, self.score_name = None, "", score_name
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
                self.best = f" best CV {self.score_name} {np.nanmax(per_lambda):.4f}"
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
    measure="deviance",
    foldid=None,
    groups=None,
    keep=False,
    sample_weight=None,
    model=None,
    penalized=None,
    optimizer="adam",
):
    """Fit the elastic-net path of :func:`kerasnet.mlp` with k-fold CV, all in one stacked fit.

    Strength ``lambda`` means glmnet's penalty ``lambda*(l1_ratio*|W|_1 +
    (1-l1_ratio)/2*|W|_2^2)`` on every kernel (Keras's ``l1 = lambda*l1_ratio``,
    ``l2 = lambda*(1-l1_ratio)/2``). Each (strength, fold) member trains with Adam on its
    split's training rows only, standardized with those rows' (weighted) mean and standard
    deviation, and is scored on its split's test rows by ``measure``.

    Which rows each choice sees:

    - *Epochs (early stopping)*, cross-fit: member ``(lambda, f)`` keeps its weights of the
      epoch where the mean validation objective (data loss + penalty, Keras's ``val_loss``)
      of the *other* folds of ``lambda`` was best, searched until that leave-``f``-out curve
      went ``patience`` epochs without improving (:mod:`kerasnet._stopping`). Fold ``f``'s
      rows never choose member ``f``'s epoch, so its score there is out of sample. Without
      ``early_stopping`` every member trains ``epochs`` epochs.
    - *The strength*: ``lambda_min_`` / ``lambda_1se_`` from the CV measure (glmnet's rules);
      every fold's number comes from rows its member never trained or stopped on.
    - *The refit* of each strength on all rows trains for the same number of optimizer steps
      as the CV members at the best epoch of the all-folds mean curve (``epochs *
      steps-per-epoch on a fold's rows / steps-per-epoch on all rows``, at least 1): early
      stopping regularizes by the number of steps, and the refit has more rows per epoch.
      Without early stopping it trains ``epochs`` epochs.
    - *Standardization and lambda_max*: each member's training rows (the grid from all rows,
      glmnet's ``lambda`` sequence, shared by the folds).

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
        The grid (sorted descending). None: ``n_lambdas`` log-spaced strengths from the data
        (:func:`kerasnet._grid.default_lambdas`, on all rows, weighted): for ``hidden=()``
        glmnet's grid from its ``lambda_max`` down to ``lambda_max * lambda_min_ratio``; for a
        network, from the strength where the constant network is optimal (glmnet's rule for
        the L1 part, the weight-decay bound ``||X'r||_2 / (1 - l1_ratio)`` for the L2 part,
        whichever is smaller) down to ``lambda_min_ratio`` times the smaller of that and the
        lasso scale, so an L2-only path covers the useful range too.
    n_lambdas : int, default 32
    lambda_min_ratio : float, default 1e-3
    cv : int, scikit-learn splitter or iterable of (train, test) pairs, default 5
        An int: shuffled ``StratifiedKFold`` (classification) or ``KFold`` (regression)
        seeded by ``seed``; with ``groups``, ``StratifiedGroupKFold`` / ``GroupKFold``. A
        splitter's (or pair's) train and test rows are used exactly as given; rows in
        neither are not used by that split. At least 2 splits.
    epochs, batch_size, learning_rate : default 100, 32, 1e-3
    early_stopping : bool, default True
    patience : int, default 10
    proximal : bool, default False
        L1 as a soft-threshold after each Adam step (exact zeros), with the threshold rule of
        :class:`kerasnet.proximal.ProximalStep`.
    standardize : bool, default True
        Standardize the features (and a regression target) with each member's own
        training rows; ``Path.model`` undoes it inside the model, so it takes raw ``X``
        and predicts in ``y``'s units.
    seed : int or None
        Initial weights, folds and batch order. Every member starts from the same weights
        and the members of one fold see the same batches, so differences along the path
        come from the strength alone (common random numbers, as glmnet's warm path).
    scheduler : str, dask.distributed.Client or None, default None
        None trains here. A Dask scheduler address or client splits the members across
        the cluster's workers (:func:`kerasnet.distributed.fit_stack`): same results.
    verbose : int, default 1
        1 shows a progress bar; 0 is silent.
    measure : {"deviance", "class", "auc", "mse", "mae", "r2"}, default "deviance"
        glmnet's ``type.measure`` (:mod:`kerasnet._measures`): ``deviance`` is twice the
        log loss for classes and the squared error for regression; ``class`` the
        misclassification error. ``cv_mean_``, ``cv_se_`` and the selection follow it.
    foldid : int array [n] or None
        glmnet's ``foldid``: the fold of each row (overrides ``cv``).
    groups : array [n] or None
        Group labels for the splitter (scikit-learn's ``groups``).
    keep : bool, default False
        Keep the out-of-fold predictions at every strength in ``Path.oof_predictions_``
        (glmnet's ``fit.preval``).
    sample_weight : array [n] or None
        Row weights, scaled to sum to ``n`` (glmnet): every member's loss is the weighted
        mean over its rows, the standardization, ``lambda_max`` and the CV measures are
        weighted, folds are weighted by their total weight. Integer weights give the same
        fit as repeated rows.
    model : keras.Model, callable returning one, or None
        Your own built Keras model (Sequential or Functional: Dense, Conv, Embedding,
        Normalization, Dropout, ...) instead of the MLP; its weights are every member's start.
        Its output must be what the task's loss expects (sigmoid, softmax, or values).
        ``X`` may then be any array (images) or a list of arrays (several inputs) and is used
        as given (no standardization: put a ``Normalization`` layer in the model);
        ``hidden`` and ``standardize`` do not apply. Members are vectorized copies
        (:func:`kerasnet._keras_engine.fit_members`, ``jax.vmap`` on JAX, a per-member loop
        on torch); ``Path.model(lam)`` is your architecture with Keras's own ``L1L2``.
    penalized : layer names, classes, predicate or None
        With ``model``: the layers whose kernels carry the path's penalty (as
        :func:`kerasnet.penalize`; None: every kernel and embedding).
    optimizer : str or keras.optimizers.Optimizer, default "adam"
        With ``model``: any Keras optimizer (its stateless update is used per member).

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
    if model is not None:
        from ._model_path import fit_path_of_model

        return fit_path_of_model(
            model, X, y, task=task, l1_ratio=l1_ratio, lambdas=lambdas, n_lambdas=n_lambdas,
            lambda_min_ratio=lambda_min_ratio, cv=cv, epochs=epochs, batch_size=batch_size,
            learning_rate=learning_rate, early_stopping=early_stopping, patience=patience, proximal=proximal,
            seed=seed, verbose=verbose, measure=measure, foldid=foldid, groups=groups, keep=keep,
            sample_weight=sample_weight, penalized=penalized, optimizer=optimizer)
    X, y, names = _check_xy(X, y)
    task = _infer_task(y) if task is None else task
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)} or None; received task={task!r}.")
    measure = _measures.check_measure(measure, task)
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
    weight = normalized_weights(sample_weight, n)
    train_rows, test_rows = splits(cv, y_enc, task, seed, foldid=foldid, groups=groups)
    n_folds = len(train_rows)
    everything = np.ones(n, bool)
    m_all, s_all = _standardizer(X, everything, standardize, weight)
    y_all = _target_standardizer(y_enc, everything, task, standardize, weight)
    if lambdas is None:
        target = (y_enc.reshape(n, -1) - y_all[0]) / y_all[1] if task == "regression" else y_enc
        lambdas = _grid.default_lambdas((X - m_all) / s_all, target, task, l1_ratio, n_lambdas,
                                        lambda_min_ratio, sample_weight=weight, linear=not tuple(hidden))
    else:
        lambdas = np.atleast_1d(np.asarray(lambdas, dtype=float))
        if lambdas.ndim != 1 or lambdas.size < 1:
            raise ValueError(f"lambdas must be a 1-D sequence of strengths; received {lambdas!r}.")
        for value in lambdas:
            check_strength(float(value), "each of lambdas")
        lambdas = np.sort(lambdas)[::-1]
    L = len(lambdas)
    l1, l2 = np.array([lambda_to_l1_l2(float(lam), l1_ratio) for lam in lambdas]).T

    # Members: k = i * groups + f (strength i, split f). Without early stopping the refit
    # length is known up front, so the refit members (one per strength, all rows) join the
    # same stacked fit as "split" n_folds: one compiled program, one pass.
    joint = not early_stopping
    groups_per_lambda = n_folds + 1 if joint else n_folds
    member_fold = np.tile(np.arange(groups_per_lambda), L)
    is_cv = member_fold < n_folds
    rows = list(train_rows) + [everything]
    stats = [_standardizer(X, r, standardize, weight) for r in rows]
    y_stats = [_target_standardizer(y_enc, r, task, standardize, weight) for r in rows]
    init = StackedMLP(1, d, n_outputs, hidden, task, seed=seed).get_weights()

    def stacked(members):
        model = StackedMLP(members, d, n_outputs, hidden, task)
        model.set_weights([np.broadcast_to(w, (members,) + w.shape[1:]) for w in init])
        return model

    progress = _Progress(verbose, "R^2" if task == "regression" else "accuracy")

    def run(members, label, **kw):
        progress.phase(label, kw["epochs"], (L, kw.pop("per_lambda")))
        if task != "regression":  # the target statistics only matter for regression
            kw.pop("y_mean"), kw.pop("y_scale")
        if scheduler is not None:  # members split across a Dask cluster, same numbers
            from .distributed import fit_stack as fit

            kw["scheduler"] = scheduler
        else:
            fit = fit_stack
        return fit(members, X, y_enc, callback=progress, batch_size=batch_size, learning_rate=learning_rate,
                   proximal=proximal, seed=seed, sample_weight=weight, **kw)

    train = np.stack([rows[f] for f in member_fold])
    val = np.stack([test_rows[f] if f < n_folds else np.zeros(n, bool) for f in member_fold])
    norm = {"mean": np.stack([stats[f][0] for f in member_fold]),
            "scale": np.stack([stats[f][1] for f in member_fold]),
            "y_mean": np.stack([y_stats[f][0] for f in member_fold]),
            "y_scale": np.stack([y_stats[f][1] for f in member_fold])}
    try:
        cv_model = stacked(L * groups_per_lambda)
        per = groups_per_lambda
        cvfit = run(cv_model, "CV   ", l1=np.repeat(l1, per), l2=np.repeat(l2, per),
                    train_mask=train, val_mask=val, **norm, epochs=epochs, early_stopping=early_stopping,
                    patience=patience, streams=member_fold, per_lambda=groups_per_lambda,
                    stop_groups=np.where(is_cv, np.repeat(np.arange(L), groups_per_lambda), -1))
        best_epoch = cvfit.best_epoch[is_cv].reshape(L, n_folds)
        cv_values, oof = _cross_validated(cv_model, X, y_enc, task, val, norm, weight, is_cv, L, n_folds,
                                          keep)
        if joint:
            refit_epochs = np.full(L, epochs)
            refit_diverged = cvfit.diverged[~is_cv]
            weights = [cv_model.member_weights(k) for k in np.flatnonzero(~is_cv)]
            refit = None
        else:
            chosen = cvfit.chosen_epoch[is_cv].reshape(L, n_folds)[:, 0]
            refit_epochs = refit_epochs_for(chosen, train_rows, batch_size, n)
            refit_model = stacked(L)
            refit = run(refit_model, "Refit", l1=l1, l2=l2, mean=np.tile(m_all, (L, 1)),
                        scale=np.tile(s_all, (L, 1)), y_mean=np.tile(y_all[0], (L, 1)),
                        y_scale=np.tile(y_all[1], (L, 1)), epochs=int(refit_epochs.max()),
                        max_epochs=refit_epochs, streams=np.zeros(L, int), per_lambda=1)
            refit_diverged = refit.diverged
            weights = [refit_model.member_weights(i) for i in range(L)]
    finally:
        progress.close()
    return Path(
        lambdas=lambdas, l1_ratio=l1_ratio, task=task, hidden=tuple(hidden), classes=classes,
        feature_names=names, mean=m_all, scale=s_all, y_mean=y_all[0], y_scale=y_all[1],
        cv_values=cv_values, measure=measure, fold_weights=(test_rows * weight).sum(axis=1),
        member_diverged=cvfit.diverged[is_cv].reshape(L, n_folds), best_epoch=best_epoch,
        refit_epochs=refit_epochs, refit_diverged=refit_diverged, weights=weights, n_outputs=n_outputs,
        proximal=proximal, history={"cv": cvfit, "refit": refit}, oof_predictions=oof,
    )


def _cross_validated(model, X, y, task, val, norm, weight, is_cv, L, n_folds, keep):
    """Every applicable measure ``[L, n_folds]`` of the CV members on their test rows, and
    the out-of-fold predictions ``[L, n, o]`` (NaN where a row is in no test set) if ``keep``."""
    from .stack import member_predictions

    index, outputs, valid = member_predictions(model, X, val, **norm)
    index, outputs, valid = index[is_cv], outputs[is_cv], valid[is_cv]
    values = {m: _measures.fold_values(m, task, y, index, outputs, valid, weight).reshape(L, n_folds)
              for m, (_, tasks, _) in _measures.MEASURES.items() if task in tasks}
    oof = None
    if keep:
        total = np.zeros((L, len(y), outputs.shape[-1]))
        count = np.zeros((L, len(y), 1))
        for k in range(len(index)):
            rows = index[k][valid[k]]
            total[k // n_folds, rows] += outputs[k][valid[k]]
            count[k // n_folds, rows] += 1  # overlapping test sets: the mean of their predictions
        with np.errstate(invalid="ignore"):
            oof = total / count
    return values, oof

