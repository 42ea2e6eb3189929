"""The default strength grid (``_grid.default_lambdas``): its formulas, and that it covers the
useful range of a network's path for every l1_ratio (issue 10, item 7)."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.linear_model import ElasticNet
from sklearn.preprocessing import StandardScaler

from kerasnet.path import fit_path
from kerasnet.path import grid as _grid

RATIOS = (0.0, 0.01, 0.5, 1.0)
TASKS = ("binary", "multiclass", "regression")


def _toy(task, n=60, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = StandardScaler().fit_transform(rng.normal(size=(n, d)) @ rng.normal(size=(d, d)))
    z = X @ rng.normal(size=d) + rng.normal(size=n)
    if task == "regression":
        return X, (z - z.mean()) / z.std()
    if task == "binary":
        return X, (z > 0).astype(int)
    return X, np.digitize(z, np.quantile(z, [1 / 3, 2 / 3]))


def _scales(X, y, task):
    """The lasso and ridge scales from first principles: one-hot residual, c = 2 for MSE."""
    n = len(y)
    Y = np.eye(3)[y] if task == "multiclass" else np.asarray(y, float).reshape(n, 1)
    G = (2.0 if task == "regression" else 1.0) * X.T @ (Y - Y.mean(axis=0)) / n
    return np.abs(G).max(), np.linalg.svd(G, compute_uv=False)[0]


# ----------------------------------------------------------------------------- pure grid rules


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("linear", [False, True])
def test_grid_is_positive_log_spaced_descending(task, ratio, linear):
    X, y = _toy(task)
    grid = _grid.default_lambdas(X, y, task, ratio, 12, 1e-3, linear=linear)
    assert grid.shape == (12,) and np.all(grid > 0) and np.all(np.diff(grid) < 0)
    np.testing.assert_allclose(np.diff(np.log(grid)), np.log(grid[1] / grid[0]), rtol=1e-10)


@pytest.mark.parametrize("task", TASKS)
def test_network_top_and_bottom_formulas(task):
    """top = min(s1/a, s2/(1-a)), bottom = lambda_min_ratio * min(top, s1)."""
    X, y = _toy(task)
    s1, s2 = _scales(X, y, task)
    assert s2 > s1  # several correlated features: the ridge scale is the larger one
    expected_top = {0.0: s2, 0.01: min(s1 / 0.01, s2 / 0.99), 0.5: min(2 * s1, 2 * s2), 1.0: s1}
    for ratio, top in expected_top.items():
        grid = _grid.default_lambdas(X, y, task, ratio, 5, 1e-2)
        assert grid[0] == pytest.approx(top, rel=1e-12)
        assert grid[-1] == pytest.approx(1e-2 * min(top, s1), rel=1e-12)
    # Ridge ends where the lasso ends, not 1000x above it (glmnet's s1 / 1e-3 fallback grid).
    assert _grid.default_lambdas(X, y, task, 0.0, 5, 1e-3)[-1] == pytest.approx(1e-3 * s1)


def test_multiclass_ridge_top_is_the_spectral_norm_not_frobenius():
    X, y = _toy("multiclass")
    Y = np.eye(3)[y]
    G = X.T @ (Y - Y.mean(axis=0)) / len(y)
    top = _grid.default_lambdas(X, y, "multiclass", 0.0, 3)[0]
    assert top == pytest.approx(np.linalg.norm(G, 2)) and top < np.linalg.norm(G) * 0.999


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("ratio", RATIOS)
def test_linear_model_keeps_glmnets_rule(task, ratio):
    X, y = _toy(task)
    grid = _grid.default_lambdas(X, y, task, ratio, 7, 1e-3, linear=True)
    np.testing.assert_array_equal(grid, _grid.lambda_grid(_grid.lambda_max(X, y, task, ratio), 7, 1e-3))


def test_linear_lasso_top_matches_sklearn_with_sample_weight():
    """Keras's MSE is 2x sklearn's objective: the weighted lasso is zero just above top/2."""
    X, y = _toy("regression", n=80)
    w = np.random.default_rng(1).integers(1, 5, size=80).astype(float)
    top = _grid.default_lambdas(X, y, "regression", 1.0, 3, sample_weight=w, linear=True)[0]
    for factor, all_zero in ((1.001, True), (0.99, False)):
        coef = ElasticNet(alpha=top / 2 * factor, l1_ratio=1.0, tol=1e-12).fit(X, y, sample_weight=w).coef_
        assert bool(np.all(coef == 0)) is all_zero


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("linear", [False, True])
def test_integer_weights_equal_repeated_rows(task, linear):
    X, y = _toy(task)
    w = np.random.default_rng(2).integers(0, 4, size=len(y))
    w[:3] = (0, 1, 3)
    for ratio in RATIOS:
        weighted = _grid.default_lambdas(X, y, task, ratio, 6, 1e-3, sample_weight=w, linear=linear)
        repeated = _grid.default_lambdas(np.repeat(X, w, axis=0), np.repeat(y, w), task, ratio, 6, 1e-3,
                                         linear=linear)
        np.testing.assert_allclose(weighted, repeated, rtol=1e-12)
        # Only the weights' proportions matter, and unit weights are no weights.
        np.testing.assert_allclose(
            _grid.default_lambdas(X, y, task, ratio, 6, 1e-3, sample_weight=2.5 * w, linear=linear), weighted,
            rtol=1e-12)
        np.testing.assert_allclose(
            _grid.default_lambdas(X, y, task, ratio, 6, 1e-3, sample_weight=np.ones(len(y)), linear=linear),
            _grid.default_lambdas(X, y, task, ratio, 6, 1e-3, linear=linear), rtol=1e-12)


def test_weighted_null_model_is_the_weighted_mean():
    X = np.array([[1.0], [-1.0], [0.0]])
    y = np.array([1.0, 0.0, 0.0])
    w = np.array([1.0, 1.0, 2.0])  # normalized to [0.75, 0.75, 1.5]; weighted mean 0.25
    G = _grid.null_gradient(X, y, "binary", w)
    assert G.item() == pytest.approx((0.75 * 0.75 + 0.75 * 0.25) / 3)
    assert _grid.lambda_max(X, y, "binary", 1.0, sample_weight=w) == pytest.approx(G.item())


def test_lambda_max_unchanged_without_weights():
    X, y = _toy("binary")
    r = y - y.mean()
    assert _grid.lambda_max(X, y, "binary", 0.5) == pytest.approx(np.abs(X.T @ r).max() / (len(y) * 0.5))


def test_zero_signal_is_refused():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="pass lambdas explicitly"):
        _grid.default_lambdas(X, np.array([0, 1, 0, 1]), "binary", 0.5)


# ----------------------------------------------------------------------------- the grid on real paths


def _prepared(name):
    loader, task = {"breast_cancer": (load_breast_cancer, "binary"),
                    "diabetes": (load_diabetes, "regression"), "wine": (load_wine, "multiclass")}[name]
    X, y = loader(return_X_y=True)
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    target = (y - y.mean()) / y.std() if task == "regression" else np.unique(y, return_inverse=True)[1]
    return X, y, Xs, target, task


def _accuracy_or_r2(path, task):
    """Mean CV accuracy (classifiers) or R^2 (regression) per strength, whatever the path's
    selection measure: kerasnet 0.1's ``cv_scores_``, or glmnet's measures ``class`` /
    ``r2`` where the path keeps them all (``cv_measures_``)."""
    if not hasattr(path, "cv_measures_"):
        return np.nanmean(path.cv_scores_, axis=1)
    if task == "regression":
        return path.cv_summary("r2")[0]
    return 1.0 - path.cv_summary("class")[0]


def _coverage(name, ratio, *, hidden, n_lambdas, cv, epochs, learning_rate, n_wide):
    """CV accuracy or R^2 along the default grid, a wide manual grid (1e3 .. 1e-6) and the
    old glmnet grid, from one stacked fit: members are independent and share folds,
    initial weights and batches, so each grid's members are what a fit of that grid alone
    would give."""
    X, y, Xs, target, task = _prepared(name)
    grids = {"default": _grid.default_lambdas(Xs, target, task, ratio, n_lambdas),
             "wide": np.geomspace(1e3, 1e-6, n_wide),
             "old": _grid.lambda_grid(_grid.lambda_max(Xs, target, task, ratio), n_lambdas)}
    lambdas = np.unique(np.concatenate(list(grids.values())))[::-1]
    path = fit_path(X, y, hidden=hidden, task=task, l1_ratio=ratio, lambdas=lambdas, cv=cv, epochs=epochs,
                    learning_rate=learning_rate, seed=0, verbose=0, baselines=False)
    score = _accuracy_or_r2(path, task)
    log_lambdas = np.log(path.lambdas_)
    at = {key: score[np.abs(log_lambdas - np.log(grid)[:, None]).argmin(axis=1)]
          for key, grid in grids.items()}
    null = np.bincount(target).max() / len(target) if task != "regression" else 0.0
    return at, null


@pytest.mark.parametrize("ratio", RATIOS)
def test_default_grid_covers_the_path_breast_cancer(ratio):
    """From a constant network (majority-class accuracy) to the wide grid's best, within 1 point."""
    at, majority = _coverage("breast_cancer", ratio, hidden=(8,), n_lambdas=12, cv=3, epochs=30,
                             learning_rate=1e-2, n_wide=20)
    assert at["default"][0] == pytest.approx(majority, abs=0.01)
    if ratio < 0.5:  # the ridge top is tight: one step down already learns (the lasso's is not)
        assert at["default"][1] > majority + 0.01
    assert at["default"].max() >= at["wide"].max() - 0.01
    if ratio == 0.0:  # glmnet's ridge fallback (s1/1e-3 .. s1) never reaches the good strengths
        assert at["old"].max() < at["wide"].max() - 0.02


@pytest.mark.slow
@pytest.mark.parametrize("name", ["breast_cancer", "diabetes", "wine"])
@pytest.mark.parametrize("ratio", RATIOS)
def test_default_grid_covers_the_path_full(name, ratio):
    at, null = _coverage(name, ratio, hidden=(16,), n_lambdas=32, cv=5, epochs=100, learning_rate=1e-2,
                         n_wide=40)
    assert at["default"][0] == pytest.approx(null, abs=0.03)
    assert at["default"].max() >= at["wide"].max() - 0.01
    assert at["default"][-1] == pytest.approx(at["wide"][-1], abs=0.01)  # the bottom: as if unpenalized
