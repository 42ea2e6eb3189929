"""glmnet's CV measures (:mod:`kerasnet.path.measures`) on data made here, against scikit-learn's
metrics and hand computations: ties, weights, multi-output, and the member bookkeeping."""

import numpy as np
import pytest
from sklearn import metrics

from kerasnet.path import device_measures, measures
from kerasnet.path.measures import cross_validated, fold_value, fold_values, per_row


def _weights(n, seed):
    return np.random.default_rng(seed).uniform(0.2, 3.0, size=n)


# --------------------------------------------------------------------------- auc


def test_a_constant_predictor_scores_auc_one_half():
    # The empty model at lambda_max predicts one probability for every row.
    y = np.array([0, 1, 1, 0, 1, 0, 0])
    assert measures.auc(y, np.full(7, 0.3)) == 0.5
    assert measures.auc(y, np.full(7, 0.3), _weights(7, 0)) == pytest.approx(0.5)
    assert fold_value("auc", "binary", y, np.full((7, 1), 0.8)) == 0.5


@pytest.mark.parametrize("weighted", [False, True])
def test_auc_with_tied_scores_is_sklearns(weighted):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=60)
    score = np.round(rng.uniform(size=60) * 0.6 + 0.4 * y, 1)  # few distinct values: many ties
    w = _weights(60, 2) if weighted else None
    expected = metrics.roc_auc_score(y, score, sample_weight=w)
    assert measures.auc(y, score, w) == pytest.approx(expected, rel=1e-12)
    # fold_value from a binary model's outputs (one sigmoid column)
    assert fold_value("auc", "binary", y, score[:, None], w) == pytest.approx(expected, rel=1e-12)


@pytest.mark.filterwarnings("error")  # NaN by the rule, not from 0 / 0
def test_auc_is_nan_with_one_class():
    assert np.isnan(measures.auc(np.ones(4), [0.1, 0.2, 0.3, 0.4]))
    assert np.isnan(measures.auc(np.zeros(4), [0.1, 0.2, 0.3, 0.4]))
    # one positive row of weight 1 (or less) is a class
    for w in (1.0, 0.5):
        weight = [1.0, 1.0, w, 1.0]
        assert measures.auc([0, 0, 1, 0], [0.1, 0.3, 0.2, 0.4], weight) == pytest.approx(
            metrics.roc_auc_score([0, 0, 1, 0], [0.1, 0.3, 0.2, 0.4], sample_weight=weight))
        assert measures.auc([1, 1, 0, 1], [0.1, 0.3, 0.2, 0.4], weight) == pytest.approx(
            metrics.roc_auc_score([1, 1, 0, 1], [0.1, 0.3, 0.2, 0.4], sample_weight=weight))
    # the only positive row has weight 0: one class left
    assert np.isnan(measures.auc([0, 0, 1, 0], [0.1, 0.2, 0.3, 0.4], [1.0, 1.0, 0.0, 1.0]))


# --------------------------------------------------------------------------- regression


@pytest.mark.parametrize("outputs", [1, 3])
def test_weighted_r2_is_sklearns(outputs):
    rng = np.random.default_rng(outputs)
    y = rng.normal(size=(40, outputs)) * [5.0, 1.0, 0.2][:outputs] + 3.0
    pred = y + rng.normal(size=(40, outputs))
    w = np.r_[np.full(20, 0.1), np.full(20, 4.0)] * _weights(40, 3)  # means far from the plain mean
    expected = metrics.r2_score(y, pred, sample_weight=w, multioutput="uniform_average")
    assert fold_value("r2", "regression", y, pred, w) == pytest.approx(expected, rel=1e-12)
    assert fold_value("r2", "regression", y, pred) == pytest.approx(metrics.r2_score(y, pred), rel=1e-12)
    small = 1e-3 * y  # a total sum of squares below 1
    expected = metrics.r2_score(small, 1e-3 * pred, sample_weight=w, multioutput="uniform_average")
    assert fold_value("r2", "regression", small, 1e-3 * pred, w) == pytest.approx(expected, rel=1e-10)


def test_r2_of_a_constant_target_is_nan():
    # no variance to explain (sklearn returns 0 or 1 there by convention; glmnet has no R^2)
    assert np.isnan(fold_value("r2", "regression", np.full(5, 2.0), np.arange(5.0)))
    assert np.isnan(fold_value("r2", "regression", np.full((5, 2), 2.0), np.zeros((5, 2))))


