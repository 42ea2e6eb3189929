"""Honest cross-validation in fit_path: cross-fit early stopping, glmnet's measures, folds and
weights as given. Expected values are computed independently (scikit-learn's metrics, numpy)."""

import numpy as np
import pytest
from sklearn import metrics
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import GroupKFold, PredefinedSplit

from kerasnet import fit_path
from kerasnet.path.stopping import EarlyStopping

# baselines=False: no test here reads Path.baselines_ (tests/test_baselines.py covers them).
FAST = {"hidden": (8,), "epochs": 15, "verbose": 0, "seed": 0, "baselines": False}


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X[::2], y[::2]  # 285 rows: fast, both classes well represented


# --------------------------------------------------------------------------- cross-fit stopping


def test_each_fold_keeps_the_epoch_the_other_folds_chose():
    # 3 folds of one strength; objective curves over 6 epochs, fold 0's own curve misleading.
    curves = np.array([
        [5.0, 1.0, 9.0, 9.0, 9.0, 9.0],  # fold 0 alone would pick epoch 2
        [5.0, 4.0, 3.0, 2.5, 2.6, 2.7],
        [5.0, 4.0, 3.0, 2.4, 2.5, 2.6],
    ])
    stop = EarlyStopping(np.ones(3, bool), patience=2, groups=np.zeros(3, int))
    running = np.ones(3, bool)
    for epoch in range(curves.shape[1]):
        _, halt = stop.update(epoch, curves[:, epoch], running)
        running &= ~halt
    others = [curves[[1, 2]].mean(0), curves[[0, 2]].mean(0), curves[[0, 1]].mean(0)]
    # Fold f keeps the best epoch of the other folds' mean, searched until it stalled 2 epochs.
    expected = [int(np.argmin(c[:6])) + 1 for c in others]
    assert stop.best_epoch.tolist() == expected == [4, 2, 2]
    assert stop.chosen_epoch().tolist() == [int(np.argmin(curves.mean(0))) + 1] * 3
    # Changing fold 0's own numbers never moves fold 0's epoch.
    mine = EarlyStopping(np.ones(3, bool), patience=2, groups=np.zeros(3, int))
    changed = curves.copy()
    changed[0] = [1.0, 9.0, 0.5, 0.1, 9.0, 9.0]
    running = np.ones(3, bool)
    for epoch in range(changed.shape[1]):
        _, halt = mine.update(epoch, changed[:, epoch], running)
        running &= ~halt
    assert mine.best_epoch[0] == stop.best_epoch[0]


def test_a_diverged_fold_stops_its_whole_strength():
    stop = EarlyStopping(np.ones(4, bool), patience=5, groups=np.array([0, 0, 1, 1]))
    running = np.ones(4, bool)
    _, halt = stop.update(0, np.array([1.0, 1.0, 1.0, 1.0]), running)
    _, halt = stop.update(1, np.array([np.nan, 0.9, 0.9, 0.9]), running)
    assert halt.tolist() == [True, True, False, False]


@pytest.mark.parametrize("measure", ["class", "deviance"])
def test_cv_estimate_on_pure_noise_is_not_better_than_chance(measure):
    # Labels independent of X: no fold can be predicted better than the best constant
    # (the majority class / the class frequencies). 40 seeds, fixed tiny strength, defaults.
    gains = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        X, y = rng.normal(size=(200, 10)), rng.integers(0, 2, 200)
        path = fit_path(X, y, hidden=(64, 64), lambdas=[1e-4], epochs=100, seed=seed, verbose=0,
                        measure=measure, baselines=False)  # the network's own CV estimate only
        q = y.mean()
        if measure == "class":  # accuracy above the majority rate
            gains.append((1 - path.cv_mean_[0]) - max(q, 1 - q))
        else:  # log loss below the entropy of the class frequencies
            gains.append(-(path.cv_mean_[0] / 2 + q * np.log(q) + (1 - q) * np.log(1 - q)))
    gains = np.array(gains)
    se = gains.std(ddof=1) / np.sqrt(len(gains))
    assert gains.mean() <= se, (gains.mean(), se)


# --------------------------------------------------------------------------- measures


