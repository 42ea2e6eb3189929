"""``epochs=None``: early stopping on the validation data loss, from a warm-up on.

The rule (:func:`kerasnet.path.defaults.stopping_rule`): each strength trains until every
leave-one-fold-out curve of its validation *data loss* (not data loss + penalty) went
``patience`` epochs without a ``MIN_DELTA`` relative fall, watched from the epoch of
``WARMUP_STEPS`` optimizer steps on; an integer ``epochs`` keeps Keras's rule. Checked here on
hand-made curves (the stopper), on a real stacked fit (the engine records both curves, so the
choice is recomputed from them with plain numpy), end to end (``fit_path`` honest on pure
noise), and at the command line (``path`` and ``demo`` hand ``fit_path`` ``epochs=None``).
"""

import math

import numpy as np
import pytest
from click.testing import CliRunner

from kerasnet import fit_path, mlp
from kerasnet.path import defaults, grid_ends
from kerasnet.path.engine import fit_members
from kerasnet.path.members import MemberSpec, Training
from kerasnet.path.rows import Rows
from kerasnet.path.stopping import EarlyStopping, StoppingRule


def drive(stopper, curves):
    """Feed ``curves [K, E]`` epoch by epoch as the engine does; return keep, stop ``[E, K]``."""
    curves = np.asarray(curves, float)
    K, E = curves.shape
    running, last = np.ones(K, bool), curves[:, 0].copy()
    keeps, stops = np.zeros((E, K), bool), np.zeros((E, K), bool)
    for e in range(E):
        last = np.where(running, curves[:, e], last)
        keep, stop = stopper.update(e, last.copy(), running.copy())
        keeps[e], stops[e] = keep, stop & running
        running &= ~stop
    return keeps, stops


# --------------------------------------------------------------------------- the rule's settings


def test_none_watches_the_data_loss_an_int_keeps_keras_rule():
    auto = defaults.stopping_rule(None, 341, 32, 1e-3)
    assert auto == StoppingRule(defaults.PATIENCE, min_delta=defaults.MIN_DELTA, monitor="val_loss",
                                warmup=28, dominance=True)
    assert defaults.stopping_rule(100, 341, 32, 1e-3) == StoppingRule(defaults.PATIENCE, min_delta=0.0,
                                                                      monitor="val_objective", warmup=0)


@pytest.mark.parametrize("rows, batch, rate, expected", [
    (107, 32, 1e-3, 75),   # wine's folds: 4 steps an epoch, ceil(300 / 4)
    (1078, 32, 1e-3, 9),   # digits': 34 steps, ceil(300 / 34)
    (341, 32, None, 28),   # None is Adam's 1e-3
    (341, 32, 1e-2, 3),    # ten times the rate, a tenth of the steps
    (10, 32, 1e-3, 300),   # one step an epoch
    (5000, 32, 1.0, 1),    # at least one epoch
])
def test_warmup_is_the_probes_steps_on_a_folds_rows(rows, batch, rate, expected):
    assert defaults.warmup_epochs(rows, batch, rate) == expected


def test_warmup_steps_are_the_grid_probes():
    # The probe decides where the network empties after this many steps; the path's members
    # are not judged before they have had as many.
    assert defaults.WARMUP_STEPS == grid_ends.PROBE_STEPS


def test_warmup_never_exceeds_the_cap():
    assert defaults.stopping_rule(None, 1, 32, 1e-6).warmup == defaults.MAX_EPOCHS


# --------------------------------------------------------------------------- the stopper's warm-up


def test_epochs_before_the_warmup_are_never_best_and_never_stop():
    # Lowest at epoch 1 (a start that has not met its penalty yet), then flat: without the
    # warm-up the member keeps epoch 1 and stops at epoch 3; with warm-up 4 it keeps every
    # epoch up to 4, then epoch 4 is its best and it stops patience epochs later.
    curve = [[0.1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]]
    plain = EarlyStopping(np.ones(1, bool), patience=2)
    keeps, stops = drive(plain, curve)
    assert plain.best_epoch.tolist() == [1] and np.flatnonzero(stops[:, 0]).tolist() == [2]
    warm = EarlyStopping(np.ones(1, bool), patience=2, warmup=4)
    keeps, stops = drive(warm, curve)
    assert keeps[:4, 0].all() and not keeps[4:, 0].any()
    assert warm.best_epoch.tolist() == [4]
    assert np.flatnonzero(stops[:, 0]).tolist() == [5]  # epochs 5 and 6 (0-based 4, 5) without progress


