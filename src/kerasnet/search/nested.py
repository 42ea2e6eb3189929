"""Nested cross-validation of a whole search: outer folds around it, each search on its training rows.

The inner search (CV, choice, refit) sees only the outer training rows; its chosen network is then
scored on the outer test rows, which nothing in it saw. The outer folds' mean is an estimate of
what the procedure (search, choose, refit) scores on new rows, without the optimism of picking the
best of many CV means (Varma and Simon, 2006).
"""

from __future__ import annotations

import numpy as np

from ..path import measures
from ..path.folds import splits
from ..path.grid import cv_summary

__all__ = ["nested_estimate"]


def nested_estimate(search, X, y, weight, task, measure, outer, seed, verbose, settings, which="1se"):
    """``{"mean", "se", "folds", "chosen"}``: ``search`` on each of ``outer`` folds' training rows,
    its ``which`` refit scored by ``measure`` on the fold's test rows (weighted as the path's folds)."""
    import sys

    train_rows, test_rows = splits(outer, y, task, seed + 1)  # other folds than the inner ones
    scores, chosen = [], []
    for k, (tr, te) in enumerate(zip(train_rows, test_rows, strict=True)):
        if verbose:
            print(f"nested: outer fold {k + 1} of {len(train_rows)}", file=sys.stderr, flush=True)
        inner = search(X[tr], y[tr], sample_weight=weight[tr], verbose=verbose, nested=None, **settings)
        out = inner.outputs(X[te], which)
        scores.append(measures.fold_value(measure, task, y[te], out, weight[te]))
        chosen.append(inner.points_[inner.point_index(which)])
    folds = np.asarray(scores, float)
    mean, se = cv_summary(folds[None, :], weights=(test_rows * weight).sum(axis=1))
    return {"mean": float(mean[0]), "se": float(se[0]), "folds": folds, "chosen": chosen}
