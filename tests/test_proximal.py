"""Proximal L1 / group lasso: exact zeros, and the same solutions as scikit-learn's solvers."""

import os
import subprocess
import sys

import kerasnet  # noqa: F401  (chooses the backend before keras is imported)

# isort: split
import keras
import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_diabetes, make_classification, make_regression
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from kerasnet.models import mlp, to_plain_keras
from kerasnet.penalty import ElasticNet, GroupLasso
from kerasnet.proximal import ProximalStep, group_soft_threshold, proximal_penalty, soft_threshold


def _standardized(X, y):
    X = StandardScaler().fit_transform(X)
    return X.astype("float32"), ((y - y.mean()) / y.std()).astype("float32")


DATASETS = {
    "diabetes": lambda: _standardized(*load_diabetes(return_X_y=True)),
    "synthetic": lambda: _standardized(
        *make_regression(150, 12, n_informative=5, noise=10.0, random_state=3)
    ),
}


def _fit_full_batch(model, X, y, optimizer, epochs):
    model.compile(optimizer=optimizer, loss="mse" if model.layers[-1].activation.__name__ == "linear"
                  else "binary_crossentropy")
    model.fit(X, y, batch_size=len(X), epochs=epochs, verbose=0, shuffle=False)
    layer = model.layers[-1]
    return np.asarray(layer.kernel.numpy()).ravel(), np.asarray(layer.bias.numpy())


def _sklearn_enet(X, y, l1, l2):
    # mean((y - Xw - b)^2) + l1|w|_1 + l2|w|^2 is twice sklearn's objective with these.
    alpha = l1 / 2 + l2
    return SkElasticNet(alpha=alpha, l1_ratio=(l1 / 2) / alpha, tol=1e-12, max_iter=100_000).fit(
        X.astype("float64"), y.astype("float64")
    )


def test_soft_threshold_matches_formula():
    w = np.array([-2.0, -0.3, 0.0, 0.2, 1.5])
    got = np.asarray(soft_threshold(w, 0.5))
    np.testing.assert_allclose(got, np.sign(w) * np.maximum(np.abs(w) - 0.5, 0))
    assert np.count_nonzero(got == 0) == 3


def test_group_soft_threshold_shrinks_rows_by_norm():
    w = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])
    got = np.asarray(group_soft_threshold(w, 1.0))
    np.testing.assert_allclose(got, [[2.4, 3.2], [0.0, 0.0], [0.0, 0.0]], atol=1e-7)


# The first case also runs under torch in CI (-m backend); the others on the default backend.
@pytest.mark.parametrize("dataset", sorted(DATASETS))
@pytest.mark.parametrize(
    "l1,l2", [pytest.param(0.05, 0.01, marks=pytest.mark.backend), (0.1, 0.0), (0.02, 0.05)]
)
def test_linear_proximal_sgd_reaches_sklearn_elasticnet(dataset, l1, l2):
    X, y = DATASETS[dataset]()
    model = mlp(X.shape[1], hidden=(), task="regression", penalty=ElasticNet(l1, l2, proximal=True), seed=0)
    w, b = _fit_full_batch(model, X, y, keras.optimizers.SGD(0.1), epochs=2500)
    ref = _sklearn_enet(X, y, l1, l2)
    np.testing.assert_allclose(w, ref.coef_, atol=1e-4)
    np.testing.assert_array_equal(w == 0, ref.coef_ == 0)
    assert np.count_nonzero(ref.coef_ == 0) >= 1  # the case really tests exact zeros
    assert abs(float(b[0]) - ref.intercept_) < 1e-4


def _sklearn_logistic(X, y, l1, l2):
    # mean(logloss) + l1|w|_1 + l2|w|^2 = (l1 + 2 l2) * sklearn's objective / (C n) with these.
    n = len(X)
    kwargs = dict(C=1 / (n * (l1 + 2 * l2)), l1_ratio=l1 / (l1 + 2 * l2), solver="saga", tol=1e-10,
                  max_iter=100_000)
    if tuple(int(p) for p in sklearn.__version__.split(".")[:2]) < (1, 8):
        kwargs["penalty"] = "elasticnet"  # before 1.8 l1_ratio is ignored without it
    return LogisticRegression(**kwargs).fit(X.astype("float64"), y)