@pytest.mark.parametrize("outputs", [1, 2])
def test_regression_deviance_mse_mae_sum_over_outputs(outputs):
    rng = np.random.default_rng(5)
    y, pred, w = rng.normal(size=(30, outputs)), rng.normal(size=(30, outputs)), _weights(30, 6)
    mse = metrics.mean_squared_error(y, pred, sample_weight=w, multioutput="raw_values").sum()
    mae = metrics.mean_absolute_error(y, pred, sample_weight=w, multioutput="raw_values").sum()
    assert fold_value("deviance", "regression", y, pred, w) == pytest.approx(mse, rel=1e-12)
    assert fold_value("mse", "regression", y, pred, w) == pytest.approx(mse, rel=1e-12)
    assert fold_value("mae", "regression", y, pred, w) == pytest.approx(mae, rel=1e-12)


@pytest.mark.filterwarnings("error")  # y log y at y = 0 without a 0 * log 0 warning
def test_poisson_measures_are_sklearns_of_the_counts():
    rng = np.random.default_rng(7)
    y = rng.poisson(1.5, size=50).astype(float)
    y[:5] = 0.0  # y log y = 0 rows
    mu, w = rng.uniform(0.2, 4.0, size=(50, 1)), _weights(50, 8)
    expected = {"deviance": metrics.mean_poisson_deviance(y, mu[:, 0], sample_weight=w),
                "mse": metrics.mean_squared_error(y, mu[:, 0], sample_weight=w),
                "mae": metrics.mean_absolute_error(y, mu[:, 0], sample_weight=w)}
    for name, value in expected.items():
        assert fold_value(name, "poisson", y, mu, w) == pytest.approx(value, rel=1e-12), name
    # mu = y on a zero count: deviance 0 there (no 0 log 0)
    assert per_row("deviance", "poisson", np.array([0.0, 2.0]), np.array([[0.0], [2.0]])) == pytest.approx(0)


# --------------------------------------------------------------------------- classes


def test_binary_measures_are_sklearns():
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, size=40)
    p = rng.uniform(size=40)
    p[:4] = [0.0, 1.0, 1e-7, 0.5]  # clipped at glmnet's 1e-5; 0.5 predicts class 0 (p > 0.5 is 1)
    y[:4] = [1, 0, 1, 1]
    w = _weights(40, 10)
    onehot = np.eye(2)[y]
    P = np.column_stack([1 - p, p])
    expected = {
        "deviance": 2 * metrics.log_loss(y, np.clip(p, 1e-5, 1 - 1e-5), sample_weight=w),
        "class": 1 - metrics.accuracy_score(y, (p > 0.5).astype(int), sample_weight=w),
        "mse": metrics.mean_squared_error(onehot, P, sample_weight=w, multioutput="raw_values").sum(),
        "mae": metrics.mean_absolute_error(onehot, P, sample_weight=w, multioutput="raw_values").sum(),
    }
    for name, value in expected.items():
        assert fold_value(name, "binary", y, p[:, None], w) == pytest.approx(value, rel=1e-10), name
    assert per_row("class", "binary", [1], [[0.5]]) == 1.0 and per_row("class", "binary", [0], [[0.5]]) == 0.0
    assert per_row("deviance", "binary", [1, 0], [[0.0], [0.0]]) == pytest.approx(
        [-2 * np.log(1e-5), -2 * np.log(1 - 1e-5)])


def test_multiclass_measures_are_sklearns():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 3, size=45)
    y[:3] = [0, 1, 2]
    P = rng.dirichlet(np.ones(3), size=45)
    P[0] = [0.0, 0.5, 0.5]  # the true class at probability 0: clipped at 1e-5
    w = _weights(45, 12)
    onehot, Q = np.eye(3)[y], np.clip(P, 1e-5, 1)
    expected = {
        "class": 1 - metrics.accuracy_score(y, P.argmax(1), sample_weight=w),
        "mse": metrics.mean_squared_error(onehot, P, sample_weight=w, multioutput="raw_values").sum(),
        "mae": metrics.mean_absolute_error(onehot, P, sample_weight=w, multioutput="raw_values").sum(),
        # row 0 clipped and renormalized (by 1 + 1e-5): equal to ~1e-5 of that row's term
        "deviance": 2 * metrics.log_loss(y, Q / Q.sum(1, keepdims=True), sample_weight=w, labels=[0, 1, 2]),
    }
    for name, value in expected.items():
        assert fold_value(name, "multiclass", y, P, w) == pytest.approx(value, rel=1e-6), name
    assert per_row("deviance", "multiclass", [0], P[:1]) == pytest.approx([-2 * np.log(1e-5)])


