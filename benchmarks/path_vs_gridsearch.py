"""fit_path vs scikeras KerasClassifier in GridSearchCV: same grid, folds, epochs, network.

Run (scikeras lives only in a benchmark venv, never in kerasnet's dependencies):

    python3 -m venv .benchvenv
    echo "import site; site.addsitedir('$PWD/.venv/lib/python3.11/site-packages')" \
        > .benchvenv/lib/python3.11/site-packages/mainvenv.pth
    .benchvenv/bin/pip install --no-deps scikeras==0.13.0
    .benchvenv/bin/python benchmarks/path_vs_gridsearch.py

Both sides: breast cancer (569 x 30), MLP 30-64-64-1, Adam lr 1e-3, batch 32, 20 epochs,
no early stopping, l1_ratio 0.5, the same 16 strengths (fit_path's own grid), the same 5
stratified folds, StandardScaler fitted inside each fold, and a refit on all rows (GridSearchCV
refits the best strength; fit_path refits all 16). Everything runs in one process so the
ratio holds on a busy machine: fit_path cold (includes XLA compilation), scikeras, fit_path
again (warm).
"""

from __future__ import annotations

import os
import platform
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")  # kerasnet's default; set before keras is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(__file__))
from _floor import matmul_rate, mlp_eval_flops, mlp_train_flops  # noqa: E402

from kerasnet import _grid  # noqa: E402
from kerasnet.models import compile_for, mlp  # noqa: E402
from kerasnet.path import fit_path  # noqa: E402
from kerasnet.penalty import ElasticNet  # noqa: E402

EPOCHS, BATCH, LR, L1_RATIO, N_LAMBDAS, FOLDS, HIDDEN = 20, 32, 1e-3, 0.5, 16, 5, (64, 64)


def build(lam, meta):
    model = mlp(meta["n_features_in_"], 1, HIDDEN, "binary", penalty=ElasticNet.from_lambda(lam, L1_RATIO))
    return compile_for(model, "binary", learning_rate=LR)


def accuracy(path):
    """CV accuracy per strength (mean, se): 1 - glmnet's misclassification measure."""
    mean, se = path.cv_summary("class")
    return 1.0 - mean, se


def run_fit_path(X, y, grid, folds):
    t = time.perf_counter()
    path = fit_path(X, y, hidden=HIDDEN, lambdas=grid, cv=folds, epochs=EPOCHS, batch_size=BATCH,
                    learning_rate=LR, l1_ratio=L1_RATIO, early_stopping=False, seed=0, verbose=0)
    return time.perf_counter() - t, path


def main():
    from scikeras.wrappers import KerasClassifier

    X, y = load_breast_cancer(return_X_y=True)
    grid = _grid.lambda_grid(_grid.lambda_max(StandardScaler().fit_transform(X), y, "binary", L1_RATIO),
                             N_LAMBDAS, 1e-3)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)

    cold, path = run_fit_path(X, y, grid, folds)
    print(f"fit_path cold: {cold:.2f} s, best CV accuracy {np.nanmax(accuracy(path)[0]):.4f}", flush=True)

    clf = KerasClassifier(model=build, model__lam=float(grid[0]), epochs=EPOCHS, batch_size=BATCH, verbose=0)
    search = GridSearchCV(Pipeline([("scale", StandardScaler()), ("clf", clf)]),
                          {"clf__model__lam": [float(g) for g in grid]}, cv=folds, scoring="accuracy",
                          refit=True, n_jobs=1)
    t = time.perf_counter()
    search.fit(X, y)
    sk_time = time.perf_counter() - t
    sk_curve = search.cv_results_["mean_test_score"]
    print(f"scikeras GridSearchCV: {sk_time:.2f} s, best CV accuracy {search.best_score_:.4f}", flush=True)

    warm, path2 = run_fit_path(X, y, grid, folds)
    print(f"fit_path warm: {warm:.2f} s", flush=True)

    # The floor: the arithmetic of fit_path's work at this machine's big-matmul rate.
    sizes = (30, *HIDDEN, 1)
    n = len(y)
    train_rows = (FOLDS - 1) * n  # rows seen per epoch, summed over the folds
    flops = N_LAMBDAS * (mlp_train_flops(sizes, train_rows * EPOCHS)  # CV members
                         + mlp_train_flops(sizes, n * EPOCHS)  # refit members
                         + mlp_eval_flops(sizes, n * EPOCHS))  # validation after every epoch
    rate = matmul_rate()
    floor = flops / (rate * 1e9)
    lines = [
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"keras {keras.__version__} ({keras.backend.backend()}), load average {os.getloadavg()}",
        "",
        "| run | wall time (s) | best CV accuracy | ratio vs scikeras |",
        "| --- | ---: | ---: | ---: |",
        f"| scikeras KerasClassifier + GridSearchCV | {sk_time:.2f} | {search.best_score_:.4f} | 1.0x |",
        f"| kerasnet.fit_path, first call (incl. XLA compile) | {cold:.2f} "
        f"| {np.nanmax(accuracy(path)[0]):.4f} "
        f"| {sk_time / cold:.1f}x |",
        f"| kerasnet.fit_path, second call (compiled) | {warm:.2f} | {np.nanmax(accuracy(path2)[0]):.4f} "
        f"| {sk_time / warm:.1f}x |",
        f"| floor: {flops / 1e9:.1f} GFLOP at {rate:.0f} GFLOP/s (measured 1024^2 matmul) | {floor:.3f} | "
        f"| {sk_time / floor:.0f}x |",
        "",
        f"fit_path lambda_min {path.lambda_min_:.4g}, lambda_1se {path.lambda_1se_:.4g}; "
        f"GridSearchCV best lambda {search.best_params_['clf__model__lam']:.4g}",
        "",
        "| lambda | fit_path CV accuracy (+- se) | scikeras CV accuracy |",
        "| ---: | ---: | ---: |",
    ]
    for lam, m, se, s in zip(grid, *accuracy(path), sk_curve, strict=True):
        lines.append(f"| {lam:.4g} | {m:.4f} +- {se:.4f} | {s:.4f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
