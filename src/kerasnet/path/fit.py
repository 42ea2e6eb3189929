"""The regularization path: every strength x every CV fold in one vectorized fit, then a refit.

:func:`fit_path` is glmnet's ``cv.glmnet`` for networks: :func:`kerasnet.mlp` by default, or
any Keras model. Member ``(lambda_i, fold_f)`` is a copy of the network that trains on the
rows outside fold ``f`` (an MLP's inputs standardized with those rows' statistics only) and
is validated on fold ``f``; all members train at once in :func:`kerasnet.path.engine.fit_members`.
The CV curve gives ``lambda_min_`` and ``lambda_1se_``; a second fit trains every strength on
all rows, so any point of the path is a standalone Keras model.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..tasks import LOSS
from . import defaults, measures
from .arguments import check_cv, check_hidden, check_seed, check_settings
from .baselines import (
    LINEAR_LEARNING_RATE,
    check_baselines,
    linear_skip_reason,
    path_baselines,
)
from .buckets import enabled as bucket_shapes
from .folds import normalized_weights, splits
from .inputs import encode_target, network_and_inputs, penalty_factors, poisson_offset
from .members import Training
from .pipeline import GridEnds, Selection, linear_baseline, path_of, path_settings, run_stages, statistics
from .plan import Plan
from .progress import Progress
from .ratios import check_ratios, fit_ratio_paths
from .rows import Rows
from .survival_cv import check_fold_events

__all__ = ["fit_path"]


def fit_path(X, y, *, hidden=defaults.HIDDEN, task=None, l1_ratio=defaults.L1_RATIO, lambdas=None,
             n_lambdas=defaults.N_LAMBDAS, lambda_min_ratio=defaults.LAMBDA_MIN_RATIO, cv=defaults.CV,
             epochs=None, batch_size=None, learning_rate=defaults.LEARNING_RATE,
             early_stopping=True, patience=None, proximal=True, standardize=True, seed=None,
             scheduler=None, verbose=1, measure="deviance", foldid=None, groups=None, keep=False,
             sample_weight=None, model=None, penalized=None, optimizer="adam", feature_selection=False,
             hidden_l2=1e-2, relax=False, adaptive=True, penalty_factor=None, exclude=None, offset=None,
             baselines=True):
    """Fit the elastic-net path of a network with k-fold CV: every strength and fold in one fit.

    Strength ``lambda`` means glmnet's penalty ``lambda*(l1_ratio*|W|_1 +
    (1-l1_ratio)/2*|W|_2^2)`` on every kernel (Keras's ``l1 = lambda*l1_ratio``,
    ``l2 = lambda*(1-l1_ratio)/2``). Each (strength, fold) member trains with Adam on its
    split's training rows only, standardized with those rows' (weighted) mean and standard
    deviation, and is scored on its split's test rows by ``measure``.

    Which rows each choice sees:

    - *Epochs (early stopping)*, cross-fit: member ``(lambda, f)`` keeps its weights of the
      epoch where the mean validation curve of the *other* folds of ``lambda`` was best,
      searched until that leave-``f``-out curve went ``patience`` epochs without improving
      (:mod:`kerasnet.path.stopping`). Fold ``f``'s rows never choose member ``f``'s epoch,
      so its score there is out of sample. With ``epochs=None`` (the default) the curve is
      the validation *data loss* (what the CV measure scores), a fall counts when it is more
      than 0.1% (``MIN_DELTA``), and it is watched from the epoch of 300 optimizer steps on (a
      fold's training rows, Adam at 1e-3; the grid probe's count): before that the weights
      still show their random start, which at the top of the grid gives a better data loss
      than the emptied network the strength stands for. A strength trains until all its
      folds' curves have stalled, at most 400 epochs (:mod:`kerasnet.path.defaults`). With an
      integer ``epochs`` the curve is Keras's ``val_loss`` (data loss + penalty), any fall
      counts, from the first epoch. Without ``early_stopping`` every member trains ``epochs``
      epochs (100 for None).
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
    y : array-like [n] or [n, k]
        Target; classes may be any labels. ``k`` columns are a multi-response regression
        (glmnet's ``mgaussian``): one output per column, each standardized with the member's
        rows, the loss Keras's MSE (the outputs' mean, so ``lambda_max`` carries ``2 / k``:
        :func:`kerasnet.path.grid.gradient_factor`), the CV measures summed over outputs as
        glmnet's. With ``task="cox"``: (time, event) as two columns, a structured array or a
        DataFrame (:mod:`kerasnet.survival`: Breslow's partial likelihood within each batch,
        measures ``deviance``, cv.glmnet's grouped one, and ``cindex``; ``Path.predict``: eta).
    hidden : int or sequence of int, default (64, 64)
        Units of each hidden layer (an int: one layer; ``()``: the linear model).
    task : {"binary", "multiclass", "regression", "poisson", "cox"} or None, default None
        None infers it from ``y`` (:func:`kerasnet.data.infer_task`).
    l1_ratio : float in [0, 1] or sequence of them, default 0.5
        The elastic-net mix. A sequence of values cross-validates it too, as glmnet's
        ``cva.glmnet`` and scikit-learn's ``ElasticNetCV(l1_ratio=[...])``: one path per value, all
        on the same splits and from the same initial weights, and a
        :class:`~kerasnet.path.ratios.RatioPaths` is returned (the value and strength of the best
        CV mean over all paths; :mod:`kerasnet.path.ratios`).
    lambdas : sequence of float or None
        The grid (sorted descending), each finite, >= 0 and at most 1e6
        (:data:`kerasnet.path.arguments.MAX_STRENGTH`: on standardized data a larger
        strength zeroes every weight many times over and only overflows). None:
        ``n_lambdas`` log-spaced strengths from the data
        (:func:`kerasnet.path.grid.default_lambdas`, on all rows, weighted): for ``hidden=()``
        glmnet's grid exactly, from its ``lambda_max`` down to ``lambda_max * lambda_min_ratio``.
        For the MLP network the grid starts where the network empties, as glmnet's does: its first
        strength is the last one whose network predicts a constant (Df 0), its second keeps a
        feature. That strength is measured, on all rows (as glmnet's ``lambda_max`` uses all rows):
        a probe trains one member per strength of a log ladder, from twice the analytic bound of
        :func:`kerasnet.path.grid.default_lambdas` (glmnet's rule for the L1 part, the weight-decay
        bound ``||X'r||_2 / (1 - l1_ratio)`` for the L2 part, whichever is smaller) down to its
        bottom, then a finer ladder inside the bracket it found, with the path's optimizer, proximal
        step and batches, for a few hundred optimizer steps (all ``epochs`` without the proximal
        step, whose networks never reach zero; :mod:`kerasnet.path.grid_ends`: about 20 members on
        all rows, an eighth of the CV members of the default path or less). The grid's bottom is
        ``lambda_min_ratio`` times the smaller of that top and the lasso scale. The probe trains a
        fixed number of steps, the path's members the epochs their CV curves choose, so the top is
        then read from the fitted path. A strength gives the null model when its refit is empty
        (exact zeros; without the proximal step, outputs varying by under 1% of the least
        penalized refit's) or its CV measure is no better than the null model's on the same folds
        (within 0.1%). While the first strength does not, up to two strengths continuing the log
        grid above it are trained (none above 1e6); then, of the leading strengths that give the
        null model, all but the last are dropped, so at most one
        strength at the top is the null model and the grid may have fewer than ``n_lambdas``
        strengths (as glmnet's can). With ``l1_ratio`` 0 nothing is exactly zero (glmnet's ridge
        grid, too, starts where its coefficients are small, not zero: at its ``lambda_max`` for
        ``alpha`` 1e-3). The bottom is
        extended: when ``lambda_min_`` is the grid's last strength, a quarter of ``n_lambdas`` more
        strengths continue the log grid below it (at most twice), trained on their own (CV and
        refit; strengths are independent, so they are what one fit of the longer grid gives) and
        appended to the path, until the minimum is interior or the limit is reached. A given
        ``lambdas``, ``feature_selection`` and a model of your own keep their grid as it is (no
        probe, no extension).
    n_lambdas : int, default 32
    lambda_min_ratio : float, default 1e-3
    cv : int, scikit-learn splitter or iterable of (train, test) pairs, default 5
        An int: shuffled ``StratifiedKFold`` (classification) or ``KFold`` (regression)
        seeded by ``seed``; with ``groups``, ``StratifiedGroupKFold`` / ``GroupKFold``. A
        splitter's (or pair's) train and test rows are used exactly as given; rows in
        neither are not used by that split. At least 2 splits.
    epochs : int or None, default None
        The most epochs a member trains. None: cross-fit early stopping, not a cap, ends
        training: each strength trains until every leave-one-fold-out curve of the
        validation data loss has gone ``patience`` epochs without falling by 0.1%, watched
        after a warm-up of 300 optimizer steps, at most 400 epochs, fewer on large tables
        (100 000 optimizer steps, at least 100 epochs; 100 epochs without early stopping;
        :func:`kerasnet.path.defaults.epoch_budget`). An integer is that cap, on Keras's rule
        (the validation objective, data loss + penalty, any decrease an improvement).
    batch_size : int or None, default None
        Rows per optimizer step. None: 32 up to 131,071 rows, then the power of two that keeps an
        epoch of all rows at 2,048 to 4,095 steps (256 at 10^6 rows), at most 4,096
        (:func:`kerasnet.path.defaults.batch_size_for`); ``Path.batch_size_`` is the one used.
    learning_rate : float, default 1e-3
        Finite and > 0. Every default of this signature is in :mod:`kerasnet.path.defaults`,
        shared with the CV estimators.
    early_stopping : bool, default True
    patience : int or None, default None
        Epochs a leave-one-fold-out curve may go without improving before it stops. None: 2,000
        optimizer steps of a fold in whole epochs, at least 5 and at most 10 (10 while a fold's
        epoch is at most 200 steps; 5 at 10^5 rows;
        :func:`kerasnet.path.defaults.patience_for`); ``Path.patience_`` is the one used.
    proximal : bool, default True
        L1 as a soft-threshold after each optimizer step, with the threshold rule of
        :class:`kerasnet.proximal.ProximalStep`: weights reach exactly zero, so Df (features
        with a nonzero first-layer row) falls along the path as glmnet's does. It acts
        whenever ``l1_ratio > 0`` (at 0 there is no L1 part and ``Path.proximal`` is False).
        ``False`` is Keras's own ``l1_l2`` behaviour (``kernel_regularizer=L1L2`` in
        ``model.fit``): the L1 subgradient in the gradient step, whose weights shrink towards
        zero but almost never reach it.
    standardize : bool, default True
        Standardize the features (and a regression target) with each member's own
        training rows; ``Path.model`` undoes it inside the model, so it takes raw ``X``
        and predicts in ``y``'s units.
    seed : int in [0, 2**32 - 1] or None
        Initial weights, folds and batch order. Every member starts from the same weights
        and the members of one fold see the same batches, so differences along the path
        come from the strength alone (common random numbers, as glmnet's warm path).
    scheduler : str, dask.distributed.Client or None, default None
        None trains here. A Dask scheduler address or client splits the members across
        the cluster's workers (:func:`kerasnet.path.distributed.fit_members_on_cluster`): same results.
    verbose : int, default 1
        1 shows the epochs of each phase on stderr (:mod:`kerasnet.path.progress`): a bar
        with the time left on a terminal, one line per phase with its time elsewhere; 0 is
        silent.
    measure : {"deviance", "class", "auc", "mse", "mae", "r2"}, default "deviance"
        glmnet's ``type.measure`` (:mod:`kerasnet.path.measures`): ``deviance`` is twice the
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
        Normalization, Dropout, ...) instead of the MLP. A model's weights are every member's
        start; a function is called once, with Keras's global seed set to ``seed`` for the
        call (your random states are restored after it), so a seeded path is reproducible.
        Its output must be what the task's loss expects (sigmoid, softmax, or values).
        ``X`` may then be any array (images) or a list of arrays (several inputs) and is used
        as given (no standardization: put a ``Normalization`` layer in the model);
        ``hidden`` and ``standardize`` do not apply. Members are vectorized copies
        of it (:func:`kerasnet.path.engine.fit_members`, the engine the MLP path runs on
        too); ``Path.model(lam)`` is your architecture with Keras's own ``L1L2``.
    penalized : layer names, classes, predicate or None
        With ``model``: the layers whose kernels carry the path's penalty (as
        :func:`kerasnet.penalize`; None: every kernel and embedding).
    optimizer : str or keras.optimizers.Optimizer, default "adam"
        Any Keras optimizer (its stateless update is used per member); ``learning_rate``
        overrides its rate.
    feature_selection : bool, default False
        The path's strength becomes a group lasso on the input features,
        ``lambda * sum_j ||W1[j]||_2`` on the first layer's rows, applied by its exact
        proximal step (whole features reach exactly zero, ``Path.selected_features``);
        ``l1_ratio`` does not apply. The grid runs from ``lambda_max``, where no feature
        survives (:func:`kerasnet.path.features.group_lambda_max`: the linear group lasso's
        ``max_j ||G_j||_2``, or for a network the largest first-layer row gradient at the
        initial weights on all rows), down to ``lambda_max * lambda_min_ratio``. By default a
        second, adaptive path follows (``adaptive``) and is the one returned. MLP only.
    hidden_l2 : float, default 1e-2
        With ``feature_selection``: the fixed L2 strength on every other kernel (in the
        loss), so a network cannot dodge the group lasso by shrinking its first layer and
        growing the next.
    relax : bool, default False
        With ``feature_selection``, glmnet's ``relax=TRUE``: every path point (every CV
        member and every refit) is trained again on exactly the features it selected,
        without the feature penalty (the others held at zero; ``hidden_l2`` stays), from its
        split's network trained without the feature penalty (the path's warm start), all
        points at once in one more stacked fit. Fold ``f``'s relaxed member
        uses the features its fold-``f`` member chose without fold ``f``'s rows, so its score
        there stays out of sample. ``Path.relaxed_`` holds the relaxed path, and
        ``Path.relax_chosen_`` says whether its best CV score beats the penalized path's;
        ``Path.model`` and ``Path.predict`` follow that choice unless told otherwise.
    adaptive : float, bool or None, default True
        With ``feature_selection``, the adaptive group lasso (True: ``gamma`` = 1, a float:
        that ``gamma``; False or None: off): a second path whose feature
        ``j`` carries ``lambda * ||W1[j]||_2 ** -gamma``, the norms of each
        split's own member of the first path at the strength chosen without that split's
        test rows (:func:`kerasnet.path.features.adaptive_factors`; features it dropped stay
        out). Features the first path found weak pay more, strong ones less, so features
        that only matter together (interactions) are not dropped with the noise. The result
        (and ``relax``) is the second path, on its own grid (``lambdas`` given: the same).
    penalty_factor : array [d] or None
        glmnet's ``penalty.factor``: feature ``j``'s first-layer row carries ``factor[j]``
        times the elastic net (0: unpenalized; inf: excluded), rescaled to sum to ``d`` as
        glmnet; ``lambda_max`` is glmnet's ``max_j |g_j| / factor_j`` at the fit of the
        unpenalized features (in-memory data; :func:`kerasnet.path.grid.unpenalized_residual`,
        equal to glmnet's grid, tested); with ``feature_selection`` it
        multiplies each feature's group strength. MLP only (``Path.model``'s Keras
        regularizers carry the strength without the factors).
    exclude : sequence of int or str, or None
        glmnet's ``exclude``: features (indices or names) held at zero at every strength.
    offset : array [n] or None
        With ``task="poisson"`` (counts, log link, Keras's ``poisson`` loss): each row's log
        exposure, glmnet's ``offset`` (mean count ``exp(eta + offset)``; in the null model and
        ``lambda_max`` too). ``Path.model`` predicts the rate, ``Path.predict(X, offset=)`` counts.

    baselines : bool, default True
        Also score, on exactly the path's CV splits (the same training and test rows, fold
        weights and ``measure``), the null model (closed form, per split the intercept-only
        model of its training rows: nothing is trained) and the linear elastic net
        (``hidden=()``: the same ``l1_ratio``, row weights, offset, penalty factors, seed and
        batch size, its own default grid; a learning rate of at least
        :data:`~kerasnet.path.baselines.LINEAR_LEARNING_RATE` and all ``epochs``, at most 100, without early
        stopping, as glmnet solves each strength to convergence), in ``Path.baselines_``
        (:mod:`kerasnet.path.baselines`). The linear fit is skipped when the path is linear or
        a user's model takes other than a 2-D numeric table. ``print(path)`` then says whether
        the network beats them by more than one standard error. False skips both.

    Returns
    -------
    Path
        Or a :class:`~kerasnet.path.ratios.RatioPaths` when ``l1_ratio`` is a sequence of values.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> path = fit_path(X, y, n_lambdas=8, epochs=20, seed=0, verbose=0)  # doctest: +SKIP
    >>> model = path.model(path.lambda_1se_)  # doctest: +SKIP
    """
    given = dict(locals())  # the arguments as given: a user's model's linear baseline reads them
    ratios = check_ratios(l1_ratio)
    if ratios is not None and feature_selection:
        raise InputError("l1_ratio takes one value with feature_selection=True (its group lasso has no L1 "
                         "share); give one value.")
    if ratios is not None:  # several values: one path each, on the same splits (glmnet's cva.glmnet)
        settings = {k: v for k, v in given.items() if k not in ("X", "y", "l1_ratio", "seed", "cv", "foldid",
                                                                  "groups")}
        check_cv(cv, foldid)
        return fit_ratio_paths(fit_path, X, y, ratios, seed=check_seed(seed), cv=cv, foldid=foldid,
                               groups=groups, **settings)
    if np.ndim(l1_ratio) > 0:  # a sequence of one value
        l1_ratio = next(iter(l1_ratio))
    hidden, seed = check_hidden(hidden), check_seed(seed)  # every setting before the data is read
    given_epochs = epochs
    check_cv(cv, foldid)
    counts = {"n_lambdas": n_lambdas, "epochs": defaults.epoch_budget(epochs, early_stopping),
              "batch_size": batch_size, "patience": patience}
    counts = {name: value for name, value in counts.items() if value is not None}  # None: the rules
    l1_ratio, lambda_min_ratio = check_settings(lambda_min_ratio, learning_rate, l1_ratio, lambdas=lambdas,
                                                **counts)
    proximal = bool(proximal) and l1_ratio > 0  # no L1 part, nothing to threshold
    baselines = check_baselines(baselines)
    X, y, names, build, sample_weight = network_and_inputs(X, y, model, hidden, seed, sample_weight,
                                                           scheduler)
    task, y_enc, classes, n_outputs = encode_target(y, task)
    measure = measures.check_measure(measure, task)
    selection = Selection.checked(feature_selection, hidden_l2, adaptive, relax, model)
    network = build(n_outputs, task)
    factor = penalty_factors(penalty_factor, exclude, names, network, model is None)
    weight = normalized_weights(sample_weight, len(y_enc))
    offset = poisson_offset(offset, y_enc, weight, task, feature_selection, None if model else network)
    train_rows, test_rows = splits(cv, y_enc, task, seed, foldid=foldid, groups=groups)
    check_fold_events(task, y_enc, weight, test_rows)  # before training: the Cox deviance needs them
    fold_rows = train_rows.sum(axis=1).mean()
    batch_size = defaults.batch_size_for(len(y_enc)) if batch_size is None else int(batch_size)
    patience = defaults.patience_for(fold_rows, batch_size) if patience is None else int(patience)
    epochs = defaults.epoch_budget(given_epochs, early_stopping, fold_rows, batch_size)
    training = Training(LOSS[task], epochs, batch_size, optimizer, learning_rate, proximal, penalized, seed,
                        penalty_factor=factor)
    stopping = defaults.stopping_rule(given_epochs, fold_rows, batch_size, learning_rate,
                                      patience) if early_stopping else None
    stats = None if model is not None else statistics(X, y_enc, task, train_rows, weight, standardize,
                                                       offset, factor)
    plan = Plan(task, measure, y_enc, weight, train_rows, test_rows, offset, factor, stats,
                bool(standardize) and model is None, training, stopping, scheduler, keep)
    # The rows on the device, once, for every stage; the MLP's table in memory padded to buckets
    # of rows and features, so another table of a nearby size reuses the compiled programs.
    rows = Rows.prepare(X, y_enc, weight, offset,
                        buckets=model is None and scheduler is None and bucket_shapes())
    ends = GridEnds(lambdas, n_lambdas, lambda_min_ratio, l1_ratio,
                    lambdas is None and model is None and not feature_selection and bool(hidden))
    progress = Progress(verbose)
    try:
        fits, relaxed = run_stages(plan, rows, network, ends, selection, tuple(hidden), progress)
    except BaseException:
        progress.close(finished=False)  # no line for a phase an error or a Ctrl-C cut short
        raise
    progress.close()
    shared = path_settings(plan, network, selection, l1_ratio, classes, names, n_outputs, hidden, model,
                           penalized)
    path = path_of(plan, rows, network, fits, shared,
                   relaxed=None if relaxed is None else path_of(plan, rows, network, relaxed, shared))
    if baselines:  # the null model and the linear path on the same splits
        linear = linear_baseline(plan, rows, ends, shared, penalty_factor, exclude) if model is None \
            else _own_model_baseline(given, epochs)
        path.baselines_ = path_baselines(path, task, y_enc, weight, train_rows, test_rows, offset, linear)
    path.batch_size_, path.patience_, path.max_epochs_ = batch_size, patience, epochs
    path.cv_rows_ = (train_rows, test_rows)
    return path


def _own_model_baseline(given, epochs):
    """A user's model's linear baseline: ``fit_path(hidden=())`` on its table as given, on the
    path's splits (a callable of them), or why there is none (images, several inputs)."""
    reason = linear_skip_reason(given["X"], given["hidden"], given["model"])
    if reason:
        return reason
    kept = ("task", "l1_ratio", "n_lambdas", "lambda_min_ratio", "batch_size", "proximal", "seed",
            "scheduler", "measure", "sample_weight", "optimizer", "offset")
    return lambda pairs: fit_path(
        given["X"], given["y"], hidden=(), cv=pairs, epochs=min(epochs, defaults.EPOCHS),
        early_stopping=False, learning_rate=max(given["learning_rate"] or 0.0, LINEAR_LEARNING_RATE),
        verbose=0, baselines=False, **{name: given[name] for name in kept})
