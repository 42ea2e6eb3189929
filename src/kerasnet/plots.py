"""Matplotlib figures of kerasnet results: data in, Figure out (no training, no files)."""

from __future__ import annotations

import numpy as np

__all__ = ["path_figure"]


def path_figure(lambdas, cv_mean, cv_se, lambda_min, lambda_1se, weight_norm, sparsity=None,
                n_features=None, score_name="accuracy"):
    """The regularization path: CV score with error bars and both choices; the weight path.

    Left: mean CV score per strength with +-1 SE bars (log strength axis, strongest on the
    left as in glmnet's plots reversed to read "less penalty ->"), vertical lines at
    ``lambda_min`` and ``lambda_1se``. Right: total ``sum|W|`` of the refit kernels, and
    the fraction of exact zeros (and features kept, when given) on a twin axis.

    Parameters
    ----------
    lambdas, cv_mean, cv_se, weight_norm : array [L]
    lambda_min, lambda_1se : float
    sparsity, n_features : array [L] or None
    score_name : str, default "accuracy"

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    lambdas = np.asarray(lambdas, float)
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    ax.errorbar(lambdas, cv_mean, yerr=cv_se, fmt="o-", ms=3, capsize=2, color="C0")
    ax.axvline(lambda_min, color="C3", ls="--", label=f"lambda_min = {lambda_min:.3g}")
    ax.axvline(lambda_1se, color="C2", ls=":", label=f"lambda_1se = {lambda_1se:.3g}")
    ax.set(xscale="log", xlabel="lambda", ylabel=f"CV {score_name} (mean +- 1 SE)", title="Cross-validation")
    ax.legend(loc="best", fontsize=8)
    ax2.plot(lambdas, weight_norm, "o-", ms=3, color="C1", label="sum |W|")
    ax2.set(xscale="log", xlabel="lambda", ylabel="sum |W| of kernels", title="Path (refit on all rows)")
    if sparsity is not None:
        twin = ax2.twinx()
        twin.plot(lambdas, sparsity, "s--", ms=3, color="C4", label="fraction of zero weights")
        twin.set(ylabel="fraction of zero weights", ylim=(-0.02, 1.02))
        if n_features is not None:
            marks = zip(lambdas[::4], np.asarray(sparsity)[::4], np.asarray(n_features)[::4], strict=True)
            for lam, s, k in marks:
                twin.annotate(str(int(k)), (lam, s), fontsize=7, textcoords="offset points", xytext=(0, 4))
    ax2.axvline(lambda_1se, color="C2", ls=":", lw=0.8)
    return fig
