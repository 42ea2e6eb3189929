"""Stability selection of input features: complementary pairs of half-samples x strengths, one fit.

:func:`stability_selection` is Meinshausen & Buhlmann's stability selection (2010) with Shah &
Samworth's complementary pairs (CPSS, 2013) for the group lasso on a network's input
features (the base procedure of ``fit_path(..., feature_selection=True)``). Each of
``n_pairs`` random splits of the rows into two disjoint halves gives two subsamples; every
(strength, subsample) pair is one member of a single stacked fit. A feature's selection
probability at strength ``lambda`` is the share of subsamples whose member kept it.

The error bound: for a region ``Lambda`` of strengths (the top of the grid down to some
``lambda``), ``q`` is the mean over subsamples of the number of features kept at any
strength of ``Lambda``; keeping the features whose probability reaches ``threshold`` (> 1/2)
somewhere in ``Lambda`` has ``E[false selections] <= q**2 / ((2 * threshold - 1) * d)``
(Meinshausen & Buhlmann's Theorem 1, which Shah & Samworth show holds for complementary
pairs; it assumes the noise features are exchangeable and the procedure no worse than random
guessing). The region is the longest top part of the grid whose bound is at most ``pfer``.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..models import mlp
from ..penalty import check_strength
from ..tasks import CLASSIFICATION, LOSS
from . import grid
from .arguments import check_hidden, check_seed, check_settings
from .features import adaptive_factors, adaptive_gamma, first_layer_norms, group_lambda_max
from .folds import normalized_weights, splits
from .inputs import NumpyGlorotUniform, check_xy, encode_target
from .members import HOLD, MemberSpec, Training
from .plan import MemberGrid, Plan, Statistics
from .progress import Progress
from .rows import Rows
from .sources import Chunks
from .stages import dense_starts, train
from .standardize import path_statistics
from .stopping import StoppingRule

__all__ = ["StabilitySelection", "stability_selection"]

#: The tasks it fits (its members train on Keras's own losses, which have no Cox likelihood).
_TASKS = (None, "binary", "multiclass", "regression", "poisson")


class StabilitySelection:
    """Selection probabilities of every input feature along a group-lasso path.

    Attributes
    ----------
    lambdas_ : ndarray [L]
        The strengths, descending (the group lasso on the first layer's rows).
    probabilities_ : ndarray [L, d]
        Share of the ``2 * n_pairs`` half-samples whose member kept feature ``j`` at
        strength ``i``.
    feature_names_ : list of str
    threshold, pfer : float
        The probability a feature must reach, and the bound asked of the expected number of
        false selections.
    q_ : ndarray [L]
        Mean over half-samples of the features kept at any strength down to ``lambdas_[i]``.
    bound_ : ndarray [L]
        ``q_**2 / ((2 * threshold - 1) * d)``: the bound on the expected false selections
        with the region running down to ``lambdas_[i]``.
    region_ : int
        Index of the region's weakest strength (the last with ``bound_ <= pfer``; -1 when
        even the strongest exceeds it, and nothing is selected).
    selected_ : ndarray of int
        Features whose probability reaches ``threshold`` in the region.
    selected_names_ : list of str
    expected_false_ : float
        The bound at the region (0 when the region is empty).
    """

    def __init__(self, lambdas, kept, feature_names, threshold, pfer):
        kept = np.asarray(kept, bool)  # [L, S, d]
        self.lambdas_ = np.asarray(lambdas, float)
        self.probabilities_ = kept.mean(axis=1)
        self.feature_names_ = list(feature_names)
        self.threshold, self.pfer = float(threshold), float(pfer)
        d = kept.shape[2]
        self.q_ = np.logical_or.accumulate(kept, axis=0).sum(axis=2).mean(axis=1)
        self.bound_ = self.q_ ** 2 / ((2 * self.threshold - 1) * d)
        within = np.flatnonzero(self.bound_ <= self.pfer)
        # q only grows down the grid, so the region is a top part of it.
        self.region_ = int(within.max()) if len(within) else -1
        if self.region_ >= 0:
            best = self.probabilities_[: self.region_ + 1].max(axis=0)
            self.selected_ = np.flatnonzero(best >= self.threshold)
            self.expected_false_ = float(self.bound_[self.region_])
        else:
            self.selected_, self.expected_false_ = np.array([], int), 0.0
        self.selected_names_ = [self.feature_names_[j] for j in self.selected_]

    def to_frame(self):
        """One row per feature: its largest probability in the region and over the grid, and
        whether it is selected; sorted by the first (a pandas DataFrame)."""
        import pandas as pd

        region = self.probabilities_[: self.region_ + 1].max(axis=0) if self.region_ >= 0 else np.zeros(
            self.probabilities_.shape[1])
        frame = pd.DataFrame({"feature": self.feature_names_, "probability": region,
                              "max_probability": self.probabilities_.max(axis=0),
                              "selected": np.isin(np.arange(len(region)), self.selected_)})
        return frame.sort_values(["probability", "max_probability"], ascending=False, kind="stable")

    def plot(self, ax=None):
        """The stability path: each feature's probability against log lambda, the threshold,
        the region shaded, the selected features coloured and labelled."""
        from ..plots import stability_axes

        return stability_axes(self, ax)

    def __repr__(self):
        names = ", ".join(self.selected_names_[:10]) + (" ..." if len(self.selected_names_) > 10 else "")
        return (f"StabilitySelection({len(self.selected_)} of {len(self.feature_names_)} features selected "
                f"at threshold {self.threshold:g}, expected false selections <= {self.expected_false_:.3g}"
                f": {names or 'none'})")


def check_halves(y, task, classes):
    """Refuse rows that cannot be cut in two halves: fewer than 4, or (classification, the
    halves being stratified) a class with fewer than 2 rows, before anything trains."""
    n = len(y)
    if n < 4:
        raise InputError(f"stability selection splits the rows in halves; it needs at least 4 rows, got {n}.")
    if task in CLASSIFICATION:
        counts = np.bincount(np.asarray(y).astype(int), minlength=len(classes))
        if counts.min() < 2:
            raise InputError(
                f"stability selection needs at least 2 rows of every class (one for each half of a pair); "
                f"class '{classes[int(counts.argmin())]}' has {int(counts.min())} of the {n} rows: add rows "
                f"of that class or leave its rows out.")


def _half_samples(n_pairs, y, task, seed):
    """Row masks ``[2 * n_pairs, n]`` of the half-samples: rows ``2p`` and ``2p + 1`` are pair
    ``p``'s two halves, complementary (disjoint, together every row), the two folds of a
    shuffled 2-fold split (stratified by class for classification) whose seed is drawn from
    ``seed``, so every pair has its own split and the same ``seed`` gives the same halves."""
    rng = np.random.default_rng(seed)
    halves = []
    for _ in range(n_pairs):
        train, test = splits(2, y, task, int(rng.integers(2**31 - 1)))
        halves += [train[0], test[0]]
    return np.stack(halves)


def stability_selection(X, y, *, hidden=(32,), task=None, n_pairs=25, lambdas=None, n_lambdas=12,
                        lambda_min_ratio=0.05, threshold=0.75, pfer=1.0, epochs=100, batch_size=32,
                        learning_rate=1e-3, patience=10, hidden_l2=1e-2, adaptive=True, sample_weight=None,
                        seed=None, verbose=1):
    """Stability selection of ``X``'s features for a network (complementary pairs, one fit).

    Every (strength, half-sample) member is an MLP whose first layer carries the group lasso
    ``lambda * sum_j ||W1[j]||_2`` (exact proximal step) and whose other kernels a fixed L2
    ``hidden_l2``, as ``fit_path(..., feature_selection=True)``. See the module doc for the
    bound on false selections.

    Which rows each choice sees:

    - *Half-samples*: ``n_pairs`` random splits into two disjoint halves (stratified by class
      for classification), seeded by ``seed``; a member trains on its half only,
      standardized with that half's statistics, from its half's network trained without
      the feature penalty.
    - *Epochs*: every member trains ``epochs`` epochs, so what it keeps is the penalized
      solution at its strength (an early-stopped member would still hold features on their
      way to zero from the dense start). Only the dense starts stop early: at the epoch where
      the mean loss of the *other* halves' networks, each on its complementary half, was best.
    - *The adaptive weights*: each half's first-fit member at the strength whose mean loss on
      the *other* halves' complements was best (the half's own complement never chooses).
    - *The grid*: from the strength at which no feature survives on all rows
      (:func:`kerasnet.path.features.group_lambda_max`) down to ``lambda_min_ratio`` of it.

    Parameters
    ----------
    X : array-like [n, d]
        Numeric features (a DataFrame's column names are kept).
    y : array-like [n]
    hidden : sequence of int, default (32,)
        Hidden layers (``()``: the linear group lasso).
    task : {"binary", "multiclass", "regression", "poisson"} or None
        None: inferred from ``y``. Not ``"cox"``, refused before anything trains (a Cox
        model's features: ``fit_path(X, y, task="cox").selected_features()``).
    n_pairs : int, default 25
        Complementary pairs (``2 * n_pairs`` members per strength; Shah & Samworth use 50).
    lambdas : sequence of float or None
        The strengths; None: ``n_lambdas`` log-spaced from ``lambda_max``.
    n_lambdas : int, default 12
    lambda_min_ratio : float, default 0.05
    threshold : float in (0.5, 1], default 0.75
        Selection probability a feature must reach within the region.
    pfer : float, default 1.0
        The expected number of false selections allowed: the region is the longest top part
        of the grid whose bound stays at or below it.
    epochs, batch_size, learning_rate : default 100, 32, 1e-3
        Every member's epochs (the dense starts stop early, up to ``epochs``).
    patience : int, default 10
        The dense starts' early stopping.
    hidden_l2 : float, default 1e-2
    adaptive : float, bool or None, default True
        The base procedure on each half: the adaptive group lasso (as ``fit_path(...,
        adaptive=)``; True is ``gamma`` = 1, a float that ``gamma``), feature ``j`` weighed by
        ``(max_k ||W1[k]|| / ||W1[j]||) ** gamma`` of the half's own member of a first
        group-lasso fit, at the strength whose mean loss on the *other* halves' complements was
        best. False or None: the plain group lasso (one fit; features that matter only
        together, such as an interaction, tend to enter with the noise).
    sample_weight : array [n] or None
    seed : int or None
    verbose : int, default 1

    Returns
    -------
    StabilitySelection

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> stable = stability_selection(X, y, n_pairs=10, seed=0, verbose=0)  # doctest: +SKIP
    >>> stable.selected_names_  # doctest: +SKIP
    """
    if task not in _TASKS:
        raise InputError(f"stability_selection supports task='binary', 'multiclass', 'regression' or "
                         f"'poisson' (or None: inferred from y); received task={task!r}. For a Cox model's "
                         f"features use fit_path(X, y, task='cox') and its selected_features().")
    hidden, seed = check_hidden(hidden), check_seed(seed)  # every setting before the data is read
    X, y, names = check_xy(X, y)
    task, y_enc, classes, n_outputs = encode_target(y, task)
    counts = {"n_pairs": n_pairs, "n_lambdas": n_lambdas, "epochs": epochs, "batch_size": batch_size,
              "patience": patience}
    _, lambda_min_ratio = check_settings(lambda_min_ratio, learning_rate, lambdas=lambdas, **counts)
    threshold = check_strength(threshold, "threshold")
    if not 0.5 < threshold <= 1:
        raise ValueError(f"threshold must be in (0.5, 1] (the bound needs more than half); received "
                         f"threshold={threshold!r}.")
    pfer = check_strength(pfer, "pfer")
    hidden_l2 = check_strength(hidden_l2, "hidden_l2")
    adaptive = adaptive_gamma(adaptive)
    n = len(y_enc)
    check_halves(y_enc, task, classes)
    weight = normalized_weights(sample_weight, n)
    halves = _half_samples(n_pairs, y_enc, task, seed)
    S = len(halves)
    network = mlp(X.shape[1], n_outputs, hidden, task, seed=seed, kernel_initializer=NumpyGlorotUniform(seed))
    sets = np.concatenate([halves, np.ones((1, n), bool)])
    plan = Plan(task, "deviance", y_enc, weight, halves, ~halves, None, None,
                Statistics(*path_statistics(Chunks.blocks(X), y_enc, task, sets, weight, True)), True,
                Training(LOSS[task], epochs, batch_size, "adam", learning_rate, seed=seed),
                StoppingRule(patience))
    rows = Rows.prepare(X, y_enc, weight)  # the rows on the device, once
    progress = Progress(verbose)
    try:
        lambdas, weights = _halves_path(plan, rows, network, hidden, lambdas, (n_lambdas, lambda_min_ratio),
                                        hidden_l2, adaptive, progress)
    except BaseException:
        progress.close(finished=False)  # no line for a phase an error or a Ctrl-C cut short
        raise
    progress.close()
    kept = np.stack([np.abs(np.asarray(w[0])).sum(axis=1) > 0 for w in weights])
    kept = MemberGrid.of(lambdas, S).cv_matrix(kept)  # [strengths, halves, features]
    return StabilitySelection(lambdas, kept, names, threshold, pfer)


def _halves_path(plan, rows, network, hidden, lambdas, grid_size, hidden_l2, adaptive, progress):
    """The group-lasso path of every half (and the adaptive one): ``(lambdas, weights [L * S])``.

    Each half's network starts from its dense network (trained without the feature penalty,
    early stopping on its complement), as the feature-selection path's members do.
    """
    S, stats = plan.F, plan.stats
    starts = None
    if hidden:
        starts = dense_starts(plan, rows, network, hidden_l2, progress)
        network.set_weights(starts[S])

    def top(factors=None):
        return group_lambda_max(network, rows, plan.training.loss, stats.x[0][-1], stats.x[1][-1],
                                y_scale=stats.y if plan.task == "regression" else None,
                                linear_gradient=None if hidden else stats.gradient,
                                seed=plan.training.seed or 0, factors=factors, from_empty=True)

    first_top = None
    if lambdas is None:
        first_top = top()
        lambdas = grid.lambda_grid(first_top, *grid_size)
    lambdas = np.sort(np.asarray(lambdas, float).ravel())[::-1]
    for value in lambdas:
        check_strength(float(value), "each of lambdas")
    members = MemberGrid.of(lambdas, S)  # member k: strength k // S, half k % S
    L, of = members.L, members.split

    def halves_fit(name, group):
        progress.phase(name, plan.training.epochs, (L, S))
        members = MemberSpec.of(np.zeros(L * S), np.full(L * S, hidden_l2), train=(plan.row_sets, of),
                                val=(plan.test_sets, of), streams=of, group=group, scaling=plan.scaling(of),
                                start=None if starts is None else (starts, of))
        return train(plan, network, rows, members, plan.training, None, progress)

    weights, fit = halves_fit("Pairs", lambdas[members.strength])
    if adaptive is not None:  # the adaptive group lasso on each half, weighed by its own first fit
        k = np.arange(L * S)
        held = members.cv_matrix(fit.val_loss[fit.best_epoch - 1, k])
        factors = adaptive_factors(members.cv_matrix(first_layer_norms(weights)), held,
                                   members.cv_matrix(fit.diverged), np.ones(S), lambdas, False, adaptive)
        if first_top is not None:
            tops = top(factors)
            # Each half's top differs with its factors: start where no half keeps a feature.
            lambdas = grid.lambda_grid(float(tops.max()) if (tops > 0).any() else first_top, *grid_size)
        scaled = lambdas[members.strength][:, None] * factors[of]
        weights, _ = halves_fit("Adapt", np.minimum(scaled, HOLD).astype("float32"))
    return lambdas, weights
