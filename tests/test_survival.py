"""Cox quantities (:mod:`kerasnet.survival`, :mod:`kerasnet.path.survival_cv`) on small tables made
here, against by-hand loops, numbers from R's glmnet 4.1.6 / survival 3.5.3, and scikit-survival:
ties in time and in eta, unequal and zero weights, censoring. None of them needs R."""

import inspect
import tracemalloc

import numpy as np
import pandas as pd
import pytest

import kerasnet
import kerasnet.path.stages
from kerasnet.errors import InputError
from kerasnet.path import inference, survival_cv
from kerasnet.path.measures import fold_value
from kerasnet.path.plan import MemberGrid
from kerasnet.path.rows import Rows
from kerasnet.survival import (
    CoxPartialLikelihood,
    c_index,
    check_survival_target,
    cox_deviance,
    cox_deviance_ratio,
    cox_terms,
    glmnet_cox_deviance,
    grouped_cox_deviance,
    null_martingale_residual,
)
from kerasnet.tasks import LOSS

# 12 rows: tied times (1, 2, 4, 6), an event tied with a censoring (1, 2, 4), tied eta (0.1, 0.2)
T = np.array([1, 1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 7.0])
D = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0.0])
ETA = np.array([0.5, 0.2, 0.1, 0.1, 0.3, 0.5, 0.0, 0.2, 0.2, -1, 0.1, 0.3])
W = np.array([1, 2, 0.5, 1.5, 1, 3, 1, 2, 0.7, 1.2, 1, 2])
Y = np.column_stack([T, D])


def _table(n, seed, ties=10):
    rng = np.random.default_rng(seed)
    time = rng.integers(1, ties, size=n).astype(float)
    event = (rng.random(n) < 0.6).astype(float)
    eta = np.round(rng.normal(size=n), 1)  # tied risk scores
    return np.column_stack([time, event]), eta, rng.uniform(0.2, 3.0, size=n)


# --------------------------------------------------------------------------- Harrell's C


def _harrell(y, eta, w):
    """Pairs (i, j): i's event before j's time, or at it when j is censored; w_i w_j each."""
    concordant = total = 0.0
    for i in range(len(y)):
        for j in range(len(y)):
            if y[i, 1] and (y[i, 0] < y[j, 0] or (y[i, 0] == y[j, 0] and not y[j, 1])):
                total += w[i] * w[j]
                concordant += w[i] * w[j] * ((eta[i] > eta[j]) + 0.5 * (eta[i] == eta[j]))
    return concordant / total


def test_c_index_of_a_constant_model_is_one_half():
    assert c_index(Y, np.zeros(12)) == 0.5
    assert c_index(Y, np.full(12, 3.0), W) == pytest.approx(0.5)


def test_c_index_equals_glmnet_and_a_double_loop():
    # R: glmnet::Cindex(p, Surv(t, d)) and Cindex(p, Surv(t, d), weights = w)
    assert c_index(Y, ETA) == pytest.approx(0.5, rel=1e-12)
    assert c_index(Y, ETA, W) == pytest.approx(0.41787170930663697, rel=1e-12)
    y, eta, w = _table(60, 0)
    assert c_index(y, eta, w) == pytest.approx(_harrell(y, eta, w), rel=1e-12)
    assert c_index(y, eta) == pytest.approx(_harrell(y, eta, np.ones(60)), rel=1e-12)


def test_c_index_is_scikit_survivals_over_several_blocks():
    sksurv = pytest.importorskip("sksurv.metrics")
    y, eta, _ = _table(3000, 1, ties=40)
    assert (y[:, 1] > 0).sum() > 2**22 // 3000  # more events than one block of rows holds
    expected = sksurv.concordance_index_censored(y[:, 1] > 0, y[:, 0], eta)[0]
    assert c_index(y, eta) == pytest.approx(expected, rel=1e-12)
    # weighted: the same pairs as a broadcast over all rows
    w = np.random.default_rng(2).uniform(0.2, 3.0, size=3000)
    t, d = y[:, 0], y[:, 1]
    pairs = (d[:, None] > 0) & ((t[:, None] < t) | ((t[:, None] == t) & (d == 0)))
    pw = pairs * w[:, None] * w
    score = (eta[:, None] > eta) + 0.5 * (eta[:, None] == eta)
    assert c_index(y, eta, w) == pytest.approx((pw * score).sum() / pw.sum(), rel=1e-10)


