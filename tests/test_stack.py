"""The stacked engine: each member trains exactly as the same network alone in Keras."""

import keras
import numpy as np
import pytest
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.metrics import accuracy_score, r2_score

from kerasnet.models import compile_for, mlp
from kerasnet.penalty import ElasticNet
from kerasnet.stack import StackedMLP, fit_stack


def _data(task, n=48, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype("float32") * np.array([1.0, 3.0, 0.5, 2.0])[:d] + 1.0
    signal = X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=n)
    if task == "binary":
        y = (signal > np.median(signal)).astype("float32")
    elif task == "multiclass":
        y = np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3])).astype("int32")
    else:
        y = signal.astype("float32")
    return X, y


def _stack_of(models, task, hidden, d, n_out):
    stack = StackedMLP(len(models), d, n_out, hidden, task)
    for k, m in enumerate(models):
        stack.set_member_weights(k, m.get_weights())
    return stack


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
    alone = [mlp(d, n_out, hidden, task, penalty=ElasticNet(l1[k], l2[k]), seed=k) for k in range(3)]
    stack = _stack_of(alone, task, hidden, d, n_out)
    fit_stack(stack, X, y, l1=l1, l2=l2, train_mask=train, mean=mean, scale=scale, epochs=3,
              batch_size=16, learning_rate=1e-2, optimizer=optimizer, shuffle=False)
    for k, model in enumerate(alone):
        opt = keras.optimizers.SGD(1e-2) if optimizer == "sgd" else "adam"
        compile_for(model, task, learning_rate=1e-2, optimizer=opt)
        model.fit((X[train[k]] - mean[k]) / scale[k], y[train[k]], batch_size=16, epochs=3,
                  shuffle=False, verbose=0)
        for ref, got in zip(model.get_weights(), stack.member_weights(k), strict=True):
            np.testing.assert_allclose(got, ref, atol=2e-6, rtol=1e-5)


