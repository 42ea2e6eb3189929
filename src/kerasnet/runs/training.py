"""One training run on a table, as ``kerasnet fit`` and ``kerasnet compare`` do it: :func:`train`."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .. import interrupts
from ..data import InputError, Preprocessor, check_finite, infer_task, split_rows
from ..tasks import SCORE
from .records import data_record, run_record


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
    sample_weight=None,
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
    ``sample_weight`` (one weight >= 0 per row, scaled to mean 1 on the training rows) weighs
    each row's loss in training and in the train and validation losses.
    metrics.json records the data (rows, class balance, feature names), the network, the
    environment and, inside a command, the command line (:func:`kerasnet.runs.records.run_record`).
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
    weights = None
    if sample_weight is not None:
        # Mean 1 on the training rows: Keras divides a weighted loss by the batch size, so the
        # weights' scale would otherwise change the step size.
        weights = np.asarray(sample_weight, dtype="float32") / np.mean(np.asarray(sample_weight)[train_idx])
        if validation is not None:
            validation = (*validation, weights[valid_idx])

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
        sample_weight=None if weights is None else weights[train_idx],
        validation_data=validation,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=verbose,
        # A Ctrl-C or SIGTERM deferred by the command line stops training after the epoch.
        callbacks=[PenaltyMonitor(),
                   keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: interrupts.check())],
    )
    history = pd.DataFrame(fitted.history)
    history.insert(0, "epoch", np.arange(1, len(history) + 1))

    # Proximal parts (ElasticNet's L1, GroupLasso) are applied by the optimizer step,
    # outside Keras's loss; proximal_penalty is 0 for a model without them.
    in_loss = penalty_value(model)
    penalty = in_loss + proximal_penalty(model)
    sparsity = kernel_sparsity(model)
    score = SCORE[task]

    def evaluate(x, y_true, weight=None):
        logs = model.evaluate(x, y_true, sample_weight=weight, batch_size=4096, verbose=0, return_dict=True)
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
        "train": evaluate(x_train, y_train, None if weights is None else weights[train_idx]),
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
    reason = divergence(history, model, null_loss(task, y_train))
    metrics["diverged"] = reason is not None
    if reason is not None:
        metrics["diverged_reason"] = reason
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


def diverged(history: pd.DataFrame, model, null=None) -> bool:
    """True when the training loss or a weight stopped being a finite number, or the loss blew up
    (:func:`divergence`)."""
    return divergence(history, model, null) is not None


#: A training data loss that ends above its first epoch's and above this multiple of the constant
#: model's has blown up (a step size too large: saturated outputs), not merely converged slowly.
BLOWN_UP = 2.0
SPIKE = 10.0


def divergence(history: pd.DataFrame, model, null=None) -> str | None:
    """Why a run diverged, in words, or None: a loss or weight that is not finite, or a training data
    loss that ends above ``BLOWN_UP`` times ``null`` (the constant model's) after rising (above its first
    epoch's at the end, or to ``SPIKE`` times it on the way). A loss that only falls slowly is not
    divergence."""
    losses = history["loss"].to_numpy(dtype=float) if "loss" in history else np.zeros(0)
    if not np.all(np.isfinite(losses)):
        return "the loss became NaN or infinite"
    if not all(np.all(np.isfinite(np.asarray(w))) for w in model.get_weights()):
        return "a weight became NaN or infinite"
    data = history["data_loss"].to_numpy(dtype=float) if "data_loss" in history else losses
    if null is None or not len(data) or not data[-1] > BLOWN_UP * null:
        return None
    # Rising to the end, or a spike of ten times the first epoch's loss: the steps overshoot.
    if data[-1] > data[0] or data.max() > SPIKE * data[0]:
        return (f"the training data loss went from {data[0]:.3g} up to {data.max():.3g} and ended at "
                f"{data[-1]:.3g}, more than {BLOWN_UP:g} times the constant model's {null:.3g}")
    return None


def null_loss(task, y) -> float | None:
    """The constant model's mean training data loss (Keras's loss of ``task``) on encoded targets ``y``:
    the class shares' log loss, the variance, or Poisson's ``mu - y log mu`` at the mean; None for Cox."""
    y = np.asarray(y, dtype=float).ravel()
    if task == "binary":
        p = float(np.clip(y.mean(), 1e-7, 1 - 1e-7))
        return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
    if task == "multiclass":
        _, counts = np.unique(y, return_counts=True)
        share = counts / counts.sum()
        return float(-(share * np.log(share)).sum())
    if task == "regression":
        return float(y.var())
    if task == "poisson":
        mu = max(float(y.mean()), 1e-7)
        return float((mu - y * np.log(mu)).mean())
    return None