@pytest.mark.filterwarnings("error")  # NaN by the rule, not from 0 / 0
def test_a_fold_of_zero_weight_is_nan():
    assert np.isnan(fold_value("mse", "regression", np.ones(3), np.zeros(3), np.zeros(3)))


# --------------------------------------------------------------------------- members and folds


def test_fold_values_scores_every_member_on_its_own_rows():
    rng = np.random.default_rng(13)
    n, V = 12, 5
    y, w = rng.integers(0, 2, size=n), _weights(n, 14)
    y[:2] = [0, 1]
    # members 0 and 2 share rows {0, 3, 5, 7, 8}; member 1 has rows {1, 2, 3}, its slots 3 and 4 padding;
    # member 3 shares member 1's rows but diverged; member 4 has no valid row
    index = np.array([[0, 3, 5, 7, 8], [1, 2, 3, 0, 0], [0, 3, 5, 7, 8], [1, 2, 3, 0, 0], [4, 6, 9, 10, 11]])
    valid = np.ones((5, V), bool)
    valid[[1, 3], 3:] = False
    valid[4] = False
    outputs = rng.uniform(size=(5, V, 1))
    outputs[3, 1] = np.nan
    y[[1, 2, 3]] = [1, 0, 1]  # both classes in member 1's rows
    for measure in ("mse", "auc", "deviance"):
        values = fold_values(measure, "binary", y, index, outputs, valid, w)
        for k in (0, 1, 2):
            rows, p = index[k][valid[k]], outputs[k][valid[k]][:, 0]
            if measure == "mse":
                expected = 2 * metrics.mean_squared_error(y[rows], p, sample_weight=w[rows])
            elif measure == "auc":
                expected = metrics.roc_auc_score(y[rows], p, sample_weight=w[rows])
            else:
                expected = 2 * metrics.log_loss(y[rows], p, sample_weight=w[rows], labels=[0, 1])
            assert values[k] == pytest.approx(expected, rel=1e-10), (measure, k)
        assert np.isnan(values[3]) and np.isnan(values[4])
    # multiclass mse from the shared one-hot classes: each member its own outputs
    P = rng.dirichlet(np.ones(3), size=(5, V))
    y3 = rng.integers(0, 3, size=n)
    values = fold_values("mse", "multiclass", y3, index, P, valid)
    for k in (0, 1, 2):
        rows = index[k][valid[k]]
        assert values[k] == pytest.approx(np.square(np.eye(3)[y3[rows]] - P[k][valid[k]]).sum(1).mean())


def test_cross_validated_is_strength_major_and_averages_overlapping_test_sets():
    rng = np.random.default_rng(15)
    n, L, F = 7, 2, 3
    y = rng.normal(size=n)
    tests = [np.array([0, 1, 2]), np.array([2, 3]), np.array([4, 2])]  # row 2 in all three, 5 and 6 in none
    # members k = i * (F + 1) + f; f = F is strength i's refit (not CV), scored on nothing
    V = 3
    K = L * (F + 1)
    index, valid = np.zeros((K, V), int), np.zeros((K, V), bool)
    outputs = rng.normal(size=(K, V, 1)) * 3
    for i in range(L):
        for f in range(F):
            k = i * (F + 1) + f
            index[k, :len(tests[f])], valid[k, :len(tests[f])] = tests[f], True
    is_cv = np.arange(K) % (F + 1) < F
    w = _weights(n, 16)
    values, oof = cross_validated((index, outputs, valid), is_cv, y, "regression", w, L, F, keep=True)
    assert set(values) == {"deviance", "mse", "mae", "r2"}
    for i in range(L):
        for f in range(F):
            k = i * (F + 1) + f
            pred = outputs[k, :len(tests[f]), 0]
            rows = tests[f]
            assert values["mae"][i, f] == pytest.approx(
                metrics.mean_absolute_error(y[rows], pred, sample_weight=w[rows]), rel=1e-12)
            assert values["mse"][i, f] == pytest.approx(
                metrics.mean_squared_error(y[rows], pred, sample_weight=w[rows]), rel=1e-12)
    # out of fold: each row the mean of the members whose test set holds it; NaN in no test set
    for i in range(L):
        for r in range(n):
            preds = [outputs[i * (F + 1) + f, list(tests[f]).index(r), 0] for f in range(F) if r in tests[f]]
            if preds:
                assert oof[i, r, 0] == pytest.approx(np.mean(preds), rel=1e-12)
            else:
                assert np.isnan(oof[i, r, 0])
    assert oof.shape == (L, n, 1)
    assert cross_validated((index, outputs, valid), is_cv, y, "regression", w, L, F, keep=False)[1] is None


