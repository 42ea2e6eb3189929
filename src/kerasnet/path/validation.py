"""Each member's validation pass over its own rows, in chunks so memory stays members x chunk.

Validating K members on their folds at once would gather ``K x V`` rows (and every layer's
activations for them) in one call; at 10^5-10^6 rows that is gigabytes. The rows are cut
into chunks of at most :data:`CHUNK` per member (one compiled shape for all chunks) and the
weighted means put back together.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from .batches import distinct_rows, row_index

__all__ = ["CHUNK", "Validation"]

#: Rows per member in one validation call.
CHUNK = 4096


class Validation:
    """The validation rows of ``K`` members, cut into chunks.

    Parameters
    ----------
    val_mask : bool array [K, n], or ``(sets [R, n], of [K])``
        Each member's rows, or the distinct row sets and each member's
        (:func:`kerasnet.path.batches.distinct_rows`).
    sample_weight : float array [n]
    tensor : callable
        Turns a host array into what the runner takes.
    chunk : int or None
        Rows per member per call; None: :data:`CHUNK`.
    size : int or None
        Rows per call exactly (streamed chunks share one compiled shape); None: the
        smaller of ``chunk`` and the most rows a member has.
    offset : int, default 0
        Added to the row indices :meth:`outputs` returns (the first row of a streamed chunk).
    """

    def __init__(self, val_mask, sample_weight, tensor, chunk=None, size=None, offset=0):
        # Members validated on the same rows (a fold's strengths) share one row list: the
        # sort runs over the distinct folds, not over K x n.
        sets, group = distinct_rows(val_mask)
        index, pad = (a[group] for a in row_index(sets))
        width = index.shape[1]
        size = int(size) if size is not None else min(width, int(CHUNK if chunk is None else chunk))
        blocks = -(-width // size)
        extra = blocks * size - width
        self.index, self.valid = index + int(offset), pad > 0
        index = np.pad(index, ((0, 0), (0, extra)))
        pad = np.pad(pad, ((0, 0), (0, extra)))
        starts = range(0, blocks * size, size)
        self.blocks = [(tensor(index[:, a:a + size]), tensor(pad[:, a:a + size])) for a in starts]
        weight = pad * np.asarray(sample_weight, "float32")[index]
        self.weights = np.stack([weight[:, a:a + size].sum(axis=1) for a in starts])  # [blocks, K]
        self.width = width

    def sums(self, runner, state, data, settings):
        """``(weighted loss sum [K], weight [K], penalty [K])`` over each member's rows."""
        parts, penalty = [], None
        for (idx, pad), w in zip(self.blocks, self.weights, strict=True):
            value, penalty, _ = runner.validate(state, data, idx, pad, settings)
            parts.append(np.where(w > 0, np.asarray(ops.convert_to_numpy(value)), 0.0))
        return (np.stack(parts) * self.weights).sum(axis=0), self.weights.sum(axis=0), \
            np.asarray(ops.convert_to_numpy(penalty))

    def losses(self, runner, state, data, settings):
        """``(validation data loss [K], penalty [K])``: weighted means over each member's rows."""
        total, weight, penalty = self.sums(runner, state, data, settings)
        return total / np.where(weight > 0, weight, 1.0), penalty

    def outputs(self, runner, state, data, settings):
        """``(index [K, V], outputs [K, V, ...], valid [K, V])`` in ``y``'s units."""
        parts = [np.asarray(ops.convert_to_numpy(runner.validate(state, data, idx, pad, settings)[2]))
                 for idx, pad in self.blocks]
        return self.index, np.concatenate(parts, axis=1)[:, :self.width], self.valid
