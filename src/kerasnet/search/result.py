"""What a search found: every point's CV mean and SE, the best, the simplest within one SE, refits."""

from __future__ import annotations

import numpy as np

from ..path import measures
from .space import simplicity

__all__ = ["SearchResult"]


def _hidden_text(hidden):
    return "(" + ", ".join(str(h) for h in hidden) + ("," if len(hidden) == 1 else "") + ")"


class SearchResult:
    """The cross-validated points of :func:`kerasnet.search.search` (a configuration at one strength).

    Attributes
    ----------
    points_ : list of kerasnet.search.space.Config
    cv_mean_, cv_se_ : float arrays [P]
        Each point's CV ``measure`` (glmnet's ``cvm`` / ``cvsd``; NaN where a member diverged).
    cv_values_ : float array [P, F]
        Each point's score on each fold's test rows.
    cv_measures_ : dict of str to float array [P, F]
        Every measure of the task, each point on each fold.
    epochs_ : int array [P]
        The best epoch of each point's all-folds mean validation curve.
    epochs_trained_ : int array [P, F]
        Epochs each point's member on each fold trained (early stopping, dominated points).
    best_index_, simplest_index_ : int
        The best CV mean, and the simplest point within one SE of it
        (:func:`kerasnet.search.space.simplicity`).
    best_, simplest_ : kerasnet.search.space.Config
    optimism_ : float
        How much better the best point's CV mean looks than the procedure's own expected score
        on new rows: Tibshirani and Tibshirani's (2009) estimate, the fold-weighted mean over
        folds of the gap between the best point's score on fold ``f`` and the best score any point
        reached on fold ``f``. 0 with a single point.
    nested_ : dict or None
        With ``nested``: ``mean``, ``se`` and ``folds`` (the outer folds' scores of the chosen
        network, refit on the outer training rows) and ``chosen`` (each outer fold's choice).
    refits_ : dict of int to (dense weights, epochs, diverged)
        The best's and the simplest's networks on all rows.
    """

    def __init__(self, points, scored, plan, classes, names, n_configs, family):
        self.points_, self.task, self.measure = list(points), plan.task, plan.measure
        self.classes_, self.feature_names_, self.n_configs = classes, list(names), int(n_configs)
        self.cv_measures_ = scored["values"]
        self.cv_values_ = scored["values"][plan.measure]
        self.cv_mean_, self.cv_se_ = scored["summary"]
        self.epochs_ = scored["epochs"]
        self.epochs_trained_ = scored.get("trained")
        self.fold_weights_ = plan.fold_weights
        self.n_splits = plan.F
        self.greater_is_better = measures.greater_is_better(plan.measure)
        self.family = family
        self.best_index_ = self._best()
        self.simplest_index_ = self._simplest()
        self.best_, self.simplest_ = self.points_[self.best_index_], self.points_[self.simplest_index_]
        self.optimism_ = self._optimism()
        self.nested_, self.refits_ = None, {}

    def _score(self, values):
        """Values as a score where higher is better."""
        return np.asarray(values, float) * (1 if self.greater_is_better else -1)

    def _best(self):
        score = self._score(self.cv_mean_)
        if np.all(np.isnan(score)):
            raise ValueError("every point of the search diverged; lower the learning rates.")
        ties = np.flatnonzero(score == np.nanmax(score))
        return int(min(ties, key=lambda i: simplicity(self.points_[i])))

    def _simplest(self):
        score, b = self._score(self.cv_mean_), self.best_index_
        within = np.flatnonzero(score >= score[b] - self.cv_se_[b])  # NaN is never within
        return int(min(within, key=lambda i: simplicity(self.points_[i])))

    def _optimism(self):
        values = self._score(self.cv_values_)
        values = values[np.isfinite(self.cv_mean_)]
        gap = np.nanmax(values, axis=0) - self._score(self.cv_values_[self.best_index_])
        return float(np.average(gap, weights=self.fold_weights_))

    def point_index(self, which):
        """The index into ``points_`` of ``which`` ("1se"/"simplest" or "min"/"best")."""
        if which in ("1se", "simplest"):
            return self.simplest_index_
        if which in ("min", "best"):
            return self.best_index_
        raise ValueError(f"which must be '1se' (the simplest within one SE) or 'min' (the best); received "
                         f"{which!r}.")

    def to_frame(self):
        """One row per point, in grid order: its settings, CV mean and SE, epochs, and which rule chose it."""
        import pandas as pd

        chosen = np.full(len(self.points_), "", dtype=object)
        chosen[self.best_index_] = "min"
        chosen[self.simplest_index_] = "1se" if self.simplest_index_ != self.best_index_ else "min,1se"
        frame = pd.DataFrame([p.as_dict() for p in self.points_])
        frame["hidden"] = [_hidden_text(p.hidden) for p in self.points_]
        frame[f"cv_{self.measure}"], frame[f"cv_{self.measure}_se"] = self.cv_mean_, self.cv_se_
        frame["epochs"], frame["selected"] = self.epochs_, chosen
        return frame

    def summary(self, top=10):
        """The ``top`` points by CV mean (best first), and the simplest within one SE if not among them."""
        frame = self.to_frame()
        order = np.argsort(-np.nan_to_num(self._score(self.cv_mean_), nan=-np.inf), kind="stable")
        shown = list(order[:top])
        if self.simplest_index_ not in shown:
            shown.append(self.simplest_index_)
        frame = frame.iloc[shown]
        frame.index = [int(i) + 1 for i in shown]
        return frame

    def model(self, which="1se", fold=False):
        """The refit network of ``which`` ("1se": the simplest within one SE; "min": the best) as
        a standalone, compiled Keras model. kerasnet's MLP: :func:`kerasnet.mlp` of its width and
        dropout with Keras's own ``L1L2`` at its strength, preceded by a ``Normalization`` of the
        training rows' mean and variance (for regression followed by a ``Rescaling`` back to
        ``y``'s units), as :meth:`kerasnet.Path.model`. A build function's: your model built from
        the point's values, with the refit's weights. ``fold``: the MLP's standardization folded into
        its first and last ``Dense`` layers instead (:meth:`kerasnet.Path.model`'s ``fold``)."""
        i = self.point_index(which)
        weights, _, diverged = self.refits_[i]
        if diverged:
            raise ValueError(f"the refit of point {i + 1} diverged; choose the other rule.")
        return self.family.assemble(self.points_[i], weights, fold=fold)

    def outputs(self, X, which="1se"):
        """The model's outputs on raw ``X``: probabilities, or values in ``y``'s units."""
        return self.model(which).predict(self.family.inputs(X), verbose=0)

    def predict(self, X, which="1se"):
        """Class labels or values of :meth:`model` on raw ``X``."""
        out = self.outputs(X, which)
        if self.task == "binary":
            return self.classes_[(out[:, 0] > 0.5).astype(int)]
        if self.task == "multiclass":
            return self.classes_[np.argmax(out, axis=1)]
        return out[:, 0] if out.shape[1] == 1 else out

    def __str__(self):
        P, C = len(self.points_), self.n_configs
        counted = f"{C} configuration{'s' * (C != 1)}" + (f" at {P} points with their strengths"
                                                            if P != C else "")
        head = (f"kerasnet search, task={self.task}, measure={self.measure}: {counted}, x {self.n_splits} "
                "folds")
        table = self.summary().to_string(float_format=lambda v: f"{v:.4g}")
        return "\n\n".join([head, table, self.conclusion()])

    def conclusion(self, nested_hint="search(..., nested=5)"):
        """What the search says, in sentences: the choices, the optimism of the best, the nested estimate
        (``nested_hint``: how to ask for one, when there is none)."""
        b, s = self.best_index_, self.simplest_index_
        lines = [f"best (min): point {b + 1}, CV {self.measure} {self.cv_mean_[b]:.4g} +- "
                 f"{self.cv_se_[b]:.4g}.",
                 f"simplest within one SE (1se): point {s + 1}, CV {self.measure} {self.cv_mean_[s]:.4g} +- "
                 f"{self.cv_se_[s]:.4g}."]
        if len(self.points_) > 1:
            direction = "lower" if self.greater_is_better else "higher"
            lines.append(f"The best of {len(self.points_)} points is optimistic: expect its {self.measure} "
                         f"on new rows about {self.optimism_:.3g} {direction} than its CV mean "
                         f"(Tibshirani and Tibshirani's estimate from the folds)"
                         + ("." if self.nested_ else f"; {nested_hint} measures it."))
        if self.nested_:
            n = self.nested_
            lines.append(f"Nested CV ({len(n['folds'])} outer folds around the whole search, the 1se "
                         f"choice): {self.measure} {n['mean']:.4g} +- {n['se']:.4g}.")
        return "\n".join(lines)

    def __repr__(self):
        return (f"SearchResult(task={self.task!r}, points={len(self.points_)}, measure={self.measure!r}, "
                f"best={self.cv_mean_[self.best_index_]:.4f})")
