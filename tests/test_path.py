"""fit_path: the lambda grid, fold-safe members, selection rules, divergence, Path.model."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import Lasso, LogisticRegression, enet_path
from sklearn.metrics import r2_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

import kerasnet.path.stages as stages_module
from kerasnet.path import Path, fit_path
from kerasnet.path import grid as _grid


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    rows = np.random.default_rng(0).choice(len(y), 240, replace=False)
    return X[rows][:, :10], y[rows]


@pytest.fixture(scope="module")
def small_path(cancer):
    X, y = cancer
    # Keras's subgradient L1 (the path's default is the proximal step): the contrast of
    # test_proximal_path_has_exact_zeros_growing_with_lambda.
    return fit_path(X, y, hidden=(8,), n_lambdas=5, lambda_min_ratio=1e-3, cv=3, epochs=40,
                    batch_size=32, learning_rate=1e-2, patience=5, proximal=False, seed=0, verbose=0,
                    baselines=False)  # the network's path alone (tests/test_baselines.py: the baselines)


# ----------------------------------------------------------------------------- pure grid rules


def test_lambda_max_regression_is_glmnet_and_sklearn_rule():
    """MSE objective = 2x sklearn's: our lambda_max (l1_ratio=1) is 2x sklearn's alpha_max."""
    rng = np.random.default_rng(0)
    X = StandardScaler().fit_transform(rng.normal(size=(50, 5)))
    y = X @ [1.0, 0.0, -2.0, 0.0, 0.5] + rng.normal(size=50)
    alphas, _, _ = enet_path(X, y - y.mean(), l1_ratio=1.0, alphas=3)
    assert _grid.lambda_max(X, y, "regression", 1.0) == pytest.approx(2 * alphas[0], rel=1e-10)
    # l1_ratio scales it like glmnet; ridge uses glmnet's 1e-3 fallback.
    assert _grid.lambda_max(X, y, "regression", 0.5) == pytest.approx(4 * alphas[0])
    assert _grid.lambda_max(X, y, "regression", 0.0) == pytest.approx(2000 * alphas[0])


def test_lambda_max_of_several_outputs_zeroes_sklearns_lasso_of_each():
    """Keras's MSE averages K outputs: the objective is (1/(nK)) sum_k |y_k - X b_k|^2 +
    lambda |B|_1, i.e. sklearn's Lasso of each output at alpha = K lambda / 2."""
    rng = np.random.default_rng(1)
    X = StandardScaler().fit_transform(rng.normal(size=(80, 6)))
    Y = np.column_stack([X @ [1.0, 0, 0, 0, 0, 0.5], X @ [0, -2.0, 0, 1.0, 0, 0]]) + rng.normal(size=(80, 2))
    Y = Y - Y.mean(axis=0)
    lam = _grid.lambda_max(X, Y, "regression", 1.0)
    for factor, all_zero in ((1.01, True), (0.95, False)):
        coefs = [Lasso(alpha=2 * lam * factor / 2, fit_intercept=False, tol=1e-10).fit(X, Y[:, k]).coef_
                 for k in range(2)]
        assert bool(np.all(np.concatenate(coefs) == 0)) is all_zero
    # The path's grid starts there, for targets standardized per output as the path does.
    path = fit_path(X, Y, hidden=(), l1_ratio=1.0, n_lambdas=3, cv=2, epochs=2, seed=0, verbose=0)
    Ys = Y / Y.std(axis=0)
    assert path.lambdas_[0] == pytest.approx(_grid.lambda_max(X, Ys, "regression", 1.0), rel=1e-4)
    assert path.predict(X[:5]).shape == (5, 2)


def test_lambda_max_binary_zeroes_sklearn_logistic_lasso(cancer):
    """Logistic lasso (C = 1/(n*lambda)) is all zero just above lambda_max, not just below."""
    X, y = cancer
    Xs = StandardScaler().fit_transform(X)
    lam = _grid.lambda_max(Xs, y, "binary", 1.0)
    n = len(y)
    for factor, all_zero in ((1.05, True), (0.9, False)):
        lr = LogisticRegression(l1_ratio=1.0, solver="saga", C=1 / (n * lam * factor), tol=1e-8,
                                max_iter=20000).fit(Xs, y)
        assert bool(np.all(lr.coef_ == 0)) is all_zero


