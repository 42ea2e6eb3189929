"""fit_path's linear binomial path against R's glmnet (``cv.glmnet``), with the same folds.

Both sides get the same rows (breast cancer, rounded to float32 as kerasnet trains on
them), the same ``foldid``, ``alpha = l1_ratio``, ``nlambda`` and ``lambda.min.ratio``.
kerasnet trains ``hidden=()`` full batch with the proximal step, without early stopping,
long enough to converge; glmnet runs to ``thresh = 1e-12``.

Two R references:

- ``exact``: ``cv.glmnet(lambda = <the full-data grid>)``. Every fold is fitted at exactly
  those strengths, as kerasnet's members are, so the CV curves must agree to the
  optimization error (``cvm`` to 5e-4 relative).
- ``default``: plain ``cv.glmnet(nlambda=, lambda.min.ratio=)``. There glmnet fits each
  fold on the fold's *own* grid (``cv.glmnet.raw`` passes the user's ``lambda``, NULL, to
  the fold fits) and predicts at the full-data strengths by linear interpolation of the
  fold's coefficients in lambda (``predict(s = lambda)`` -> ``lambda.interp``), clamped to the
  fold's zero solution above its own ``lambda_max``. That interpolation moves ``cvm`` by up
  to ~1.2e-3 relative here; the choices of ``lambda.min`` and ``lambda.1se`` are the same.

The test skips when ``Rscript`` or the R package glmnet is absent (``.ci/run`` installs
Debian's ``r-cran-glmnet``).
"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

import kerasnet

L1_RATIO = 0.5
N_LAMBDAS = 16
LAMBDA_MIN_RATIO = 1e-3  # wide enough that both measures' lambda.min lies inside the grid
N_FOLDS = 5
EPOCHS = 1500  # full batch at this rate: converged (cvm to ~5e-5, coefficients to ~2e-3)
LEARNING_RATE = 0.3

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(glmnet))
X <- as.matrix(read.csv(args[1], header = FALSE))
y <- scan(args[2], quiet = TRUE)
foldid <- as.integer(scan(args[3], quiet = TRUE))
alpha <- as.numeric(args[4]); nlambda <- as.integer(args[5]); ratio <- as.numeric(args[6])
num <- function(v) paste0("[", paste(sprintf("%.17g", v), collapse = ", "), "]")
cv <- function(measure, lambda = NULL) {
  if (is.null(lambda))
    cv.glmnet(X, y, family = "binomial", alpha = alpha, foldid = foldid, type.measure = measure,
              nlambda = nlambda, lambda.min.ratio = ratio, standardize = TRUE, thresh = 1e-12,
              maxit = 1e6)
  else
    cv.glmnet(X, y, family = "binomial", alpha = alpha, foldid = foldid, type.measure = measure,
              lambda = lambda, standardize = TRUE, thresh = 1e-12, maxit = 1e6)
}
curve <- function(fit) sprintf('{"cvm": %s, "cvsd": %s, "lambda_min": %.17g, "lambda_1se": %.17g}',
                                 num(fit$cvm), num(fit$cvsd), fit$lambda.min, fit$lambda.1se)
base <- cv("deviance")
full <- base$glmnet.fit
parts <- c(sprintf('"version": "%s"', packageVersion("glmnet")),
           sprintf('"lambda": %s', num(base$lambda)),
           sprintf('"nzero": %s', num(base$nzero)),
           sprintf('"beta": %s', num(as.matrix(full$beta))))
for (m in c("deviance", "class")) {
  default <- if (m == "deviance") base else cv(m)
  exact <- cv(m, base$lambda)
  parts <- c(parts, sprintf('"%s": {"default": %s, "exact": %s}', m, curve(default), curve(exact)))
}
writeLines(paste0("{", paste(parts, collapse = ", "), "}"), args[7])
"""


