"""Cross-validating ``l1_ratio`` too: one path per value on the same splits (glmnet's ``cva.glmnet``).

``fit_path(X, y, l1_ratio=[0.1, 0.5, 1.0])`` fits the path of each value, as scikit-learn's
``ElasticNetCV(l1_ratio=[...])`` and glmnet's ``cva.glmnet`` do, and returns a :class:`RatioPaths`:
the pair (``l1_ratio``, strength) with the best CV mean over every path, and glmnet's one-standard-error
rule at that ``l1_ratio``.

Every value's path is cross-validated on exactly the same splits (the first path's, given to the
others as ``(train, test)`` pairs) from the same initial weights (one seed, drawn once when none is
given), so their CV curves differ by the penalty alone and are comparable fold by fold. Each value has
its own grid of strengths (its top is where *its* network empties, as ``lambda_max`` depends on
``alpha`` in glmnet). Each value's path is its own stacked fit; they share compiled programs, since a
strength's ``l1`` and ``l2`` are per-member inputs of the same step, not part of its shape.

Which rows each choice uses: every path's own choices are :func:`kerasnet.fit_path`'s (out-of-fold
only); the choice of ``l1_ratio`` compares those out-of-fold CV means. The winner's CV mean is then
the best of several, so it is an optimistic estimate of its error, the more so the more values
compete (as for the strength itself); score the chosen model on rows none of this saw to report it.
"""

from __future__ import annotations

import sys

import numpy as np

from ..errors import InputError

__all__ = ["RatioPaths", "check_ratios", "fit_ratio_paths"]


def check_ratios(l1_ratio):
    """A sequence of ``l1_ratio`` values as a tuple of floats in [0, 1], distinct, at least two;
    None for a single value (a number, or a sequence of one); InputError naming the fix."""
    if np.ndim(l1_ratio) == 0:  # one value (a string too: the single value's check words its error)
        return None
    try:
        values = [float(v) for v in l1_ratio]
    except (TypeError, ValueError):
        raise InputError("l1_ratio must be a number in [0, 1] or a sequence of them; received "
                         f"l1_ratio={l1_ratio!r}.") from None
    if not values:
        raise InputError("l1_ratio is an empty sequence; give a number in [0, 1] or at least one value.")
    bad = [v for v in values if not 0.0 <= v <= 1.0]  # NaN fails both
    if bad:
        raise InputError(f"every l1_ratio must be in [0, 1]; received {bad[0]!r} in l1_ratio={values}.")
    if len(set(values)) != len(values):
        raise InputError(f"l1_ratio has a repeated value ({values}); give each value once.")
    return tuple(values) if len(values) > 1 else None


def fit_ratio_paths(fit, X, y, ratios, *, seed, cv, foldid, groups, **settings):
    """A :class:`RatioPaths`: ``fit(X, y, l1_ratio=r, ...)`` (:func:`kerasnet.fit_path`) for every
    ``r`` in ``ratios`` on the first path's splits, with one seed."""
    if seed is None:  # one draw for every path: the same folds and initial weights for each value
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    paths, pairs = [], None
    for k, ratio in enumerate(ratios):
        if settings.get("verbose", 1):  # which value the progress lines below belong to
            print(f"l1_ratio {ratio:g} ({k + 1} of {len(ratios)})", file=sys.stderr, flush=True)
        # The first value's splits as the user gave them; every later value gets exactly those rows.
        given = {"cv": cv, "foldid": foldid, "groups": groups} if pairs is None else {"cv": pairs}
        paths.append(fit(X, y, l1_ratio=ratio, seed=seed, **given, **settings))
        if pairs is None:
            pairs = [(np.flatnonzero(a), np.flatnonzero(b)) for a, b in zip(*paths[0].cv_rows_, strict=True)]
    return RatioPaths(ratios, paths)


