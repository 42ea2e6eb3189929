"""Stability selection's bookkeeping from synthetic fits: q as the union along the path, the
bound, the region, the selection, the half-samples, the rows each fit sees, early refusals.

Every number is counted by hand in the test (the union of kept features per half-sample,
Meinshausen & Buhlmann's bound); no network trains here (the fits are replaced by recorders).
"""

import numpy as np
import pytest

import kerasnet
from kerasnet.errors import InputError
from kerasnet.path import stability, stages
from kerasnet.path.stability import StabilitySelection, _half_samples, check_halves

NAMES = ["a", "b", "c", "d"]


def _non_monotone_path():
    """3 strengths x 2 half-samples x 4 features; features enter and leave along the path."""
    kept = np.zeros((3, 2, 4), bool)
    kept[0, 0, 0] = True            # half 0: {a}, then {b}, then {a}: union 1, 2, 2
    kept[1, 0, 1] = True
    kept[2, 0, 0] = True
    kept[0, 1, 2] = True            # half 1: {c}, then {}, then {d}: union 1, 1, 2
    kept[2, 1, 3] = True
    return kept


def test_q_is_the_mean_size_of_each_halfs_union_down_the_path():
    kept = _non_monotone_path()
    # By hand: half 0's union has 1, 2, 2 features, half 1's 1, 1, 2; their means 1, 1.5, 2
    # (per strength the counts would be 1, 0.5, 1).
    stable = StabilitySelection([3.0, 2.0, 1.0], kept, NAMES, threshold=0.75, pfer=10.0)
    np.testing.assert_array_equal(stable.q_, [1.0, 1.5, 2.0])
    np.testing.assert_array_equal(stable.bound_, np.array([1.0, 2.25, 4.0]) / ((2 * 0.75 - 1) * 4))
    np.testing.assert_array_equal(stable.probabilities_[:, 0], [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(stable.probabilities_[:, 1], [0.0, 0.5, 0.0])
    assert stable.lambdas_.tolist() == [3.0, 2.0, 1.0]
    assert StabilitySelection([3, 2, 1], kept, NAMES, threshold=0.75, pfer=10.0).lambdas_.dtype == float
    assert stable.threshold == 0.75 and stable.pfer == 10.0


def test_a_bound_exactly_at_pfer_is_inside_the_region():
    kept = _non_monotone_path()
    # threshold 0.75, d = 4: bound = q^2 / 2, i.e. 0.5, 1.125, 2 (all exact in binary).
    at = StabilitySelection([3.0, 2.0, 1.0], kept, NAMES, threshold=0.75, pfer=1.125)
    assert at.region_ == 1 and at.expected_false_ == 1.125
    below = StabilitySelection([3.0, 2.0, 1.0], kept, NAMES, threshold=0.75, pfer=1.0)
    assert below.region_ == 0 and below.expected_false_ == 0.5
    everything = StabilitySelection([3.0, 2.0, 1.0], kept, NAMES, threshold=0.75, pfer=2.0)
    assert everything.region_ == 2 and everything.expected_false_ == 2.0
    # Per strength q would be 1, 0.5, 1 and the bound 0.5, 0.125, 0.5: all within pfer 0.5.
    strict = StabilitySelection([3.0, 2.0, 1.0], kept, NAMES, threshold=0.75, pfer=0.5)
    assert strict.region_ == 0


def test_a_probability_reaching_the_threshold_exactly_is_selected_in_the_region_only():
    kept = np.zeros((2, 4, 4), bool)
    kept[0, :2, 0] = True     # a: 2 of 4 at the top = 0.5
    kept[0, :3, 1] = True     # b: 3 of 4 = 0.75, exactly the threshold
    kept[0, :, 2] = True      # c: always at the top
    kept[1, :, 3] = True      # d: always, but only at the weakest strength
    kept[1, :3, 0] = True     # a: 0.75 at the weakest strength
    # threshold 0.75, d = 4: unions of 3, 3, 2, 1 features at the top (q = 2.25), 4, 4, 4, 2
    # down to the weakest (q = 3.5); bounds q^2 / 2 = 2.53125 and 6.125.
    stable = StabilitySelection([1.0, 0.5], kept, NAMES, threshold=0.75, pfer=2.53125)
    np.testing.assert_array_equal(stable.q_, [2.25, 3.5])
    assert stable.region_ == 0 and stable.expected_false_ == 2.53125
    np.testing.assert_array_equal(stable.selected_, [1, 2])
    assert stable.selected_names_ == ["b", "c"]
    wide = StabilitySelection([1.0, 0.5], kept, NAMES, threshold=0.75, pfer=6.125)
    assert wide.region_ == 1 and wide.expected_false_ == 6.125
    np.testing.assert_array_equal(wide.to_frame().sort_index()["probability"], [0.75, 0.75, 1.0, 1.0])
    np.testing.assert_array_equal(wide.selected_, [0, 1, 2, 3])
    frame = stable.to_frame()
    assert list(frame.columns) == ["feature", "probability", "max_probability", "selected"]
    # Sorted by the region's probability (c 1, b 0.75, a 0.5, d 0), then by the grid's maximum.
    assert frame["feature"].tolist() == ["c", "b", "a", "d"]
    np.testing.assert_array_equal(frame["probability"], [1.0, 0.75, 0.5, 0.0])
    np.testing.assert_array_equal(frame["max_probability"], [1.0, 0.75, 0.75, 1.0])
    assert frame["selected"].tolist() == [True, True, False, False]
    assert "2 of 4 features selected" in repr(stable) and "b, c" in repr(stable)


def test_to_frame_breaks_ties_in_the_region_by_the_grids_maximum():
    kept = np.zeros((2, 2, 3), bool)
    kept[1, :, 0] = True     # a enters only below the region
    kept[0, 0, 2] = True     # c: 0.5 at the top
    # d = 3, threshold 1: bound q^2 / 3; q = 0.5, 1.5: region the top only (pfer 0.1).
    stable = StabilitySelection([1.0, 0.5], kept, ["a", "b", "c"], threshold=1.0, pfer=0.1)
    assert stable.region_ == 0
    frame = stable.to_frame()
    assert frame["feature"].tolist() == ["c", "a", "b"]  # a and b tie at 0 in the region; a's max is 1


def test_no_region_selects_nothing():
    kept = np.ones((2, 2, 4), bool)
    # q = 4 everywhere: bound 16 / (0.5 * 4) = 8 > pfer.
    stable = StabilitySelection([1.0, 0.5], kept, NAMES, threshold=0.75, pfer=7.5)
    assert stable.region_ == -1
    assert stable.selected_.tolist() == [] and stable.selected_names_ == []
    assert np.zeros((3, 4))[:, stable.selected_].shape == (3, 0)  # still indices (an integer array)
    assert stable.expected_false_ == 0.0
    frame = stable.to_frame()
    np.testing.assert_array_equal(frame["probability"], np.zeros(4))
    assert not frame["selected"].any()
    assert "0 of 4 features selected" in repr(stable) and repr(stable).endswith("<= 0: none)")


def test_repr_lists_ten_names_then_an_ellipsis():
    names = [f"x{j}" for j in range(12)]
    stable = StabilitySelection([1.0], np.ones((1, 2, 12), bool), names, threshold=0.75, pfer=100.0)
    text = repr(stable)
    assert "12 of 12 features selected at threshold 0.75" in text and "<= 24" in text  # 12^2 / (0.5 * 12)
    assert "x9 ..." in text and "x10" not in text
    for d, tail in ((10, "x9)"), (11, "x9 ...)")):  # the ellipsis only beyond ten names
        stable = StabilitySelection([1.0], np.ones((1, 2, d), bool), names[:d], threshold=0.75, pfer=100.0)
        assert repr(stable).endswith(tail)


def _assert_pairs_complementary(halves, n):
    assert halves.shape == (len(halves), n) and len(halves) % 2 == 0
    for p in range(len(halves) // 2):
        first, second = halves[2 * p], halves[2 * p + 1]
        assert not (first & second).any() and (first | second).all()


def test_half_samples_are_complementary_stratified_different_and_seeded():
    y = np.array([0.0] * 10 + [1.0] * 6)
    halves = _half_samples(5, y, "binary", 3)
    assert halves.shape == (10, 16) and halves.dtype == bool
    _assert_pairs_complementary(halves, 16)
    for half in halves:  # stratified: 5 of class 0 and 3 of class 1 in every half
        assert (half & (y == 0)).sum() == 5 and (half & (y == 1)).sum() == 3
    pairs = {tuple(np.flatnonzero(halves[2 * p])) for p in range(5)}
    assert len(pairs) == 5  # every pair its own split
    np.testing.assert_array_equal(halves, _half_samples(5, y, "binary", 3))
    assert not np.array_equal(halves, _half_samples(5, y, "binary", 4))


def test_many_pairs_are_all_different():
    halves = _half_samples(25, np.arange(40.0), "regression", 0)
    assert len({tuple(np.flatnonzero(h)) for h in halves[::2]}) == 25


def test_half_samples_of_a_regression_are_shuffled_halves():
    y = np.arange(12.0)
    halves = _half_samples(3, y, "regression", 0)
    _assert_pairs_complementary(halves, 12)
    assert sorted(halves.sum(axis=1).tolist()) == [6] * 6
    first = np.flatnonzero(halves[0])
    assert not (np.array_equal(first, np.arange(6)) or np.array_equal(first, np.arange(6, 12)))
    assert len({tuple(np.flatnonzero(h)) for h in halves[::2]}) == 3


class _Fit:
    """What the engine's fit returns, as far as stability selection reads it."""

    def __init__(self, K, epochs):
        self.val_loss = np.tile(np.arange(K, dtype=float), (epochs, 1))
        self.best_epoch = np.full(K, epochs)
        self.diverged = np.zeros(K, bool)


def _recorders(monkeypatch, d, hidden):
    calls = {"dense": [], "fit": []}

    def weights_like(network, kept):
        shapes = [w.shape for w in network.get_weights()]
        out = [np.ones(s, "float32") for s in shapes]
        out[0][~kept] = 0.0
        return out

    def dense(plan, rows, network, hidden_l2, progress):
        # The dense starts train on the plan's row sets, validated on its test sets.
        calls["dense"].append({"rows": np.asarray(plan.row_sets), "test_sets": np.asarray(plan.test_sets),
                               "F": plan.F})
        return [weights_like(network, np.ones(d, bool)) for _ in range(plan.F + 1)]

    def fit(network, rows, members, training, stopping=None, callback=None):
        train, of = members.train_rows(rows.n)
        val, val_of = members.val_rows(rows.n)
        calls["fit"].append({"train": np.asarray(train)[of], "val": np.asarray(val)[val_of],
                             "group": np.asarray(members.group), "start": (members.starts, members.start_of)})
        K = members.K
        kept = np.arange(d) <= (np.arange(K)[:, None] % d)  # member k keeps the first k % d + 1
        return [weights_like(network, kept[k]) for k in range(K)], _Fit(K, training.epochs)

    monkeypatch.setattr(stability, "dense_starts", dense)
    monkeypatch.setattr(stages, "fit_members", fit)  # the engine, as every stage trains (stages.train)
    return calls


def test_every_fit_trains_on_its_half_and_validates_on_the_other(monkeypatch):
    d, n = 3, 12
    calls = _recorders(monkeypatch, d, (2,))
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(n, d)).astype("float32"), np.array([0.0, 1.0] * 6)
    stable = kerasnet.stability_selection(X, y, hidden=(2,), n_pairs=2, lambdas=[0.5, 0.1], epochs=1,
                                          seed=0, verbose=0)
    (dense,) = calls["dense"]
    S = 4
    assert dense["F"] == S and dense["rows"].shape == (S + 1, n)
    halves = dense["rows"][:S]
    np.testing.assert_array_equal(halves, _half_samples(2, y, "binary", 0))
    assert dense["rows"][S].all()  # the last start trains on every row
    for f in range(S):  # each dense start is validated on the complement of its half
        assert not (dense["test_sets"][f] & halves[f]).any()
        assert (dense["test_sets"][f] | halves[f]).all()
    assert len(calls["fit"]) == 2  # the plain fit and the adaptive fit
    for call in calls["fit"]:
        assert call["train"].shape == (2 * S, n)  # L x S members, k = i * S + s
        for k in range(2 * S):
            np.testing.assert_array_equal(call["train"][k], halves[k % S])
            np.testing.assert_array_equal(call["val"][k], ~halves[k % S])
        starts, of = call["start"]
        np.testing.assert_array_equal(of, np.tile(np.arange(S), 2))
    np.testing.assert_array_equal(calls["fit"][0]["group"], np.repeat(np.float32([0.5, 0.1]), S))
    # kept: member k keeps its first k % 3 + 1 features; probabilities averaged over halves.
    kept = (np.arange(d) <= (np.arange(2 * S)[:, None] % d)).reshape(2, S, d)
    np.testing.assert_array_equal(stable.probabilities_, kept.mean(axis=1))


@pytest.mark.parametrize("task", ["cox", "survival"])
def test_an_unsupported_task_is_refused_before_anything_trains(monkeypatch, task):
    calls = _recorders(monkeypatch, 2, (2,))
    with pytest.raises(InputError, match=f"supports task='binary'.*received task='{task}'") as err:
        kerasnet.stability_selection(np.random.default_rng(0).normal(size=(20, 2)), np.ones(20), task=task,
                                     verbose=0)
    assert "\n" not in str(err.value) and "selected_features" in str(err.value)
    assert calls == {"dense": [], "fit": []}


@pytest.mark.parametrize("y, message", [
    (np.array([0.0, 0.0, 0.0, 0.0, 1.0]), "class '1.0' has 1 of the 5 rows"),
    (np.array(["a", "a", "b", "b", "c"]), "class 'c' has 1 of the 5 rows"),
    (np.array([0.0, 1.0, 0.0]), "at least 4 rows, got 3"),
])
def test_too_few_rows_for_two_halves_are_refused_early(monkeypatch, y, message):
    calls = _recorders(monkeypatch, 2, (2,))
    with pytest.raises(InputError, match=message) as err:
        kerasnet.stability_selection(np.random.default_rng(0).normal(size=(len(y), 2)), y, verbose=0)
    assert "\n" not in str(err.value)
    assert calls == {"dense": [], "fit": []}


def test_plot_draws_the_stability_path(monkeypatch):
    import kerasnet.plots

    seen = []
    monkeypatch.setattr(kerasnet.plots, "stability_axes",
                        lambda stable, ax: seen.append((stable, ax)) or "axes")
    stable = StabilitySelection([1.0], np.ones((1, 2, 2), bool), ["a", "b"], threshold=0.75, pfer=10.0)
    assert stable.plot("ax") == "axes" and seen == [(stable, "ax")]


def test_four_rows_and_two_rows_of_a_class_are_enough_for_two_halves():
    check_halves(np.arange(4.0), "regression", None)
    check_halves(np.array([0, 0, 1, 1, 1]), "binary", np.array(["no", "yes"]))
    check_halves(np.array([0, 0, 1, 1, 2, 2]), "multiclass", np.array(["a", "b", "c"]))
    with pytest.raises(InputError, match="class 'c' has 1 of the 5 rows"):
        check_halves(np.array([0, 0, 1, 1, 2]), "multiclass", np.array(["a", "b", "c"]))
