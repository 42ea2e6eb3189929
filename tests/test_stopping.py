"""Early stopping of stacked members (``kerasnet.path.stopping.EarlyStopping``) on curves made here.

Each test feeds synthetic validation-objective curves to ``update`` epoch by epoch, as the engine
does, and compares the schedule (which members keep their weights, which stop, their best and
chosen epochs) with a table worked out by hand in the test, or with a naive reimplementation of
the rules in the module docstring written below as plain loops over members.
"""

import math
import warnings

import numpy as np
import pytest

from kerasnet.path.stopping import EarlyStopping

INF = math.inf


def drive(stopper, curves, budget=None):
    """Feed ``curves [K, E]`` epoch by epoch; return keep and stop tables ``[E, K]`` and the stopper.

    A member stops running when ``stop`` says so or its budget of epochs is spent (as the engine);
    a stopped member's objective stays at its last value (its weights no longer move). Only
    ``stop`` of running members is recorded: stopping a stopped member changes nothing.
    """
    curves = np.asarray(curves, float)
    K, E = curves.shape
    budget = np.full(K, E) if budget is None else np.asarray(budget)
    running = budget > 0
    last = curves[:, 0].copy()
    keeps, stops = np.zeros((E, K), bool), np.zeros((E, K), bool)
    for e in range(E):
        last = np.where(running, curves[:, e], last)
        keep, stop = stopper.update(e, last.copy(), running.copy())
        keeps[e], stops[e] = keep, stop & running
        running = running & ~stop & (e + 1 < budget)
    return keeps, stops


def naive(curves, patience, groups=None, weights=None, validated=None, enabled=True, budget=None):
    """The rules of the module docstring, one member at a time.

    Own rule: a member improves when its objective is strictly below its best so far; it stops
    once ``patience`` epochs went by without improving (never at epoch 0). Cross-fit: the curve
    of fold f is the other folds' weighted mean; fold f freezes (keeps its best weights) once
    that curve went ``patience`` epochs without improving; its group stops when every fold is
    frozen, or when a fold's objective is not finite (then no fold of the group improves). The
    group's chosen epoch is the best of the weighted mean of all its folds. Unvalidated members
    keep every epoch and never stop.
    """
    curves = np.asarray(curves, float)
    K, E = curves.shape
    groups = [-1] * K if groups is None else list(groups)
    weights = [1.0] * K if weights is None else list(weights)
    validated = [True] * K if validated is None else list(validated)
    budget = [E] * K if budget is None else list(budget)
    folds = {}
    for k in range(K):
        if groups[k] >= 0 and validated[k]:
            folds.setdefault(groups[k], []).append(k)
    keep, stop = np.zeros((E, K), bool), np.zeros((E, K), bool)
    running = [budget[k] > 0 for k in range(K)]
    best, best_epoch, wait, frozen = [INF] * K, [0] * K, [0] * K, [False] * K
    group_best, group_epoch = dict.fromkeys(folds, INF), dict.fromkeys(folds, 0)
    fed = [INF] * K
    for e in range(E):
        # A member out of the run keeps the objective of its last epoch (as `drive` feeds it).
        fed = [curves[k, e] if running[k] else fed[k] for k in range(K)]
        for g, members in folds.items():
            if not any(running[f] for f in members):
                continue
            values = [fed[f] for f in members]
            if all(math.isfinite(v) for v in values):
                full = sum(weights[f] * fed[f] for f in members) / sum(weights[f] for f in members)
                if full < group_best[g]:
                    group_best[g], group_epoch[g] = full, e + 1
        for k in range(K):
            if not running[k]:
                continue
            if not validated[k]:
                keep[e, k], best_epoch[k] = True, e + 1
                continue
            if groups[k] >= 0:
                if frozen[k]:
                    continue
                others = [j for j in folds[groups[k]] if j != k]
                value = sum(weights[j] * fed[j] for j in others) / sum(weights[j] for j in others)
                if not all(math.isfinite(fed[j]) for j in folds[groups[k]]):
                    value = math.nan  # a diverged fold leaves its group no honest curve
            else:
                value = fed[k]
            if value < best[k]:
                best[k], best_epoch[k], wait[k], keep[e, k] = value, e + 1, 0, True
            else:
                wait[k] += 1
        if enabled and e > 0:
            for k in range(K):
                if running[k] and validated[k] and groups[k] < 0 and wait[k] >= patience:
                    stop[e, k] = True
            for members in folds.values():
                for f in members:
                    if running[f] and wait[f] >= patience:
                        frozen[f] = True
                broken = any(not math.isfinite(fed[f]) for f in members)
                if broken or all(frozen[f] for f in members):
                    for f in members:
                        stop[e, f] = running[f]
        for k in range(K):
            if stop[e, k] or e + 1 >= budget[k]:
                running[k] = False
    chosen = [group_epoch[groups[k]] if groups[k] >= 0 and validated[k] else best_epoch[k] for k in range(K)]
    return keep, stop, best_epoch, chosen


