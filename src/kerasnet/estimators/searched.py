"""The CV estimators given lists of settings beyond ``l1_ratio``: one :func:`kerasnet.search` fit.

``ElasticNetCV`` takes a list of ``l1_ratio`` values; kerasnet's CV estimators take lists of
``learning_rate_init``, ``dropout`` and ``hidden_layer_sizes`` (a list of tuples) too, and then
cross-validate every combination x strength x fold in the stacked fits of
:func:`kerasnet.search.search` instead of one path: the estimator keeps the chosen point's refit.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np

from ..models import compile_for
from ..path import defaults
from .base import batch_size_for, hidden_sizes, seed_from

__all__ = ["fit_search", "searched_space"]


def _listed(value):
    """``value`` as a list when it is a list of settings (not a string, not a number)."""
    return isinstance(value, Sequence | np.ndarray) and not isinstance(value, str)


def _hidden_candidates(hidden_layer_sizes):
    """The hidden-layer candidates: a list of tuples, or None for one network (an int or tuple of ints)."""
    if isinstance(hidden_layer_sizes, Integral) or not _listed(hidden_layer_sizes):
        return None
    sequences = [_listed(h) for h in hidden_layer_sizes]
    if not any(sequences):
        return None
    if not all(sequences) or not hidden_layer_sizes:
        raise ValueError("hidden_layer_sizes must be one network (an int or a tuple of ints) or a list of "
                         "them to search ([(16,), (64, 64)]); received "
                         f"hidden_layer_sizes={hidden_layer_sizes!r}.")
    return [hidden_sizes(h) for h in hidden_layer_sizes]


def _values(name, value, low, high, high_included=False):
    values = list(value) if _listed(value) else [value]
    for v in values:
        inside = isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(v) and low <= v and (
            v <= high if high_included else v < high)
        if not inside:
            raise ValueError(f"{name} must be a number in [{low}, {high}{']' if high_included else ')'} or a "
                             f"list of them; received {name}={value!r}.")
    if not values:
        raise ValueError(f"{name} must not be an empty list.")
    return [float(v) for v in values]


def searched_space(estimator):
    """The :func:`kerasnet.search` space of ``estimator``'s settings, or None when it fits one path.

    A search is needed when ``learning_rate_init`` or ``dropout`` is a list, ``dropout`` is not
    0 (the path trains no dropout), or ``hidden_layer_sizes`` is a list of networks.
    """
    hidden = _hidden_candidates(estimator.hidden_layer_sizes)
    rates = _values("learning_rate_init", estimator.learning_rate_init, 0, np.inf)
    if 0.0 in rates:
        raise ValueError("learning_rate_init must be positive; received 0.")
    dropout = _values("dropout", estimator.dropout, 0, 1)
    if hidden is None and not _listed(estimator.learning_rate_init) and not _listed(estimator.dropout) \
            and dropout == [0.0]:
        return None
    ratios = _values("l1_ratio", estimator.l1_ratio, 0, 1, high_included=True)
    space = {"l1_ratio": ratios, "learning_rate": rates, "dropout": dropout,
             "hidden": hidden or [hidden_sizes(estimator.hidden_layer_sizes)]}
    if estimator.lambdas is not None:
        space["lambda"] = [float(v) for v in np.ravel(estimator.lambdas)]
    return space


def _refused(estimator, task):
    """The settings a search does not take, as one line (or None)."""
    if estimator.model is not None:
        return "model= takes one learning_rate_init and no dropout or hidden_layer_sizes lists"
    if task not in ("binary", "multiclass", "regression"):
        return ("dropout and lists of learning_rate_init or hidden_layer_sizes are for classifiers and "
                f"regressors; for task {task!r} give single values and dropout=0")
    for name, refused, why in (("scheduler", estimator.scheduler is not None, "runs on this machine"),
                               ("penalty_factor", estimator.penalty_factor is not None,
                                "penalizes every input"),
                               ("proximal", not estimator.proximal, "uses the proximal L1 step")):
        if refused:
            return f"a search over lists of settings {why}; drop {name}= or give single values"
    return None


def fit_search(estimator, X, targets, task, sample_weight, groups, space):
    """Fit ``estimator`` by :func:`kerasnet.search.search` over ``space``; keep the chosen point.

    The choice follows ``selection``: ``"min"`` the best CV mean over every point (configuration
    x strength), ``"1se"`` the simplest point within one SE of it
    (:func:`kerasnet.search.space.simplicity`). Folds, epochs and the choice read only
    out-of-fold scores (:func:`kerasnet.search.search`). Returns the chosen point's refit on all
    rows, for ``model_``.
    """
    from ..search import search

    refused = _refused(estimator, task)
    if refused:
        raise ValueError(refused + ".")
    cv = defaults.CV if estimator.cv is None else estimator.cv
    found = search(X, targets, space, cv=cv, task=task, measure=estimator.measure,
                   n_lambdas=estimator.n_lambdas, lambda_min_ratio=estimator.lambda_min_ratio,
                   epochs=estimator.max_iter,
                   batch_size=batch_size_for(estimator.batch_size, X.shape[0]),
                   early_stopping=estimator.early_stopping, patience=estimator.n_iter_no_change,
                   standardize=estimator.standardize, seed=seed_from(estimator.random_state),
                   verbose=int(bool(estimator.verbose)), sample_weight=sample_weight, groups=groups)
    return keep_search(estimator, found, task)


def keep_search(estimator, found, task):
    """``found``'s chosen point as the estimator's attributes; returns its refit, the estimator's
    ``model_`` (the standardization folded in, compiled with the point's learning rate)."""
    i = found.point_index(estimator.selection)
    point = found.points_[i]
    estimator.search_, estimator.path_, estimator.paths_ = found, None, None
    estimator.best_params_ = point.as_dict()
    estimator.lambda_, estimator.l1_ratio_ = float(point.lam), float(point.l1_ratio)
    estimator.learning_rate_, estimator.dropout_ = float(point.learning_rate), float(point.dropout)
    estimator.hidden_layer_sizes_ = tuple(point.hidden)
    estimator.lambdas_ = np.array(sorted({p.lam for p in found.points_}, reverse=True))
    estimator.cv_mean_, estimator.cv_se_ = found.cv_mean_, found.cv_se_
    estimator.n_iter_ = int(found.refits_[i][1])
    estimator.history_ = {f"cv_{found.measure}": [float(v) for v in found.cv_mean_],
                          "epochs": [int(v) for v in found.epochs_]}
    return compile_for(found.model(estimator.selection, fold=True), task, learning_rate=point.learning_rate)
