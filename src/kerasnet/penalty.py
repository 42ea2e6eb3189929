"""Elastic-net penalties as Keras regularizers, and the lambda <-> (l1, l2) mapping."""

from __future__ import annotations

import math
import numbers

import keras
from keras import ops

__all__ = ["ElasticNet", "check_strength", "lambda_to_l1_l2"]


def check_strength(value, name: str) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` unless it is finite and >= 0.

    Accepts Python and numpy numbers (``keras.regularizers.L1L2`` rejects numpy floats).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{name} must be a non-negative finite number; received {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    value = float(value)
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(
            f"{name} must be a non-negative finite number; received {name}={value!r}."
        )
    return value


def lambda_to_l1_l2(lam: float, l1_ratio: float) -> tuple[float, float]:
    """Map glmnet's ``(lambda, alpha)`` to Keras's ``(l1, l2)``.

    glmnet's penalty is ``lam * (l1_ratio*|w|_1 + (1 - l1_ratio)/2 * |w|_2^2)``, so
    ``l1 = lam*l1_ratio`` and ``l2 = lam*(1 - l1_ratio)/2``.

    Parameters
    ----------
    lam : float
        Overall strength, >= 0.
    l1_ratio : float
        Share of L1 in [0, 1] (glmnet's ``alpha``).

    Returns
    -------
    (l1, l2) : tuple of float

    Examples
    --------
    >>> lambda_to_l1_l2(0.1, 0.5)
    (0.05, 0.025)
    """
    lam = check_strength(lam, "lam")
    l1_ratio = check_strength(l1_ratio, "l1_ratio")
    if l1_ratio > 1:
        raise ValueError(f"l1_ratio must be in [0, 1]; received l1_ratio={l1_ratio!r}.")
    return lam * l1_ratio, lam * (1.0 - l1_ratio) / 2.0


@keras.saving.register_keras_serializable(package="kerasnet")
class ElasticNet(keras.regularizers.Regularizer):
    """Elastic-net (L1-L2) penalty on a weight tensor, the seed recipe's regularizer.

    ``loss = l1 * sum(|w|) + l2 * sum(w**2)``, the same numbers as
    ``keras.regularizers.L1L2(l1, l2)``. Keras adds it, unscaled, to every training
    step's mean data loss. ``l2=0`` is the lasso (L1) case, ``l1=0`` ridge (L2).

    Parameters
    ----------
    l1 : float, default 0.0
        L1 strength, finite and >= 0 (numpy numbers accepted).
    l2 : float, default 0.0
        L2 strength, finite and >= 0.
    proximal : bool, default False
        When True the L1 part leaves the loss and is applied as a soft-threshold after
        each optimizer step, giving exact zeros. Not available yet.

    Examples
    --------
    >>> import keras, kerasnet
    >>> layer = keras.layers.Dense(4, kernel_regularizer=kerasnet.ElasticNet(l1=1e-3, l2=1e-4))
    """

    def __init__(self, l1=0.0, l2=0.0, proximal=False):
        self.l1 = check_strength(0.0 if l1 is None else l1, "l1")
        self.l2 = check_strength(0.0 if l2 is None else l2, "l2")
        if not isinstance(proximal, bool):
            raise ValueError(f"proximal must be True or False; received proximal={proximal!r}.")
        if proximal:
            raise NotImplementedError(
                "ElasticNet(proximal=True) is not available in this version of kerasnet; "
                "use proximal=False (Keras's subgradient L1)."
            )
        self.proximal = proximal

    @classmethod
    def from_lambda(cls, lam, l1_ratio=0.5, proximal=False):
        """Build from glmnet's convention: ``l1 = lam*l1_ratio``, ``l2 = lam*(1-l1_ratio)/2``.

        Examples
        --------
        >>> ElasticNet.from_lambda(0.1, 0.5)
        ElasticNet(l1=0.05, l2=0.025, proximal=False)
        """
        l1, l2 = lambda_to_l1_l2(lam, l1_ratio)
        return cls(l1=l1, l2=l2, proximal=proximal)

    def __call__(self, x):
        regularization = ops.convert_to_tensor(0.0, dtype=x.dtype)
        if self.l1 != 0.0:
            regularization += ops.cast(self.l1, dtype=x.dtype) * ops.sum(ops.absolute(x))
        if self.l2 != 0.0:
            regularization += ops.cast(self.l2, dtype=x.dtype) * ops.sum(ops.square(x))
        return regularization

    def to_keras(self) -> keras.regularizers.L1L2:
        """The equivalent built-in ``keras.regularizers.L1L2`` (for files plain Keras loads)."""
        return keras.regularizers.L1L2(l1=self.l1, l2=self.l2)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2, "proximal": self.proximal}

    def __repr__(self):
        return f"ElasticNet(l1={self.l1!r}, l2={self.l2!r}, proximal={self.proximal!r})"
