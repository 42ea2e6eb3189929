"""fit_path's linear Poisson path with an offset against R's glmnet (``family="poisson"``).

Both sides fit the same rows, ``offset = log(exposure)``, ``alpha = l1_ratio = 0.5`` and the
same strengths (glmnet's own grid, passed to kerasnet): glmnet's objective
``-loglik / n + lambda * penalty`` on standardized coefficients is kerasnet's (Keras's
``poisson`` loss is the negative log-likelihood per row up to a constant in ``y``). kerasnet
trains ``hidden=()`` full batch with the proximal step until converged. Skips where
``Rscript`` or the R package glmnet is absent (``.ci/run`` installs Debian's
``r-cran-glmnet``).
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

import kerasnet
from test_glmnet_reference import _glmnet_available

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(glmnet))
X <- as.matrix(read.csv(args[1], header = FALSE))
y <- scan(args[2], quiet = TRUE)
offset <- scan(args[3], quiet = TRUE)
fit <- glmnet(X, y, family = "poisson", offset = offset, alpha = 0.5, nlambda = 6, lambda.min.ratio = 0.05,
              standardize = TRUE, thresh = 1e-14, maxit = 1e6)
num <- function(v) paste0("[", paste(sprintf("%.17g", v), collapse = ", "), "]")
writeLines(sprintf('{"lambda": %s, "a0": %s, "beta": %s}', num(fit$lambda), num(fit$a0),
                   num(as.matrix(fit$beta))), args[4])
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    reason = _glmnet_available()
    if reason:
        pytest.skip(reason)
    rng = np.random.default_rng(0)
    n = 300
    X = rng.normal(size=(n, 6)).astype(np.float32).astype(np.float64)
    exposure = rng.uniform(0.5, 3.0, size=n)
    y = rng.poisson(exposure * np.exp(0.2 + 0.5 * X[:, 0] - 0.3 * X[:, 1] + 0.2 * X[:, 2])).astype(float)
    offset = np.log(exposure)
    tmp = tmp_path_factory.mktemp("glmnet_poisson")
    np.savetxt(tmp / "X.csv", X, delimiter=",", fmt="%.17g")
    np.savetxt(tmp / "y.csv", y, fmt="%d")
    np.savetxt(tmp / "offset.csv", offset, fmt="%.17g")
    (tmp / "reference.R").write_text(R_SCRIPT)
    out = tmp / "glmnet.json"
    run = subprocess.run(["Rscript", str(tmp / "reference.R"), str(tmp / "X.csv"), str(tmp / "y.csv"),
                          str(tmp / "offset.csv"), str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return X, y, offset, json.loads(out.read_text())


def test_poisson_elastic_net_with_offset_equals_glmnet(reference):
    X, y, offset, ref = reference
    lambdas = np.asarray(ref["lambda"])
    common = dict(task="poisson", hidden=(), l1_ratio=0.5, cv=2, batch_size=len(y), learning_rate=0.05,
                  early_stopping=False, proximal=True, seed=0, verbose=0, offset=offset)
    # The same first strength: glmnet's lambda_max with the offset.
    grid = kerasnet.fit_path(X, y, n_lambdas=6, lambda_min_ratio=0.05, epochs=1, **common)
    np.testing.assert_allclose(grid.lambdas_, lambdas, rtol=1e-4)
    path = kerasnet.fit_path(X, y, lambdas=lambdas, epochs=3000, **common)
    beta = np.asarray(ref["beta"]).reshape(len(lambdas), X.shape[1]).T  # R's matrix, column by column
    for i in range(len(lambdas)):
        W, b = path.weights_[i]
        coef = W[:, 0] / path.scale_  # back to the raw features' scale, as glmnet reports
        intercept = b[0] - (W[:, 0] * path.mean_ / path.scale_).sum()
        np.testing.assert_allclose(coef, beta[:, i], atol=2e-3)
        assert intercept == pytest.approx(ref["a0"][i], abs=2e-3)
        # The same zeros (at lambda_max itself the last step may leave one at ~1e-7).
        np.testing.assert_array_equal(np.abs(coef) < 1e-5, beta[:, i] == 0)
