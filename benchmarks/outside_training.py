"""The time a warm ``fit_path`` spends outside training, at 10^6 rows.

Run from a clone: ``.venv/bin/python benchmarks/outside_training.py [--rows 1000000] [--tasks binary
regression]``

For each task one process generates ``--rows`` rows x 20 features, runs ``fit_path`` once (warm-up:
compilation, caches) and then times a second, identical call: 4 strengths, ``cv=3``, ``epochs=2``,
``hidden=(16,)``, ``baselines=False``, ``verbose=0``, batch ``--batch`` (large, so that training is
short next to the rest; what is measured outside training does not depend on it).

The second call's wall time is split by timers put around the module functions ``fit_path`` calls:

* ``training``: the ``fit_members`` calls (CV fits and refits), less the validation-outputs pass
  inside them (``engine.validation_outputs``, the inference pass the CV measures read);
* ``validation outputs``: that pass;
* ``CV measures``: ``measures.cross_validated``;
* ``one-pass statistics``: ``path_statistics`` (every row set's mean and sd, the null gradient);
* ``scaling``: ``member_scaling`` (each member's standardization from the statistics);
* ``deviance explained``: ``deviance_explained`` (an inference pass over all rows per refit);
* ``other``: the rest (folds, grid, progress, the result object).

Each part is reported as wall time and as the process's CPU time (all threads: less moved by
other work on a shared machine).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
FEATURES = 20


def data(n, task):
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, FEATURES)).astype("float32")
    signal = X[:, 0] * X[:, 1] + X[:, 2] - X[:, 3] + 0.5 * X[:, 4]
    if task == "binary":
        return X, (signal + rng.normal(size=n) > 0).astype(int)
    return X, (signal + rng.normal(size=n)).astype("float32")


def timed(modules, name, totals, cpu, key=None):
    """Wrap ``module.name`` (the first of ``modules`` that has it: the code before and after the
    typed plan call these functions from different modules) so that its calls add their wall time
    to ``totals[key or name]`` and the process's CPU time (all threads) to ``cpu[key or name]``."""
    import importlib

    for candidate in modules:
        try:
            module = importlib.import_module(f"kerasnet.path.{candidate}")
        except ModuleNotFoundError:  # a module of the other layout
            continue
        if hasattr(module, name):
            break
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key or name] += time.perf_counter() - start
            cpu[key or name] += time.process_time() - start_cpu

    setattr(module, name, wrapper)


def run(n, task, batch):
    import kerasnet  # before keras

    X, y = data(n, task)
    kwargs = dict(task=task, hidden=(16,), lambdas=[0.1, 0.03, 0.01, 0.003], cv=3, epochs=2,
                  batch_size=batch, baselines=False, verbose=0, seed=0)
    totals, cpu = collections.defaultdict(float), collections.defaultdict(float)
    timed(["stages", "fit"], "fit_members", totals, cpu, "fit_members")
    timed(["engine"], "validation_outputs", totals, cpu, "validation outputs")
    timed(["measures"], "cross_validated", totals, cpu, "CV measures")
    timed(["pipeline", "fit"], "path_statistics", totals, cpu, "one-pass statistics")
    timed(["plan", "fit"], "member_scaling", totals, cpu, "scaling")
    timed(["pipeline", "fit"], "deviance_explained", totals, cpu, "deviance explained")
    start = time.perf_counter()
    kerasnet.fit_path(X, y, **kwargs)
    first = time.perf_counter() - start
    totals.clear()
    cpu.clear()
    start, start_cpu = time.perf_counter(), time.process_time()
    path = kerasnet.fit_path(X, y, **kwargs)
    wall, wall_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    result = {"task": task, "rows": n, "first_call_s": first, "cv_mean": [float(v) for v in path.cv_mean_]}
    for label, spent, whole in (("", totals, wall), ("cpu_", cpu, wall_cpu)):
        parts = dict(spent)
        parts["training"] = parts.pop("fit_members") - parts["validation outputs"]
        parts["other"] = whole - sum(parts.values())
        result.update({f"{label}wall_s": whole, f"{label}outside_training_s": whole - parts["training"],
                       f"{label}parts_s": parts})
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tasks", nargs="+", default=["binary", "regression"])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = []
    for task in args.tasks:
        result = run(args.rows, task, args.batch)
        results.append(result)
        r = result
        print(f"{task}: {args.rows} rows, second call {r['wall_s']:.2f} s wall / {r['cpu_wall_s']:.2f} s CPU,"
              f" outside training {r['outside_training_s']:.2f} s / {r['cpu_outside_training_s']:.2f} s "
              f"(first call {r['first_call_s']:.1f} s)")
        for name, seconds in sorted(result["parts_s"].items(), key=lambda kv: -kv[1]):
            print(f"  {name:22s} {seconds:7.3f} s wall {result['cpu_parts_s'][name]:7.3f} s CPU")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)


if __name__ == "__main__":
    main()
