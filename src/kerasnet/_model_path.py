"""The regularization path of a user's own Keras model (``fit_path(model=...)``).

Members (strength x CV split) are vectorized copies of the model, trained by
:func:`kerasnet._keras_engine.fit_members` with the same cross-fit early stopping, splits,
weights and measures as the MLP path; each strength is then refit on all rows for the
optimizer steps its folds chose. The inputs are used as given (no standardization: put a
``Normalization`` layer in the model), and a regression target is fit in its own units.
"""

from __future__ import annotations

import keras
import numpy as np

from . import _grid, _measures
from ._folds import normalized_weights, refit_epochs_for, splits
from ._keras_engine import fit_members, penalized_indices
from ._path_result import Path

__all__ = ["LOSSES", "build_model", "fit_model_path", "fit_path_of_model", "penalized_kernels"]

#: The Keras loss of each task (the model's output must be probabilities, or values).
LOSSES = {"binary": "binary_crossentropy", "multiclass": "sparse_categorical_crossentropy",
          "regression": "mean_squared_error"}


def _rows(X, rows):
    return [a[rows] for a in X] if isinstance(X, list) else X[rows]


def _n_rows(X):
    return len(X[0]) if isinstance(X, list) else len(X)


def _flat_inputs(X, weight):
    """All inputs as one standardized 2-D float array (for the data-derived grid only)."""
    parts = [np.asarray(a, float).reshape(_n_rows(X), -1) for a in (X if isinstance(X, list) else [X])]
    flat = np.concatenate(parts, axis=1)
    mean = (flat * weight[:, None]).sum(axis=0) / weight.sum()
    sd = np.sqrt((np.square(flat - mean) * weight[:, None]).sum(axis=0) / weight.sum())
    return (flat - mean) / np.where(sd > 0, sd, 1.0)


def build_model(model):
    """A fresh, built copy of ``model`` (a keras.Model to clone, or a function returning one)."""
    built = keras.models.clone_model(model) if isinstance(model, keras.Model) else model()
    if not isinstance(built, keras.Model) or not built.built:
        raise ValueError(
            f"model must be a built keras.Model or a function returning one; received {model!r}."
        )
    return built


def penalized_kernels(model, penalized=None):
    """Indices into ``model.get_weights()`` of the kernels the path penalizes (as ``penalize``)."""
    trainable = penalized_indices(model, penalized)
    position = {id(v): i for i, v in enumerate(model.weights)}
    return [position[id(model.trainable_variables[i])] for i in trainable]


def fit_model_path(model, X, y, *, task, l1_ratio, lambdas, n_lambdas, lambda_min_ratio, train_rows,
                   test_rows, weight, epochs, batch_size, learning_rate, early_stopping, patience, proximal,
                   seed, penalized, optimizer, keep, verbose):
    """Train the path of ``model``; returns the pieces :class:`kerasnet.Path` is built from."""
    base = build_model(model)
    init = base.get_weights()
    n = _n_rows(X)
    loss = LOSSES[task]
    if lambdas is None:
        target = np.asarray(y, float).reshape(n, -1) if task == "regression" else y
        lambdas = _grid.default_lambdas(_flat_inputs(X, weight), target, task, l1_ratio, n_lambdas,
                                        lambda_min_ratio, sample_weight=weight, linear=False)
    L, F = len(lambdas), len(train_rows)
    l1 = np.repeat(np.asarray(lambdas) * l1_ratio, F)
    l2 = np.repeat(np.asarray(lambdas) * (1 - l1_ratio) / 2, F)
    fold = np.tile(np.arange(F), L)
    common = {"loss": loss, "penalized": penalized, "sample_weight": weight, "batch_size": batch_size,
              "optimizer": optimizer, "learning_rate": learning_rate, "proximal": proximal, "seed": seed}
    if verbose:
        print(f"fit_path(model=...): {L} strengths x {F} folds = {L * F} members, then {L} refits")
    weights, cvfit = fit_members(
        base, X, y, l1=l1, l2=l2, train_mask=train_rows[fold], val_mask=test_rows[fold], epochs=epochs,
        streams=fold, early_stopping=early_stopping, patience=patience,
        stop_groups=np.repeat(np.arange(L), F), **common)
    values, oof = _cross_validated(base, weights, X, y, task, test_rows, weight, L, F, keep)
    if early_stopping:
        refit_epochs = refit_epochs_for(cvfit.chosen_epoch.reshape(L, F)[:, 0], train_rows, batch_size, n)
    else:
        refit_epochs = np.full(L, epochs)
    base.set_weights(init)
    refit_weights, refit = fit_members(base, X, y, l1=l1[::F], l2=l2[::F], epochs=int(refit_epochs.max()),
                                       max_epochs=refit_epochs, **common)
    return {"lambdas": np.asarray(lambdas, float), "cv_values": values, "oof": oof, "cvfit": cvfit,
            "refit": refit, "weights": refit_weights, "refit_epochs": refit_epochs,
            "member_diverged": cvfit.diverged.reshape(L, F), "refit_diverged": refit.diverged,
            "best_epoch": cvfit.best_epoch.reshape(L, F), "kernels": penalized_kernels(base, penalized)}