def test_c_index_without_comparable_pairs_is_nan():
    assert np.isnan(c_index(np.column_stack([T, np.zeros(12)]), ETA))
    assert np.isnan(c_index(np.array([[1.0, 0], [2.0, 1]]), [0.0, 1.0]))  # the event is last


# --------------------------------------------------------------------------- deviances


def _log_partial_likelihood(y, eta, w):
    """Breslow: sum_i w_i d_i (eta_i - log sum_{j: t_j >= t_i, w_j > 0} w_j exp(eta_j))."""
    total = 0.0
    for i in range(len(y)):
        if y[i, 1] and w[i] > 0:
            risk = sum(w[j] * np.exp(eta[j]) for j in range(len(y)) if y[j, 0] >= y[i, 0] and w[j] > 0)
            total += w[i] * (eta[i] - np.log(risk))
    return total


def _coxnet_deviance(y, eta, w):
    """glmnet's coxnet.deviance: weights rescaled to sum to their count, 2 (l_sat - l) summed over
    rows; l_sat = -sum over distinct event times of W log W, W the events' weight at that time."""
    w = np.asarray(w, float) * len(w) / np.sum(w)
    saturated = 0.0
    for t in np.unique(y[y[:, 1] > 0, 0]):
        tied = w[(y[:, 0] == t) & (y[:, 1] > 0)].sum()
        if tied > 0:
            saturated -= tied * np.log(tied)
    return 2 * (saturated - _log_partial_likelihood(y, eta, w))


def test_cox_deviance_is_breslows_with_zero_weight_rows_in_no_risk_set():
    y, eta, w = _table(40, 3)
    w[:6] = 0.0
    eta[:6] = 50.0  # would dominate every risk set they were in
    expected = -2 * _log_partial_likelihood(y, eta, w) / w.sum()
    assert cox_deviance(y, eta, w) == pytest.approx(expected, rel=1e-12)
    # a zero-weight event after every weighted row: an empty risk set, weighing nothing
    last = np.argmax(y[:, 0])
    y[last], w[last] = [100.0, 1.0], 0.0
    expected = -2 * _log_partial_likelihood(y, eta, w) / w.sum()
    assert cox_deviance(y, eta, w) == pytest.approx(expected, rel=1e-12)
    assert cox_deviance(Y, ETA) == pytest.approx(-2 * _log_partial_likelihood(Y, ETA, np.ones(12)) / 12)


def test_glmnet_cox_deviance_equals_coxnet_deviance():
    # R: glmnet:::coxnet.deviance(pred = p, y = Surv(t, d), weights = w), on all rows and on rows 3..12
    assert glmnet_cox_deviance(Y, ETA, W) == pytest.approx(17.86454407602205, rel=1e-12)
    assert glmnet_cox_deviance(Y[2:], ETA[2:], W[2:]) == pytest.approx(14.429286048158396, rel=1e-12)
    y, eta, w = _table(30, 4)
    assert glmnet_cox_deviance(y, eta, w) == pytest.approx(_coxnet_deviance(y, eta, w), rel=1e-12)
    assert glmnet_cox_deviance(y, eta) == pytest.approx(_coxnet_deviance(y, eta, np.ones(30)), rel=1e-12)
    # an event time whose events all weigh 0 adds nothing to the saturated term
    w[np.flatnonzero(y[:, 1] > 0)[0]] = 0.0
    y[np.flatnonzero(y[:, 1] > 0)[0], 0] = 1.5  # alone at its time
    assert glmnet_cox_deviance(y, eta, w) == pytest.approx(_coxnet_deviance(y, eta, w), rel=1e-12)
    # the scale of the weights does not matter (std.weights)
    assert glmnet_cox_deviance(y, eta, 7 * w) == pytest.approx(glmnet_cox_deviance(y, eta, w), rel=1e-12)


