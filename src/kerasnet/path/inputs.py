"""Checking and encoding what ``fit_path`` is given: features, target, task, counts."""

from __future__ import annotations

import contextlib
import numbers
import random

import keras
import numpy as np

from ..errors import InputError
from ..models import mlp
from ..standardization import weighted_moments
from ..tasks import check_task
from .arguments import check_hidden, check_int, check_settings, shown
from .device import to_device
from .members import HOLD
from .sources import is_streamed, open_streamed

__all__ = ["NumpyGlorotUniform", "build_model", "check_features", "check_int", "check_settings",
           "check_target", "check_xy", "encode_target", "flat_inputs", "model_inputs", "n_rows",
           "network_and_inputs", "penalty_factors", "poisson_offset"]


def check_target(y, n):
    """``y`` as an array of one value (or one row) per row; InputError naming the fix."""
    if y is None:
        raise InputError(f"y is None; give the target: one value (or row) per row of X ({n}).")
    y = np.asarray(y)
    if y.ndim == 0:
        raise InputError(f"y must hold one value per row of X ({n}); received the scalar {shown(y.item())}.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape[0] != n:
        raise InputError(f"y must have one value per row of X ({n}); received {y.shape[0]}.")
    return y


def check_xy(X, y):
    """The MLP's inputs: ``(X float32 [n, d], y, feature names)``; errors name the fix.

    ``X`` is an array or a DataFrame of real numbers in float32's range: a path, a sparse
    matrix, complex numbers, text, missing or infinite values are refused with what to do.
    """
    names = [str(c) for c in X.columns] if hasattr(X, "columns") else None
    values = check_features(X, min_rows=2)
    return values, check_target(y, values.shape[0]), names or [f"x{j}" for j in range(values.shape[1])]


def check_features(X, n_features=None, min_rows=1):
    """``X`` as float32 ``[n, d]``: at least ``min_rows`` rows, ``n_features`` columns when
    given (a fitted path's), every value real, finite and within float32's range; an
    InputError naming what is wrong (the column, the row) and the fix."""
    names = [str(c) for c in X.columns] if hasattr(X, "columns") else None
    X = _frame_values(X) if hasattr(X, "columns") and hasattr(X, "dtypes") else _array_values(X)
    if X.ndim != 2 or X.shape[0] < min_rows or X.shape[1] < 1:
        rows = "1 row" if min_rows == 1 else f"{min_rows} rows"
        raise InputError(f"X must be a 2-D array with at least {rows} and 1 column; received shape "
                         f"{X.shape}.")
    if n_features is not None and X.shape[1] != n_features:
        raise InputError(f"X has {X.shape[1]} feature columns but the path was fit on {n_features}; give "
                         "the same columns, in the same order, as to fit_path.")
    with np.errstate(over="ignore"):  # beyond float32: inf, found and named below
        values = X.astype("float32", copy=False)
    if not np.isfinite(values).all():
        i, j = np.argwhere(~np.isfinite(values))[0]
        column = f"column {names[j]!r}" if names else f"column {j}"
        if np.isfinite(X[i, j]):
            raise InputError(f"X has a value beyond float32's range (+-3.4e38) in {column}, row {i}: "
                             f"{float(X[i, j]):g}; rescale that column.")
        raise InputError(f"X contains a NaN or infinite value in {column}, row {i}; impute or drop such rows "
                         "first.")
    return values


def _array_values(X):
    """``X`` as a real numeric numpy array (not yet float32), or InputError saying what it is."""
    import os

    from scipy import sparse

    if X is None:
        raise InputError("X is None; give the features: an array or a DataFrame [n, d].")
    if isinstance(X, (str, bytes, os.PathLike)):
        raise InputError(f"X={shown(os.fsdecode(X), 60)} is a path; this function takes the features in "
                         "memory (an array or a DataFrame: load the file with pandas.read_parquet or "
                         "read_csv first); only fit_path streams a Parquet file given by its path.")
    if sparse.issparse(X):
        raise InputError(f"X is a scipy sparse matrix (shape {X.shape}); the path trains on dense arrays: "
                         "pass X.toarray() (it must fit in memory).")
    try:
        X = np.asarray(X)
    except ValueError:
        raise InputError("X must be a 2-D array [n, d]; received rows of different lengths.") from None
    if np.iscomplexobj(X):
        raise InputError(f"X has complex values (dtype {X.dtype}); the path needs real features (pass "
                         "X.real, np.abs(X) or both as columns).")
    if X.dtype.kind in "biuf":
        return X
    try:
        return X.astype("float64")
    except (TypeError, ValueError):
        for index, value in np.ndenumerate(X):
            try:
                float(value)
            except (TypeError, ValueError):
                where = f"row {index[0]}, column {index[1]}" if len(index) == 2 else f"position {index}"
                raise InputError(f"X must be real numbers; received {shown(value)} ({type(value).__name__}) "
                                 f"at {where}: encode categorical columns as numbers first.") from None
        raise InputError(f"X must be real numbers; received dtype {X.dtype}.") from None


def _frame_values(X):
    """A DataFrame's values as float64 ``[n, d]``; InputError naming the first column that is not
    numeric or has a missing value."""
    import pandas as pd

    for j, (column, dtype) in enumerate(X.dtypes.items()):
        values = X.iloc[:, j]
        if pd.api.types.is_complex_dtype(dtype):
            raise InputError(f"X's column {str(column)!r} has complex values; the path needs real features.")
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            example = values.dropna().iloc[0] if values.notna().any() else None
            raise InputError(f"X's column {str(column)!r} is not numeric (dtype {dtype}, e.g. "
                             f"{shown(example)}); encode categorical columns as numbers first.")
        missing = np.flatnonzero(np.asarray(values.isna()))
        if len(missing):
            raise InputError(f"X has missing values in column {str(column)!r} ({len(missing)}, the first in "
                             f"row {missing[0]}); impute or drop them first.")
    return X.to_numpy(dtype="float64")


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
    mean, sd = weighted_moments(flat, weight)  # sd 1 where constant (kerasnet.standardization's rule)
    return (flat - mean) / sd


def encode_target(y, task):
    """``(task, y for the engine, classes, n_outputs)``; ``task`` None is inferred from ``y``.

    Classes become their indices (float 0/1 for ``binary``, int for ``multiclass``);
    a regression target stays values (``[n]`` or ``[n, o]``).
    """
    if task is None and np.ndim(y) == 2 and np.shape(y)[1] > 1:
        task = "regression"  # several target columns: multi-response regression (glmnet's mgaussian)
    if task is None:
        from ..data import infer_task

        _refuse_missing(y)  # named by row here (infer_task words it for a file's column)
        task = infer_task(y)
    check_task(task)
    if task == "regression":
        y_enc = _real_target(y, task)
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
    classes, y_enc = _classes(y, task)
    if task == "binary":
        if len(classes) != 2:
            raise ValueError(f"task='binary' needs exactly 2 classes in y; received {len(classes)}.")
        return task, y_enc.astype("float32"), classes, 1
    return task, y_enc.astype("int32"), classes, len(classes)


def _real_target(y, task):
    """A regression target as float32, or InputError: text, complex, missing or infinite values."""
    if np.iscomplexobj(y):
        raise InputError(f"task={task!r} needs a real target; received complex values (dtype {y.dtype}).")
    _refuse_missing(y)
    try:
        values = np.asarray(y, dtype="float64")
    except (TypeError, ValueError):
        raise InputError(f"task={task!r} needs a numeric target; received y of dtype {y.dtype} (e.g. "
                         f"{shown(y.ravel()[0])}); encode it as numbers, or give task='binary' / "
                         "'multiclass' for labels.") from None
    bad = np.flatnonzero(~np.isfinite(values).reshape(len(values), -1).all(axis=1))
    if len(bad):
        raise InputError(f"y has a missing or infinite value in row {bad[0]} ({len(bad)} rows); drop or "
                         "impute them first.")
    return values.astype("float32")


def _refuse_missing(y):
    """InputError naming the first row of ``y`` with a missing value (NaN, None, ``pd.NA``)."""
    import pandas as pd

    if y.dtype.kind not in "fcOUS" or y.dtype.names is not None:
        return  # integers and booleans hold no missing value
    missing = np.asarray(pd.isna(y)).reshape(len(y), -1).any(axis=1)
    if missing.any():
        raise InputError(f"y has a missing value in row {np.flatnonzero(missing)[0]} (rows missing one: "
                         f"{int(missing.sum())}); drop those rows or fill them in first.")


def _classes(y, task):
    """``(classes, each row's class index)`` of one label per row; InputError for several
    columns, missing labels or labels of mixed types."""
    if y.ndim != 1:
        raise InputError(f"task={task!r} needs one class label per row; received y of shape {y.shape} "
                         "(one-hot labels: pass y.argmax(axis=1); several targets: task='regression'; "
                         "(time, event): task='cox').")
    _refuse_missing(y)
    try:
        return np.unique(y, return_inverse=True)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in y.tolist()})
        raise InputError(f"y's labels mix types ({', '.join(kinds)}) and cannot be ordered; give labels of "
                         "one type.") from None


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
        values = self._rng.uniform(-limit, limit, size=shape).astype(dtype or "float32")
        # A device array: Keras would stage a host array by a small program compiled for each shape.
        return to_device(values) if keras.backend.backend() == "jax" else values

    def get_config(self):
        return {"seed": self.seed}


