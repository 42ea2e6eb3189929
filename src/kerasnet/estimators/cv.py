"""The cross-validated estimators: :class:`ElasticNetMLPClassifierCV` and :class:`ElasticNetMLPRegressorCV`.

A thin shell over :func:`kerasnet.fit_path`: ``fit`` trains the whole strength path with
cross-validation in one call, chooses ``lambda_`` from the CV measure (``1se`` or ``min``)
and keeps that strength's refit network (:meth:`kerasnet.Path.model`) as ``model_``, on raw inputs.
"""

from __future__ import annotations

import functools
import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

from ..models import compile_for
from ..path import RatioPaths, defaults, fit_path
from ..path.measures import MEASURES
from ..tasks import CLASSIFICATION
from .base import ClassifierOutputs, KerasEstimator, RegressorOutputs, batch_size_for, hidden_sizes, seed_from
from .searched import fit_search, searched_space


class BaseElasticNetMLPCV(KerasEstimator):
    """Parameters and fit of the path estimators: a thin shell over :func:`kerasnet.fit_path`."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "lambdas": ["array-like", None],
        "n_lambdas": [Interval(Integral, 1, None, closed="left")],
        "lambda_min_ratio": [Interval(Real, 0, 1, closed="neither")],
        "cv": ["cv_object"],
        "selection": [StrOptions({"1se", "min"})],
        "measure": [StrOptions(set(MEASURES))],
        "proximal": ["boolean"],
        "standardize": ["boolean"],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left"), None],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "scheduler": "no_validation",  # an address or a dask Client; checked by kerasnet.distributed
        "verbose": ["verbose"],
        "model": [callable, None],
        "penalty_factor": ["array-like", None],
    }

    def __init__(
        self,
        hidden_layer_sizes=defaults.HIDDEN,
        *,
        l1_ratio=defaults.L1_RATIO,
        lambdas=None,
        n_lambdas=defaults.N_LAMBDAS,
        lambda_min_ratio=defaults.LAMBDA_MIN_RATIO,
        cv=defaults.CV,
        selection="min",
        measure="deviance",
        proximal=True,
        standardize=True,
        batch_size=None,
        learning_rate_init=defaults.LEARNING_RATE,
        dropout=0.0,
        max_iter=None,
        early_stopping=True,
        n_iter_no_change=None,
        random_state=None,
        scheduler=None,
        verbose=False,
        model=None,
        penalty_factor=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.l1_ratio = l1_ratio
        self.lambdas = lambdas
        self.n_lambdas = n_lambdas
        self.lambda_min_ratio = lambda_min_ratio
        self.cv = cv
        self.selection = selection
        self.measure = measure
        self.proximal = proximal
        self.standardize = standardize
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.dropout = dropout
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.scheduler = scheduler
        self.verbose = verbose
        self.model = model
        self.penalty_factor = penalty_factor

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the path with cross-validation, choose ``lambda_``, keep its refit network.

        Each fold's epoch is chosen on the other folds, ``lambda_`` on the CV ``measure``
        (see :func:`kerasnet.fit_path` for which rows each choice sees).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default None
            Row weights (scaled to sum to n_samples): weighted losses, standardization,
            ``lambda_max`` and CV measures.
        groups : array-like of shape (n_samples,), default None
            Group labels for the splitter; with an int ``cv``, folds never split a group.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, groups)

    def _fit(self, X, y, sample_weight=None, groups=None, offset=None):
        X, y = self._validate_xy(X, y, min_samples=2)  # the path needs rows to split into folds
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        targets, task, _ = self._encode_targets(y, sample_weight)
        space = searched_space(self)
        if space is not None:  # lists beyond l1_ratio: every combination in kerasnet.search's stacked fits
            self._set_model(fit_search(self, X, _shaped(targets, task), task, sample_weight, groups, space))
            return self
        self.search_ = None
        n = X.shape[0]
        common = dict(
            task=task,
            l1_ratio=self.l1_ratio,
            lambdas=self.lambdas,
            n_lambdas=self.n_lambdas,
            lambda_min_ratio=self.lambda_min_ratio,
            epochs=self.max_iter,
            batch_size=batch_size_for(self.batch_size, n),
            learning_rate=self.learning_rate_init,
            early_stopping=self.early_stopping,
            patience=self.n_iter_no_change,
            proximal=self.proximal,
            seed=seed_from(self.random_state),
            verbose=int(bool(self.verbose)),
            measure=self.measure,
            sample_weight=sample_weight,
            groups=groups,
            penalty_factor=self.penalty_factor,
            offset=offset,
            baselines=False,  # an estimator is scored by its caller; no second, linear path
        )
        if self.model is not None:  # the path of the user's builder; model_ is its refit at lambda_
            n_outputs = len(self.classes_) if task == "multiclass" else targets.shape[1]
            builder = shaped_builder(self.model, X.shape[1], n_outputs, task)
            path = fit_path(X.astype(np.float32), _shaped(targets, task), model=builder,
                            cv=defaults.CV if self.cv is None else self.cv, **common)
            return self._keep(path, task)
        # Raw targets: fit_path standardizes a regression target with each member's training rows
        # (standardize=True) and Path.model folds that back into the output layer.
        targets = _shaped(targets, task)
        cv = defaults.CV if self.cv is None else self.cv
        if not isinstance(cv, Integral):  # lists of (train, test) pairs become a splitter
            cv = check_cv(cv, targets, classifier=task in CLASSIFICATION)
        path = fit_path(X, targets, hidden=hidden_sizes(self.hidden_layer_sizes), cv=cv,
                        standardize=self.standardize, scheduler=self.scheduler, **common)
        return self._keep(path, task)

    def _keep(self, path, task):
        """The fitted path's attributes, and its refit network at ``selection`` as ``model_``.

        Given several ``l1_ratio`` values ``path`` is a :class:`kerasnet.RatioPaths`: its best
        value's path is kept (``paths_`` holds them all).

        ``model_`` is :meth:`kerasnet.Path.model` (the one place a path's network is assembled),
        with the standardization folded into its first and last layers (``fold=True``) so that it
        is the plain recipe on raw inputs, compiled with ``learning_rate_init``.
        """
        self.paths_ = path if isinstance(path, RatioPaths) else None
        path = path.best_ if isinstance(path, RatioPaths) else path
        self.l1_ratio_ = float(path.l1_ratio)
        index = path.index(self.selection)
        self.best_params_ = {"lambda": float(path.lambdas_[index]), "l1_ratio": self.l1_ratio_}
        self.path_ = path
        self.lambda_ = float(path.lambdas_[index])
        self.lambdas_ = path.lambdas_
        self.cv_mean_, self.cv_se_ = path.cv_mean_, path.cv_se_
        self._set_model(compile_for(path.model(self.selection, fold=True), task,
                                    learning_rate=self.learning_rate_init))
        self.n_iter_ = int(path.refit_epochs_[index])
        self.history_ = {
            "cv_deviance": [float(v) for v in path.cv_loss_mean_],
            f"cv_{path.measure}": [float(v) for v in path.cv_mean_],
            "refit_epochs": [int(v) for v in path.refit_epochs_],
        }
        return self


_CV_PARAMS_DOC = """
    Every default is :func:`kerasnet.fit_path`'s (:mod:`kerasnet.path.defaults`), so the
    estimator and ``fit_path(X, y)`` fit the same path. Until kerasnet 0.1.0 the estimators
    took scikit-learn's ``MLPClassifier`` defaults instead (hidden (100,), batches of
    ``min(200, n_samples)``, 100 epochs): 1 to 5 optimizer steps per epoch on a few hundred
    rows, which left multiclass fits far from converged; pass those values to get them back.

    Parameters
    ----------
    hidden_layer_sizes : int, tuple of int or list of tuples, default (64, 64)
        Units of each hidden (ReLU) layer; ``()`` is the linear (logistic) model. A list of
        tuples (``[(16,), (64,), (64, 64)]``) is cross-validated: see "Lists of settings" below.
    l1_ratio : float in [0, 1] or sequence of them, default 0.5
        glmnet's alpha: strength ``lambda`` means ``l1 = lambda*l1_ratio``,
        ``l2 = lambda*(1 - l1_ratio)/2`` on every kernel. A sequence is cross-validated too, as
        ``ElasticNetCV``'s: one path per value on the same folds, the value with the best CV
        mean kept (``l1_ratio_``; :class:`kerasnet.RatioPaths` in ``paths_``).
    lambdas : array-like or None, default None
        The strengths; None builds ``n_lambdas`` log-spaced ones from the data, as
        :func:`kerasnet.fit_path` does (from a constant network down, for any ``l1_ratio``).
    n_lambdas : int, default 32
    lambda_min_ratio : float, default 1e-3
    cv : int, cross-validation generator or iterable, default 5
        An int makes shuffled (stratified, for classifiers) folds seeded by ``random_state``.
    selection : {"min", "1se"}, default "min"
        ``lambda_`` is the strength of the best CV score (glmnet's ``lambda.min``), or the
        largest strength within one standard error of it (``lambda.1se``, glmnet's choice
        for a sparser model). The estimators predict, so they take the better predictor:
        on the bundled classification datasets the ``1se`` refit's held-out log loss was 9%
        (digits) to 220% (wine) higher than the ``min`` refit's, on diabetes the two tied, and
        on 7 of 12 larger tables ``1se`` lost too (benchmarks/RESULTS.md);
        ``path_.lambda_1se_`` is computed either way. Until kerasnet 0.1.0 the default was
        ``"1se"``.
    model : callable or None, default None
        A function returning a built, uncompiled Keras model on ``(n_features,)`` inputs (its
        output a sigmoid / softmax / value as the task needs) to use instead of the MLP; the
        arguments it names among ``n_features``, ``n_outputs`` (1 for two classes, the class
        count, or the target count) and ``task`` are passed, so one builder fits any data:
        ``hidden_layer_sizes`` and ``standardize`` then do not apply (put a
        ``Normalization`` layer in it); ``model_`` is its refit at ``lambda_`` with Keras's
        own ``L1L2`` on every kernel (:func:`kerasnet.fit_path`'s ``model=``).
    measure : {"deviance", "class", "auc", "mse", "mae", "r2"}, default "deviance"
        The CV measure that chooses ``lambda_`` (glmnet's ``type.measure``; ``class`` and
        ``auc`` for classifiers, ``r2`` for regressors): ``cv_mean_`` and ``cv_se_`` are in it.
    proximal : bool, default True
        L1 as a soft-threshold after each step, so weights and whole features reach exactly
        zero along the path (with ``l1_ratio > 0``; at 0 there is no L1 part); False is
        Keras's own ``l1_l2`` behaviour, the L1 subgradient in the gradient step (weights
        shrink towards zero but do not reach it), as :func:`kerasnet.fit_path`'s ``proximal``.
    standardize : bool, default True
        Standardize inputs and regression targets with each member's training rows (done once,
        by :func:`kerasnet.fit_path`); folded into ``model_``, which takes raw inputs.
    batch_size : int, "auto" or None, default None
        None is :func:`kerasnet.fit_path`'s rule of the row count (32 up to 131,071 rows, then an
        epoch of 2,048 to 4,095 steps: :func:`kerasnet.path.defaults.batch_size_for`); "auto" is
        scikit-learn's ``min(200, n_samples)``.
    learning_rate_init : float or list of float, default 1e-3
        Adam's learning rate; a list is cross-validated ("Lists of settings").
    dropout : float in [0, 1) or list of them, default 0.0
        The dropout rate after each hidden layer. Not 0, or a list: "Lists of settings".
    max_iter : int or None, default None
        Epochs of each CV member at most. None: cross-fit early stopping ends training,
        not a cap (each strength trains until every leave-one-fold-out curve of the
        validation data loss has gone ``n_iter_no_change`` epochs without improving by 0.1%,
        watched after a warm-up of 300 optimizer steps, at most 400 epochs, fewer above 10^4
        rows; 100 without early stopping): :func:`kerasnet.path.defaults.epoch_budget` and
        ``stopping_rule``.
    early_stopping : bool, default True
        Member ``(strength, fold)`` keeps its weights of the best epoch of the other folds'
        mean validation curve (cross-fit, :func:`kerasnet.fit_path`); each strength is refit
        on all rows for the optimizer steps of its all-folds best epoch.
    n_iter_no_change : int or None, default None
        The patience of early stopping. None: :func:`kerasnet.fit_path`'s rule (10 epochs while
        a fold's epoch is at most 200 steps, then 2,000 steps in whole epochs, at least 5:
        :func:`kerasnet.path.defaults.patience_for`).
    random_state : int, RandomState instance or None, default None
        Seeds initial weights, folds and batch order.
    scheduler : str, dask.distributed.Client or None, default None
        Run the path on a Dask cluster (``kerasnet[dask]``): its address or a client.
    verbose : bool, default False
        Show a progress bar.
    penalty_factor : array-like of shape (n_features,) or None, default None
        glmnet's ``penalty.factor`` (:func:`kerasnet.fit_path`): each feature's first-layer
        weights carry this multiple of the penalty (0: unpenalized, ``inf``: left out),
        rescaled to sum to ``n_features``. ``model_``'s Keras regularizer is the unweighted
        one at ``lambda_``.

    Attributes
    ----------
    lambda_ : float
        The chosen strength.
    lambdas_ : ndarray
        The grid, descending.
    cv_mean_, cv_se_ : ndarray
        glmnet's ``cvm`` and ``cvsd`` of ``measure`` per strength.
    l1_ratio_ : float
        The ``l1_ratio`` of the kept path (the given one, or the best of a sequence).
    paths_ : kerasnet.RatioPaths or None
        Every value's path, given a sequence of ``l1_ratio`` values.
    path_ : kerasnet.Path
        The whole path: every strength's refit model, sparsity, plots.
    model_ : keras.Sequential
        The refit network at ``lambda_``: ``path_.model(selection, fold=True)``, the
        :func:`kerasnet.mlp` recipe with Keras's own ``L1L2`` at ``lambda_`` and the
        standardization folded into its first and last layers, on raw inputs (its ``.keras``
        file loads in safe mode without kerasnet).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    history_ : dict of list
        ``cv_deviance``, ``cv_<measure>`` (per strength) and ``refit_epochs``.
    n_iter_ : int
        Refit epochs of the chosen strength.
    best_params_ : dict
        The chosen point's settings (``lambda``, ``l1_ratio``, and with lists of settings
        ``learning_rate``, ``dropout`` and ``hidden``).
    search_ : kerasnet.SearchResult or None
        With lists of settings: every point's CV mean and SE (``cv_mean_``, ``cv_se_`` and
        ``history_`` then follow ``search_.points_``, ``lambdas_`` is every strength searched,
        and ``learning_rate_``, ``dropout_``, ``hidden_layer_sizes_`` are the chosen ones;
        ``path_`` is None).
    coefs_, intercepts_ : list of ndarray
    sparsity_ : float