def _stop_epochs(stops):
    """The 0-based epoch at which each member was told to stop (-1: never)."""
    return [int(np.argmax(col)) if col.any() else -1 for col in stops.T]


# --------------------------------------------------------------------------- own rule


def test_a_flat_curve_stops_after_patience_epochs_without_improving():
    for patience in (1, 2, 3, 5):
        stopper = EarlyStopping(np.ones(1, bool), patience)
        keeps, stops = drive(stopper, [[2.0] * 8])
        # Epoch 1 improves on +inf; epochs 2 .. patience + 1 are ties, not improvements.
        assert _stop_epochs(stops) == [patience]
        assert keeps[:, 0].tolist() == [True] + [False] * 7
        assert stopper.best_epoch.tolist() == [1]
        assert stopper.chosen_epoch().tolist() == [1]


def test_own_rule_schedule_table():
    curves = [
        [5.0, 4.0, 4.0, 3.0, 9.0, 9.0, 9.0, 9.0],  # a tie at epoch 3 is no improvement
        [5.0, 6.0, 4.0, 7.0, 7.0, 3.0, 8.0, 8.0],  # one epoch better than ever resets the wait
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],  # never better than epoch 1
    ]
    stopper = EarlyStopping(np.ones(3, bool), patience=2)
    keeps, stops = drive(stopper, curves)
    T, F = True, False
    assert keeps[:6].tolist() == [  # epochs 1..6 (0-based 0..5)
        [T, T, T],
        [T, F, F],
        [F, T, F],
        [T, F, F],
        [F, F, F],
        [F, F, F],  # member 1's 3.0 comes after it stopped
    ]
    # Member 0 improves last at index 3, fails at 4 and 5: stops at 5. Member 1 improves at 2,
    # fails at 3 and 4: stops at 4. Member 2 fails at 1 and 2: stops at 2.
    assert _stop_epochs(stops) == [5, 4, 2]
    assert stopper.best_epoch.tolist() == [4, 3, 1]
    assert stopper.chosen_epoch().tolist() == [4, 3, 1]
    expected = naive(curves, 2)
    np.testing.assert_array_equal(keeps, expected[0])
    np.testing.assert_array_equal(stops, expected[1])


def test_unvalidated_members_never_stop_and_always_keep():
    curves = [[3.0, 3.0, 3.0, 3.0, 3.0], [np.nan] * 5, [1.0, 2.0, 3.0, 4.0, 5.0]]
    validated = np.array([True, False, False])
    stopper = EarlyStopping(validated, patience=1, groups=np.array([-1, 0, -1]))
    keeps, stops = drive(stopper, curves, budget=[5, 5, 3])
    assert keeps.tolist() == [[True, True, True], [False, True, True], [False, True, True],
                              [False, True, False], [False, True, False]]  # member 2 ran 3 epochs
    assert _stop_epochs(stops) == [1, -1, -1]
    assert stopper.best_epoch.tolist() == [1, 5, 3]  # unvalidated: the last epoch trained
    assert stopper.chosen_epoch().tolist() == [1, 5, 3]


