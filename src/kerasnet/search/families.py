"""Which stacked network a point of a search trains on, and the Keras model its refit becomes.

A *family* says how a search's points group into stacks (each one compiled program), builds a
group's stack (``network``, each point's ``start``, ``narrow`` back to the point's own weights),
and assembles a refit into a standalone Keras model. :class:`MLPFamily` is kerasnet's MLP (one
stack per depth, widths masked: :mod:`kerasnet.search.stack`); a KerasTuner build function's
family is :class:`kerasnet.search.hypermodel.HyperFamily`.
"""

from __future__ import annotations

import keras

from ..models import mlp, standalone_network
from .stack import Stack, stacks_of

__all__ = ["MLPFamily"]


class MLPFamily:
    """kerasnet's MLP: configurations of one depth in one stack, inputs (and a regression target)
    standardized with each member's training rows; the refit is :func:`kerasnet.mlp` of the point's
    width and dropout with Keras's ``L1L2``, standardizing inside the model."""

    #: The L1 part by its proximal step (exact zeros; a masked unit's zero weights stay zero).
    proximal = True
    #: Every kernel carries the penalty.
    penalized = None

    def __init__(self, n_features, n_outputs, task, seed, stats):
        self.n_features, self.n_outputs, self.task, self.seed = n_features, n_outputs, task, seed
        self.x_mean, self.x_scale = stats.x[0][-1], stats.x[1][-1]
        self.y_mean, self.y_scale = stats.y

    def groups(self, points):
        """``{depth: indices}``."""
        return stacks_of(points)

    def label(self, key):
        return f"{key} hidden layer{'s' * (key != 1)}"

    def stack(self, points):
        """The stack of ``points`` (one depth)."""
        return Stack.build(points, self.n_features, self.n_outputs, self.task, self.seed)

    def assemble(self, point, dense, fold=False):
        """The refit of ``point`` (its ``(kernel, bias)`` pairs) as a standalone compiled model
        (``fold``: the standardization folded into its first and last ``Dense`` layers)."""
        base = mlp(self.n_features, self.n_outputs, point.hidden, self.task,
                   penalty=keras.regularizers.L1L2(l1=point.lam * point.l1_ratio,
                                                   l2=point.lam * (1 - point.l1_ratio) / 2),
                   dropout=point.dropout)
        return standalone_network(base, dense, self.x_mean, self.x_scale, self.task, self.y_mean,
                                  self.y_scale, fold=fold)

    def inputs(self, X):
        """``X`` checked against the fit's columns."""
        from ..path.inputs import check_features

        return check_features(X, self.n_features)
