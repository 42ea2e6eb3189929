"""The golden paths: tiny fits whose numbers a restructured engine must reproduce.

Each case is a function returning a fitted :class:`kerasnet.path.result.Path` and the rows its
predictions are recorded on; :func:`record` turns a path into plain numbers (lists, ints,
floats) kept in ``tests/golden/<backend>.json``. ``python tests/golden/make.py`` rewrites that
file for the current backend (``KERAS_BACKEND=torch python tests/golden/make.py`` for torch);
``tests/test_golden_paths.py`` compares a fresh fit with it. The fits are small on purpose (a few
strengths, epochs and rows): they pin the numbers, not the quality of the fit.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

import kerasnet


def _cancer(n=120):
    X, y = load_breast_cancer(return_X_y=True)
    return X[:n, :8].astype("float32"), y[:n]


def mlp_binary_defaults():
    """The default grid (the probe of its top, the extension of its bottom) and the baselines."""
    X, y = _cancer()
    path = kerasnet.fit_path(X, y, hidden=(4,), n_lambdas=4, cv=3, epochs=4, batch_size=32, seed=0, verbose=0)
    return path, X[:6]


def mlp_regression():
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:150].astype("float32"), y[:150]
    path = kerasnet.fit_path(X, y, hidden=(5,), lambdas=[0.3, 0.1, 0.03, 0.01], cv=3, epochs=30,
                             patience=2, learning_rate=2e-2, batch_size=32, seed=1, verbose=0,
                             baselines=False)
    return path, X[:6]


def _cnn():
    import keras

    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(3, 3, activation="relu", name="conv"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax", name="out"),
    ])


def user_cnn():
    """A user's model (a builder, called with Keras's seed set) on images: no standardization."""
    X, y = load_digits(n_class=3, return_X_y=True)
    X, y = (X[:120] / 16.0).reshape(-1, 8, 8, 1).astype("float32"), y[:120]
    path = kerasnet.fit_path(X, y, model=_cnn, lambdas=[0.03, 0.01, 0.003], cv=3, epochs=6, batch_size=32,
                             learning_rate=3e-3, seed=2, verbose=0, baselines=False)
    return path, X[:6]


def feature_selection_relax():
    """The group lasso, its adaptive second path (its own grid) and the relaxed refits."""
    X, y = _cancer(150)
    path = kerasnet.fit_path(X, y, hidden=(4,), feature_selection=True, relax=True, n_lambdas=4,
                             lambda_min_ratio=0.05, cv=3, epochs=15, learning_rate=3e-2, seed=3, verbose=0,
                             baselines=False)
    return path, X[:6]


def _counts(n=150, d=4, seed=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype("float32")
    t = rng.uniform(0.5, 2.0, size=n)  # exposure
    y = rng.poisson(t * np.exp(0.4 * X[:, 0] - 0.3 * X[:, 1])).astype(float)
    return X, y, t


def poisson_offset():
    X, y, t = _counts()
    path = kerasnet.fit_path(X, y, task="poisson", hidden=(4,), offset=np.log(t), lambdas=[0.1, 0.03, 0.01],
                             cv=3, epochs=25, patience=2, learning_rate=2e-2, seed=5, verbose=0,
                             baselines=False)
    return path, X[:6]


def cox():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(150, 4)).astype("float32")
    time = rng.exponential(np.exp(-(0.7 * X[:, 0] - 0.5 * X[:, 2])))
    censor = rng.exponential(1.5, size=150)
    y = np.column_stack([np.minimum(time, censor), (time <= censor).astype(float)])
    path = kerasnet.fit_path(X, y, task="cox", hidden=(4,), lambdas=[0.1, 0.03, 0.01], cv=3, epochs=20,
                             patience=2, batch_size=50, learning_rate=2e-2, seed=7, verbose=0,
                             baselines=False)
    return path, X[:6]


def dask_split():
    """The members cut across two workers of an in-process Dask cluster (early stopping on)."""
    from dask import distributed

    X, y = _cancer()
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1,
                            dashboard_address=None) as client:
        path = kerasnet.fit_path(X, y, hidden=(4,), lambdas=[0.1, 0.03, 0.01], cv=3, epochs=30, patience=2,
                                 learning_rate=5e-2, seed=8, scheduler=client, verbose=0, baselines=False)
    return path, X[:6]


def golden_name():
    """The golden file's name for this backend and device: ``jax.json`` / ``torch.json`` on a CPU,
    ``jax-gpu.json`` / ``torch-gpu.json`` on an accelerator (its kernels round otherwise), and
    ``torch-amd.json`` for torch on an AMD CPU (MKL's float32 kernels, which torch's CPU matrix
    products use, take other code paths there than on Intel's; XLA's do not: ``jax.json`` holds
    on both)."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        device = jax.default_backend()
    else:
        import torch

        device = "gpu" if torch.cuda.is_available() else "cpu"  # Keras's torch backend takes CUDA then
        if device == "cpu" and _cpu_vendor() == "AuthenticAMD":
            device = "amd"  # MKL's float32 kernels round otherwise on AMD than on Intel
    return f"{backend}.json" if device == "cpu" else f"{backend}-{device}.json"


def _cpu_vendor():
    """The CPU's vendor id (``GenuineIntel``, ``AuthenticAMD``; empty where unknown)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


CASES = {f.__name__: f for f in (mlp_binary_defaults, mlp_regression, user_cnn, feature_selection_relax,
                                  poisson_offset, cox, dask_split)}
NEEDS = {"dask_split": "dask.distributed"}  # a case's optional module; its test skips without it


def _outputs(path, rows, lam):
    """The refit network's raw outputs (probabilities, values, eta) at ``lam`` on ``rows``."""
    return path.model(lam, relaxed=False).predict(rows, verbose=0)


def record(path, rows):
    """The numbers of ``path`` a restructured engine must reproduce: plain lists, ints and floats."""
    out = {
        "lambdas": path.lambdas_,
        "cv_mean": path.cv_mean_,
        "cv_se": path.cv_se_,
        "cv_loss_mean": path.cv_loss_mean_,
        "index_min": path.index_min_,
        "index_1se": path.index_1se_,
        "best_epoch": path.best_epoch_,
        "refit_epochs": path.refit_epochs_,
        "diverged": path.diverged_,
        "n_nonzero": path.n_nonzero_,
        "df": path.df_,
        "weight_norm": path.weight_norm_,
        "dev_ratio": path.dev_ratio_,
        "outputs_min": _outputs(path, rows, "min"),
        "outputs_1se": _outputs(path, rows, "1se"),
    }
    if path.feature_path_ is not None:
        out["kept_min"] = path.selected_features("min", relaxed=False)[0]
        out["kept_1se"] = path.selected_features("1se", relaxed=False)[0]
    if path.relaxed_ is not None:
        out["relax_chosen"] = path.relax_chosen_
        out["relaxed"] = record(path.relaxed_, rows)
    b = path.baselines_
    if b is not None:
        out["baselines"] = {"null_mean": b.null_mean, "null_se": b.null_se, "linear_mean": b.linear_mean,
                            "linear_se": b.linear_se, "linear_lambda": b.linear_lambda}
    return {k: _plain(v) for k, v in out.items()}


def _plain(value):
    """JSON's types: arrays as (nested) lists, numpy scalars as Python's."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