def test_grouped_deviance_by_hand_under_unequal_weights():
    y, _, w = _table(30, 5)
    w *= 3.7  # not summing to n: each D rescales its own rows' weights
    test = np.zeros(30, bool)
    test[[0, 4, 7, 11, 12, 20, 29]] = True
    y[[0, 4], 1] = 1.0
    etas = np.random.default_rng(6).normal(size=(3, 30))
    values = grouped_cox_deviance(y, etas, w, test)
    events = sum(w[i] * y[i, 1] for i in np.flatnonzero(test))
    expected = [(_coxnet_deviance(y, e, w) - _coxnet_deviance(y[~test], e[~test], w[~test])) / events
                for e in etas]
    np.testing.assert_allclose(values, expected, rtol=1e-10)
    np.testing.assert_allclose(grouped_cox_deviance(y, etas, w, test.astype(int)), expected, rtol=1e-10)
    unit = (_coxnet_deviance(y, etas[0], np.ones(30))
            - _coxnet_deviance(y[~test], etas[0][~test], np.ones(23))) / y[test, 1].sum()
    np.testing.assert_allclose(grouped_cox_deviance(y, etas[:1], None, test), [unit], rtol=1e-10)


def test_cox_deviance_ratio_by_hand():
    y, eta, w = _table(30, 7)
    etas = np.stack([eta, 2 * eta, np.zeros(30)])
    null = _coxnet_deviance(y, np.zeros(30), w)
    expected = [1 - _coxnet_deviance(y, e, w) / null for e in etas]
    np.testing.assert_allclose(cox_deviance_ratio(y, etas, w), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cox_deviance_ratio(y, etas[:1]),
                               [1 - _coxnet_deviance(y, eta, np.ones(30)) / _coxnet_deviance(
                                   y, np.zeros(30), np.ones(30))], rtol=1e-10)


def test_null_martingale_residuals_with_tied_events_by_hand():
    y, _, w = _table(25, 8, ties=5)  # many events per time
    # Breslow: at each distinct time s, the hazard jumps by (events' weight at s) / (weight at risk at s)
    times = np.unique(y[:, 0])
    jump = {s: w[(y[:, 0] == s) & (y[:, 1] > 0)].sum() / w[y[:, 0] >= s].sum() for s in times}
    hazard = np.array([sum(jump[s] for s in times if s <= t) for t in y[:, 0]])
    np.testing.assert_allclose(null_martingale_residual(y, w), y[:, 1] - hazard, rtol=1e-12)


# --------------------------------------------------------------------------- the target


def test_check_survival_target_forms():
    expected = Y.astype("float32")
    assert check_survival_target(Y).dtype == np.float32
    np.testing.assert_array_equal(check_survival_target(Y), expected)
    # scikit-survival's structured array: (event: bool, time)
    sksurv_y = np.array(list(zip(D > 0, T, strict=True)), dtype=[("status", "?"), ("days", "f8")])
    np.testing.assert_array_equal(check_survival_target(sksurv_y), expected)
    # fields time first, event numeric
    plain = np.array(list(zip(T, D, strict=True)), dtype=[("time", "f8"), ("event", "i4")])
    np.testing.assert_array_equal(check_survival_target(plain), expected)
    np.testing.assert_array_equal(check_survival_target(pd.DataFrame({"t": T, "e": D})), expected)


SHAPE = r"^task='cox' needs y as two columns, time and event \(1: the event, 0: censored\); received shape "
TIMES = r"^task='cox' needs every time finite and > 0 \(the first column of y\)\.$"
EVENTS = r"^task='cox' needs events of 0 or 1 \(the second column of y\), at least one 1\.$"


