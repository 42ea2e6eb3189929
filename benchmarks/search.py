"""A 48-configuration x 5-fold search: kerasnet.search against KerasTuner's GridSearch with a k-fold loop.

The same grid (strength x l1_ratio x learning rate x dropout x width), the same folds, the same
network (``Dense(width, relu)`` with Keras's ``L1L2`` at ``lambda * l1_ratio`` and
``lambda * (1 - l1_ratio) / 2``, ``Dropout``, a sigmoid output), Adam, batch 32, the same fixed
number of epochs and no early stopping on either side, inputs standardized with each fold's
training rows. The KerasTuner side is what its users write for CV (its issue #139): a
``GridSearch`` whose ``run_trial`` loops over the folds, builds and fits the trial's model on each
fold's training rows and returns the mean held-out deviance. kerasnet trains all 240 networks in
one stacked fit. Each side runs in its own fresh process; compilation is included on both.

Reported: wall time of each side and their ratio, each side's best configuration and its CV
deviance, each side's best scored by the other side's table, every configuration's CV deviance
compared side by side (paired over the 48 configurations), and kerasnet.search with its own defaults
(cross-fit early stopping instead of a fixed epoch count). The nested CV estimate's honesty is
``benchmarks/search_nested.py``.

    python benchmarks/search.py [--epochs 30] [--dataset breast_cancer] [--out FILE]

The peers need ``keras-tuner`` and ``scikeras`` (benchmark-only dependencies, in a throwaway
environment: ``--tuner-python`` names its Python). A third side, ``GridSearchCV(n_jobs=2)`` over
scikeras's ``KerasClassifier`` in a ``StandardScaler`` pipeline, trains the same 240 networks.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _ab import child, machine, publish  # noqa: E402

SPACE = {"lambda": [1e-3, 1e-2], "l1_ratio": [0.5, 1.0], "learning_rate": [1e-3, 3e-3],
         "dropout": [0.0, 0.2], "hidden": [[16], [32], [64]]}

COMMON = """
import json, sys, time
import numpy as np
from sklearn import datasets
from sklearn.model_selection import StratifiedKFold
args = json.loads(sys.argv[1])
X, y = getattr(datasets, "load_" + args["dataset"])(return_X_y=True)
X = X.astype("float32")
folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
"""

KERASNET = COMMON + """
from kerasnet.search import search
space = dict(args["space"], hidden=[tuple(h) for h in args["space"]["hidden"]])
start = time.perf_counter()
if args.get("early"):  # kerasnet's defaults: cross-fit early stopping, dominated points stopped
    result = search(X, y, space, cv=folds, seed=0, verbose=0)
else:
    result = search(X, y, space, cv=folds, epochs=args["epochs"], early_stopping=False, seed=0, verbose=0)
seconds = time.perf_counter() - start
table = {json.dumps(p.as_dict(), default=list): float(m) for p, m in zip(result.points_, result.cv_mean_)}
best = result.best_.as_dict()
print(json.dumps({"s": seconds, "best": dict(best, hidden=list(best["hidden"])),
                  "cv": float(result.cv_mean_[result.best_index_]), "table": table}))
"""

TUNER = COMMON + """
import keras, keras_tuner as kt
from sklearn.preprocessing import StandardScaler
space = args["space"]

def build(hp):
    lam, ratio = hp.Choice("lambda", space["lambda"]), hp.Choice("l1_ratio", space["l1_ratio"])
    units = hp.Choice("units", [h[0] for h in space["hidden"]])
    penalty = keras.regularizers.L1L2(l1=lam * ratio, l2=lam * (1 - ratio) / 2)
    model = keras.Sequential([keras.Input((X.shape[1],)),
                              keras.layers.Dense(units, activation="relu", kernel_regularizer=penalty),
                              keras.layers.Dropout(hp.Choice("dropout", space["dropout"])),
                              keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=penalty)])
    model.compile(keras.optimizers.Adam(hp.Choice("learning_rate", space["learning_rate"])),
                  "binary_crossentropy")
    return model

