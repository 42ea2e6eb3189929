"""The path engine on the MLP: each member trains exactly as the same network alone in Keras.

``fit_members`` runs ``K`` copies of an unpenalized ``kerasnet.mlp`` (one shared start), each
with its own rows, standardization (``scaling``) and elastic-net strengths; member ``k`` must
equal ``model.fit`` of the same network carrying ``ElasticNet(l1[k], l2[k])``.
"""

import keras
import numpy as np
import pytest
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.metrics import accuracy_score, r2_score

from kerasnet.models import compile_for, mlp
from kerasnet.path.engine import fit_members
from kerasnet.path.members import MemberSpec, Training
from kerasnet.path.rows import Rows
from kerasnet.path.stopping import StoppingRule
from kerasnet.penalty import ElasticNet

LOSS = {
    "binary": "binary_crossentropy",
    "multiclass": "sparse_categorical_crossentropy",
    "regression": "mean_squared_error",
}


def _data(task, n=48, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype("float32") * np.array([1.0, 3.0, 0.5, 2.0])[:d] + 1.0
    signal = X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=n)
    if task == "binary":
        y = (signal > np.median(signal)).astype("float32")
    elif task == "multiclass":
        y = np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3])).astype("int32")
    else:
        y = (3.0 * signal + 5.0).astype("float32")
    return X, y


def _alone(d, n_out, hidden, task, start, penalty):
    """The same network alone, carrying ``penalty``, from the engine's start weights."""
    model = mlp(d, n_out, hidden, task, penalty=penalty)
    model.set_weights(start)
    return model


def _assert_same_weights(got, ref, zeros=False):
    assert len(got) == len(ref)
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, r, atol=2e-6, rtol=1e-5)
        if zeros:
            np.testing.assert_array_equal(g == 0, r == 0)


@pytest.mark.backend
@pytest.mark.parametrize(
    "task,optimizer", [("binary", "adam"), ("multiclass", "adam"), ("regression", "sgd")]
)
def test_member_equals_network_trained_alone(task, optimizer):
    """Member k (own rows, own standardization, own strengths) == model.fit on its rows."""
    X, y = _data(task)
    n, d = X.shape
    n_out = 3 if task == "multiclass" else 1
    hidden = (6,)
    l1, l2 = [0.0, 1e-3, 1e-2], [0.0, 1e-2, 1e-3]
    train = np.ones((3, n), bool)
    train[1, :10] = False  # member 1 never sees the first 10 rows
    train[2, 37:] = False  # member 2 has 37 rows: a partial last batch of 5
    mean = np.stack([X[t].mean(0) for t in train])
    scale = np.stack([X[t].std(0) for t in train])
    if task == "regression":  # regression members also fit their own standardized target
        y_mean = np.stack([y[t].mean(keepdims=True) for t in train])
        y_scale = np.stack([y[t].std(keepdims=True) for t in train])
    else:
        y_mean = y_scale = None
    network = mlp(d, n_out, hidden, task, seed=0)
    start = network.get_weights()
    weights, fit = fit_members(
        network, Rows.prepare(X, y),
        MemberSpec.of(l1, l2, train=train, scaling=(mean, scale, y_mean, y_scale)),
        Training(LOSS[task], epochs=3, batch_size=16, learning_rate=1e-2, optimizer=optimizer, shuffle=False),
    )
    assert fit.loss.shape == (3, 3) and not fit.diverged.any()
    assert fit.epochs_trained.tolist() == [3, 3, 3]
    for var, w in zip(network.weights, start, strict=True):  # the model itself is not modified
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(var.value), w)
    for k in range(3):
        model = _alone(d, n_out, hidden, task, start, ElasticNet(l1[k], l2[k]))
        opt = keras.optimizers.SGD(1e-2) if optimizer == "sgd" else keras.optimizers.Adam(1e-2)
        compile_for(model, task, learning_rate=1e-2, optimizer=opt)
        target = y[train[k]] if y_mean is None else (y[train[k]] - y_mean[k, 0]) / y_scale[k, 0]
        history = model.fit((X[train[k]] - mean[k]) / scale[k], target, batch_size=16, epochs=3,
                            shuffle=False, verbose=0)
        _assert_same_weights(weights[k], model.get_weights())
        if k == 0:  # equal batches: the recorded loss is Keras's mean objective (data loss + penalty)
            np.testing.assert_allclose(fit.loss[:, k], history.history["loss"], rtol=1e-5)


