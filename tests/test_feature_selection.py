"""Feature selection: a group lasso on the input features, trained per member as Keras would."""

import keras
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import kerasnet
from kerasnet.models import compile_for, mlp
from kerasnet.path.engine import fit_members
from kerasnet.path.members import MemberSpec, Training
from kerasnet.path.rows import Rows
from kerasnet.penalty import ElasticNet, GroupLasso


def _data(n=64, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype("float32")
    y = (X[:, 0] * X[:, 1] + X[:, 2] + 0.3 * rng.normal(size=n) > 0).astype("float32")
    return X, y


@pytest.mark.backend
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_group_lasso_member_equals_keras_group_lasso_every_epoch(optimizer):
    """Member k == model.fit of mlp(input_penalty=GroupLasso(g_k), penalty=L2), zero rows included."""
    X, y = _data()
    d, hidden, lr = X.shape[1], (6,), 5e-2 if optimizer == "adam" else 0.2
    group, l2 = ([3e-2, 1e-1] if optimizer == "adam" else [0.2, 0.5]), [1e-3, 1e-3]
    network = mlp(d, 1, hidden, "binary", seed=0)
    start = network.get_weights()
    alone = []
    for k in range(2):
        model = mlp(d, 1, hidden, "binary", penalty=ElasticNet(0.0, l2[k]),
                    input_penalty=GroupLasso(group[k], proximal=True))
        model.set_weights(start)
        alone.append(compile_for(model, "binary", optimizer=keras.optimizers.get(
            {"class_name": optimizer, "config": {"learning_rate": lr}})))
    removed = 0
    for epochs in (1, 2, 3):
        training = Training("binary_crossentropy", epochs=epochs, batch_size=16, learning_rate=lr,
                            optimizer=optimizer, shuffle=False)
        weights, _ = fit_members(network, Rows.prepare(X, y), MemberSpec.of([0.0, 0.0], l2, group=group),
                                 training)
        for k, model in enumerate(alone):
            model.fit(X, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
            for got, ref in zip(weights[k], model.get_weights(), strict=True):
                np.testing.assert_allclose(got, ref, atol=2e-6, rtol=1e-5)
            rows = np.abs(weights[k][0]).sum(axis=1) == 0
            np.testing.assert_array_equal(rows, np.abs(model.get_weights()[0]).sum(axis=1) == 0)
            removed += int(rows.sum())
    assert removed > 0  # whole features left, and the same ones


def test_linear_group_lasso_of_single_weights_is_sklearns_l1_logistic():
    """hidden=() and one output: every group is one weight, so the group lasso is the lasso."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 6)).astype("float32")
    y = (X[:, 0] - 0.5 * X[:, 1] + 0.5 * rng.normal(size=200) > 0).astype("float32")
    lam = 0.04
    network = mlp(6, 1, (), "binary", seed=0)
    weights, _ = fit_members(network, Rows.prepare(X, y), MemberSpec.of([0.0], group=[lam]),
                             Training("binary_crossentropy", epochs=3000, batch_size=200, learning_rate=0.5,
                                      optimizer="sgd", shuffle=False))
    ref = LogisticRegression(l1_ratio=1.0, C=1 / (lam * 200), solver="saga", tol=1e-10, max_iter=100_000)
    ref.fit(X, y)
    np.testing.assert_allclose(weights[0][0][:, 0], ref.coef_[0], atol=2e-3)
    np.testing.assert_array_equal(weights[0][0][:, 0] == 0, ref.coef_[0] == 0)
    assert (ref.coef_[0] == 0).sum() >= 2  # the reference itself drops features here


def _interactions(n, d=20, seed=0):
    """Five relevant features of ``d``: a product, a square and three linear terms."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype("float32")
    f = X[:, 0] * X[:, 1] + X[:, 2] ** 2 - 1 + X[:, 3] - X[:, 4]
    return X, (f + 0.5 * rng.normal(size=n) > 0).astype(int)


def test_feature_selection_path_runs_from_no_features_to_all():
    X, y = _interactions(600)
    path = kerasnet.fit_path(X, y, hidden=(16,), feature_selection=True, relax=True, adaptive=False,
                             n_lambdas=12, lambda_min_ratio=3e-2, cv=3, epochs=100, batch_size=64,
                             learning_rate=1e-2, patience=20, seed=0, verbose=0,
                             baselines=False)  # the selection path alone (tests/test_baselines.py)
    assert path.feature_selection and path.feature_path_.shape == (12, 20)
    kept = (path.feature_path_ > 0).sum(axis=1)
    assert kept[0] == 0 and kept[-1] >= 15  # lambda_max keeps nothing; the weakest strength nearly all
    np.testing.assert_array_equal(kept, path.n_features_selected_)
    # Relaxed refits use exactly their point's features, and CV prefers them here.
    relaxed = path.relaxed_
    np.testing.assert_array_equal(relaxed.feature_path_ > 0, path.feature_path_ > 0)
    assert path.relax_chosen_
    indices, names = path.selected_features("min")
    assert set(range(5)) <= set(indices.tolist()) and len(indices) <= 10
    assert names == [f"x{j}" for j in indices]
    # The chosen network is close to the truth on fresh rows.
    X_new, y_new = _interactions(2000, seed=1)
    assert (path.predict(X_new, "min") == y_new).mean() > 0.85
    # The saved model is plain Keras (no kerasnet objects), the left-out features' rows zero.
    model = path.model("min")
    config = model.to_json()
    assert "kerasnet>" not in config and "GroupLasso" not in config  # no registered kerasnet objects
    assert np.all(model.layers[1].get_weights()[0][np.setdiff1d(np.arange(20), indices)] == 0)


def test_adaptive_path_keeps_the_true_features_and_drops_the_noise():
    """The default second path, weighed by the first path's norms, selects the five true features
    (two of them only through their product) and no noise feature, and predicts fresh rows."""
    X, y = _interactions(600)
    path = kerasnet.fit_path(X, y, hidden=(16,), feature_selection=True, n_lambdas=12, lambda_min_ratio=3e-2,
                             cv=3, epochs=100, batch_size=64, learning_rate=1e-2, patience=10, seed=0,
                             verbose=0, baselines=False)
    plain = kerasnet.fit_path(X, y, hidden=(16,), feature_selection=True, adaptive=False, n_lambdas=12,
                              lambda_min_ratio=3e-2, cv=3, epochs=100, batch_size=64, learning_rate=1e-2,
                              patience=10, seed=0, verbose=0, baselines=False)
    indices, _ = path.selected_features("1se")
    assert set(indices.tolist()) == set(range(5))
    assert len(plain.selected_features("1se")[0]) > 5  # the plain group lasso keeps noise with them
    X_new, y_new = _interactions(2000, seed=1)
    assert (path.predict(X_new, "1se") == y_new).mean() > 0.85


def test_adaptive_factors_choose_each_splits_strength_without_its_rows():
    from kerasnet.path.features import adaptive_factors

    # Two folds and the all-rows split; three strengths, three features.
    norms = np.zeros((3, 3, 3))
    norms[:, 0] = [[0, 0, 0], [1, 2, 0], [1, 4, 2]]  # fold 0's members
    norms[:, 1] = [[0, 1, 0], [2, 1, 0], [4, 1, 1]]  # fold 1's
    norms[:, 2] = [[1, 0, 0], [2, 2, 0], [2, 2, 2]]  # all rows
    # Fold 0's score ranks strength 2 best, fold 1's strength 1 (lower is better).
    values = np.array([[5.0, 5.0], [4.0, 1.0], [1.0, 4.0]])
    factors = adaptive_factors(norms, values, np.zeros((3, 2), bool), np.ones(2), [3.0, 2.0, 1.0], False, 1.0)
    # Fold 0 takes fold 1's choice (strength 1), fold 1 fold 0's (strength 2); all rows the
    # mean's best, a tie broken towards the larger strength (1). Dropped features are held.
    expected = [[1.0, 0.5, np.inf], [0.25, 1.0, 1.0], [0.5, 0.5, np.inf]]
    for row, want in zip(factors, expected, strict=True):
        free = np.isfinite(want)
        want = np.asarray(want)
        np.testing.assert_allclose(row[free], want[free] / want[free].min())
        assert np.all(row[~free] >= 1e20)


def test_feature_selection_refuses_a_model_of_your_own():
    with pytest.raises(ValueError, match="feature_selection=True selects the input features of the MLP"):
        kerasnet.fit_path(np.zeros((10, 2)), np.arange(10) % 2, model=mlp(2, 1, (2,), "binary"),
                          feature_selection=True)


def test_group_prox_with_zero_strength_keeps_rows_that_hold_exact_zeros():
    """A free feature (strength 0) in Adam's metric: its row is kept as it is, zeros and all."""
    from kerasnet.proximal import group_soft_threshold

    w = np.array([[0.5, 0.0, -0.2], [0.1, 0.2, 0.0]], "float32")
    np.testing.assert_allclose(np.asarray(group_soft_threshold(w, np.zeros_like(w))), w)
    held = np.asarray(group_soft_threshold(w, np.array([[0.0] * 3, [1e30] * 3], "float32")))
    np.testing.assert_allclose(held, [[0.5, 0.0, -0.2], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("kwargs, message", [
    ({"adaptive": 2.0}, "need feature_selection=True"),
    ({"relax": True}, "need feature_selection=True"),
    ({"feature_selection": True, "adaptive": 0}, "positive gamma"),
    ({"feature_selection": True, "adaptive": -1.0}, "adaptive"),
])
def test_adaptive_and_relax_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kerasnet.fit_path(np.zeros((20, 3)), np.arange(20) % 2, verbose=0, **kwargs)
