"""Each member's losses and outputs on all rows at given weights: inference passes, no training.

The path's deviance explained (glmnet's ``dev.ratio``), the Cox grouped deviance and the grid's
emptiness checks read the members' outputs on all rows of the prepared
:class:`~kerasnet.path.rows.Rows`, chunk by chunk, through the same runner as
:func:`kerasnet.path.engine.fit_members`.
"""

from __future__ import annotations

import numpy as np

from . import buckets
from .member_state import initial_state, member_settings, optimizer_copy
from .members import MemberSpec, Training
from .rows import validation_losses, validation_outputs
from .runners import runner_for

__all__ = ["member_losses", "member_outputs"]


def _inference(model, rows, weights, loss, scaling):
    K = len(weights)
    if rows.padded_features is not None:  # a bucket of members, copies of the first (dropped)
        index = buckets.padded_index(K)
        weights, K = [weights[i] for i in index], len(index)
        scaling = None if scaling is None else scaling.take(index)
    members = MemberSpec.of(np.zeros(K), scaling=scaling, start=(weights, np.arange(K)))
    training = Training(loss)
    wide = buckets.widen(model, rows, members, training)
    if wide is not None:
        model, members, training = wide.model, wide.members, wide.training
    runner, step = runner_for(model, optimizer_copy("adam", None), loss, None, False)
    state = initial_state(model, step, K, np.zeros(K, int), 0, start=(members.starts, np.arange(K)))
    settings = member_settings(np.zeros(K, "float32"), np.zeros(K, "float32"), members.scaling)
    return rows, np.ones((1, rows.n), bool), np.zeros(K, int), runner, state, settings


def member_losses(model, rows, weights, loss, scaling=None):
    """Each member's weighted mean data loss on all ``rows`` at its weights (no training).

    ``weights`` are K weight lists in ``model.get_weights()`` order (what :func:`fit_members`
    returns); ``scaling`` a :class:`~kerasnet.path.members.Scaling` or None. The path's
    deviance explained on its training rows (glmnet's ``dev.ratio``) comes from here: one
    inference pass over the prepared rows, chunk by chunk.
    """
    losses, _ = validation_losses(*_inference(model, rows, weights, loss, scaling))
    return np.asarray(losses, float)[:len(weights)]


def member_outputs(model, rows, weights, loss, scaling=None):
    """Each member's outputs ``[K, n, ...]`` on all ``rows``, in row order: for measures a mean
    loss cannot give (the Cox deviance's risk sets span all rows)."""
    index, outputs, _ = validation_outputs(*_inference(model, rows, weights, loss, scaling))
    index, outputs = index[:len(weights)], outputs[:len(weights)]
    ordered = np.empty_like(outputs)
    np.put_along_axis(ordered, index.reshape(index.shape + (1,) * (outputs.ndim - 2)), outputs, axis=1)
    return ordered
