"""Layers whose setting is a weight, so that members of one stacked fit may differ in it.

A stacked fit (:func:`kerasnet.path.engine.fit_members`) trains copies of one Keras model that
share its structure and differ in their weights. A dropout rate or a layer's width is part of the
structure in Keras; here each is a non-trainable weight, so it is one more per-member value of the
same compiled step (:mod:`kerasnet.search.stack`):

* :class:`UnitMask` multiplies a hidden layer's units by a 0/1 mask: a member whose mask keeps
  ``w`` of ``W`` units, and whose weights into and out of the others start at zero, is exactly the
  ``w``-unit network (nothing reaches the masked units' weights: their data gradient is zero, their
  L2 gradient at zero is zero, and the proximal L1 step keeps a zero at zero).
* :class:`MemberDropout` drops units at its ``rate`` weight, with the draws of Keras's own
  ``Dropout`` on JAX (``uniform < 1 - rate``, kept units scaled by ``1 / (1 - rate)``); a rate of 0
  is the identity.

Neither layer appears in a model a search hands back: its chosen network is the plain
:func:`kerasnet.mlp` recipe of the chosen width with Keras's ``Dropout``.
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["MemberDropout", "UnitMask"]


class UnitMask(keras.layers.Layer):
    """``x * mask``: the units a member keeps (a non-trainable weight of ones at the start)."""

    def build(self, input_shape):
        self.mask = self.add_weight(shape=(input_shape[-1],), initializer="ones", trainable=False,
                                    name="mask")

    def call(self, inputs):
        return inputs * ops.cast(self.mask, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


class MemberDropout(keras.layers.Layer):
    """Dropout at a rate held in a non-trainable weight (0 at the start: the identity).

    Parameters
    ----------
    seed : int or None
        The seed of its ``SeedGenerator`` (as ``keras.layers.Dropout``'s).
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.rate = self.add_weight(shape=(), initializer="zeros", trainable=False, name="rate")

    def call(self, inputs, training=False):
        if not training:
            return inputs
        keep = 1.0 - ops.cast(self.rate, inputs.dtype)
        kept = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator, dtype=inputs.dtype) < keep
        return ops.where(kept, inputs / keep, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
