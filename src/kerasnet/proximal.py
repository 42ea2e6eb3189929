"""The proximal step: soft-thresholds applied after each optimizer update, with any Keras optimizer.

A proximal penalty (``ElasticNet(proximal=True)``, ``GroupLasso``) keeps only its smooth part
in the loss; its non-smooth part is applied by :class:`ProximalStep`, a Keras ``Constraint``
installed on the penalized kernel. Keras calls ``variable.constraint`` inside
``optimizer.apply`` right after the gradient update and *before* the iteration counter is
incremented, so the step can read the learning rate (schedule included) and the adaptive
state the optimizer has just used. It finds that optimizer through the name scope Keras
opens around ``apply`` (``name_scope(optimizer.name, caller=optimizer)``): this works the
same in JAX's jitted stateless training (optimizer variables are then read through the
``StatelessScope``) and in torch's eager training, and needs no callback.

Step size rule
--------------
The threshold of weight ``i`` is ``strength * s_i``, where ``s_i`` is the optimizer's
effective step per unit of gradient for that weight. With it, a weight sits still exactly
when the optimality condition of the penalized objective holds (``|g_i| <= l1`` at zero,
``g_i = -l1 sign(w_i)`` elsewhere), so the fixed points of training are the minimizers of
``data loss + penalty`` for every supported optimizer, not of some rescaled objective:

============================  ======================================================
optimizer                     ``s_i``
============================  ======================================================
SGD                           ``lr`` (``lr / (1 - momentum)`` with momentum)
Adam                          ``lr * sqrt(1 - beta_2**t) / (sqrt(v_i) + epsilon)``
                              (:func:`adam_step_size`)
AdamW                         as Adam, but see *Weight decay* below
Nadam                         ``lr / (sqrt(v_i / (1 - beta_2**t)) + epsilon)``
Adamax                        ``lr / (u_i + epsilon)``
RMSprop                       ``lr / sqrt(v_i + epsilon)`` (``/ (1 - momentum)``)
Adagrad                       ``lr / sqrt(a_i + epsilon)``
any other optimizer           ``lr``
============================  ======================================================

With ``gradient_accumulation_steps`` the step is taken only on the batches where the
optimizer actually updates the weights.

``lr`` is the optimizer's current learning rate and ``v_i`` (``u_i``, ``a_i``) its second
moment state after this step's update: exactly the factor that multiplied the (bias
corrected) gradient in the update just made. For plain SGD this is the textbook proximal
gradient step ``w <- prox_{lr * l1}(w - lr * g)``.

Weight decay
------------
Keras applies an optimizer's decoupled ``weight_decay`` (AdamW's default is 0.004; any
optimizer accepts ``weight_decay=``) *before* the update: ``w <- w - lr * weight_decay * w``.
Training with a proximal penalty then settles where ``lr * weight_decay * w_i + s_i * (g_i +
l1 sign(w_i)) = 0``, which is not the minimizer of ``data loss + penalty`` (the decay is
weighted by ``1 / s_i``, different for each weight and changing over training).
:class:`ProximalStep` warns (``UserWarning``, once per optimizer) when the running optimizer
has a nonzero ``weight_decay``: use the L2 part of ``ElasticNet`` (``l2=``) instead.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
from keras import ops

__all__ = [
    "ProximalStep",
    "adam_step_size",
    "current_optimizer",
    "proximal_penalty",
    "effective_step",
    "group_soft_threshold",
    "numpy_row_norms",
    "row_norms",
    "soft_threshold",
]


def row_norms(kernel):
    """The L2 norm of each row of a kernel ``[d, ...]`` (one per input feature of a ``Dense`` layer),
    in ``keras.ops``: differentiable, in the kernel's dtype, inside any backend's traced step.

    The group lasso's groups (:class:`kerasnet.penalty.GroupLasso`, the path's feature penalty)
    and its proximal step are these norms; :func:`numpy_row_norms` is the same in float64 NumPy.

    Examples
    --------
    >>> np.asarray(row_norms(np.array([[3.0, 4.0], [0.0, 0.0]]))).tolist()
    [5.0, 0.0]
    """
    kernel = ops.convert_to_tensor(kernel)
    rows = ops.reshape(kernel, (ops.shape(kernel)[0], -1))
    return ops.sqrt(ops.sum(ops.square(rows), axis=1))


def numpy_row_norms(kernel):
    """:func:`row_norms` of weights in NumPy, in float64 whatever the weights' dtype: ``[d]`` for
    a kernel ``[d, ...]`` (0 exactly when the row, the feature, is all zeros).

    Examples
    --------
    >>> numpy_row_norms(np.array([[3.0, 4.0], [0.0, 0.0]], "float32")).tolist()
    [5.0, 0.0]
    """
    kernel = np.asarray(kernel, "float64")
    return np.sqrt(np.square(kernel.reshape(len(kernel), -1)).sum(axis=1))


def soft_threshold(w, threshold):
    """``sign(w) * max(|w| - threshold, 0)``: the proximal operator of ``threshold * |w|_1``.

    ``threshold`` is a scalar or a tensor broadcastable to ``w``.

    Examples
    --------
    >>> import numpy as np
    >>> np.asarray(soft_threshold(np.array([-2.0, 0.5, 3.0]), 1.0)).tolist()
    [-1.0, 0.0, 2.0]
    """
    w = ops.convert_to_tensor(w)
    threshold = ops.cast(threshold, w.dtype)
    return ops.sign(w) * ops.maximum(ops.abs(w) - threshold, ops.zeros_like(w))


def group_soft_threshold(w, threshold, iterations=8):
    """Proximal operator of the group lasso ``sum_j ||w[j]||_2`` (one group per row ``w[j]``).

    ``threshold`` is a scalar, one value per row, or one value per weight (shaped like ``w``).

    * Scalar or per row: ``w[j] <- w[j] * max(0, 1 - threshold_j / ||w[j]||_2)``, the proximal
      operator of ``threshold * sum_j ||w[j]||_2``.
    * Per weight (``b = step * strength`` with an optimizer's per-weight step, e.g. Adam's):
      the proximal operator of ``strength * ||x||_2`` in the metric ``diag(1 / step)``,
      ``argmin_x sum_i (x_i - w_i)**2 / (2 step_i) + strength * ||x||_2`` for each row. The
      row is zero when ``||w / b||_2 <= 1``; otherwise ``x_i = w_i * r / (r + b_i)`` where
      ``r = ||x||_2`` is the root of ``sum_i w_i**2 / (r + b_i)**2 = 1``, found by Newton's
      method on ``1 / sqrt(...)`` (concave in ``r``, so Newton climbs monotonically from the
      lower bound ``||w|| - max b`` and is exact in one step when all ``b_i`` are equal).
      ``iterations`` Newton steps (8 reach float32 precision for kernels seen in practice).

    Examples
    --------
    >>> import numpy as np
    >>> out = group_soft_threshold(np.array([[3.0, 4.0], [0.3, 0.4]]), 1.0)
    >>> np.asarray(out, dtype=float).round(6).tolist()
    [[2.4, 3.2], [0.0, 0.0]]
    """
    w = ops.convert_to_tensor(w)
    threshold = ops.cast(threshold, w.dtype)
    if len(threshold.shape) > 1 or (len(threshold.shape) == 1 and len(w.shape) == 1):
        return _group_prox_per_weight(w, ops.broadcast_to(threshold, ops.shape(w)), iterations)
    norms = row_norms(w)
    # Guard the division only; a zero row stays zero because its scale is multiplied by it.
    safe = ops.where(norms > 0, norms, ops.ones_like(norms))
    scale = ops.maximum(1.0 - threshold / safe, ops.zeros_like(norms))
    scale = ops.reshape(scale, (-1,) + (1,) * (len(w.shape) - 1))
    return w * ops.cast(scale, w.dtype)


def _group_prox_per_weight(w, b, iterations):
    """Row-wise ``argmin_x sum_i (x_i - w_i)**2 / (2 b_i) + ||x||_2`` (see group_soft_threshold)."""
    shape = ops.shape(w)
    z = ops.reshape(w, (shape[0], -1))
    b = ops.maximum(ops.reshape(b, (shape[0], -1)), ops.cast(1e-30, w.dtype))
    z2 = ops.square(z)
    # Zero row exactly when the subgradient condition holds at 0: ||z / b|| <= 1. (z / b, not
    # z**2 / b**2: b**2 underflows to 0 for a tiny b, and a zero entry then gives 0/0.)
    keep = ops.sum(ops.square(z / b), axis=1) > 1.0
    norm = ops.sqrt(ops.sum(z2, axis=1))
    r = ops.maximum(norm - ops.max(b, axis=1), ops.zeros_like(norm))
    tiny = ops.cast(1e-30, w.dtype)
    for _ in range(iterations):
        d = r[:, None] + b
        phi = ops.maximum(ops.sum(z2 / ops.square(d), axis=1), tiny)
        dphi = ops.sum(z2 / (d * ops.square(d)), axis=1)  # -phi'(r) / 2
        g = 1.0 / ops.sqrt(phi)  # increasing and concave in r; the root has g(r) = 1
        slope = ops.maximum(dphi * g / phi, tiny)
        r = ops.maximum(r - (g - 1.0) / slope, ops.zeros_like(r))
    x = z * (r[:, None] / (r[:, None] + b))
    x = ops.where(keep[:, None], x, ops.zeros_like(x))
    return ops.reshape(x, shape)


def adam_step_size(learning_rate, t, v, beta_2, epsilon):
    """Adam's step per unit of bias-corrected gradient: ``lr * sqrt(1 - beta_2**t) / (sqrt(v) + epsilon)``.

    Adam moves weight ``i`` by ``m_hat_i * s_i`` with ``m_hat = m / (1 - beta_1**t)`` the
    bias-corrected first moment, so ``s_i`` (this function) is the step per unit of gradient
    and ``l1 * s_i`` is the proximal threshold (see the module docstring). The ``1 / (1 -
    beta_1**t)`` factor of Keras's ``alpha_t`` belongs to ``m_hat``, not to the step.

    The one home of this rule: :class:`ProximalStep` and the stacked engine both call it.
    ``t`` is the step number (1 for the first update) and ``v`` the second moment after
    this step's update; ``t`` is a scalar or broadcastable to ``v`` (one per member of a
    stack, shaped ``[K, 1, ...]``).

    Examples
    --------
    >>> import numpy as np
    >>> round(float(np.asarray(adam_step_size(0.1, 1, np.float32(0.004), 0.999, 0.0))), 6)
    0.05
    """
    v = ops.convert_to_tensor(v)
    dtype = v.dtype
    correction = ops.sqrt(1.0 - ops.power(ops.cast(beta_2, dtype), ops.cast(t, dtype)))
    return ops.cast(learning_rate, dtype) * correction / (ops.sqrt(v) + ops.cast(epsilon, dtype))


def current_optimizer():
    """The Keras optimizer whose ``apply`` is running now, or None outside one.

    Keras opens ``name_scope(optimizer.name, caller=optimizer)`` around the update and
    the constraints (``BaseOptimizer.apply``); the innermost such scope is the optimizer
    actually updating the variables (the inner one of a ``LossScaleOptimizer``).
    """
    # Keras keeps its name-scope stack (thread-local) in global_state; there is no public
    # accessor. This is the one place kerasnet reads it.
    from keras.src.backend.common import global_state

    stack = global_state.get_global_attribute("name_scope_stack") or []
    for scope in reversed(stack):
        caller = getattr(scope, "caller", None)
        if isinstance(caller, keras.optimizers.Optimizer):
            return caller
    return None


def _state(optimizer, attribute, variable):
    slots = getattr(optimizer, attribute, None)
    if not slots:
        return None
    return slots[optimizer._get_variable_index(variable)]


def effective_step(optimizer, variable):
    """The optimizer's step per unit of gradient for each weight of ``variable`` (see module doc).

    Returns a scalar tensor (SGD, unknown optimizers) or a tensor shaped like ``variable``.
    Call it after the optimizer's update of this step and before its iteration counter
    moves on, as Keras does for constraints.
    """
    step = _step_per_weight(optimizer, variable)
    accumulation = getattr(optimizer, "gradient_accumulation_steps", None)
    if accumulation:
        # Keras calls constraints on every batch but updates only every `accumulation`
        # batches; shrinking in between would apply the threshold several times per update.
        # `iterations` counts updates then; `_iterations` counts batches, as Keras's own test.
        updated = (optimizer._iterations + 1) % accumulation == 0
        step = ops.where(updated, step, ops.zeros_like(step))
    return step


def _step_per_weight(optimizer, variable):
    dtype = variable.dtype
    lr = ops.cast(optimizer.learning_rate, dtype)
    t = ops.cast(optimizer.iterations + 1, dtype)
    opt = keras.optimizers
    eps = ops.cast(getattr(optimizer, "epsilon", 0.0) or 0.0, dtype)

    if isinstance(optimizer, opt.Adam):  # AdamW too
        v = _state(optimizer, "_velocity_hats" if optimizer.amsgrad else "_velocities", variable)
        if v is None:
            return lr
        return adam_step_size(lr, t, v, optimizer.beta_2, eps)
    if isinstance(optimizer, opt.Nadam):
        v = _state(optimizer, "_velocities", variable)
        v_hat = v / (1.0 - ops.power(ops.cast(optimizer.beta_2, dtype), t))
        return lr / (ops.sqrt(v_hat) + eps)
    if isinstance(optimizer, opt.Adamax):
        u = _state(optimizer, "_u", variable)
        return lr / (u + eps)
    if isinstance(optimizer, opt.RMSprop):
        v = _state(optimizer, "_velocities", variable)
        if optimizer.centered:
            v = v - ops.square(_state(optimizer, "_average_gradients", variable))
        step = lr / ops.sqrt(v + eps)
        if optimizer.momentum > 0:
            step = step / (1.0 - optimizer.momentum)
        return step
    if isinstance(optimizer, opt.Adagrad):
        a = _state(optimizer, "_accumulators", variable)
        return lr / ops.sqrt(a + eps)
    if isinstance(optimizer, opt.SGD):
        if optimizer.momentum > 0:
            return lr / (1.0 - optimizer.momentum)
        return lr
    return lr


def _warn_weight_decay(optimizer, variable):
    """Warn once per optimizer whose decoupled weight decay moves the proximal fixed point."""
    if not optimizer.weight_decay or getattr(optimizer, "_kerasnet_weight_decay_warned", False):
        return
    if isinstance(variable, keras.Variable) and not optimizer._use_weight_decay(variable):
        return
    optimizer._kerasnet_weight_decay_warned = True
    warnings.warn(
        f"{type(optimizer).__name__} (name={optimizer.name!r}) has weight_decay="
        f"{optimizer.weight_decay!r}, which Keras applies before the update: with a proximal "
        "penalty the fixed point of training is then not the minimizer of data loss + penalty. "
        "Use the L2 part of ElasticNet (l2=...) instead of weight_decay.",
        UserWarning,
        stacklevel=2,
    )


@keras.saving.register_keras_serializable(package="kerasnet")
class ProximalStep(keras.constraints.Constraint):
    """Kernel constraint that applies a proximal penalty's step after each optimizer update.

    ``w <- penalty.prox(w, step)`` where ``step`` is the running optimizer's effective step
    size for each weight (:func:`effective_step`): for ``ElasticNet(l1, l2, proximal=True)``
    the soft-threshold ``sign(w) * max(|w| - step*l1, 0)``, for ``GroupLasso`` the group
    soft-threshold of each input feature's row. Outside an optimizer update it returns
    ``w`` unchanged (there is no step to take).

    ``kerasnet.mlp`` and ``kerasnet.penalize`` install it for you; when you build layers
    yourself, pass it as the kernel constraint next to the regularizer::

        pen = kerasnet.ElasticNet(l1=1e-3, proximal=True)
        keras.layers.Dense(8, kernel_regularizer=pen, kernel_constraint=ProximalStep(pen))

    Parameters
    ----------
    penalty : ElasticNet or GroupLasso
        A proximal penalty (``penalty.proximal`` is True).
    then : keras.constraints.Constraint or None, default None
        A constraint the layer already had; applied after the proximal step.
    """

    def __init__(self, penalty, then=None):
        if isinstance(penalty, dict):
            penalty = keras.saving.deserialize_keras_object(penalty)
        if not callable(getattr(penalty, "prox", None)) or not getattr(penalty, "proximal", False):
            raise ValueError(
                "penalty must be a proximal kerasnet penalty such as "
                f"ElasticNet(l1=..., proximal=True) or GroupLasso(...); received penalty={penalty!r}."
            )
        self.penalty = penalty
        self.then = keras.constraints.get(then)

    def __call__(self, w):
        optimizer = current_optimizer()
        if optimizer is not None:
            _warn_weight_decay(optimizer, w)
            w = self.penalty.prox(w, effective_step(optimizer, w))
        if self.then is not None:
            w = self.then(w)
        return w

    def get_config(self):
        return {
            "penalty": keras.saving.serialize_keras_object(self.penalty),
            "then": None if self.then is None else keras.saving.serialize_keras_object(self.then),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["penalty"] = keras.saving.deserialize_keras_object(config["penalty"])
        if config.get("then") is not None:
            config["then"] = keras.saving.deserialize_keras_object(config["then"])
        return cls(**config)

    def __repr__(self):
        return f"ProximalStep({self.penalty!r}, then={self.then!r})"


def with_proximal_step(penalty, constraint=None):
    """The kernel constraint a layer penalized by ``penalty`` should carry.

    ``penalty`` replaces the layer's previous penalty, so a previous ``ProximalStep`` in
    ``constraint`` (the layer's existing one) is dropped, keeping the constraint it wrapped;
    that constraint is returned for a non-proximal penalty and composed after the proximal
    step otherwise.
    """
    if isinstance(constraint, ProximalStep):
        constraint = constraint.then
    if not getattr(penalty, "proximal", False):
        return constraint
    return ProximalStep(penalty, then=constraint)


def proximal_penalty(model) -> float:
    """The part of the penalty that proximal steps apply and ``model.losses`` leaves out.

    ``data loss + sum(model.losses) + proximal_penalty(model)`` is the objective a model with
    proximal penalties minimizes (Keras's logged ``loss`` holds the first two terms). Zero
    for models without proximal penalties.
    """
    total = 0.0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for name in ("kernel", "embeddings"):
            variable = getattr(layer, name, None)
            penalty = getattr(variable, "regularizer", None)
            if isinstance(variable, keras.Variable) and getattr(penalty, "proximal", False):
                value = variable.value
                total += float(ops.convert_to_numpy(penalty.total(value) - penalty(value)))
    return total
