"""The default path on the bundled datasets: null strengths at the top of the grid, Df, best CV.

Run one dataset per process (each writes a JSON record), then print the table::

    python benchmarks/default_path.py run breast_cancer --label new --out results/
    python benchmarks/default_path.py run breast_cancer --label old --proximal off --out results/
    python benchmarks/default_path.py table results/*.json

``run`` calls :func:`kerasnet.fit_path` with its defaults (``seed=0``, ``verbose=0``) on the whole
dataset: breast cancer (binary), diabetes (regression), wine and digits (multiclass; digits with
``--n-lambdas``, e.g. 16, to save time) from scikit-learn's loaders, rossi (Cox) from
:func:`kerasnet.data.load_survival_dataset`. ``--proximal on|off`` passes it explicitly (the
default leaves it out, so an older kerasnet's default is measured by running this script against
its sources). ``--lambdas`` replaces the grid (the wide-grid check).

The table's columns: null strengths at the top (leading strengths whose CV mean is within 1e-3,
relative, of the first strength's: the intercept-only model's fit), the null model's CV mean on
the same folds and the leading strengths no better than it (within 1e-3, relative), Df
(features with a nonzero first-layer row of the refit) at rows 1 and 2 and at ``lambda_min`` /
``lambda_1se`` (with their row numbers), the best CV mean +- its SE, and the wall time of the
whole ``fit_path`` call.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

DATASETS = ("breast_cancer", "diabetes", "wine", "digits", "rossi")


def load(name):
    """``(X, y, task)`` of a bundled dataset."""
    if name == "rossi":
        from kerasnet.data import load_survival_dataset

        X, y = load_survival_dataset("rossi")
        return X, y, "cox"
    from sklearn import datasets

    loader, task = {"breast_cancer": (datasets.load_breast_cancer, "binary"),
                    "diabetes": (datasets.load_diabetes, "regression"),
                    "wine": (datasets.load_wine, "multiclass"),
                    "digits": (datasets.load_digits, "multiclass")}[name]
    X, y = loader(return_X_y=True)
    return X, y, task


def null_top(mean, rel=1e-3):
    """Leading strengths whose CV mean is within ``rel`` (relative) of the first strength's."""
    mean = np.asarray(mean, float)
    same = np.abs(mean - mean[0]) <= rel * max(abs(mean[0]), 1e-12)
    return int(np.argmin(same)) if not same.all() else len(mean)


def null_rows(mean, null, greater_is_better, rel=1e-3):
    """Leading strengths whose CV mean is no better than the null model's (``null``, on the same
    folds) by more than ``rel`` (relative): the strengths that give the null model."""
    mean = np.asarray(mean, float)
    sign = -1.0 if greater_is_better else 1.0
    same = sign * (mean - null) >= -rel * abs(null)
    return int(np.argmin(same)) if not same.all() else len(mean)


def _time_probe():
    """Time the grid's probe (where the network empties) inside fit_path, where there is one."""
    timing = {}
    try:
        from kerasnet.path import grid_ends
    except ImportError:  # a kerasnet without the probe
        return timing
    probed = grid_ends.probed_lambdas

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return probed(*args, **kwargs)
        finally:
            timing["seconds"] = timing.get("seconds", 0.0) + time.perf_counter() - start

    grid_ends.probed_lambdas = timed
    return timing