# --------------------------------------------------------------------------- the table


def test_check_measure_refuses_unknown_and_inapplicable_measures():
    assert measures.check_measure("auc", "binary") == "auc"
    assert measures.check_measure("cindex", "cox") == "cindex"
    choices = r"one of deviance, cindex, class, auc, mse, mae, r2; received measure='accuracy'\."
    with pytest.raises(ValueError, match=choices):
        measures.check_measure("accuracy", "binary")
    with pytest.raises(ValueError, match=r"measure='auc' does not apply to task 'regression'; use one of "
                                         r"deviance, mse, mae, r2\.$"):
        measures.check_measure("auc", "regression")
    with pytest.raises(ValueError, match=r"use one of deviance, cindex\.$"):
        measures.check_measure("mse", "cox")
    with pytest.raises(ValueError, match=r"use one of deviance, class, mse, mae\.$"):
        measures.check_measure("r2", "multiclass")
    with pytest.raises(ValueError, match=r"use one of deviance, mse, mae\.$"):
        measures.check_measure("class", "poisson")


def test_direction_and_labels_of_the_measures():
    better = {m: measures.greater_is_better(m) for m in measures.MEASURES}
    assert better == {"deviance": False, "cindex": True, "class": False, "auc": True, "mse": False,
                      "mae": False, "r2": True}
    assert [measures.label(m) for m in ("deviance", "cindex", "class", "auc", "mse", "mae", "r2")] == [
        "deviance", "Harrell's C", "misclassification error", "AUC", "mean squared error",
        "mean absolute error", "R^2"]


@pytest.mark.filterwarnings("error")  # a row in no test set is NaN without a 0 / 0 warning
def test_cross_validated_with_two_outputs_and_a_row_in_no_test_set():
    rng = np.random.default_rng(17)
    y = rng.normal(size=(4, 2))
    index, valid = np.array([[0, 1], [2, 0]]), np.array([[True, True], [True, False]])
    outputs = rng.normal(size=(2, 2, 2))
    values, oof = cross_validated((index, outputs, valid), np.ones(2, bool), y, "regression", None, 1, 2,
                                  keep=True)
    for f, rows in enumerate(([0, 1], [2])):
        expected = metrics.mean_squared_error(y[rows], outputs[f, :len(rows)], multioutput="raw_values").sum()
        assert values["mse"][0, f] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(oof[0, :3], [outputs[0, 0], outputs[0, 1], outputs[1, 0]], rtol=1e-12)
    assert np.isnan(oof[0, 3]).all()


def test_fold_values_goes_on_past_an_empty_or_diverged_member():
    y = np.array([0, 1, 0, 1, 1, 0])
    index = np.array([[0, 0, 0], [0, 1, 2], [0, 1, 2], [3, 4, 5]])
    valid = np.array([[False] * 3, [True] * 3, [True] * 3, [True] * 3])  # member 0: no rows
    outputs = np.array([[0.5] * 3, [np.nan, 0.2, 0.3], [0.1, 0.7, 0.4], [0.9, 0.6, 0.2]])[:, :, None]
    values = fold_values("mse", "binary", y, index, outputs, valid)
    assert np.isnan(values[:2]).all()  # no rows; diverged (it comes before a member of the same rows)
    for k, rows in ((2, [0, 1, 2]), (3, [3, 4, 5])):
        assert values[k] == pytest.approx(2 * metrics.mean_squared_error(y[rows], outputs[k, :, 0]))


