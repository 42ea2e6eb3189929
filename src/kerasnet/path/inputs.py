"""Checking and encoding what ``fit_path`` is given: features, target, task, counts."""

from __future__ import annotations

import contextlib
import numbers
import random

import keras
import numpy as np

from ..models import mlp
from ..tasks import check_task
from .sources import is_streamed, open_streamed

__all__ = ["NumpyGlorotUniform", "build_model", "check_int", "check_settings", "check_target", "check_xy",
           "encode_target", "flat_inputs", "model_inputs", "n_rows", "network_and_inputs", "penalty_factors",
           "poisson_offset"]


def check_int(value, name, low):
    """``value`` as an int, or ValueError unless it is an integer >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; received {name}={value!r}.")
    return int(value)


def check_settings(lambda_min_ratio, learning_rate, l1_ratio=0.0, **counts):
    """``(l1_ratio, lambda_min_ratio)`` checked (in [0, 1] and (0, 1)), the learning rate
    positive (or None) and every count an integer >= 1; a ValueError naming the fix."""
    from ..penalty import check_strength

    l1_ratio = check_strength(l1_ratio, "l1_ratio")
    if l1_ratio > 1:
        raise ValueError(f"l1_ratio must be in [0, 1]; received l1_ratio={l1_ratio!r}.")
    for name, value in counts.items():
        check_int(value, name, 1)
    lambda_min_ratio = check_strength(lambda_min_ratio, "lambda_min_ratio")
    if not 0 < lambda_min_ratio < 1:
        raise ValueError(f"lambda_min_ratio must be in (0, 1); received "
                         f"lambda_min_ratio={lambda_min_ratio!r}.")
    if learning_rate is not None and not float(learning_rate) > 0:
        raise ValueError(f"learning_rate must be > 0; received learning_rate={learning_rate!r}.")
    return l1_ratio, lambda_min_ratio


def check_target(y, n):
    """``y`` as an array of one value (or one row) per row; ValueError naming the fix."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape[0] != n:
        raise ValueError(f"y must have one value per row of X ({n}); received {y.shape[0]}.")
    return y


def check_xy(X, y):
    """The MLP's inputs: ``(X float32 [n, d], y, feature names)``; errors name the fix."""
    names = [str(c) for c in X.columns] if hasattr(X, "columns") else None
    try:
        X = np.asarray(X, dtype="float32")
    except (TypeError, ValueError):
        raise ValueError("X must be numeric (encode categorical columns first).") from None
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(
            f"X must be a 2-D array with at least 2 rows and 1 column; received shape {X.shape}."
        )
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values; impute or drop them first.")
    return X, check_target(y, X.shape[0]), names or [f"x{j}" for j in range(X.shape[1])]


def model_inputs(X, y):
    """A user's model's inputs as given (an array, or a list for several inputs), and ``y``."""
    X = [np.asarray(a) for a in X] if isinstance(X, (list, tuple)) else np.asarray(X)
    return X, check_target(y, n_rows(X))


def n_rows(X):
    return len(X[0]) if isinstance(X, list) else len(X)


def flat_inputs(X, weight):
    """All inputs as one standardized 2-D float array (for the data-derived grid only)."""
    parts = [np.asarray(a, float).reshape(n_rows(X), -1) for a in (X if isinstance(X, list) else [X])]
    flat = np.concatenate(parts, axis=1)
    mean = (flat * weight[:, None]).sum(axis=0) / weight.sum()
    sd = np.sqrt((np.square(flat - mean) * weight[:, None]).sum(axis=0) / weight.sum())
    return (flat - mean) / np.where(sd > 0, sd, 1.0)


