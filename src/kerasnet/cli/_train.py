"""One training run on a table, as ``kerasnet fit`` and ``kerasnet demo`` do it."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd

from ..data import InputError, Preprocessor, check_finite, infer_task, split_rows
from ..tasks import SCORE


@dataclasses.dataclass
class Run:
    """What one training run produced."""

    model: object
    preprocessor: Preprocessor
    history: pd.DataFrame
    metrics: dict
    pruned: object = None  # the pruned model when ``train(prune=True)``


def train(
    features: pd.DataFrame,
    y: pd.Series,
    *,
    task=None,
    l1=0.0,
    l2=0.0,
    hidden=(64, 64),
    epochs=100,
    batch_size=32,
    learning_rate=1e-3,
    validation_split=0.2,
    seed=0,
    verbose=2,
    settings=None,
    test=None,
    proximal=False,
    group_lasso=None,
    prune=False,
) -> Run:
    """Split rows, fit the preprocessing on training rows, train the penalized MLP, evaluate.

    The split is stratified for classification; ``keras.utils.set_random_seed(seed)`` makes
    the run reproducible when ``seed`` is given. ``proximal`` applies the L1 part as a
    soft-threshold after each step (exact zeros; :class:`kerasnet.ElasticNet`). ``test``, a
    ``(features, y)`` pair of rows held out before this call, is scored with the
    preprocessing fitted on the training rows.
    ``group_lasso``, a strength, puts :class:`kerasnet.GroupLasso` on the first layer's
    kernel (whole input features drop out). ``prune`` builds :func:`kerasnet.prune`'s
    smaller model (``Run.pruned``) and checks its predictions against the full model.
    With any of the three, ``metrics["features_kept"]`` and ``metrics["prune"]`` (the
    :class:`kerasnet.PruneReport`, plus ``file`` when pruned) say what the zeros removed.
    metrics.json records the data (rows, class balance, feature names), the network, the
    environment and, inside a command, the command line (:func:`run_record`).
    """
    import keras

    from ..models import compile_for, mlp
    from ..monitor import PenaltyMonitor, kernel_sparsity, penalty_value
    from ..penalty import ElasticNet, GroupLasso
    from ..proximal import proximal_penalty
    from ..prune import prune as prune_model
    from ..prune import selected_features

    check_finite(features, "features")
    check_finite(y, "target")
    # The task (for stratifying) comes from all rows; every statistic from training rows only.
    task = task or infer_task(y)
    train_idx, valid_idx = split_rows(len(y), validation_split, y=y, task=task, seed=seed)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    pre = Preprocessor(task=task).fit(features.iloc[train_idx], y.iloc[train_idx])
    x_train = pre.transform(features.iloc[train_idx])
    y_train = check_float32(pre.encode_target(y.iloc[train_idx]), y, "target")
    validation = None
    if len(valid_idx):
        x_valid = pre.transform(features.iloc[valid_idx])
        y_valid = pre.encode_target(y.iloc[valid_idx])
        validation = (x_valid, y_valid)

    model = mlp(
        pre.n_features_out,
        n_outputs=pre.n_outputs,
        hidden=hidden,
        task=task,
        penalty=ElasticNet(l1=l1, l2=l2, proximal=proximal),
        seed=seed,
        input_penalty=None if group_lasso is None else GroupLasso(group_lasso),
    )
    compile_for(model, task, learning_rate=learning_rate)
    fitted = model.fit(
        x_train,
        y_train,
        validation_data=validation,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=verbose,
        callbacks=[PenaltyMonitor()],
    )
    history = pd.DataFrame(fitted.history)
    history.insert(0, "epoch", np.arange(1, len(history) + 1))

    # Proximal parts (ElasticNet's L1, GroupLasso) are applied by the optimizer step,
    # outside Keras's loss; proximal_penalty is 0 for a model without them.
    in_loss = penalty_value(model)
    penalty = in_loss + proximal_penalty(model)
    sparsity = kernel_sparsity(model)
    score = SCORE[task]

    def evaluate(x, y_true):
        logs = model.evaluate(x, y_true, batch_size=4096, verbose=0, return_dict=True)
        data_loss = float(logs["loss"]) - in_loss
        return {
            "loss": data_loss + penalty,
            "data_loss": data_loss,
            "penalty": penalty,
            score: float(logs[score]),
            "sparsity": sparsity,
            "n_rows": int(len(x)),
        }

    metrics = {
        "task": task,
        "target": pre.target_,
        "classes": pre.classes_,
        "n_features_in": len(pre.input_columns),
        "n_features": pre.n_features_out,
        "settings": {
            "l1": l1,
            "l2": l2,
            "proximal": bool(proximal),
            "group_lasso": group_lasso,
            "prune": bool(prune),
            "hidden": list(hidden),
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "validation_split": validation_split,
            "seed": seed,
            **(settings or {}),
        },
        "train": evaluate(x_train, y_train),
        "validation": evaluate(*validation) if validation is not None else None,
    }
    if test is not None:
        metrics["test"] = evaluate(pre.transform(test[0]), pre.encode_target(test[1]))
    metrics["data"] = data_record(y, train_idx, valid_idx, pre, test_y=None if test is None else test[1])
    metrics["model"] = {
        "layers": [pre.n_features_out, *hidden, pre.n_outputs],
        "activation": "relu",
        "penalty": {"name": "ElasticNet", "l1": l1, "l2": l2, "proximal": bool(proximal),
                    "on": "every kernel (biases never)" if group_lasso is None
                    else "every kernel but the first layer's (biases never)"},
        **({} if group_lasso is None else {"input_penalty": {
            "name": "GroupLasso", "strength": group_lasso, "proximal": True,
            "on": "first layer kernel, one group per input feature"}}),
        "optimizer": "adam",
        "n_params": int(model.count_params()),
    }
    metrics["diverged"] = diverged(history, model)
    pruned = None
    if metrics["diverged"]:
        # Zeros of a diverged network mean nothing; its record says so instead.
        prune = False
    elif proximal or group_lasso is not None or prune:
        selection = selected_features(model, feature_names=pre.feature_names_)
        metrics["features_kept"] = {"n_kept": len(selection.indices), "n_features": pre.n_features_out,
                                    "indices": selection.indices.tolist(), "names": selection.names}
        pruned, report = prune_model(model, feature_names=pre.feature_names_)
        metrics["prune"] = report.to_dict()
        if prune:
            # The pruned file must be a drop-in replacement: measure it on held-out rows.
            x_check, rows = (validation[0], "validation") if validation is not None else (x_train, "train")
            full = model.predict(x_check, batch_size=4096, verbose=0)
            small = pruned.predict(x_check, batch_size=4096, verbose=0)
            metrics["prune"].update(file="model_pruned.keras", checked_rows=rows,
                                    max_abs_difference=float(np.max(np.abs(full - small))))
        else:
            pruned = None
    metrics.update(run_record(seed))
    return Run(model=model, preprocessor=pre, history=history, metrics=metrics, pruned=pruned)


def check_float32(encoded, raw, what: str):
    """Return ``encoded``; refuse values that float32, the network's type, cannot hold."""
    if np.all(np.isfinite(encoded)):
        return encoded
    values = pd.to_numeric(pd.Series(np.ravel(raw)), errors="coerce").abs()
    raise InputError(
        f"{what} values up to {values.max():.3g} exceed float32's range (about 3.4e38), the type networks "
        f"train in; rescale the {what} (e.g. divide by a power of ten) first."
    )


