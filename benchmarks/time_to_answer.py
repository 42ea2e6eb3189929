"""Time to an answer and its held-out score: kerasnet's default path against the peers a user weighs.

Run from a clone, in a throwaway benchmark venv (LightGBM is never one of kerasnet's
dependencies; the venv sees the project's own packages through a ``.pth`` file):

    python3 -m venv .benchvenv
    echo "import site; site.addsitedir('$PWD/.venv/lib/python3.11/site-packages')" \\
        > .benchvenv/lib/python3.11/site-packages/mainvenv.pth
    .benchvenv/bin/pip install lightgbm
    .benchvenv/bin/python benchmarks/time_to_answer.py --out benchmarks/results/time_to_answer.md
    .benchvenv/bin/python benchmarks/time_to_answer.py --baseline 31bfc07 --seed 0 --methods kerasnet

(``.benchvenv/`` is git-ignored; ``rm -rf .benchvenv`` removes it and everything LightGBM brought.)

Options pick subsets: ``--sizes 1000,10000 --tasks binary,regression --datasets breast_cancer,diabetes
--methods kerasnet,mlp,lightgbm,linear`` (``--datasets none``: generated tables only), ``--limit``
seconds per method run (default 1800), ``--baseline REF`` to run kerasnet from an older commit's
``src`` as well (``git archive``, as the other A/B benchmarks do), ``--seed S`` to pass ``seed=S``
to ``fit_path`` (without it the path is called with no arguments at all, so the old and new sides'
strengths can differ by the random folds alone), ``--out FILE`` for the markdown report, ``--json
FILE`` for every run's numbers, ``--repeat N`` for N runs of each method (kerasnet: N warm runs
after the cold one; 0: the cold run alone, for tables where compiling is a sliver of the time), of
which the fastest is reported (a busy machine only ever slows a run;
every run's seconds are in the JSON), ``--note TEXT`` for a line of context in the report's header.
Without LightGBM installed its rows say so.

Tables: generated binary (``make_classification``, 20 features, 8 informative, 4 redundant, two
clusters per class, 5% flipped labels) and regression (``make_friedman1``: 5 informative features,
15 of noise) at each size, seed 0, and the bundled datasets (scikit-learn's files, the numbers
``kerasnet --dataset`` reads). 25% of the rows are held out (stratified for classification), the
same rows for every method; every method sees only the other 75%.

Methods, each in a fresh Python process (the clock starts before its imports, so importing
and compiling count as a user sees them; ``process s`` is the whole subprocess, interpreter
start included):

- ``kerasnet``: ``kerasnet.fit_path(X, y)``, then ``path.model("1se")``, the strength the path
  recommends (glmnet's ``lambda.1se``, the default of ``Path.model`` and ``Path.predict``). It runs
  twice on an empty XLA cache folder of its own per table (``KERASNET_XLA_CACHE``): the first
  process is *cold* (compiles and fills the cache), the second is *warm*, the number compared.
  With ``--shared-cache`` each side keeps one cache folder for the whole run, so a table's cold
  run may reuse programs compiled for the tables before it (what padding shapes to buckets is
  meant to bring: a new table that does not compile again).
- ``mlp``: scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` (hidden (64, 64), ``StandardScaler``
  in a ``Pipeline``; for regression inside ``TransformedTargetRegressor`` with a ``StandardScaler``
  on ``y``, as kerasnet standardizes the target) in ``GridSearchCV(cv=5, n_jobs=2)`` over
  ``N_LAMBDAS`` values of ``alpha`` (``geomspace(1e-5, 10)``), scored by log loss / MSE (the
  path's deviance), refit on the best.
- ``lightgbm``: ``LGBMClassifier`` / ``LGBMRegressor`` with default parameters (``verbose=-1``
  only silences it): ``cross_validate(cv=5)`` plus the final fit on all training rows.
- ``linear``: ``StandardScaler`` + ``LogisticRegressionCV(cv=5)`` (classification) or
  ``ElasticNetCV(l1_ratio=0.5, cv=5)`` (regression), defaults otherwise.

A run over ``--limit`` seconds is killed and reported as ``> limit``: a bound, not a measure. The
table gives the seconds (warm, and cold for kerasnet), the held-out log loss and accuracy
(classification) or R^2 and MSE (regression), and each method's time over kerasnet's warm time;
the goals of the time-to-answer issue follow it (>= 10x faster than the MLP grid at every size,
at most 3x LightGBM's 5-fold CV + fit at 10^3-10^4 rows; with ``--baseline``, new over old wall
time and whether ``lambda_min`` / ``lambda_1se`` agree).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")  # kerasnet's default; set before keras is imported
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _ab  # noqa: E402  (the benchmarks folder, whatever the working directory)

METHODS = ("kerasnet", "mlp", "lightgbm", "linear")
DATASETS = {"breast_cancer": "binary", "diabetes": "regression", "wine": "multiclass",
            "digits": "multiclass", "iris": "multiclass"}
ALPHAS = (1e-5, 10.0)  # the MLP grid's ends


# --------------------------------------------------------------------------- child processes


def _score(task, y, out, classes):
    """Held-out numbers: log loss and accuracy from class probabilities, or R^2 and MSE."""
    import numpy as np
    from sklearn import metrics

    out = np.asarray(out, dtype=float)
    if task == "regression":
        out = out.reshape(len(y))
        return {"r2": metrics.r2_score(y, out), "mse": metrics.mean_squared_error(y, out)}
    if out.ndim == 1 or out.shape[1] == 1:  # one sigmoid output: P(classes[1])
        out = np.column_stack([1.0 - out.reshape(-1), out.reshape(-1)])
    classes = np.asarray(classes)
    return {"log_loss": metrics.log_loss(y, out, labels=classes),
            "accuracy": metrics.accuracy_score(y, classes[out.argmax(axis=1)])}


def _kerasnet(d, task, args):
    import kerasnet

    path = kerasnet.fit_path(d["X_train"], d["y_train"], **({} if args.seed is None else {"seed": args.seed}))
    model = path.model("1se")  # the path's recommendation, Path.model's and Path.predict's default
    answer = time.perf_counter()
    extra = {"lambda_min": path.lambda_min_, "lambda_1se": path.lambda_1se_, "index_min": path.index_min_,
             "index_1se": path.index_1se_, "task": path.task, "source": os.path.dirname(kerasnet.__file__)}
    return answer, model.predict(d["X_test"], verbose=0), getattr(path, "classes_", None), extra


def _mlp(d, task, args):
    import numpy as np
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.model_selection import GridSearchCV
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    kind = MLPRegressor if task == "regression" else MLPClassifier
    net = kind(hidden_layer_sizes=(64, 64), random_state=0)
    estimator = Pipeline([("scale", StandardScaler()), ("mlp", net)])
    key = "mlp__alpha"
    if task == "regression":
        estimator = TransformedTargetRegressor(estimator, transformer=StandardScaler())
        key = "regressor__" + key
    scoring = "neg_mean_squared_error" if task == "regression" else "neg_log_loss"
    search = GridSearchCV(estimator, {key: np.geomspace(*ALPHAS, args.n_strengths)}, cv=5, n_jobs=2,
                          scoring=scoring).fit(d["X_train"], d["y_train"])
    answer = time.perf_counter()
    out = search.predict(d["X_test"]) if task == "regression" else search.predict_proba(d["X_test"])
    return answer, out, getattr(search, "classes_", None), {"alpha": float(search.best_params_[key])}


def _lightgbm(d, task, args):
    import lightgbm
    from sklearn.model_selection import cross_validate

    model = (lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier)(verbose=-1)
    scoring = "neg_mean_squared_error" if task == "regression" else "neg_log_loss"
    start = time.perf_counter()
    cross_validate(model, d["X_train"], d["y_train"], cv=5, scoring=scoring)
    cv_done = time.perf_counter()
    model.fit(d["X_train"], d["y_train"])
    answer = time.perf_counter()
    out = model.predict(d["X_test"]) if task == "regression" else model.predict_proba(d["X_test"])
    return answer, out, getattr(model, "classes_", None), {"cv_s": cv_done - start, "fit_s": answer - cv_done}


def _linear(d, task, args):
    from sklearn.linear_model import ElasticNetCV, LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = ElasticNetCV(l1_ratio=0.5, cv=5) if task == "regression" else LogisticRegressionCV(cv=5)
    fitted = make_pipeline(StandardScaler(), model).fit(d["X_train"], d["y_train"])
    answer = time.perf_counter()
    out = fitted.predict(d["X_test"]) if task == "regression" else fitted.predict_proba(d["X_test"])
    chosen = {"alpha": float(model.alpha_)} if task == "regression" else {"C": [float(c) for c in model.C_]}
    return answer, out, getattr(fitted, "classes_", None), chosen


def child(args):
    """One method on one table in this process: print a JSON line with its seconds and scores."""
    start = time.perf_counter()
    import warnings

    import numpy as np

    warnings.filterwarnings("ignore")  # convergence chatter of the peers; the scores tell
    d = np.load(args.data, allow_pickle=False)
    task = str(d["task"])
    answer, out, classes, extra = {"kerasnet": _kerasnet, "mlp": _mlp, "lightgbm": _lightgbm,
                                   "linear": _linear}[args.child](d, task, args)
    print(json.dumps({"seconds": answer - start, **_score(task, d["y_test"], out, classes), **extra},
                     default=float))


# --------------------------------------------------------------------------- tables


def tables(args):
    """``[(name, task, X, y)]``: the generated tables, then the bundled datasets."""
    from sklearn import datasets

    out = []
    for task in args.tasks:
        for n in args.sizes:
            if task == "binary":
                X, y = datasets.make_classification(n, 20, n_informative=8, n_redundant=4, flip_y=0.05,
                                                    random_state=0)
            else:
                X, y = datasets.make_friedman1(n, 20, noise=1.0, random_state=0)
            out.append((f"{task} {n:.0e}".replace("e+0", "e"), task, X, y))
    for name in args.datasets:
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        out.append((name, DATASETS[name], X, y))
    return out


def save_split(folder, name, task, X, y):
    """The 75/25 split (stratified for classification, seed 0) as an ``.npz`` every method reads."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    strata = None if task == "regression" else y
    parts = train_test_split(X, y, test_size=0.25, random_state=0, stratify=strata)
    file = os.path.join(folder, name.replace(" ", "_") + ".npz")
    np.savez(file, X_train=parts[0], X_test=parts[1], y_train=parts[2], y_test=parts[3], task=task)
    return file