def test_a_member_not_running_is_left_as_it_was():
    stopper = EarlyStopping(np.ones(2, bool), patience=2)
    stopper.update(0, np.array([5.0, 5.0]), np.array([True, True]))
    keep, stop = stopper.update(1, np.array([1.0, 1.0]), np.array([True, False]))
    assert keep.tolist() == [True, False] and stop.tolist() == [False, False]
    assert stopper.best_epoch.tolist() == [2, 1]
    assert stopper.wait.tolist() == [0, 0]  # a paused member does not count epochs
    keep, stop = stopper.update(2, np.array([1.0, 1.0]), np.array([True, False]))
    keep, stop = stopper.update(3, np.array([1.0, 1.0]), np.array([True, False]))
    assert stop.tolist() == [True, False]


def test_epoch_0_never_stops():
    # patience 0: every epoch after the first stops; a diverged fold at epoch 0 waits too.
    stopper = EarlyStopping(np.ones(3, bool), patience=0, groups=np.array([-1, 0, 0]))
    keep, stop = stopper.update(0, np.array([1.0, np.nan, 1.0]), np.ones(3, bool))
    assert stop.tolist() == [False, False, False]
    assert keep.tolist() == [True, False, False]  # a group with a NaN fold has no curve to improve
    keep, stop = stopper.update(1, np.array([0.5, np.inf, 1.0]), np.ones(3, bool))
    assert stop.tolist() == [True, True, True]


def test_disabled_never_stops_but_records_best_epochs():
    curves = [
        [3.0, 2.0, 4.0, 4.0, 4.0, 1.0, 5.0],  # own rule: patience 1 would stop at index 2
        [3.0, 2.0, 4.0, 4.0, 4.0, 1.0, 5.0],  # folds 1, 2: each other's curve
        [3.0, 2.0, 4.0, 4.0, 4.0, 1.0, 5.0],
    ]
    groups = np.array([-1, 0, 0])
    stopper = EarlyStopping(np.ones(3, bool), 1, groups=groups, enabled=False)
    keeps, stops = drive(stopper, curves)
    assert not stops.any()
    assert keeps[:, 0].tolist() == [True, True, False, False, False, True, False]
    assert keeps[:, 1].tolist() == keeps[:, 2].tolist() == keeps[:, 0].tolist()
    assert stopper.best_epoch.tolist() == [6, 6, 6]
    assert stopper.chosen_epoch().tolist() == [6, 6, 6]
    expected = naive(curves, 1, groups=groups, enabled=False)
    np.testing.assert_array_equal(keeps, expected[0])
    assert expected[2] == [6, 6, 6] and expected[3] == [6, 6, 6]
    # Enabled, the same curves stop at index 2 (own) and the group at index 2 (both folds stall).
    on = EarlyStopping(np.ones(3, bool), 1, groups=groups)
    _, stops = drive(on, curves)
    assert _stop_epochs(stops) == [2, 2, 2]
    assert on.best_epoch.tolist() == [2, 2, 2]


# --------------------------------------------------------------------------- cross-fit rule


def test_leave_one_out_curves_are_weighted_means_of_the_other_folds():
    rng = np.random.default_rng(0)
    groups = np.array([0, 0, 0, 1, 1, 1, 1, -1, 0])
    validated = np.array([True] * 8 + [False])
    weight = np.array([2.0, 5.0, 1.0, 3.0, 0.5, 4.0, 1.5, 7.0, 9.0])
    objective = rng.uniform(1, 3, 9)
    loo, se, full = EarlyStopping(validated, 3, groups=groups, fold_weight=weight)._curves(objective)
    for k in range(7):  # the grouped members
        others = [j for j in range(9) if j != k and groups[j] == groups[k] and validated[j]]
        by_hand = sum(weight[j] * objective[j] for j in others) / sum(weight[j] for j in others)
        assert loo[k] == pytest.approx(by_hand, rel=1e-12)
        # glmnet's cvsd over the other folds: the weighted spread, divided by (folds - 1).
        spread = sum(weight[j] * (objective[j] - by_hand) ** 2 for j in others)
        spread /= sum(weight[j] for j in others)
        assert se[k] == pytest.approx(np.sqrt(spread / (len(others) - 1)), rel=1e-9)
    for g in (0, 1):
        members = [j for j in range(9) if groups[j] == g and validated[j]]
        by_hand = sum(weight[j] * objective[j] for j in members) / sum(weight[j] for j in members)
        assert full[g] == pytest.approx(by_hand, rel=1e-12)


