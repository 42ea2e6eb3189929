"""Run the member step for all members at once: vectorized where the backend can, else a loop.

* JAX (:class:`JaxRunner`): the step is ``jax.vmap``-ed over members and an epoch's steps run
  in one ``jax.lax.scan`` under ``jax.jit``: one compiled call per epoch.
* torch (:class:`kerasnet.path.torch_runner.TorchRunner`): the members' gradients in one
  ``torch.func.vmap`` per batch. Keras's torch optimizers update in place with
  ``torch._foreach_*`` ops that ``vmap`` cannot batch, and one update per member costs more
  than the vectorized gradients save; but an elementwise optimizer (SGD, Adam, RMSprop, ...,
  no ``clipnorm``) updates a stack ``[k, ...]`` of members exactly as each alone, so it runs
  once on the stacked tensors (an optimizer of the same configuration built on stacked
  shadow variables), per group of members sharing an iteration count. Other optimizers are
  applied member by member; models ``vmap`` cannot run (random layers: Dropout's generator)
  fall back to :class:`LoopRunner`, members one after another with the same step.

All runners take and return members stacked on a leading axis ``K`` and agree to float
tolerance (tested). An epoch's batches come per *group* of members that share their rows and
stream (``idx``, ``pad`` ``[S, G, B]``, ``group [K]``: a CV fold's strengths), so the host
builds and sends ``G`` row orders, not one per member. :func:`runner_for` keeps compiled
runners across calls, so a second fit of the same architecture, optimizer and loss does not
compile again.
"""

from __future__ import annotations

import collections
import json

import keras

from .loop_runner import LoopRunner
from .stacked import member, put, select, take
from .step import Step, penalized_indices
from .torch_runner import TorchRunner

__all__ = ["JaxRunner", "LoopRunner", "member", "put", "runner_for", "select", "take"]


class JaxRunner:
    """Members vmapped, an epoch's steps scanned, both compiled (one call per epoch)."""

    def __init__(self, step, skip_idle=False):
        import jax

        self.step = step
        batched = jax.vmap(step, in_axes=(0, None, 0, 0, 0, 0))

        def epoch(state, data, idx, pad, active, settings, group):
            def body(state, batch):
                idx_s, pad_s, active_s = batch

                def run(state):
                    # Members of a group share their rows: each takes its group's batch here.
                    return batched(state, data, idx_s[group], pad_s[group], active_s, settings)

                if not skip_idle:
                    return run(state)

                def idle(state):  # a step no member trains in (a bucket's padding): nothing changes
                    total = jax.eval_shape(run, state)[1]
                    return state, jax.numpy.zeros(total.shape, total.dtype)

                return jax.lax.cond(jax.numpy.any(active_s > 0), run, idle, state)

            return jax.lax.scan(body, state, (idx, pad, active))

        self.epoch = jax.jit(epoch)
        self.validate = jax.jit(jax.vmap(step.validate, in_axes=(0, None, 0, 0, 0)))
        self.select = jax.jit(select)
        self.take, self.put = jax.jit(take), jax.jit(put)


def _structure(config):
    """A config without what ``stateless_call`` never reads: names, seeds, initializers."""
    if isinstance(config, dict):
        return {k: _structure(v) for k, v in config.items()
                if k not in ("name", "seed") and not k.endswith("_initializer")}
    if isinstance(config, (list, tuple)):
        return [_structure(v) for v in config]
    return config


def _model_key(model):
    """Equal for two models of the same structure: their config (subclassed: the object)."""
    if isinstance(model, keras.Sequential) or type(model).__name__ == "Functional":
        try:
            config = keras.saving.serialize_keras_object(model)
            return json.dumps(_structure(config), sort_keys=True, default=str)
        except (TypeError, ValueError, NotImplementedError):
            pass
    return ("object", id(model))


def _loss_key(loss):
    if isinstance(loss, str):
        return loss
    if isinstance(loss, keras.losses.Loss):
        return (type(loss).__name__, json.dumps(loss.get_config(), sort_keys=True, default=str))
    return ("object", id(loss))


_CACHE: collections.OrderedDict = collections.OrderedDict()
_CACHE_SIZE = 8


def runner_for(model, optimizer, loss, penalized, proximal, grouped=False, factored=False, skip_idle=False):
    """A runner and its step for ``model``, kept across calls for equal inputs.

    ``grouped``: the first penalized kernel's rows carry a group lasso (feature selection);
    ``factored``: they carry per-feature penalty factors (glmnet's ``penalty.factor``);
    ``skip_idle`` (JAX): a step where no member is active is skipped (``jax.lax.cond``), for
    the empty steps that pad a pass to a bucket (:mod:`kerasnet.path.buckets`).

    ``optimizer`` is a fresh Keras optimizer (it is built here on the model's variables).
    The cache key is the model's and the optimizer's configuration (with the variables its weight
    decay skips), the loss, the penalized kernels and ``proximal``: a new model object of the
    same architecture reuses the compiled epoch (weights are passed to it, never read from the model).

    Returns
    -------
    (runner, step)
    """
    indices = tuple(penalized_indices(model, penalized))
    optimizer_key = json.dumps(_structure(optimizer.get_config()), sort_keys=True, default=str)
    if grouped and not indices:
        raise ValueError("a group lasso on input features needs a penalized kernel (a Dense layer); "
                         "the model has none among the penalized layers.")
    # Which variables weight decay skips is not in the optimizer's config (exclude_from_weight_decay).
    decayed = tuple(bool(optimizer._use_weight_decay(v)) for v in model.trainable_variables) \
        if getattr(optimizer, "weight_decay", None) else ()
    key = (keras.backend.backend(), _model_key(model), type(optimizer).__name__, optimizer_key, decayed,
           _loss_key(loss), indices, bool(proximal), bool(grouped), bool(factored), bool(skip_idle))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    optimizer.build(model.trainable_variables)
    step = Step(model, optimizer, loss, indices, proximal, grouped=indices[0] if grouped else None,
                factored=factored)
    backend = keras.backend.backend()
    runner = JaxRunner(step, skip_idle) if backend == "jax" else TorchRunner(step)
    _CACHE[key] = runner, step
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return runner, step