@pytest.mark.parametrize("bad, words", [
    (np.zeros(12, dtype=[("a", "f8"), ("b", "f8"), ("c", "f8")]),
     r"^a survival target has two fields \(event, time or time, event\); received \('a', 'b', 'c'\)\.$"),
    (T, SHAPE + r"\(12,\)\.$"),
    (np.column_stack([T, D, D]), SHAPE + r"\(12, 3\)\.$"),
    (np.column_stack([np.r_[0.0, T[1:]], D]), TIMES),
    (np.column_stack([np.r_[np.nan, T[1:]], D]), TIMES),
    (np.column_stack([T, np.r_[2.0, D[1:]]]), EVENTS),
    (np.column_stack([T, np.r_[0.5, D[1:]]]), EVENTS),
    (np.column_stack([T, np.zeros(12)]), EVENTS),
])
def test_check_survival_target_refusals(bad, words):
    with pytest.raises(ValueError, match=words):
        check_survival_target(bad)


# --------------------------------------------------------------------------- the Keras loss


def test_cox_terms_in_one_batch_are_the_exact_objective():
    y, eta, w = _table(20, 9)
    w[:3] = 0.0  # padding rows: in no risk set
    terms = np.asarray(cox_terms(y[:, 0].astype("float32"), y[:, 1].astype("float32"), eta.astype("float32"),
                                 w.astype("float32")))
    assert (w * terms).sum() / w.sum() == pytest.approx(cox_deviance(y, eta, w) / 2, rel=1e-5)
    by_hand = [-y[i, 1] * (eta[i] - np.log(sum(w[j] * np.exp(eta[j]) for j in range(20)
                                                 if y[j, 0] >= y[i, 0] and w[j] > 0))) for i in range(20)]
    np.testing.assert_allclose(terms, by_hand, rtol=1e-5, atol=1e-6)
    loss = CoxPartialLikelihood()
    assert loss.name == "cox_partial_likelihood"
    value = float(loss(Y.astype("float32"), ETA[:, None].astype("float32")))
    assert value == pytest.approx(-_log_partial_likelihood(Y, ETA, np.ones(12)) / 12, rel=1e-5)


# --------------------------------------------------------------------------- CV folds


def test_fold_events_are_each_folds_weighted_events():
    test = np.array([[True] * 4 + [False] * 8, [False] * 4 + [True] * 8])
    events = survival_cv.fold_events("cox", Y, W, test)["deviance"]
    np.testing.assert_allclose(events, [W[:4] @ D[:4], W[4:] @ D[4:]])
    assert survival_cv.fold_events("regression", Y, W, test) is None


def test_grouped_deviance_takes_member_i_times_per_plus_f(monkeypatch):
    y, _, w = _table(24, 10)
    L, F, per = 2, 3, 4  # member F of each strength is its refit (not scored)
    test = np.zeros((F, 24), bool)
    for f in range(F):
        test[f, f::F] = True
    y[:3, 1] = 1.0  # an event in every fold
    etas = np.random.default_rng(11).normal(size=(L * per, 24))
    network, X, weights, scaling = object(), np.zeros((24, 2)), [None] * (L * per), object()
    rows = Rows.prepare(X, y, w)
    grid = MemberGrid.of(np.logspace(-1, -2, L), F, refits_joined=True)
    assert grid.per == per
    calls = []

    def outputs(*args, **kwargs):
        calls.append(inspect.signature(inference.member_outputs).bind(*args, **kwargs).arguments)
        return etas[:, :, None]

    monkeypatch.setattr(survival_cv, "member_outputs", outputs)
    values = survival_cv.grouped_deviance(network, rows, weights, scaling, test, grid)
    # one inference pass: every member on all rows, with the Cox loss and the members' scaling
    (call,) = calls
    assert set(call) == {"model", "rows", "weights", "loss", "scaling"}
    assert call["model"] is network and call["rows"] is rows and call["weights"] is weights
    assert call["loss"] == LOSS["cox"] and call["scaling"] is scaling and values.shape == (L, F)
    for i in range(L):
        for f in range(F):
            e, other = etas[i * per + f], ~test[f]
            expected = (_coxnet_deviance(y, e, w) - _coxnet_deviance(y[other], e[other], w[other])) / (
                w[test[f]] @ y[test[f], 1])
            assert values[i, f] == pytest.approx(expected, rel=1e-10), (i, f)


