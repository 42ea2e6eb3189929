"""A fresh process with a warm compilation cache against scikit-learn's MLPClassifier + GridSearchCV.

Run from a clone: ``.venv/bin/python benchmarks/fresh_process.py``

Breast cancer (569 x 30), 16 strengths x 5 stratified folds, 20 epochs, batch 32, Adam lr 1e-3,
MLP 64-64. scikit-learn: ``GridSearchCV(Pipeline(StandardScaler, MLPClassifier(hidden_layer_sizes=
(64, 64), max_iter=20, batch_size=32, early_stopping=False)), {"mlpclassifier__alpha": 16 values},
cv=StratifiedKFold(5, shuffle=True, random_state=0), n_jobs=2)`` (its refit on all rows included),
timed in this process. kerasnet: ``fit_path(X, y, n_lambdas=16, cv=5, epochs=20,
early_stopping=False)`` (every strength refit on all rows), each in a fresh Python process with the
compilation cache in a temporary folder: once to fill the cache, then three more times; reported
are the fit_path call and the whole process (imports included), best of three.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings

CHILD = """
import time
t0 = time.perf_counter()
import json, kerasnet
from sklearn.datasets import load_breast_cancer
X, y = load_breast_cancer(return_X_y=True)
t1 = time.perf_counter()
path = kerasnet.fit_path(X, y, n_lambdas=16, cv=5, epochs=20, batch_size=32, learning_rate=1e-3,
                         early_stopping=False, seed=0, verbose=0)
t2 = time.perf_counter()
accuracy = float(1 - path.cv_summary("class")[0].min())
print(json.dumps({"call": t2 - t1, "imports": t1 - t0, "cv_accuracy": accuracy}))
"""


def main():
    import numpy as np
    import sklearn
    from sklearn.datasets import load_breast_cancer
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, scikit-learn {sklearn.__version__}, load average "
          f"{os.getloadavg()[0]:.1f}\n")
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MLPClassifier((64, 64), max_iter=20, batch_size=32,
                                                         learning_rate_init=1e-3, random_state=0))
    grid = {"mlpclassifier__alpha": list(np.geomspace(1.0, 1e-3, 16))}
    search = GridSearchCV(pipe, grid, cv=StratifiedKFold(5, shuffle=True, random_state=0), n_jobs=2)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    sk = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "KERASNET_XLA_CACHE": cache, "KERAS_BACKEND": "jax"}

        def child():
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                                 check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            return {**result, "process": time.perf_counter() - start}

        cold = child()
        warm = [child() for _ in range(3)]
    call = min(r["call"] for r in warm)
    process = min(r["process"] for r in warm)
    print("| side | seconds | ratio | best CV accuracy |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| scikit-learn MLPClassifier + GridSearchCV(n_jobs=2) | {sk:.2f} | 1 | "
          f"{search.best_score_:.4f} |")
    print(f"| fit_path, fresh process, cold cache: call | {cold['call']:.2f} | {sk / cold['call']:.1f}x | "
          f"{cold['cv_accuracy']:.4f} |")
    print(f"| fit_path, fresh process, warm cache: call | {call:.2f} | {sk / call:.1f}x | "
          f"{warm[0]['cv_accuracy']:.4f} |")
    print(f"| fit_path, fresh process, warm cache: whole process | {process:.2f} | {sk / process:.1f}x | |")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
