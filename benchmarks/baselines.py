"""What the baselines say on the bundled datasets, and what the linear baseline costs.

For each dataset, ``fit_path`` with its defaults except ``n_lambdas`` and ``epochs`` (given on
the command line, to fit a shared machine), once: the total wall time, the linear baseline's
share of it, and ``Path.baseline_text()``. Run: ``python benchmarks/baselines.py [n_lambdas] [epochs]``.
"""

from __future__ import annotations

import json
import sys
import time


def datasets():
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

    from kerasnet.data import load_survival_dataset

    yield "breast_cancer", *load_breast_cancer(return_X_y=True), None
    yield "diabetes", *load_diabetes(return_X_y=True), None
    yield "wine", *load_wine(return_X_y=True), None
    X, y = load_survival_dataset("rossi")
    yield "rossi", X.to_numpy(float), y, "cox"


def main(n_lambdas=16, epochs=30):
    from kerasnet import fit_path

    rows = []
    for name, X, y, task in datasets():
        start = time.perf_counter()
        path = fit_path(X, y, task=task, n_lambdas=n_lambdas, epochs=epochs, seed=0, verbose=0)
        total = time.perf_counter() - start
        b = path.baselines_
        row = {"dataset": name, "task": path.task, "measure": path.measure, "total_s": total,
               "linear_s": b.linear_seconds, "share": b.linear_seconds / total,
               "net_1se": [float(path.cv_mean_[path.index_1se_]), float(path.cv_se_[path.index_1se_])],
               "net_min": [float(path.cv_mean_[path.index_min_]), float(path.cv_se_[path.index_min_])],
               "baselines": b.to_record(), "text": path.baseline_text()}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
