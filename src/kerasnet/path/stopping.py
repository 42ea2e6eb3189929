"""Per-member early stopping for stacked fits, vectorized over members (pure numpy).

Two rules, both watching one validation curve per member after every epoch (the engine
passes the validation objective, data loss + penalty as Keras's ``val_loss``, or the data
loss alone: :func:`kerasnet.path.engine.fit_members`'s ``monitor``):

* **own** (no groups): a member stops after ``patience`` epochs without improving its own
  validation objective and keeps its best weights, as Keras's ``EarlyStopping`` with
  ``restore_best_weights=True``. Its best epoch is chosen on the rows it is scored on, so
  its best score is optimistic; the path does not use this rule for its CV scores.
* **cross-fit** (``groups``): the members of a group are the CV folds of one strength. For
  member ``f`` the curve that decides is the *other* folds' weighted mean objective (leave
  fold ``f`` out): its epoch ``e*(-f)`` is the best epoch of that curve up to the first
  time the curve went ``patience`` epochs without improving, and member ``f`` keeps its
  weights of epoch ``e*(-f)``. Neither the epoch nor the end of the search depends on fold
  ``f``'s own rows, so the member's score on fold ``f`` at that epoch is an honest
  out-of-sample number. The group trains until every leave-one-out curve has stopped.
  The all-folds mean curve's best epoch (``chosen_epoch``) sets the refit's length.

With ``min_delta`` > 0 a curve must fall by more than ``min_delta`` times its value at its
last such fall to reset the patience count (a curve still creeping down by a hair counts as
stalled); the kept weights are still those of its lowest point. ``min_delta=0`` (the
default, Keras's) counts any decrease.

With ``warmup`` > 0 the first ``warmup`` epochs are neither candidates nor counted: every
member keeps its latest weights and none stops until epoch ``warmup``, from which the rules
above start (that epoch is every curve's first best). A fixed number, so no fold's rows
choose it.

**Dominated strengths** (``dominance``, cross-fit only): the members of a group compare
their leave-one-out curve with the same fold's leave-one-out curves of the other groups (the
other strengths). Member ``(i, f)`` stops as dominated when, ``patience`` epochs or more into
the watched epochs,

    best_i(-f) - fall_i(-f) * (epochs left) / patience  >  best_*(-f) + se_*(-f),

where ``best_i(-f)`` is the lowest point so far of strength ``i``'s curve without fold ``f``,
``fall_i(-f)`` how much that lowest point fell in the last ``patience`` epochs, ``epochs
left`` what the budget leaves, ``best_*(-f)`` the lowest of all strengths' curves without
fold ``f`` (the leader's) and ``se_*(-f)`` the leader's standard error over the other folds
at its lowest point (glmnet's ``cvsd``). That is, even if the curve kept falling at its
present rate to the end of the budget (a curve that flattens falls less), it would not come
within one standard error of the leader: it can become neither the minimum nor the
one-standard-error choice. The member keeps its best weights, as when its curve stalls, and a
group stops when every member has stopped one way or the other. The decision for member
``(i, f)`` reads no validation value of fold ``f``, so its score there stays out of sample.
Strengths that cannot win are the ones that linger: a strongly penalized network still
creeping towards the null model trains for hundreds of epochs, while the weakly penalized
ones stop early by themselves (they overfit). With fewer than three folds there is no
standard error without fold ``f``, and the rule is off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EarlyStopping", "StoppingRule"]


@dataclass(frozen=True)
class StoppingRule:
    """How a stacked fit stops its members early (None in its place: every member trains its
    budget and keeps its last weights).

    Attributes
    ----------
    patience : int
        Epochs without progress before a curve stops.
    min_delta : float
        Relative decrease that counts as progress (0: any decrease, as Keras).
    monitor : {"val_objective", "val_loss"}
        The curve watched: the validation objective (data loss + penalty, Keras's
        ``val_loss``) or the validation data loss alone (what a CV measure scores).
    warmup : int
        The curves are watched from this epoch on (earlier epochs are never kept).
    dominance : bool
        Stop the members of a cross-fit group whose curve cannot come within one standard
        error of the best group's by the end of the budget (the module's "dominated
        strengths").
    """

    patience: int = 10
    min_delta: float = 0.0
    monitor: str = "val_objective"
    warmup: int = 0
    dominance: bool = False

    def __post_init__(self):
        if self.monitor not in ("val_objective", "val_loss"):
            raise ValueError(f"monitor must be 'val_objective' or 'val_loss'; received {self.monitor!r}.")


class EarlyStopping:
    """Vectorized early-stopping state of ``K`` members.

    Parameters
    ----------
    validated : bool array [K]
        Members with validation rows; the others are never stopped early and keep their
        latest weights.
    patience : int
    groups : int array [K] or None
        Cross-fit groups (``-1``: in no group, stopped by its own curve). None: every member
        is stopped by its own curve.
    fold_weight : float array [K] or None
        Weight of each member's validation fold in its group's mean (its rows' total sample
        weight, as glmnet weighs folds); None weighs folds equally.
    enabled : bool, default True
        False: nothing stops early; best epochs are still recorded.
    min_delta : float, default 0.0
        Relative decrease of a curve that counts as progress for the patience count.
    warmup : int, default 0
        Epochs (1-based count) before the curves are watched: epochs ``1 .. warmup - 1``
        are never best and never stop a member.
    folds : int array [K] or None
        Each member's validation fold (members of one fold in different groups share it).
    budget : int or None
        The epochs members train at most. With ``folds`` (and ``enabled``): stop dominated
        groups' members (the module's "dominated strengths"); None: never.
    """

    def __init__(self, validated, patience, groups=None, fold_weight=None, enabled=True, min_delta=0.0,
                 warmup=0, folds=None, budget=None):
        self.validated = np.asarray(validated, bool)
        K = len(self.validated)
        self.patience, self.enabled = int(patience), bool(enabled)
        self.groups = np.full(K, -1) if groups is None else np.asarray(groups, int)
        self.grouped = (self.groups >= 0) & self.validated
        self.fold_weight = np.ones(K) if fold_weight is None else np.asarray(fold_weight, float)
        self.n_groups = int(self.groups.max()) + 1 if self.grouped.any() else 0
        self.best = np.full(K, np.inf)
        self.min_delta = float(min_delta)
        self.warmup = int(warmup) if enabled else 0
        self.anchor = np.full(K, np.inf)  # the value at the last fall by more than min_delta
        self.best_epoch = np.zeros(K, int)
        self.wait = np.zeros(K, int)
        self.frozen = np.zeros(K, bool)  # cross-fit members whose leave-one-out curve has stopped
        self.group_best = np.full(max(self.n_groups, 1), np.inf)
        self.group_best_epoch = np.zeros(max(self.n_groups, 1), int)
        self.folds = None if folds is None else np.asarray(folds, int)
        self.budget = None if not enabled or folds is None or budget is None else int(budget)
        self.epoch = 0
        self.best_se = np.full(K, np.inf)  # the standard error of a member's curve at its lowest point
        self.lows = []  # the lowest points of the last ``patience`` epochs, for each curve's fall
        self.dominated = np.zeros(K, bool)

    def _curves(self, objective):
        """Each grouped member's leave-one-out mean of its group's curves, that mean's standard
        error over the other folds (glmnet's ``cvsd``), and each group's all-folds mean."""
        g = np.where(self.grouped, self.groups, 0)
        w = np.where(self.grouped, self.fold_weight, 0.0)
        value = np.where(self.grouped, objective, 0.0)
        total = np.bincount(g, weights=w * value, minlength=self.n_groups)
        weight = np.bincount(g, weights=w, minlength=self.n_groups)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            square = np.bincount(g, weights=w * value ** 2, minlength=self.n_groups)
            others = np.bincount(g, weights=self.grouped, minlength=self.n_groups)[g] - 1
            loo = (total[g] - w * value) / (weight[g] - w)
            spread = (square[g] - w * value ** 2) / (weight[g] - w) - loo ** 2
            se = np.sqrt(np.maximum(spread, 0.0) / (others - 1))
            full = total / weight
        return loo, np.where(others >= 2, se, np.nan), full

    def update(self, epoch, objective, running):
        """Record epoch ``epoch`` (0-based); return ``(keep, stop)`` member masks.

        ``keep``: members whose current weights become their kept weights. ``stop``: members
        that must stop training now.
        """
        objective = np.asarray(objective, float)
        self.epoch = epoch + 1
        if epoch + 1 < self.warmup:  # the start's weights still show: nothing is chosen or stopped yet
            keep = running.copy()
            self.best_epoch = np.where(keep, epoch + 1, self.best_epoch)
            return keep, np.zeros(len(objective), bool)
        value, watching = objective, running & self.validated & ~self.grouped
        if self.n_groups:
            loo, se, full = self._curves(objective)
            value = np.where(self.grouped, loo, objective)
            watching = watching | (running & self.grouped & ~self.frozen)
            # A diverged fold (NaN objective) ends its whole strength: no honest curve is left.
            bad = ~np.isfinite(objective[self.grouped])
            broken = np.bincount(self.groups[self.grouped], weights=bad, minlength=self.n_groups) > 0
            heads = np.isfinite(full) & (full < self.group_best) & ~broken
            self.group_best = np.where(heads, full, self.group_best)
            self.group_best_epoch = np.where(heads, epoch + 1, self.group_best_epoch)
        improved = watching & (value < self.best)
        unvalidated = running & ~self.validated
        self.best = np.where(improved, value, self.best)
        if self.n_groups:
            self.best_se = np.where(improved & self.grouped, se, self.best_se)
        self.best_epoch = np.where(improved | unvalidated, epoch + 1, self.best_epoch)
        with np.errstate(invalid="ignore"):  # 0 * inf: no anchor yet, any finite value is progress
            threshold = np.where(np.isfinite(self.anchor),
                                 self.anchor - self.min_delta * np.abs(self.anchor), np.inf)
        progressed = watching & (value < threshold)
        self.anchor = np.where(progressed, value, self.anchor)
        self.wait = np.where(progressed, 0, self.wait + watching)
        keep, stop = improved | unvalidated, np.zeros(len(objective), bool)
        if not self.enabled or epoch == 0 or epoch + 1 == self.warmup:
            return keep, stop
        stop |= running & self.validated & ~self.grouped & (self.wait >= self.patience)
        if self.n_groups:
            dominated = self._dominated(running)
            self.dominated |= dominated
            self.frozen |= dominated | (running & self.grouped & (self.wait >= self.patience))
            index = np.where(self.grouped, self.groups, 0)
            still_open = np.bincount(index, weights=self.grouped & ~self.frozen, minlength=self.n_groups) > 0
            stop |= self.grouped & (~still_open | broken)[index]
        return keep, stop

    def _dominated(self, running):
        """Members whose curve, falling at its last rate to the end of the budget, stays above
        the leader's lowest point plus one standard error, all without their own fold."""
        self.lows.append(self.best.copy())
        if len(self.lows) > self.patience + 1:
            self.lows.pop(0)
        dominated = np.zeros(len(self.best), bool)
        if self.budget is None or self.n_groups < 2 or len(self.lows) <= self.patience:
            return dominated
        rivals = self.grouped & np.isfinite(self.best) & np.isfinite(self.best_se)
        if not rivals.any():
            return dominated
        fold = np.where(self.grouped, self.folds, 0)
        # The leader of each fold's curves: the member of that fold with the lowest point.
        order = np.lexsort((self.best, fold))
        order = order[rivals[order]]
        first = np.unique(fold[order], return_index=True)
        lead = np.full(fold.max() + 1, np.nan)
        lead[first[0]] = (self.best + self.best_se)[order[first[1]]]
        with np.errstate(invalid="ignore"):  # inf - inf: a curve still falling from its start
            floor = self.best - (self.lows[0] - self.best) * (self.budget - self.epoch) / self.patience
            dominated = running & self.grouped & ~self.frozen & (floor > lead[fold])
        return dominated

    def chosen_epoch(self):
        """Per member: its group's all-folds best epoch (grouped), else its own best epoch."""
        g = np.where(self.grouped, self.groups, 0)
        return np.where(self.grouped, self.group_best_epoch[g] if self.n_groups else 0, self.best_epoch)
