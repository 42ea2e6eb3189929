"""The rows a pass reads, chunk by chunk, and each member's validation over them.

Arrays in memory are one chunk, sent to the device once; a streamed source
(:class:`kerasnet.path.sources.Chunks`) is read again for every pass. Used by
:func:`kerasnet.path.engine.fit_members`.
"""

from __future__ import annotations

import keras
import numpy as np

from .device import to_device
from .step import Data
from .validation import CHUNK, Validation

__all__ = ["Rows", "validation_losses", "validation_outputs"]


def _padded(values, rows):
    """``values`` with zero rows appended up to ``rows`` (one compiled shape for all chunks)."""
    extra = rows - len(values)
    if extra <= 0:
        return values
    return np.concatenate([values, np.zeros((extra,) + values.shape[1:], values.dtype)])


class Rows:
    """The rows every member draws from, as the runner takes them, chunk by chunk.

    Arrays in memory are one chunk, sent to the device once. A streamed source
    (:class:`kerasnet.path.sources.Chunks` of a Parquet file or a Dask DataFrame) is read
    again for every pass, each chunk padded to the largest so every pass runs one compiled
    program; only one chunk is held at a time.
    """

    def __init__(self, chunks, y, sample_weight, exposure=None):
        self.chunks, self.y, self.sw = chunks, np.asarray(y), sample_weight
        self.exposure = None if exposure is None else np.asarray(exposure, "float32")
        self.resident = chunks.count == 1
        if self.resident:
            inputs = keras.tree.map_structure(to_device, chunks.read(0))
            self._data = Data(inputs, to_device(self.y), to_device(self.sw),
                              None if self.exposure is None else to_device(self.exposure))

    def data(self, c):
        if self.resident:
            return self._data
        a, b = self.chunks.bounds[c]
        size = self.chunks.largest
        exposure = None if self.exposure is None else to_device(_padded(self.exposure[a:b], size))
        return Data(to_device(_padded(self.chunks.read(c), size)), to_device(_padded(self.y[a:b], size)),
                    to_device(_padded(self.sw[a:b], size)), exposure)

    def order(self, seed, epoch, shuffle):
        """This epoch's chunk order: shuffled per epoch (rows are shuffled within chunks)."""
        if not shuffle or self.resident:
            return np.arange(self.chunks.count)
        return np.random.default_rng([seed, epoch, 1 << 20]).permutation(self.chunks.count)

    def steps(self, sets, batch_size):
        """Steps per chunk pass: one count for all chunks (None in memory: per epoch)."""
        if self.resident:
            return None
        most = max(int(sets[:, a:b].sum(axis=1).max()) for a, b in self.chunks.bounds)
        return max(1, -(-most // batch_size))

    def validations(self, sets, of):
        """One :class:`Validation` per chunk, built as needed (in memory: built once)."""
        if self.resident:
            if getattr(self, "_validation", None) is None:
                self._validation = Validation((sets, of), self.sw, to_device)
            yield self._validation, self._data
            return
        size = min(CHUNK, max(1, max(int(sets[:, a:b].sum(axis=1).max()) for a, b in self.chunks.bounds)))
        for c, (a, b) in enumerate(self.chunks.bounds):
            yield Validation((sets[:, a:b], of), self.sw[a:b], to_device, size=size, offset=a), self.data(c)


def validation_losses(rows, sets, of, runner, state, settings):
    """``(validation data loss [K], penalty [K])`` over every chunk of the members' rows."""
    total = weight = penalty = 0.0
    for validation, data in rows.validations(sets, of):
        t, w, penalty = validation.sums(runner, state, data, settings)
        total, weight = total + t, weight + w
    return total / np.where(weight > 0, weight, 1.0), penalty


def validation_outputs(rows, sets, of, runner, state, settings):
    """``(index [K, V], outputs [K, V, ...], valid [K, V])`` over every chunk."""
    parts = [(v.index, *v.outputs(runner, state, data, settings)[1:])
             for v, data in rows.validations(sets, of)]
    return tuple(np.concatenate([p[j] for p in parts], axis=1) for j in range(3))
