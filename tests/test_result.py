"""``Path`` built from synthetic CV tables and weights: what it chooses, summarizes and shows.

The CV means and standard errors are glmnet's weighted ``cvm`` / ``cvsd`` written out by hand
in the test; sparsity, feature counts and norms are counted from the weights given; no
network trains.
"""

import types

import numpy as np
import pytest

from kerasnet.path.plan import MemberGrid
from kerasnet.path.result import Path

LAMBDAS = np.array([1.0, 0.5, 0.25, 0.125])
FOLD_WEIGHTS = np.array([1.0, 2.0, 1.0])
# mse per (strength, fold), lower is better. Strength 2 is the best but its refit diverged;
# strength 3 is better still but one of its folds diverged.
MSE = np.array([[2.5, 2.5, 2.5],
                [2.0, 3.0, 1.0],
                [0.5, 0.5, 0.5],
                [0.1, 0.1, 0.1]])
DEVIANCE = np.array([[1.0, 2.0, 3.0],
                     [1.0, 1.0, 1.0],
                     [0.2, 0.2, 0.2],
                     [0.1, 0.1, 0.1]])
R2 = np.array([[0.1, 0.1, 0.1],
               [0.5, 0.3, 0.4],
               [0.9, 0.9, 0.9],
               [0.95, 0.95, 0.95]])


def _weights():
    """[W1 (3 x 2), b1, W2 (2 x 1), b2] per strength; biases nonzero (they are not kernels)."""
    first = [np.zeros((3, 2)), [[1, 0], [0, 0], [0, -2]], [[3, 4], [0, 0], [0, 0]], np.ones((3, 2))]
    second = [[[1], [1]], [[3], [0]], [[0], [0]], [[1], [1]]]
    return [[np.asarray(w1, "float32"), np.array([5.0, 0.0], "float32"), np.asarray(w2, "float32"),
             np.array([7.0], "float32")] for w1, w2 in zip(first, second, strict=True)]


def _path(measure="mse", refit_diverged=(False, False, True, False), member_diverged=None, **kwargs):
    if member_diverged is None:
        member_diverged = np.zeros((4, 3), bool)
        member_diverged[3, 1] = True
    settings = {"lambdas": LAMBDAS, "l1_ratio": 0.5, "task": "regression", "classes": None,
                "feature_names": ["a", "b", "c"], "cv_values": {"mse": MSE, "deviance": DEVIANCE, "r2": R2},
                "measure": measure, "member_diverged": member_diverged, "best_epoch": np.ones((4, 3), int),
                "refit_epochs": np.array([3, 4, 5, 6]), "refit_diverged": np.asarray(refit_diverged),
                "weights": _weights(), "n_outputs": 1, "proximal": True, "fold_weights": FOLD_WEIGHTS,
                "hidden": (2,), "mean": np.array([1.0, 2.0, 3.0], "float32"),
                "scale": np.array([2.0, 1.0, 0.5], "float32"), "y_mean": np.array([10.0], "float32"),
                "y_scale": np.array([3.0], "float32")}
    return Path(**{**settings, **kwargs})


def _glmnet(values, w):
    """cv.glmnet's cvm and cvsd with fold weights ``w`` (one strength)."""
    mean = (values * w).sum() / w.sum()
    return mean, np.sqrt(((values - mean) ** 2 * w).sum() / w.sum() / (len(values) - 1))