@pytest.mark.backend
def test_diverging_member_is_flagged_and_leaves_others_unchanged():
    """SGD with 2*lr*l2 = 4 > 2 makes member 1's weights oscillate and blow up; 0 and 2 are untouched."""
    X, y = _data("regression")
    init = mlp(4, 1, (5,), "regression", seed=0).get_weights()

    def run(l2):
        stack = _stack_of([mlp(4, 1, (5,), "regression")] * len(l2), "regression", (5,), 4, 1)
        for k in range(len(l2)):
            stack.set_member_weights(k, init)
        fit = fit_stack(stack, X, y, l1=0.0, l2=l2, epochs=40, batch_size=48, learning_rate=0.02,
                        optimizer="sgd", val_mask=np.ones((len(l2), 48), bool), early_stopping=False)
        return stack, fit

    stack, fit = run([1e-3, 100.0, 1e-2])
    assert fit.diverged.tolist() == [False, True, False]
    assert fit.epochs_trained[1] < 40 and fit.epochs_trained[0] == 40
    ref, _ = run([1e-3, 1e-2])
    for k_stack, k_ref in ((0, 0), (2, 1)):
        for a, b in zip(stack.member_weights(k_stack), ref.member_weights(k_ref), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_scores_match_sklearn_and_early_stopping_restores_best():
    X, y = _data("binary", n=80)
    K = 4
    rng = np.random.default_rng(1)
    val = np.zeros((K, 80), bool)
    for k in range(K):
        val[k, rng.choice(80, 20, replace=False)] = True
    stack = StackedMLP(K, 4, 1, (8,), "binary")
    fit = fit_stack(stack, X, y, l1=0.0, l2=[0.0, 1e-3, 1e-2, 1e-1], train_mask=~val, val_mask=val,
                    epochs=60, batch_size=8, learning_rate=3e-2, patience=3, seed=0)
    assert (fit.epochs_trained < 60).any()  # somebody stopped early
    np.testing.assert_array_equal(fit.best_epoch, np.nanargmin(fit.val_objective, axis=0) + 1)
    for k in range(K):
        model = mlp(4, 1, (8,), "binary")
        model.set_weights(stack.member_weights(k))
        p = model.predict(X[val[k]], verbose=0)[:, 0]
        # Restored weights are the best epoch's: same accuracy and loss as recorded.
        assert accuracy_score(y[val[k]], p > 0.5) == pytest.approx(fit.best_val_score[k], abs=1e-6)
        bce = float(keras.losses.BinaryCrossentropy()(y[val[k]][:, None], p[:, None]))
        assert bce == pytest.approx(fit.best_val_loss[k], rel=1e-4)
        # The monitored objective is Keras's val_loss: data loss + the penalty of the weights.
        e = fit.best_epoch[k] - 1
        penalty = [0.0, 1e-3, 1e-2, 1e-1][k] * sum(float((w**2).sum()) for w in model.get_weights()[0::2])
        assert fit.val_objective[e, k] - fit.val_loss[e, k] == pytest.approx(penalty, rel=1e-4, abs=1e-7)


def test_member_without_validation_rows_trains_to_the_end():
    """A refit member with no validation rows: never early-stopped, NaN scores, latest weights."""
    X, y = _data("binary", n=40)
    val = np.zeros((2, 40), bool)
    val[0, :10] = True
    stack = StackedMLP(2, 4, 1, (4,), "binary", seed=0)
    fit = fit_stack(stack, X, y, l1=0.0, l2=0.0, train_mask=~val, val_mask=val, epochs=30, batch_size=40,
                    learning_rate=0.5, patience=2, seed=0)
    assert fit.epochs_trained[0] < 30 and fit.epochs_trained[1] == 30
    assert fit.best_epoch[1] == 30 and np.isnan(fit.best_val_score[1]) and not fit.diverged.any()
    ref = StackedMLP(1, 4, 1, (4,), "binary")
    ref.set_member_weights(0, StackedMLP(2, 4, 1, (4,), "binary", seed=0).member_weights(1))
    fit_stack(ref, X, y, l1=0.0, l2=0.0, epochs=30, batch_size=40, learning_rate=0.5, seed=0,
              streams=[1])
    for a, b in zip(stack.member_weights(1), ref.member_weights(0), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_regression_score_is_sklearn_r2():
    X, y = _data("regression", n=60)
    val = np.zeros((2, 60), bool)
    val[0, :15], val[1, 45:] = True, True
    stack = StackedMLP(2, 4, 1, (), "regression")
    fit = fit_stack(stack, X, y, l1=0.0, l2=0.0, train_mask=~val, val_mask=val, epochs=5,
                    early_stopping=False, learning_rate=1e-2)
    for k in range(2):
        W, b = stack.member_weights(k)
        assert fit.best_val_score[k] == pytest.approx(r2_score(y[val[k]], X[val[k]] @ W[:, 0] + b), abs=1e-5)


def test_proximal_sgd_reaches_sklearn_elastic_net():
    """Linear model, full batch, proximal SGD: sklearn's coefficients and zero pattern."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6)).astype("float32")
    y = (X @ np.array([2.0, -1.0, 0.0, 0.0, 0.5, 0.0]) + 0.1 * rng.normal(size=60)).astype("float32")
    l1, l2 = 0.4, 0.05
    stack = StackedMLP(1, 6, 1, (), "regression")
    fit_stack(stack, X, y, l1=l1, l2=l2, epochs=3000, batch_size=60, learning_rate=0.05,
              optimizer="sgd", proximal=True)
    W, b = stack.member_weights(0)
    # Keras objective = 2 x sklearn's with alpha = l1/2 + l2, l1_ratio = (l1/2)/alpha.
    alpha = l1 / 2 + l2
    ref = SkElasticNet(alpha=alpha, l1_ratio=(l1 / 2) / alpha, tol=1e-12, max_iter=1000000).fit(X, y)
    np.testing.assert_allclose(W[:, 0], ref.coef_, atol=1e-4)
    np.testing.assert_array_equal(W[:, 0] == 0, ref.coef_ == 0)
    assert (W == 0).sum() >= 2


def test_proximal_adam_gives_exact_zeros():
    X, y = _data("binary", n=64)
    X = np.hstack([X, np.random.default_rng(3).normal(size=(64, 6)).astype("float32")])  # noise features
    stack = StackedMLP(2, 10, 1, (8,), "binary")
    fit_stack(stack, X, y, l1=[0.0, 0.02], l2=0.0, epochs=60, batch_size=64, learning_rate=1e-2,
              proximal=True)
    dense0 = stack.member_weights(0)[0::2]
    dense1 = stack.member_weights(1)[0::2]
    assert sum((k == 0).sum() for k in dense0) == 0
    assert sum((k == 0).sum() for k in dense1) > 0.3 * sum(k.size for k in dense1)


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
    alone = [
        mlp(d, 1, hidden, task, penalty=ElasticNet(l1[k], l2[k], proximal=True), seed=k)
        for k in range(2)
    ]
    initial = [m.get_weights() for m in alone]
    for model in alone:
        compile_for(model, task, learning_rate=lr, optimizer=keras.optimizers.Adam(lr))
    zeros = 0
    for epochs in (1, 2, 3, 4):
        stack = StackedMLP(2, d, 1, hidden, task)
        for k in range(2):
            stack.set_member_weights(k, initial[k])
        fit_stack(stack, X, y, l1=l1, l2=l2, mean=mean, scale=scale, epochs=epochs,
                  batch_size=16, learning_rate=lr, optimizer="adam", proximal=True, shuffle=False)
        for k, model in enumerate(alone):
            model.fit((X - mean[k]) / scale[k], y, batch_size=16, epochs=1, shuffle=False, verbose=0)
            for ref, got in zip(model.get_weights(), stack.member_weights(k), strict=True):
                np.testing.assert_allclose(got, ref, atol=2e-6, rtol=1e-5)
                np.testing.assert_array_equal(got == 0, ref == 0)
                zeros += int((ref == 0).sum())
    assert zeros > 0  # the zero pattern is part of what was compared


def test_stacked_mlp_call_and_config():
    stack = StackedMLP(3, n_inputs=2, n_outputs=4, hidden=(5,), task="multiclass")
    out = keras.ops.convert_to_numpy(stack(np.ones((7, 2), "float32")))
    assert out.shape == (3, 7, 4)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    again = StackedMLP.from_config(stack.get_config())
    assert again.members == 3 and again.hidden == (5,)


def test_bad_optimizer_is_rejected():
    with pytest.raises(ValueError, match="optimizer"):
        fit_stack(StackedMLP(1, 2, hidden=()), np.zeros((4, 2)), np.zeros(4), l1=0, l2=0, optimizer="lbfgs")
