"""The feature-selection helpers from synthetic norms and scores: the adaptive factors, the
per-member strengths, the grid's top from a linear gradient, the dense starts' masks.

Every expectation is worked out by hand in the comments (weighted means of the other splits'
scores, ``(max_k ||W1[k]|| / ||W1[j]||) ** gamma``, ``max_j ||G_j|| / factor_j``); no network
trains (the engine is replaced by a recorder).
"""

import numpy as np
import pytest

from kerasnet.path import stages
from kerasnet.path.features import (
    adaptive_factors,
    adaptive_gamma,
    first_layer_norms,
    group_lambda_max,
    held_out,
    scaled_strengths,
)
from kerasnet.path.members import Scaling, Training
from kerasnet.path.plan import Plan
from kerasnet.path.rows import Rows
from kerasnet.path.stages import dense_starts
from kerasnet.path.stopping import StoppingRule

HOLD = 1e30

# 3 strengths x 3 folds; lower is better. Fold weights 1, 1, 3.
VALUES = np.array([[4.0, 5.0, 2.0],
                   [4.0, 1.0, 4.0],
                   [0.0, 3.0, 3.0]])
FOLD_WEIGHTS = np.array([1.0, 1.0, 3.0])


def _norms():
    """Norms [L=3, S=5, d=3]: splits 0-2 are the folds, 3 the all-rows refit, 4 keeps nothing."""
    norms = np.zeros((3, 5, 3))
    norms[:, 0] = [[2, 1, 0], [1, 4, 2], [3, 3, 3]]
    norms[:, 1] = [[0, 2, 4], [1, 1, 1], [0, 0, 0]]  # nothing kept at strength 2
    norms[:, 2] = [[5, 5, 5], [0, 1, 0], [1, 2, 4]]
    norms[:, 3] = [[1, 1, 1], [1, 2, 3], [8, 0, 2]]
    return norms


def test_each_split_takes_the_other_splits_weighted_choice_among_strengths_it_kept_a_feature():
    # Split 0 (folds 1, 2; weights 1, 3): means (5 + 6) / 4 = 2.75, (1 + 12) / 4 = 3.25,
    #   (3 + 9) / 4 = 3 -> strength 0 (unweighted, 3.5, 2.5, 3, it would be strength 1).
    # Split 1 (folds 0, 2): 2.5, 4, 2.25 -> strength 2, where split 1 kept nothing; among
    #   strengths 0 and 1 -> strength 0.
    # Split 2 (folds 0, 1; weights 1, 1): 4.5, 2.5, 1.5 -> strength 2.
    # Split 3 (all rows, all folds): (4 + 5 + 6) / 5 = 3, 3.4, 2.4 -> strength 2.
    # Split 4 kept nothing anywhere: every feature held.
    factors = adaptive_factors(_norms(), VALUES, np.zeros((3, 3), bool), FOLD_WEIGHTS, [3.0, 2.0, 1.0],
                               False, 1.0)
    expected = np.array([[1.0, 2.0, HOLD],      # from [2, 1, 0]: 2/2, 2/1, held
                         [HOLD, 2.0, 1.0],      # from [0, 2, 4]
                         [4.0, 2.0, 1.0],       # from [1, 2, 4]
                         [1.0, HOLD, 4.0],      # from [8, 0, 2]
                         [HOLD, HOLD, HOLD]])
    np.testing.assert_array_equal(factors, expected)
    squared = adaptive_factors(_norms(), VALUES, np.zeros((3, 3), bool), FOLD_WEIGHTS, [3.0, 2.0, 1.0],
                               False, 2.0)
    np.testing.assert_array_equal(squared, np.where(expected < HOLD, expected ** 2, HOLD))