"""


class ElasticNetMLPClassifierCV(ClassifierMixin, ClassifierOutputs, BaseElasticNetMLPCV):
    __doc__ = (
        """Elastic-net MLP classifier whose strength is chosen by cross-validation over a path.

    One call to :func:`kerasnet.fit_path` trains every (strength, fold) pair as one stacked
    network, then refits every strength on all rows; ``lambda_`` is chosen from the CV
    ``measure`` (the deviance by default) by ``selection``.
"""
        + _CV_PARAMS_DOC
        + """    classes_ : ndarray

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from kerasnet.sklearn import ElasticNetMLPClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = ElasticNetMLPClassifierCV((16,), n_lambdas=8, max_iter=20, random_state=0).fit(X, y)
    >>> bool(clf.lambda_ in clf.lambdas_)
    True
    """
    )


class ElasticNetMLPRegressorCV(RegressorMixin, RegressorOutputs, BaseElasticNetMLPCV):
    __doc__ = (
        """Elastic-net MLP regressor whose strength is chosen by cross-validation over a path.

    As :class:`ElasticNetMLPClassifierCV`, scored by R^2; several targets share one network.
"""
        + _CV_PARAMS_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from kerasnet.sklearn import ElasticNetMLPRegressorCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = ElasticNetMLPRegressorCV((16,), n_lambdas=8, max_iter=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """
    )


def _shaped(targets, task):
    """Targets ``[n, k]`` as :func:`kerasnet.fit_path` takes them: class codes, or values ``[n]`` for one."""
    if task in CLASSIFICATION:
        return targets.ravel().astype(int)
    return targets.ravel() if targets.shape[1] == 1 else targets


def shaped_builder(builder, n_features, n_outputs, task):
    """``builder`` with the data's shape bound to the arguments it names (else as it is)."""

    given = {"n_features": n_features, "n_outputs": n_outputs, "task": task}
    try:
        names = inspect.signature(builder).parameters
    except (TypeError, ValueError):  # a builtin or an object without a signature: call it as it is
        return builder
    bound = {k: v for k, v in given.items() if k in names}
    return functools.partial(builder, **bound) if bound else builder