def test_a_diverged_refit_or_fold_is_never_chosen():
    p = _path()
    np.testing.assert_array_equal(p.diverged_, [False, False, True, True])
    # Strength 1: mean (2 + 6 + 1) / 4 = 2.25, se sqrt(((0.25^2 + 2 * 0.75^2 + 1.25^2) / 4) / 2).
    assert p.cv_mean_[1] == pytest.approx(2.25)
    assert p.cv_se_[1] == pytest.approx(np.sqrt(0.6875 / 2))
    assert p.cv_mean_[0] == pytest.approx(2.5) and p.cv_se_[0] == pytest.approx(0.0)
    assert np.isnan(p.cv_mean_[2:]).all() and np.isnan(p.cv_se_[2:]).all()
    assert (p.index_min_, p.lambda_min_) == (1, 0.5)
    # 1se: the largest strength within 2.25 + 0.586 of the best: strength 0 (2.5).
    assert (p.index_1se_, p.lambda_1se_) == (0, 1.0)
    healthy = _path(refit_diverged=(False,) * 4, member_diverged=np.zeros((4, 3), bool))
    assert healthy.lambda_min_ == 0.125 and not healthy.diverged_.any()
    assert healthy.lambda_1se_ == 0.125  # the best's folds agree: its SE is 0
    # r2, greater is better: strength 1's mean (0.5 + 0.6 + 0.4) / 4 = 0.375 beats 0.1 by more
    # than its SE, so both rules choose it.
    r2 = _path("r2")
    assert (r2.index_min_, r2.index_1se_) == (1, 1) and r2.greater_is_better is True
    flags = _path(refit_diverged=[0, 0, 1, 0])  # 0/1 flags are read as booleans
    assert flags.diverged_.dtype == bool and flags.diverged_.tolist() == [False, False, True, True]
    # Only the refit diverged at strength 2, and only strength 2 is left out.
    refit_only = _path(member_diverged=np.zeros((4, 3), bool))
    assert refit_only.lambda_min_ == 0.125 and np.isnan(refit_only.cv_mean_[2])
    assert not np.isnan(refit_only.cv_mean_[[0, 1, 3]]).any()


def test_cv_summaries_are_glmnets_weighted_cvm_and_cvsd():
    p = _path(member_diverged=np.zeros((4, 3), bool), refit_diverged=(False,) * 4)
    for i in range(4):
        mean, se = _glmnet(MSE[i], FOLD_WEIGHTS)
        assert p.cv_mean_[i] == pytest.approx(mean) and p.cv_se_[i] == pytest.approx(se)
        mean, se = _glmnet(DEVIANCE[i], FOLD_WEIGHTS)
        assert p.cv_loss_mean_[i] == pytest.approx(mean) and p.cv_loss_se_[i] == pytest.approx(se)
    np.testing.assert_array_equal(p.cv_scores_, MSE)
    np.testing.assert_array_equal(p.cv_losses_, DEVIANCE)
    assert p.score_name == "mse" and p.greater_is_better is False
    assert p.hidden_l2 == 0.0 and p.feature_selection is False  # the defaults
    assert p.dev_ratio_ is None and p.oof_predictions_ is None and p.penalty_factor_ is None
    oof, factor = np.zeros((4, 5, 1)), np.array([1.0, 1e30, 0.5])
    given = _path(oof_predictions=oof, penalty_factor=factor)
    assert given.oof_predictions_ is oof and given.penalty_factor_ is factor
    integers = _path(lambdas=[8, 4, 2, 1], cv_values={"mse": MSE.astype(int), "deviance": DEVIANCE, "r2": R2})
    assert integers.lambdas_.dtype == float and integers.cv_scores_.dtype == float
    equal = _path(fold_weights=None)
    assert equal.cv_mean_[1] == pytest.approx(2.0) and equal.cv_se_[1] == pytest.approx(np.std(MSE[1], ddof=1)
                                                                                         / np.sqrt(3))
    with pytest.raises(ValueError, match="measure must be one of mse, deviance, r2; received 'auc'"):
        p.cv_summary("auc")


def test_measure_weights_override_the_fold_weights_for_their_measure():
    events = np.array([1.0, 1.0, 4.0])
    p = _path(measure_weights={"deviance": events})
    mean, se = _glmnet(DEVIANCE[0], events)  # (1 + 2 + 12) / 6 = 2.5, not the fold weights' 2
    assert mean == 2.5 and p.cv_loss_mean_[0] == pytest.approx(mean) and p.cv_loss_se_[0] == pytest.approx(se)
    assert p.cv_mean_[1] == pytest.approx(2.25)  # mse keeps the fold weights
    np.testing.assert_array_equal(p.measure_weights_["deviance"], events)


def test_index_of_a_rule_or_a_strength():
    p = _path()
    assert p.index("1se") == 0 and p.index("min") == 1
    assert p.index(0.25) == 2 and p.index(0.25 * (1 + 1e-7)) == 2 and p.index(np.float32(0.125)) == 3
    with pytest.raises(ValueError, match=r"lam=0.3 is not on the path's grid; use '1se', 'min' or one of "
                                         r"Path.lambdas_ \(0.125 .. 1\)"):
        p.index(0.3)
    with pytest.raises(ValueError, match="lam must be '1se', 'min' or a strength on the grid; received 'max"):
        p.index("max")
    with pytest.raises(ValueError, match="not on the path's grid"):  # within 1e-6 relative, no further
        p.index(0.125 * (1 + 5e-6))
    tiny = _path(lambdas=LAMBDAS * 1e-9)  # no absolute tolerance: tiny strengths are told apart
    assert tiny.index(0.25e-9) == 2
    with pytest.raises(ValueError, match="not on the path's grid"):
        tiny.index(0.3e-9)


