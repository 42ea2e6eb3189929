"""Which rows each member sees, step by step: shuffled batches and padded row lists.

Pure numpy on the host. A member's batches depend only on ``(seed, stream, epoch)`` and its
own rows, never on the other members, so adding, removing or distributing members never
changes anyone's training.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["distinct_rows", "epoch_batches", "row_index", "shuffle_keys"]


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


def epoch_batches(keys, train_mask, batch_size, steps=None):
    """Row indices ``[S, K, B]`` and weights ``[S, K, B]``: each member's rows in batches.

    Member ``k`` takes its rows in the order of ``keys[k]`` and fills consecutive batches
    of ``batch_size``; its last batch may be partial and later steps empty (weight 0), so
    the batches are exactly those ``model.fit(X[rows_k], batch_size=...)`` would form.
    ``steps`` (at least the batches the largest member needs) fixes ``S``.
    """
    K, n = train_mask.shape
    counts = train_mask.sum(axis=1)
    steps = max(1, int(math.ceil(counts.max() / batch_size)), int(steps or 0))
    keys = np.where(train_mask, keys, np.inf)
    order = np.argsort(keys, axis=1, kind="stable")
    width = steps * batch_size
    if width > n:
        order = np.concatenate([order, np.zeros((K, width - n), dtype=order.dtype)], axis=1)
    order = order[:, :width]
    weight = (np.arange(width)[None, :] < counts[:, None]).astype("float32")
    idx = order.reshape(K, steps, batch_size).transpose(1, 0, 2).astype("int32")
    return idx, weight.reshape(K, steps, batch_size).transpose(1, 0, 2)


def shuffle_keys(n, streams, seed, epoch, shuffle, chunk=None):
    """One random key per row and member; members of the same stream share them.

    Keys depend only on ``(seed, stream, epoch)`` (and the ``chunk`` of streamed rows), so
    a member's batches do not change when other members are added or removed.
    """
    if not shuffle:
        return np.broadcast_to(np.arange(n, dtype=float), (len(streams), n))
    unique, inverse = np.unique(streams, return_inverse=True)
    tail = [] if chunk is None else [int(chunk)]
    keys = np.stack([np.random.default_rng([seed, int(s), epoch, *tail]).random(n) for s in unique])
    return keys[inverse]


def row_index(mask):
    """Each member's rows ``[K, V]`` (ascending, padded with row 0) and the padding mask
    ``[K, V]`` (1 for real rows): the layout of validation and prediction passes."""
    counts = mask.sum(axis=1)
    width = max(1, int(counts.max()))
    order = np.argsort(~mask, axis=1, kind="stable")[:, :width]
    pad = (np.arange(width)[None, :] < counts[:, None]).astype("float32")
    return np.where(pad > 0, order, 0).astype("int32"), pad