def encode_target(y, task):
    """``(task, y for the engine, classes, n_outputs)``; ``task`` None is inferred from ``y``.

    Classes become their indices (float 0/1 for ``binary``, int for ``multiclass``);
    a regression target stays values (``[n]`` or ``[n, o]``).
    """
    if task is None and np.ndim(y) == 2 and np.shape(y)[1] > 1:
        task = "regression"  # several target columns: multi-response regression (glmnet's mgaussian)
    if task is None:
        from ..data import infer_task

        task = infer_task(y)
    check_task(task)
    if task == "regression":
        y_enc = y.astype("float32")
        return task, y_enc, None, (y_enc.shape[1] if y_enc.ndim == 2 else 1)
    if task == "cox":
        from ..survival import check_survival_target

        return task, check_survival_target(y), None, 1
    if task == "poisson":
        counts = np.asarray(y, dtype=float)
        if counts.ndim != 1 or not np.all(np.isfinite(counts)) or (counts < 0).any() or not counts.any():
            raise ValueError("task='poisson' needs one non-negative count per row (not all zero); "
                             "received a target outside that.")
        return task, counts.astype("float32"), None, 1
    classes, y_enc = np.unique(y, return_inverse=True)
    if task == "binary":
        if len(classes) != 2:
            raise ValueError(f"task='binary' needs exactly 2 classes in y; received {len(classes)}.")
        return task, y_enc.astype("float32"), classes, 1
    return task, y_enc.astype("int32"), classes, len(classes)


def build_model(model, seed=None):
    """A fresh, built copy of ``model``: a keras.Model (cloned, with its weights), or what a
    function returns, built with ``seed`` as Keras's global seed (the caller's random
    states are restored afterwards), so a seeded path starts from the same weights."""
    if isinstance(model, keras.Model):
        built = keras.models.clone_model(model)
        if model.built and built.built:  # the given weights are every member's start
            built.set_weights(model.get_weights())
    elif seed is None:
        built = model()
    else:
        with _seeded(int(seed)):
            built = model()
    if not isinstance(built, keras.Model) or not built.built:
        raise ValueError(
            f"model must be a built keras.Model or a function returning one; received {model!r}."
        )
    return built


@contextlib.contextmanager
def _seeded(seed):
    """``keras.utils.set_random_seed(seed)`` for the block only: Python's, numpy's, Keras's
    (and torch's) random states are put back as they were."""
    from keras.src.backend.common import global_state  # Keras keeps its seeds here; no public getter

    names = ("global_random_seed", "global_seed_generator")
    saved = [global_state.get_global_attribute(name) for name in names]
    python_state, numpy_state = random.getstate(), np.random.get_state()  # noqa: NPY002 (legacy state: what set_random_seed changes)
    torch_state = None
    if keras.backend.backend() == "torch":
        import torch

        torch_state = torch.random.get_rng_state()
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        for name, value in zip(names, saved, strict=True):
            global_state.set_global_attribute(name, value)
        random.setstate(python_state)
        np.random.set_state(numpy_state)  # noqa: NPY002
        if torch_state is not None:
            torch.random.set_rng_state(torch_state)


@keras.saving.register_keras_serializable(package="kerasnet")
class NumpyGlorotUniform(keras.initializers.Initializer):
    """Keras's Glorot uniform distribution, drawn with numpy from one seeded generator.

    For the path's MLP: Keras's random initializers compile an XLA kernel for every kernel
    shape on JAX (a second or more on a small machine), numpy draws at once. Successive
    calls (the layers, in order) continue the same stream, so ``seed`` fixes them all.
    """

    def __init__(self, seed=None):
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = int(np.prod(shape[:-1])), int(shape[-1])
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return self._rng.uniform(-limit, limit, size=shape).astype(dtype or "float32")

    def get_config(self):
        return {"seed": self.seed}


def network_and_inputs(X, y, model, hidden, seed, sample_weight, scheduler):
    """Checked inputs, feature names, ``build(n_outputs, task)`` for the network, and the
    row weights (a column of a streamed source is read here)."""
    if is_streamed(X):
        if model is not None:
            raise ValueError("model= trains on arrays in memory; a Parquet file or Dask DataFrame streams "
                             "the MLP path only (leave model=None, or load the data as arrays).")
        if scheduler is not None:
            raise ValueError("scheduler= ships arrays in memory to the workers; a Parquet file or Dask "
                             "DataFrame trains here (leave scheduler=None).")
        X, y, sample_weight = open_streamed(X, y, sample_weight)
        y, names = check_target(y, X.n), list(X.columns)
    elif model is None:
        X, y, names = check_xy(X, y)
    else:
        X, y = model_inputs(X, y)
        return X, y, [], lambda n_outputs, task: build_model(model, seed), sample_weight
    d, hidden = len(names), tuple(hidden)

    def build(n_outputs, task):
        return mlp(d, n_outputs, hidden, task, seed=seed, kernel_initializer=NumpyGlorotUniform(seed))

    return X, y, names, build, sample_weight


