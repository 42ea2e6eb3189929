"""One member's training step: data loss, elastic-net penalty, optimizer update, proximal L1.

Pure functions of tensors, written once for every backend and every member; the runners of
:mod:`kerasnet.path.runners` vectorize them over members (``jax.vmap``, ``torch.func.vmap``)
or loop. A step of member ``k`` is

1. ``value_and_grad`` of ``weighted mean data loss + l2_k * sum W**2 (+ l1_k * sum |W|) +
   model.losses`` through ``model.stateless_call(trainable, non_trainable, x, training=True)``;
2. ``optimizer.stateless_apply(optimizer_variables, grads, trainable)``, any Keras optimizer;
3. with ``proximal=True``, the soft-threshold ``W <- prox(W, l1_k * s)`` of the L1 part, where
   ``s`` is :func:`kerasnet.proximal.effective_step`: the rule of
   :class:`kerasnet.proximal.ProximalStep` in ``model.fit``;
4. with a group lasso (``grouped``: feature selection), the exact group soft-threshold of the
   rows of that kernel (one row per input feature) by ``group_k * s``
   (:func:`kerasnet.proximal.group_soft_threshold`, in the optimizer's metric), always.

With penalty factors (``factored``: glmnet's ``penalty.factor``) the first kernel's row ``j``
carries ``factor_j`` times the elastic net in 1. and 3., and a row with an excluded feature is
set to zero after every update. With an offset (Poisson's log exposure, ``Data.exposure``)
the model's output is multiplied by each row's ``exp(offset)`` before the loss.

The penalty is :func:`kerasnet.penalty.elastic_net`, the formula of Keras's own
``ElasticNet`` regularizer; the prox is :func:`kerasnet.proximal.soft_threshold`.
"""

from __future__ import annotations

import inspect
from typing import NamedTuple

import keras
from keras import ops

from ..penalty import elastic_net
from ..proximal import effective_step, group_soft_threshold, row_norms, soft_threshold
from ..survival import cox_terms
from .autodiff import value_and_grad
from .members import HELD

__all__ = ["Data", "MemberSettings", "MemberState", "Step", "kernel_positions", "penalized_indices",
           "per_sample_loss"]


def _rows_of(factor, kernel, stacked):
    """Per-row values (``[d]``, or ``[k, d]`` stacked) shaped to broadcast over ``kernel``'s rows."""
    lead = 2 if stacked else 1
    return ops.reshape(factor, tuple(factor.shape) + (1,) * (len(kernel.shape) - lead))


class MemberState(NamedTuple):
    """Everything one member carries between steps (a leading ``K`` axis when stacked)."""

    trainable: list
    non_trainable: list
    optimizer: list


class MemberSettings(NamedTuple):
    """What is fixed for a member during training (a leading ``K`` axis when stacked).

    ``x_mean``/``x_scale`` standardize the inputs as ``(x - x_mean) / x_scale`` and
    ``y_mean``/``y_scale`` the target, each with the member's own training rows; None
    (for all members) leaves them as given. ``group`` is the strength of the group lasso
    on the grouped kernel's rows (None: no group lasso); ``factor`` glmnet's per-feature
    penalty factors ``[d]`` on the first penalized kernel's rows (:data:`~kerasnet.path.members.HELD`
    or more: held at zero).
    """

    l1: object
    l2: object
    x_mean: object = None
    x_scale: object = None
    y_mean: object = None
    y_scale: object = None
    group: object = None
    factor: object = None


class Data(NamedTuple):
    """The rows every member draws from: inputs (an array or a list), target, row weights, and
    each row's exposure ``exp(offset)`` (Poisson's offset; None without one)."""

    X: object
    y: object
    sample_weight: object
    exposure: object = None