def test_fold_values_of_counts_and_values_need_no_classes():
    # mse of counts and of values far from 0 or 1: no one-hot classes are made of them
    y = np.array([3.0, 7.0, 12.0, 0.0])
    index, valid = np.array([[0, 1, 2, 3]]), np.ones((1, 4), bool)
    outputs = np.array([[[2.0], [5.0], [9.0], [1.0]]])
    for task in ("poisson", "regression"):
        for measure, metric in (("mse", metrics.mean_squared_error), ("mae", metrics.mean_absolute_error)):
            values = fold_values(measure, task, y, index, outputs, valid)
            assert values[0] == pytest.approx(metric(y, outputs[0, :, 0])), (task, measure)


# --------------------------------------------------------------------------- shared work and precision


def _shared_fold(task, seed):
    """Six members on three row sets: members 0-2 share rows A, 3-4 rows B (as long as A), member 5
    rows C (shorter); member 1 diverged. Outputs are probabilities of ``task``."""
    rng = np.random.default_rng(seed)
    n, V = 11, 4
    C = 2 if task == "binary" else 3
    y = np.arange(n) % C
    index = np.array([[0, 2, 4, 6]] * 3 + [[1, 3, 5, 7]] * 2 + [[8, 9, 10, 0]])
    valid = np.ones((6, V), bool)
    valid[5, 3] = False
    P = rng.dirichlet(np.ones(C), size=(6, V))
    outputs = P[:, :, 1:] if task == "binary" else P
    outputs[1, 2] = np.nan
    return y, index, outputs, valid, rng.uniform(0.5, 2.0, size=n)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("measure", ["mse", "mae", "deviance", "class"])
def test_members_sharing_rows_share_one_one_hot_of_their_classes(monkeypatch, task, measure):
    # fold_values' contract: members with the same validation rows (a fold's strengths) share the
    # rows' targets; the one-hot classes (mse, mae) are made once per row set, never per member, and
    # not at all for the measures that read only the true class.
    y, index, outputs, valid, w = _shared_fold(task, seed=19)
    made = []

    def one_hot(labels, n_classes):
        made.append(tuple(np.asarray(labels)))
        return np.eye(n_classes)[np.asarray(labels)]

    monkeypatch.setattr(measures, "_one_hot", one_hot)
    values = fold_values(measure, task, y, index, outputs, valid, w)
    if measure in ("mse", "mae"):
        assert made == [tuple(y[[0, 2, 4, 6]]), tuple(y[[1, 3, 5, 7]]), tuple(y[[8, 9, 10]])]
    else:
        assert made == []
    assert np.isnan(values[1])
    for k in (0, 2, 3, 4, 5):  # each member its own outputs on its own rows, by hand
        rows, out = index[k][valid[k]], outputs[k][valid[k]]
        P = np.column_stack([1 - out[:, 0], out[:, 0]]) if task == "binary" else out
        onehot = np.eye(P.shape[1])[y[rows]]
        per = {"mse": np.square(onehot - P).sum(1), "mae": np.abs(onehot - P).sum(1),
               "deviance": -2 * np.log(np.clip(P[np.arange(len(rows)), y[rows]], 1e-5, 1 - 1e-5)),
               "class": (P.argmax(1) != y[rows]).astype(float)}[measure]
        assert values[k] == pytest.approx(np.average(per, weights=w[rows]), rel=1e-12), k


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_float32_outputs_are_scored_at_float64_precision(task):
    # A network's outputs are float32; the measures are computed on their exact float64 values, as
    # scikit-learn computes them (a float32 log would be off by about 1e-8).
    rng = np.random.default_rng(21)
    C = 2 if task == "binary" else 3
    y = np.arange(50) % C
    P = rng.dirichlet(np.ones(C), size=50).astype(np.float32)
    out = P[:, 1:] if task == "binary" else P
    w = _weights(50, 22)
    P64 = P.astype(float)
    if task == "binary":
        p = P64[:, 1]
        expected = 2 * metrics.log_loss(y, np.clip(p, 1e-5, 1 - 1e-5), sample_weight=w)
    else:  # log_loss renormalizes float32 rows; the deviance reads the true class as given
        expected = np.average(-2 * np.log(np.clip(P64[np.arange(50), y], 1e-5, 1 - 1e-5)), weights=w)
    assert fold_value("deviance", task, y, out, w) == pytest.approx(expected, rel=1e-12)