# --------------------------------------------------------------------------- parent


def run_child(method, file, args, src, cache=None):
    """``method`` on ``file`` in a fresh process, killed past ``args.limit``: its JSON plus ``process_s``."""
    env = {**os.environ, "PYTHONPATH": src}
    if cache is not None:
        env["KERASNET_XLA_CACHE"] = cache
    command = [sys.executable, os.path.abspath(__file__), "--child", method, "--data", file,
               "--n-strengths", str(args.n_strengths)]
    command += [] if args.seed is None else ["--seed", str(args.seed)]
    start = time.perf_counter()
    # A session of its own, so that a kill past the limit also ends GridSearchCV's worker processes.
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=args.limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"status": "limit", "process_s": time.perf_counter() - start}
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        last = (stderr.strip().splitlines() or ["?"])[-1]
        return {"status": f"failed: {last[:120]}", "process_s": wall}
    return {"status": "ok", "process_s": wall, **json.loads(stdout.strip().splitlines()[-1])}


def fastest(runs):
    """The fastest completed run of a method (a busy machine only slows), with every run's seconds;
    the last run when none completed."""
    done = [r for r in runs if r["status"] == "ok"]
    best = dict(min(done, key=lambda r: r["seconds"]) if done else runs[-1])
    best["runs_s"] = [r.get("seconds") for r in runs]
    return best