def penalized_indices(model, penalized):
    """Indices into ``model.trainable_variables`` of the penalized kernels.

    As :func:`kerasnet.penalize`: a layer's ``kernel`` (Dense, EinsumDense, convolutions,
    recurrent layers) or ``embeddings`` (Embedding), on the layers ``penalized`` selects
    (None: all; layer names or classes; or a predicate). Biases are never penalized.
    """
    if penalized is None:
        select = lambda layer: True  # noqa: E731
    elif callable(penalized) and not inspect.isclass(penalized):
        select = penalized
    else:
        items = [penalized] if isinstance(penalized, str) or inspect.isclass(penalized) else list(penalized)
        names = {i for i in items if isinstance(i, str)}
        classes = tuple(i for i in items if inspect.isclass(i))
        select = lambda layer: layer.name in names or (bool(classes) and isinstance(layer, classes))  # noqa: E731
    position = {id(v): i for i, v in enumerate(model.trainable_variables)}
    chosen = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for key in ("kernel", "embeddings"):
            variable = getattr(layer, key, None) if hasattr(layer, f"{key}_regularizer") else None
            if isinstance(variable, keras.Variable) and id(variable) in position and select(layer):
                chosen.append(position[id(variable)])
    return sorted(set(chosen))


def per_sample_loss(loss):
    """An unreduced per-sample loss ``(y_true, y_pred) -> [B]`` from a Keras loss name/object."""
    if isinstance(loss, keras.losses.Loss):
        return loss.call  # Loss.call is the unreduced loss (LossFunctionWrapper aligns ranks)
    fn = keras.losses.get(loss)

    def per_sample(y_true, y_pred):
        # As Keras's Loss wrapper: a [B] target meets a [B, 1] output as [B, 1].
        if len(y_true.shape) == len(y_pred.shape) - 1 and y_pred.shape[-1] == 1:
            y_true = ops.expand_dims(y_true, -1)
        return fn(y_true, y_pred)

    return per_sample