def test_measures_equal_scikit_learn_metrics_per_fold(cancer):
    X, y = cancer
    foldid = np.arange(len(y)) % 3
    weight = 1.0 + (np.arange(len(y)) % 4)
    path = fit_path(X, y, lambdas=[0.05, 0.005], foldid=foldid, sample_weight=weight, keep=True, **FAST)
    w = weight * len(y) / weight.sum()
    for i in range(2):
        p = path.oof_predictions_[i][:, 0]
        for f in range(3):
            rows = foldid == f
            yt, pt, wt = y[rows], p[rows], w[rows]
            expected = {
                "deviance": 2 * metrics.log_loss(yt, np.clip(pt, 1e-5, 1 - 1e-5), sample_weight=wt),
                "class": 1 - metrics.accuracy_score(yt, pt > 0.5, sample_weight=wt),
                "auc": metrics.roc_auc_score(yt, pt, sample_weight=wt),
                "mse": 2 * metrics.mean_squared_error(yt, pt, sample_weight=wt),  # both classes' columns
                "mae": 2 * metrics.mean_absolute_error(yt, pt, sample_weight=wt),
            }
            for name, value in expected.items():
                assert path.cv_measures_[name][i, f] == pytest.approx(value, rel=1e-6, abs=1e-9), name
    # glmnet's cvm / cvsd: folds weighted by their total row weight.
    values, fw = path.cv_measures_["deviance"], np.array([w[foldid == f].sum() for f in range(3)])
    mean = (values * fw).sum(1) / fw.sum()
    se = np.sqrt((np.square(values - mean[:, None]) * fw).sum(1) / fw.sum() / 2)
    np.testing.assert_allclose(path.cv_mean_, mean, rtol=1e-12)
    np.testing.assert_allclose(path.cv_se_, se, rtol=1e-12)


@pytest.mark.parametrize("measure, better", [("auc", np.nanargmax), ("deviance", np.nanargmin),
                                             ("class", np.nanargmin)])
def test_selection_follows_the_measure(cancer, measure, better):
    X, y = cancer
    path = fit_path(X, y, n_lambdas=5, measure=measure, cv=3, **FAST)
    assert path.measure == measure and f"cv_{measure}" == path.to_frame().columns[3]
    i = better(path.cv_mean_)
    assert path.cv_mean_[path.index_min_] == path.cv_mean_[i]
    sign = 1 if path.greater_is_better else -1
    within = sign * path.cv_mean_ >= sign * path.cv_mean_[path.index_min_] - path.cv_se_[path.index_min_]
    assert path.lambda_1se_ == path.lambdas_[within].max()


def test_regression_measures_are_in_the_units_of_y():
    X, y = load_diabetes(return_X_y=True)
    foldid = np.arange(len(y)) % 3
    path = fit_path(X, y, lambdas=[0.01], foldid=foldid, keep=True, measure="mae", **FAST)
    pred = path.oof_predictions_[0][:, 0]
    for f in range(3):
        rows = foldid == f
        mae = metrics.mean_absolute_error(y[rows], pred[rows])
        assert path.cv_measures_["mae"][0, f] == pytest.approx(mae)
        assert path.cv_measures_["deviance"][0, f] == pytest.approx(
            metrics.mean_squared_error(y[rows], pred[rows]), rel=1e-6)
        assert path.cv_measures_["r2"][0, f] == pytest.approx(metrics.r2_score(y[rows], pred[rows]), rel=1e-6)
    with pytest.raises(ValueError, match="does not apply to task 'regression'"):
        fit_path(X, y, measure="auc", **FAST)


# --------------------------------------------------------------------------- folds as given


class _Purged:
    """Two splits that leave a band of rows in neither set (a purge, as in time series)."""

    def __init__(self, n):
        self.n = n

    def split(self, X, y=None, groups=None):
        idx = np.arange(self.n)
        third = self.n // 3
        yield idx[2 * third:], idx[:third]  # rows third..2*third are purged
        yield idx[:third], idx[2 * third:]