def run(args):
    import kerasnet  # noqa: F401  (chooses the Keras backend)
    from kerasnet import fit_path

    X, y, task = load(args.dataset)
    kwargs = {"seed": args.seed, "verbose": 0, "task": task}
    for name in ("n_lambdas", "epochs", "l1_ratio"):
        if getattr(args, name) is not None:
            kwargs[name] = getattr(args, name)
    if args.hidden is not None:
        kwargs["hidden"] = tuple(int(h) for h in args.hidden.split(",") if h)
    if args.proximal != "default":
        kwargs["proximal"] = args.proximal == "on"
    if args.lambdas:
        kwargs["lambdas"] = np.geomspace(*[float(v) for v in args.lambdas.split(":")[:2]],
                                         int(args.lambdas.split(":")[2]))
    probe = _time_probe()
    start = time.perf_counter()
    path = fit_path(X, y, **kwargs)
    wall = time.perf_counter() - start
    mean, se, df = path.cv_mean_, path.cv_se_, path.n_features_selected_
    record = {
        "dataset": args.dataset, "label": args.label, "task": task, "measure": path.measure,
        "settings": {k: (list(v) if isinstance(v, (tuple, np.ndarray)) else v) for k, v in kwargs.items()
                     if k != "lambdas"} | ({"lambdas": args.lambdas} if args.lambdas else {}),
        "proximal": bool(path.proximal), "n_lambdas": len(path.lambdas_),
        "lambdas": path.lambdas_.tolist(), "cv_mean": mean.tolist(), "cv_se": se.tolist(),
        "df": df.tolist(), "index_min": int(path.index_min_), "index_1se": int(path.index_1se_),
        "null_top": null_top(mean), "wall_s": wall,
        "null_model": None if getattr(path, "baselines_", None) is None else path.baselines_.null_mean,
        "null_rows": None if getattr(path, "baselines_", None) is None else null_rows(
            mean, path.baselines_.null_mean, path.greater_is_better), "probe_s": probe.get("seconds"),
        "cv_accuracy": (1 - path.cv_summary("class")[0]).tolist() if "class" in path.cv_measures_ else None,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"{args.dataset}-{args.label}.json"), "w") as f:
        json.dump(record, f)
    print(json.dumps({k: record[k] for k in ("dataset", "label", "null_top", "index_min", "wall_s")}))


def table(args):
    records = []
    for file in args.files:
        with open(file) as f:
            records.append(json.load(f))
    order = {name: i for i, name in enumerate(DATASETS)}
    records.sort(key=lambda r: (order.get(r["dataset"], 99), r["label"]))
    print("| dataset | run | proximal | strengths | null at top | null model's CV: value, rows | Df row 1, 2 "
          "| lambda_min: row, Df | lambda_1se: row, Df | best CV measure +- SE | best CV accuracy | wall (s) "
          "| probe (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in records:
        i, j, df = r["index_min"], r["index_1se"], r["df"]
        accuracy = f"{max(r['cv_accuracy']):.3f}" if r.get("cv_accuracy") else ""
        probe = "" if r.get("probe_s") is None else f"{r['probe_s']:.0f}"
        null = "" if r.get("null_model") is None else f"{r['null_model']:.4g}, {r['null_rows']}"
        print(f"| {r['dataset']} | {r['label']} | {'on' if r['proximal'] else 'off'} | {r['n_lambdas']} "
              f"| {r['null_top']} | {null} | {df[0]}, {df[1]} | {i + 1}, {df[i]} | {j + 1}, {df[j]} "
              f"| {r['measure']} {r['cv_mean'][i]:.4g} +- {r['cv_se'][i]:.2g} | {accuracy} "
              f"| {r['wall_s']:.0f} | {probe} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="fit one dataset's default path and write its JSON record")
    one.add_argument("dataset", choices=DATASETS)
    one.add_argument("--label", default="new", help="name of this run in the table (old, new ...)")
    one.add_argument("--out", default="default-path-runs", help="folder for the JSON record")
    one.add_argument("--seed", type=int, default=0)
    one.add_argument("--proximal", choices=("default", "on", "off"), default="default")
    one.add_argument("--n-lambdas", type=int, help="strengths (default: fit_path's)")
    one.add_argument("--epochs", type=int, help="epochs (default: fit_path's)")
    one.add_argument("--l1-ratio", type=float, help="l1_ratio (default: fit_path's)")
    one.add_argument("--hidden", help="hidden layers, e.g. 32 or 64,64 (default: fit_path's)")
    one.add_argument("--lambdas", help="a manual grid TOP:BOTTOM:COUNT (np.geomspace)")
    both = sub.add_parser("table", help="print the Markdown table of JSON records")
    both.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args)
    else:
        table(args)
        print(f"\n{platform.platform()}, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