def test_grid_is_log_spaced_descending():
    grid = _grid.lambda_grid(2.0, 4, 1e-3)
    np.testing.assert_allclose(grid, [2.0, 0.2, 0.02, 0.002])


def test_cv_summary_is_glmnet_cvsd():
    values = np.array([[0.9, 0.8, 0.85, 0.95], [0.5, 0.6, 0.55, 0.5]])
    mean, se = _grid.cv_summary(values)
    ref = np.sqrt(((values - values.mean(1, keepdims=True)) ** 2).mean(1) / (4 - 1))  # glmnet's cvsd
    np.testing.assert_allclose(mean, values.mean(1))
    np.testing.assert_allclose(se, ref)
    mean, _ = _grid.cv_summary(values, excluded=[[False] * 4, [True, False, False, False]])
    assert np.isnan(mean[1]) and not np.isnan(mean[0])


def test_selection_rules():
    lambdas = [1.0, 0.5, 0.1, 0.05, 0.01]
    mean = [0.60, 0.88, 0.90, 0.93, 0.93]
    se = [0.01, 0.01, 0.01, 0.06, 0.02]
    assert _grid.select_min(lambdas, mean) == 3  # tie: the larger strength, as glmnet
    assert _grid.select_1se(lambdas, mean, se) == 1  # 0.88 >= 0.93 - 0.06: the largest such lambda
    assert _grid.select_1se(lambdas, mean, [0, 0, 0, 0, 0]) == 3
    assert _grid.select_min(lambdas, [1.0, 0.4, 0.3, 0.35, np.nan], greater_is_better=False) == 2
    assert _grid.select_min(lambdas, [np.nan, 0.5, 0.9, np.nan, 0.8]) == 2
    with pytest.raises(ValueError, match="diverged"):
        _grid.select_min(lambdas, [np.nan] * 5)


# ----------------------------------------------------------------------------- fit_path


def test_path_attributes_and_selection(small_path, cancer):
    p = small_path
    assert isinstance(p, Path) and p.task == "binary"
    # 5 strengths, extended below by a quarter (2) at most twice while the minimum is the last.
    assert np.all(np.diff(p.lambdas_) < 0) and len(p.lambdas_) in (5, 7, 9)
    L = len(p.lambdas_)
    assert p.cv_scores_.shape == (L, 3) and p.best_epoch_.shape == (L, 3)
    assert p.measure == "deviance" and not p.greater_is_better  # glmnet's default measure
    np.testing.assert_allclose(p.cv_mean_, np.average(p.cv_scores_, axis=1, weights=p.fold_weights_))
    assert p.lambda_min_ == p.lambdas_[np.nanargmin(p.cv_mean_)]
    assert p.lambda_1se_ >= p.lambda_min_
    i = p.index_1se_
    assert p.cv_mean_[i] <= p.cv_mean_.min() + p.cv_se_[p.index_min_]
    assert 1 - np.nanmin(p.cv_summary("class")[0]) > 0.9  # accuracy
    frame = p.to_frame()
    assert list(frame["lambda"]) == list(p.lambdas_)
    assert set(frame["selected"]) >= {"min"} or "min,1se" in set(frame["selected"])
    assert p.n_features_selected_.shape == (L,) and not p.diverged_.any()


def test_largest_strength_gives_almost_constant_model(small_path, cancer):
    X, y = cancer
    prob = small_path.model(small_path.lambdas_[0]).predict(X, verbose=0)[:, 0]
    assert prob.std() < 0.02
    # ... while the selected one separates the classes.
    prob = small_path.model("min").predict(X, verbose=0)[:, 0]
    assert ((prob > 0.5) == y).mean() > 0.9