class CVGridSearch(kt.GridSearch):
    def run_trial(self, trial, *fit_args, **fit_kwargs):
        scores, sizes = [], []
        for train, test in folds:
            scaler = StandardScaler().fit(X[train])
            model = self.hypermodel.build(trial.hyperparameters)
            model.fit(scaler.transform(X[train]), y[train], epochs=args["epochs"], batch_size=32, verbose=0)
            p = np.clip(model.predict(scaler.transform(X[test]), verbose=0)[:, 0], 1e-5, 1 - 1e-5)
            scores.append(float(-2 * np.mean(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p))))
            sizes.append(len(test))
        return float(np.average(scores, weights=sizes))

start = time.perf_counter()
tuner = CVGridSearch(build, objective=kt.Objective("score", "min"), max_trials=10_000,
                     directory=args["tmp"], project_name="cv", overwrite=True)
tuner.search()
seconds = time.perf_counter() - start
table = {}
for trial in tuner.oracle.trials.values():
    v = trial.hyperparameters.values
    point = {"lambda": v["lambda"], "l1_ratio": v["l1_ratio"], "learning_rate": v["learning_rate"],
             "dropout": v["dropout"], "hidden": [v["units"]]}
    table[json.dumps(point)] = trial.score
best = min(table, key=table.get)
print(json.dumps({"s": seconds, "best": json.loads(best), "cv": table[best], "table": table,
                  "trials": len(table)}))
"""

SCIKERAS = COMMON + """
import keras
from scikeras.wrappers import KerasClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
space = args["space"]

def build(units, lam, ratio, dropout, learning_rate):
    penalty = keras.regularizers.L1L2(l1=lam * ratio, l2=lam * (1 - ratio) / 2)
    model = keras.Sequential([keras.Input((X.shape[1],)),
                              keras.layers.Dense(units, activation="relu", kernel_regularizer=penalty),
                              keras.layers.Dropout(dropout),
                              keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=penalty)])
    model.compile(keras.optimizers.Adam(learning_rate), "binary_crossentropy")
    return model

clf = KerasClassifier(model=build, model__units=16, model__lam=1e-3, model__ratio=0.5, model__dropout=0.0,
                      model__learning_rate=1e-3, epochs=args["epochs"], batch_size=32, verbose=0)
grid = {"kerasclassifier__model__units": [h[0] for h in space["hidden"]],
        "kerasclassifier__model__lam": space["lambda"], "kerasclassifier__model__ratio": space["l1_ratio"],
        "kerasclassifier__model__dropout": space["dropout"],
        "kerasclassifier__model__learning_rate": space["learning_rate"]}
start = time.perf_counter()
found = GridSearchCV(make_pipeline(StandardScaler(), clf), grid, cv=folds, scoring="neg_log_loss",
                     n_jobs=2, refit=False).fit(X, y)
seconds = time.perf_counter() - start
table = {}
for params, score in zip(found.cv_results_["params"], found.cv_results_["mean_test_score"]):
    p = {k.rsplit("__", 1)[1]: v for k, v in params.items()}
    point = {"lambda": p["lam"], "l1_ratio": p["ratio"], "learning_rate": p["learning_rate"],
             "dropout": p["dropout"], "hidden": [p["units"]]}
    table[json.dumps(point)] = float(-2 * score)  # the deviance: twice the log loss
best = min(table, key=table.get)
print(json.dumps({"s": seconds, "best": json.loads(best), "cv": table[best], "table": table,
                  "trials": len(table)}))
