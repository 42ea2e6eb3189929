"""task="cox": Breslow's partial likelihood on networks, against R's glmnet and by hand."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pytest

import kerasnet
from kerasnet.survival import CoxPartialLikelihood, c_index, cox_deviance, null_martingale_residual
from test_glmnet_reference import _glmnet_available


def _survival(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    time = rng.exponential(np.exp(-(0.7 * X[:, 0] - 0.5 * X[:, 1])))
    time = np.round(time, 1) + 0.1  # ties
    event = (rng.random(n) < 0.7).astype(float)
    return X, np.column_stack([time, event])


R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(glmnet)); suppressMessages(library(survival))
data <- read.csv(args[1])
X <- as.matrix(data[, 1:4])
fit <- glmnet(X, Surv(data$time, data$event), family = "cox", alpha = 0.5, nlambda = 5,
              lambda.min.ratio = 0.01, standardize = TRUE, thresh = 1e-14, maxit = 1e6)
cvfit <- cv.glmnet(X, Surv(data$time, data$event), family = "cox", alpha = 0.5, lambda = fit$lambda,
                   foldid = data$fold, grouped = TRUE, standardize = TRUE, thresh = 1e-14, maxit = 1e6)
num <- function(v) paste0("[", paste(sprintf("%.17g", v), collapse = ", "), "]")
writeLines(sprintf('{"lambda": %s, "beta": %s, "dev_ratio": %s, "cvm": %s, "cvsd": %s}', num(fit$lambda),
                   num(as.matrix(fit$beta)), num(fit$dev.ratio), num(cvfit$cvm), num(cvfit$cvsd)), args[2])
"""


def test_linear_cox_equals_glmnet(tmp_path):
    reason = _glmnet_available()
    if reason:
        pytest.skip(reason)
    X, y = _survival()
    X = X.astype(np.float32).astype(np.float64)
    fold = np.arange(len(y)) % 3 + 1  # cv.glmnet needs 3 folds at least
    frame = pd.DataFrame(X, columns=["x1", "x2", "x3", "x4"]).assign(time=y[:, 0], event=y[:, 1], fold=fold)
    frame.to_csv(tmp_path / "data.csv", index=False, float_format="%.17g")
    (tmp_path / "ref.R").write_text(R_SCRIPT)
    command = ["Rscript", str(tmp_path / "ref.R"), str(tmp_path / "data.csv"), str(tmp_path / "out.json")]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    ref = json.loads((tmp_path / "out.json").read_text())
    lambdas = np.asarray(ref["lambda"])
    path = kerasnet.fit_path(X, y, task="cox", hidden=(), l1_ratio=0.5, n_lambdas=5, lambda_min_ratio=0.01,
                             foldid=fold, epochs=3000, batch_size=len(y), learning_rate=0.05,
                             early_stopping=False, proximal=True, seed=0, verbose=0)
    np.testing.assert_allclose(path.lambdas_, lambdas, rtol=1e-5)  # glmnet's lambda_max and grid
    beta = np.asarray(ref["beta"]).reshape(len(lambdas), 4).T
    for i in range(len(lambdas)):
        coef = path.weights_[i][0][:, 0] / path.scale_  # raw features' scale, as glmnet reports
        np.testing.assert_allclose(coef, beta[:, i], atol=2e-3)
        np.testing.assert_array_equal(np.abs(coef) < 1e-5, beta[:, i] == 0)
    # %Dev: glmnet's saturated Breslow likelihood (tied event times grouped)
    np.testing.assert_allclose(path.dev_ratio_, ref["dev_ratio"], atol=1e-4)
    # cv.glmnet's default deviance (grouped, folds weighted by their events) and its SE
    np.testing.assert_allclose(path.cv_mean_, ref["cvm"], rtol=1e-5)
    np.testing.assert_allclose(path.cv_se_, ref["cvsd"], rtol=1e-4)