def test_path_model_is_the_plain_recipe_with_standardization(small_path, cancer, tmp_path):
    X, y = cancer
    model = small_path.model("1se")
    assert model.layers[0].name == "standardize"
    assert [layer.name for layer in model.layers[1:]] == ["hidden_1", "output"]
    reg = model.get_layer("hidden_1").kernel_regularizer
    assert type(reg) is keras.regularizers.L1L2
    l1 = small_path.lambda_1se_ * 0.5
    assert reg.l1 == pytest.approx(l1) and reg.l2 == pytest.approx(l1 / 2)
    # Same numbers as standardizing by hand and running the refit member's weights.
    w = small_path.weights_[small_path.index_1se_]
    Xs = (X - X.mean(0)) / X.std(0)
    ref = 1 / (1 + np.exp(-(np.maximum(Xs @ w[0] + w[1], 0) @ w[2] + w[3])))
    np.testing.assert_allclose(model.predict(X, verbose=0), ref, atol=1e-4)
    file = tmp_path / "m.keras"
    model.save(file)
    code = (
        "import keras, numpy as np, sys\n"
        "assert 'kerasnet' not in sys.modules\n"
        f"m = keras.saving.load_model({str(file)!r}, safe_mode=True)\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        "np.save(sys.argv[1], m.predict(X, verbose=0))\n"
    )
    np.save(tmp_path / "X.npy", X.astype("float32"))
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend())
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "p.npy")], check=True, env=env, timeout=120)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.predict(X, verbose=0), atol=1e-6)


def test_path_plot_and_predict(small_path, cancer):
    from matplotlib.figure import Figure

    fig = Figure()  # detached: plot() draws on the figure given (pyplot's own is covered elsewhere)
    display = small_path.plot(ax=fig)
    assert display.figure_ is fig and len(fig.axes) >= display.n_panels >= 2
    X, y = cancer
    assert set(np.unique(small_path.predict(X))) <= set(y)
    with pytest.raises(ValueError, match="not on the path's grid"):
        small_path.model(123.0)


def _member_masks(members):
    """What the engine was given for each member (:class:`MemberSpec`): its training and validation
    rows as members x rows masks (fit_path passes row sets and each member's), and its scaling."""
    return {"train_mask": members.train_sets[members.train_of], "val_mask": members.val_sets[members.val_of],
            "scaling": members.scaling}


def test_each_member_standardizes_with_its_own_training_rows(cancer, monkeypatch):
    """Canary: values planted in a validation fold must not reach that fold's members' statistics."""
    X, y = cancer
    seen = []
    real = stages_module.fit_members

    def spy(model, rows, members, *args):
        seen.append(members)
        return real(model, rows, members, *args)

    monkeypatch.setattr(stages_module, "fit_members", spy)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=4).split(X, y))
    canary = X.copy()
    canary[folds[1][1], 0] = 1e6  # plant in fold 1's validation rows
    fit_path(canary, y, hidden=(4,), lambdas=[0.1, 0.01], cv=3, epochs=2, seed=4, verbose=0, baselines=False)
    cv = _member_masks(seen[0])
    for k in range(6):
        f = k % 3
        train_rows = folds[f][0]
        assert not cv["train_mask"][k][folds[f][1]].any() and cv["val_mask"][k][folds[f][1]].all()
        ref = StandardScaler().fit(canary[train_rows])
        np.testing.assert_allclose(cv["scaling"][0][k], ref.mean_, rtol=1e-5)
        np.testing.assert_allclose(cv["scaling"][1][k], ref.scale_, rtol=1e-4)
    assert np.abs(cv["scaling"][0][1::3, 0]).max() < 1e3  # fold-1 members never saw the canary
    assert cv["scaling"][0][0, 0] > 1e4  # the others train on those rows, so they do


@pytest.mark.backend
def test_one_diverging_strength_is_excluded(cancer, monkeypatch):
    X, y = cancer
    # fit_path refuses strengths beyond 1e6 up front; lifted here to make one strength diverge.
    monkeypatch.setattr("kerasnet.path.arguments.MAX_STRENGTH", np.inf)
    p = fit_path(X, y, hidden=(4,), lambdas=[1e38, 1e-2, 1e-3], cv=3, epochs=5, seed=0, verbose=0,
                 baselines=False)
    assert p.diverged_.tolist() == [True, False, False]
    assert np.isnan(p.cv_mean_[0]) and np.isfinite(p.cv_mean_[1:]).all()
    assert p.lambda_min_ != 1e38 and p.lambda_1se_ != 1e38
    with pytest.raises(ValueError, match="diverged"):
        p.model(1e38)
    ref = fit_path(X, y, hidden=(4,), lambdas=[1e-2, 1e-3], cv=3, epochs=5, seed=0, verbose=0,
                   baselines=False)
    np.testing.assert_allclose(p.cv_scores_[1:], ref.cv_scores_, atol=1e-6)


