"""Which rows each member sees, step by step: shuffled batches and padded row lists.

Pure numpy on the host. A member's batches depend only on ``(seed, stream, epoch)`` and its
own rows, never on the other members, so adding, removing or distributing members never
changes anyone's training.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["distinct_rows", "epoch_batches", "row_index", "shuffle_orders"]


def distinct_rows(mask):
    """``(sets [R, n], of [K])``: the distinct rows of a bool ``mask [K, n]`` and each
    member's; a ``(sets, of)`` pair is returned as it is.

    Members share row sets (a fold's strengths), so the engine keeps ``R`` rows of ``n``
    flags, never a members x rows array.
    """
    if isinstance(mask, tuple):
        sets, of = mask
        return np.asarray(sets, bool), np.asarray(of, int)
    mask = np.asarray(mask, bool)
    seen, of = {}, np.empty(len(mask), int)
    for k, rows in enumerate(mask):
        of[k] = seen.setdefault(np.packbits(rows).tobytes(), len(seen))
    return mask[np.unique(of, return_index=True)[1]], of


def epoch_batches(order, train_mask, batch_size, steps=None):
    """Row indices ``[S, K, B]`` and weights ``[S, K, B]``: each member's rows in batches.

    Member ``k`` takes its rows in the order of ``order[k]`` (a permutation of the rows,
    :func:`shuffle_orders`) and fills consecutive batches of ``batch_size``; its last batch
    may be partial and later steps empty (weight 0), so the batches are exactly those
    ``model.fit(X[rows_k], batch_size=...)`` would form. ``steps`` (at least the batches the
    largest member needs) fixes ``S``.
    """
    K, n = train_mask.shape
    counts = train_mask.sum(axis=1)
    steps = max(1, int(math.ceil(counts.max() / batch_size)), int(steps or 0))
    width = steps * batch_size
    idx = np.zeros((K, width), "int32")
    for k in range(K):
        rows = order[k][train_mask[k][order[k]]]  # O(n): no sort
        idx[k, :len(rows)] = rows
    weight = (np.arange(width)[None, :] < counts[:, None]).astype("float32")
    shape = (K, steps, batch_size)
    return idx.reshape(shape).transpose(1, 0, 2), weight.reshape(shape).transpose(1, 0, 2)


def shuffle_orders(n, streams, seed, epoch, shuffle, chunk=None):
    """Each member's order of the ``n`` rows ``[K][n]``; members of the same stream share it.

    A random permutation per ``(seed, stream, epoch)`` (and ``chunk`` of streamed rows), so
    a member's batches do not change when other members are added or removed; rows in
    order with ``shuffle=False``.
    """
    if not shuffle:
        return [np.arange(n)] * len(streams)
    unique, inverse = np.unique(streams, return_inverse=True)
    tail = [] if chunk is None else [int(chunk)]
    orders = [np.random.default_rng([seed, int(s), epoch, *tail]).permutation(n) for s in unique]
    return [orders[i] for i in inverse.reshape(-1)]


def row_index(mask):
    """Each member's rows ``[K, V]`` (ascending, padded with row 0) and the padding mask
    ``[K, V]`` (1 for real rows): the layout of validation and prediction passes."""
    counts = mask.sum(axis=1)
    width = max(1, int(counts.max()))
    order = np.argsort(~mask, axis=1, kind="stable")[:, :width]
    pad = (np.arange(width)[None, :] < counts[:, None]).astype("float32")
    return np.where(pad > 0, order, 0).astype("int32"), pad