@pytest.mark.parametrize("seed", range(6))
def test_a_warmup_is_the_rule_started_later(seed):
    # With warm-up W the stopper behaves on epochs W.. as a fresh stopper on the curves cut at
    # W - 1 (epochs shifted by W - 1), for own and cross-fit members, weighted folds, tolerance.
    rng = np.random.default_rng(seed)
    K, E, W = 7, 30, int(rng.integers(2, 8))
    curves = np.cumsum(rng.normal(-0.02, 0.05, size=(K, E)), axis=1) + 2.0
    groups = np.array([0, 0, 0, 1, 1, -1, -1])
    weight = rng.uniform(1, 3, K)
    settings = dict(patience=int(rng.integers(1, 4)), groups=groups, fold_weight=weight,
                    min_delta=float(rng.choice([0.0, 1e-2])))
    warm = EarlyStopping(np.ones(K, bool), warmup=W, **settings)
    keeps, stops = drive(warm, curves)
    later = EarlyStopping(np.ones(K, bool), **settings)
    keeps_later, stops_later = drive(later, curves[:, W - 1:])
    assert keeps[:W - 1].all() and not stops[:W - 1].any()
    np.testing.assert_array_equal(keeps[W - 1:], keeps_later)
    np.testing.assert_array_equal(stops[W - 1:], stops_later)
    np.testing.assert_array_equal(warm.best_epoch, later.best_epoch + W - 1)
    np.testing.assert_array_equal(warm.chosen_epoch(), later.chosen_epoch() + W - 1)