def test_multiclass_and_task_inference():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    p = fit_path(X, labels, hidden=(8,), n_lambdas=3, cv=3, epochs=30, learning_rate=1e-2, seed=0,
                 verbose=0, baselines=False)
    assert p.task == "multiclass" and list(p.classes_) == list(labels[[0, 50, 100]])
    assert 1 - np.nanmin(p.cv_summary("class")[0]) > 0.8  # accuracy
    assert set(p.predict(X, "min")) <= set(labels)


def test_regression_scores_are_r2_and_model_predicts_in_y_units():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = 100.0 + 20.0 * (X @ [1.0, -1.0, 0.0]) + 2.0 * rng.normal(size=120)
    # proximal: at lambda_max the kernel is exactly zero (with subgradient L1 it only jitters near it).
    p = fit_path(X, y, hidden=(), n_lambdas=2, lambda_min_ratio=1e-3, cv=3, epochs=60, learning_rate=3e-2,
                 seed=0, verbose=0, measure="r2", proximal=True)
    assert p.task == "regression" and p.score_name == "r2" and p.greater_is_better
    # lambda_max (the standardized target's null model) gives the constant model: R^2 ~ 0, mean(y).
    assert not np.any(p.weights_[0][0])
    assert abs(p.cv_mean_[0]) < 0.1 and p.cv_mean_[1] > 0.95
    top = p.model(p.lambdas_[0]).predict(X, verbose=0)
    assert top.std() < 0.1 * y.std() and abs(top.mean() - y.mean()) < 0.05 * y.std()  # Adam jitters
    model = p.model(p.lambdas_[1])
    assert model.layers[-1].name == "unstandardize"
    assert r2_score(y, model.predict(X, verbose=0)[:, 0]) > 0.95
    W, b = p.weights_[1]  # the trained linear member, on standardized X and y
    ref = ((X - X.mean(0)) / X.std(0)) @ W[:, 0] + b[0]
    np.testing.assert_allclose(model.predict(X, verbose=0)[:, 0], ref * y.std() + y.mean(), rtol=1e-4)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"l1_ratio": 1.5}, "l1_ratio"),
        ({"cv": 1}, "cv"),
        ({"n_lambdas": 0}, "n_lambdas"),
        ({"lambdas": [-1.0]}, "lambdas"),
        ({"task": "ranking"}, "task"),
    ],
)
def test_bad_arguments(kwargs, match):
    X, y = np.zeros((10, 2)), np.arange(10) % 2
    with pytest.raises(ValueError, match=match):
        fit_path(X, y, verbose=0, **kwargs)


def test_dask_scheduler_gives_the_local_path(cancer):
    distributed = pytest.importorskip("dask.distributed")
    X, y = cancer
    kw = dict(hidden=(4,), lambdas=[0.1, 0.01, 1e-3], cv=3, epochs=6, seed=0, verbose=0, baselines=False)
    local = fit_path(X, y, **kw)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        remote = fit_path(X, y, scheduler=client, **kw)
    np.testing.assert_allclose(remote.cv_scores_, local.cv_scores_)
    for a, b in zip(remote.weights_[1], local.weights_[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_regression_target_is_standardized_with_training_rows_only(monkeypatch):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 2))
    y = X[:, 0] + 0.1 * rng.normal(size=60)
    seen = []
    real = stages_module.fit_members
    monkeypatch.setattr(stages_module, "fit_members", lambda *a: seen.append(a[2]) or real(*a))
    fit_path(X, y, hidden=(), lambdas=[0.1], cv=3, epochs=2, seed=1, verbose=0)
    cv = _member_masks(seen[0])
    for k in range(3):
        rows = cv["train_mask"][k]
        np.testing.assert_allclose(cv["scaling"][2][k], y[rows].mean(), rtol=1e-5)
        np.testing.assert_allclose(cv["scaling"][3][k], y[rows].std(), rtol=1e-5)


# ----------------------------------------------------------------------------- against hand computations


