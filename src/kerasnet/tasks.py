"""The learning tasks: their names, what each asks of the network, and which one a target asks for.

Every module that needs to know what ``task="binary"`` means reads it here: the output
activation (:func:`kerasnet.mlp`), the Keras loss (:func:`kerasnet.compile_for` and the path
engine), the held-out score a run reports (accuracy, or RMSE for regression), and the rule
that infers the task from a target (:func:`infer_task`).
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd

from .columns import check_finite, is_numeric, is_text, stray_text
from .errors import InputError, listing, plain, short

__all__ = ["CLASSIFICATION", "LOSS", "MAX_INTEGER_CLASSES", "OUTPUT_ACTIVATION", "SCORE", "TASKS",
           "check_task", "infer_task", "keras_loss", "keras_metrics"]

TASKS = ("binary", "multiclass", "regression", "poisson", "cox")

#: The tasks whose targets are classes (stratified folds, class measures).
CLASSIFICATION = ("binary", "multiclass")

#: The last layer's activation: a probability, class probabilities, values, or a rate
#: (``exp`` of the network's log-rate: Poisson's log link).
OUTPUT_ACTIVATION = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear",
                     "poisson": "exponential", "cox": "linear"}

#: Keras's loss of each task, on the outputs above (labels 0/1, class indices, values, counts:
#: Keras's ``poisson`` is ``mu - y log(mu)``, half the Poisson deviance up to a constant in y).
LOSS = {"binary": "binary_crossentropy", "multiclass": "sparse_categorical_crossentropy",
        "regression": "mean_squared_error", "poisson": "poisson", "cox": "cox"}

#: The held-out score reported for each task (the metric's name in Keras's logs).
SCORE = {"binary": "accuracy", "multiclass": "accuracy", "regression": "rmse", "poisson": "rmse",
         "cox": "loss"}

#: Integer-valued numeric targets with at most this many distinct values are classes.
MAX_INTEGER_CLASSES = 20


def check_task(task) -> str:
    """``task`` itself when it is one of :data:`TASKS`; else :class:`~kerasnet.errors.InputError`."""
    if task not in TASKS:
        raise InputError(f"task must be one of {', '.join(TASKS)}; received {task!r}.")
    return task


def keras_loss(task):
    """A Keras loss object for ``task`` (:data:`LOSS`)."""
    if check_task(task) == "cox":
        from .survival import CoxPartialLikelihood

        return CoxPartialLikelihood()
    classes = {"binary": keras.losses.BinaryCrossentropy,
               "multiclass": keras.losses.SparseCategoricalCrossentropy,
               "regression": keras.losses.MeanSquaredError, "poisson": keras.losses.Poisson}
    return classes[check_task(task)]()


def keras_metrics(task):
    """The Keras metric computing :data:`SCORE` for ``task``."""
    if check_task(task) == "binary":
        return [keras.metrics.BinaryAccuracy(SCORE[task])]
    if task == "multiclass":
        return [keras.metrics.SparseCategoricalAccuracy(SCORE[task])]
    if task == "cox":
        return []  # the loss is the score
    return [keras.metrics.RootMeanSquaredError(SCORE[task])]


def infer_task(y) -> str:
    """The task a target asks for: ``"binary"``, ``"multiclass"`` or ``"regression"``.

    The rule:

    - a non-numeric target (strings, categories, booleans) is classification: ``binary``
      with 2 distinct values, ``multiclass`` with more;
    - a numeric target whose values are all integers and that has at most
      ``MAX_INTEGER_CLASSES`` (20) distinct values is classification the same way;
    - any other numeric target is ``regression``;
    - a target with a single distinct value is an error (nothing to learn);
    - a text target that is mostly numbers (more than ``PARSE_SHARE`` of the values parse)
      but holds some text ("?", "n/a") is an error: the text would become extra classes.

    The command line's ``--task`` overrides the rule.

    Examples
    --------
    >>> infer_task(["a", "b", "a"]), infer_task([0, 1, 2, 1]), infer_task([0.5, 1.25, 3.0])
    ('binary', 'multiclass', 'regression')
    """
    y = pd.Series(y) if not isinstance(y, pd.Series) else y
    check_finite(y, "target")
    name = short(y.name) if y.name is not None else "y"
    n_distinct = int(y.nunique())
    if n_distinct < 2:
        value = plain(y.iloc[0]) if len(y) else None
        value = short(value) if isinstance(value, str) else value
        raise InputError(
            f"target '{name}' has one class ({value!r}) in "
            f"{len(y)} rows; a model needs at least two distinct target values."
        )
    if is_text(y):
        bad = stray_text(y)
        if bad is not None:
            raise InputError(
                f"target '{name}' holds numbers but {bad[0]} of {len(y)} values are not numbers: "
                f"{listing(bad[1], quote=True)}; fix or fill those values (or remove those rows) "
                "in the data."
            )
    if is_numeric(y):
        values = y.to_numpy(dtype=float)
        if n_distinct > MAX_INTEGER_CLASSES or not np.all(values == np.round(values)):
            return "regression"
    return "binary" if n_distinct == 2 else "multiclass"