def diverged(history: pd.DataFrame, model) -> bool:
    """True when the training loss or a weight stopped being a finite number."""
    losses = history["loss"].to_numpy(dtype=float) if "loss" in history else np.zeros(0)
    if not np.all(np.isfinite(losses)):
        return True
    return not all(np.all(np.isfinite(np.asarray(w))) for w in model.get_weights())


def _counts(y) -> dict:
    return {str(k): int(v) for k, v in pd.Series(y).value_counts(sort=False).sort_index().items()}


def data_record(y, train_idx, valid_idx, pre, test_y=None) -> dict:
    """Rows per split, class balance (classification) and feature names, for metrics.json."""
    record = {
        "n_rows": int(len(y)) + (0 if test_y is None else int(len(test_y))),
        "n_train": int(len(train_idx)),
        "n_validation": int(len(valid_idx)),
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
            balance["validation"] = _counts(y.iloc[valid_idx])
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
    from ..report import environment

    return {"environment": environment(seed=seed), "command": command_line()}


def learning_curves(history: pd.DataFrame):
    """Training vs validation loss; data loss vs penalty (:func:`kerasnet.plots.learning_curves`)."""
    from ..plots import learning_curves as figure

    return figure(history)


def save_run(run: Run, folder: str) -> list[str]:
    """Write model.keras (plain Keras), preprocessing.json, history.csv, metrics.json, the PNG.

    With a pruned model (``train(prune=True)``) also model_pruned.keras, saved as it is: it
    loads in safe mode after ``import kerasnet`` (its first layer selects the kept features).
    """
    from ..models import to_plain_keras
    from ._outputs import write_json

    # Plain keras.regularizers.L1L2 in the file: it loads without kerasnet, in safe mode.
    to_plain_keras(run.model).save(os.path.join(folder, "model.keras"))
    run.preprocessor.save(os.path.join(folder, "preprocessing.json"))
    run.history.to_csv(os.path.join(folder, "history.csv"), index=False)
    write_json(os.path.join(folder, "metrics.json"), run.metrics)
    learning_curves(run.history).savefig(os.path.join(folder, "learning_curves.png"), dpi=100)
    written = ["model.keras", "preprocessing.json", "history.csv", "metrics.json", "learning_curves.png"]
    if run.pruned is not None:
        run.pruned.save(os.path.join(folder, "model_pruned.keras"))
        written.insert(1, "model_pruned.keras")
    return written


def write_report(folder, out=None) -> str | None:
    """Build ``folder/report.html``; a failure is a one-line warning, never a lost run.

    ``out`` is the folder's final name (the command's ``--out``), for the message.
    """
    from ..report import build_report
    from ._common import warning_line

    try:
        return build_report(folder)
    except Exception as err:  # noqa: BLE001 - the trained model matters more than its report
        warning_line(f"report.html not written ({type(err).__name__}: {err}); the run is saved, "
                     f"retry with 'kerasnet report {out or folder}'.")
        return None
