"""The torch runner: members' gradients in one ``torch.func.vmap``, their update on the stack.

:class:`TorchRunner` runs the same member step as :class:`kerasnet.path.loop_runner.LoopRunner`
(same numbers to float tolerance, tested) but vectorized over members:

* gradients: ``torch.func.vmap(torch.func.grad_and_value(step.objective))`` over the
  member axis, one call per batch for all ``K`` members;
* update: Keras's torch optimizers update in place with ``torch._foreach_*`` ops, which
  ``vmap`` cannot batch, and one ``stateless_apply`` per member costs more than the
  gradients it saves. An *elementwise* optimizer (SGD, Adam, AdamW, RMSprop, Adagrad,
  Adadelta, Adamax, Nadam, Lion, Ftrl without ``clipnorm``/``global_clipnorm``, on
  variables without constraints) treats a stack ``[k, ...]`` of members exactly as ``k``
  separate updates, except for its scalar state (the iteration counter, the learning rate,
  Nadam's momentum product). So the update runs once on the stacked tensors, through a
  second optimizer of the same configuration built on shadow ``keras.Variable`` s of the
  stacked shapes, once per group of active members sharing their scalar state (one group
  unless members skipped different steps). The proximal soft-threshold runs on the group
  too (:meth:`Step.prox` with the shadow optimizer and a per-member ``l1``).
* any other optimizer: the vectorized gradients, then ``stateless_apply`` member by member.
* a model ``torch.func.vmap`` cannot run (random layers such as Dropout draw from a
  stateful generator): the runner falls back, for good, to the loop's epoch.
"""

from __future__ import annotations

import collections

import keras
import numpy as np
from keras import ops

from .loop_runner import LoopRunner
from .stacked import member, put, select, take
from .step import MemberState

__all__ = ["TorchRunner", "elementwise"]

_ELEMENTWISE = tuple(getattr(keras.optimizers, name) for name in (
    "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion", "Ftrl"))
_SHADOWS = 8  # stacked optimizers kept, one per group size


def elementwise(optimizer, variables):
    """True when ``optimizer`` updates a stack of members as it would each member alone."""
    # Keras's own classes (its torch ones subclass the public ones), not a user's subclass:
    # its update may couple weights.
    return (isinstance(optimizer, _ELEMENTWISE) and type(optimizer).__module__.startswith("keras.")
            and optimizer.clipnorm is None and optimizer.global_clipnorm is None
            and all(getattr(v, "constraint", None) is None for v in variables)
            and not any(getattr(v, "overwrite_with_gradient", False) for v in variables))


