"""Feature selection on nonlinear data: kerasnet's group-lasso path against LassoNet and the lasso.

Run from a clone, LassoNet installed for the benchmark only (never a kerasnet dependency; it
uses the project environment's torch 2.13)::

    .venv/bin/pip install --target .benchlib --no-deps lassonet sortedcontainers tqdm
    PYTHONPATH=.benchlib .venv/bin/python benchmarks/selection.py

``--lassonet-python PATH`` runs LassoNet with another interpreter instead; without LassoNet
the script measures kerasnet and the lasso only.

Tasks (5 relevant features each, 500 training rows, scored on 5,000 fresh rows):

* ``friedman1, p=50`` and ``p=500``: scikit-learn's ``make_friedman1`` (regression,
  ``10 sin(pi x0 x1) + 20 (x2 - 0.5)^2 + 10 x3 + 5 x4 + noise``), standard deviation 1 noise.
* ``interactions, p=50``: classification, ``y = 1[x0 x1 + x2^2 - 1 + sin(2 x3) - x4 + e > 0]``
  with ``e ~ N(0, 0.5^2)`` and standard normal features.

Methods, each choosing its strength by its own 5-fold CV on the training rows only:

* ``kerasnet``: ``fit_path(X, y, hidden=(32,), feature_selection=True, relax=True, ...)`` (the
  adaptive group lasso, its default with ``feature_selection``) at ``lambda_1se`` (the default
  choice) and at ``lambda_min``, penalized or relaxed as its CV chose
  (``Path.relax_chosen_``); the refit model at that strength is scored. Batches of 128 at a
  learning rate of 3e-3, the same settings on every task.
* ``LassoNet``: ``LassoNetRegressorCV`` / ``LassoNetClassifierCV(hidden_dims=(32,), cv=5)``,
  its ``best_selected_`` features and its own refit model.
* ``lasso``: the linear baseline (glmnet's job): ``LassoCV`` / ``LogisticRegressionCV(l1)``.

Reported: features kept, true ones found (of 5), false ones kept, fresh-data score (R^2 or
accuracy), wall time; and the ratio of LassoNet's time to kerasnet's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
TRUE = set(range(5))


def make(task, p, n, seed):
    import numpy as np

    if task == "friedman1":
        from sklearn.datasets import make_friedman1

        X, y = make_friedman1(n_samples=n, n_features=p, noise=1.0, random_state=seed)
        return X.astype("float32"), y.astype("float32")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype("float32")
    f = X[:, 0] * X[:, 1] + X[:, 2] ** 2 - 1 + np.sin(2 * X[:, 3]) - X[:, 4]
    return X, (f + 0.5 * rng.normal(size=n) > 0).astype(int)


TASKS = [("friedman1", 50), ("friedman1", 500), ("interactions", 50)]


def _row(name, task, kept, score, seconds):
    kept = set(int(j) for j in kept)
    return {"method": name, "task": task, "kept": len(kept), "true": len(kept & TRUE),
            "false": len(kept - TRUE), "score": float(score), "seconds": seconds}


def run_kerasnet(task, p):
    import numpy as np
    from sklearn.metrics import r2_score

    import kerasnet

    X, y = make(task, p, 500, 0)
    X_new, y_new = make(task, p, 5000, 1)
    start = time.perf_counter()
    path = kerasnet.fit_path(X, y, hidden=(32,), feature_selection=True, relax=True, n_lambdas=20,
                             lambda_min_ratio=3e-2, cv=5, epochs=300, batch_size=128, learning_rate=3e-3,
                             patience=10, seed=0, verbose=0)
    seconds = time.perf_counter() - start
    rows = []
    for rule in ("1se", "min"):
        kept, _ = path.selected_features(rule)
        pred = path.predict(X_new, rule)
        score = r2_score(y_new, pred) if task == "friedman1" else float(np.mean(pred == y_new))
        rows.append(_row(f"kerasnet (lambda_{rule})", task, kept, score, seconds))
    return rows


def run_lasso(task, p):
    import numpy as np
    from sklearn.linear_model import LassoCV, LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = make(task, p, 500, 0)
    X_new, y_new = make(task, p, 5000, 1)
    start = time.perf_counter()
    if task == "friedman1":
        model = make_pipeline(StandardScaler(), LassoCV(cv=5, random_state=0)).fit(X, y)
        coef = model[-1].coef_
    else:
        model = make_pipeline(StandardScaler(), LogisticRegressionCV(cv=5, penalty="l1", solver="saga",
                                                                     max_iter=5000, random_state=0)).fit(X, y)
        coef = model[-1].coef_[0]
    seconds = time.perf_counter() - start
    return [_row("lasso (linear, CV)", task, np.flatnonzero(coef), model.score(X_new, y_new), seconds)]


LASSONET_CHILD = """
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[3])
from selection import make, _row
from lassonet import LassoNetClassifierCV, LassoNetRegressorCV
from sklearn.preprocessing import StandardScaler
task, p = sys.argv[1], int(sys.argv[2])
X, y = make(task, p, 500, 0)
X_new, y_new = make(task, p, 5000, 1)
start = time.perf_counter()
scaler = StandardScaler().fit(X)
kind = LassoNetRegressorCV if task == "friedman1" else LassoNetClassifierCV
model = kind(hidden_dims=(32,), cv=5, random_state=0, torch_seed=0, verbose=0)
model.fit(scaler.transform(X), y)
seconds = time.perf_counter() - start
kept = np.flatnonzero(np.asarray(model.best_selected_))
score = model.score(scaler.transform(X_new), y_new)
print(json.dumps(_row("LassoNet (CV)", task, kept, score, seconds)))
"""


def run_lassonet(python, task, p):
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([python, "-c", LASSONET_CHILD, task, str(p), here], capture_output=True, text=True,
                         check=True)
    return [json.loads(out.stdout.strip().splitlines()[-1])]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lassonet-python", help="a Python with lassonet installed (default: this one)")
    args = parser.parse_args()
    import importlib.util

    if args.lassonet_python is None and importlib.util.find_spec("lassonet") is not None:
        args.lassonet_python = sys.executable
    import keras
    import sklearn

    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, Keras {keras.__version__} ({keras.backend.backend()}), scikit-learn "
          f"{sklearn.__version__}, load average {os.getloadavg()[0]:.1f}\n")
    print("| task | method | kept | true (of 5) | false | fresh score | seconds | LassoNet time / this |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for task, p in TASKS:
        rows = run_kerasnet(task, p) + run_lasso(task, p)
        if args.lassonet_python:
            rows += run_lassonet(args.lassonet_python, task, p)
        lassonet = next((r["seconds"] for r in rows if r["method"].startswith("LassoNet")), None)
        metric = "R^2" if task == "friedman1" else "accuracy"
        for r in rows:
            ratio = f"{lassonet / r['seconds']:.1f}x" if lassonet else ""
            print(f"| {task}, p={p} | {r['method']} | {r['kept']} | {r['true']} | {r['false']} | "
                  f"{r['score']:.3f} ({metric}) | {r['seconds']:.1f} | {ratio} |", flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
