"""The rows a pass reads, chunk by chunk, and each member's validation over them.

Arrays in memory are one chunk, sent to the device once; a streamed source
(:class:`kerasnet.path.sources.Chunks`) is read again for every pass. Used by
:func:`kerasnet.path.engine.fit_members`.
"""

from __future__ import annotations

import keras
import numpy as np

from .buckets import bucket
from .device import to_device
from .sources import Chunks
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

    Prepared once (:meth:`prepare`) and passed to every fit and inference pass over the same
    table. Arrays in memory are one chunk, sent to the device once, when this object is made.
    A streamed source (:class:`kerasnet.path.sources.Chunks` of a Parquet file or a Dask
    DataFrame) is read again for every pass, each chunk padded to the largest so every pass
    runs one compiled program; only one chunk is held at a time. Pickled (to a Dask worker),
    the host arrays travel and the device copy is made again there.
    """

    def __init__(self, chunks, y, sample_weight=None, offset=None, buckets=False):
        self.chunks, self.y = chunks, np.asarray(y)
        #: Row weights at float64 (the measures') and as the device takes them.
        self.weight = np.ones(chunks.n) if sample_weight is None else np.asarray(sample_weight, "float64")
        self.sw = self.weight.astype("float32")
        self.offset = None if offset is None else np.asarray(offset, "float64")
        #: Each row's ``exp(offset)`` (Poisson's exposure), float64; None without an offset.
        self.exposure = None if offset is None else np.exp(self.offset)
        self.resident = chunks.count == 1
        self._validation = None
        #: The real feature count and the device copy's (None: not padded), :mod:`~kerasnet.path.buckets`.
        self.features, self.padded_features = None, None
        if self.resident:
            table = chunks.read(0)
            size = None
            if buckets and isinstance(table, np.ndarray) and table.ndim == 2:
                size = bucket(len(table))
                self.features, self.padded_features = table.shape[1], bucket(table.shape[1])
                table = np.pad(table, ((0, size - len(table)), (0, self.padded_features - table.shape[1])))
            pad = (lambda a: a) if size is None else (lambda a: _padded(a, size))  # noqa: E731
            exposure = None if offset is None else to_device(pad(self.exposure.astype("float32")))
            self._data = Data(keras.tree.map_structure(to_device, table), to_device(pad(self.y)),
                              to_device(pad(self.sw)), exposure)

    @classmethod
    def prepare(cls, X, y, sample_weight=None, offset=None, buckets=False):
        """The rows of ``X`` (an array, a list of arrays for several inputs, or
        :class:`~kerasnet.path.sources.Chunks`) with target ``y``, row weights (None: ones) and
        Poisson's log ``offset`` (None: none).

        ``buckets`` (the MLP's table in memory): the device copy's rows and columns padded to
        :func:`kerasnet.path.buckets.bucket` sizes, with zeros of zero weight that no row set
        holds (only the engine's compiled shapes change)."""
        if not isinstance(X, Chunks):
            X = Chunks.of([np.asarray(a) for a in X] if isinstance(X, (list, tuple)) else np.asarray(X))
        return cls(X, y, sample_weight, offset, buckets)

    @property
    def n(self):
        """The number of rows."""
        return self.chunks.n

    def __getstate__(self):
        return {"chunks": self.chunks, "y": self.y, "weight": self.weight, "offset": self.offset,
                "buckets": self.padded_features is not None}

    def __setstate__(self, state):
        self.__init__(state["chunks"], state["y"], state["weight"], state["offset"],
                      state.get("buckets", False))

    def table(self):
        """The features on the device with the real rows and columns (a resident table)."""
        X = self._data.X
        if self.padded_features is None:
            return X
        return X[:self.n, :self.features]

    def data(self, c):
        if self.resident:
            return self._data
        a, b = self.chunks.bounds[c]
        size = self.chunks.largest
        exposure = None if self.exposure is None else \
            to_device(_padded(self.exposure[a:b].astype("float32"), size))
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
            # One fit validates its members every epoch on the same sets: built once per fit.
            cached = self._validation
            if cached is None or cached[0] is not sets or not np.array_equal(cached[1], of):
                self._validation = cached = (sets, np.array(of), Validation(
                    (sets, of), self.sw, to_device, rounded=self.padded_features is not None))
            yield cached[2], self._data
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