def test_adaptive_factors_with_equal_weights_and_a_greater_is_better_score():
    # Equal weights: split 0 (folds 1, 2) means 3.5, 2.5, 3 -> lowest strength 1, from [1, 4, 2].
    low = adaptive_factors(_norms(), VALUES, np.zeros((3, 3), bool), np.ones(3), [3.0, 2.0, 1.0], False, 1.0)
    np.testing.assert_array_equal(low[0], [4.0, 1.0, 2.0])
    # Greater is better: split 0's best mean is 3.5 at strength 0, split 2's (folds 0, 1) 4.5 at 0.
    high = adaptive_factors(_norms(), VALUES, np.zeros((3, 3), bool), np.ones(3), [3.0, 2.0, 1.0], True, 1.0)
    np.testing.assert_array_equal(high[0], [1.0, 2.0, HOLD])
    np.testing.assert_array_equal(high[2], [1.0, 1.0, 1.0])


def test_adaptive_factors_skip_a_strength_whose_member_diverged():
    # Fold 2 diverged at strength 0: splits that average fold 2 (0, 1, 3) lose strength 0.
    excluded = np.zeros((3, 3), bool)
    excluded[0, 2] = True
    factors = adaptive_factors(_norms(), VALUES, excluded, FOLD_WEIGHTS, [3.0, 2.0, 1.0], False, 1.0)
    # Split 0: strengths 1 (3.25) and 2 (3) -> 2, from [3, 3, 3]; split 1: only strength 1 kept
    # a feature and is left -> [1, 1, 1]; split 2 (folds 0, 1) unchanged.
    np.testing.assert_array_equal(factors[0], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(factors[1], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(factors[2], [4.0, 2.0, 1.0])


def test_a_split_that_kept_nothing_on_a_one_strength_path_holds_every_feature():
    norms = np.array([[[0.0, 0.0], [1.0, 4.0], [2.0, 1.0]]])  # L = 1: split 0 kept nothing
    factors = adaptive_factors(norms, np.ones((1, 2)), np.zeros((1, 2), bool), np.ones(2), [1.0], False, 1.0)
    np.testing.assert_array_equal(factors, [[HOLD, HOLD], [4.0, 1.0], [1.0, 2.0]])


@pytest.mark.parametrize("adaptive, gamma", [(True, 1.0), (False, None), (None, None), (2, 2.0), (0.5, 0.5)])
def test_adaptive_gamma(adaptive, gamma):
    assert adaptive_gamma(adaptive) == gamma


@pytest.mark.parametrize("adaptive, message", [
    (0, "^adaptive must be True, False, None or a positive gamma; received adaptive=0 \\(use False"),
    (-1.0, "^adaptive must be a non-negative finite number; received adaptive=-1.0"),
    (float("nan"), "^adaptive must be a non-negative finite number")])
def test_adaptive_gamma_refuses(adaptive, message):
    with pytest.raises(ValueError, match=message):
        adaptive_gamma(adaptive)


def _weights(first_kernels):
    return [[np.asarray(k, "float32"), np.zeros(np.shape(k)[1], "float32")] for k in first_kernels]


def test_first_layer_norms_and_held_out():
    weights = _weights([[[3, 4], [0, 0], [1, 0]], [[0, 0], [0, -2], [0, 0]]])
    np.testing.assert_allclose(first_layer_norms(weights), [[5, 0, 1], [0, 2, 0]])
    assert first_layer_norms(weights).dtype == np.float64  # float32 weights, norms in double precision
    held = held_out(weights)
    assert held.dtype == np.float32
    np.testing.assert_array_equal(held, np.array([[0, HOLD, 0], [HOLD, 0, HOLD]], "float32"))


def test_scaled_strengths():
    of = np.array([0, 1, 2, 0, 1, 2])  # 2 strengths x 3 splits
    lam = np.repeat([2.0, 0.5], 3)  # each member's strength
    np.testing.assert_array_equal(scaled_strengths(lam, of), [2.0, 2.0, 2.0, 0.5, 0.5, 0.5])
    assert scaled_strengths(np.repeat([2, 1], 3), of).dtype == float  # integer strengths are still strengths
    per_split = np.array([[1.0, 2.0], [4.0, HOLD], [0.0, 1.0]])
    got = scaled_strengths(lam, of, per_split)
    assert got.dtype == np.float32 and got.shape == (6, 2)
    np.testing.assert_array_equal(got, np.array([[2, 4], [8, HOLD], [0, 2],
                                                 [0.5, 1], [2, 5e29], [0, 0.5]], "float32"))  # capped at 1e30
    shared = scaled_strengths([2.0, 0.5], of[:4:3], [3.0, HOLD])  # one row of factors for every member
    np.testing.assert_array_equal(shared, np.array([[6, HOLD], [1.5, 5e29]], "float32"))


def test_group_lambda_max_of_a_linear_model_with_factors():
    # Row norms of G: 5, 1, 13, 2.
    G = np.array([[3.0, 4.0], [1.0, 0.0], [5.0, 12.0], [0.0, 2.0]])
    assert group_lambda_max(None, None, None, None, None, linear_gradient=G) == 13.0
    # Feature 2 unpenalized (0: never leaves, never counts), 1 held: max(5 / 2, 2 / 0.5) = 4.
    factors = np.array([2.0, HOLD, 0.0, 0.5])
    assert group_lambda_max(None, None, None, None, None, linear_gradient=G,
                            factors=factors) == 4.0
    # One row of factors per split: split 0 as above, split 1 only feature 1 free: 1 / 0.25 = 4...
    rows = np.array([[2.0, HOLD, 0.0, 0.5], [HOLD, 0.25, HOLD, HOLD], [0.0, HOLD, 0.0, HOLD]])
    tops = group_lambda_max(None, None, None, None, None, linear_gradient=G, factors=rows)
    np.testing.assert_array_equal(tops, [4.0, 4.0, 0.0])  # ... and split 2 has no penalized feature


class _Dense:
    chosen_epoch = np.array([7, 3, 3])


class _Plan(Plan):
    """A plan whose scalings are recorded: each is a sentinel :class:`Scaling` of its members' sets."""

    def scaling(self, of):
        of = np.asarray(of)
        self.scalings.append(of)
        return Scaling(np.full((len(of), 3), float(len(self.scalings))), np.ones((len(of), 3)))


def _plan(train, test, factor, training, stopping):
    n = train.shape[1]
    plan = _Plan("regression", "deviance", np.zeros(n), np.ones(n), train, test, None, factor, None, True,
                 training, stopping)
    object.__setattr__(plan, "scalings", [])
    return plan


def test_dense_starts_validate_each_split_on_its_test_rows(monkeypatch):
    calls, phases = [], []

    def fit(network, rows, members, training, stopping=None, callback=None):
        calls.append({"network": network, "rows": rows, "members": members, "training": training,
                      "stopping": stopping})
        K = members.K
        return [[np.full((3, 2), float(len(calls) * 10 + k))] for k in range(K)], _Dense()

    class Progress:
        def phase(self, name, epochs, shape):
            phases.append((name, epochs, shape))

    monkeypatch.setattr(stages, "fit_members", fit)
    n, F = 10, 3
    rng = np.random.default_rng(0)
    train = rng.random((F, n)) < 0.6
    train[:, :6], train[:, 6:] = True, False  # every split trains on 6 rows
    test = ~train
    test[1, 9] = False  # a test set need not be the whole complement
    rows = object()  # the prepared rows pass through to the engine
    stopping = StoppingRule(patience=4)
    plan = _plan(train, test, np.array([1.0, 1e20, 0.0]), Training("mse", epochs=20, batch_size=4),
                 stopping)  # 1e20 holds
    starts = dense_starts(plan, rows, "net", 0.01, Progress())
    first, refit = calls
    for call in calls:
        assert call["network"] == "net" and call["rows"] is rows and call["training"].loss == "mse"
    np.testing.assert_array_equal(plan.scalings[0], np.arange(F))
    one, whole = first["members"], refit["members"]
    assert one.stop_groups.dtype.kind == "i" and whole.streams.dtype.kind == "i"
    assert whole.train_sets.dtype == bool
    np.testing.assert_array_equal(one.val_sets[one.val_of], test)
    np.testing.assert_array_equal(one.val_of, np.arange(F))
    np.testing.assert_array_equal(one.train_sets[one.train_of], train)
    np.testing.assert_array_equal(one.train_of, np.arange(F))
    np.testing.assert_array_equal(one.l1, np.zeros(F))
    np.testing.assert_array_equal(one.l2, np.full(F, 0.01, "float32"))  # the engine's dtype
    # excluded stay out
    np.testing.assert_array_equal(one.group, np.tile(np.float32([0.0, HOLD, 0.0]), (F, 1)))
    assert first["training"].epochs == 20 and first["stopping"] is stopping and stopping.patience == 4
    np.testing.assert_array_equal(one.streams, np.arange(F))
    np.testing.assert_array_equal(one.stop_groups, np.zeros(F))
    assert first["training"].batch_size == 4 and one.scaling.x_mean[0, 0] == 1.0  # the scaling of the folds
    # The refit on all rows: split 0's chosen 7 epochs of ceil(6 / 4) = 2 steps, as epochs of
    # ceil(10 / 4) = 3 steps: round(14 / 3) = 5.
    assert refit["training"].epochs == 5
    np.testing.assert_array_equal(whole.train_sets[whole.train_of], np.ones((1, n), bool))
    assert whole.K == 1
    assert whole.val_sets is None
    np.testing.assert_array_equal(whole.l1, [0.0])
    np.testing.assert_array_equal(whole.l2, np.float32([0.01]))
    np.testing.assert_array_equal(whole.group, np.float32([[0.0, HOLD, 0.0]]))
    np.testing.assert_array_equal(whole.streams, [0])
    np.testing.assert_array_equal(plan.scalings[1], [F])
    assert whole.scaling.x_mean[0, 0] == 2.0  # the scaling of the all-rows set
    assert [float(s[0][0, 0]) for s in starts] == [10.0, 11.0, 12.0, 20.0]
    assert phases == [("Dense", 20, (1, F)), ("Dense", 5, (1, 1))]


def test_dense_starts_without_early_stopping_refit_for_every_epoch(monkeypatch):
    calls = []

    def fit(network, rows, members, training, stopping=None, callback=None):
        calls.append({"members": members, "training": training, "stopping": stopping})
        return [[np.zeros((2, 1))] for _ in range(members.K)], _Dense()

    class Progress:
        def phase(self, *args):
            pass

    monkeypatch.setattr(stages, "fit_members", fit)
    train = np.array([[1, 1, 0, 0], [0, 0, 1, 1]], bool)
    plan = _plan(train, ~train, None, Training("mse", epochs=9, batch_size=1), None)
    starts = dense_starts(plan, object(), "net", 0.0, Progress())
    assert len(starts) == 3 and calls[1]["training"].epochs == 9 and calls[0]["stopping"] is None
    np.testing.assert_array_equal(calls[0]["members"].group, [0.0, 0.0])  # no factors: no feature held
    np.testing.assert_array_equal(calls[1]["members"].group, [0.0])


def _by_hand_top(X, y, w, W1, b1, W2, b2, factors=None, from_empty=False):
    """max_j ||dL/dW1[j]|| / factor_j with row j zeroed, for relu(x W1 + b1) W2 + b2 and the
    weighted mean squared error: dL/dW1 = x^T ((-2 w (y - out)) W2^T * [pre > 0])."""
    w = w / w.sum()

    def gradient(first):
        pre = X @ first + b1
        out = (np.maximum(pre, 0) @ W2 + b2)[:, 0]
        return X.T @ (((-2 * w * (y - out))[:, None] @ W2.T) * (pre > 0))

    norms = np.zeros(len(W1))
    for j in range(len(W1)):
        removed = W1.copy()
        removed[j] = 0
        norms[j] = np.linalg.norm(gradient(removed)[j])
    if from_empty:
        norms = np.maximum(norms, np.linalg.norm(gradient(np.zeros_like(W1)), axis=1))
    if factors is None:
        return norms.max()
    free = (factors > 0) & (factors < 1e20)
    return max(norms[j] / factors[j] for j in np.flatnonzero(free))


def test_group_lambda_max_of_a_network_is_the_largest_gradient_norm_of_a_removed_row():
    from kerasnet.models import mlp
    from kerasnet.path.sources import Chunks

    rng = np.random.default_rng(0)
    n, d = 12, 3
    X = rng.normal(size=(n, d)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0]
    y = X[:, 0] - 2 * X[:, 1] ** 2 + rng.normal(size=n)
    weight = rng.uniform(0.5, 2.0, n)
    network = mlp(d, 1, (2,), "regression", seed=0)
    W1 = np.array([[0.5, -0.3], [0.2, 0.8], [-0.6, 0.1]], "float32")
    b1, W2 = np.array([0.1, 0.2], "float32"), np.array([[1.5], [-0.7]], "float32")
    b2 = np.array([0.3], "float32")
    network.set_weights([W1, b1, W2, b2])
    mean, scale = X.mean(axis=0), X.std(axis=0)
    y_scale = (np.array([y.mean()]), np.array([y.std()]))
    Z, t = (X - mean) / scale, (y - y.mean()) / y.std()
    rows = Rows.prepare(Chunks.blocks(X, size=5), y, weight)  # three blocks: the rows are read block by block
    assert not rows.resident
    args = (network, rows, "mean_squared_error", mean, scale)
    # Feature 1 held: it never counts (nor is its gradient computed).
    factors = np.array([2.0, HOLD, 0.5])
    expected = _by_hand_top(Z, t, weight, W1, b1, W2, b2, factors)
    assert group_lambda_max(*args, y_scale=y_scale, factors=factors) == pytest.approx(expected, rel=1e-4)
    # The same rows in memory (one chunk, already on the device): the same top.
    in_memory = Rows.prepare(X, y, weight)
    assert in_memory.resident
    assert group_lambda_max(network, in_memory, "mean_squared_error", mean, scale, y_scale=y_scale,
                            factors=factors) == pytest.approx(expected, rel=1e-4)
    # A sample of 7 rows, drawn with the seed (sorted), instead of all 12; and no feature
    # entering the empty first layer either.
    rows = np.sort(np.random.default_rng(3).choice(n, 7, replace=False))
    assert group_lambda_max(*args, y_scale=y_scale, sample=7, seed=3, from_empty=True) == pytest.approx(
        _by_hand_top(Z[rows], t[rows], weight[rows], W1, b1, W2, b2, from_empty=True), rel=1e-4)


def test_group_lambda_max_of_a_cox_network_at_zero_is_the_martingale_residual_gradient():
    # At an empty first layer eta is constant, and the gradient of Breslow's weighted mean
    # negative log partial likelihood is -X' (w r) / sum(w), r the null model's martingale
    # residuals (glmnet's lambda_max for family="cox"): an independent computation.
    from kerasnet.models import mlp
    from kerasnet.path.sources import Chunks
    from kerasnet.survival import null_martingale_residual

    rng = np.random.default_rng(1)
    n, d = 30, 3
    X = rng.normal(size=(n, d))
    time = np.round(rng.exponential(size=n), 1) + 0.1  # ties in time
    y = np.column_stack([time, rng.random(n) < 0.7]).astype("float32")
    weight = rng.uniform(0.5, 2.0, n)
    network = mlp(d, 1, (), "cox", seed=0)
    network.set_weights([np.zeros((d, 1), "float32"), np.array([0.4], "float32")])
    mean, scale = X.mean(axis=0), X.std(axis=0)
    Z = (X - mean) / scale
    r = null_martingale_residual(y, weight)
    expected = np.abs(Z.T @ (weight * r)).max() / weight.sum()
    top = group_lambda_max(network, Rows.prepare(Chunks.blocks(X), y, weight), "cox", mean, scale)
    assert top == pytest.approx(expected, rel=1e-4)