def _weighted_design():
    """3 folds of 2, 2 and 6 rows (fold weights 2, 2, 6) where weighing moves the best epochs.

    Weighted all-folds mean (1 : 1 : 3):   4, 2.6, 2.6, 2.4, 3.0  -> best epoch 4
    unweighted:                              4, 2.33, 2.33, 2.67, 3 -> would be epoch 2
    fold 0 out, (c1 + 3 c2) / 4:             4, 3, 2.5, 2.25, 3    -> epoch 4 (unweighted: 3)
    fold 1 out, (c0 + 3 c2) / 4:             4, 2.5, 3, 2.25, 3    -> epoch 4 (unweighted: 2)
    fold 2 out, (c0 + c1) / 2:               4, 2, 2, 3, 3         -> epoch 2 (epoch 3 ties)
    """
    curves = np.array([
        [4.0, 1.0, 3.0, 3.0, 3.0],
        [4.0, 3.0, 1.0, 3.0, 3.0],
        [4.0, 3.0, 3.0, 2.0, 3.0],
    ])
    foldid = np.repeat([0, 1, 2], [2, 2, 6])
    return curves, np.bincount(foldid).astype(float)


def test_weighted_folds_choose_the_weighted_epochs():
    curves, weight = _weighted_design()
    stopper = EarlyStopping(np.ones(3, bool), patience=10, groups=np.zeros(3, int), fold_weight=weight)
    keeps, stops = drive(stopper, curves)
    assert not stops.any()
    assert stopper.best_epoch.tolist() == [4, 4, 2]
    assert stopper.chosen_epoch().tolist() == [4, 4, 4]
    np.testing.assert_allclose(stopper.best, [2.25, 2.25, 2.0])
    T, F = True, False
    assert keeps.tolist() == [[T, T, T], [T, T, T], [T, F, F], [T, T, F], [F, F, F]]
    expected = naive(curves, 10, groups=[0, 0, 0], weights=weight)
    np.testing.assert_array_equal(keeps, expected[0])
    assert expected[2] == [4, 4, 2] and expected[3] == [4, 4, 4]
    # Equal weights give the unweighted answers: the weights are what moves them.
    equal = EarlyStopping(np.ones(3, bool), patience=10, groups=np.zeros(3, int))
    drive(equal, curves)
    assert equal.best_epoch.tolist() == [3, 2, 2]
    assert equal.chosen_epoch().tolist() == [2, 2, 2]


def test_a_flat_curve_stops_a_group_after_patience_epochs():
    for patience in (1, 2, 4):
        stopper = EarlyStopping(np.ones(2, bool), patience, groups=np.zeros(2, int))
        keeps, stops = drive(stopper, [[2.0] * 7, [2.0] * 7])
        assert _stop_epochs(stops) == [patience, patience]
        assert keeps.tolist() == [[True, True]] + [[False, False]] * 6
        assert stopper.best_epoch.tolist() == [1, 1]
        assert stopper.chosen_epoch().tolist() == [1, 1]