def repeated(method, file, args, src):
    """``args.repeat`` runs of a peer, stopping at the first that fails or passes the limit."""
    runs = []
    while len(runs) < max(args.repeat, 1) and (not runs or runs[-1]["status"] == "ok"):
        runs.append(run_child(method, file, args, src))
    return fastest(runs)


def run_table(name, file, args, srcs, folder):
    """Every method on one table: kerasnet's sides cold, then warm (alternating), then the peers."""
    rows = []
    sides = [s for s in ("old", "new") if s in srcs] if "kerasnet" in args.methods else []
    scope = "" if args.shared_cache else "-" + name.replace(" ", "_")
    caches = {s: os.path.join(folder, f"xla-{s}{scope}") for s in sides}
    cold = {s: run_child("kerasnet", file, args, srcs[s], caches[s]) for s in sides}
    warm = {s: [] for s in sides}
    for _ in range(args.repeat):
        for side in sides:
            if cold[side]["status"] == "ok" and all(r["status"] == "ok" for r in warm[side]):
                warm[side].append(run_child("kerasnet", file, args, srcs[side], caches[side]))
    for side in sides:
        best = fastest(warm[side] or [cold[side]])
        rows.append({**best, "method": "kerasnet" if side == "new" else f"kerasnet {args.baseline}",
                     "side": side, "cold_s": cold[side].get("seconds"), "cold_status": cold[side]["status"]})
    for method in args.methods:
        if method == "lightgbm" and not has_lightgbm():
            rows.append({"method": method, "status": "not installed"})
        elif method != "kerasnet":
            rows.append({**repeated(method, file, args, srcs["new"]), "method": method})
    for row in rows:
        row["table"] = name
        print(json.dumps(row, default=float), flush=True)
    return rows