"""

def _key(point):
    return json.dumps({k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in point.items()})


def _paired(ours, tuner, grid):
    """Mean CV deviance over the configurations on each side, and paired differences (mean +- SE)."""
    import numpy as np

    keys = sorted(set(ours) & set(tuner) & set(grid))
    a, b, c = (np.array([table[k] for k in keys]) for table in (ours, tuner, grid))

    def diff(u, v):
        d = u - v
        return f"{d.mean():+.4f} +- {d.std(ddof=1) / np.sqrt(len(d)):.4f}"

    return {"ours": a.mean(), "tuner": b.mean(), "grid": c.mean(), "ours_tuner": diff(a, b),
            "grid_tuner": diff(c, b)}


def _run(code, args, python=sys.executable):
    return child(code, json.dumps(args), python=python)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--dataset", default="breast_cancer")
    parser.add_argument("--tuner-python", default=sys.executable,
                        help="A Python with keras-tuner installed.")
    parser.add_argument("--out")
    options = parser.parse_args()
    import tempfile

    n = len(list(itertools.product(*SPACE.values())))
    with tempfile.TemporaryDirectory() as tmp:
        args = {"dataset": options.dataset, "epochs": options.epochs, "space": SPACE, "tmp": tmp}
        ours = _run(KERASNET, args)
        theirs = _run(TUNER, args, options.tuner_python)
        grid = _run(SCIKERAS, args, options.tuner_python)
        early = _run(KERASNET, dict(args, early=True))
    ours_table = {_key(json.loads(k)): v for k, v in ours["table"].items()}
    cross_ours = theirs["table"].get(_key(ours["best"]), float("nan"))
    cross_theirs = ours_table.get(_key(theirs["best"]), float("nan"))
    cross_grid = ours_table.get(_key(grid["best"]), float("nan"))
    paired = _paired(ours_table, theirs["table"], grid["table"])
    lines = [
        f"# kerasnet.search vs KerasTuner GridSearch + 5-fold loop ({options.dataset})", "", machine(), "",
        f"{n} configurations x 5 folds, {options.epochs} epochs, batch 32, no early stopping.", "",
        "| side | wall time (s) | best configuration | its CV deviance | best scored by the other side |",
        "| --- | ---: | --- | ---: | ---: |",
        f"| kerasnet.search | {ours['s']:.1f} | {_key(ours['best'])} | {ours['cv']:.4f} | {cross_ours:.4f} |",
        f"| KerasTuner + CV loop | {theirs['s']:.1f} | {_key(theirs['best'])} | {theirs['cv']:.4f} | "
        f"{cross_theirs:.4f} |",
        f"| GridSearchCV(n_jobs=2) over scikeras | {grid['s']:.1f} | {_key(grid['best'])} | "
        f"{grid['cv']:.4f} | {cross_grid:.4f} |", "",
        f"Speed-up: {theirs['s'] / ours['s']:.1f}x over KerasTuner + CV loop ({theirs['trials']} trials), "
        f"{grid['s'] / ours['s']:.1f}x over GridSearchCV + scikeras ({grid['trials']} candidates).", "",
        "The last column scores each side's best configuration in kerasnet's table (for kerasnet: in "
        "KerasTuner's): how good the choice is on the other side's training runs.", "",
        "Every configuration on every side (the 48 CV deviances of each table; a paired difference is "
        "the same configuration's CV deviance on two sides, mean +- SE over the configurations):", "",
        "| | kerasnet.search | KerasTuner + CV loop | GridSearchCV + scikeras |",
        "| --- | ---: | ---: | ---: |",
        f"| mean CV deviance over the configurations | {paired['ours']:.4f} | {paired['tuner']:.4f} | "
        f"{paired['grid']:.4f} |",
        f"| paired difference with KerasTuner's | {paired['ours_tuner']} | 0 | {paired['grid_tuner']} |", "",
        "KerasTuner and scikeras train the same Keras recipe; their paired difference is the noise between "
        "two equivalent runs of it.", "",
        f"kerasnet.search with its defaults (cross-fit early stopping, dominated points stopped, no "
        f"epoch count given): {early['s']:.1f} s, best {_key(early['best'])}, CV deviance {early['cv']:.4f}.",
        "", "The nested CV estimate against held-out rows: benchmarks/search_nested.py.", "",
        f"Command: `python benchmarks/search.py --epochs {options.epochs} --dataset {options.dataset} "
        "--tuner-python PYTHON_WITH_KERAS_TUNER_AND_SCIKERAS`"]
    publish(lines, options.out)


if __name__ == "__main__":
    main()