@pytest.mark.parametrize("l1,l2", [pytest.param(0.02, 0.01, marks=pytest.mark.backend), (0.05, 0.0)])
def test_logistic_proximal_sgd_reaches_sklearn_saga(l1, l2):
    X, y = make_classification(200, 8, n_informative=4, random_state=0)
    X = StandardScaler().fit_transform(X).astype("float32")
    model = mlp(X.shape[1], hidden=(), task="binary", penalty=ElasticNet(l1, l2, proximal=True), seed=0)
    w, b = _fit_full_batch(model, X, y.astype("float32"), keras.optimizers.SGD(1.0), epochs=2500)
    ref = _sklearn_logistic(X, y, l1, l2)
    # Reached here: ~2e-7 on both backends.
    np.testing.assert_allclose(w, ref.coef_.ravel(), atol=1e-5)
    np.testing.assert_array_equal(w == 0, ref.coef_.ravel() == 0)
    assert np.count_nonzero(w == 0) >= 1
    assert abs(float(b[0]) - ref.intercept_[0]) < 1e-5


@pytest.mark.parametrize(
    "make_optimizer",
    [
        pytest.param(lambda: keras.optimizers.Adam(0.01), marks=pytest.mark.backend),
        lambda: keras.optimizers.RMSprop(0.001),
        lambda: keras.optimizers.SGD(0.05, momentum=0.9),
        lambda: keras.optimizers.Nadam(0.01),
        lambda: keras.optimizers.Adagrad(0.1),
    ],
    ids=["adam", "rmsprop", "sgd-momentum", "nadam", "adagrad"],
)
def test_adaptive_optimizers_give_exact_zeros_at_the_same_solution(make_optimizer):
    # The per-weight threshold l1 * (effective step) makes the optimizer's fixed points the
    # elastic-net solution; a plain lr*l1 threshold with Adam would stop elsewhere.
    X, y = DATASETS["diabetes"]()
    l1, l2 = 0.05, 0.01
    model = mlp(X.shape[1], hidden=(), task="regression", penalty=ElasticNet(l1, l2, proximal=True), seed=0)
    w, _ = _fit_full_batch(model, X, y, make_optimizer(), epochs=2000)
    ref = _sklearn_enet(X, y, l1, l2)
    np.testing.assert_array_equal(w == 0, ref.coef_ == 0)
    np.testing.assert_allclose(w, ref.coef_, atol=1e-4)


def test_learning_rate_schedule_threshold_follows_current_rate():
    # If the threshold used the initial rate after the drop, the fixed point would be the
    # solution for a 5x larger l1.
    X, y = DATASETS["diabetes"]()
    l1, l2 = 0.05, 0.01
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([300], [0.1, 0.02])
    model = mlp(X.shape[1], hidden=(), task="regression", penalty=ElasticNet(l1, l2, proximal=True), seed=0)
    w, _ = _fit_full_batch(model, X, y, keras.optimizers.SGD(schedule), epochs=2500)
    ref = _sklearn_enet(X, y, l1, l2)
    np.testing.assert_allclose(w, ref.coef_, atol=1e-4)
    np.testing.assert_array_equal(w == 0, ref.coef_ == 0)


def test_gradient_accumulation_thresholds_once_per_update():
    X, y = DATASETS["diabetes"]()
    l1, l2 = 0.05, 0.01
    model = mlp(X.shape[1], hidden=(), task="regression", penalty=ElasticNet(l1, l2, proximal=True), seed=0)
    half = len(X) // 2
    model.compile(optimizer=keras.optimizers.SGD(0.1, gradient_accumulation_steps=2), loss="mse")
    model.fit(X[: 2 * half], y[: 2 * half], batch_size=half, epochs=2500, verbose=0, shuffle=False)
    w = model.layers[-1].kernel.numpy().ravel()
    ref = _sklearn_enet(X[: 2 * half], y[: 2 * half], l1, l2)
    np.testing.assert_allclose(w, ref.coef_, atol=1e-4)
    np.testing.assert_array_equal(w == 0, ref.coef_ == 0)


def test_subgradient_mode_gives_no_exact_zeros_where_proximal_does():
    X, y = DATASETS["diabetes"]()
    sub = mlp(X.shape[1], hidden=(), task="regression", penalty=ElasticNet(0.05, 0.01), seed=0)
    w_sub, _ = _fit_full_batch(sub, X, y, keras.optimizers.SGD(0.1), epochs=300)
    assert np.count_nonzero(w_sub == 0) == 0