class Step:
    """One member's training step, evaluation and predictions, pure functions of tensors.

    Parameters
    ----------
    model : keras.Model
        Built; only its structure is used (weights come in as ``MemberState``).
    optimizer : keras.optimizers.Optimizer
        Built on ``model.trainable_variables``; only its stateless update is used.
    loss : str, loss function or keras.losses.Loss
    penalized : list of int
        Positions in ``model.trainable_variables`` of the penalized kernels.
    proximal : bool
        L1 by soft-thresholding after each update instead of in the gradient.
    grouped : int or None
        Position of the kernel whose rows (input features) carry the group lasso.
    factored : bool
        The first penalized kernel's rows (input features) carry per-feature penalty
        factors (``MemberSettings.factor``): row ``j``'s elastic net is multiplied by
        ``factor[j]``, and a factor of :data:`~kerasnet.path.members.HELD` or more holds the row at
        zero after every update.
    """

    def __init__(self, model, optimizer, loss, penalized, proximal, grouped=None, factored=False):
        # Cox's partial likelihood is a sum over each batch's risk sets, weighted inside them.
        self.cox = isinstance(loss, str) and loss == "cox"
        self.model, self.optimizer = model, optimizer
        self.loss = None if self.cox else per_sample_loss(loss)
        self.penalized, self.proximal = list(penalized), bool(proximal)
        # The grouped kernel carries the group lasso in place of the elastic net (mlp's input_penalty).
        self.grouped, self.elastic = grouped, [i for i in penalized if i != grouped]
        self.first = self.penalized[0] if self.penalized else None
        self.factored = bool(factored) and self.first is not None and self.first != grouped

    def penalty(self, trainable, l1, l2, group=None, factor=None):
        """The member's elastic-net penalty on its penalized kernels (never biases), each
        input feature's row of the first weighed by its ``factor``, and ``group * sum_j
        ||W[j]||_2`` on the grouped kernel's rows (in place of the elastic net there)."""
        total = 0.0
        for i in self.elastic:
            if self.factored and i == self.first and factor is not None:
                w = trainable[i]
                f = _rows_of(ops.where(factor >= HELD, 0.0, factor), w, stacked=False)
                total = total + ops.sum(l1 * f * ops.absolute(w)) + ops.sum(l2 * f * ops.square(w))
                continue
            total = total + elastic_net(trainable[i], l1, l2)
        if self.grouped is not None and group is not None:
            # group: one strength, or one per feature (row); a huge one holds a row at zero.
            total = total + ops.sum(ops.minimum(group, HELD) * row_norms(trainable[self.grouped]))
        return total

    def inputs(self, data, idx, member):
        """Rows ``idx`` of the inputs, standardized with the member's statistics if it has them."""
        x = keras.tree.map_structure(lambda a: ops.take(a, idx, axis=0), data.X)
        if member.x_mean is not None:
            x = (x - member.x_mean) / member.x_scale
        return x

    def targets(self, data, idx, member):
        y = ops.take(data.y, idx, axis=0)
        if member.y_mean is not None:
            y = (y - member.y_mean) / member.y_scale
        return y

    def data_loss(self, trainable, non_trainable, data, idx, pad, member, training):
        """Weighted mean loss over the real rows (``pad``) of ``idx``, plus ``model.losses``.

        ``sum(w_i loss_i) / sum(w_i)`` (glmnet's objective; with unit weights Keras's
        ``sum_over_batch_size``).
        """
        out, non_trainable, losses = self.model.stateless_call(
            trainable, non_trainable, self.inputs(data, idx, member), training=training, return_losses=True
        )
        if data.exposure is not None:  # the network's rate times the row's exposure: the mean count
            out = out * ops.reshape(ops.take(data.exposure, idx, axis=0), (-1,) + (1,) * (len(out.shape) - 1))
        return self._weighted_loss(out, data, idx, pad, member) + sum(losses, 0.0), non_trainable, out

    def _weighted_loss(self, out, data, idx, pad, member):
        w = pad * ops.take(data.sample_weight, idx, axis=0)
        if self.cox:
            y = self.targets(data, idx, member)
            per = cox_terms(y[:, 0], y[:, 1], ops.reshape(out, (-1,)), w)
        else:
            per = self.loss(self.targets(data, idx, member), out)
        total = ops.sum(w)
        return ops.sum(per * w) / ops.where(total > 0, total, 1.0)

    def objective(self, trainable, non_trainable, data, idx, pad, member):
        """``(smooth objective, (non_trainable, full objective))`` of one batch.

        The smooth part is differentiated; in proximal mode the L1 part leaves it and is
        applied by :meth:`prox`. The full objective (data loss + whole penalty) is reported.
        """
        value, non_trainable, _ = self.data_loss(trainable, non_trainable, data, idx, pad, member, True)
        smooth = value + self.penalty(trainable, 0.0 if self.proximal else member.l1, member.l2,
                                      factor=member.factor)
        return smooth, (non_trainable, value + self.penalty(trainable, member.l1, member.l2, member.group,
                                                            member.factor))

    def gradients(self, state, data, idx, pad, member):
        """``((smooth objective, (non_trainable, full objective)), grads)`` of one batch."""
        return value_and_grad(
            lambda trainable: self.objective(trainable, state.non_trainable, data, idx, pad, member)
        )(state.trainable)

    def apply(self, state, grads, non_trainable, active, member):
        """The optimizer update (and prox) of one member; a member not ``active`` stays as it was."""
        optimizer_values = state.optimizer
        if keras.backend.backend() == "torch":
            # Keras's torch optimizers update the scope's tensors in place (torch._foreach_*):
            # give them copies so the kept state (and best weights) are not overwritten.
            optimizer_values = [v.clone() for v in optimizer_values]
        trainable, optimizer_values = self.optimizer.stateless_apply(
            optimizer_values, grads, [v.clone() if hasattr(v, "clone") else v for v in state.trainable]
        )
        if self.proximal or self.grouped is not None or self.factored:
            trainable = self.prox(trainable, state.optimizer, optimizer_values, member.l1, group=member.group,
                                  factor=member.factor)
        keep = lambda new, old: [ops.where(active > 0, n, o) for n, o in zip(new, old, strict=True)]  # noqa: E731
        return MemberState(
            keep(trainable, state.trainable),
            keep(non_trainable, state.non_trainable),
            keep(optimizer_values, state.optimizer),
        )

    def __call__(self, state, data, idx, pad, active, member):
        """One batch: returns the new state and the member's full objective on the batch."""
        (_, (non_trainable, total)), grads = self.gradients(state, data, idx, pad, member)
        return self.apply(state, grads, non_trainable, active, member), total

    def prox(self, trainable, old_opt, new_opt, l1, optimizer=None, variables=None, group=None, factor=None):
        """Soft-threshold the penalized kernels by ``l1 * effective_step`` (ProximalStep's rule)
        with ``proximal``, and the grouped kernel's rows by ``group * effective_step``.

        ``optimizer`` and ``variables`` (default: the step's optimizer and the model's
        trainable variables) say whose state ``old_opt``/``new_opt``/``trainable`` are.
        Given ``variables`` (a stack of members, e.g. shadow variables shaped ``[k, ...]``
        with an optimizer built on them), ``l1`` is one strength per member, ``[k]``,
        broadcast over each kernel.
        """
        stacked = variables is not None
        optimizer = self.optimizer if optimizer is None else optimizer
        # effective_step expects the state Keras shows a constraint: updated moments, and the
        # iteration counter *before* its increment. Found by identity: Keras variables
        # overload == elementwise.
        mapping = [
            (v, old if v is optimizer.iterations else new)
            for v, old, new in zip(optimizer.variables, old_opt, new_opt, strict=True)
        ]
        variables = self.model.trainable_variables if variables is None else variables
        mapping += list(zip(variables, trainable, strict=True))
        trainable = list(trainable)
        with keras.StatelessScope(state_mapping=mapping):
            for i in self.elastic if self.proximal else ():
                l1_i = ops.reshape(l1, (-1,) + (1,) * (len(trainable[i].shape) - 1)) if stacked else l1
                if self.factored and i == self.first and factor is not None:
                    l1_i = l1_i * _rows_of(ops.minimum(factor, HELD), trainable[i], stacked)
                trainable[i] = soft_threshold(trainable[i], l1_i * effective_step(optimizer, variables[i]))
            if self.factored and factor is not None:  # excluded features stay out
                i = self.first
                held = _rows_of(ops.cast(factor < HELD, trainable[i].dtype), trainable[i], stacked)
                trainable[i] = trainable[i] * held
            if self.grouped is not None:
                i, w = self.grouped, trainable[self.grouped]
                # One strength per member (scalar, [k] stacked) or per feature ([d], [k, d]).
                lead = len(group.shape) - (1 if stacked else 0)
                g = ops.reshape(group, tuple(group.shape) + (1,) * (len(w.shape) - len(group.shape))) \
                    if lead or stacked else group
                # Rows are input features (of every member when stacked): [..., d, units] -> [-1, units].
                b = ops.broadcast_to(g * effective_step(optimizer, variables[i]), ops.shape(w))
                flat = (-1, w.shape[-1])
                trainable[i] = ops.reshape(group_soft_threshold(ops.reshape(w, flat), ops.reshape(b, flat)),
                                           ops.shape(w))
        return trainable

    def validate(self, state, data, idx, pad, member):
        """One inference pass over rows ``idx``: the validation data loss (weighted mean,
        penalty excluded), the full penalty, and the outputs in ``y``'s units."""
        value, _, out = self.data_loss(state.trainable, state.non_trainable, data, idx, pad, member, False)
        if member.y_mean is not None:
            out = out * member.y_scale + member.y_mean
        return value, self.penalty(state.trainable, member.l1, member.l2, member.group, member.factor), out


def kernel_positions(model, penalized):
    """Indices into ``model.get_weights()`` of the kernels the path penalizes."""
    position = {id(v): i for i, v in enumerate(model.weights)}
    return [position[id(model.trainable_variables[i])] for i in penalized_indices(model, penalized)]
