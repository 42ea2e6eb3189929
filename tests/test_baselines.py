"""The path's baselines: the null model on the path's own folds (by hand), the linear path on the
same splits, and the sentences that set the network against them."""

import numpy as np
import pytest

from kerasnet.path.baselines import Baselines, baseline_sentences, null_measures, verdict


def _summary(values, weights):
    """glmnet's cvm / cvsd written out: weighted mean, sqrt(weighted mean square / (F - 1))."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    mean = np.sum(weights * values) / np.sum(weights)
    se = np.sqrt(np.sum(weights * (values - mean) ** 2) / np.sum(weights) / (len(values) - 1))
    return mean, se


def _folds(n, k=3):
    foldid = np.arange(n) % k
    return np.stack([foldid != f for f in range(k)]), np.stack([foldid == f for f in range(k)])


def test_null_regression_is_the_training_mean_scored_on_the_test_rows():
    rng = np.random.default_rng(0)
    y, w = rng.normal(3.0, 2.0, 17), rng.uniform(0.5, 2.0, 17)
    train, test = _folds(17)
    got = null_measures("regression", y, w, train, test, fold_weights=(test * w).sum(axis=1))
    mse, mae, r2 = [], [], []
    for tr, te in zip(train, test, strict=True):
        mean = np.sum(w[tr] * y[tr]) / np.sum(w[tr])  # the intercept-only fit on the training rows
        mse.append(np.sum(w[te] * (y[te] - mean) ** 2) / np.sum(w[te]))
        mae.append(np.sum(w[te] * np.abs(y[te] - mean)) / np.sum(w[te]))
        own = np.sum(w[te] * y[te]) / np.sum(w[te])
        r2.append(1 - np.sum(w[te] * (y[te] - mean) ** 2) / np.sum(w[te] * (y[te] - own) ** 2))
    weights = (test * w).sum(axis=1)
    np.testing.assert_allclose(got["deviance"], _summary(mse, weights))
    np.testing.assert_allclose(got["mse"], _summary(mse, weights))
    np.testing.assert_allclose(got["mae"], _summary(mae, weights))
    np.testing.assert_allclose(got["r2"], _summary(r2, weights))
    assert got["r2"][0] < 0  # the training mean is worse on a fold than the fold's own mean


def test_null_binary_and_multiclass_are_the_training_shares():
    rng = np.random.default_rng(1)
    for task, k in (("binary", 2), ("multiclass", 3)):
        y, w = rng.integers(0, k, 30), rng.uniform(0.5, 2.0, 30)
        train, test = _folds(30)
        got = null_measures(task, y, w, train, test, fold_weights=(test * w).sum(axis=1))
        dev, err = [], []
        for tr, te in zip(train, test, strict=True):
            share = np.array([w[tr][y[tr] == c].sum() for c in range(k)]) / w[tr].sum()
            dev.append(np.sum(w[te] * -2 * np.log(share[y[te]])) / w[te].sum())
            err.append(np.sum(w[te] * (y[te] != np.argmax(share))) / w[te].sum())
        weights = (test * w).sum(axis=1)
        np.testing.assert_allclose(got["deviance"], _summary(dev, weights))
        np.testing.assert_allclose(got["class"], _summary(err, weights))
        if task == "binary":
            # one score for every row: every pair a tie
            np.testing.assert_allclose(got["auc"], (0.5, 0.0), atol=1e-12)


def test_null_poisson_carries_the_offset():
    rng = np.random.default_rng(2)
    offset = rng.normal(0, 0.5, 24)
    y, w = rng.poisson(np.exp(offset) * 2.0).astype(float), np.ones(24)
    train, test = _folds(24)
    got = null_measures("poisson", y, w, train, test, offset=offset, fold_weights=test.sum(axis=1))
    dev = []
    for tr, te in zip(train, test, strict=True):
        mu = np.exp(offset[te]) * y[tr].sum() / np.exp(offset[tr]).sum()
        ylog = np.where(y[te] > 0, y[te] * np.log(np.where(y[te] > 0, y[te], 1) / mu), 0.0)
        dev.append(np.mean(2 * (ylog - (y[te] - mu))))
    np.testing.assert_allclose(got["deviance"], _summary(dev, test.sum(axis=1)))


def test_null_cox_is_the_grouped_deviance_at_eta_zero():
    rng = np.random.default_rng(3)
    n = 21
    time = rng.permutation(n) + 1.0  # distinct times: no saturated term
    event = (rng.uniform(size=n) < 0.7).astype(float)
    event[:3] = 1.0  # an event in every fold
    y, w = np.stack([time, event], axis=1), np.ones(n)
    train, test = _folds(n)

    def deviance(rows):  # 2 * sum over events of log |risk set| (eta = 0, unit weights)
        t, e = time[rows], event[rows]
        return 2 * sum(np.log((t >= ti).sum()) for ti, ei in zip(t, e, strict=True) if ei)

    events = (test * event).sum(axis=1)
    got = null_measures("cox", y, w, train, test, fold_weights=test.sum(axis=1),
                        measure_weights={"deviance": events})
    by_hand = [(deviance(np.ones(n, bool)) - deviance(tr)) / e for tr, e in zip(train, events, strict=True)]
    np.testing.assert_allclose(got["deviance"], _summary(by_hand, events))
    np.testing.assert_allclose(got["cindex"], (0.5, 0.0), atol=1e-12)  # eta = 0: every comparable pair a tie


# (mean, se, baseline, greater_is_better) -> verdict
CASES = [
    (0.30, 0.05, 0.40, False, "beats"),
    (0.30, 0.05, 0.34, False, "within"),
    (0.30, 0.05, 0.25, False, "within"),
    (0.30, 0.05, 0.20, False, "loses"),
    (0.95, 0.01, 0.90, True, "beats"),
    (0.95, 0.01, 0.945, True, "within"),
    (0.90, 0.01, 0.95, True, "loses"),
    (0.90, float("nan"), 0.95, True, None),
    (0.90, 0.01, None, True, None),
]


@pytest.mark.parametrize("mean, se, baseline, greater, expected", CASES)
def test_verdict_follows_the_measure_direction(mean, se, baseline, greater, expected):
    assert verdict(mean, se, baseline, greater) == expected


def _record(null, linear, greater=False, linear_se=0.01):
    return Baselines("deviance" if not greater else "auc", greater, null, 0.01, linear_mean=linear,
                     linear_se=None if linear is None else linear_se, linear_lambda=0.1).to_record()


def test_sentences_recommend_the_linear_model_when_it_does_not_lose():
    within = baseline_sentences(_record(1.3, 0.31), [("lambda_1se", 0.30, 0.05)])
    assert "beats the null model" in within[0] and "is within one SE of the linear" in within[0]
    assert any("prefer it (simpler, faster)" in s for s in within)
    loses = baseline_sentences(_record(1.3, 0.2), [("lambda_1se", 0.30, 0.05)])
    assert any("scores better than the network: prefer it" in s for s in loses)
    beats = baseline_sentences(_record(1.3, 0.5), [("lambda_1se", 0.30, 0.05), ("lambda_min", 0.28, 0.05)])
    assert not any("prefer it" in s for s in beats) and any("earn their cost" in s for s in beats)
    mixed = baseline_sentences(_record(1.3, 0.4), [("lambda_1se", 0.36, 0.05), ("lambda_min", 0.28, 0.05)])
    assert any("only at lambda_min" in s for s in mixed)


def test_sentences_on_a_greater_is_better_measure_and_a_null_network():
    auc = baseline_sentences(_record(0.5, 0.97, greater=True), [("lambda_1se", 0.99, 0.005)])
    assert "beats the null model" in auc[0] and "beats the linear" in auc[0]
    worse = baseline_sentences(_record(0.5, 0.97, greater=True), [("lambda_1se", 0.93, 0.01)])
    assert "loses to the linear" in worse[0]
    null = baseline_sentences(_record(10.59, 10.48, linear_se=0.12), [("lambda_1se", 10.477, 0.124)])
    assert "is within one SE of the null model (10.59)" in null[0]
    assert any("does not beat the null model" in s for s in null)
    assert "10.48 +- 0.12" in null[0]  # 4 significant digits


def test_fit_path_baselines_use_the_path_folds():
    from kerasnet import fit_path

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    w = rng.uniform(0.5, 2.0, 60)
    foldid = np.arange(60) % 3
    settings = {"n_lambdas": 3, "epochs": 3, "seed": 0, "verbose": 0, "sample_weight": w}
    path = fit_path(X, y, hidden=(4,), foldid=foldid, **settings)
    b = path.baselines_
    weight = w * 60 / w.sum()
    train, test = np.stack([foldid != f for f in range(3)]), np.stack([foldid == f for f in range(3)])
    dev = []
    for tr, te in zip(train, test, strict=True):
        p = np.sum(weight[tr] * y[tr]) / weight[tr].sum()
        dev.append(np.sum(weight[te] * -2 * np.log(np.where(y[te] == 1, p, 1 - p))) / weight[te].sum())
    np.testing.assert_allclose((b.null_mean, b.null_se), _summary(dev, (test * weight).sum(axis=1)))
    # The linear baseline is the linear path on the same splits (trained as it is: rate 1e-2, all epochs).
    pairs = [(np.flatnonzero(tr), np.flatnonzero(te)) for tr, te in zip(train, test, strict=True)]
    linear = fit_path(X, y, hidden=(), cv=pairs, learning_rate=1e-2, early_stopping=False, baselines=False,
                      **settings)
    i = linear.index_min_
    np.testing.assert_allclose((b.linear_mean, b.linear_se, b.linear_lambda),
                               (linear.cv_mean_[i], linear.cv_se_[i], linear.lambdas_[i]), rtol=1e-5)
    text = str(path)
    assert "Baselines on the same folds (CV deviance): null model" in text and "At lambda_1se" in text
    assert linear.baselines_ is None and "Baselines" not in str(linear)


def test_a_linear_path_has_no_linear_baseline_and_false_skips_both():
    from kerasnet import fit_path

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    path = fit_path(X, y, hidden=(), n_lambdas=3, epochs=2, seed=0, verbose=0)
    assert path.baselines_.linear_mean is None and "linear" in path.baselines_.linear_skipped
    assert "No linear baseline: the path is the linear model" in str(path)
    with pytest.raises(ValueError, match="baselines must be True or False"):
        fit_path(X, y, baselines="yes")
