"""Old code against new, same run: each side in fresh processes, alternating, so load hits both."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cpu():
    """The CPU's model name where Linux tells it, then the architecture."""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(r.split(":", 1)[1].strip() for r in fh if r.startswith("model name"))
        return f"{model}, {platform.machine()}"
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine():
    """One line: cores, CPU, versions and load (the table's context)."""
    import jax
    import keras

    return (f"machine: {os.cpu_count()} cores, {_cpu()}, "
            f"Python {platform.python_version()}, Keras {keras.__version__}, JAX {jax.__version__}, "
            f"load average {os.getloadavg()[0]:.1f}")


@contextmanager
def publish(lines, out=None):
    """Print the result's lines, and write them to ``out`` too when given."""
    text = "\n".join(lines)
    print(text)
    if out:
        with open(out, "w") as fh:
            fh.write(text + "\n")


def child(code, *args, python=sys.executable):
    """``python -c code args...`` in a fresh process on the JAX backend: its last line, as JSON (its
    error output ends the benchmark)."""
    out = subprocess.run([python, "-c", code, *args], capture_output=True, text=True,
                         env={**os.environ, "KERAS_BACKEND": "jax"})
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def sides(baseline):
    """``{"old": src of commit baseline (git archive into a temporary folder), "new": this tree's src}``."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", ROOT, "archive", baseline, "src"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        yield {"old": os.path.join(tmp, "src"), "new": os.path.join(ROOT, "src")}


def run(script, src, case):
    """``script --child case`` in a fresh process on the code in ``src``: its last line, as JSON."""
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run([sys.executable, script, "--child", case], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def alternate(script, paths, case, rounds=2):
    """Each side's results of ``case``, run old, new, old, new ...: ``{"old": [...], "new": [...]}``."""
    results = {"old": [], "new": []}
    for _ in range(rounds):
        for side in ("old", "new"):
            results[side].append(run(script, paths[side], case))
    return results


def timings(results):
    """Best first call and best warm call of each side (``times``: the calls of one process)."""
    first = {s: min(r["times"][0] for r in results[s]) for s in results}
    warm = {s: min(min(r["times"][1:]) for r in results[s]) for s in results}
    return first, warm


def data(name, rows):
    """``(X, y)``: breast cancer (``"cancer"``), or ``rows`` x 20-or-more generated binary rows."""
    import numpy as np

    if name == "cancer":
        from sklearn.datasets import load_breast_cancer

        return load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    X = rng.normal(size=rows).astype("float32")
    return X, (X[:, 0] * X[:, 1] + X[:, 2] - X[:, 3] + rng.normal(size=len(X)) > 0).astype(int)


def three_calls(X, y, **settings):
    """Time three ``fit_path`` calls in this process (the first compiles); print JSON with the
    CV measure at ``lambda_min`` of the last."""
    import time

    import kerasnet

    times, best = [], None
    for _ in range(3):
        start = time.perf_counter()
        path = kerasnet.fit_path(X, y, **settings)
        times.append(time.perf_counter() - start)
        best = float(path.cv_mean_[path.index_min_])
    print(json.dumps({"times": times, "cv_min": best}))
