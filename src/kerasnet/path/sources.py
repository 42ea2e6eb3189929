"""Feature rows read chunk by chunk: in memory, a Parquet file, or a Dask DataFrame.

The engine and the path's statistics see the features only through :class:`Chunks`: a
list of consecutive row ranges and a function that reads one range as a float32 array.
Arrays in memory are one chunk (read without a copy). A Parquet file's chunks are its row
groups and a Dask DataFrame's its partitions: only one chunk is in memory at a time, so a
path can train on data larger than memory. The chunk size is the writer's choice
(``pyarrow.parquet.write_table(..., row_group_size=...)``, ``df.repartition(...)``); memory
grows with the largest chunk, not with the rows.

The target and row weights are single columns and are read whole.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, listing

__all__ = ["Chunks", "is_streamed", "open_streamed"]


@dataclass(frozen=True)
class Chunks:
    """Features of ``n`` rows in consecutive chunks.

    Attributes
    ----------
    bounds : list of (start, stop)
        Each chunk's rows, in order, covering ``0..n``.
    read : callable
        ``read(i)``: chunk ``i``'s features, float32 ``[stop - start, d]`` (in memory: the
        arrays as given, a list for several inputs).
    columns : list of str
        Feature names.
    """

    bounds: list
    read: Callable
    columns: list

    @classmethod
    def of(cls, X, columns=None):
        """Arrays in memory as one chunk."""
        n = len(X[0]) if isinstance(X, list) else len(X)
        return cls([(0, n)], lambda i: X, list(columns or []))

    @classmethod
    def blocks(cls, X, size=65536):
        """A 2-D array in memory as blocks of ``size`` rows (views, for one-pass statistics)."""
        bounds = [(a, min(a + size, len(X))) for a in range(0, len(X), size)]
        return cls(bounds, lambda i: X[bounds[i][0]:bounds[i][1]], [])

    @property
    def n(self):
        return self.bounds[-1][1]

    @property
    def count(self):
        return len(self.bounds)

    @property
    def largest(self):
        return max(b - a for a, b in self.bounds)


def is_streamed(X):
    """True for what :func:`open_streamed` reads: a Parquet file's path or a Dask DataFrame."""
    if isinstance(X, (str, os.PathLike)):
        return True
    return type(X).__module__.startswith("dask") and hasattr(X, "npartitions")


def open_streamed(X, y, sample_weight=None):
    """``(Chunks of the features, y, sample_weight)`` from a Parquet file or a Dask DataFrame.

    Parameters
    ----------
    X : str, os.PathLike or dask.dataframe.DataFrame
    y : str or array [n]
        The target's column name in ``X`` (read whole) or the target itself.
    sample_weight : str, array [n] or None
        A column name in ``X`` or the weights.

    Every column of ``X`` other than ``y`` and ``sample_weight`` is a feature and must be
    numeric. Raises :class:`kerasnet.errors.InputError` naming the fix.
    """
    if y is None:
        raise InputError("y is None; with streamed X give the target's column name (or one value per row).")
    named = [c for c in (y, sample_weight) if isinstance(c, str)]
    table = _ParquetTable(X) if isinstance(X, (str, os.PathLike)) else _DaskTable(X)
    missing = [c for c in named if c not in table.names]
    if missing:
        raise InputError(f"column {missing[0]!r} is not in {table.label} (columns: "
                         f"{listing(table.names, quote=True)}); check the name.")
    features = [c for c in table.names if c not in named]
    if not features:
        raise InputError(f"{table.label} has no feature columns besides the target; add features.")
    table.check_numeric(features)
    y = table.column(y) if isinstance(y, str) else np.asarray(y)
    if isinstance(sample_weight, str):
        sample_weight = table.column(sample_weight)
    if len(y) != table.n:
        raise InputError(f"y has {len(y)} values but {table.label} has {table.n} rows; give one per row.")
    return Chunks(table.bounds, table.reader(features), features), y, sample_weight


def _bounds(sizes):
    stops = np.cumsum(sizes)
    return [(int(b - s), int(b)) for s, b in zip(sizes, stops, strict=True) if s > 0]


def _checked(values, label, start):
    values = np.asarray(values, "float32")
    if not np.isfinite(values).all():
        row = start + int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise InputError(f"{label} has a missing or infinite feature value in row {row}; "
                         "impute or drop such rows first.")
    return values


