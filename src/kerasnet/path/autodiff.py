"""Gradients of a member's objective: the one piece of the engine each backend does its own way."""

from __future__ import annotations

import keras

__all__ = ["value_and_grad"]


def value_and_grad(fn):
    """``params -> ((value, aux), grads)`` for a scalar ``fn(params) -> (value, aux)``.

    ``aux`` may be any nest of tensors. JAX's ``jax.value_and_grad``; on torch, autograd on
    detached copies (composable with ``torch.func`` transforms through ``torch.func.grad``
    instead, see :mod:`kerasnet.path.runners`).
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.value_and_grad(fn, has_aux=True)
    if backend == "torch":
        import torch

        def value_and_grad(params):
            params = [p.detach().requires_grad_(True) for p in params]
            value, aux = fn(params)
            grads = torch.autograd.grad(value, params)
            return (value.detach(), keras.tree.map_structure(lambda a: a.detach(), aux)), list(grads)

        return value_and_grad
    raise NotImplementedError(
        f"kerasnet's path engine supports the jax and torch Keras backends, not {backend!r}."
    )