@pytest.mark.backend
def test_group_lasso_on_one_output_is_the_lasso():
    # With one output unit every row is a single weight: group lasso == lasso (l1 = strength).
    X, y = DATASETS["synthetic"]()
    strength = 0.1
    model = mlp(X.shape[1], hidden=(), task="regression", input_penalty=GroupLasso(strength), seed=0)
    w, _ = _fit_full_batch(model, X, y, keras.optimizers.SGD(0.1), epochs=2500)
    ref = _sklearn_enet(X, y, strength, 0.0)
    np.testing.assert_allclose(w, ref.coef_, atol=1e-4)
    np.testing.assert_array_equal(w == 0, ref.coef_ == 0)


def test_group_lasso_zeroes_whole_rows_of_a_hidden_layer():
    X, y = make_classification(200, 10, n_informative=3, n_redundant=0, random_state=1)
    X = StandardScaler().fit_transform(X).astype("float32")
    model = mlp(10, hidden=(8,), task="binary", input_penalty=GroupLasso(0.05), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy")
    model.fit(X, y.astype("float32"), batch_size=200, epochs=200, verbose=0)
    kernel = model.get_layer("hidden_1").kernel.numpy()
    zero_rows = np.all(kernel == 0, axis=1)
    assert 1 <= zero_rows.sum() < 10
    # Rows are all-zero or have no zero at all: the threshold acts on whole features.
    assert np.all(np.all(kernel != 0, axis=1) | zero_rows)
    assert np.count_nonzero(model.get_layer("output").kernel.numpy() == 0) == 0  # penalty=None there


def test_proximal_regularizer_keeps_only_l2_in_the_loss():
    w = np.array([[1.0, -2.0], [0.5, 0.0]], dtype="float32")
    prox, sub = ElasticNet(0.1, 0.01, proximal=True), ElasticNet(0.1, 0.01)
    l1_part, l2_part = 0.1 * np.abs(w).sum(), 0.01 * np.square(w).sum()
    assert float(prox(keras.ops.convert_to_tensor(w))) == pytest.approx(l2_part, rel=1e-6)
    assert float(sub(keras.ops.convert_to_tensor(w))) == pytest.approx(l1_part + l2_part, rel=1e-6)
    assert float(prox.total(w)) == pytest.approx(l1_part + l2_part, rel=1e-6)
    assert float(GroupLasso(0.5).total(w)) == pytest.approx(0.5 * (np.sqrt(5) + 0.5), rel=1e-6)
    assert float(GroupLasso(0.5)(keras.ops.convert_to_tensor(w))) == 0.0
    model = mlp(2, hidden=(), task="regression", penalty=prox, seed=0)
    model.layers[-1].kernel.assign(w[:, :1])
    assert float(model.losses[0]) == pytest.approx(0.01 * 1.25, rel=1e-6)
    assert proximal_penalty(model) == pytest.approx(0.1 * 1.5, rel=1e-6)
    assert proximal_penalty(mlp(2, hidden=(), penalty=sub)) == 0.0


def test_proximal_step_is_a_no_op_outside_an_optimizer_and_round_trips():
    step = ProximalStep(ElasticNet(0.1, proximal=True), then=keras.constraints.NonNeg())
    w = keras.Variable(np.array([-1.0, 0.05, 2.0], dtype="float32"))
    np.testing.assert_allclose(np.asarray(step(w)), [0.0, 0.05, 2.0])
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(step))
    assert repr(again.penalty) == repr(step.penalty)
    assert isinstance(again.then, keras.constraints.NonNeg)
    with pytest.raises(ValueError, match="proximal"):
        ProximalStep(ElasticNet(0.1))
    with pytest.raises(ValueError, match="strength"):
        GroupLasso(-1.0)


