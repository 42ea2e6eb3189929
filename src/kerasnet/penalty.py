"""Elastic-net penalties as Keras regularizers, and the lambda <-> (l1, l2) mapping."""

from __future__ import annotations

import math
import numbers

import keras
from keras import ops

from .proximal import group_soft_threshold, row_norms, soft_threshold

__all__ = ["ElasticNet", "GroupLasso", "check_strength", "elastic_net", "lambda_to_l1_l2"]


def elastic_net(x, l1, l2):
    """The elastic-net penalty ``l1 * sum|x| + l2 * sum(x**2)`` of one weight tensor.

    The one formula behind :class:`ElasticNet` and the path engine's per-member penalty
    (:mod:`kerasnet.path.step`); ``l1`` and ``l2`` may be numbers or scalar tensors.
    """
    return l1 * ops.sum(ops.absolute(x)) + l2 * ops.sum(ops.square(x))


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
        When True the L1 part leaves the loss and is applied as the soft-threshold
        ``w <- sign(w) * max(|w| - step*l1, 0)`` after every optimizer update, giving
        exact zeros (the proximal gradient method). ``step`` is the running optimizer's
        current learning rate (schedules included) for SGD, and the per-weight effective
        step ``lr / (sqrt(v_hat) + eps)`` for adaptive optimizers such as Adam and RMSprop,
        so that training stops exactly at the minimizers of ``data loss + penalty``
        (see :mod:`kerasnet.proximal`). The step is carried out by the
        :class:`kerasnet.proximal.ProximalStep` kernel constraint, which ``mlp`` and
        ``penalize`` install next to the regularizer; works with any Keras optimizer and
        plain ``model.fit``. In this mode the regularizer itself (so ``model.losses`` and
        Keras's ``loss``) holds only the L2 part; :meth:`total` gives the whole penalty.

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
        if (self.l1 == 0.0 or self.proximal) and self.l2 == 0.0:
            return ops.convert_to_tensor(0.0, dtype=x.dtype)
        # Proximal mode: the L1 part is applied by the ProximalStep constraint, not the loss.
        l1 = 0.0 if self.proximal else self.l1
        return elastic_net(x, ops.cast(l1, x.dtype), ops.cast(self.l2, x.dtype))

    def total(self, x):
        """The whole penalty ``l1*sum|x| + l2*sum(x**2)`` in either mode (for reporting).

        In proximal mode ``__call__`` (hence ``model.losses``) holds only the L2 part; the
        objective being minimized is still ``data loss + total``.
        """
        x = ops.convert_to_tensor(x)
        return elastic_net(x, ops.cast(self.l1, x.dtype), ops.cast(self.l2, x.dtype))

    def prox(self, x, step):
        """Proximal step of the L1 part: ``sign(x) * max(|x| - step*l1, 0)``.

        ``step`` is the optimizer's step size, a scalar or one value per weight.
        """
        if self.l1 == 0.0:
            return x
        return soft_threshold(x, ops.cast(step, x.dtype) * ops.cast(self.l1, x.dtype))

    def to_keras(self) -> keras.regularizers.L1L2:
        """The built-in ``keras.regularizers.L1L2`` with the same objective (for files plain Keras loads).

        For ``proximal=True`` it has the same objective value but plain Keras trains its L1
        part by subgradient (no exact zeros).
        """
        return keras.regularizers.L1L2(l1=self.l1, l2=self.l2)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2, "proximal": self.proximal}

    def __repr__(self):
        return f"ElasticNet(l1={self.l1!r}, l2={self.l2!r}, proximal={self.proximal!r})"


@keras.saving.register_keras_serializable(package="kerasnet")
class GroupLasso(keras.regularizers.Regularizer):
    """Group lasso on the rows of a kernel: ``strength * sum_j ||w[j]||_2``.

    One group per index of the kernel's first axis; for a ``Dense`` kernel ``(n_in, units)``
    that is one group per input feature, so whole features drop out of the model. Use it
    on the first layer (``kerasnet.mlp(..., input_penalty=GroupLasso(0.05))``), with
    ``kerasnet.selected_features`` to read which features remain.

    With ``proximal=True`` (default) the penalty leaves the loss and is applied after
    every optimizer update as the group soft-threshold
    ``w[j] <- w[j] * max(0, 1 - step*strength / ||w[j]||_2)`` (installed as the kernel's
    :class:`kerasnet.proximal.ProximalStep` constraint), which sets whole rows exactly to
    zero. ``step`` is the optimizer's current learning rate for SGD (the exact proximal
    gradient step). For adaptive optimizers (Adam, RMSprop, ...) each weight has its own
    effective step ``s_i``, and the step is the group proximal operator in the metric
    ``diag(1/s)`` (a row is removed when ``||w / s||_2 <= strength``, otherwise shrunk by
    a one-dimensional root solve), so a row stands still exactly when the
    group-lasso optimality condition holds: the fixed points are the group-lasso optima,
    as for SGD. With ``proximal=False`` the
    penalty is an ordinary loss term trained by subgradient (rows get small, not zero).

    Parameters
    ----------
    strength : float
        Penalty strength, finite and >= 0.
    proximal : bool, default True

    Examples
    --------
    >>> import kerasnet
    >>> from kerasnet.penalty import GroupLasso
    >>> model = kerasnet.mlp(10, hidden=(8,), input_penalty=GroupLasso(0.05))
    """

    def __init__(self, strength, proximal=True):
        self.strength = check_strength(strength, "strength")
        if not isinstance(proximal, bool):
            raise ValueError(f"proximal must be True or False; received proximal={proximal!r}.")
        self.proximal = proximal

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        if self.proximal or self.strength == 0.0:
            return ops.convert_to_tensor(0.0, dtype=x.dtype)
        return ops.cast(self.strength, x.dtype) * ops.sum(row_norms(x))

    def total(self, x):
        """The whole penalty ``strength * sum_j ||x[j]||_2`` in either mode (for reporting)."""
        x = ops.convert_to_tensor(x)
        return ops.cast(self.strength, x.dtype) * ops.sum(row_norms(x))

    def prox(self, x, step):
        """Group soft-threshold of each row by ``step * strength``.

        ``step`` is a scalar or one value per weight; per weight it is the exact proximal
        step in the optimizer's metric (see :func:`kerasnet.proximal.group_soft_threshold`).
        """
        if self.strength == 0.0:
            return x
        step = ops.cast(step, x.dtype)
        return group_soft_threshold(x, step * ops.cast(self.strength, x.dtype))

    def get_config(self):
        return {"strength": self.strength, "proximal": self.proximal}

    def __repr__(self):
        return f"GroupLasso(strength={self.strength!r}, proximal={self.proximal!r})"