@pytest.mark.backend
def test_diverging_member_is_flagged_and_leaves_others_unchanged():
    """SGD with 2*lr*l2 = 4 > 2 makes member 1's weights oscillate and blow up; 0 and 2 are untouched."""
    X, y = _data("regression")
    X = (X - X.mean(0)) / X.std(0)
    y = (y - y.mean()) / y.std()

    def run(l2):
        return fit_members(
            mlp(4, 1, (5,), "regression", seed=0), Rows.prepare(X, y),
            MemberSpec.of(0.0 * np.asarray(l2), l2, val=np.ones((len(l2), 48), bool)),
            Training("mean_squared_error", epochs=40, batch_size=48, learning_rate=0.02, optimizer="sgd"),
            None,  # no early stopping
        )

    weights, fit = run([1e-3, 100.0, 1e-2])
    assert fit.diverged.tolist() == [False, True, False]
    assert fit.epochs_trained[1] < 40 and fit.epochs_trained[[0, 2]].tolist() == [40, 40]
    assert np.isnan(fit.val_loss[-1, 1]) and np.isfinite(fit.val_loss[-1, [0, 2]]).all()
    ref, ref_fit = run([1e-3, 1e-2])
    assert not ref_fit.diverged.any()
    for k_members, k_ref in ((0, 0), (2, 1)):
        for a, b in zip(weights[k_members], ref[k_ref], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(fit.val_loss[:, k_members], ref_fit.val_loss[:, k_ref], rtol=1e-6)


@pytest.mark.backend
def test_early_stopping_restores_best_and_val_outputs_are_its_predictions():
    """Own-curve early stopping: best epoch = argmin of val_objective, best weights kept.

    The kept weights reproduce the recorded validation loss by hand, ``val_objective -
    val_loss`` is their penalty, and ``val_outputs`` are their predictions (scores such as
    accuracy are computed from them).
    """
    X, y = _data("binary", n=80)
    K = 4
    rng = np.random.default_rng(1)
    val = np.zeros((K, 80), bool)
    for k in range(K):
        val[k, rng.choice(80, 20, replace=False)] = True
    l2 = [0.0, 1e-3, 1e-2, 1e-1]
    network = mlp(4, 1, (8,), "binary", seed=0)
    weights, fit = fit_members(
        network, Rows.prepare(X, y), MemberSpec.of([0.0] * K, l2, train=~val, val=val),
        Training("binary_crossentropy", epochs=60, batch_size=8, learning_rate=3e-2, seed=0, outputs=True),
        StoppingRule(patience=3),
    )
    assert (fit.epochs_trained < 60).any()  # somebody stopped early
    np.testing.assert_array_equal(fit.best_epoch, np.nanargmin(fit.val_objective, axis=0) + 1)
    assert (fit.best_epoch < fit.epochs_trained).any()  # ... and kept earlier weights than its last
    np.testing.assert_array_equal(fit.chosen_epoch, fit.best_epoch)
    np.testing.assert_allclose(
        fit.best_val_loss, fit.val_loss[fit.best_epoch - 1, np.arange(K)], rtol=1e-6)
    index, outputs, valid = fit.val_outputs
    assert valid.sum(axis=1).tolist() == [20] * K
    for k in range(K):
        model = mlp(4, 1, (8,), "binary")
        model.set_weights(weights[k])
        p = model.predict(X[val[k]], verbose=0)[:, 0]
        # Restored weights are the best epoch's: same loss as recorded.
        bce = float(keras.losses.BinaryCrossentropy()(y[val[k]][:, None], p[:, None]))
        assert bce == pytest.approx(fit.best_val_loss[k], rel=1e-4)
        # val_outputs: the kept weights' outputs on the member's validation rows, in row order.
        np.testing.assert_array_equal(index[k][valid[k]], np.flatnonzero(val[k]))
        np.testing.assert_allclose(outputs[k][valid[k]][:, 0], p, rtol=1e-5, atol=1e-6)
        accuracy = accuracy_score(y[val[k]], outputs[k][valid[k]][:, 0] > 0.5)
        assert accuracy == accuracy_score(y[val[k]], p > 0.5)
        # The monitored objective is Keras's val_loss: data loss + the penalty of the weights.
        e = fit.best_epoch[k] - 1
        penalty = l2[k] * sum(float((w**2).sum()) for w in model.get_weights()[0::2])
        assert fit.val_objective[e, k] - fit.val_loss[e, k] == pytest.approx(penalty, rel=1e-4, abs=1e-7)


@pytest.mark.backend
def test_member_without_validation_rows_trains_to_the_end():
    """A refit member with no validation rows: never early-stopped, NaN scores, latest weights."""
    X, y = _data("binary", n=40)
    val = np.zeros((2, 40), bool)
    val[0, :10] = True
    rows = Rows.prepare(X, y)
    training = Training("binary_crossentropy", epochs=30, batch_size=40, learning_rate=0.5, seed=0)
    stopping = StoppingRule(patience=2)
    weights, fit = fit_members(mlp(4, 1, (4,), "binary", seed=0), rows,
                               MemberSpec.of([0.0, 0.0], 0.0, train=~val, val=val),
                               training.replace(outputs=True), stopping)
    assert fit.epochs_trained[0] < 30 and fit.epochs_trained[1] == 30
    assert fit.best_epoch[1] == 30 and not fit.diverged.any()
    assert np.isnan(fit.best_val_loss[1]) and np.isnan(fit.val_loss[:, 1]).all()
    assert np.isfinite(fit.best_val_loss[0])
    assert not fit.val_outputs[2][1].any()  # no validation outputs for the refit member
    ref, ref_fit = fit_members(mlp(4, 1, (4,), "binary", seed=0), rows,
                               MemberSpec.of([0.0], 0.0, streams=[1]), training, stopping)
    assert ref_fit.val_loss is None and ref_fit.epochs_trained.tolist() == [30]
    for a, b in zip(weights[1], ref[0], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_regression_val_outputs_are_in_target_units_and_give_sklearn_r2():
    """Linear regression members with their own standardization: outputs back in y's units."""
    X, y = _data("regression", n=60)
    val = np.zeros((2, 60), bool)
    val[0, :15], val[1, 45:] = True, True
    train = ~val
    mean = np.stack([X[t].mean(0) for t in train])
    scale = np.stack([X[t].std(0) for t in train])
    y_mean = np.stack([y[t].mean(keepdims=True) for t in train])
    y_scale = np.stack([y[t].std(keepdims=True) for t in train])
    weights, fit = fit_members(
        mlp(4, 1, (), "regression", seed=0), Rows.prepare(X, y),
        MemberSpec.of([0.0, 0.0], train=train, val=val, scaling=(mean, scale, y_mean, y_scale)),
        Training("mean_squared_error", epochs=5, learning_rate=1e-2, outputs=True),
    )
    index, outputs, valid = fit.val_outputs
    for k in range(2):
        W, b = weights[k]
        z = (X[val[k]] - mean[k]) / scale[k] @ W[:, 0] + b[0]
        expected = z * y_scale[k, 0] + y_mean[k, 0]
        np.testing.assert_array_equal(index[k][valid[k]], np.flatnonzero(val[k]))
        np.testing.assert_allclose(outputs[k][valid[k]][:, 0], expected, rtol=1e-5, atol=1e-4)
        r2 = r2_score(y[val[k]], outputs[k][valid[k]][:, 0])
        assert r2 == pytest.approx(r2_score(y[val[k]], expected), abs=1e-5)
        # The validation loss is in standardized units: MSE of the standardized target.
        mse = np.mean(((y[val[k]] - y_mean[k, 0]) / y_scale[k, 0] - z) ** 2)
        assert fit.best_val_loss[k] == pytest.approx(mse, rel=1e-4)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # its gap is ~1e-5
def test_proximal_sgd_reaches_sklearn_elastic_net():
    """Linear model, full batch, proximal SGD: sklearn's coefficients and zero pattern."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6)).astype("float32")
    y = (X @ np.array([2.0, -1.0, 0.0, 0.0, 0.5, 0.0]) + 0.1 * rng.normal(size=60)).astype("float32")
    l1, l2 = 0.4, 0.05
    weights, _ = fit_members(
        mlp(6, 1, (), "regression", seed=0), Rows.prepare(X, y), MemberSpec.of([l1], [l2]),
        Training("mean_squared_error", epochs=3000, batch_size=60, learning_rate=0.05, optimizer="sgd",
                 proximal=True),
    )
    W, b = weights[0]
    # Keras objective = 2 x sklearn's with alpha = l1/2 + l2, l1_ratio = (l1/2)/alpha.
    alpha = l1 / 2 + l2
    ref = SkElasticNet(alpha=alpha, l1_ratio=(l1 / 2) / alpha, tol=1e-12, max_iter=1000000).fit(X, y)
    np.testing.assert_allclose(W[:, 0], ref.coef_, atol=1e-4)
    np.testing.assert_allclose(b[0], ref.intercept_, atol=1e-4)
    np.testing.assert_array_equal(W[:, 0] == 0, ref.coef_ == 0)
    assert (W == 0).sum() >= 2


def test_proximal_adam_gives_exact_zeros():
    X, y = _data("binary", n=64)
    X = np.hstack([X, np.random.default_rng(3).normal(size=(64, 6)).astype("float32")])  # noise features
    weights, _ = fit_members(
        mlp(10, 1, (8,), "binary", seed=0), Rows.prepare(X, y), MemberSpec.of([0.0, 0.02], 0.0),
        Training("binary_crossentropy", epochs=60, batch_size=64, learning_rate=1e-2, proximal=True),
    )
    dense0, dense1 = weights[0][0::2], weights[1][0::2]
    assert sum((w == 0).sum() for w in dense0) == 0
    assert sum((w == 0).sum() for w in dense1) > 0.3 * sum(w.size for w in dense1)
    assert all((b != 0).all() for b in weights[1][1::2])  # biases are never thresholded


@pytest.mark.backend
def test_proximal_adam_member_equals_keras_proximal_step_every_epoch():
    """Proximal Adam: member k == model.fit with ProximalStep after each epoch, zeros included.

    Both apply the one rule ``l1 * adam_step_size(...)``; the former engine threshold
    (``l1 * alpha_t / (sqrt(v) + eps)``, 10x larger at step 1) fails this after epoch 1.
    """
    task, lr, hidden = "binary", 1e-2, (6,)
    X, y = _data(task, n=48)
    X = np.hstack([X, 0.5 * np.random.default_rng(3).normal(size=(48, 4)).astype("float32")])
    d = X.shape[1]
    l1, l2 = [1e-2, 5e-2], [1e-3, 0.0]
    mean = np.stack([X.mean(0), X[:24].mean(0)])
    scale = np.stack([X.std(0), X[:24].std(0)])
    network = mlp(d, 1, hidden, task, seed=0)
    start = network.get_weights()
    alone = [_alone(d, 1, hidden, task, start, ElasticNet(l1[k], l2[k], proximal=True)) for k in range(2)]
    for model in alone:
        compile_for(model, task, learning_rate=lr, optimizer=keras.optimizers.Adam(lr))
    zeros = 0
    rows = Rows.prepare(X, y)
    members = MemberSpec.of(l1, l2, scaling=(mean, scale, None, None))
    for epochs in (1, 2, 3, 4):
        weights, _ = fit_members(
            network, rows, members,
            Training(LOSS[task], epochs=epochs, batch_size=16, learning_rate=lr, optimizer="adam",
                     proximal=True, shuffle=False),
        )
        for k, model in enumerate(alone):
            model.fit((X - mean[k]) / scale[k], y, batch_size=16, epochs=1, shuffle=False, verbose=0)
            _assert_same_weights(weights[k], model.get_weights(), zeros=True)
            zeros += sum(int((w == 0).sum()) for w in model.get_weights())
    assert zeros > 0  # the zero pattern is part of what was compared
