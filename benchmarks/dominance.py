"""Dominated strengths stop early: the default path with the rule and without it, same run.

Each side of each table runs in a fresh process (``--one``), alternating, so load hits both;
the persistent compilation cache is warmed by an untimed run of each side first. Reported:
wall time of ``fit_path(X, y)`` with defaults, the CV members' epochs (their sum, and the
longest member's: the fit runs until its last strength stops), lambda_min and lambda_1se
(indices on the grid) and the held-out score of the path's answer on a 25% split.

    python benchmarks/dominance.py [--tables breast_cancer,wine,...] [--out FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

TABLES = ["breast_cancer", "wine", "diabetes", "digits", "binary-2000", "regression-2000", "binary-20000"]


def table(name):
    import numpy as np
    from sklearn import datasets

    if "-" in name:
        kind, n = name.split("-")
        n = int(n)
        rng = np.random.default_rng(0)
        X = rng.normal(size=(n, 20))
        f = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] ** 2 - 0.5
        y = (f + rng.normal(size=n) > 0).astype(int) if kind == "binary" else f + 0.5 * rng.normal(size=n)
        return X, y
    loader = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
              "diabetes": datasets.load_diabetes, "digits": datasets.load_digits}[name]
    return loader(return_X_y=True)


def one(name, rule):
    """Fit the default path on ``name`` (with or without the rule); print a JSON line."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    import kerasnet  # noqa: F401  (before keras)
    from kerasnet import fit_path
    from kerasnet.path import defaults

    if not rule:
        original = defaults.stopping_rule
        defaults.stopping_rule = lambda *a, **k: dataclasses.replace(original(*a, **k), dominance=False)
    X, y = table(name)
    classify = name not in ("diabetes",) and not name.startswith("regression")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0,
                                              stratify=y if classify else None)
    start = time.perf_counter()
    path = fit_path(X_tr, y_tr, seed=0, verbose=0)
    seconds = time.perf_counter() - start
    cv = path.history_["cv"]
    if classify:
        from sklearn.metrics import log_loss

        proba = np.asarray(path.model().predict(X_te.astype("float32"), verbose=0))
        if proba.shape[1] == 1:
            proba = np.column_stack([1 - proba[:, 0], proba[:, 0]])
        score = float(log_loss(y_te, proba, labels=path.classes_))
    else:
        from sklearn.metrics import r2_score

        score = float(r2_score(y_te, path.predict(X_te)))
    print(json.dumps({"table": name, "rule": rule, "seconds": seconds,
                      "work": int(cv.epochs_trained.sum()),
                      "longest": int(cv.epochs_trained.max()), "min": int(path.index_min_),
                      "se": int(path.index_1se_), "score": score,
                      "metric": "log loss" if classify else "R2"}))


def run(name, rule):
    out = subprocess.run([sys.executable, __file__, "--one", name, str(int(rule))], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--out", default=None)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return one(args.one[0], bool(int(args.one[1])))
    sys.path.insert(0, os.path.dirname(__file__))
    from _ab import machine

    lines = [machine(), "",
             "| table | rows | time without / with (s) | ratio | CV epochs (sum) without / with |"
             " longest member | lambda_min, lambda_1se (index) | held-out score without / with |",
             "|---|---|---|---|---|---|---|---|"]
    for name in args.tables.split(","):
        for rule in (False, True):  # warm the compilation cache for both sides
            run(name, rule)
        off, on = run(name, False), run(name, True)
        same = "same" if (off["min"], off["se"]) == (on["min"], on["se"]) else \
            f"CHANGED {off['min']},{off['se']} -> {on['min']},{on['se']}"
        rows = len(table(name)[1])
        lines.append(f"| {name} | {rows} | {off['seconds']:.1f} / {on['seconds']:.1f} | "
                     f"{on['seconds'] / off['seconds']:.2f} | {off['work']} / {on['work']} | "
                     f"{off['longest']} / {on['longest']} | {off['min']}, {off['se']}: {same} | "
                     f"{off['score']:.4f} / {on['score']:.4f} ({on['metric']}) |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
