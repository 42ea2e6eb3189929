"""Weighted standardization: one computation of each column's mean and sd, one rule for a constant column.

Every place kerasnet standardizes computes its statistics here: the path (each member's
inputs and regression target, in memory or streamed in chunks, :mod:`kerasnet.path.standardize`),
the data-derived grid of a user's model, the :class:`~kerasnet.Preprocessor`'s numeric columns
and the one-strength estimators.

The rule for a constant column
------------------------------
A column is *constant* when every row of positive weight holds the same value. Its mean is that
value, exactly, and its scale 1, so it standardizes to exactly 0 (it carries no information, and 1
keeps it at 0 rather than NaN). Any other column is divided by its weighted (population) sd,
however small: a real spread is never mistaken for a constant.

This is the path's rule (``sd`` where ``sd > 0``, else 1: the rule the recorded golden paths were
fit with), made exact: the moments are computed of the values minus one of the set's own values,
so a constant column's deviations are exactly 0 and its sd exactly 0, whatever its mean would
round to (the mean of sixty 0.1s is not 0.1 in floating point, and the sd of that rounding,
4e-17, would blow the column up). The Preprocessor's former special case (``min == max``) and the
estimators' former threshold (scikit-learn's ``StandardScaler``, ``sd < 10 eps max(1, |mean|)``)
are this rule now; they differed only on columns spread by less than ~1e-15 of their mean.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLOCK", "Moments", "weighted_moments"]

#: Rows per block when summing: float64 temporaries stay blocks x columns, not rows x columns.
BLOCK = 65536


class Moments:
    """Running weighted mean and sd of the columns of row blocks, in float64.

    Each block's moments are computed in two passes and merged with Chan et al.'s pairwise
    update, so any split of the rows into blocks gives the two-pass result (to rounding). The
    values are shifted by the first row of positive weight (per column) before anything is
    summed: a constant column's deviations are then exactly zero (see the module's rule).

    Examples
    --------
    >>> m = Moments()
    >>> m.add(np.full((60, 1), 0.1), np.ones(60))
    >>> mean, scale = m.result()
    >>> float(mean[0]) == 0.1, float(scale[0])
    (True, 1.0)
    """

    def __init__(self):
        self.total = 0.0
        self.shift = self.mean = self.m2 = None  # mean and m2 are of the shifted values

    def add(self, x, weight):
        """Merge the rows ``x [n, d]`` (any float dtype) with weights ``weight [n]`` (0: left out)."""
        x = np.asarray(x, "float64")
        x = x.reshape(x.shape[0], int(np.prod(x.shape[1:])))
        w = np.asarray(weight, "float64")
        if self.mean is None:
            self.shift, self.mean, self.m2 = (np.zeros(x.shape[1]) for _ in range(3))
        part = w.sum()
        if not part > 0:
            return
        if self.total == 0:
            self.shift = x[int(np.flatnonzero(w > 0)[0])].copy()
        x = x - self.shift  # a new array: the caller's stays as it is
        part_mean = w @ x / part
        x -= part_mean
        part_m2 = w @ np.square(x, out=x)
        both = self.total + part
        delta = part_mean - self.mean
        self.mean = self.mean + delta * (part / both)
        self.m2 = self.m2 + part_m2 + np.square(delta) * (self.total * part / both)
        self.total = both

    def result(self):
        """``(mean, scale)`` as float64 ``[d]``: the weighted mean and the population sd, 1 where the
        column is constant (and 0 and 1 for a column that saw no row of positive weight)."""
        sd = np.sqrt(self.m2 / self.total) if self.total > 0 else np.zeros_like(self.m2)
        return self.shift + self.mean, np.where(sd > 0, sd, 1.0)


def weighted_moments(values, weight=None):
    """Weighted column means and sds of ``values [n, ...]`` (flattened to ``[n, d]``), in float64.

    ``weight [n]`` (None: every row 1; 0: the row is left out). The scale is the population sd,
    1 where the column is constant (the module's rule); summed in blocks of :data:`BLOCK` rows.

    Examples
    --------
    >>> mean, scale = weighted_moments(np.array([[1.0, 2.0], [3.0, 2.0]]), np.array([1.0, 3.0]))
    >>> mean.tolist(), scale.round(6).tolist()
    ([2.5, 2.0], [0.866025, 1.0])
    """
    n = len(values)
    weight = np.ones(n) if weight is None else np.asarray(weight, "float64")
    moments = Moments()
    for a in range(0, max(n, 1), BLOCK):
        moments.add(values[a:a + BLOCK], weight[a:a + BLOCK])
    return moments.result()
