"""The learning tasks: one vocabulary for the output layer, the loss and the score of each.

Every module that needs to know what ``task="binary"`` means reads it here: the network's
output activation (:func:`kerasnet.mlp`), the Keras loss (:func:`kerasnet.compile_for` and
the path engine), and the held-out score a run reports (accuracy, or RMSE for regression).
"""

from __future__ import annotations

import keras

__all__ = ["LOSS", "OUTPUT_ACTIVATION", "SCORE", "TASKS", "check_task", "keras_loss", "keras_metrics"]

TASKS = ("binary", "multiclass", "regression")

#: The last layer's activation: a probability, class probabilities, or values.
OUTPUT_ACTIVATION = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}

#: Keras's loss of each task, on the outputs above (labels 0/1, class indices, values).
LOSS = {"binary": "binary_crossentropy", "multiclass": "sparse_categorical_crossentropy",
        "regression": "mean_squared_error"}

#: The held-out score reported for each task (the metric's name in Keras's logs).
SCORE = {"binary": "accuracy", "multiclass": "accuracy", "regression": "rmse"}


def check_task(task, allow_none=False, error=ValueError):
    """``task`` if it is one of :data:`TASKS` (or None where allowed), else ``error`` naming them."""
    if (task is None and allow_none) or task in TASKS:
        return task
    also = " or None" if allow_none else ""
    raise error(f"task must be one of {', '.join(TASKS)}{also}; received task={task!r}.")


def keras_loss(task):
    """A Keras loss object for ``task`` (:data:`LOSS`)."""
    classes = {"binary": keras.losses.BinaryCrossentropy,
               "multiclass": keras.losses.SparseCategoricalCrossentropy,
               "regression": keras.losses.MeanSquaredError}
    return classes[check_task(task)]()


def keras_metrics(task):
    """The Keras metric computing :data:`SCORE` for ``task``."""
    if check_task(task) == "binary":
        return [keras.metrics.BinaryAccuracy(SCORE[task])]
    if task == "multiclass":
        return [keras.metrics.SparseCategoricalAccuracy(SCORE[task])]
    return [keras.metrics.RootMeanSquaredError(SCORE[task])]
