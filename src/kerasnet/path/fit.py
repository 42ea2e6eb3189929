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

from ..penalty import check_strength
from ..tasks import LOSS
from . import defaults, grid, grid_ends, measures
from .arguments import check_cv, check_hidden, check_seed, check_settings
from .baselines import (
    LINEAR_LEARNING_RATE,
    check_baselines,
    linear_skip_reason,
    null_measures,
    path_baselines,
)
from .distributed import fit_members
from .explained import deviance_explained
from .features import (
    adaptive_factors,
    adaptive_gamma,
    dense_starts,
    first_layer_norms,
    group_lambda_max,
    held_out,
    scaled_strengths,
)
from .folds import normalized_weights, refit_epochs_for, splits
from .inputs import encode_target, network_and_inputs, penalty_factors, poisson_offset
from .progress import Progress, measure_readout
from .result import Path
from .sources import Chunks
from .standardize import member_scaling, path_statistics
from .step import kernel_positions
from .survival_cv import check_fold_events, fold_events, grouped_deviance

__all__ = ["fit_path"]


def fit_path(
    X,
    y,
    *,
    hidden=defaults.HIDDEN,
    task=None,
    l1_ratio=defaults.L1_RATIO,
    lambdas=None,
    n_lambdas=defaults.N_LAMBDAS,
    lambda_min_ratio=defaults.LAMBDA_MIN_RATIO,
    cv=defaults.CV,
    epochs=None,
    batch_size=defaults.BATCH_SIZE,
    learning_rate=defaults.LEARNING_RATE,
    early_stopping=True,
    patience=defaults.PATIENCE,
    proximal=True,
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
    feature_selection=False,
    hidden_l2=1e-2,
    relax=False,
    adaptive=True,
    penalty_factor=None,
    exclude=None,
    offset=None,
    baselines=True,
):
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
    l1_ratio : float in [0, 1], default 0.5
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
        after a warm-up of 300 optimizer steps, at most 400 epochs (100 without early
        stopping; :mod:`kerasnet.path.defaults`). An integer is that cap, on Keras's rule
        (the validation objective, data loss + penalty, any decrease an improvement).
    batch_size, learning_rate : default 32, 1e-3
        Integers >= 1; the learning rate a finite number > 0. Every default of this
        signature is in :mod:`kerasnet.path.defaults`, shared with the CV estimators.
    early_stopping : bool, default True
    patience : int, default 10
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
        the cluster's workers (:func:`kerasnet.path.distributed.fit_members`): same results.
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

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> path = fit_path(X, y, n_lambdas=8, epochs=20, seed=0, verbose=0)  # doctest: +SKIP
    >>> model = path.model(path.lambda_1se_)  # doctest: +SKIP
    """
    hidden, seed = check_hidden(hidden), check_seed(seed)  # every setting before the data is read
    given = {"X": X, "y": y, "sample_weight": sample_weight, "offset": offset,
             "baselines": check_baselines(baselines)}  # the linear baseline reads the inputs as given
    given_epochs, epochs = epochs, defaults.epoch_budget(epochs, early_stopping)
    check_cv(cv, foldid)
    counts = {"n_lambdas": n_lambdas, "epochs": epochs, "batch_size": batch_size, "patience": patience}
    l1_ratio, lambda_min_ratio = check_settings(lambda_min_ratio, learning_rate, l1_ratio, lambdas=lambdas,
                                                **counts)
    proximal = bool(proximal) and l1_ratio > 0  # no L1 part, nothing to threshold
    X, y, names, build, sample_weight = network_and_inputs(X, y, model, hidden, seed, sample_weight,
                                                           scheduler)
    task, y_enc, classes, n_outputs = encode_target(y, task)
    measure = measures.check_measure(measure, task)
    standardize = bool(standardize) and model is None  # a user's model gets its inputs as given
    if feature_selection and model is not None:
        raise ValueError("feature_selection=True selects the input features of the MLP (model=None); "
                         "a model of your own has no first layer of features to group.")
    hidden_l2 = check_strength(hidden_l2, "hidden_l2")
    explicit = adaptive is not True and adaptive is not None and adaptive is not False  # a gamma
    adaptive = adaptive_gamma(adaptive) if feature_selection else None
    if (relax or explicit) and not feature_selection:
        raise ValueError("relax= and adaptive= act on the selected input features; they need "
                         "feature_selection=True.")
    network = build(n_outputs, task)
    factor = penalty_factors(penalty_factor, exclude, names, network, model is None)
    n = len(y_enc)
    weight = normalized_weights(sample_weight, n)
    offset = poisson_offset(offset, y_enc, weight, task, feature_selection, None if model else network)
    train_rows, test_rows = splits(cv, y_enc, task, seed, foldid=foldid, groups=groups)
    check_fold_events(task, y_enc, weight, test_rows)  # before training: the Cox deviance needs them
    F = len(train_rows)
    everything = np.ones(n, bool)
    rows = list(train_rows) + [everything]
    x_stats = None
    test_sets = np.concatenate([test_rows, np.zeros((1, n), bool)])
    test_weights = (test_rows * weight).sum(axis=1)

    def scaling(member_rows):
        if not standardize:
            return None
        return member_scaling(y_enc, rows, member_rows, task, weight, x_stats)

    def masks(sets, of):
        # Row sets and each member's: no members x rows array (a cluster takes the full masks).
        return (sets, of) if scheduler is None else sets[of]

    progress = Progress(verbose)
    common = {"loss": LOSS[task], "penalized": penalized, "sample_weight": weight, "batch_size": batch_size,
              "optimizer": optimizer, "learning_rate": learning_rate, "proximal": proximal, "seed": seed,
              "callback": progress, "scheduler": scheduler, "penalty_factor": factor, "offset": offset,
              **defaults.stopping_rule(given_epochs, np.asarray(train_rows).sum(axis=1).mean(), batch_size,
                                       learning_rate)}
    user_grid = lambdas
    # The default grid of the MLP network gets its top from a probe and its bottom extended.
    probing = lambdas is None and model is None and not feature_selection and bool(tuple(hidden))
    try:
        starts = None
        if model is None:  # one pass over the rows (in blocks, or a streamed file's chunks) for every split
            chunks = X if isinstance(X, Chunks) else Chunks.blocks(X)
            free = None if factor is None or isinstance(X, Chunks) else np.asarray(X)[:, factor == 0]
            x_stats, y_all, G = path_statistics(chunks, y_enc, task, np.stack(rows), weight, standardize,
                                                None if offset is None else np.exp(offset), free)
            m_all, s_all = x_stats[0][-1], x_stats[1][-1]
            if feature_selection and tuple(hidden):
                starts = dense_starts(network, X, y_enc, rows, test_sets, F, scaling, masks, epochs,
                                       early_stopping, patience, hidden_l2, train_rows, batch_size, progress,
                                       common)
                network.set_weights(starts[F])  # the network on all rows: where the grid starts
            if feature_selection and lambdas is None:
                top = group_lambda_max(network, chunks, y_enc, LOSS[task], weight, m_all, s_all,
                                       y_scale=y_all if task == "regression" else None,
                                       linear_gradient=G if not tuple(hidden) else None, seed=seed or 0,
                                       factors=factor)
                lambdas = grid.lambda_grid(top, n_lambdas, lambda_min_ratio)
            lambdas = grid.path_lambdas(lambdas, None, y_enc, task, l1_ratio, n_lambdas, lambda_min_ratio,
                                        weight, linear=not tuple(hidden), gradient=G, factor=factor)
            if probing:  # the top where the network empties: a short stacked fit on all rows
                run, _ = grid_ends.probe_runner(
                    network, X, y_enc, task, common, lambda K: scaling(np.full(K, F)),
                    lambda K: masks(everything[None], np.zeros(K, int)),
                    grid_ends.probe_epochs(n, batch_size, learning_rate, epochs) if proximal else epochs,
                    y_all[1] if task == "regression" else None)
                lambdas = grid_ends.probed_lambdas(lambdas, l1_ratio, lambda_min_ratio, run)
        else:
            lambdas = grid.path_lambdas(lambdas, X, y_enc, task, l1_ratio, n_lambdas, lambda_min_ratio,
                                        weight, linear=False)
        L = len(lambdas)
        l1, l2 = lambdas * l1_ratio, lambdas * (1 - l1_ratio) / 2

        def cv_mean(cv_values, cvfit, refit_diverged):
            excluded = cvfit.diverged[is_cv].reshape(L, F) | np.asarray(refit_diverged, bool)[:, None]
            folds = (fold_events(task, y_enc, weight, test_rows) or {}).get(measure, test_weights)
            return grid.cv_summary(cv_values[measure], excluded, folds)[0]

        def minimum_at_end(cv_values, cvfit, refit_diverged):
            mean = cv_mean(cv_values, cvfit, refit_diverged)
            return grid.select_min(lambdas, mean, measures.greater_is_better(measure)) == L - 1

        def null_top(fits):  # leading strengths of the fitted path that give the null model
            null = null_measures(task, y_enc, weight, train_rows, test_rows, offset, test_weights,
                                 fold_events(task, y_enc, weight, test_rows))[measure][0]
            empty = grid_ends.refit_empty(network, X, y_enc, fits[4], task, LOSS[task],
                                          scaling(np.full(len(fits[4]), F)), proximal,
                                          y_all[1] if task == "regression" else None)
            return grid_ends.null_top(cv_mean(fits[2], fits[1], fits[7]), null,
                                      measures.greater_is_better(measure), empty)
        group = None
        if feature_selection:  # the strength is the group lasso; every other kernel a fixed L2
            l1, l2, group = np.zeros(L), np.full(L, hidden_l2), lambdas

        # Members: k = i * groups + f (strength i, split f). Without early stopping the refits
        # (one per strength, all rows) join the same fit as "split" F: one program, one pass.
        joint = not early_stopping
        per = F + 1 if joint else F

        def members_of(lam):
            fold = np.tile(np.arange(per), len(lam))
            return len(lam), lam * l1_ratio, lam * (1 - l1_ratio) / 2, fold, fold < F

        member_fold = np.tile(np.arange(per), L)
        is_cv = member_fold < F
        strengths = L, l1, l2, member_fold, is_cv

        def cv_and_refit(name, group_cv, group_refit, below=None):
            # Every stage starts each member from its split's dense network, if there is one.
            # ``below``: only these strengths (the grid's extension), as a fit of their own.
            L, l1, l2, member_fold, is_cv = strengths if below is None else members_of(below)
            start_cv = None if starts is None else (starts, member_fold)
            start_refit = None if starts is None else (starts, np.full(L, F))
            progress.phase(name, epochs, (L, per), measure_readout(task, measure, y_enc, weight, test_sets,
                                                                   member_fold, scaling(member_fold)))
            cv_weights, cvfit = fit_members(
                network, X, y_enc, l1=np.repeat(l1, per), l2=np.repeat(l2, per), group_l1=group_cv,
                train_mask=masks(np.stack(rows), member_fold), val_mask=masks(test_sets, member_fold),
                scaling=scaling(member_fold), epochs=epochs, early_stopping=early_stopping, patience=patience,
                streams=member_fold, stop_groups=np.where(is_cv, np.repeat(np.arange(L), per), -1),
                outputs=True, start=start_cv, **common)
            cv_values, oof = measures.cross_validated(cvfit.val_outputs, is_cv, y_enc, task, weight, L, F,
                                                      keep)
            if task == "cox":  # cv.glmnet's default: the grouped deviance, from outputs on all rows
                cv_values["deviance"] = grouped_deviance(network, X, y_enc, cv_weights,
                                                         scaling(member_fold), test_rows, weight, L, F)
            if joint:
                return (cv_weights, cvfit, cv_values, oof, [cv_weights[k] for k in np.flatnonzero(~is_cv)],
                        None, np.full(L, epochs), cvfit.diverged[~is_cv])
            chosen = cvfit.chosen_epoch[is_cv].reshape(L, F)[:, 0]
            refit_epochs = refit_epochs_for(chosen, train_rows, batch_size, n)
            progress.phase("Refit", int(refit_epochs.max()), (L, 1))
            weights, refit = fit_members(
                network, X, y_enc, l1=l1, l2=l2, group_l1=group_refit, scaling=scaling(np.full(L, F)),
                train_mask=masks(everything[None], np.zeros(L, int)),
                epochs=int(refit_epochs.max()), max_epochs=refit_epochs, streams=np.zeros(L, int),
                start=start_refit, **common)
            return cv_weights, cvfit, cv_values, oof, weights, refit, refit_epochs, refit.diverged

        fits = cv_and_refit("CV   ",
                            None if group is None else scaled_strengths(lambdas, member_fold, factor),
                            None if group is None else scaled_strengths(lambdas, np.full(L, F), factor))
        for _ in range(grid_ends.MAX_RAISES if probing else 0):  # the top learns: go higher
            above = grid_ends.raised_lambdas(lambdas)
            if null_top(fits) or not len(above):
                break
            fits = grid_ends.merge_fits(cv_and_refit("Upper", None, None, above), fits)
            lambdas = np.concatenate([above, lambdas])
            L, l1, l2, member_fold, is_cv = strengths = members_of(lambdas)
        drop = null_top(fits) - 1 if probing else 0
        if 0 < drop < L - 1:  # one strength at the top gives the null model, not more (nor all of them)
            fits = grid_ends.drop_leading(fits, drop, per)
            lambdas = lambdas[drop:]
            L, l1, l2, member_fold, is_cv = strengths = members_of(lambdas)
        for _ in range(grid_ends.MAX_EXTENSIONS if probing else 0):  # the minimum at the bottom: go lower
            if not minimum_at_end(fits[2], fits[1], fits[7]):
                break
            below = grid_ends.extended_lambdas(lambdas, grid_ends.extension_count(n_lambdas))
            fits = grid_ends.merge_fits(fits, cv_and_refit("Lower", None, None, below))
            lambdas = np.concatenate([lambdas, below])
            L, l1, l2, member_fold, is_cv = strengths = members_of(lambdas)
        cv_weights, cvfit, cv_values, oof, weights, refit, refit_epochs, refit_diverged = fits
        if adaptive is not None:  # a second path: the first path's own norms set each feature's weight
            excluded = cvfit.diverged[is_cv].reshape(L, F) | np.asarray(refit_diverged, bool)[:, None]
            norms = first_layer_norms(cv_weights).reshape(L, per, -1)[:, :F]
            norms = np.concatenate([norms, first_layer_norms(weights)[:, None]], axis=1)
            factors = adaptive_factors(norms, cv_values[measure], excluded, (test_rows * weight).sum(axis=1),
                                       lambdas, measures.greater_is_better(measure), adaptive)
            factors = factors if factor is None else factors * factor  # glmnet's factors times the adaptive
            top = user_grid is None and group_lambda_max(
                network, chunks, y_enc, LOSS[task], weight, m_all, s_all,
                y_scale=y_all if task == "regression" else None,
                linear_gradient=G if not tuple(hidden) else None, seed=seed or 0, factors=factors[F])
            if top:  # else the given grid, or no feature left on all rows: the first grid
                lambdas = grid.lambda_grid(top, n_lambdas, lambda_min_ratio)

            cv_weights, cvfit, cv_values, oof, weights, refit, refit_epochs, refit_diverged = cv_and_refit(
                "Adapt", scaled_strengths(lambdas, member_fold, factors),
                scaled_strengths(lambdas, np.full(L, F), factors))
        relaxed = None
        if relax:  # every point again on exactly its own features, without the feature penalty
            # From the split's dense network (the path's own start), its other features held at zero.
            relaxed = cv_and_refit("Relax", held_out(cv_weights), held_out(weights))
    except BaseException:
        progress.close(finished=False)  # no line for a phase an error or a Ctrl-C cut short
        raise
    progress.close()
    mlp_only = {} if model is not None else {
        "mean": m_all, "scale": s_all, "y_mean": y_all[0], "y_scale": y_all[1], "hidden": tuple(hidden)}
    user_only = {} if model is None else {
        "architecture": model, "penalized": penalized, "kernels": kernel_positions(network, penalized)}
    shared = dict(lambdas=lambdas, l1_ratio=l1_ratio, task=task, classes=classes, feature_names=names,
                  measure=measure, fold_weights=(test_rows * weight).sum(axis=1), n_outputs=n_outputs,
                  measure_weights=fold_events(task, y_enc, weight, test_rows), proximal=proximal,
                  feature_selection=feature_selection, hidden_l2=hidden_l2 if feature_selection else 0.0,
                  penalty_factor=factor, **mlp_only, **user_only)

    def result(fits, **extra):
        _, cvfit, cv_values, oof, weights, refit, refit_epochs, refit_diverged = fits
        # glmnet's dev.ratio: the refits on their own rows
        extra["dev_ratio"] = deviance_explained(network, X, y_enc, weights, task, weight,
                                                scaling(np.full(L, F)), offset)
        return Path(cv_values=cv_values, member_diverged=cvfit.diverged[is_cv].reshape(L, F),
                    best_epoch=cvfit.best_epoch[is_cv].reshape(L, F), refit_epochs=refit_epochs,
                    refit_diverged=refit_diverged, weights=weights, history={"cv": cvfit, "refit": refit},
                    oof_predictions=oof, **shared, **extra)

    path = result((cv_weights, cvfit, cv_values, oof, weights, refit, refit_epochs, refit_diverged),
                  relaxed=None if relaxed is None else result(relaxed))
    if given["baselines"]:  # the null model and the linear path on the same splits
        ours = model is None
        path.baselines_ = path_baselines(
            path, task, y_enc, weight, train_rows, test_rows, offset,
            linear_skip_reason(given["X"], hidden, model) or (lambda pairs: fit_path(
                given["X"], given["y"], hidden=(), task=task, l1_ratio=l1_ratio, n_lambdas=n_lambdas,
                lambda_min_ratio=lambda_min_ratio, cv=pairs, epochs=min(epochs, defaults.EPOCHS),
                batch_size=batch_size,
                learning_rate=max(learning_rate or 0.0, LINEAR_LEARNING_RATE), early_stopping=False,
                proximal=proximal, seed=seed, scheduler=scheduler, verbose=0, measure=measure,
                sample_weight=given["sample_weight"], optimizer=optimizer, offset=given["offset"],
                penalty_factor=penalty_factor if ours else None, exclude=exclude if ours else None,
                baselines=False)))
    return path
