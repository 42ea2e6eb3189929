"""Shapes rounded to buckets: a table of another size compiles nothing new, and no number moves."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import kerasnet
from kerasnet.path.buckets import ENV, bucket

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax",
                                reason="buckets are for JAX's compiled programs")


def test_the_rule_powers_of_two_then_four_steps_per_octave():
    assert [bucket(n) for n in (1, 2, 3, 5, 9, 16)] == [1, 2, 4, 8, 16, 16]
    above = [bucket(n) for n in (17, 20, 21, 25, 29, 33, 600, 620, 641)]
    assert above == [20, 20, 24, 28, 32, 40, 640, 640, 768]
    sizes = np.arange(1, 5000)
    buckets = np.array([bucket(n) for n in sizes])
    assert (buckets >= sizes).all() and (np.diff(buckets) >= 0).all()
    assert (buckets[sizes > 16] < 1.25 * sizes[sizes > 16]).all()  # less than a quarter of padding
    assert len(set(buckets.tolist())) < 50  # few shapes for 5,000 sizes


SCRIPT = """
import sys, numpy as np, kerasnet
n, d = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(n)
X = rng.normal(size=(n, d)); y = (X[:, 0] - X[:, 1] > 0).astype(int)
kerasnet.fit_path(X, y, hidden=(4,), n_lambdas=4, cv=3, epochs=3, seed=0, verbose=0, baselines=False)
"""


def _fit_in_a_new_process(tmp_path, cache, n, d, **env):
    base = {k: v for k, v in os.environ.items()
            if k not in ("KERASNET_XLA_CACHE", "JAX_COMPILATION_CACHE_DIR", ENV)}
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(n), str(d)],
                            env={**base, "KERAS_BACKEND": "jax", "KERASNET_XLA_CACHE": str(cache), **env},
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return sum(len(names) for _, _, names in os.walk(cache))


def test_a_table_of_other_rows_and_features_in_the_same_bucket_compiles_nothing(tmp_path):
    # 100 x 5 and 110 x 7: 112 rows and 8 features on the device; the same steps and validation widths.
    assert (bucket(100), bucket(5)) == (bucket(110), bucket(7))
    cache = tmp_path / "xla"
    written = _fit_in_a_new_process(tmp_path, cache, 100, 5)
    assert written > 0
    assert _fit_in_a_new_process(tmp_path, cache, 110, 7) == written  # every program found in the cache
    # Without buckets the second table's shapes are its own: new programs.
    off = tmp_path / "xla-off"
    first = _fit_in_a_new_process(tmp_path, off, 100, 5, **{ENV: "off"})
    assert _fit_in_a_new_process(tmp_path, off, 110, 7, **{ENV: "off"}) > first


def _both(monkeypatch, X, y, **settings):
    """The same path with buckets and without."""
    paths = []
    for value in ("on", "off"):
        monkeypatch.setenv(ENV, value)
        paths.append(kerasnet.fit_path(X, y, hidden=(6,), n_lambdas=5, cv=3, seed=1, verbose=0, **settings))
    return paths


def _assert_same(padded, plain, X):
    np.testing.assert_array_equal(padded.lambdas_, plain.lambdas_)
    np.testing.assert_allclose(padded.cv_mean_, plain.cv_mean_, rtol=1e-6)
    np.testing.assert_allclose(padded.cv_se_, plain.cv_se_, rtol=1e-5, atol=1e-9)
    assert padded.lambda_min_ == plain.lambda_min_ and padded.lambda_1se_ == plain.lambda_1se_
    np.testing.assert_array_equal(padded.n_features_selected_, plain.n_features_selected_)
    np.testing.assert_array_equal(padded.sparsity_, plain.sparsity_)
    for lam in ("min", "1se"):
        a, b = padded.model(lam), plain.model(lam)
        assert a.input_shape == b.input_shape == (None, X.shape[1])  # the real width
        for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
            assert wa.shape == wb.shape
            np.testing.assert_array_equal(wa == 0, wb == 0)  # the same exact zeros
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(padded.predict(X, lam), plain.predict(X, lam), rtol=1e-5, atol=1e-7)


def test_padding_changes_no_number_binary(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 5))  # 96 rows, 8 features on the device
    y = (X[:, 0] + 0.5 * X[:, 3] + 0.3 * rng.normal(size=90) > 0).astype(int)
    padded, plain = _both(monkeypatch, X, y, epochs=8)
    _assert_same(padded, plain, X)


def test_padding_changes_no_number_regression_with_early_stopping(monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(70, 3))
    y = X[:, 0] - 2 * X[:, 2] + 0.5 * rng.normal(size=70)
    padded, plain = _both(monkeypatch, X, y, epochs=12, patience=2, baselines=False)
    _assert_same(padded, plain, X)


def test_padding_changes_no_number_without_the_proximal_step_and_with_excluded_features(monkeypatch):
    # The L1 subgradient and glmnet's penalty factors: the padded features carry a held factor.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 6))
    y = (X[:, 1] - X[:, 4] > 0).astype(int)
    padded, plain = _both(monkeypatch, X, y, epochs=5, proximal=False, baselines=False)
    _assert_same(padded, plain, X)
    padded, plain = _both(monkeypatch, X, y, epochs=5, exclude=[0], penalty_factor=[1, 2, 1, 1, 0.5, 1],
                          baselines=False)
    _assert_same(padded, plain, X)


def test_a_padded_put_drops_the_padding_copies():
    # segments.run_pass puts a sub-stack back with its padding copies at index K: JAX's scatter drops them.
    import jax

    from kerasnet.path.stacked import put
    from kerasnet.path.step import MemberState

    state = MemberState([np.zeros((4, 2), "float32")], [], [])
    sub = MemberState([np.array([[1, 1], [2, 2], [9, 9]], "float32")], [], [])
    out = jax.jit(put)(state, np.array([3, 1, 4], "int32"), sub)
    np.testing.assert_array_equal(np.asarray(out.trainable[0]), [[0, 0], [2, 2], [0, 0], [1, 1]])