def test_martingale_residuals_c_index_and_deviance_by_hand():
    rng = np.random.default_rng(1)
    time = np.array([2.0, 1.0, 2.0, 3.0, 1.0, 4.0])
    event = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    w = rng.uniform(0.5, 2.0, size=6)
    y = np.column_stack([time, event])
    # Breslow: Lambda(t) = sum over event rows k with t_k <= t of w_k / (weight at risk at t_k).
    risk = np.array([w[time >= t].sum() for t in time])
    hazard = np.array([sum(w[k] * event[k] / risk[k] for k in range(6) if time[k] <= t) for t in time])
    np.testing.assert_allclose(null_martingale_residual(y, w), event - hazard)
    eta = rng.normal(size=6)
    # Comparable: i's event before j's time, or at j's time when j is censored (R's survival).
    pairs = [(i, j) for i in range(6) for j in range(6)
             if event[i] and (time[i] < time[j] or (time[i] == time[j] and not event[j]))]
    concordant = sum(w[i] * w[j] * ((eta[i] > eta[j]) + 0.5 * (eta[i] == eta[j])) for i, j in pairs)
    assert c_index(y, eta, w) == pytest.approx(concordant / sum(w[i] * w[j] for i, j in pairs))
    risk_sums = [(w * np.exp(eta))[time >= time[i]].sum() for i in range(6)]
    log_lik = sum(w[i] * event[i] * (eta[i] - np.log(risk_sums[i])) for i in range(6))
    assert cox_deviance(y, eta, w) == pytest.approx(-2 * log_lik / w.sum())
    # The Keras loss (unit weights): the batch mean is half the deviance.
    keras_loss = float(CoxPartialLikelihood()(y.astype("float32"), eta[:, None].astype("float32")))
    assert keras_loss == pytest.approx(cox_deviance(y, eta) / 2, rel=1e-5)


def test_cox_network_path_target_forms_and_bad_input(tmp_path):
    import keras

    X, y = _survival(seed=2)
    # baselines=False: the network's path (the Cox baselines run in tests/test_cli_cox.py's commands)
    path = kerasnet.fit_path(X, y, task="cox", hidden=(8,), n_lambdas=4, cv=3, epochs=40, batch_size=64,
                             learning_rate=1e-2, seed=0, verbose=0, baselines=False)
    assert set(path.cv_measures_) == {"deviance", "cindex"}
    assert path.cv_summary("cindex")[0][path.index_min_] > 0.65
    # scikit-survival's structured form (event first) and a DataFrame give the same target.
    structured = np.array(list(zip(y[:, 1].astype(bool), y[:, 0], strict=True)), dtype=[("event", "?"),
                                                                                         ("time", "f8")])
    # (The grid's top comes from a probe trained with the path's settings: compare like with like.)
    quick = dict(task="cox", hidden=(8,), n_lambdas=4, cv=3, epochs=1, seed=0, verbose=0, baselines=False)
    array = kerasnet.fit_path(X, y, **quick)
    for form in (structured, pd.DataFrame({"time": y[:, 0], "event": y[:, 1]})):
        same = kerasnet.fit_path(X, form, **quick)
        np.testing.assert_allclose(same.lambdas_, array.lambdas_)
        np.testing.assert_allclose(same.cv_mean_, array.cv_mean_, rtol=1e-6)
    # The selected model: plain Keras plus kerasnet's registered Cox loss; saved, it loads safely.
    model = path.model("min")
    model.save(tmp_path / "cox.keras")
    loaded = keras.saving.load_model(tmp_path / "cox.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(X[:5], verbose=0)[:, 0], path.predict(X[:5], "min"), rtol=1e-5)
    for bad, words in ((y[:, :1], "two columns"),
                       (np.column_stack([-y[:, 0], y[:, 1]]), "time finite and > 0"),
                       (np.column_stack([y[:, 0], 2 * y[:, 1]]), "events of 0 or 1")):
        with pytest.raises(ValueError, match=words):
            kerasnet.fit_path(X, bad, task="cox", verbose=0)
