"""One training run on a table, as ``kerasnet fit`` and ``kerasnet demo`` do it."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pandas as pd

from ..data import Preprocessor, check_finite, infer_task, split_rows


@dataclasses.dataclass
class Run:
    """What one training run produced."""

    model: object
    preprocessor: Preprocessor
    history: pd.DataFrame
    metrics: dict


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
) -> Run:
    """Split rows, fit the preprocessing on training rows, train the penalized MLP, evaluate.

    The split is stratified for classification; ``keras.utils.set_random_seed(seed)`` makes
    the run reproducible when ``seed`` is given.
    """
    import keras

    from ..models import compile_for, mlp
    from ..monitor import PenaltyMonitor, kernel_sparsity, penalty_value
    from ..penalty import ElasticNet

    check_finite(features, "features")
    check_finite(y, "target")
    # The task (for stratifying) comes from all rows; every statistic from training rows only.
    task = task or infer_task(y)
    train_idx, valid_idx = split_rows(len(y), validation_split, y=y, task=task, seed=seed)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    pre = Preprocessor(task=task).fit(features.iloc[train_idx], y.iloc[train_idx])
    x_train = pre.transform(features.iloc[train_idx])
    y_train = pre.encode_target(y.iloc[train_idx])
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
        penalty=ElasticNet(l1=l1, l2=l2),
        seed=seed,
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

    penalty = penalty_value(model)
    sparsity = kernel_sparsity(model)
    score = "rmse" if task == "regression" else "accuracy"

    def evaluate(x, y_true):
        logs = model.evaluate(x, y_true, batch_size=4096, verbose=0, return_dict=True)
        loss = float(logs["loss"])
        return {
            "loss": loss,
            "data_loss": loss - penalty,
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
    return Run(model=model, preprocessor=pre, history=history, metrics=metrics)


def learning_curves(history: pd.DataFrame):
    """Two panels: training vs validation loss; data loss vs penalty (a matplotlib Figure)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    epoch = history["epoch"]
    left.plot(epoch, history["loss"], label="train loss")
    if "val_loss" in history:
        left.plot(epoch, history["val_loss"], label="validation loss")
    left.set(title="Loss (data + penalty)", xlabel="epoch", ylabel="loss")
    left.legend()
    right.plot(epoch, history["data_loss"], label="train data loss")
    if "val_data_loss" in history:
        right.plot(epoch, history["val_data_loss"], label="validation data loss")
    right.plot(epoch, history["penalty"], label="penalty")
    right.set(title="Data loss vs penalty", xlabel="epoch", ylabel="value")
    right.legend()
    return fig


def save_run(run: Run, folder: str) -> list[str]:
    """Write model.keras (plain Keras), preprocessing.json, history.csv, metrics.json, the PNG."""
    from ..models import to_plain_keras

    # Plain keras.regularizers.L1L2 in the file: it loads without kerasnet, in safe mode.
    to_plain_keras(run.model).save(os.path.join(folder, "model.keras"))
    run.preprocessor.save(os.path.join(folder, "preprocessing.json"))
    run.history.to_csv(os.path.join(folder, "history.csv"), index=False)
    with open(os.path.join(folder, "metrics.json"), "w", encoding="utf-8") as fh:
        json.dump(run.metrics, fh, indent=2, allow_nan=False)
        fh.write("\n")
    learning_curves(run.history).savefig(os.path.join(folder, "learning_curves.png"), dpi=100)
    return ["model.keras", "preprocessing.json", "history.csv", "metrics.json", "learning_curves.png"]
