"""Paths on data read chunk by chunk: a Parquet file or a Dask DataFrame, larger than memory."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import kerasnet
from kerasnet.errors import InputError
from kerasnet.path import grid
from kerasnet.path.engine import fit_members
from kerasnet.path.members import MemberSpec, Training
from kerasnet.path.rows import Rows
from kerasnet.path.sources import Chunks
from kerasnet.path.standardize import chunked_statistics, standardizer

pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")


def _frame(n=3000, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype("float32") * np.arange(1, d + 1) + np.arange(d)
    y = (X[:, 0] * X[:, 1] / 2 + X[:, 2] - 2 + 0.5 * rng.normal(size=n) > 0).astype(int)
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(d)])
    frame["label"] = y
    return frame


def _parquet(frame, path, row_group_size):
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_size)
    return str(path)


def _array_chunks(X, sizes):
    stops = np.cumsum(sizes)
    bounds = [(int(b - s), int(b)) for s, b in zip(sizes, stops, strict=True)]
    return Chunks(bounds, lambda i: X[bounds[i][0]:bounds[i][1]], [])


def test_one_pass_statistics_equal_the_in_memory_ones():
    rng = np.random.default_rng(1)
    X = (rng.normal(size=(1000, 4)) * [1, 10, 100, 1e3] + [0, 5, -50, 1e4]).astype("float32")
    w = rng.uniform(0.2, 3.0, 1000)
    w *= 1000 / w.sum()
    sets = np.stack([rng.random(1000) < 0.7, rng.random(1000) < 0.5, np.ones(1000, bool)])
    y = rng.integers(0, 3, 1000)
    weight, r = grid.null_residual(y, "multiclass", 1000, w)
    mean, sd, cross = chunked_statistics(_array_chunks(X, [137, 400, 1, 462]), sets, weight, r)
    for k, rows in enumerate(sets):
        m, s = standardizer(X, rows, True, weight)
        np.testing.assert_allclose(mean[k], m, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(sd[k], s, rtol=1e-6)
    # The grid's null gradient of standardized features, from the raw cross product.
    G = cross / sd[-1][:, None] / 1000
    np.testing.assert_allclose(G, grid.null_gradient((X - mean[-1]) / sd[-1], y, "multiclass", w), atol=1e-6)


@pytest.mark.backend
def test_streamed_engine_equals_arrays_in_memory():
    """Chunks of whole batches, rows in order: the same batches, so the same members."""
    frame = _frame(n=640)
    X, y = frame.iloc[:, :5].to_numpy("float32"), frame["label"].to_numpy("float32")
    val = np.zeros((2, 640), bool)
    val[0, ::3], val[1, 1::3] = True, True
    members = MemberSpec.of([1e-3, 1e-2], val=val)
    training = Training("binary_crossentropy", epochs=3, batch_size=32, seed=0, shuffle=False, outputs=True)
    weights, whole = fit_members(kerasnet.mlp(5, 1, (6,), "binary", seed=0), Rows.prepare(X, y), members,
                                 training)
    chunked_rows = Rows.prepare(_array_chunks(X, [256, 128, 256]), y)
    assert not chunked_rows.resident  # streamed: read chunk by chunk
    chunked_w, chunked = fit_members(kerasnet.mlp(5, 1, (6,), "binary", seed=0), chunked_rows, members,
                                     training)
    for a, b in zip(weights, chunked_w, strict=True):
        for u, v in zip(a, b, strict=True):
            np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(chunked.val_loss, whole.val_loss, rtol=1e-5)
    np.testing.assert_allclose(chunked.loss, whole.loss, rtol=1e-5)
    index, outputs, valid = chunked.val_outputs
    order = np.argsort(np.where(valid, index, 10**6), axis=1, kind="stable")
    for k in range(2):
        rows = np.take_along_axis(index, order, 1)[k][np.take_along_axis(valid, order, 1)[k]]
        np.testing.assert_array_equal(rows, np.flatnonzero(val[k]))
        got = outputs[k][valid[k]][np.argsort(index[k][valid[k]])]
        expected = whole.val_outputs[1][k][whole.val_outputs[2][k]]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


# baselines=False but in the first test (the linear baseline streamed from the file as well).
KW = dict(hidden=(8,), n_lambdas=3, cv=3, epochs=8, batch_size=64, seed=0, verbose=0, early_stopping=False,
          baselines=False)


def _same_grid_shape(streamed, memory):
    """The same log grid (same span and spacing), its top within the probe's resolution."""
    assert len(streamed) == len(memory)
    np.testing.assert_allclose(streamed / streamed[0], memory / memory[0], rtol=1e-5)
    assert 0.5 < streamed[0] / memory[0] < 2.0


