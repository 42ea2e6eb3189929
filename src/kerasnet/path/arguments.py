"""Checking ``fit_path``'s settings before anything trains: counts, strengths, rates, seed, cv, layers.

Every check raises :class:`kerasnet.errors.InputError` (a ``ValueError``) whose one line names
the argument, the value received and what is accepted, so a mistake ends at once rather
than after training (a strength of ``1e30`` or a learning rate of ``inf`` would otherwise
train every member and end as "every strength diverged").
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..errors import InputError, plain, short

__all__ = ["MAX_SEED", "MAX_STRENGTH", "check_cv", "check_hidden", "check_int", "check_lambdas",
           "check_learning_rate", "check_seed", "check_settings"]

#: The largest strength accepted. On standardized features (and target) glmnet's
#: ``lambda_max``, where every weight is zero, is of order one (``2 * max|x'y| / n`` is at most
#: 2 for a lasso, a thousand times that for ridge's fallback); a strength beyond this zeroes
#: every weight many times over and only overflows float32 (Adam squares its gradients).
#: The command line's limit is the same.
MAX_STRENGTH = 1e6
#: The largest seed: numpy's ``RandomState`` and scikit-learn's ``random_state`` take 32 bits.
MAX_SEED = 2**32 - 1


def shown(value, width=40):
    """``value``'s repr (numpy scalars as Python's), cut to ``width`` characters: strings keep
    their quotes, numbers have none."""
    return short(repr(plain(value)), width)


def check_int(value, name, low):
    """``value`` as an int, or ValueError unless it is an integer >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise InputError(f"{name} must be an integer >= {low}; received {name}={value!r}.")
    return int(value)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_learning_rate(learning_rate):
    """``learning_rate`` as a float, or None; InputError unless a finite number > 0."""
    if learning_rate is None:
        return None
    if not _is_real(learning_rate) or not math.isfinite(learning_rate) or not learning_rate > 0:
        raise InputError(f"learning_rate must be a finite number > 0, such as 1e-3; received "
                         f"learning_rate={shown(learning_rate)}.")
    return float(learning_rate)


def check_lambdas(lambdas):
    """A given grid as a float array ``[L]`` (None stays None): every strength finite, >= 0
    and at most :data:`MAX_STRENGTH`; InputError naming the first that is not."""
    if lambdas is None:
        return None
    if isinstance(lambdas, (str, bytes)):
        raise InputError(f"lambdas must be a sequence of strengths such as [0.1, 0.01]; received the "
                         f"string {shown(lambdas)}.")
    values = np.atleast_1d(np.asarray(lambdas, dtype=object))
    if values.ndim != 1 or values.size < 1:
        raise InputError(f"lambdas must be a 1-D sequence of at least one strength; received "
                         f"{shown(lambdas)}.")
    for value in values.tolist():
        if not _is_real(value) or not math.isfinite(value) or value < 0:
            raise InputError(f"each of lambdas must be a finite number >= 0; received {shown(value)}.")
        if value > MAX_STRENGTH:
            raise InputError(f"each of lambdas must be at most {MAX_STRENGTH:g} (a larger strength zeroes "
                             f"every weight and overflows); received {value!r}.")
    return values.astype(float)


def check_seed(seed):
    """``seed`` as an int, or None; InputError unless an integer in ``[0, MAX_SEED]``."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed <= MAX_SEED:
        kind = "" if isinstance(seed, numbers.Integral) else f" of type {type(seed).__name__}"
        raise InputError(f"seed must be None or an integer in [0, 2**32 - 1]; received "
                         f"seed={shown(seed)}{kind}.")
    return int(seed)


def check_hidden(hidden):
    """The hidden layer sizes as a tuple of ints: an int is one layer, a sequence one size per
    layer (``()``: the linear model); InputError for anything else (a string included)."""
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if isinstance(hidden, (str, bytes)) or not np.iterable(hidden):
        raise InputError(f"hidden must be a sequence of positive layer sizes such as (64, 64), an int for "
                         f"one layer, or () for the linear model; received hidden={shown(hidden)}.")
    sizes = tuple(hidden)
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise InputError(f"hidden must hold positive integer layer sizes such as (64, 64); received "
                         f"hidden={shown(hidden)}.")
    return tuple(int(s) for s in sizes)


def check_cv(cv, foldid=None):
    """InputError unless ``cv`` is an int >= 2, a splitter (with ``split``) or an iterable of
    ``(train, test)`` pairs; ``foldid`` given overrides it, so ``cv`` is not looked at."""
    if foldid is not None:
        return
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise InputError(f"cv must be an integer >= 2 (the number of folds); received cv={cv!r}.")
        return
    # A string has .split and is iterable, but is neither a splitter nor (train, test) pairs.
    text = isinstance(cv, (str, bytes))
    if text or cv is None or isinstance(cv, bool) or not (hasattr(cv, "split") or np.iterable(cv)):
        hint = f" (the number: cv={int(cv)})" if text and cv.strip().isdigit() else ""
        raise InputError(f"cv must be an int >= 2 (folds), a scikit-learn splitter or an iterable of "
                         f"(train, test) index pairs; received cv={shown(cv)} of type "
                         f"{type(cv).__name__}{hint}.")


def check_settings(lambda_min_ratio, learning_rate, l1_ratio=0.0, *, lambdas=None, **counts):
    """``(l1_ratio, lambda_min_ratio)`` checked (in [0, 1] and (0, 1)), the learning rate
    finite and > 0 (or None), ``lambdas`` (:func:`check_lambdas`) and every count an integer
    >= 1; an InputError naming the fix."""
    from ..penalty import check_strength

    try:
        l1_ratio = check_strength(l1_ratio, "l1_ratio")
        lambda_min_ratio = check_strength(lambda_min_ratio, "lambda_min_ratio")
    except ValueError as err:
        raise InputError(str(err)) from None
    if l1_ratio > 1:
        raise InputError(f"l1_ratio must be in [0, 1]; received l1_ratio={l1_ratio!r}.")
    for name, value in counts.items():
        check_int(value, name, 1)
    if not 0 < lambda_min_ratio < 1:
        raise InputError(f"lambda_min_ratio must be in (0, 1); received "
                         f"lambda_min_ratio={lambda_min_ratio!r}.")
    check_learning_rate(learning_rate)
    check_lambdas(lambdas)
    return l1_ratio, lambda_min_ratio
