"""Do the defaults bind? Today's path defaults against the new ones on the bundled datasets.

For each dataset (a 75/25 train/test split, seed 0) and each configuration, fits
:func:`kerasnet.fit_path` on the training rows and records: the fraction of strengths whose
training the epoch cap ended (some fold still running at the cap) and whose all-folds best
epoch lies within ``patience`` of the cap (early stopping did not decide), the most epochs a
CV member trained, the wall time, and the held-out log loss / accuracy (classification) or
MSE (regression) of the refit at ``lambda_min`` and at ``lambda_1se``.

Configurations: ``today`` (hidden (64, 64), epochs=100, the subgradient L1 step),
``today-prox`` (the same with ``proximal=True``: the budget alone differs from ``new``),
``new`` (the defaults: ``epochs=None``, with ``proximal=True``) and ``estimator-today``
(the CV estimators' former defaults: hidden (100,), batch ``min(200, n)``, 100 epochs);
``auto-objective`` (``epochs=None`` with the first rule: the validation objective, data loss
+ penalty, watched from epoch 1 with the 0.1% tolerance, as before the rule watched the data
loss; reproduced by replacing :func:`kerasnet.path.defaults.stopping_rule`).

Usage::

    python benchmarks/defaults_check.py run DATASET [CONFIG ...]   # one JSON line per config
    python benchmarks/defaults_check.py table                      # the Markdown table
    python benchmarks/defaults_check.py epochs                     # the epoch rule's table

Results go to ``benchmarks/results/defaults_raw/DATASET.jsonl`` (``DEFAULTS_RAW`` overrides the
folder); each row also records the load average and the epochs of the strengths chosen.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path as FilePath

import numpy as np

RAW = FilePath(os.environ.get("DEFAULTS_RAW", FilePath(__file__).parent / "results" / "defaults_raw"))
DATASETS = ("breast_cancer", "diabetes", "wine", "digits")


def load(name):
    from sklearn import datasets

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return X.astype("float64"), y


def configs(n_train):
    return {
        "new": dict(proximal=True),  # every other setting the default
        "today": dict(hidden=(64, 64), epochs=100, batch_size=32, proximal=False),
        "estimator-today": dict(hidden=(100,), epochs=100, batch_size=min(200, n_train), proximal=False),
        "today-prox": dict(hidden=(64, 64), epochs=100, batch_size=32, proximal=True),
        "auto-objective": dict(proximal=True),
    }


def objective_rule(epochs, fold_rows, batch_size, learning_rate):
    """The first ``epochs=None`` rule: the validation objective, the tolerance, no warm-up."""
    from kerasnet.path import defaults

    if epochs is None:
        return {"min_delta": defaults.MIN_DELTA, "monitor": "val_objective", "warmup": 0}
    return {"min_delta": 0.0, "monitor": "val_objective", "warmup": 0}


def held_out(path, X_test, y_test, lam):
    from sklearn.metrics import accuracy_score, log_loss, mean_squared_error

    model = path.model(lam)
    out = np.asarray(model.predict(X_test, verbose=0), float)
    if path.task == "regression":
        squared = (np.asarray(y_test, float) - out.ravel()) ** 2  # its standard error: the test set's noise
        return {"mse": float(mean_squared_error(y_test, out.ravel())),
                "mse_se": float(squared.std(ddof=1) / np.sqrt(len(squared)))}
    proba = np.hstack([1 - out, out]) if out.shape[1] == 1 else out
    proba = proba / proba.sum(axis=1, keepdims=True)  # float32 softmax rows sum to 1 within 1e-7
    codes = np.searchsorted(path.classes_, y_test)
    rows = -np.log(np.clip(proba[np.arange(len(codes)), codes], 1e-15, 1.0))
    return {"log_loss": float(log_loss(codes, proba, labels=np.arange(proba.shape[1]))),
            "log_loss_se": float(rows.std(ddof=1) / np.sqrt(len(rows))),
            "accuracy": float(accuracy_score(codes, proba.argmax(axis=1)))}


def run(name, which):
    from sklearn.model_selection import train_test_split

    from kerasnet import fit_path
    from kerasnet.path import defaults

    X, y = load(name)
    task = "regression" if name == "diabetes" else None
    stratify = None if task == "regression" else y
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=stratify)
    extra = {"n_lambdas": 16} if name == "digits" else {}
    if os.environ.get("DEFAULTS_SMOKE"):  # a check of this script only: tiny and fast
        extra = {"n_lambdas": 3, "cv": 3}
    RAW.mkdir(parents=True, exist_ok=True)
    for label, settings in configs(len(y_tr)).items():
        if which and label not in which:
            continue
        rule = defaults.stopping_rule
        if label == "auto-objective":
            defaults.stopping_rule = objective_rule
        load_avg = os.getloadavg()[0]
        start = time.perf_counter()
        try:
            path = fit_path(X_tr, y_tr, task=task, seed=0, verbose=0, **settings, **extra)
        finally:
            defaults.stopping_rule = rule
        wall = time.perf_counter() - start
        cap = defaults.epoch_budget(settings.get("epochs"), True)
        cv = path.history_["cv"]
        L, F = path.best_epoch_.shape
        trained = cv.epochs_trained.reshape(L, F)
        chosen = cv.chosen_epoch.reshape(L, F)[:, 0]
        row = {
            "dataset": name, "config": label, "cap": cap, "n_lambdas": L, "wall_s": round(wall, 1),
            "min_delta": defaults.stall_tolerance(settings.get("epochs")),
            "ended_by_cap": float((trained >= cap).any(axis=1).mean()),
            "best_near_cap": float((chosen > cap - defaults.PATIENCE).mean()),
            "member_epochs": int(trained.sum()),  # the training done, whatever the load
            "epochs_per_strength": [int(e) for e in trained.max(axis=1)],
            "max_epochs": int(trained.max()), "median_epochs": float(np.median(trained.max(axis=1))),
            "index_min": int(path.index_min_), "index_1se": int(path.index_1se_),
            "chosen_epochs": [int(e) for e in chosen], "refit_epochs": [int(e) for e in path.refit_epochs_],
            "load_before": round(load_avg, 2), "load_after": round(os.getloadavg()[0], 2),
            "rule": "auto" if settings.get("epochs") is None else "fixed",
            "min": held_out(path, X_te, y_te, path.lambda_min_),
            "1se": held_out(path, X_te, y_te, path.lambda_1se_),
        }
        with open(RAW / f"{name}.jsonl", "a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)


def _score(held):
    if "mse" in held:
        return f"MSE {held['mse']:.0f}"
    return f"log loss {held['log_loss']:.4f}, acc {held['accuracy']:.3f}"


def table():
    rows = []
    for name in DATASETS:
        file = RAW / f"{name}.jsonl"
        if file.exists():
            rows += [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
    lines = ["| dataset | config | strengths ended by the cap | best epoch within patience of the cap | "
             "max / median epochs | wall s | held-out at lambda_min | held-out at lambda_1se |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["config"] == "new" and "min_delta" not in r:  # a first run of the rule, before its tolerance
            r["config"] = "new, no tolerance"
        lines.append(f"| {r['dataset']} | {r['config']} (cap {r['cap']}) | {r['ended_by_cap']:.0%} | "
                     f"{r['best_near_cap']:.0%} | {r['max_epochs']} / {r['median_epochs']:.0f} | "
                     f"{r['wall_s']} | {_score(r['min'])} | {_score(r['1se'])} |")
    print("\n".join(lines))


def _held(held):
    if "mse" in held:
        se = f" +- {held['mse_se']:.0f}" if "mse_se" in held else ""
        return f"MSE {held['mse']:.0f}{se}"
    se = f" +- {held['log_loss_se']:.4f}" if "log_loss_se" in held else ""
    return f"{held['log_loss']:.4f}{se} (acc {held['accuracy']:.3f})"


def _chosen(r, which):
    i = r[f"index_{which}"]
    trained, cap = r["epochs_per_strength"][i], r["cap"]
    return f"{trained}{' (cap)' if trained >= cap else ''} / {r['chosen_epochs'][i]}"


def epochs_table():
    """The epoch rule's table: the last row of each (dataset, config), every repeat's wall time."""
    rows = {}
    for name in DATASETS:
        file = RAW / f"{name}.jsonl"
        for line in file.read_text().splitlines() if file.exists() else []:
            r = json.loads(line)
            rows.setdefault((name, r["config"]), []).append(r)
    lines = ["| dataset | config | held-out log loss or MSE at lambda_min (+- test-set SE) | lambda_min: "
             "epochs trained / chosen | lambda_1se: trained / chosen | strengths ended by the cap | "
             "member-epochs | wall s (each run) | load (1-min, before) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (name, config), runs in rows.items():
        r = runs[-1]
        walls = ", ".join(str(x["wall_s"]) for x in runs)
        loads = ", ".join(str(x.get("load_before", "")) for x in runs)
        lines.append(f"| {name} | {config} (cap {r['cap']}) | {_held(r['min'])} | {_chosen(r, 'min')} | "
                     f"{_chosen(r, '1se')} | {r['ended_by_cap']:.0%} of {r['n_lambdas']} | "
                     f"{r['member_epochs']} | {walls} | {loads} |")
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], set(sys.argv[3:]))
    elif sys.argv[1] == "epochs":
        epochs_table()
    else:
        table()