def test_rows_outside_a_split_are_never_trained_on(cancer):
    X, y = cancer
    n = len(y)
    band = slice(n // 3, 2 * (n // 3))
    changed = y.copy()
    changed[band] = 1 - changed[band]  # purged rows: their labels must not matter
    a = fit_path(X, y, lambdas=[0.01, 0.001], cv=_Purged(n), **FAST)
    b = fit_path(X, changed, lambdas=[0.01, 0.001], cv=_Purged(n), **FAST)
    np.testing.assert_array_equal(a.cv_scores_, b.cv_scores_)
    np.testing.assert_array_equal(a.best_epoch_, b.best_epoch_)


def test_foldid_equals_the_same_predefined_split(cancer):
    X, y = cancer
    foldid = np.random.default_rng(1).integers(0, 4, len(y))
    a = fit_path(X, y, n_lambdas=3, foldid=foldid, **FAST)
    b = fit_path(X, y, n_lambdas=3, cv=PredefinedSplit(foldid), **FAST)
    np.testing.assert_array_equal(a.cv_scores_, b.cv_scores_)
    assert a.cv_scores_.shape == (len(a.lambdas_), 4)  # 3, or more where the bottom was extended


def test_groups_never_straddle_train_and_test(cancer):
    X, y = cancer
    groups = np.arange(len(y)) // 7
    a = fit_path(X, y, n_lambdas=2, cv=GroupKFold(3), groups=groups, keep=True, **FAST)
    foldid = np.full(len(y), -1)
    for f, (_, test) in enumerate(GroupKFold(3).split(X, y, groups)):
        foldid[test] = f
    b = fit_path(X, y, n_lambdas=2, foldid=foldid, **FAST)
    np.testing.assert_array_equal(a.cv_scores_, b.cv_scores_)
    # An int cv with groups keeps each group inside one test fold.
    c = fit_path(X, y, n_lambdas=2, cv=3, groups=groups, keep=True, **FAST)
    assert np.isfinite(c.oof_predictions_).all()


def test_a_single_split_is_refused(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="at least 2"):
        fit_path(X, y, cv=[(np.arange(100), np.arange(100, 200))], **FAST)


def test_out_of_fold_predictions_cover_every_row_once(cancer):
    X, y = cancer
    path = fit_path(X, y, n_lambdas=3, cv=4, keep=True, **FAST)
    assert path.oof_predictions_.shape == (len(path.lambdas_), len(y), 1)  # the grid, extended or not
    assert np.isfinite(path.oof_predictions_).all()
    assert ((path.oof_predictions_ > 0) & (path.oof_predictions_ < 1)).all()
    assert fit_path(X, y, n_lambdas=3, cv=4, **FAST).oof_predictions_ is None


# --------------------------------------------------------------------------- weights


@pytest.mark.backend
def test_integer_weights_equal_repeated_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    weight = rng.integers(1, 4, 60)
    foldid = np.arange(60) % 3
    repeat = np.repeat(np.arange(60), weight)
    common = {"hidden": (4,), "n_lambdas": 4, "epochs": 25, "batch_size": 1000, "learning_rate": 1e-2,
              "seed": 0, "verbose": 0, "baselines": False}
    a = fit_path(X, y, sample_weight=weight, foldid=foldid, **common)
    b = fit_path(X[repeat], y[repeat], foldid=foldid[repeat], **common)
    np.testing.assert_allclose(a.lambdas_, b.lambdas_, rtol=1e-6)
    np.testing.assert_allclose(a.cv_mean_, b.cv_mean_, rtol=2e-4, atol=1e-6)
    np.testing.assert_array_equal(a.best_epoch_, b.best_epoch_)
    for wa, wb in zip(a.weights_[-1], b.weights_[-1], strict=True):
        np.testing.assert_allclose(wa, wb, rtol=2e-3, atol=2e-5)


def test_refit_trains_the_steps_the_folds_chose(cancer):
    X, y = cancer
    path = fit_path(X, y, n_lambdas=3, cv=3, batch_size=16, **FAST)
    chosen = path.history_["cv"].chosen_epoch.reshape(len(path.lambdas_), 3)[:, 0]
    fold_steps = np.mean([np.ceil(((np.arange(len(y)) >= 0).sum() - len(t)) / 16) for t in
                          np.array_split(np.arange(len(y)), 3)])
    expected = np.maximum(1, np.round(chosen * fold_steps / np.ceil(len(y) / 16)))
    np.testing.assert_array_equal(path.refit_epochs_, expected)