def _glmnet_choices(lambdas, scores, fold_weights=None):
    """lambda.min and lambda.1se, written out from glmnet's rule (score maximized, lambdas descending;
    folds weighted by their row weight, cvsd = sqrt(weighted mean squared deviation / (folds - 1)))."""
    n_folds = scores.shape[1]
    w = np.ones(n_folds) if fold_weights is None else np.asarray(fold_weights, float)
    mean = (scores * w).sum(axis=1) / w.sum()
    se = np.sqrt(((scores - mean[:, None]) ** 2 * w).sum(axis=1) / w.sum() / (n_folds - 1))
    best = max(range(len(lambdas)), key=lambda i: (mean[i], lambdas[i]))  # ties: the larger strength
    within = [i for i in range(len(lambdas)) if mean[i] >= mean[best] - se[best]]
    return lambdas[best], max(lambdas[i] for i in within)


# Fold scores (5 strengths x 4 folds) where the two rules differ: the best mean (row 3, 0.90)
# has SE 0.0346, so row 2 (0.88) is within one SE of it and row 1 (0.84) is not.
SCORES = np.array([
    [0.60, 0.62, 0.58, 0.60],
    [0.84, 0.86, 0.82, 0.84],
    [0.88, 0.89, 0.87, 0.88],
    [0.96, 0.84, 0.96, 0.84],
    [0.89, 0.89, 0.88, 0.90],
])


def _hand_path(scores=SCORES):
    """A Path built from a CV table and hand-set linear weights (no training)."""
    L, F = scores.shape
    weights = [[np.array([[2.0], [-1.0]], "float32") * (i / (L - 1)), np.array([0.5], "float32")]
               for i in range(L)]
    return Path(
        lambdas=np.geomspace(1.0, 1e-3, L), l1_ratio=0.5, task="binary", hidden=(),
        classes=np.array(["neg", "pos"]), feature_names=["a", "b"],
        mean=np.array([1.0, -1.0], "float32"), scale=np.array([2.0, 0.5], "float32"),
        y_mean=np.zeros(1, "float32"), y_scale=np.ones(1, "float32"),
        cv_values={"auc": scores, "deviance": 1.0 - scores}, measure="auc",
        member_diverged=np.zeros((L, F), bool), best_epoch=np.ones((L, F), int),
        refit_epochs=np.ones(L, int), refit_diverged=np.zeros(L, bool), weights=weights, n_outputs=1,
        proximal=False,
    )


def test_lambda_min_and_1se_follow_glmnet_rule_on_a_hand_table():
    p = _hand_path()
    lam_min, lam_1se = _glmnet_choices(p.lambdas_, SCORES)
    assert (lam_min, lam_1se) == (p.lambdas_[3], p.lambdas_[2])  # the table is built so they differ
    assert p.lambda_min_ == lam_min and p.lambda_1se_ == lam_1se
    assert (p.index_min_, p.index_1se_) == (3, 2)
    assert p.to_frame()["selected"].tolist() == ["", "", "1se", "min", ""]
    np.testing.assert_allclose(p.cv_se_[3], np.std(SCORES[3], ddof=1) / 2)


def test_lambda_min_and_1se_follow_glmnet_rule_on_a_fitted_path(small_path):
    p = small_path
    lam_min, lam_1se = _glmnet_choices(p.lambdas_, -p.cv_scores_, p.fold_weights_)  # deviance: lower wins
    assert p.lambda_min_ == lam_min and p.lambda_1se_ == lam_1se


def test_path_predict_is_the_models_decision(small_path, cancer):
    X, y = cancer
    for lam in ("1se", "min", small_path.lambdas_[-1]):
        prob = keras.ops.convert_to_numpy(small_path.model(lam)(X.astype("float32")))[:, 0]
        expected = small_path.classes_[(prob > 0.5).astype(int)]
        np.testing.assert_array_equal(small_path.predict(X, lam), expected)
    assert (small_path.predict(X) == y).mean() > 0.9
    # Labels are the classes themselves, from a hand-computed linear model (weights of lambda_1se).
    p = _hand_path()
    Xh = np.random.default_rng(0).normal(size=(50, 2)) * 2
    W, b = p.weights_[p.index_1se_]
    z = ((Xh - [1.0, -1.0]) / [2.0, 0.5]) @ W[:, 0] + b[0]
    assert len(set(z > 0)) == 2
    np.testing.assert_array_equal(p.predict(Xh), np.where(z > 0, "pos", "neg"))


