"""What a run folder records about its run: the data, the environment, the command, the path's choice.

Each function returns JSON-native parts of ``metrics.json`` (:mod:`kerasnet.runs.metrics`
documents the whole schema) or the tables written beside it.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

__all__ = ["command_line", "data_record", "environment", "feature_path_frame", "path_metrics", "path_record",
           "probabilities_frame", "refit_scores", "run_record", "stability_record"]

_OTHER_PACKAGES = ("jax", "jaxlib", "torch", "scikit-learn", "pandas", "matplotlib")

# --------------------------------------------------------------------------- recording


def environment(seed=None) -> dict:
    """Versions and settings needed to reproduce a run (for metrics.json).

    Returns kerasnet's, Keras's and the backend's names and versions, Python and NumPy, the
    versions of other relevant packages when installed (``None`` when not), the platform
    and ``seed``. Packages are looked up by metadata, not imported (kerasnet too: its
    version is ``"unknown"`` when it is not installed).
    """
    import importlib.metadata as metadata
    import platform

    import keras

    try:
        version = metadata.version("kerasnet")
    except metadata.PackageNotFoundError:
        version = "unknown"
    others = {}
    for name in _OTHER_PACKAGES:
        try:
            others[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            others[name] = None
    return {
        "kerasnet": version,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "packages": others,
        "platform": platform.platform(),
        "seed": seed,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


# --------------------------------------------------------------------------- reading the folder


def _counts(y) -> dict:
    return {str(k): int(v) for k, v in pd.Series(y).value_counts(sort=False).sort_index().items()}


def data_record(y, train_idx, valid_idx, pre, test_y=None, held="validation") -> dict:
    """Rows per split, class balance (classification) and feature names, for metrics.json.

    ``valid_idx`` are the rows ``held`` names: ``"validation"`` (watched in training) or
    ``"held_out"`` (the demo's rows set aside before anything was fit).
    """
    record = {
        "n_rows": int(len(y)) + (0 if test_y is None else int(len(test_y))),
        "n_train": int(len(train_idx)),
        f"n_{held}": int(len(valid_idx)),
        "n_test": 0 if test_y is None else int(len(test_y)),
        "n_columns": len(pre.input_columns),
        "n_features": pre.n_features_out,
        "columns": list(pre.input_columns),
        "feature_names": list(pre.feature_names_),
        "task": pre.task_,
        "target": pre.target_,
    }
    if pre.task_ == "cox":  # y: the (time, event) frame
        time, event = (y.iloc[:, k].to_numpy(dtype=float) for k in (0, 1))
        record["survival"] = {"time": pre.target_, "event": pre.event_, "n_events": int(event.sum()),
                              "n_censored": int(len(event) - event.sum()),
                              "median_time": float(np.median(time)), "max_time": float(time.max())}
    elif pre.task_ in ("binary", "multiclass"):
        balance = {"all": _counts(y if test_y is None else pd.concat([y, test_y])),
                   "train": _counts(y.iloc[train_idx])}
        if len(valid_idx):
            balance[held] = _counts(y.iloc[valid_idx])
        if test_y is not None:
            balance["test"] = _counts(test_y)
        record["class_balance"] = balance
    else:
        values = y.to_numpy(dtype=float)
        record["target_summary"] = {"mean": float(values.mean()), "std": float(values.std()),
                                    "min": float(values.min()), "max": float(values.max())}
    return record


def command_line(ctx=None) -> dict | None:
    """The running click command as a reproducible line (every option spelled out) and its params.

    None outside a click command (library use).
    """
    import shlex

    import click

    ctx = ctx or click.get_current_context(silent=True)
    if ctx is None:
        return None
    words = ctx.command_path.split()
    params = {}
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        params[param.name] = list(value) if isinstance(value, tuple) else value
        if value is None or param.name in ("overwrite",):
            continue
        if getattr(param, "multiple", False):  # a repeated option (search's --hidden): once per value
            for item in value:
                text = ",".join(map(str, item)) if isinstance(item, tuple) else str(item)
                words += [param.opts[0], text or "none"]
            continue
        if isinstance(value, tuple):
            value = ",".join(map(str, value)) if value else ("none" if param.name == "hidden" else "")
            if value == "":
                continue
        if isinstance(param, click.Argument):
            words.append(str(value))
        elif getattr(param, "is_flag", False):
            if value:
                words.append(param.opts[0])
        else:
            words += [param.opts[0], str(value)]
    return {"line": " ".join(shlex.quote(w) for w in words), "params": params}


def run_record(seed=None) -> dict:
    """``{"environment": ..., "command": ...}`` for metrics.json, so a run can be reproduced."""
    return {"environment": environment(seed=seed), "command": command_line()}


def path_record(path, select: str) -> dict:
    """The ``"path"`` entry of metrics.json: both choices and the selected strength's numbers.

    ``cv_mean_min`` / ``cv_se_min`` and ``cv_mean_1se`` / ``cv_se_1se`` are both choices' CV
    numbers, ``n_features_min`` / ``_1se`` and ``sparsity_min`` / ``_1se`` the features each
    refit keeps and its share of exactly-zero kernel weights, ``cv_measures`` every measure's
    ``[mean, se]`` at the selected strength;
    ``baselines`` the null and linear models' on the same folds
    (:meth:`kerasnet.path.baselines.Baselines.to_record`). A feature-selection path adds the
    features the saved model keeps (``selected_features``)
    and, with relaxed fits, whether the saved model is the relaxed one and its CV numbers.
    """
    chosen = path.index(select)
    record = {
        "lambda_min": path.lambda_min_,
        "lambda_1se": path.lambda_1se_,
        "selected": select,
        "lambda_selected": float(path.lambdas_[chosen]),
        "measure": path.measure,
        "greater_is_better": path.greater_is_better,
        "l1_ratio": None if path.feature_selection else float(path.l1_ratio),
        "cv_mean": float(path.cv_mean_[chosen]),
        "cv_se": float(path.cv_se_[chosen]),
        "sparsity": float(path.sparsity_[chosen]),
        "n_features_selected": int(path.n_features_selected_[chosen]),
        "dev_ratio": None if path.dev_ratio_ is None else float(path.dev_ratio_[chosen]),
        "refit_epochs": int(path.refit_epochs_[chosen]),
        "n_diverged": int(path.diverged_.sum()),
        "cv_mean_min": float(path.cv_mean_[path.index_min_]),
        "cv_se_min": float(path.cv_se_[path.index_min_]),
        "cv_mean_1se": float(path.cv_mean_[path.index_1se_]),
        "cv_se_1se": float(path.cv_se_[path.index_1se_]),
        # What "simpler" means, at both choices: the features a refit keeps and its exact zeros.
        "n_features_min": int(path.n_features_selected_[path.index_min_]),
        "n_features_1se": int(path.n_features_selected_[path.index_1se_]),
        "sparsity_min": float(path.sparsity_[path.index_min_]),
        "sparsity_1se": float(path.sparsity_[path.index_1se_]),
        "cv_measures": {m: [float(v[chosen]) for v in path.cv_summary(m)] for m in path.cv_measures_},
    }
    baselines = getattr(path, "baselines_", None)
    if baselines is not None:  # the null model and the linear elastic net on the same folds
        record["baselines"] = baselines.to_record()
    if path.feature_selection:
        _, names = path.selected_features(select)  # follows the relaxed path when CV chose it
        record.update(feature_selection=True, selected_features=names, n_selected_features=len(names))
        if path.relaxed_ is not None:
            relaxed = path.relaxed_
            i = relaxed.index(select)
            record["relaxed"] = {"chosen": path.relax_chosen_, "lambda_selected": float(relaxed.lambdas_[i]),
                                 "cv_mean": float(relaxed.cv_mean_[i]), "cv_se": float(relaxed.cv_se_[i])}
    return record


def refit_scores(path, X, y_enc, select, offset=None) -> dict:
    """The ``"train"`` entry of a path run: the selected refit on all its rows (it was fit on them:
    an optimistic number), its data loss, the task's score and its sparsity."""
    from ..tasks import SCORE

    score = SCORE[path.task]
    if path.task == "cox":  # the risk sets span all rows (Keras's evaluate would split them into batches)
        from ..survival import c_index, cox_deviance

        eta = path.predict(X, select)
        logs = {"loss": cox_deviance(y_enc, eta) / 2, "cindex": c_index(y_enc, eta)}
    elif offset is not None:  # the saved model predicts the rate: the counts need each row's exposure
        counts, mu = np.ravel(y_enc), path.predict(X, select, offset=offset)
        logs = {"loss": float(np.mean(mu - counts * np.log(mu + 1e-7))),
                "rmse": float(np.sqrt(np.mean(np.square(counts - mu))))}
    else:
        logs = path.model(select).evaluate(X, y_enc, batch_size=4096, verbose=0, return_dict=True)
    return {"n_rows": int(len(y_enc)), "loss": float(logs["loss"]), score: float(logs[score]),
            **({"cindex": float(logs["cindex"])} if path.task == "cox" else {}),
            "sparsity": float(path.sparsity_[path.index(select)])}


def path_metrics(kind, path, pre, select, settings, data, seed, **scores) -> dict:
    """A path run's whole ``metrics.json`` (``kind`` "path" or "demo"): the task and columns,
    ``settings``, :func:`path_record`, the ``scores`` given (``train``, ``held_out``,
    ``comparison``), ``data`` (:func:`data_record`) and :func:`run_record`."""
    return {"kind": kind, "task": path.task, "target": pre.target_, "classes": pre.classes_,
            "n_features_in": len(pre.input_columns), "n_features": pre.n_features_out, "settings": settings,
            "path": path_record(path, select), **scores, "data": data, **run_record(seed)}


def feature_path_frame(path):
    """One row per strength (descending): ``lambda``, then each feature's first-layer norm."""
    frame = pd.DataFrame(path.feature_path_, columns=path.feature_names_)
    frame.insert(0, "lambda", path.lambdas_, allow_duplicates=True)
    return frame


def stability_record(stable, n_pairs: int) -> dict:
    """The ``"stability"`` entry of metrics.json: what was selected and the bound that holds for it."""
    region = stable.region_
    return {
        "selected": list(stable.selected_names_),
        "n_selected": int(len(stable.selected_)),
        "n_features": len(stable.feature_names_),
        "expected_false": float(stable.expected_false_),
        "threshold": stable.threshold,
        "pfer": stable.pfer,
        # The region runs from the top of the grid down to this strength (None: empty region).
        "lambda_max": float(stable.lambdas_[0]),
        "lambda_region": float(stable.lambdas_[region]) if region >= 0 else None,
        "region_index": int(region),
        "n_lambdas": int(len(stable.lambdas_)),
        "n_pairs": int(n_pairs),
    }


def probabilities_frame(stable):
    """One row per strength (descending): ``lambda``, then each feature's selection probability."""
    frame = pd.DataFrame(stable.probabilities_, columns=stable.feature_names_)
    frame.insert(0, "lambda", stable.lambdas_, allow_duplicates=True)
    return frame