def _run_fresh(code):
    env = dict(os.environ)
    env.setdefault("KERAS_BACKEND", keras.backend.backend())
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_proximal_model_saves_and_loads_in_a_fresh_process(tmp_path):
    model = mlp(4, hidden=(3,), task="binary", penalty=ElasticNet(0.01, 0.001, proximal=True),
                input_penalty=GroupLasso(0.01), seed=0)
    X = np.random.default_rng(0).normal(size=(20, 4)).astype("float32")
    path = tmp_path / "model.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", X)
    out = _run_fresh(
        "import kerasnet, keras, numpy as np\n"
        f"m = keras.saving.load_model({str(path)!r}, safe_mode=True)\n"
        f"print(repr(m.get_layer('output').kernel_constraint))\n"
        f"np.save({str(tmp_path / 'p.npy')!r}, m.predict(np.load({str(tmp_path / 'x.npy')!r}), verbose=0))\n"
    )
    assert "ProximalStep(ElasticNet(l1=0.01, l2=0.001, proximal=True)" in out
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.predict(X, verbose=0), atol=1e-6)


def test_to_plain_keras_drops_the_proximal_step_of_elasticnet(tmp_path):
    model = mlp(4, hidden=(3,), task="binary", penalty=ElasticNet(0.01, 0.001, proximal=True), seed=0)
    plain = to_plain_keras(model)
    layer = plain.get_layer("hidden_1")
    assert isinstance(layer.kernel_regularizer, keras.regularizers.L1L2)
    assert layer.kernel_constraint is None
    path = tmp_path / "plain.keras"
    plain.save(path)
    out = _run_fresh(
        f"import keras\nm = keras.saving.load_model({str(path)!r}, safe_mode=True)\nprint(m.count_params())\n"
    )
    assert out.strip() == str(model.count_params())


def test_group_prox_with_per_weight_steps_minimizes_the_scaled_objective():
    # The per-weight group step (Adam's metric) against scipy's minimizer of
    # sum_i (x_i - z_i)^2 / (2 b_i) + ||x||_2, per row; b spans five orders of magnitude.
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 5))
    b = 10.0 ** rng.uniform(-3, 1, size=(6, 5))
    b[0] = 0.05  # equal steps: the plain group soft-threshold
    b[1] = 10.0  # ||z / b|| <= 1: the whole row is removed
    got = np.asarray(group_soft_threshold(z.astype("float32"), b.astype("float32")), dtype="float64")
    np.testing.assert_allclose(got[0], np.asarray(group_soft_threshold(z[:1], 0.05))[0], rtol=1e-6)
    assert np.all(got[1] == 0)
    for zj, bj, xj in zip(z, b, got, strict=True):
        def objective(x, zj=zj, bj=bj):
            return np.sum((x - zj) ** 2 / (2 * bj)) + np.sqrt(np.sum(x**2) + 1e-300)

        ref = minimize(objective, zj, method="Nelder-Mead",
                       options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 40_000})
        assert objective(xj) <= ref.fun + 1e-6  # float32 kernels
        if np.any(xj != 0):
            np.testing.assert_allclose(xj, ref.x, atol=1e-4)


@pytest.mark.backend
def test_group_lasso_under_adam_reaches_multitask_lasso():
    # Adam's per-weight steps with the metric group step: the fixed points are the group-lasso
    # optima. mean((Y - XW - b)^2) over n*k entries + s*sum_j ||W_j|| is 2/k times
    # MultiTaskLasso's objective with alpha = s*k/2. (A per-row harmonic mean of Adam's steps,
    # the previous rule, stopped 0.17 away from this optimum.)
    from sklearn.linear_model import MultiTaskLasso

    X, Y = make_regression(120, 10, n_informative=4, n_targets=3, noise=5.0, random_state=0)
    X = StandardScaler().fit_transform(X).astype("float32")
    Y = ((Y - Y.mean(0)) / Y.std(0)).astype("float32")
    strength = 0.3
    ref = MultiTaskLasso(alpha=strength * 3 / 2, tol=1e-12, max_iter=100_000).fit(
        X.astype("float64"), Y.astype("float64")).coef_.T
    model = mlp(10, n_outputs=3, hidden=(), task="regression", input_penalty=GroupLasso(strength),
                seed=0)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.05, 100, 0.8)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    model.fit(X, Y, batch_size=len(X), epochs=700, verbose=0, shuffle=False)
    W = model.get_layer("output").kernel.numpy()
    np.testing.assert_allclose(W, ref, atol=1e-4)
    np.testing.assert_array_equal(np.all(W == 0, axis=1), np.all(ref == 0, axis=1))
    assert 0 < np.all(ref == 0, axis=1).sum() < 10


# ----------------------------------------------------------------------------- prox maths by hand


