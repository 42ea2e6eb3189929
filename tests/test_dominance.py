"""Dominated strengths stop early (:mod:`kerasnet.path.stopping`, ``dominance``).

A strength whose cross-fit curve, falling on at its last rate to the end of the budget, still
could not come within one standard error of the leader stops; the decision for fold ``f``
reads no value of fold ``f``. Checked on hand-made curves (the stopper) and end to end: the
default path's ``lambda_min`` and ``lambda_1se`` are those of the same path without the rule,
for less training, and the CV estimate on pure noise stays honest.
"""

import dataclasses

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from kerasnet import fit_path
from kerasnet.path import defaults
from kerasnet.path.stopping import EarlyStopping

F = 5


def curves(epochs=120, seed=0):
    """``[3 strengths * F folds, epochs]``: a leader falling to 0.2, a strength creeping down
    from 1.0 (hopeless), one falling fast from far behind (not hopeless)."""
    rng = np.random.default_rng(seed)
    t = np.arange(epochs)[None, :]
    noise = 1e-5 * rng.standard_normal((3 * F, epochs))
    leader = 0.2 + 0.8 * np.exp(-t / 5.0)
    hopeless = 1.0 - 2e-4 * t
    catching_up = 1.0 - 0.8 * (1 - np.exp(-t / 60.0))
    rows = np.concatenate([np.repeat(c, F, axis=0) for c in (leader, hopeless, catching_up)])
    return rows + noise


def drive(stopper, values):
    """Run ``values [K, E]`` through the stopper; return each member's stop epoch (0: never)."""
    K, E = values.shape
    running, stopped = np.ones(K, bool), np.zeros(K, int)
    for e in range(E):
        _, stop = stopper.update(e, values[:, e], running.copy())
        stopped = np.where(stop & running, e + 1, stopped)
        running &= ~stop
    return stopped


def stopper(budget=400, folds=F, patience=10):
    K = 3 * folds
    k = np.arange(K)
    return EarlyStopping(np.ones(K, bool), patience, groups=k // folds, folds=k % folds, budget=budget,
                         min_delta=1e-3)


def test_a_hopeless_strength_stops_and_one_still_catching_up_does_not():
    plain, rule = drive(stopper(budget=None), curves()), drive(stopper(), curves())
    hopeless, catching_up = slice(F, 2 * F), slice(2 * F, 3 * F)
    # Without the rule the creeping curve (2e-3 per 10 epochs, over MIN_DELTA)
    # trains on; with it, it stops soon after the patience window fills.
    assert (plain[hopeless] == 0).all()
    assert (rule[hopeless] > 0).all() and (rule[hopeless] <= 25).all()
    # The fast-falling strength could still reach the leader's band at its rate: it trains on.
    assert (rule[catching_up] == 0).all() or (rule[catching_up] == plain[catching_up]).all()
    assert stopper_flags(curves())[hopeless].all()


def stopper_flags(values):
    s = stopper()
    drive(s, values)
    return s.dominated


def test_no_fold_decides_on_its_own_values():
    base = curves()
    s = stopper()
    stops = drive(s, base)
    kept = s.best_epoch.copy()
    for f in range(F):
        changed = base.copy()
        changed[F + f] = np.linspace(0.0, 5.0, base.shape[1])  # fold f's own curve of the hopeless strength
        t = stopper()
        drive(t, changed)
        # Member (hopeless, f) freezes at the same epoch with the same kept epoch: only the
        # other folds' curves decided.
        assert t.best_epoch[F + f] == kept[F + f]
        assert t.dominated[F + f]
    assert (stops[F:2 * F] > 0).all()


def test_the_rule_is_off_without_a_budget_or_with_two_folds():
    assert not stopper_flags(curves()).sum() == 0  # on: some member is dominated
    s = stopper(budget=None)
    drive(s, curves())
    assert not s.dominated.any()
    values = curves()[[0, 1, F, F + 1, 2 * F, 2 * F + 1]]
    two = stopper(folds=2)
    drive(two, values)
    assert not two.dominated.any()


def test_a_curve_steep_enough_to_reach_the_band_before_the_budget_is_kept():
    # The same creeping curve, but a budget so long that its rate would carry it to the leader.
    s = stopper(budget=1_000_000)
    drive(s, curves())
    assert not s.dominated.any()


def test_the_default_rule_has_it_and_an_int_does_not():
    assert defaults.stopping_rule(None, 341, 32, 1e-3).dominance
    assert not defaults.stopping_rule(100, 341, 32, 1e-3).dominance


# --------------------------------------------------------------------------- end to end


def _without_rule(monkeypatch):
    original = defaults.stopping_rule

    def plain(*args, **kwargs):
        return dataclasses.replace(original(*args, **kwargs), dominance=False)

    monkeypatch.setattr(defaults, "stopping_rule", plain)


def _both(monkeypatch, X, y, **settings):
    settings = {"seed": 0, "verbose": 0, "baselines": False, **settings}
    ruled = fit_path(X, y, **settings)
    with monkeypatch.context() as m:
        _without_rule(m)
        plain = fit_path(X, y, **settings)
    return ruled, plain


def _same_choice(ruled, plain):
    assert (ruled.index_min_, ruled.index_1se_) == (plain.index_min_, plain.index_1se_)
    trained = ruled.history_["cv"].epochs_trained.sum(), plain.history_["cv"].epochs_trained.sum()
    assert trained[0] < trained[1], trained
    # The chosen strengths were never stopped: their CV estimate is the one without the rule.
    for i in (plain.index_min_, plain.index_1se_):
        np.testing.assert_allclose(ruled.cv_mean_[i], plain.cv_mean_[i], rtol=1e-4)


def test_the_default_path_chooses_as_without_the_rule_for_less_training(monkeypatch):
    X, y = load_breast_cancer(return_X_y=True)
    _same_choice(*_both(monkeypatch, X[::2], y[::2], hidden=(16,), n_lambdas=12))


def _task(name):
    rng = np.random.default_rng(0)
    if name in ("binary", "regression"):
        X = rng.normal(size=(1500, 12))
        f = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] ** 2 - 0.5
        noise = rng.normal(size=1500)
        y = (f + noise > 0).astype(int) if name == "binary" else f + 0.5 * noise
        return X, y
    return {"wine": load_wine, "diabetes": load_diabetes, "breast_cancer": load_breast_cancer}[name](
        return_X_y=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["breast_cancer", "wine", "diabetes", "binary", "regression"])
def test_defaults_choose_as_without_the_rule(monkeypatch, name):
    _same_choice(*_both(monkeypatch, *_task(name)))


@pytest.mark.slow
def test_cv_estimate_on_pure_noise_stays_honest_with_the_rule():
    # Labels independent of X, several strengths: the rule stops some, and the chosen
    # strength's CV deviance must not look better than the class frequencies (12 seeds).
    gains = []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        X, y = rng.normal(size=(200, 10)), rng.integers(0, 2, 200)
        path = fit_path(X, y, hidden=(32,), n_lambdas=8, lambda_min_ratio=1e-4, seed=seed, verbose=0,
                        baselines=False)
        q = y.mean()
        gains.append(-(path.cv_mean_[path.index_min_] / 2 + q * np.log(q) + (1 - q) * np.log(1 - q)))
    gains = np.array(gains)
    se = gains.std(ddof=1) / np.sqrt(len(gains))
    # The minimum over strengths is optimistic by selection alone; it must stay within noise.
    assert gains.mean() <= 2 * se + 0.01, (gains.mean(), se)