def _cross_validated(base, weights, X, y, task, test_rows, weight, L, F, keep):
    """Every applicable measure ``[L, F]`` from each member's predictions on its test rows."""
    outputs, rows_of = [], []
    for k, member in enumerate(weights):
        rows = np.flatnonzero(test_rows[k % F])
        base.set_weights(member)
        outputs.append(np.asarray(base.predict(_rows(X, rows), batch_size=4096, verbose=0), float))
        rows_of.append(rows)
    y = np.asarray(y)
    values = {}
    for name, (_, tasks, _) in _measures.MEASURES.items():
        if task in tasks:
            values[name] = np.array([
                _measures.fold_value(name, task, y[r], out, weight[r]) if np.all(np.isfinite(out)) else np.nan
                for r, out in zip(rows_of, outputs, strict=True)
            ]).reshape(L, F)
    oof = None
    if keep:
        width = outputs[0].reshape(len(rows_of[0]), -1).shape[1]
        total, count = np.zeros((L, len(y), width)), np.zeros((L, len(y), 1))
        for k, (rows, out) in enumerate(zip(rows_of, outputs, strict=True)):
            total[k // F, rows] += out.reshape(len(rows), -1)
            count[k // F, rows] += 1
        with np.errstate(invalid="ignore"):
            oof = total / count
    return values, oof


def fit_path_of_model(model, X, y, *, task, l1_ratio, lambdas, n_lambdas, lambda_min_ratio, cv, epochs,
                      batch_size, learning_rate, early_stopping, patience, proximal, seed, verbose, measure,
                      foldid, groups, keep, sample_weight, penalized, optimizer):
    """``fit_path(model=...)``: the same splits, weights, measures and rules on a user's model."""
    from .data import infer_task
    from .models import TASKS
    X = [np.asarray(a) for a in X] if isinstance(X, (list, tuple)) else np.asarray(X)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    task = infer_task(y) if task is None else task
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)} or None; received task={task!r}.")
    measure = _measures.check_measure(measure, task)
    classes = None
    if task == "regression":
        y_enc = y.astype("float32")
    else:
        classes, y_enc = np.unique(y, return_inverse=True)
    n = len(y_enc)
    weight = normalized_weights(sample_weight, n)
    train_rows, test_rows = splits(cv, y_enc, task, seed, foldid=foldid, groups=groups)
    if lambdas is not None:
        lambdas = np.sort(np.atleast_1d(np.asarray(lambdas, float)))[::-1]
    fit = fit_model_path(model, X, y_enc, task=task, l1_ratio=l1_ratio, lambdas=lambdas, n_lambdas=n_lambdas,
                         lambda_min_ratio=lambda_min_ratio, train_rows=train_rows, test_rows=test_rows,
                         weight=weight, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                         early_stopping=early_stopping, patience=patience, proximal=proximal, seed=seed,
                         penalized=penalized, optimizer=optimizer, keep=keep, verbose=verbose)
    n_outputs = 1 if task != "multiclass" else len(classes)
    return Path(
        lambdas=fit["lambdas"], l1_ratio=l1_ratio, task=task, hidden=None, classes=classes,
        feature_names=[], mean=None, scale=None, y_mean=None, y_scale=None, cv_values=fit["cv_values"],
        measure=measure, fold_weights=(test_rows * weight).sum(axis=1),
        member_diverged=fit["member_diverged"],
        best_epoch=fit["best_epoch"], refit_epochs=fit["refit_epochs"], refit_diverged=fit["refit_diverged"],
        weights=fit["weights"], n_outputs=n_outputs, proximal=proximal,
        history={"cv": fit["cvfit"], "refit": fit["refit"]}, oof_predictions=fit["oof"],
        architecture=model, kernels=fit["kernels"], penalized=penalized,
    )
