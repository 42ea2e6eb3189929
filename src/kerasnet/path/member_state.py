"""The stacked state of a fit's members: each member's start, its constants, its weights back.

:func:`initial_state` stacks a model's variables and a fresh optimizer's state ``K`` times (or
each member's own start), with each member's learning rate in the optimizer's rate variable;
:func:`member_settings` puts the per-member constants on the device; :func:`member_weights`
reads each member's weights back in ``model.weights`` order.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from .device import to_device
from .step import MemberSettings, MemberState

__all__ = ["initial_state", "member_settings", "member_weights", "optimizer_copy"]


def _stacked(values, K):
    values = [np.asarray(ops.convert_to_numpy(v)) for v in values]
    return [to_device(np.broadcast_to(v, (K,) + v.shape).copy()) for v in values]


def member_settings(l1, l2, scaling, group=None, factor=None):
    """Per-member constants; ``scaling`` a :class:`~kerasnet.path.members.Scaling` or None."""
    parts = [l1, l2] + (list(scaling) if scaling is not None else [None] * 4) + [group, factor]
    return MemberSettings(*[None if p is None else to_device(np.asarray(p, "float32")) for p in parts])


def optimizer_copy(optimizer, learning_rate, model=None):
    """A fresh optimizer: a copy of an instance (never modified) or one built from its name.

    A copy keeps the instance's ``exclude_from_weight_decay`` choice for ``model``'s variables,
    which its config does not carry.
    """
    if isinstance(optimizer, keras.optimizers.Optimizer):
        original = optimizer
        optimizer = original.__class__.from_config(original.get_config())
        if model is not None and original.weight_decay:
            optimizer.exclude_from_weight_decay(var_list=[
                v for v in model.trainable_variables if not original._use_weight_decay(v)])
    else:
        optimizer = keras.optimizers.get(optimizer)
    if learning_rate is not None:
        optimizer.learning_rate = float(learning_rate)
    return optimizer


def initial_state(model, step, K, streams, seed, start=None, learning_rate=None):
    """The ``K`` members' :class:`~kerasnet.path.step.MemberState` at their start: the model's
    weights (or ``start = (weight lists, of [K])``, trainable and non-trainable), the optimizer's
    fresh state with each member's ``learning_rate [K]`` (None: the optimizer's), and a seed stream
    per member for random layers."""
    non_trainable = [np.asarray(ops.convert_to_numpy(v.value)) for v in model.non_trainable_variables]
    if start is None:
        trainable = _stacked([v.value for v in model.trainable_variables], K)
    else:  # each member's own start: (distinct weight lists in model.weights order, each member's)
        starts, of = start
        position = {id(v): i for i, v in enumerate(model.weights)}
        trainable = [_started(starts, of, position[id(v)]) for v in model.trainable_variables]
    state = MemberState(
        trainable,
        _stacked(non_trainable, K),
        _stacked([v.value for v in step.optimizer.variables], K),
    )
    if start is not None:
        # A start's non-trainable weights are the member's too (a BatchNormalization's moving
        # statistics, a search member's unit mask or dropout rate); seed states are not weights.
        for i, v in enumerate(model.non_trainable_variables):
            if id(v) in position:
                state.non_trainable[i] = _started(starts, of, position[id(v)])
    if learning_rate is not None:  # each member's rate in the optimizer state's rate variable
        state.optimizer[_rate_index(step.optimizer)] = to_device(np.asarray(learning_rate, "float32"))
    # Dropout and other random layers draw from SeedGenerator states: offset each stream's
    # seed so members of one stream share masks and member 0 of stream 0 matches model.fit.
    for i, v in enumerate(model.non_trainable_variables):
        if "seed_generator" in v.path:
            value = np.broadcast_to(non_trainable[i], (K,) + non_trainable[i].shape).copy()
            value[:, 0] += (streams + (seed or 0)).astype(value.dtype)
            state.non_trainable[i] = to_device(value)
    return state


def _started(starts, of, j):
    """Weight ``j`` of each member's start, stacked on the device."""
    return to_device(np.stack([np.asarray(starts[r][j]) for r in of]))


def _rate_index(optimizer):
    """Where the optimizer keeps its learning rate among its variables; ValueError for a schedule."""
    rate = optimizer.learning_rate  # the variable itself for a constant rate, a value for a schedule
    for i, v in enumerate(optimizer.variables):
        if v is rate:
            return i
    raise ValueError("per-member learning rates need an optimizer with a constant rate (a float), not a "
                     f"schedule; received {type(rate).__name__}.")


def member_weights(model, state, K):
    """Each member's values in ``model.weights`` order (seed states and metrics left out)."""
    values = {}
    pairs = (state.trainable, model.trainable_variables), (state.non_trainable, model.non_trainable_variables)
    for part, variables in pairs:
        for v, value in zip(variables, part, strict=True):
            values[id(v)] = np.asarray(ops.convert_to_numpy(value))
    return [[values[id(v)][k] for v in model.weights] for k in range(K)]