def _glmnet_available():
    """None when Rscript and glmnet are usable, else the reason to skip."""
    if shutil.which("Rscript") is None:
        return "Rscript is not installed (R with the glmnet package is needed; Debian: r-cran-glmnet)"
    try:
        probe = subprocess.run(["Rscript", "-e", "suppressMessages(library(glmnet))"],
                               capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"Rscript could not run: {err}"
    if probe.returncode != 0:
        first = (probe.stderr.strip().splitlines() or [""])[0]
        return f"the R package glmnet is not installed (Debian: r-cran-glmnet): {first}"
    return None


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    reason = _glmnet_available()
    if reason:
        pytest.skip(reason)
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32).astype(np.float64)  # the numbers kerasnet trains on, for both sides
    rng = np.random.default_rng(0)
    foldid = rng.integers(1, N_FOLDS + 1, size=len(y))  # unequal folds: their weighting matters
    tmp = tmp_path_factory.mktemp("glmnet")
    np.savetxt(tmp / "X.csv", X, delimiter=",", fmt="%.17g")
    np.savetxt(tmp / "y.csv", y, fmt="%d")
    np.savetxt(tmp / "foldid.csv", foldid, fmt="%d")
    (tmp / "reference.R").write_text(R_SCRIPT)
    out = tmp / "glmnet.json"
    run = subprocess.run(
        ["Rscript", str(tmp / "reference.R"), str(tmp / "X.csv"), str(tmp / "y.csv"), str(tmp / "foldid.csv"),
         str(L1_RATIO), str(N_LAMBDAS), str(LAMBDA_MIN_RATIO), str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return X, y, foldid, json.loads(out.read_text())


@pytest.fixture(scope="module")
def paths(data):
    X, y, foldid, _ = data
    cache = {}

    def fit(measure):
        if measure not in cache:
            cache[measure] = kerasnet.fit_path(
                X, y, hidden=(), l1_ratio=L1_RATIO, n_lambdas=N_LAMBDAS, lambda_min_ratio=LAMBDA_MIN_RATIO,
                proximal=True, early_stopping=False, epochs=EPOCHS, batch_size=len(y),
                learning_rate=LEARNING_RATE, foldid=foldid, measure=measure, seed=0, verbose=0,
            )
        return cache[measure]

    return fit


def test_grid_and_sparsity_match_glmnet(data, paths):
    X, _, _, ref = data
    path = paths("deviance")
    lam = np.asarray(ref["lambda"])
    assert len(lam) == N_LAMBDAS  # glmnet did not stop its path early
    # glmnet's lambda_max (its first lambda, fix.lam's extrapolation) and the whole log grid.
    np.testing.assert_allclose(path.lambdas_[0], lam[0], rtol=1e-5)
    np.testing.assert_allclose(path.lambdas_, lam, rtol=1e-5)
    # Nonzero coefficients of the all-rows fit, strength by strength: exactly glmnet's nzero.
    nonzero = [int(np.count_nonzero(w[0])) for w in path.weights_]
    assert nonzero == [int(v) for v in ref["nzero"]]
    assert path.n_features_selected_.tolist() == nonzero
    # The coefficients themselves, on the standardized scale (glmnet's beta times the
    # population sd): kerasnet's path is glmnet's solution path.
    beta = np.asarray(ref["beta"]).reshape(N_LAMBDAS, X.shape[1]).T * X.std(axis=0)[:, None]
    kernel = np.stack([w[0][:, 0] for w in path.weights_], axis=1)
    np.testing.assert_allclose(kernel, beta, atol=1e-2)
    np.testing.assert_allclose(kernel[:, :-1], beta[:, :-1], atol=1e-3)  # the weakest penalty converges last


@pytest.mark.parametrize("measure", ["deviance", "class"])
def test_cv_curve_and_choices_match_cv_glmnet(data, paths, measure):
    _, _, _, ref = data
    path = paths(measure)
    assert path.measure == measure
    exact, default = ref[measure]["exact"], ref[measure]["default"]
    lam = np.asarray(ref["lambda"])
    assert lam[-1] < exact["lambda_min"] < lam[0]  # an interior minimum: the choice is a real test
    # Why the choices agree: the same CV curve (folds weighted by their rows, glmnet's cvsd).
    if measure == "deviance":  # 2 x clipped log loss: differs only by the optimization error
        np.testing.assert_allclose(path.cv_mean_, exact["cvm"], rtol=5e-4)
        np.testing.assert_allclose(path.cv_se_, exact["cvsd"], rtol=1e-3, atol=1e-4)
        # glmnet's default CV interpolates each fold's own path: close, not equal.
        np.testing.assert_allclose(path.cv_mean_, default["cvm"], rtol=3e-3)
    else:  # the same test rows on the same side of p = 0.5: the same counts
        np.testing.assert_allclose(path.cv_mean_, exact["cvm"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(path.cv_se_, exact["cvsd"], rtol=0, atol=1e-12)
    for reference in (exact, default):
        np.testing.assert_allclose(path.lambda_min_, reference["lambda_min"], rtol=1e-5)
        np.testing.assert_allclose(path.lambda_1se_, reference["lambda_1se"], rtol=1e-5)