def _check_parquet_path(path):
    """InputError unless ``path`` is an existing Parquet file (its first bytes ``PAR1``): a path
    given as ``X`` is streamed as Parquet, and nothing else."""
    accepted = "a path given as X must be one Parquet file"
    if os.path.isdir(path):
        raise InputError(f"X='{path}' is a folder; {accepted} (for a folder of Parquet files pass "
                         "dask.dataframe.read_parquet(folder), which streams too).")
    if not os.path.isfile(path):
        raise InputError(f"X='{path}' does not exist; {accepted}: check the path.")
    with open(path, "rb") as file:
        magic = file.read(4)
    if magic != b"PAR1":
        reader = {".csv": "read_csv", ".tsv": "read_csv", ".txt": "read_csv", ".xlsx": "read_excel",
                  ".json": "read_json", ".feather": "read_feather"}.get(os.path.splitext(path)[1].lower())
        how = f"pandas.{reader}" if reader else "pandas"
        raise InputError(f"X='{path}' is not a Parquet file; {accepted} (or load the data with {how} and "
                         "pass the DataFrame, or write it with DataFrame.to_parquet).")


class _ParquetTable:
    def __init__(self, path):
        path = os.fspath(path)
        _check_parquet_path(path)
        if importlib.util.find_spec("pyarrow") is None:
            raise InputError(f"streaming Parquet file '{path}' needs pyarrow; run `pip install pyarrow` "
                             "(or `pip install kerasnet[parquet]`).")
        import pyarrow.parquet as pq

        self.label = f"Parquet file '{path}'"
        try:
            self.file = pq.ParquetFile(path)
        except (OSError, ValueError) as err:
            first = str(err).splitlines()[0]
            raise InputError(f"cannot read {self.label}: {first}; check the file.") from None
        self.names = list(self.file.schema_arrow.names)
        meta = self.file.metadata
        self.bounds = _bounds([meta.row_group(i).num_rows for i in range(meta.num_row_groups)])
        self.n = meta.num_rows
        if self.n == 0:
            raise InputError(f"{self.label} has no rows; give a file with data rows.")

    def check_numeric(self, features):
        import pyarrow as pa

        schema = self.file.schema_arrow
        bad = [c for c in features
               if not (pa.types.is_integer(schema.field(c).type) or pa.types.is_floating(schema.field(c).type)
                       or pa.types.is_boolean(schema.field(c).type))]
        if bad:
            raise InputError(f"{self.label} has non-numeric feature columns ({listing(bad, quote=True)}); "
                             "encode them as numbers first.")

    def column(self, name):
        return self.file.read(columns=[name]).column(0).to_numpy(zero_copy_only=False)

    def reader(self, features):
        file, label, bounds = self.file, self.label, self.bounds
        groups = [i for i in range(file.metadata.num_row_groups) if file.metadata.row_group(i).num_rows > 0]

        def read(i):
            table = file.read_row_group(groups[i], columns=features)
            values = np.column_stack([table.column(c).to_numpy(zero_copy_only=False) for c in features])
            return _checked(values, label, bounds[i][0])

        return read


class _DaskTable:
    def __init__(self, frame):
        self.frame, self.label = frame, "the Dask DataFrame"
        self.names = [str(c) for c in frame.columns]
        self.bounds = _bounds([int(s) for s in frame.map_partitions(len).compute()])
        self.n = self.bounds[-1][1] if self.bounds else 0
        if self.n == 0:
            raise InputError("the Dask DataFrame has no rows; give one with data rows.")

    def check_numeric(self, features):
        bad = [c for c in features if not (np.issubdtype(np.dtype(self.frame.dtypes[c]), np.number)
                                           or np.dtype(self.frame.dtypes[c]) == np.dtype(bool))]
        if bad:
            raise InputError(f"{self.label} has non-numeric feature columns ({listing(bad, quote=True)}); "
                             "encode them as numbers first.")

    def column(self, name):
        return self.frame[name].compute().to_numpy()

    def reader(self, features):
        frame, label, bounds = self.frame, self.label, self.bounds
        parts = [i for i, size in enumerate(frame.map_partitions(len).compute()) if size > 0]

        def read(i):
            return _checked(frame.partitions[parts[i]][features].compute().to_numpy(), label, bounds[i][0])

        return read
