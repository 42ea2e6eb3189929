"""The row-count rules for batch size, patience and epoch cap against the fixed sizes they replace.

One generated table (75% training rows, 25% held out, seed 0; the tables of
``benchmarks/time_to_answer.py``) and, for each configuration, ``fit_path(X, y, seed=0)`` in a
fresh process, one after another:

- ``fixed``: the sizes before the rules: batch 32, patience 10, at most 400 epochs (the epoch
  cap's step budget is lifted so that ``epochs=None`` gives the 400 it gave);
- ``rules``: the defaults (``batch_size=None``, ``patience=None``, ``epochs=None``:
  :mod:`kerasnet.path.defaults`);
- ``batch-128``: the rules with a batch of 128 (what a rule keeping an epoch at 512-1,023 steps
  would choose at 10^5 rows);
- ``patience-5``: the rules with a patience of 5 epochs.

Reported per configuration: wall time of ``fit_path`` (imports and compilation included, on an
empty XLA cache: at 10^5 rows compiling is a few percent), its ratio to ``fixed``, the sizes
used, the longest CV member's kept epoch, ``lambda_min`` / ``lambda_1se`` (grid indices), the CV
deviance at the minimum with its standard error, whether ``fixed``'s two strengths lie within
one standard error of this configuration's minimum on its own curve, and the held-out log loss
(binary) or MSE (regression) of ``path.model("1se")``.

    python benchmarks/size_rules.py --rows 100000 --task binary [--configs fixed,rules] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import _ab

os.environ.setdefault("KERAS_BACKEND", "jax")

CONFIGS = {"fixed": {"batch_size": 32, "patience": 10}, "rules": {}, "batch-128": {"batch_size": 128},
           "patience-5": {"patience": 5}}


def table(rows, task):
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    if task == "binary":
        X, y = datasets.make_classification(rows, 20, n_informative=8, n_redundant=4, flip_y=0.05,
                                            random_state=0)
    else:
        X, y = datasets.make_friedman1(rows, 20, noise=1.0, random_state=0)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y if task == "binary" else None)


def one(rows, task, config):
    """Fit one configuration in this process; print its JSON line."""
    start = time.perf_counter()
    import numpy as np

    import kerasnet
    from kerasnet.path import defaults

    if config == "fixed":
        defaults.MAX_STEPS = 10**12  # epoch_budget then gives MAX_EPOCHS, the cap before the rules
    X_train, X_test, y_train, y_test = table(rows, task)
    path = kerasnet.fit_path(X_train, y_train, seed=0, verbose=0, **CONFIGS[config])
    seconds = time.perf_counter() - start
    out = path.model("1se").predict(X_test, batch_size=4096, verbose=0)[:, 0]
    if task == "binary":
        p = np.clip(out, 1e-7, 1 - 1e-7)
        held = float(-np.mean(y_test * np.log(p) + (1 - y_test) * np.log(1 - p)))
    else:
        held = float(np.mean((y_test - out) ** 2))
    print(json.dumps({"config": config, "seconds": seconds, "batch": path.batch_size_,
                      "patience": path.patience_, "max_epochs": path.max_epochs_,
                      "longest": int(path.best_epoch_.max()), "lambdas": path.lambdas_.tolist(),
                      "cv_mean": path.cv_mean_.tolist(), "cv_se": path.cv_se_.tolist(),
                      "index_min": int(path.index_min_), "index_1se": int(path.index_1se_),
                      "held_out": held}))


def within(row, lam):
    """Whether strength ``lam`` is on ``row``'s grid with a CV mean within one SE of its minimum."""
    import numpy as np

    lambdas = np.asarray(row["lambdas"])
    i = int(np.argmin(np.abs(np.log(lambdas / lam))))
    if not np.isclose(lambdas[i], lam, rtol=1e-3):
        return "off the grid"
    best = row["index_min"]
    return "yes" if row["cv_mean"][i] <= row["cv_mean"][best] + row["cv_se"][best] else "no"


def report(rows, args, load):
    fixed = next((r for r in rows if r["config"] == "fixed"), None)
    held = "held-out log loss" if args.task == "binary" else "held-out MSE"
    out = [f"`python benchmarks/size_rules.py --rows {args.rows} --task {args.task} "
           f"--configs {','.join(args.configs)}`", "",
           f"{_ab.machine()}; load average {load[0]:.1f} at the start, "
           f"{os.getloadavg()[0]:.1f} at the end", "",
           "| config | batch, patience, cap | seconds | / fixed | longest kept epoch | lambda_min (index) "
           "| lambda_1se (index) | CV deviance at min +- SE | fixed's min, 1se within 1 SE | " + held + " |",
           "| --- | --- | ---: | ---: | ---: | --- | --- | --- | --- | ---: |"]
    for r in rows:
        i = r["index_min"]
        ratio = f"{r['seconds'] / fixed['seconds']:.2f}x" if fixed else ""
        agree = ", ".join(within(r, fixed["lambdas"][fixed[k]]) for k in ("index_min", "index_1se")) \
            if fixed else ""
        out.append(f"| {r['config']} | {r['batch']}, {r['patience']}, {r['max_epochs']} | {r['seconds']:.0f} "
                   f"| {ratio} | {r['longest']} | {r['lambdas'][i]:.3g} ({i}) "
                   f"| {r['lambdas'][r['index_1se']]:.3g} ({r['index_1se']}) "
                   f"| {r['cv_mean'][i]:.4f} +- {r['cv_se'][i]:.4f} | {agree} | {r['held_out']:.4f} |")
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=lambda v: int(float(v)), default=100_000)
    parser.add_argument("--task", choices=["binary", "regression"], default="binary")
    parser.add_argument("--configs", type=lambda v: v.split(","), default=list(CONFIGS))
    parser.add_argument("--out", help="markdown file for the table")
    parser.add_argument("--json", help="file for every run's numbers")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        return one(args.rows, args.task, args.one)
    load, rows = os.getloadavg(), []
    for config in args.configs:
        with tempfile.TemporaryDirectory() as cache:  # an empty XLA cache: every side compiles
            env = {**os.environ, "KERASNET_XLA_CACHE": cache}
            done = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", config, "--rows",
                                   str(args.rows), "--task", args.task], env=env, capture_output=True,
                                  text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps({k: v for k, v in rows[-1].items() if not isinstance(v, list)}), flush=True)
    text = report(rows, args, load)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return None


if __name__ == "__main__":
    main()
