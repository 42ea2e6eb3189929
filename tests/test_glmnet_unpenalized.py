"""The grid's top with unpenalized features (penalty factor 0) against R's glmnet.

glmnet first fits the unpenalized features (with the intercept) and takes ``lambda_max`` from
the gradient at that fit; so does :func:`kerasnet.fit_path` (``grid.unpenalized_residual``).
The linear path's whole grid must equal glmnet's. Skips where ``Rscript`` or glmnet is absent.
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
family <- args[4]
pf <- c(0, 1, 1, 0, 1, 1)
fit <- if (family == "poisson") {
  glmnet(X, y, family = family, offset = offset, alpha = 0.5, nlambda = 5, lambda.min.ratio = 0.05,
         penalty.factor = pf)
} else glmnet(X, y, family = family, alpha = 0.5, nlambda = 5, lambda.min.ratio = 0.05, penalty.factor = pf)
writeLines(paste0("[", paste(sprintf("%.17g", fit$lambda), collapse = ", "), "]"), args[5])
"""


def _data(family, n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32).astype(np.float64)
    eta = 1.2 * X[:, 0] + 0.8 * X[:, 3] + 0.3 * X[:, 1]  # the unpenalized features carry most signal
    offset = np.log(rng.uniform(0.5, 3.0, size=n))
    if family == "binomial":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    elif family == "poisson":
        y = rng.poisson(np.exp(0.2 + 0.4 * eta + offset)).astype(float)
    else:
        y = eta + rng.normal(size=n)
    return X, y, offset


@pytest.mark.parametrize("family, task", [("gaussian", "regression"), ("binomial", "binary"),
                                          ("poisson", "poisson")])
def test_grid_with_unpenalized_features_is_glmnets(tmp_path, family, task):
    reason = _glmnet_available()
    if reason:
        pytest.skip(reason)
    X, y, offset = _data(family)
    np.savetxt(tmp_path / "X.csv", X, delimiter=",", fmt="%.17g")
    np.savetxt(tmp_path / "y.csv", y, fmt="%.17g")
    np.savetxt(tmp_path / "offset.csv", offset, fmt="%.17g")
    (tmp_path / "ref.R").write_text(R_SCRIPT)
    out = tmp_path / "lambda.json"
    run = subprocess.run(["Rscript", str(tmp_path / "ref.R"), *(str(tmp_path / f) for f in
                          ("X.csv", "y.csv", "offset.csv")), family, str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    reference = np.asarray(json.loads(out.read_text()))
    path = kerasnet.fit_path(X, y, task=task, hidden=(), l1_ratio=0.5, n_lambdas=5, lambda_min_ratio=0.05,
                             penalty_factor=[0, 1, 1, 0, 1, 1], cv=2, epochs=1, seed=0, verbose=0,
                             offset=offset if family == "poisson" else None)
    if family == "gaussian":  # Keras's mean squared error of the standardized target: 2 / sd(y) glmnet's
        reference = reference * 2 / y.std()
    np.testing.assert_allclose(path.lambdas_, reference, rtol=1e-4)
