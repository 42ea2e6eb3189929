"""One home for weighted standardization (kerasnet.standardization) and for row norms (kerasnet.proximal)."""

import numpy as np
import pandas as pd
import pytest

from kerasnet.path.inputs import flat_inputs
from kerasnet.path.sources import Chunks
from kerasnet.path.standardize import chunked_statistics, standardizer
from kerasnet.preprocessing import Preprocessor
from kerasnet.proximal import numpy_row_norms, row_norms
from kerasnet.standardization import weighted_moments


def test_weighted_moments_are_the_weighted_population_statistics():
    rng = np.random.default_rng(0)
    X, w = rng.normal(3.0, 2.0, size=(300, 4)), rng.uniform(0, 2, size=300)
    mean, sd = weighted_moments(X, w)
    want = np.average(X, axis=0, weights=w)
    np.testing.assert_allclose(mean, want, rtol=1e-13)
    np.testing.assert_allclose(sd, np.sqrt(np.average((X - want) ** 2, axis=0, weights=w)), rtol=1e-12)
    assert mean.dtype == sd.dtype == np.float64


@pytest.mark.parametrize("value", [0.1, 1e9 + 0.3, -7.7])
def test_a_constant_column_is_its_value_with_scale_one_everywhere(value):
    # The mean of sixty 0.1s is not 0.1 in floating point: the rule must not depend on that rounding.
    n = 60
    X = np.column_stack([np.full(n, value), np.linspace(0.0, 1.0, n)])
    w = np.where(np.arange(n) % 7 == 0, 0.0, 1.0 + np.arange(n) % 3)
    X[w == 0, 0] = 5.0  # rows of weight 0 do not make a column vary
    mean, sd = weighted_moments(X, w)
    assert mean[0] == value and sd[0] == 1.0 and sd[1] < 1.0
    # The path: in memory, and streamed in chunks whose first holds no row of the set.
    rows = np.arange(n) >= 20
    m, s = standardizer(X, rows, True, w)
    assert m[0] == np.float32(value) and s[0] == 1.0
    sets = np.stack([rows, np.ones(n, bool)])
    cm, cs, _ = chunked_statistics(Chunks.blocks(X, size=20), sets, w, np.ones((n, 1)))
    assert cm[0, 0] == np.float32(value) and cs[0, 0] == 1.0 and cs[1, 0] == 1.0
    np.testing.assert_allclose(cm[0], m, rtol=1e-6)
    np.testing.assert_allclose(cs[0], s, rtol=1e-6)
    # The grid's flat inputs and the Preprocessor: the same rule (exactly 0, not +-1 or NaN).
    assert np.all(flat_inputs(X, w)[w > 0, 0] == 0.0)
    pre = Preprocessor().fit(pd.DataFrame({"c": np.full(n, value)}))
    assert pre.columns_[0]["mean"] == value and pre.columns_[0]["scale"] == 1.0
    assert np.all(pre.transform(pd.DataFrame({"c": np.full(3, value)})) == 0.0)


def test_a_tiny_real_spread_is_divided_by():
    x = np.array([[1.0], [1.0 + 2.0**-40]])
    mean, sd = weighted_moments(x)
    assert sd[0] == pytest.approx(2.0**-41) and mean[0] == pytest.approx(1.0)


def test_row_norms_in_numpy_and_keras_ops_agree():
    kernel = np.random.default_rng(1).normal(size=(5, 3, 2)).astype("float32")
    kernel[2] = 0.0
    got = numpy_row_norms(kernel)
    assert got.dtype == np.float64 and got[2] == 0.0
    np.testing.assert_allclose(np.asarray(row_norms(kernel)), got, rtol=1e-6)
    np.testing.assert_allclose(got, np.linalg.norm(kernel.reshape(5, -1).astype(float), axis=1), rtol=1e-12)