def test_a_group_trains_until_its_last_leave_one_out_curve_stalls():
    # Equal weights, patience 2. The curves of the folds' complements:
    #   fold 0 out (c1 + c2) / 2: 5, 4.5, 5.5, 5.5, 5.5, 3, 3   -> stalls at index 3 (best epoch 2)
    #   fold 1 out (c0 + c2) / 2: 5, 4, 4.5, 4, 3.5, 3, 3       -> stalls at index 3 (epoch 4 ties)
    #   fold 2 out (c0 + c1) / 2: 5, 4.5, 4, 3.5, 3, 5, 5       -> stalls at index 6 (best epoch 5)
    # Folds 0 and 1 are frozen from index 3: their curves "improve" at indices 4-5, too late.
    curves = [
        [5.0, 4.0, 3.0, 2.0, 1.0, 5.0, 5.0, 5.0],
        [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0],
        [5.0, 4.0, 6.0, 6.0, 6.0, 1.0, 1.0, 1.0],
    ]
    stopper = EarlyStopping(np.ones(3, bool), patience=2, groups=np.zeros(3, int))
    keeps, stops = drive(stopper, curves)
    T, F = True, False
    assert keeps[:7].tolist() == [[T, T, T], [T, T, T], [F, F, T], [F, F, T], [F, F, T], [F, F, F], [F, F, F]]
    assert _stop_epochs(stops) == [6, 6, 6]
    assert stopper.best_epoch.tolist() == [2, 2, 5]
    np.testing.assert_allclose(stopper.best, [4.5, 4.0, 3.0])  # the frozen folds' best is not moved
    # All-folds mean: 5, 4.33, 4.67, 4.33, 4, 3.67, 3.67 -> best epoch 6 (epoch 7 ties).
    assert stopper.chosen_epoch().tolist() == [6, 6, 6]
    expected = naive(curves, 2, groups=[0, 0, 0])
    np.testing.assert_array_equal(keeps, expected[0])
    np.testing.assert_array_equal(stops, expected[1])


def test_a_diverged_fold_stops_its_group_and_freezes_its_chosen_epoch():
    # Groups 0 (folds 0, 1) and 1 (folds 2, 3). At index 2 fold 0 diverges while fold 1 plunges.
    curves = np.array([
        [4.0, 3.0, np.nan, 0.1],
        [4.0, 3.0, 0.1, 0.1],
        [4.0, 3.0, 2.0, 1.0],
        [4.0, 3.0, 2.0, 1.0],
    ])
    stopper = EarlyStopping(np.ones(4, bool), patience=5, groups=np.array([0, 0, 1, 1]))
    keeps, stops = drive(stopper, curves)
    assert _stop_epochs(stops) == [2, 2, -1, -1]
    assert not keeps[2, 1]  # fold 1's curve is fold 0's: NaN, no improvement
    assert stopper.chosen_epoch().tolist() == [2, 2, 4, 4]  # group 0 did not advance to epoch 3
    assert stopper.best_epoch.tolist()[1:] == [2, 4, 4]
    # As the engine passes it: the diverged fold as +inf and no longer running.
    engine = EarlyStopping(np.ones(4, bool), patience=5, groups=np.array([0, 0, 1, 1]))
    engine.update(0, curves[:, 0], np.ones(4, bool))
    engine.update(1, curves[:, 1], np.ones(4, bool))
    keep, stop = engine.update(2, np.array([INF, 0.1, 2.0, 2.0]), np.array([False, True, True, True]))
    assert stop.tolist() == [True, True, False, False]
    assert keep.tolist() == [False, False, True, True]
    assert engine.best_epoch.tolist() == [2, 2, 3, 3]
    assert engine.chosen_epoch().tolist() == [2, 2, 3, 3]


def test_an_own_rule_members_nan_does_not_break_a_group():
    # Member 2 is in no group; its NaN neither enters group 0's curves nor stops the group.
    curves = [[3.0, 2.0, 1.0, 0.5], [3.0, 2.0, 1.0, 0.5], [1.0, np.nan, np.nan, np.nan]]
    stopper = EarlyStopping(np.ones(3, bool), patience=2, groups=np.array([0, 0, -1]))
    keeps, stops = drive(stopper, curves)
    assert _stop_epochs(stops) == [-1, -1, 2]
    assert keeps[:, 0].all() and keeps[:, 1].all()
    assert stopper.chosen_epoch().tolist() == [4, 4, 1]


