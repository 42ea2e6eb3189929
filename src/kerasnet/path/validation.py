"""Each member's validation pass over its own rows, in chunks so memory stays members x chunk.

Validating K members on their folds at once would gather ``K x V`` rows (and every layer's
activations for them) in one call; at 10^5-10^6 rows that is gigabytes. The rows are cut
into chunks of at most :data:`CHUNK` per member (one compiled shape for all chunks) and the
weighted means put back together.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from .batches import distinct_rows
from .buckets import bucket

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
    rounded : bool, default False
        With ``size`` None: a call's rows are :func:`kerasnet.path.buckets.bucket` of the most
        rows a member has (at most ``chunk``), the padding of zero weight.
    """

    def __init__(self, val_mask, sample_weight, tensor, chunk=None, size=None, offset=0, rounded=False):
        # Members validated on the same rows (a fold's strengths) share one row list: each
        # distinct set's rows are listed once (O(n), no sort), and members x rows arrays exist
        # only one block at a time, as they are sent.
        sets, group = distinct_rows(val_mask)
        counts = sets.sum(axis=1)
        width = max(1, int(counts.max()))
        index = np.zeros((len(sets), width), "int32")
        for r, rows in enumerate(sets):
            index[r, :counts[r]] = np.flatnonzero(rows)
        pad = (np.arange(width)[None, :] < counts[:, None]).astype("float32")
        if size is None:  # a bucket of rows (padding of zero weight), one call's width at most a chunk
            size = min(bucket(width) if rounded else width, int(CHUNK if chunk is None else chunk))
        size = int(size)
        blocks = -(-width // size)
        extra = blocks * size - width
        self._sets, self._group, self._offset, self.width = index, group, int(offset), width
        self._pad = pad
        weight = pad * np.asarray(sample_weight, "float32")[index]
        index, pad, weight = (np.pad(a, ((0, 0), (0, extra))) for a in (index, pad, weight))
        starts = range(0, blocks * size, size)
        self.blocks = [(tensor(index[group, a:a + size]), tensor(pad[group, a:a + size])) for a in starts]
        self.weights = np.stack([weight[:, a:a + size].sum(axis=1) for a in starts])[:, group]  # [blocks, K]

    @property
    def index(self):
        """Each member's rows ``[K, V]`` (ascending, padded with the first row)."""
        return self._sets[self._group] + self._offset

    @property
    def valid(self):
        """``[K, V]``: True for a member's real rows (False for padding)."""
        return self._pad[self._group] > 0

    def sums(self, runner, state, data, settings):
        """``(weighted loss sum [K], weight [K], penalty [K])`` over each member's rows."""
        values, penalty = [], None
        for idx, pad in self.blocks:  # no transfer inside the loop: the blocks' calls queue up
            value, penalty, _ = runner.validate(state, data, idx, pad, settings)
            values.append(ops.stop_gradient(value))  # torch: no autograd graph kept across blocks
        values = np.asarray(ops.convert_to_numpy(ops.stack(values)))
        parts = np.where(self.weights > 0, values, 0.0)
        return (parts * self.weights).sum(axis=0), self.weights.sum(axis=0), \
            np.asarray(ops.convert_to_numpy(penalty))

    def losses(self, runner, state, data, settings):
        """``(validation data loss [K], penalty [K])``: weighted means over each member's rows."""
        total, weight, penalty = self.sums(runner, state, data, settings)
        return total / np.where(weight > 0, weight, 1.0), penalty

    def outputs(self, runner, state, data, settings):
        """``(index [K, V], outputs [K, V, ...], valid [K, V])`` in ``y``'s units."""
        parts = [ops.stop_gradient(runner.validate(state, data, idx, pad, settings)[2])
                 for idx, pad in self.blocks]
        joined = ops.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]  # one transfer
        outputs = np.asarray(ops.convert_to_numpy(joined))
        return self.index, outputs[:, :self.width], self.valid