def network_and_inputs(X, y, model, hidden, seed, sample_weight, scheduler):
    """Checked inputs, feature names, ``build(n_outputs, task)`` for the network, and the
    row weights (a column of a streamed source is read here)."""
    if model is not None and not isinstance(model, keras.Model) and not callable(model):
        raise InputError(f"model must be a keras.Model or a function returning one (None: the MLP); received "
                         f"model={shown(model)} of type {type(model).__name__}.")
    hidden = check_hidden(hidden)
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
    d = len(names)

    def build(n_outputs, task):
        return mlp(d, n_outputs, hidden, task, seed=seed, kernel_initializer=NumpyGlorotUniform(seed))

    return X, y, names, build, sample_weight


def penalty_factors(penalty_factor, exclude, names, network=None, applies=True):
    """glmnet's ``penalty.factor`` and ``exclude`` as one array ``[d]``, or None for neither.

    As glmnet: an infinite factor excludes its feature too; excluded features count with a
    factor of 1 while the factors are rescaled to sum to the number of features ``d`` (so
    excluding one does not move the others' strengths), then hold their rows at zero
    (:data:`~kerasnet.path.members.HOLD`). ``exclude`` takes indices or feature names. ``network``'s
    first kernel gets the
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
    factor = np.where(held, HOLD, factor * d / factor.sum())
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