def test_members_outside_the_group_do_not_enter_its_curves():
    # Group 0 (folds 0, 1) next to an own-rule member and an unvalidated member (group 0 too)
    # whose objectives would change group 0's means if they were counted.
    curves = [
        [3.0, 2.0, 2.5, 2.5, 2.5],
        [3.0, 2.5, 2.0, 2.5, 2.5],
        [0.0, 9.0, 0.0, 9.0, 9.0],
        [9.0, 0.0, 9.0, 0.0, 0.0],
    ]
    groups = np.array([0, 0, -1, 0])
    validated = np.array([True, True, True, False])
    weight = np.array([1.0, 3.0, 5.0, 5.0])
    stopper = EarlyStopping(validated, patience=2, groups=groups, fold_weight=weight)
    keeps, stops = drive(stopper, curves)
    # Fold 0's curve is fold 1's: best epoch 3; fold 1's is fold 0's: best epoch 2.
    # All-folds mean (c0 + 3 c1) / 4: 3, 2.375, 2.125, 2.5 -> epoch 3.
    assert stopper.best_epoch.tolist() == [3, 2, 1, 5]
    assert stopper.chosen_epoch().tolist() == [3, 3, 1, 5]
    expected = naive(curves, 2, groups=groups, weights=weight, validated=validated)
    np.testing.assert_array_equal(keeps, expected[0])
    np.testing.assert_array_equal(stops, expected[1])
    assert expected[2] == [3, 2, 1, 5] and expected[3] == [3, 3, 1, 5]


@pytest.mark.parametrize("seed", range(40))
def test_random_schedules_follow_the_naive_rules(seed):
    # Random curves with ties (quarters), unequal fold weights, two groups, own-rule and
    # unvalidated members, shorter budgets for some own-rule members; every patience.
    rng = np.random.default_rng(seed)
    K, E = 9, 14
    groups = np.array([0, 0, 0, 1, 1, 1, 1, -1, -1])
    validated = np.array([True] * 8 + [False])
    if seed % 4 == 3:  # group 1 as the first group: ids need not start at 0
        groups = np.where(groups == 0, 2, groups)
    weight = rng.choice([1.0, 2.0, 4.0, 0.5], K)  # powers of 2: sums of quarters are exact
    start = rng.uniform(2, 4, (K, 1))
    walk = np.cumsum(rng.normal(-0.15, 0.4, (K, E)), axis=1)
    curves = np.round((start + walk) * 4) / 4
    patience = int(rng.integers(0, 5))
    budget = np.array([E] * 7 + [int(rng.integers(1, E + 1)), int(rng.integers(1, E + 1))])
    if seed % 3 == 1:  # folds with budgets of their own: a fold out of epochs stays frozen or open
        budget[:7] = rng.integers(2, E + 1, 7)
    enabled = seed % 10 != 9
    stopper = EarlyStopping(validated, patience, groups=groups, fold_weight=weight, enabled=enabled)
    keeps, stops = drive(stopper, curves, budget=budget)
    keep_ref, stop_ref, best_ref, chosen_ref = naive(curves, patience, groups, weight, validated, enabled,
                                                     budget)
    np.testing.assert_array_equal(keeps, keep_ref)
    np.testing.assert_array_equal(stops, stop_ref)
    assert stopper.best_epoch.tolist() == best_ref
    assert stopper.chosen_epoch().tolist() == chosen_ref


def test_without_groups_chosen_is_each_members_best_epoch():
    curves = [[3.0, 1.0, 2.0, 2.0], [3.0, 2.0, 1.0, 0.5]]
    stopper = EarlyStopping(np.ones(2, bool), patience=3)
    drive(stopper, curves)
    assert stopper.chosen_epoch().tolist() == [2, 4]
    assert stopper.n_groups == 0


def test_a_group_of_only_unvalidated_members_is_left_out():
    # Group 2 holds one unvalidated member: no curve, and groups 0, 1 are stopped as without it.
    groups = np.array([0, 0, 1, 1, 2])
    validated = np.array([True, True, True, True, False])
    curves = [[3.0, 2.0, 2.0, 2.0], [3.0, 2.0, 2.0, 2.0], [3.0, 2.0, 1.0, 0.5], [3.0, 2.0, 1.0, 0.5],
              [np.nan] * 4]
    stopper = EarlyStopping(validated, patience=2, groups=groups)
    keeps, stops = drive(stopper, curves)
    assert _stop_epochs(stops) == [3, 3, -1, -1, -1]
    assert stopper.chosen_epoch().tolist() == [2, 2, 4, 4, 4]
    assert keeps[:, 4].all()