class RatioPaths:
    """Regularization paths at several ``l1_ratio`` values on the same CV splits
    (``fit_path(X, y, l1_ratio=[...])``; :mod:`kerasnet.path.ratios`).

    Attributes
    ----------
    l1_ratios_ : ndarray [R]
        The values, in the order given.
    paths_ : list of Path
        Each value's path (its own grid, CV curve, choices and refits).
    index_ : int
        The value whose path holds the best CV mean of all (the first of equals).
    l1_ratio_ : float
        That value; ``best_`` is its path.
    lambda_min_, lambda_1se_ : float
        ``best_``'s: the strength of the best CV mean over every (``l1_ratio``, strength) pair, and
        the largest strength at ``l1_ratio_`` whose CV mean is within one standard error of it
        (glmnet's rule, at the chosen value).
    measure, greater_is_better, task : as :class:`kerasnet.Path`'s.
    """

    def __init__(self, ratios, paths):
        self.l1_ratios_ = np.asarray(ratios, float)
        self.paths_ = list(paths)
        first = self.paths_[0]
        self.measure, self.greater_is_better, self.task = first.measure, first.greater_is_better, first.task
        sign = -1.0 if self.greater_is_better else 1.0
        best = np.array([sign * p.cv_mean_[p.index_min_] for p in self.paths_])
        self.index_ = int(np.nanargmin(np.where(np.isfinite(best), best, np.inf)))
        self.best_ = self.paths_[self.index_]
        self.l1_ratio_ = float(self.l1_ratios_[self.index_])
        self.lambda_min_, self.lambda_1se_ = self.best_.lambda_min_, self.best_.lambda_1se_

    def comparison_text(self):
        """One sentence: which values the chosen one beats by more than its CV standard error at
        ``lambda_min`` (the path's own rule for baselines), and which are within it."""
        best = self.best_
        mean, se = best.cv_mean_[best.index_min_], best.cv_se_[best.index_min_]
        sign = 1.0 if self.greater_is_better else -1.0
        close, beaten = [], []
        for k, (ratio, p) in enumerate(zip(self.l1_ratios_, self.paths_, strict=True)):
            if k != self.index_:
                gap = sign * (mean - p.cv_mean_[p.index_min_])
                (beaten if gap > se else close).append(f"{ratio:g}")
        chosen = f"l1_ratio {self.l1_ratio_:g} (CV {self.measure} {mean:.4g} +- {se:.4g})"
        if not close:
            return f"{chosen} beats every other value by more than one standard error."
        text = (f"{chosen} is within one standard error of l1_ratio {', '.join(close)}: the folds do not "
                "tell these apart")
        return text + (f"; it beats {', '.join(beaten)} by more than one." if beaten else ".")

    def model(self, lam="1se", **options):
        """The chosen value's Keras model at ``lam`` (:meth:`kerasnet.Path.model` of ``best_``)."""
        return self.best_.model(lam, **options)

    def predict(self, X, lam="1se", **options):
        """Predictions of the chosen value's path at ``lam`` (:meth:`kerasnet.Path.predict` of ``best_``)."""
        return self.best_.predict(X, lam, **options)

    def selected_features(self, lam="1se", **options):
        """The features the chosen value's network keeps at ``lam`` (``best_.selected_features``)."""
        return self.best_.selected_features(lam, **options)

    def summary(self):
        """One row per ``l1_ratio``: its path's ``lambda_min``, the CV measure there with its standard
        error, its Df, its ``lambda_1se`` with its CV measure and Df; the chosen value is marked."""
        import pandas as pd

        rows = []
        for ratio, p in zip(self.l1_ratios_, self.paths_, strict=True):
            i, j = p.index_min_, p.index_1se_
            rows.append({"l1_ratio": ratio, "lambda_min": p.lambda_min_, f"CV {self.measure}": p.cv_mean_[i],
                         "SE": p.cv_se_[i], f"Df ({p.df_name_})": p.df_[i], "lambda_1se": p.lambda_1se_,
                         f"CV {self.measure} at 1se": p.cv_mean_[j], "Df at 1se": p.df_[j]})
        frame = pd.DataFrame(rows)
        frame["chosen"] = np.where(np.arange(len(rows)) == self.index_, "best", "")
        frame.index = np.arange(1, len(frame) + 1)
        return frame

    def to_frame(self):
        """Every path's :meth:`kerasnet.Path.to_frame`, one after the other, with an ``l1_ratio`` column."""
        import pandas as pd

        parts = [p.to_frame().assign(l1_ratio=r) for r, p in zip(self.l1_ratios_, self.paths_, strict=True)]
        frame = pd.concat(parts, ignore_index=True)
        return frame[["l1_ratio", *[c for c in frame.columns if c != "l1_ratio"]]]

    def plot(self, ax=None):
        """Draw one CV curve (+-1 SE) per ``l1_ratio`` against the strength on one Axes, each value's
        ``lambda_min`` marked and the chosen pair circled; returns the Axes.

        Parameters
        ----------
        ax : matplotlib Axes or None
            None: a new pyplot figure (so ``plt.savefig`` saves it).
        """
        from .measures import label

        if ax is None:
            import matplotlib.pyplot as plt

            ax = plt.figure(figsize=(6.0, 4.0), layout="constrained").add_subplot()
        for ratio, p in zip(self.l1_ratios_, self.paths_, strict=True):
            line = ax.errorbar(p.lambdas_, p.cv_mean_, yerr=p.cv_se_, fmt="o-", markersize=3, capsize=2,
                               linewidth=1, label=f"l1_ratio {ratio:g}")[0]
            ax.plot([p.lambda_min_], [p.cv_mean_[p.index_min_]], "v", color=line.get_color(), markersize=8)
        best = self.best_
        ax.plot([best.lambda_min_], [best.cv_mean_[best.index_min_]], "o", markersize=14, fillstyle="none",
                color="black", label=f"best: l1_ratio {self.l1_ratio_:g}")
        ax.set_xscale("log")
        ax.set_xlabel("lambda (strength)")
        ax.set_ylabel(f"CV {label(self.measure)}")
        ax.legend(fontsize="small")
        return ax

    def __str__(self):
        head = (f"kerasnet paths over l1_ratio {', '.join(f'{r:g}' for r in self.l1_ratios_)}, "
                f"task={self.task}, measure={self.measure}: l1_ratio {self.l1_ratio_:g}, "
                f"lambda_min {self.lambda_min_:.4g}, lambda_1se {self.lambda_1se_:.4g}")
        table = self.summary().to_string(float_format=lambda v: f"{v:.4g}")
        note = ("Every value was cross-validated on the same splits; the chosen value's CV mean is the "
                "best of several, so it is optimistic: score the model on rows none of this saw.")
        return f"{head}\n\n{table}\n\n{self.comparison_text()}\n{note}"

    def __repr__(self):
        best = self.best_
        return (f"RatioPaths(l1_ratios_={[float(r) for r in self.l1_ratios_]}, l1_ratio_={self.l1_ratio_:g}, "
                f"lambda_min_={self.lambda_min_:.4g}, lambda_1se_={self.lambda_1se_:.4g}, "
                f"measure={self.measure!r}, cv_best={best.cv_mean_[best.index_min_]:.4f})")