def test_sparsity_features_norms_and_feature_path_count_kernels_only():
    p = _path()
    # Kernels: W1 (6 weights) and W2 (2). Zeros: 6 + 0, 4 + 1, 4 + 2, 0 + 0.
    np.testing.assert_allclose(p.sparsity_, [6 / 8, 5 / 8, 6 / 8, 0.0])
    np.testing.assert_array_equal(p.n_features_selected_, [0, 2, 1, 3])
    np.testing.assert_allclose(p.weight_norm_, [2.0, 6.0, 7.0, 8.0])
    np.testing.assert_allclose(p.feature_path_, [[0, 0, 0], [1, 0, 2], [5, 0, 0], [np.sqrt(2)] * 3])
    indices, names = p.selected_features(0.5)
    assert indices.tolist() == [0, 2] and names == ["a", "c"]
    assert p.selected_features("1se")[1] == [] and p.selected_features()[1] == []  # 1se by default


def test_kernels_of_a_users_model_are_the_ones_named():
    # kernels=[2]: only W2 counts; a first "kernel" that is not 2-d gives no feature path.
    p = _path(kernels=[2])
    np.testing.assert_allclose(p.sparsity_, [0.0, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(p.n_features_selected_, [2, 1, 0, 2])
    q = _path(kernels=[1])  # a bias vector as the first kernel: 1-d
    np.testing.assert_array_equal(q.n_features_selected_, [-1] * 4)
    assert q.feature_path_ is None
    # No row per feature: Df counts the nonzero penalized weights ([5, 0] at every strength), and says so.
    assert q.df_name_ == "nonzero weights" and q.df_.tolist() == [1] * 4
    np.testing.assert_array_equal(q.summary()["Df (nonzero weights)"], [1] * 4)
    with pytest.raises(ValueError, match="^this path's first layer is not a Dense kernel: no input features "
                                         "to select.$"):
        q.selected_features("min")


def test_to_frame_and_summary_mark_the_choices():
    p = _path(dev_ratio=[0.0, 0.123456, 0.5, 0.9])
    frame = p.to_frame()
    assert list(frame.columns) == ["lambda", "l1", "l2", "cv_mse", "cv_mse_se", "cv_deviance",
                                   "cv_deviance_se", "cv_r2", "cv_r2_se", "sparsity", "n_features",
                                   "dev_ratio", "weight_norm", "refit_epochs", "diverged", "selected"]
    np.testing.assert_array_equal(frame["lambda"], LAMBDAS)
    np.testing.assert_allclose(frame["sparsity"], [6 / 8, 5 / 8, 6 / 8, 0.0])
    np.testing.assert_allclose(frame["weight_norm"], [2.0, 6.0, 7.0, 8.0])
    assert frame["selected"].tolist() == ["1se", "min", "", ""]
    np.testing.assert_allclose(frame["l1"], LAMBDAS * 0.5)
    np.testing.assert_allclose(frame["l2"], LAMBDAS * 0.5 / 2)
    np.testing.assert_allclose(frame["cv_mse"][:2], [2.5, 2.25])
    np.testing.assert_allclose(frame["cv_r2"][:2], [0.1, (0.5 + 0.6 + 0.4) / 4])  # the other measures too
    np.testing.assert_array_equal(frame["n_features"], [0, 2, 1, 3])
    np.testing.assert_array_equal(frame["refit_epochs"], [3, 4, 5, 6])
    np.testing.assert_allclose(frame["dev_ratio"], [0.0, 0.123456, 0.5, 0.9])
    assert frame["diverged"].tolist() == [False, False, True, True]
    summary = p.summary()
    assert list(summary.columns) == ["Df (features)", "%Dev", "Lambda", "CV mse", "SE", "rule"]
    assert summary.index.tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(summary["%Dev"], [0.0, 12.35, 50.0, 90.0])
    np.testing.assert_array_equal(summary["Df (features)"], [0, 2, 1, 3])
    assert summary["rule"].tolist() == ["1se", "min", "", ""]
    text = str(p)
    assert text.startswith("kerasnet path (l1_ratio=0.5), task=regression, measure=mse: lambda_min 0.5, "
                           "lambda_1se 1")
    assert text.split("\n\n")[1] == summary.to_string(float_format=lambda v: f"{v:.4g}")
    assert "0.5863" in text and "0.58630" not in text  # four significant digits: the SE of strength 1
    assert repr(p) == ("Path(task='regression', n_lambdas=4, lambda_min_=0.5, lambda_1se_=1, measure='mse', "
                       "cv_best=2.2500)")
    same = _path(refit_diverged=(True, False, True, False))  # strength 0 out: 1se is min
    assert same.to_frame()["selected"].tolist() == ["", "min,1se", "", ""]
    no_dev = _path(feature_selection=True, hidden_l2=0.01)
    assert np.isnan(no_dev.summary()["%Dev"]).all() and np.isnan(no_dev.to_frame()["dev_ratio"]).all()
    assert str(no_dev).startswith("kerasnet feature-selection path, task=regression")
    assert no_dev.feature_selection is True and no_dev.hidden_l2 == 0.01


@pytest.mark.parametrize("measure, better, worse", [
    ("mse", MSE - 0.5, MSE + 0.5),   # lower is better: the relaxed path's best 1.75 beats 2.25
    ("r2", R2 + 0.1, R2 - 0.1),      # greater is better
])
def test_relax_chosen_when_the_relaxed_best_beats_the_paths(measure, better, worse):
    values = {"mse": MSE, "deviance": DEVIANCE, "r2": R2}
    for relaxed_values, chosen in ((better, True), (worse, False), (values[measure], False)):
        relaxed = _path(measure, cv_values={**values, measure: relaxed_values})
        p = _path(measure, relaxed=relaxed)
        assert p.relax_chosen_ is chosen and p.relaxed_ is relaxed
        assert p._relaxed(None) is chosen and p._relaxed(True) is True and p._relaxed(False) is False
    assert _path(measure).relax_chosen_ is False
    with pytest.raises(ValueError, match="^this path has no relaxed fits; fit it with relax=True.$"):
        _path(measure).selected_features(relaxed=True)


def test_selected_features_follow_the_relaxed_path_when_chosen():
    weights = _weights()
    weights[0][0] = np.ones((3, 2), "float32")  # the relaxed 1se (strength 0) keeps all three
    relaxed = _path(cv_values={"mse": MSE - 0.5, "deviance": DEVIANCE, "r2": R2}, weights=weights)
    p = _path(relaxed=relaxed)
    assert p.selected_features("1se")[1] == ["a", "b", "c"]
    assert p.selected_features("1se", relaxed=False)[1] == []


def _history(L, per, epochs=4):
    """A CV history: member k's loss 100 k + e, held-out loss 10 k + e, objective that + k / 10
    + e / 100; the last epoch NaN (every member had stopped)."""
    e = np.arange(epochs, dtype=float)[:, None]
    k = np.arange(L * per, dtype=float)[None, :]
    loss, val_loss = 100 * k + e, 10 * k + e
    objective = val_loss + k / 10 + e / 100
    for a in (loss, val_loss, objective):
        a[-1] = np.nan
    val_loss[1], objective[1] = np.nan, np.nan  # no held-out loss at epoch 2: the row stays
    return {"cv": types.SimpleNamespace(loss=loss, val_loss=val_loss, val_objective=objective)}


COLUMNS = ["epoch", "loss", "objective", "data_loss", "penalty", "val_data_loss", "val_loss", "val_objective"]


@pytest.mark.parametrize("per", [3, 4])  # members of a strength: the folds (and its refit, when joint)
def test_curves_average_the_folds_of_the_chosen_strength(per):
    # The path's member grid says who member k is (with the refits joined: F + 1 per strength).
    p = _path(history=_history(4, per), members=MemberGrid.of(LAMBDAS, 3, refits_joined=per == 4))
    frame = p.curves("min")  # strength 1: members per + 0, 1, 2
    members = per + np.arange(3)
    assert list(frame.columns) == COLUMNS
    np.testing.assert_array_equal(frame["epoch"], [1, 2, 3])
    # The engine's loss is the whole objective: PenaltyMonitor's names for the same numbers.
    np.testing.assert_array_equal(frame["objective"], frame["loss"])
    np.testing.assert_array_equal(frame["val_objective"], frame["val_loss"])
    np.testing.assert_allclose(frame["loss"], 100 * members.mean() + np.arange(3))
    e = np.arange(3)
    penalty = np.array([members.mean() / 10, np.nan, members.mean() / 10 + 0.02])
    np.testing.assert_allclose(frame["penalty"], penalty)
    np.testing.assert_allclose(frame["data_loss"], 100 * members.mean() + e - penalty)
    np.testing.assert_allclose(frame["val_data_loss"], np.where(e == 1, np.nan, 10 * members.mean() + e))
    np.testing.assert_allclose(frame["val_loss"], np.where(e == 1, np.nan, 10 * members.mean() + e) + penalty)
    np.testing.assert_allclose(p.curves(0.125)["loss"], 100 * (3 * per + 1) + np.arange(3))
    np.testing.assert_allclose(p.curves()["loss"], 100 + np.arange(3))  # 1se by default: strength 0


def test_curves_without_a_history_are_empty():
    for history in (None, {"cv": types.SimpleNamespace(loss=np.ones((2, 12)), val_loss=None)}):
        frame = _path(history=history).curves()
        assert frame.empty
        assert list(frame.columns) == COLUMNS


def test_model_and_predict_are_the_refit_network_in_ys_units():
    p = _path(task="regression")
    X = np.random.default_rng(0).normal(size=(6, 3)) * 2 + 1
    W1, b1, W2, b2 = p.weights_[1]
    z = (X - [1.0, 2.0, 3.0]) / [2.0, 1.0, 0.5]
    by_hand = (np.maximum(z @ W1 + b1, 0) @ W2 + b2)[:, 0] * 3.0 + 10.0
    np.testing.assert_allclose(p.predict(X, "min"), by_hand, rtol=1e-5)
    with pytest.raises(ValueError, match="lam=0.25 diverged; choose another strength"):
        p.model(0.25)
    with pytest.raises(ValueError, match="offset= is the log exposure of a Poisson path"):
        p.predict(X, "min", offset=np.zeros(6))


def test_model_with_fold_is_the_plain_recipe_on_raw_inputs(tmp_path):
    import keras

    from kerasnet.estimators.numeric import numpy_forward

    X = np.random.default_rng(0).normal(size=(6, 3)) * 2 + 1
    for task, y_scale in (("regression", [3.0]), ("binary", None)):
        p = _path(task=task, **({} if y_scale else {"y_mean": None, "y_scale": None}))
        layered, folded = p.model("min"), p.model("min", fold=True)
        assert {type(layer) for layer in folded.layers} == {keras.layers.Dense}
        assert folded.optimizer.built  # compiled as compile_for does
        want = keras.ops.convert_to_numpy(layered(X.astype("float32")))
        np.testing.assert_allclose(numpy_forward(folded, X), want, rtol=1e-5, atol=1e-6)
        # Zeros stay zeros (feature b's row), and the .keras file loads in safe mode.
        assert not folded.layers[0].get_weights()[0][1].any()
        folded.save(tmp_path / f"{task}.keras")
        back = keras.saving.load_model(tmp_path / f"{task}.keras", safe_mode=True)
        np.testing.assert_allclose(numpy_forward(back, X), want, rtol=1e-5, atol=1e-6)


def test_plot_draws_the_paths_own_curves(monkeypatch):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    import kerasnet.plots

    seen = {}
    monkeypatch.setattr(kerasnet.plots, "path_axes", lambda *args, **kwargs: seen.update(args=args))
    p = _path()
    figures = plt.get_fignums()
    display = p.plot(ax=Figure())  # a detached figure: pyplot keeps no new one
    assert plt.get_fignums() == figures and display.n_panels == 3 and len(display.ax_) == 3
    axes, lambdas, mean, se, lam_min, lam_1se, norm, sparsity, n_features, score, fp, names = seen["args"]
    assert list(axes) == list(display.ax_) and all(a.figure is display.figure_ for a in axes)
    np.testing.assert_array_equal(lambdas, LAMBDAS)
    np.testing.assert_array_equal(mean, p.cv_mean_)
    np.testing.assert_array_equal(se, p.cv_se_)
    assert (lam_min, lam_1se) == (0.5, 1.0)
    np.testing.assert_allclose(norm, [2.0, 6.0, 7.0, 8.0])
    np.testing.assert_allclose(sparsity, [6 / 8, 5 / 8, 6 / 8, 0.0])
    np.testing.assert_array_equal(n_features, [0, 2, 1, 3])
    assert score == "mean squared error" and names == ["a", "b", "c"]
    np.testing.assert_array_equal(fp, p.feature_path_)