def test_soft_threshold_per_weight_thresholds_and_dtype():
    w = np.array([[-2.0, -0.3, 0.0], [0.2, 1.5, 4.0]], dtype="float32")
    t = np.array([[1.0, 0.1, 5.0], [0.5, 1.5, 0.25]])
    got = soft_threshold(w, t)
    assert keras.backend.standardize_dtype(got.dtype) == "float32"
    np.testing.assert_allclose(np.asarray(got), [[-1.0, -0.2, 0.0], [0.0, 0.0, 3.75]], atol=1e-7)
    np.testing.assert_array_equal(np.asarray(soft_threshold(w, 0.0)), w)


def test_group_soft_threshold_per_row_thresholds_and_deeper_kernels():
    w = np.array([[3.0, 4.0], [0.6, 0.8], [0.0, 0.0]], dtype="float32")
    # One threshold per row: row norms 5, 1, 0 -> scales 1 - 2/5, 1 - 0.5/1, and the zero row stays 0.
    got = np.asarray(group_soft_threshold(w, np.array([2.0, 0.5, 1.0], "float32")))
    np.testing.assert_allclose(got, [[1.8, 2.4], [0.3, 0.4], [0.0, 0.0]], rtol=1e-6)
    assert not np.isnan(got).any()
    # A 3-d kernel: each row is the whole slice w[j], flattened.
    w3 = np.stack([w[:2], w[:2] * 0.0 + [[0.6, 0.0], [0.0, 0.8]]])  # [2, 2, 2]
    norms = np.sqrt((w3.reshape(2, -1) ** 2).sum(1))
    ref = w3 * np.maximum(1 - 1.0 / norms, 0)[:, None, None]
    got3 = np.asarray(group_soft_threshold(w3.astype("float32"), 1.0))
    assert got3.shape == (2, 2, 2)
    np.testing.assert_allclose(got3, ref, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(np.asarray(group_soft_threshold(w, 0.0)), w)


def test_group_soft_threshold_one_weight_per_row_is_the_soft_threshold():
    # A vector with one threshold per entry: every row has one weight, so |x| shrinks by b.
    w = np.array([-2.0, 0.3, 1.5, -0.1], dtype="float32")
    b = np.array([0.5, 0.5, 2.0, 0.05], dtype="float32")
    np.testing.assert_allclose(np.asarray(group_soft_threshold(w, b)), [-1.5, 0.0, 0.0, -0.05], atol=1e-6)


def _metric_group_prox(z, b):
    """argmin_x sum (x - z)^2 / (2 b) + ||x||: the stationarity condition solved with brentq.

    At a nonzero optimum x_i = z_i r / (r + b_i) with r = ||x|| the root of
    sum z_i^2 / (r + b_i)^2 = 1 (decreasing in r); zero when ||z / b|| <= 1.
    """
    from scipy.optimize import brentq

    if np.sqrt(np.sum((z / b) ** 2)) <= 1:
        return np.zeros_like(z)
    r = brentq(lambda r: np.sum(z**2 / (r + b) ** 2) - 1.0, 0.0, np.linalg.norm(z), xtol=1e-15)
    return z * r / (r + b)


@pytest.mark.parametrize(
    "z, b",
    [
        ([3.0, 4.0], [0.5, 2.0]),  # two very different steps
        ([0.2, -1.0, 0.5], [1e-3, 0.3, 0.05]),  # steps over three orders of magnitude
        ([-2.0, 0.1, 0.0, 1.0], [1.0, 1e-2, 0.5, 0.25]),  # a zero entry stays zero
        ([0.3, 0.4], [0.4, 0.9]),  # ||z / b|| = 0.9: the row is removed
        ([1.0, 0.5], [0.8, 1.0]),  # ||z / b||^2 = 1.8125: kept, just past the threshold
    ],
)
def test_group_soft_threshold_per_weight_steps_solve_the_stationarity_condition(z, b):
    z, b = np.array(z), np.array(b)
    other = np.array([1.0, -1.0, 2.0, 0.5][: len(z)])  # a second row with equal steps 0.5
    W = np.stack([z, other]).astype("float32")
    B = np.stack([b, np.full(len(z), 0.5)]).astype("float32")
    got = np.asarray(group_soft_threshold(W, B), dtype="float64")
    np.testing.assert_allclose(got[0], _metric_group_prox(z, b), rtol=2e-5, atol=1e-6)
    plain = other * max(0.0, 1 - 0.5 / np.linalg.norm(other))  # equal steps: the plain group step
    np.testing.assert_allclose(got[1], plain, rtol=2e-5, atol=1e-6)


def test_adam_step_size_is_kerass_adam_move_per_unit_of_bias_corrected_gradient():
    # Keras's Adam moves w by lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps), that is
    # m_hat * s with m_hat = m / (1 - b1^t): s is adam_step_size.
    from kerasnet.proximal import adam_step_size

    g = np.array([0.5, -2.0, 1e-3], "float32")
    var = keras.Variable(np.zeros(3, "float32"))
    opt = keras.optimizers.Adam(learning_rate=0.1, beta_1=0.9, beta_2=0.99, epsilon=1e-3)
    opt.build([var])
    for t in (1, 2, 3):
        before = np.array(var.numpy())
        opt.apply([g], [var])
        m_hat = np.asarray(opt._momentums[0].numpy()) / (1 - 0.9**t)
        s = np.asarray(adam_step_size(0.1, t, opt._velocities[0].numpy(), 0.99, 1e-3))
        np.testing.assert_allclose(before - np.asarray(var.numpy()), s * m_hat, rtol=1e-5)
    # By hand: 0.1 * sqrt(1 - 0.999) / sqrt(0.004) = 0.05; t per member broadcasts over v.
    one = float(np.asarray(adam_step_size(0.1, 1, np.float32(0.004), 0.999, 0.0)))
    assert one == pytest.approx(0.05, rel=1e-5)
    v = np.full((2, 3), 0.25, "float32")
    got = np.asarray(adam_step_size(0.2, np.array([[1.0], [2.0]]), v, 0.5, 0.5))
    np.testing.assert_allclose(got, [[0.2 * np.sqrt(0.5)] * 3, [0.2 * np.sqrt(0.75)] * 3], rtol=1e-6)


def test_group_soft_threshold_per_weight_is_accurate_when_the_root_is_far_below_the_norm():
    # Newton starts each row at its own lower bound ||z|| - max(b); from there 8 steps reach
    # float32 precision. A start above the root (another row's norm, or ||z|| + max(b)) is
    # still 4e-4 off after 8 steps for this row, whose root r = 0.0442 is 1% of ||z||.
    z = np.array([0.007067645, -4.959415])
    b = np.array([0.00068316, 4.9779256])
    W = np.stack([z, [3000.0, 4000.0]]).astype("float32")
    B = np.stack([b, [1.0, 1.0]]).astype("float32")
    got = np.asarray(group_soft_threshold(W, B), dtype="float64")
    np.testing.assert_allclose(got[0], _metric_group_prox(z, b), rtol=2e-5)
    np.testing.assert_allclose(got[1], np.array([3000.0, 4000.0]) * (1 - 1 / 5000), rtol=1e-6)


def test_prox_maths_keep_the_weights_dtype():
    # A float16 model (Keras dtype policy "float16") gets float16 prox steps, no upcast.
    from kerasnet.proximal import adam_step_size

    w = keras.ops.convert_to_tensor(np.array([[1.0, -2.0], [0.5, 0.25]]), dtype="float16")
    per_weight = np.array([[0.1, 0.3], [0.05, 0.2]])
    for out, ref in [
        (soft_threshold(w, 0.5), [[0.5, -1.5], [0.0, 0.0]]),
        (group_soft_threshold(w, 0.5), [[1.0, -2.0], [0.5, 0.25]] * (1 - 0.5 / np.sqrt([[5.0], [0.3125]]))),
        (group_soft_threshold(w, per_weight), np.asarray(group_soft_threshold(
            np.array([[1.0, -2.0], [0.5, 0.25]], "float32"), per_weight.astype("float32")))),
        (adam_step_size(0.1, 2, keras.ops.square(w), 0.5, 0.5), 0.1 * np.sqrt(0.75) / (
            np.abs([[1.0, 2.0], [0.5, 0.25]]) + 0.5)),
    ]:
        assert keras.backend.standardize_dtype(out.dtype) == "float16"
        np.testing.assert_allclose(np.asarray(out, dtype="float64"), ref, rtol=3e-3, atol=1e-3)