def test_a_cox_fold_without_events_is_refused_before_training(monkeypatch):
    rng = np.random.default_rng(12)
    X = rng.normal(size=(30, 3))
    y = np.column_stack([rng.uniform(1, 5, size=30), np.r_[np.ones(20), np.zeros(10)]])
    foldid = np.repeat([1, 2, 3], 10)  # fold 3: only censored rows

    def no_training(*args, **kwargs):
        raise AssertionError("trained before refusing the folds")

    monkeypatch.setattr(kerasnet.path.stages, "fit_members", no_training)  # how every stage trains
    monkeypatch.setattr(kerasnet.path.stages, "fit_members_on_cluster", no_training)
    words = (r"^CV fold 3 of 3 has no events \(task='cox' scores each fold by its events\); use fewer folds, "
             r"or a foldid= / cv= that puts events in every fold\.$")
    with pytest.raises(InputError, match=words):
        kerasnet.fit_path(X, y, task="cox", foldid=foldid, hidden=(4,), n_lambdas=2, epochs=1, verbose=0)
    # events of weight 0 are no events
    weight = np.r_[np.ones(10), np.zeros(10), np.ones(10)]
    with pytest.raises(InputError, match=r"^CV fold 2 of 3 has no events"):
        kerasnet.fit_path(X, y, task="cox", foldid=foldid, sample_weight=weight, hidden=(4,), n_lambdas=2,
                          epochs=1, verbose=0)
    survival_cv.check_fold_events("cox", y, np.ones(30), np.stack([foldid == 1, foldid == 2]))  # accepted
    one = np.zeros(30, bool)
    one[0] = True  # a fold of one event of weight 1 is enough
    survival_cv.check_fold_events("cox", y, np.ones(30), np.stack([one, ~one]))
    with pytest.raises(InputError, match=r"^CV fold 2 of 2 has no events"):  # the fold without, not fold 1
        survival_cv.check_fold_events("cox", y, np.ones(30), np.stack([one | (foldid == 3), foldid == 3]))
    survival_cv.check_fold_events("regression", y, np.ones(30), np.stack([foldid == 3]))  # not Cox


def test_null_martingale_residuals_of_integer_targets_are_fractions():
    y = np.array([[3, 1], [1, 1], [2, 0], [1, 1]])  # integer times and events, as a user may give
    # eta = 0: the hazard at time 1 jumps by 2 / 4, at 3 by 1 / 1
    np.testing.assert_allclose(null_martingale_residual(y, np.array([1, 1, 1, 1])),
                               [1 - 1.5, 1 - 0.5, 0 - 0.5, 1 - 0.5])


def test_fold_value_of_cox_is_harrells_c_or_the_per_row_deviance():
    # R: glmnet::Cindex(p, Surv(t, d), weights = w)
    assert fold_value("cindex", "cox", Y, ETA, W) == pytest.approx(0.41787170930663697, rel=1e-12)
    assert fold_value("cindex", "cox", Y, ETA) == pytest.approx(0.5, rel=1e-12)
    expected = -2 * _log_partial_likelihood(Y, ETA, W) / W.sum()
    assert fold_value("deviance", "cox", Y, ETA, W) == pytest.approx(expected, rel=1e-12)


def test_c_index_of_one_comparable_pair_of_unit_weight():
    # One comparable pair (the shorter time had the event), total pair weight exactly 1.
    y = np.array([[1.0, 1.0], [2.0, 0.0]])
    assert c_index(y, np.array([0.7, 0.1])) == 1.0
    assert c_index(y, np.array([0.1, 0.7])) == 0.0
    assert c_index(y, np.array([0.3, 0.3])) == 0.5