def has_lightgbm():
    import importlib.util

    return importlib.util.find_spec("lightgbm") is not None


def machine():
    """_ab's machine line with the peers' versions."""
    import sklearn

    line = _ab.machine()
    lgbm = "not installed"
    if has_lightgbm():
        import lightgbm

        lgbm = lightgbm.__version__
    return f"{line}, scikit-learn {sklearn.__version__}, LightGBM {lgbm}"


# --------------------------------------------------------------------------- the report


def seconds(row, key, limit):
    if row.get("status") == "limit":
        return f"> {limit:.0f}"
    value = row.get(key)
    return "" if value is None else f"{value:.1f}"


def held_out(row):
    if "r2" in row:
        return f"R^2 {row['r2']:.3f}, MSE {row['mse']:.4g}"
    if "log_loss" in row:
        return f"log loss {row['log_loss']:.3f}, acc {row['accuracy']:.3f}"
    return {"limit": "killed at the limit", "ok": ""}.get(row.get("status"), row.get("status", ""))


def ratio(row, reference, limit):
    """``row``'s time over kerasnet's warm time; past the limit a lower bound."""
    if reference is None or reference.get("status") != "ok":
        return ""
    if row.get("status") == "limit":
        return f"> {limit / reference['seconds']:.1f}x"
    return f"{row['seconds'] / reference['seconds']:.2f}x" if row.get("status") == "ok" else ""


def goals(table, rows, limit):
    """The issue's goals on one table, as text lines."""
    by = {r["method"]: r for r in rows}
    new, lines = by.get("kerasnet"), []
    if new is None or new.get("status") != "ok":
        return lines
    mlp, lgbm = by.get("mlp"), by.get("lightgbm")
    if mlp is not None and mlp.get("status") in ("ok", "limit"):
        lines.append(f"MLP grid / kerasnet {ratio(mlp, new, limit)} (goal >= 10x)")
    if lgbm is not None and lgbm.get("status") == "ok":
        goal = "goal <= 3x" if rows[0]["rows"] <= 10_000 else "no goal above 10^4 rows"
        lines.append(f"kerasnet / LightGBM CV+fit {new['seconds'] / lgbm['seconds']:.2f}x ({goal})")
    old = next((r for r in rows if r.get("side") == "old"), None)
    if old is not None and old.get("status") == "ok":
        same = {k: "same" if abs(new[k] - old[k]) <= 1e-6 * abs(old[k]) else f"{old[k]:.4g} -> {new[k]:.4g}"
                for k in ("lambda_min", "lambda_1se")}
        lines.append(f"new / old warm {new['seconds'] / old['seconds']:.2f}x; "
                     f"lambda_min {same['lambda_min']}, "
                     f"lambda_1se {same['lambda_1se']}; held-out old {held_out(old)}, new {held_out(new)}")
    return [f"- {table}: {line}" for line in lines]


def chosen(row):
    """The strength (or ``C``) each method chose, for the table."""
    if "lambda_1se" in row:
        return f"lambda_1se {row['lambda_1se']:.3g}"
    if "alpha" in row:
        return f"alpha {row['alpha']:.3g}"
    if "C" in row:
        return "C " + "/".join(f"{c:.3g}" for c in sorted(set(row["C"])))
    if "cv_s" in row:
        return f"CV {row['cv_s']:.1f} s + fit {row['fit_s']:.1f} s"
    return ""