def test_parquet_in_one_row_group_is_the_in_memory_path(tmp_path):
    frame = _frame()
    path = _parquet(frame, tmp_path / "d.parquet", row_group_size=10**6)
    streamed = kerasnet.fit_path(path, "label", **{**KW, "baselines": True})
    memory = kerasnet.fit_path(frame.drop(columns="label"), frame["label"], **{**KW, "baselines": True})
    np.testing.assert_allclose(streamed.cv_mean_, memory.cv_mean_, rtol=1e-6)
    np.testing.assert_allclose(streamed.weights_[0][0], memory.weights_[0][0], rtol=1e-5, atol=1e-7)
    assert streamed.feature_names_ == [f"f{j}" for j in range(5)]
    # The baselines read the file as the path does: the in-memory ones.
    a, b = streamed.baselines_, memory.baselines_
    assert a.linear_mean is not None and a.linear_lambda == pytest.approx(b.linear_lambda, rel=1e-6)
    assert a.linear_mean == pytest.approx(b.linear_mean, rel=1e-5)
    assert a.null_mean == pytest.approx(b.null_mean)


def test_parquet_in_row_groups_matches_the_data_and_dask_gives_the_same(tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    frame = _frame()
    path = _parquet(frame, tmp_path / "d.parquet", row_group_size=700)  # 5 chunks, the last of 200
    streamed = kerasnet.fit_path(path, "label", **KW)
    memory = kerasnet.fit_path(frame.drop(columns="label"), frame["label"], **KW)
    # The statistics come from one pass over the chunks: the in-memory ones. The grid's top is where
    # a short probe's network empties: batches shuffled within chunks move it a little, not its shape.
    _same_grid_shape(streamed.lambdas_, memory.lambdas_)
    np.testing.assert_allclose(streamed.mean_, memory.mean_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(streamed.scale_, memory.scale_, rtol=1e-5)
    # Batches differ (shuffled within chunks), the fit is as good: deviance well under the null's.
    null = 2 * np.mean(-np.log(np.where(frame["label"], frame["label"].mean(), 1 - frame["label"].mean())))
    assert np.nanmin(streamed.cv_mean_) < 0.8 * null
    assert np.nanmin(streamed.cv_mean_) == pytest.approx(np.nanmin(memory.cv_mean_), rel=0.1)
    # A Dask DataFrame cut like the file's row groups streams the same chunks.
    parts = dd.from_pandas(frame, npartitions=1).repartition(divisions=[0, 700, 1400, 2100, 2800, 2999])
    dasked = kerasnet.fit_path(parts, "label", **KW)
    np.testing.assert_allclose(dasked.cv_mean_, streamed.cv_mean_, rtol=1e-6)
    # The model takes raw rows and predicts like the path's refit.
    model = streamed.model(streamed.lambda_min_)
    X = frame.drop(columns="label").to_numpy("float32")
    assert ((model.predict(X, verbose=0)[:, 0] > 0.5) == frame["label"]).mean() > 0.8


def test_weights_column_and_regression(tmp_path):
    rng = np.random.default_rng(3)
    frame = _frame()
    frame["label"] = frame["f0"] * 2 + rng.normal(size=len(frame))
    frame["w"] = rng.integers(1, 3, len(frame)).astype(float)
    path = _parquet(frame, tmp_path / "d.parquet", row_group_size=1000)
    streamed = kerasnet.fit_path(path, "label", sample_weight="w", **KW)
    memory = kerasnet.fit_path(frame.drop(columns=["label", "w"]), frame["label"], sample_weight=frame["w"],
                               **KW)
    assert "w" not in streamed.feature_names_
    _same_grid_shape(streamed.lambdas_, memory.lambdas_)
    np.testing.assert_allclose(streamed.y_mean_, memory.y_mean_, rtol=1e-6)


@pytest.mark.parametrize("case, message", [
    ("missing", "column 'nope' is not in Parquet file"),
    ("text", "non-numeric feature columns ('f1')"),
    ("nan", "missing or infinite feature value in row 5"),
    ("model", "model= trains on arrays in memory"),
    ("no file", "does not exist"),
])
def test_bad_streamed_input_is_one_line(tmp_path, case, message):
    frame = _frame(n=50)
    if case == "text":
        frame["f1"] = "a"
    if case == "nan":
        frame.loc[5, "f3"] = np.nan
    path = _parquet(frame, tmp_path / "d.parquet", row_group_size=20)
    kwargs = dict(KW)
    if case == "model":
        kwargs["model"] = kerasnet.mlp(5, 1, (4,), "binary")
    with pytest.raises(ValueError) as err:
        kerasnet.fit_path(tmp_path / "other.parquet" if case == "no file" else path,
                          "nope" if case == "missing" else "label", **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)
    if case != "model":
        assert isinstance(err.value, InputError)


_MEMORY_CHILD = textwrap.dedent("""
    import gc, json, os, sys, threading, time
    import numpy as np
    import pyarrow as pa, pyarrow.parquet as pq
    import kerasnet

    path, small = sys.argv[1], sys.argv[2]
    rows, d, group = (int(a) for a in sys.argv[3:6])
    rng = np.random.default_rng(0)
    schema = pa.schema([(f"f{j}", pa.float32()) for j in range(d)] + [("label", pa.int8())])

    def write(target, n):
        with pq.ParquetWriter(target, schema) as out:
            for start in range(0, n, group):
                X = rng.normal(size=(min(group, n - start), d)).astype("float32")
                y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype("int8")
                out.write_table(pa.table({**{f"f{j}": X[:, j] for j in range(d)}, "label": y}))

    write(path, rows)
    write(small, 2 * group)
    kw = dict(hidden=(8,), n_lambdas=2, cv=2, epochs=1, batch_size=1024, seed=0, verbose=0,
              early_stopping=False, lambdas=[1e-2, 1e-3], baselines=False)  # the network path's own streaming
    kerasnet.fit_path(small, "label", **kw)  # compiles the programs of these chunk shapes
    gc.collect()

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    before, peak, done = rss(), [0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    path_fit = kerasnet.fit_path(path, "label", **kw)
    done.set()
    watcher.join()
    print(json.dumps({"growth": peak[0] - before, "cv": path_fit.cv_mean_.tolist()}))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the resident set from /proc")
def test_a_file_larger_than_the_memory_limit_streams_within_it(tmp_path):
    rows, d, group = 600_000, 64, 20_000
    data_bytes = rows * d * 4  # 154 MB of float32 features
    limit = 80 * 2**20  # the features would not fit in half their size
    assert data_bytes > 1.8 * limit
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(tmp_path / "big.parquet"), str(tmp_path / "small.parquet"),
         str(rows), str(d), str(group)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "KERASNET_XLA_CACHE": "off"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["growth"] < limit, f"peak grew {result['growth'] / 2**20:.0f} MB"
    assert np.all(np.isfinite(result["cv"])) and min(result["cv"]) < 1.35  # it learned (null: 1.386)