def penalty_factors(penalty_factor, exclude, names, network=None, applies=True):
    """glmnet's ``penalty.factor`` and ``exclude`` as one array ``[d]``, or None for neither.

    As glmnet: an infinite factor excludes its feature too; excluded features count with a
    factor of 1 while the factors are rescaled to sum to the number of features ``d`` (so
    excluding one does not move the others' strengths), then hold their rows at zero
    (1e30). ``exclude`` takes indices or feature names. ``network``'s first kernel gets the
    excluded rows set to zero (they start, and stay, there); ``applies`` False refuses both.
    """
    if penalty_factor is None and exclude is None:
        return None
    if not applies:
        raise ValueError("penalty_factor= and exclude= weigh the MLP's input features (model=None); a model "
                         "of your own has no first layer of features to weigh.")
    d = len(names)
    if penalty_factor is None:
        factor = np.ones(d)
    else:
        factor = np.asarray(penalty_factor, dtype=float).ravel()
        if factor.shape[0] != d:
            raise ValueError(f"penalty_factor must have one value per feature ({d}); received "
                             f"{factor.shape[0]}.")
        if np.isnan(factor).any() or (factor < 0).any():
            raise ValueError("penalty_factor must be >= 0 for every feature (0: unpenalized, inf: excluded); "
                             f"received {penalty_factor!r}.")
    held = np.isinf(factor)
    for item in [] if exclude is None else np.atleast_1d(np.asarray(exclude, dtype=object)).tolist():
        if isinstance(item, str):
            if item not in names:
                raise ValueError(f"exclude names a feature the data does not have: {item!r}; the features "
                                 f"are {', '.join(map(str, names[:10]))}{' ...' if d > 10 else ''}.")
            held[names.index(item)] = True
        elif isinstance(item, numbers.Integral) and not isinstance(item, bool) and -d <= item < d:
            held[int(item)] = True
        else:
            raise ValueError(f"exclude takes feature indices in [0, {d}) or names; received {item!r}.")
    if held.all():
        raise ValueError("exclude leaves no feature to fit; keep at least one.")
    factor = np.where(held, 1.0, factor)
    if not factor.max() > 0:
        raise ValueError("every penalty factor is 0: nothing is penalized, so there is no path; give "
                         "some feature a positive factor.")
    factor = np.where(held, 1e30, factor * d / factor.sum())
    if network is not None:
        first, *rest = network.get_weights()
        network.set_weights([np.where(held[:, None], 0.0, first), *rest])
    return factor


def poisson_offset(offset, y, weight, task, feature_selection, network):
    """``offset`` (log exposure) checked, as float64 ``[n]`` or None; for Poisson the output
    layer's bias starts at the null model's log rate, so every member starts from it.

    ``exp(offset)`` multiplies the network's rate: the members fit ``mu = exp(eta + offset)``
    (glmnet's ``offset``); ``Path.model`` predicts the rate at offset 0.
    """
    if offset is not None:
        if task != "poisson":
            raise ValueError(f"offset= is the log exposure of task='poisson'; this task is {task!r}.")
        if feature_selection:
            raise ValueError("offset= is not supported with feature_selection=True; leave one out.")
        offset = np.asarray(offset, dtype=float).ravel()
        if offset.shape[0] != len(y) or not np.all(np.isfinite(offset)):
            raise ValueError(f"offset must be one finite log exposure per row ({len(y)}); received "
                             f"{offset.shape[0]} values, or a NaN or infinite one.")
    if task == "poisson" and network is not None:  # the MLP's output bias (a model of yours: as it is)
        w = np.asarray(weight, float)
        e = np.ones(len(y)) if offset is None else np.exp(offset)
        rate = float(w @ np.asarray(y, float) / (w @ e))
        *rest, bias = network.get_weights()
        network.set_weights([*rest, np.full_like(bias, np.log(rate))])
    return offset