@pytest.mark.filterwarnings("error")
def test_a_poisson_rate_that_underflowed_in_float32_gets_the_clamped_deviance():
    # exp(eta) of a float32 network underflows to 0 below eta = -104: the deviance of such a rate is
    # the one of the float64 rate 0, clamped at mu = 1e-300 (large, finite), not inf.
    y = np.array([2.0, 0.0, 1.0])
    mu32 = np.array([[0.0], [0.0], [1.5]], dtype=np.float32)
    by_hand = 2 * np.array([2 * np.log(2 / 1e-300) - 2, 0.0, np.log(1 / 1.5) + 0.5])
    np.testing.assert_allclose(per_row("deviance", "poisson", y, mu32), by_hand, rtol=1e-12)
    assert np.isfinite(fold_value("deviance", "poisson", y, mu32))


# --------------------------------------------------------------------------- on the device


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression", "poisson", "two outputs"])
def test_device_values_are_the_host_fold_values(monkeypatch, task):
    # device_values (what cross_validated runs for every task but Cox) against fold_values, member by
    # member: ties, weights, padding, a diverged member, a member without rows, members in blocks.
    rng = np.random.default_rng(23)
    n, K, V = 40, 7, 9
    if task in ("binary", "multiclass"):
        C = 2 if task == "binary" else 3
        y = rng.integers(0, C, size=n)
        P = rng.dirichlet(np.ones(C), size=(K, V))
        outputs = np.round(P[:, :, 1:] if task == "binary" else P, 1)  # rounded: tied scores
    elif task == "poisson":
        y = rng.poisson(1.5, size=n).astype(float)
        outputs = rng.uniform(0.2, 4.0, size=(K, V, 1))
    else:
        k = 2 if task == "two outputs" else 1
        y = rng.normal(size=(n, k)) * 3 + 1
        outputs = rng.normal(size=(K, V, k)) + 1
        task = "regression"
    index = np.stack([rng.permutation(n)[:V] for _ in range(K)])
    index[1] = index[0]  # members sharing rows
    valid = np.ones((K, V), bool)
    valid[2, 6:] = False
    valid[3] = False  # no rows
    outputs[4, 5] = np.nan  # diverged
    w = _weights(n, 24)
    names = [m for m, (_, tasks, _) in measures.MEASURES.items() if task in tasks]
    monkeypatch.setattr(device_measures, "DEVICE_ELEMENTS", 3 * V)  # blocks of 3 members, the last padded
    values = measures.device_values(names, task, y, index, outputs, valid, w)
    for name in names:
        expected = fold_values(name, task, y, index, outputs, valid, w)
        np.testing.assert_allclose(values[name], expected, rtol=1e-12, atol=1e-14, err_msg=name)
        assert np.isnan(values[name][[3, 4]]).all()


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_cross_validated_on_an_accelerator_is_the_host_s(monkeypatch, task):
    # cross_validated scores on the device where the backend has an accelerator: the same numbers.
    rng = np.random.default_rng(29)
    n, L, F, V = 30, 2, 3, 10
    y = rng.integers(0, 2, size=n) if task == "binary" else rng.normal(size=n)
    index = np.stack([rng.permutation(n)[:V] for _ in range(F)] * L)
    valid = np.ones((L * F, V), bool)
    outputs = rng.uniform(size=(L * F, V, 1))
    w, is_cv = _weights(n, 30), np.ones(L * F, bool)
    host, oof = cross_validated((index, outputs, valid), is_cv, y, task, w, L, F, keep=True)
    monkeypatch.setattr(measures, "on_accelerator", lambda: True)
    device, oof_device = cross_validated((index, outputs, valid), is_cv, y, task, w, L, F, keep=True)
    assert set(device) == set(host)
    for name in host:
        np.testing.assert_allclose(device[name], host[name], rtol=1e-12, err_msg=name)
    np.testing.assert_array_equal(oof_device, oof)