def test_cox_terms_leave_zero_weight_rows_out_of_every_risk_set():
    from keras import ops

    time = np.array([1.0, 2.0, 3.0, 4.0], "float32")
    event = np.array([1.0, 1.0, 0.0, 1.0], "float32")
    eta = np.array([0.2, -0.1, 100.0, 0.4], "float32")  # beyond log(1e-30): it would dominate
    weight = np.array([1.0, 1.0, 0.0, 1.0], "float32")
    terms = np.asarray(ops.convert_to_numpy(cox_terms(*(ops.convert_to_tensor(a) for a in
                                                        (time, event, eta, weight)))))
    kept = weight > 0
    by_hand = [-event[i] * (eta[i] - np.log(np.sum(np.exp(eta[kept & (time >= time[i])]))))
               for i in range(4)]
    np.testing.assert_allclose(terms, by_hand, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- integer inputs


def test_c_index_of_small_integer_weights_is_the_float_one():
    # Frequency weights stored as int8 (a compact file): a pair weighs w_i w_j, 12 * 11 = 132, beyond
    # int8; the C-index is the one of the same weights as floats, by the double loop.
    y, eta, _ = _table(30, 5)
    w = np.random.default_rng(6).integers(8, 13, size=30).astype(np.int8)
    expected = _harrell(y, eta, w.astype(float))
    assert c_index(y, eta, w) == pytest.approx(expected, rel=1e-12)
    assert c_index(y, eta, w) == pytest.approx(c_index(y, eta, w.astype(float)), rel=1e-12)


def test_cox_deviance_of_an_unsigned_integer_table_is_the_float_one():
    # Times and events read as uint8 (a compact file): negating an unsigned event would wrap
    # (-1 is 255); the deviance is Breslow's of the same table as floats.
    y, eta, w = _table(30, 7)
    y8 = y.astype(np.uint8)
    expected = -2 * _log_partial_likelihood(y, eta, w) / w.sum()
    assert cox_deviance(y8, eta, w) == pytest.approx(expected, rel=1e-12)
    assert glmnet_cox_deviance(y8, eta, w) == pytest.approx(_coxnet_deviance(y, eta, w), rel=1e-12)


def test_c_index_counts_pairs_in_blocks_of_bounded_memory():
    # The pairs are counted 2**22 at a time (a float array of one block: 32 MiB), so the memory
    # c_index takes is bounded whatever the fold's size. Here all 2048 x 4096 pairs at once would
    # need 64 MiB per array; blocked, the peak stays below five arrays of one block.
    rng = np.random.default_rng(8)
    n = 4096  # rows, half of them events: blocks of 1024 events
    event = np.zeros(n)
    event[rng.choice(n, 2048, replace=False)] = 1.0
    y, eta, w = np.column_stack([rng.uniform(1, 100, n), event]), rng.normal(size=n), rng.uniform(0.5, 2, n)
    tracemalloc.start()
    try:
        value = c_index(y, eta, w)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**22 * 8
    assert 0.45 < value < 0.55  # eta unrelated to time (the blocks' sums: the scikit-survival test above)


def test_cox_deviance_leaves_zero_weight_rows_out_however_large_their_eta():
    # A zero-weight row is in no risk set: with eta = 1000 its w exp(eta) would be exp(309) if it
    # entered as a tiny weight (log 1e-300) instead of not at all.
    y, eta, w = _table(20, 9)
    w[[2, 5]] = 0.0
    eta[[2, 5]] = 1000.0
    expected = -2 * _log_partial_likelihood(y, eta, w) / w.sum()
    assert cox_deviance(y, eta, w) == pytest.approx(expected, rel=1e-12)


def test_check_survival_target_reads_numbers_held_as_objects():
    # pandas keeps numbers in object columns (a column once holding text, an object Series): they are
    # read as the same float32 table as numeric columns.
    frame = pd.DataFrame({"t": T, "e": D}).astype(object)
    np.testing.assert_array_equal(check_survival_target(frame), Y.astype("float32"))
    np.testing.assert_array_equal(check_survival_target(Y.astype(object)), Y.astype("float32"))
