"""_grid: glmnet's lambda_max, the log grid, cvm / cvsd and the lambda.min / lambda.1se rules.

Every number is checked against an outside reference: a hand computation written out in
the test, scipy's standard error, or glmnet's documented formulas.
"""

import warnings

import numpy as np
import pytest
from scipy import stats

from kerasnet.path import grid as _grid

# ----------------------------------------------------------------------------- lambda_max

# Three rows, two features, classes 0, 1, 2; worked by hand below.
X3 = np.array([[1.0, 2.0], [0.0, -1.0], [-1.0, 0.5]])
Y3 = np.array([0, 1, 2])


def test_lambda_max_multiclass_by_hand():
    # One-hot Y minus its column means (1/3 each):
    #   r = [[2/3, -1/3, -1/3], [-1/3, 2/3, -1/3], [-1/3, -1/3, 2/3]]
    # X'r: feature 1 -> [1, 0, -1]; feature 2 -> [1.5, -1.5, 0]; max |.| = 1.5, n = 3.
    assert _grid.lambda_max(X3, Y3, "multiclass", 1.0) == pytest.approx(0.5, rel=1e-12)
    assert _grid.lambda_max(X3, Y3, "multiclass", 0.5) == pytest.approx(1.0, rel=1e-12)
    # Labels as floats or as a column (as an encoder may give them): the same one-hot matrix.
    assert _grid.lambda_max(X3, Y3.astype(float), "multiclass", 1.0) == pytest.approx(0.5, rel=1e-12)
    assert _grid.lambda_max(X3, Y3[:, None], "multiclass", 1.0) == pytest.approx(0.5, rel=1e-12)


def test_lambda_max_regression_and_binary_gradient_factors_by_hand():
    # y = [3, 0, 0]: r = y - 1 = [2, -1, -1]; X'r = [3, 4.5]; max 4.5, n = 3.
    y = np.array([3.0, 0.0, 0.0])
    # mean squared error differentiates to 2 x'r / n: factor 2.
    assert _grid.lambda_max(X3, y, "regression", 1.0) == pytest.approx(2 * 4.5 / 3, rel=1e-12)
    # Cross-entropy at the null model: x'(y - p) / n, factor 1. y = [1, 0, 0]: r = [2/3, -1/3, -1/3].
    yb = np.array([1, 0, 0])
    assert _grid.lambda_max(X3, yb, "binary", 1.0) == pytest.approx(1.5 / 3, rel=1e-12)
    assert type(_grid.lambda_max(X3, yb, "binary", 1.0)) is float


def test_lambda_max_multi_output_regression_takes_the_largest_column():
    # Two targets: column 2 = 10 * column 1, so its correlation (and lambda_max) is 10x; Keras's
    # MSE averages the two outputs, so the gradient factor is 2 / 2.
    y = np.array([3.0, 0.0, 0.0])
    Y = np.column_stack([y, 10 * y])
    assert _grid.lambda_max(X3, Y, "regression", 1.0) == pytest.approx(10 * 1 * 4.5 / 3, rel=1e-12)


@pytest.mark.parametrize("l1_ratio", [0.0, 1e-4, 1e-3])
def test_lambda_max_ridge_uses_glmnets_alpha_floor(l1_ratio):
    # glmnet: for alpha below 1e-3 lambda_max is computed as if alpha were 1e-3.
    assert _grid.MIN_L1_RATIO_FOR_MAX == 1e-3
    assert _grid.lambda_max(X3, Y3, "multiclass", l1_ratio) == pytest.approx(0.5 / 1e-3, rel=1e-12)


# ----------------------------------------------------------------------------- lambda_grid


def test_lambda_grid_defaults_are_glmnets_32_points_down_to_1e3():
    grid = _grid.lambda_grid(5.0)
    assert grid.shape == (32,)
    # glmnet's sequence: lambda_k = lambda_max * ratio**(k / (n - 1)).
    expected = 5.0 * 1e-3 ** (np.arange(32) / 31)
    np.testing.assert_allclose(grid, expected, rtol=1e-12)


# ----------------------------------------------------------------------------- cv_summary


def test_cv_summary_is_scipys_standard_error():
    values = np.array([[0.9, 0.8, 0.85], [0.5, 0.6, 0.7], [0.1, 0.4, 0.4]])
    mean, se = _grid.cv_summary(values)
    np.testing.assert_allclose(mean, [0.85, 0.6, 0.3], rtol=1e-12)
    np.testing.assert_allclose(se, stats.sem(values, axis=1, ddof=1), rtol=1e-12)