def report(results, args, header):
    """The markdown: header lines, the table, the goals."""
    out = [*header, "",
           "| method | table | rows x features | warm s | cold s | process s | held-out | chosen "
           "| time / kerasnet |",
           "| --- | --- | --- | ---: | ---: | ---: | --- | --- | ---: |"]
    goal_lines = []
    for table, rows in results:
        reference = next((r for r in rows if r["method"] == "kerasnet"), None)
        for r in rows:
            cold = ""
            if "cold_status" in r:
                limited = r["cold_status"] == "limit"
                cold = f"> {args.limit:.0f}" if limited else seconds(r, "cold_s", args.limit)
            warm, process = seconds(r, "seconds", args.limit), seconds(r, "process_s", args.limit)
            out.append(f"| {r['method']} | {table} | {r['rows']} x {r['features']} | {warm} | {cold} "
                       f"| {process} | "
                       f"{held_out(r)} | {chosen(r)} | {ratio(r, reference, args.limit)} |")
        goal_lines += goals(table, rows, args.limit)
    goal_lines = goal_lines or ["- (none: they need kerasnet beside the MLP grid, LightGBM or --baseline)"]
    return "\n".join(out + ["", "Goals of the time-to-answer issue:", ""] + goal_lines) + "\n"


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    listed = lambda kind: (lambda text: [] if text == "none" else [kind(v) for v in text.split(",")])  # noqa: E731
    parser.add_argument("--sizes", type=listed(lambda v: int(float(v))), default=[1_000, 10_000, 100_000],
                        help="rows of the generated tables (comma-separated; 'none': no generated tables)")
    parser.add_argument("--tasks", type=listed(str), default=["binary", "regression"])
    parser.add_argument("--datasets", type=listed(str), default=list(DATASETS),
                        help=f"bundled datasets among {', '.join(DATASETS)} ('none': none)")
    parser.add_argument("--methods", type=listed(str), default=list(METHODS), help=", ".join(METHODS))
    parser.add_argument("--limit", type=float, default=1800.0,
                        help="seconds a method's run may take before it is killed")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each method (kerasnet: warm runs), the fastest reported; 0: kerasnet "
                             "runs cold only (its 'warm s' is the cold run), the peers once")
    parser.add_argument("--shared-cache", action="store_true",
                        help="one XLA cache folder per kerasnet side for the whole run, not one per table")
    parser.add_argument("--baseline", help="git commit whose src also runs as kerasnet's old side")
    parser.add_argument("--seed", type=int, help="pass seed= to fit_path (default: no arguments)")
    parser.add_argument("--out", help="markdown file to write the report to")
    parser.add_argument("--json", help="file to write every run's numbers to, as JSON")
    parser.add_argument("--note", action="append", default=[], help="a line for the report's header")
    parser.add_argument("--child", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--n-strengths", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    choices = (("--tasks", args.tasks, ("binary", "regression")), ("--datasets", args.datasets, DATASETS),
               ("--methods", args.methods, METHODS))
    for option, given, allowed in choices:
        wrong = [v for v in given if v not in allowed]
        if wrong:
            parser.error(f"{option}: {', '.join(wrong)} not among {', '.join(allowed)}")
    return args


def main(argv=None):
    args = parse(argv)
    if args.child:
        return child(args)
    src = os.path.join(_ab.ROOT, "src")
    sys.path.insert(0, src)
    from kerasnet.path import defaults

    args.n_strengths = defaults.N_LAMBDAS
    header = ["# Time to an answer: kerasnet's default path and its peers", "",
              "`" + shlex.join(["python", os.path.relpath(__file__, _ab.ROOT), *sys.argv[1:]]) + "`", "",
              machine() + " (at the start)", "", *args.note]
    results = []
    baseline = _ab.sides(args.baseline) if args.baseline else contextlib.nullcontext({})
    with tempfile.TemporaryDirectory() as folder, baseline as paths:
        srcs = {"new": src, **({"old": paths["old"]} if paths else {})}
        for name, task, X, y in tables(args):
            file = save_split(folder, name, task, X, y)
            rows = run_table(name, file, args, srcs, folder)
            for r in rows:
                r["rows"], r["features"] = X.shape
            results.append((name, rows))
    header += ["", f"load average at the end {os.getloadavg()[0]:.1f}; MLP grid: {args.n_strengths} alphas "
               f"in geomspace{ALPHAS}; time / kerasnet: over kerasnet's warm seconds on the same table; "
               + (f"each method's fastest of {args.repeat} run(s) (kerasnet: warm runs after one cold run); "
                if args.repeat else "kerasnet: one cold run each (its 'warm s' is that run), the peers one; ")
               + "XLA cache folder: " + ("one per side" if args.shared_cache else "a new one per table")]
    text = report(results, args, header)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([row for _, rows in results for row in rows], fh, indent=1, default=float)


if __name__ == "__main__":
    sys.exit(main())