class TorchRunner:
    """Members vmapped for their gradients, the optimizer applied to the stack (see module doc)."""

    def __init__(self, step):
        import torch

        self.step, self.select, self.take, self.put = step, select, take, put
        self.loop = LoopRunner(step)
        self.fallback = None  # why the loop runs instead (set once, for good)
        optimizer = step.optimizer
        self.stacked = elementwise(optimizer, step.model.trainable_variables)
        self.scalars = [len(v.shape) == 0 for v in optimizer.variables]
        self._shadows = collections.OrderedDict()
        gradients = torch.func.grad_and_value(step.objective, has_aux=True)
        # Settings fields that are None (no standardization) are not mapped over.
        self._grads = lambda trainable, non_trainable, data, idx, pad, settings: torch.func.vmap(
            gradients, in_dims=(0, 0, None, 0, 0, _dims(settings)))(trainable, non_trainable, data, idx,
                                                                   pad, settings)
        self._validate = lambda state, data, idx, pad, settings: torch.func.vmap(
            step.validate, in_dims=(0, None, 0, 0, _dims(settings)))(state, data, idx, pad, settings)
        self._vmapped_eval = True

    # -- epoch ---------------------------------------------------------------------------

    def epoch(self, state, data, idx, pad, active, settings, group):
        if self.fallback is None:
            try:
                return self._epoch(state, data, idx, pad, active, settings, group)
            except Exception as error:  # noqa: BLE001 - any vmap failure: the loop, same numbers
                self.fallback = f"{type(error).__name__}: {error}"
        return self.loop.epoch(state, data, idx, pad, active, settings, group)

    def _epoch(self, state, data, idx, pad, active, settings, group):
        # The incoming state is never modified in place: a failure leaves it for the loop.
        import torch

        S, K = active.shape
        on = np.asarray(ops.convert_to_numpy(active)) > 0
        totals = []
        for s in range(S):
            members = np.flatnonzero(on[s])
            if not members.size:
                totals.append(None)
                continue
            grads, (_, (non_trainable, total)) = self._grads(
                state.trainable, state.non_trainable, data, idx[s][group], pad[s][group], settings)
            totals.append(total.detach())
            state = self._apply(state, grads, non_trainable, members, K, settings)
        out = np.full((S, K), np.nan, dtype="float32")
        for s, total in enumerate(totals):
            if total is not None:
                out[s] = np.where(on[s], total.to(torch.float32).cpu().numpy(), np.nan)
        return state, out

    def _apply(self, state, grads, non_trainable, members, K, settings):
        import torch

        everyone = members.size == K
        if everyone:
            kept_non_trainable = list(non_trainable)
        else:
            mask = torch.zeros(K, dtype=torch.bool, device=_device(state))
            mask[torch.as_tensor(members, device=mask.device)] = True
            kept_non_trainable = [
                torch.where(mask.reshape((-1,) + (1,) * (n.dim() - 1)), n, o)
                for n, o in zip(non_trainable, state.non_trainable, strict=True)
            ]
        if not self.stacked:
            return self._apply_each(state, grads, kept_non_trainable, members, K, settings)
        trainable, optimizer = list(state.trainable), list(state.optimizer)
        for group in self._groups(state, members):
            self._apply_group(state, grads, group, K, settings, trainable, optimizer)
        return MemberState(trainable, kept_non_trainable, optimizer)

    def _groups(self, state, members):
        """Active members split by their scalar optimizer state (iteration counter, ...)."""
        scalars = [ops.convert_to_numpy(v) for v, scalar in zip(state.optimizer, self.scalars, strict=True)
                   if scalar]
        if not scalars:
            return [members]
        keys = np.stack([np.asarray(v)[members] for v in scalars], axis=1)
        _, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).reshape(-1)
        return [members[inverse == g] for g in range(int(inverse.max()) + 1)]

    def _apply_group(self, state, grads, group, K, settings, trainable, optimizer):
        """One ``stateless_apply`` of the stacked optimizer on members ``group``; writes back."""
        import torch

        device = _device(state)
        full = group.size == K
        index = None if full else torch.as_tensor(group, device=device)
        first = int(group[0])
        take = (lambda t: t.clone()) if full else (lambda t: t[index])  # copies: updated in place
        shadow, variables = self._shadow(group.size)
        old = [t[first].clone() if scalar else take(t)
               for t, scalar in zip(state.optimizer, self.scalars, strict=True)]
        new_trainable, new_optimizer = shadow.stateless_apply(
            list(old), [g if full else g[index] for g in grads], [take(t) for t in state.trainable])
        if self.step.proximal or self.step.grouped is not None or self.step.factored:
            l1 = settings.l1 if full else settings.l1[index]
            strength = settings.group if full or settings.group is None else settings.group[index]
            factor = settings.factor if full or settings.factor is None else settings.factor[index]
            new_trainable = self.step.prox(new_trainable, old, new_optimizer, l1, optimizer=shadow,
                                           variables=variables, group=strength, factor=factor)
        for i, value in enumerate(new_trainable):
            trainable[i] = value if full else trainable[i].index_put((index,), value)
        for i, (value, scalar) in enumerate(zip(new_optimizer, self.scalars, strict=True)):
            target = optimizer[i]
            if scalar:
                value = torch.as_tensor(value, device=target.device).to(target.dtype).expand(group.size)
            optimizer[i] = value if full else target.index_put((index,), value)

    def _shadow(self, k):
        """An optimizer of the step's configuration built on variables shaped ``[k, ...]``."""
        if k in self._shadows:
            self._shadows.move_to_end(k)
            return self._shadows[k]
        original = self.step.optimizer
        model_variables = self.step.model.trainable_variables
        variables = [keras.Variable(np.zeros((k,) + tuple(v.shape), dtype=v.dtype), dtype=v.dtype,
                                    trainable=True, name=v.name) for v in model_variables]
        shadow = type(original).from_config(original.get_config())
        # Weight decay skips the same variables as on the model (by pattern or by variable): named
        # one by one, which also clears any name pattern (Keras's public setter, before build).
        shadow.exclude_from_weight_decay(var_list=[
            s for s, v in zip(variables, model_variables, strict=True) if not original._use_weight_decay(v)])
        shadow.build(variables)
        self._shadows[k] = shadow, variables
        while len(self._shadows) > _SHADOWS:
            self._shadows.popitem(last=False)
        return shadow, variables

    def _apply_each(self, state, grads, non_trainable, members, K, settings):
        """A non-elementwise optimizer: ``Step.apply`` member by member on slices."""
        import torch

        one = torch.ones((), device=_device(state))
        new = {}
        for k in (int(k) for k in members):
            new[k] = self.step.apply(member(state, k), [g[k] for g in grads],
                                     [n[k] for n in non_trainable], one, member(settings, k))

        def restack(part):
            old = getattr(state, part)
            return [torch.stack([getattr(new[k], part)[i] if k in new else t[k] for k in range(K)])
                    for i, t in enumerate(old)]

        return MemberState(restack("trainable"), non_trainable, restack("optimizer"))

    # -- evaluation ----------------------------------------------------------------------

    def validate(self, state, data, idx, pad, settings):
        if self._vmapped_eval:
            try:
                return tuple(self._validate(state, data, idx, pad, settings))
            except Exception:  # noqa: BLE001 - the loop, same numbers
                self._vmapped_eval = False
        return self.loop.validate(state, data, idx, pad, settings)


def _device(state):
    for part in state:
        for t in part:
            return t.device
    return "cpu"


def _dims(settings):
    return type(settings)(*[None if field is None else 0 for field in settings])