def test_folds_without_a_curve_give_no_warnings():
    # Leave-one-out of a single fold (0 / 0), a group id with no folds (0 / 0), and a fold whose
    # complement's weight is lost in rounding (1000 / 0): each epoch would otherwise warn.
    groups = np.array([0, 2, 2, -1])
    weight = np.array([1.0, 1.0, 1e-17, 1.0])
    stopper = EarlyStopping(np.ones(4, bool), patience=2, groups=groups, fold_weight=weight)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loo, _, full = stopper._curves(np.array([1.0, 1.0, 1e20, 1.0]))
        drive(stopper, [[3.0, 2.0, 1.0], [3.0, 2.0, 1.0], [1e20] * 3, [1.0] * 3])
    assert np.isnan(loo[0]) and np.isinf(loo[1]) and np.isnan(full[1])
    # Folds 0 and 1 never improve (no curve, an infinite one): best epoch 0, "none".
    assert stopper.best_epoch.tolist() == [0, 0, 3, 1]


def test_epochs_are_integers():
    # The engine indexes its history with them (best_epoch - 1).
    for groups in (None, np.array([0, 0, -1])):
        stopper = EarlyStopping(np.array([True, True, False]), 2, groups=groups)
        drive(stopper, [[3.0, 2.0, 2.5], [3.0, 2.5, 2.0], [1.0, 1.0, 1.0]])
        assert stopper.best_epoch.dtype.kind == "i"
        assert stopper.chosen_epoch().dtype.kind == "i"


def test_masks_and_groups_in_other_dtypes():
    # Validation-row counts as `validated` (0: none) and group ids as floats read as the masks
    # and ids they stand for.
    curves = [[3.0, 2.0, 2.0, 2.0], [3.0, 2.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0]]
    as_given = EarlyStopping(np.array([40, 25, 0]), 2, groups=np.array([0.0, 0.0, -1.0]))
    plain = EarlyStopping(np.array([True, True, False]), 2, groups=np.array([0, 0, -1]))
    a, b = drive(as_given, curves), drive(plain, curves)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert _stop_epochs(a[1]) == [3, 3, -1]
    assert as_given.chosen_epoch().tolist() == [2, 2, 4]


def test_a_frozen_fold_out_of_epochs_stays_frozen():
    # Patience 1, equal weights; fold 0 has 2 epochs, then its objective stays at 0 (as given).
    #   fold 0 out (c1 + c2) / 2: 4, 4        -> frozen at index 1 (a tie), then out of epochs
    #   fold 1 out (c0 + c2) / 2: 3.5, 2, 2   -> frozen at index 2
    #   fold 2 out (c0 + c1) / 2: 2.5, 2, 2   -> frozen at index 2: every fold frozen, stop.
    curves = [[2.0, 0.0, 9.0, 9.0, 9.0], [3.0, 4.0, 4.0, 4.0, 4.0], [5.0, 4.0, 4.0, 4.0, 4.0]]
    stopper = EarlyStopping(np.ones(3, bool), patience=1, groups=np.zeros(3, int))
    _, stops = drive(stopper, curves, budget=[2, 5, 5])
    assert _stop_epochs(stops) == [-1, 2, 2]  # fold 0 was no longer running
    assert stopper.best_epoch.tolist() == [1, 2, 2]
    assert stopper.chosen_epoch().tolist() == [2, 2, 2]  # all folds: 10/3, 8/3, 8/3 (a tie)


def test_min_delta_counts_only_a_real_fall_as_progress():
    """A curve creeping down by 0.01% an epoch stalls under min_delta=1e-3, not under 0."""
    creeping = 1.0 * 0.9999 ** np.arange(30)

    def stopped_at(min_delta):
        stopper = EarlyStopping(np.ones(1, bool), patience=5, min_delta=min_delta)
        for epoch, value in enumerate(creeping):
            keep, stop = stopper.update(epoch, np.array([value]), np.ones(1, bool))
            assert keep[0]  # every epoch is the lowest yet: its weights are the ones kept
            if stop[0]:
                return epoch + 1
        return None

    assert stopped_at(0.0) is None
    # The first value anchors; 5 epochs without a 0.1% fall end it at epoch 6 (1-based).
    assert stopped_at(1e-3) == 6