def test_warmup_is_off_without_early_stopping():
    stopper = EarlyStopping(np.ones(2, bool), patience=1, enabled=False, warmup=5)
    keeps, stops = drive(stopper, [[3.0, 1.0, 2.0, 2.0, 2.0, 2.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    assert not stops.any()
    assert stopper.best_epoch.tolist() == [2, 1]  # recorded from the first epoch, as before


# --------------------------------------------------------------------------- the engine


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype("float32")
    y = (X[:, 0] + 0.7 * X[:, 1] + 0.8 * rng.normal(size=n) > 0).astype("float32")
    return X, y


@pytest.mark.backend
def test_the_engine_chooses_on_the_leave_one_out_data_loss_from_the_warmup():
    """Cross-fit members watching ``val_loss``: the kept epochs and the chosen epoch recomputed
    from the recorded data-loss curves with numpy (weighted leave-one-out means), warm-up
    included; the recorded objective would choose otherwise (its penalty still falls)."""
    X, y = _blobs()
    folds = np.arange(len(y)) % 3
    F, W = 3, 4
    val = np.stack([folds == f for f in range(F)])
    network = mlp(4, 1, (16,), "binary", seed=0)
    _, fit = fit_members(
        network, Rows.prepare(X, y),
        MemberSpec.of([3e-3] * F, [3e-3] * F, train=~val, val=val, stop_groups=np.zeros(F, int)),
        Training("binary_crossentropy", epochs=80, batch_size=16, learning_rate=1e-2, seed=0, proximal=True),
        StoppingRule(patience=4, monitor="val_loss", warmup=W))
    E = int(fit.epochs_trained.max())
    assert (fit.epochs_trained == E).all() and E < 80  # the group stopped together, before the cap
    curves = fit.val_loss[:E]  # [E, F]: every fold ran to the group's end
    w = val.sum(axis=1).astype(float)
    full = (curves * w).sum(axis=1) / w.sum()
    chosen = W + int(np.argmin(full[W - 1:]))
    assert (fit.chosen_epoch == chosen).all()
    for f in range(F):
        others = [j for j in range(F) if j != f]
        loo = (curves[:, others] * w[others]).sum(axis=1) / w[others].sum()
        best = fit.best_epoch[f]
        assert best >= W
        # Its kept epoch is the lowest of its leave-one-out curve from the warm-up to that epoch.
        assert loo[best - 1] == pytest.approx(loo[W - 1:best].min(), rel=0, abs=0)
    assert fit.best_val_loss == pytest.approx(curves[fit.best_epoch - 1, np.arange(F)], rel=1e-6)


@pytest.mark.backend
def test_the_engine_refuses_an_unknown_monitor():
    # The rule the engine takes refuses it when made, before any training.
    X, y = _blobs(n=20)
    with pytest.raises(ValueError, match="monitor"):
        fit_members(mlp(4, 1, (2,), "binary", seed=0), Rows.prepare(X, y), MemberSpec.of([0.0]),
                    Training("binary_crossentropy", epochs=1), StoppingRule(monitor="loss"))


# --------------------------------------------------------------------------- end to end


def test_default_budget_stops_each_strength_after_its_warmup_on_its_data_loss():
    X, y = _blobs(n=160, seed=1)
    path = fit_path(X, y, hidden=(8,), lambdas=[3e-2, 1e-3], cv=3, learning_rate=1e-2, seed=0, verbose=0,
                    baselines=False)
    cv = path.history_["cv"]
    fold_rows = 160 * 2 / 3
    W = defaults.warmup_epochs(fold_rows, defaults.BATCH_SIZE, 1e-2)
    trained = cv.epochs_trained.reshape(2, 3)
    assert (trained > W).all() and (trained < defaults.MAX_EPOCHS).all()
    assert (cv.chosen_epoch >= W).all() and (cv.best_epoch >= W).all()
    # The refit's steps are the chosen epoch's on a fold's rows.
    chosen = cv.chosen_epoch.reshape(2, 3)[:, 0]
    steps_fold, steps_all = math.ceil(fold_rows / 32), math.ceil(160 / 32)
    expected = np.maximum(1, np.round(chosen * steps_fold / steps_all))
    np.testing.assert_array_equal(path.refit_epochs_, expected)


@pytest.mark.slow
def test_cv_estimate_on_pure_noise_is_not_better_than_chance_with_the_default_budget():
    # Labels independent of X: with the default epochs the cross-fit stopping on the data loss
    # must not make a fold look better than the class frequencies (24 seeds).
    gains = []
    for seed in range(24):
        rng = np.random.default_rng(seed)
        X, y = rng.normal(size=(200, 10)), rng.integers(0, 2, 200)
        path = fit_path(X, y, hidden=(64, 64), lambdas=[1e-4], epochs=None, seed=seed, verbose=0,
                        baselines=False)
        q = y.mean()
        gains.append(-(path.cv_mean_[0] / 2 + q * np.log(q) + (1 - q) * np.log(1 - q)))
    gains = np.array(gains)
    se = gains.std(ddof=1) / np.sqrt(len(gains))
    assert gains.mean() <= se, (gains.mean(), se)


# --------------------------------------------------------------------------- the command line


def _spy(monkeypatch):
    import kerasnet.path as path_module

    seen = {}

    class Stop(Exception):
        pass

    def spy(X, y, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(path_module, "fit_path", spy)
    return seen, Stop


@pytest.mark.parametrize("args, expected", [([], None), (["--epochs", "37"], 37)])
def test_cli_path_uses_the_librarys_epoch_rule_unless_given(monkeypatch, tmp_path, args, expected):
    from kerasnet.cli import cli as main

    seen, _ = _spy(monkeypatch)
    result = CliRunner().invoke(main, ["path", "--dataset", "iris", "--quiet", "--out", str(tmp_path / "o"),
                                       *args])
    assert "epochs" in seen, result.output
    assert seen["epochs"] == expected


def test_cli_demo_uses_the_librarys_epoch_rule(monkeypatch):
    from kerasnet.cli import cli as main

    seen, _ = _spy(monkeypatch)
    result = CliRunner().invoke(main, ["demo"])
    assert "epochs" in seen, result.output
    assert seen["epochs"] is None


def test_cli_path_help_states_the_default_rule():
    from kerasnet.cli import cli as main

    text = " ".join(CliRunner().invoke(main, ["path", "--help"]).output.split())
    assert "Default: fit_path's rule" in text and f"at most {defaults.MAX_EPOCHS} epochs" in text