def test_path_plot_draws_the_cv_curve_and_both_choices():
    p = _hand_path()
    ax, ax2 = p.plot().ax_[:2]
    data_line, _, (bars,) = ax.containers[0].lines
    np.testing.assert_allclose(data_line.get_xdata(), p.lambdas_)
    np.testing.assert_allclose(data_line.get_ydata(), SCORES.mean(axis=1))
    se = np.std(SCORES, axis=1, ddof=1) / 2
    for segment, mean, s in zip(bars.get_segments(), SCORES.mean(axis=1), se, strict=True):
        np.testing.assert_allclose(segment[:, 1], [mean - s, mean + s])
    vertical = {line.get_label().split(" = ")[0]: line.get_xdata() for line in ax.lines
                if line.get_label().startswith("lambda_")}
    np.testing.assert_allclose(vertical["lambda_min"], [p.lambdas_[3]] * 2)
    np.testing.assert_allclose(vertical["lambda_1se"], [p.lambdas_[2]] * 2)
    norm = [float(np.abs(w[0]).sum()) for w in p.weights_]
    np.testing.assert_allclose(ax2.lines[0].get_ydata(), norm)


@pytest.fixture(scope="module")
def proximal_path(cancer):
    X, y = cancer
    return fit_path(X, y, hidden=(8,), n_lambdas=5, lambda_min_ratio=1e-3, cv=3, epochs=40,
                    batch_size=32, learning_rate=1e-2, patience=5, proximal=True, seed=0, verbose=0,
                    baselines=False)


def test_proximal_path_has_exact_zeros_growing_with_lambda(proximal_path, small_path):
    p = proximal_path
    assert p.proximal and len(p.lambdas_) >= len(small_path.lambdas_)
    zeros = [np.mean(np.concatenate([k.ravel() for k in w[0::2]]) == 0) for w in p.weights_]
    np.testing.assert_allclose(p.sparsity_, zeros)
    assert p.sparsity_[0] == 1.0 and p.n_features_selected_[0] == 0  # lambda_max: every kernel zero
    assert np.all(np.diff(p.sparsity_) <= 0.02) and p.sparsity_[-1] < 0.5  # lambdas descend
    assert p.n_features_selected_[-1] > 0 and 1 - np.nanmin(p.cv_summary("class")[0]) > 0.9
    kernel = p.model(p.lambdas_[1]).get_layer("hidden_1").get_weights()[0]
    assert (kernel == 0).mean() > 0.5  # the standalone model keeps the zeros
    # The same path with L1 inside the loss (subgradient steps) gives no exact zeros.
    assert small_path.sparsity_.max() < 0.01


def test_summary_is_glmnets_print_and_dev_ratio_is_the_lasso_r2():
    """%Dev is the refit's deviance explained on its rows: for the linear model, the R^2 of
    scikit-learn's Lasso at alpha = lambda / 2 on the standardized data (converged fits)."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    path = fit_path(X, y, hidden=(), l1_ratio=1.0, n_lambdas=8, cv=3, epochs=300, batch_size=442,
                    learning_rate=0.1, early_stopping=False, seed=0, verbose=0)
    Xs, ys = StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
    r2 = [Lasso(alpha=lam / 2, tol=1e-10, max_iter=100_000).fit(Xs, ys).score(Xs, ys)
          for lam in path.lambdas_]
    np.testing.assert_allclose(path.dev_ratio_[3:], r2[3:], atol=3e-3)  # the weaker half: converged
    table = path.summary()
    assert list(table.columns[:3]) == ["Df (features)", "%Dev", "Lambda"]
    np.testing.assert_allclose(table["%Dev"], np.round(100 * path.dev_ratio_, 2))
    assert (table["rule"] != "").sum() >= 1 and table.index[0] == 1
    text = str(path)
    # The table (a header, 8 strengths), then the baselines after a blank line (a linear path: the null only).
    table_part, baselines = text.split("\n\nBaselines", 1)
    assert "lambda_1se" in text and "%Dev" in text and len(table_part.splitlines()) == 8 + 3
    assert "null model" in baselines and "No linear baseline" in baselines