def test_cv_summary_two_folds_and_one_fold():
    # Two folds: std(ddof=1) of {a, b} is |a - b| / sqrt(2), so se = |a - b| / 2.
    _, se = _grid.cv_summary([[1.0, 0.5], [0.25, 0.25]])
    np.testing.assert_allclose(se, [0.25, 0.0], atol=1e-15)
    # One fold has no spread to estimate: se 0 (not NaN), mean the value itself.
    mean, se = _grid.cv_summary([[0.7], [0.2]])
    np.testing.assert_array_equal(mean, [0.7, 0.2])
    np.testing.assert_array_equal(se, [0.0, 0.0])


def test_cv_summary_excluded_rows_are_nan_even_with_finite_values():
    # A refit that diverged excludes its strength although every fold scored.
    mean, se = _grid.cv_summary([[0.5, 0.7], [0.2, 0.4]], excluded=[[True, True], [False, False]])
    assert np.isnan(mean[0]) and np.isnan(se[0])
    np.testing.assert_allclose([mean[1], se[1]], [0.3, 0.1], rtol=1e-12)


def test_cv_summary_excludes_a_row_with_any_excluded_fold_and_is_silent_on_nan():
    values = np.array([[0.9, 0.8, 0.85], [0.5, np.nan, 0.7], [np.inf, 0.4, 0.4], [0.2, 0.4, 0.6]])
    excluded = np.array([[False] * 3, [False, True, False], [True, False, False], [False] * 3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # diverged members are expected: no RuntimeWarning
        mean, se = _grid.cv_summary(values, excluded)
    np.testing.assert_allclose(mean, [0.85, np.nan, np.nan, 0.4], rtol=1e-12)
    np.testing.assert_allclose(se, [stats.sem([0.9, 0.8, 0.85]), np.nan, np.nan, stats.sem([0.2, 0.4, 0.6])],
                               rtol=1e-12)


# ----------------------------------------------------------------------------- selection rules

# glmnet (cv.glmnet, with a loss, lower is better):
#   lambda.min = max(lambda[cvm == min(cvm)])
#   lambda.1se = max(lambda[cvm <= min(cvm) + cvsd[which(lambda == lambda.min)]])
# For a score (greater is better) the same rule with the sign flipped.


def _glmnet_1se(lambdas, cvm, cvsd):
    """cv.glmnet's getOptcv.glmnet, written out for a loss (NaN strengths dropped)."""
    lambdas, cvm, cvsd = (np.asarray(a, float) for a in (lambdas, cvm, cvsd))
    ok = ~np.isnan(cvm)
    lambdas, cvm, cvsd = lambdas[ok], cvm[ok], cvsd[ok]
    lambda_min = max(lambdas[cvm == cvm.min()])
    semin = cvsd[lambdas == lambda_min][0] + cvm.min()
    return lambda_min, max(lambdas[cvm <= semin])


def test_select_min_breaks_ties_towards_the_largest_strength_in_any_order():
    # Ascending lambdas: the first best index is not the largest strength.
    lambdas = [0.01, 0.1, 1.0, 10.0]
    assert _grid.select_min(lambdas, [0.5, 0.9, 0.9, 0.2]) == 2
    assert _grid.select_min(lambdas, [0.5, 0.1, 0.1, 0.9], greater_is_better=False) == 2
    # greater_is_better is on by default (scores): the largest mean wins.
    assert _grid.select_min([1.0, 0.1], [0.3, 0.8]) == 1
    assert _grid.select_min([1.0, 0.1], [0.3, 0.8], greater_is_better=False) == 0


def test_select_min_message_when_everything_diverged():
    message = r"^every strength diverged or has no CV score; nothing to select\.$"
    with pytest.raises(ValueError, match=message):
        _grid.select_min([1.0, 0.1], [np.nan, np.nan])


@pytest.mark.parametrize(
    "lambdas, cvm, cvsd",
    [
        # The boundary is inclusive (<=): 0.75 == 0.5 + 0.25 exactly in binary floating point.
        ([1.0, 0.5, 0.25, 0.125], [1.0, 0.75, 0.5, 0.625], [0.5, 0.5, 0.25, 0.5]),
        # The best strength's own cvsd, not the largest or another strength's.
        ([8.0, 4.0, 2.0, 1.0], [0.9, 0.7, 0.4, 0.5], [0.05, 0.05, 0.1, 0.5]),
        # A diverged (NaN) strength is never chosen, even the largest.
        ([8.0, 4.0, 2.0, 1.0], [np.nan, 0.7, 0.4, 0.5], [np.nan, 0.05, 0.35, 0.1]),
        # Ascending order and ties.
        ([0.125, 0.25, 0.5, 1.0], [0.5, 0.25, 0.25, 0.75], [0.0, 0.25, 0.5, 0.0]),
    ],
)
def test_select_1se_is_glmnets_rule(lambdas, cvm, cvsd):
    lambda_min, lambda_1se = _glmnet_1se(lambdas, cvm, cvsd)
    i_min = _grid.select_min(lambdas, cvm, greater_is_better=False)
    i_1se = _grid.select_1se(lambdas, cvm, cvsd, greater_is_better=False)
    assert (lambdas[i_min], lambdas[i_1se]) == (lambda_min, lambda_1se)
    # A score is a negated loss: the same choices with the default greater_is_better=True.
    assert _grid.select_min(lambdas, -np.asarray(cvm)) == i_min
    assert _grid.select_1se(lambdas, -np.asarray(cvm), cvsd) == i_1se


def test_select_1se_hand_table():
    lambdas = [1.0, 0.5, 0.25, 0.125]
    # Best score 0.75 at 0.25 with se 0.25: 0.5 is within (>= 0.5), 0.25 at 1.0 is not.
    assert _grid.select_1se(lambdas, [0.25, 0.5, 0.75, 0.625], [0.0, 0.0, 0.25, 0.0]) == 1
    # Without the se only the best itself qualifies.
    assert _grid.select_1se(lambdas, [0.25, 0.5, 0.75, 0.625], [1.0, 1.0, 0.0, 1.0]) == 2


# ----------------------------------------------------------------------------- weighted folds, default grid


def test_cv_summary_with_fold_weights_is_glmnets_weighted_cvm_and_cvsd():
    # cv.glmnet's cvcompute: cvm = weighted.mean(cvraw, w); cvsd = sqrt(weighted.mean((cvraw - cvm)^2, w)
    # / (N - 1)), written out by hand here.
    values = np.array([[1.0, 3.0, 2.0], [0.2, 0.4, 0.9]])
    w = np.array([1.0, 3.0, 4.0])
    mean, se = _grid.cv_summary(values, weights=w)
    for row, m, s in zip(values, mean, se, strict=True):
        cvm = sum(wi * v for wi, v in zip(w, row, strict=True)) / sum(w)
        cvsd = np.sqrt(sum(wi * (v - cvm) ** 2 for wi, v in zip(w, row, strict=True)) / sum(w) / (3 - 1))
        assert (m, s) == (pytest.approx(cvm, rel=1e-12), pytest.approx(cvsd, rel=1e-12))
    # The docstring's two-fold case, and equal weights giving the unweighted numbers.
    mean, se = _grid.cv_summary([[1.0, 3.0]], weights=[1.0, 3.0])
    assert (mean[0], se[0]) == (pytest.approx(2.5), pytest.approx(np.sqrt(0.75)))
    np.testing.assert_allclose(_grid.cv_summary(values, weights=[2.0, 2.0, 2.0])[1],
                               stats.sem(values, axis=1), rtol=1e-12)


# Four rows, y = [1, 1, 1, 0]: r = y - 0.75, X'r / n = [0.25, 0.25], so s1 = max|G| = 0.25 and
# s2 = ||G||_2 = sqrt(0.125).
XD = np.array([[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])
YD = np.array([1.0, 1.0, 1.0, 0.0])


def test_default_lambdas_defaults_and_tops_by_hand():
    grid = _grid.default_lambdas(XD, YD, "binary", 1.0)  # 32 points, down by 1e-3
    np.testing.assert_allclose(grid, 0.25 * 1e-3 ** (np.arange(32) / 31), rtol=1e-12)
    # l1_ratio 0.5: top = min(s1 / 0.5, s2 / 0.5) = 0.5; bottom = 1e-3 * min(top, s1).
    grid = _grid.default_lambdas(XD, YD, "binary", 0.5, 3)
    np.testing.assert_allclose(grid, [0.5, np.sqrt(0.5 * 0.25e-3), 0.25e-3], rtol=1e-12)
    # Linear models: glmnet's lambda_max (ridge floor 1e-3) and the ratio given.
    np.testing.assert_allclose(_grid.default_lambdas(XD, YD, "binary", 0.0, 2, 0.01, linear=True),
                               [250.0, 2.5], rtol=1e-12)
    np.testing.assert_allclose(_grid.default_lambdas(XD, YD, "binary", 1.0, linear=True),
                               _grid.lambda_grid(0.25), rtol=1e-12)


def test_default_lambdas_refuses_a_target_without_signal():
    message = (r"^the target is constant or uncorrelated with every feature \(the null model's gradient is "
               r"zero\): no default strengths; pass lambdas explicitly\.$")
    with pytest.raises(ValueError, match=message):
        _grid.default_lambdas(XD, np.ones(4), "regression", 0.5)
