"""One stacked network for every configuration of a depth: the widest layers, masks and rates as weights.

Configurations with the same number of hidden layers train as members of one stacked fit
(:func:`kerasnet.path.engine.fit_members`): the network has each layer's widest width among them,
a :class:`~kerasnet.search.layers.UnitMask` after a layer whose width varies and a
:class:`~kerasnet.search.layers.MemberDropout` after every hidden layer when any configuration
drops units. A configuration's start (:meth:`Stack.start`) keeps its own units (the mask) and
its rate, with the weights into and out of the other units at zero: then it is exactly the
narrower network (:mod:`kerasnet.search.layers`). Its kept block is the stack's Glorot-uniform
draw rescaled to the narrower layer's Glorot limit, so it starts as that network would.
:meth:`Stack.narrow` cuts a member's weights back to the narrower network's.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from ..path.inputs import NumpyGlorotUniform
from ..tasks import OUTPUT_ACTIVATION
from .layers import MemberDropout, UnitMask

__all__ = ["Stack", "stacks_of"]


@dataclass(eq=False)
class Stack:
    """The stacked network of configurations with ``depth`` hidden layers.

    Attributes
    ----------
    widths : tuple of int
        Each hidden layer's widest width.
    network : keras.Sequential
    dense : list of keras.layers.Dense
        The hidden layers, then the output layer.
    masks, drops : list of UnitMask or None, list of MemberDropout or None
        Per hidden layer.
    """

    widths: tuple
    network: keras.Model
    dense: list
    masks: list
    drops: list

    @classmethod
    def build(cls, configs, d, n_outputs, task, seed):
        """The stack of ``configs`` (all of one depth) for ``d`` inputs."""
        depth = len(configs[0].hidden)
        widths = tuple(max(c.hidden[j] for c in configs) for j in range(depth))
        varies = [len({c.hidden[j] for c in configs}) > 1 for j in range(depth)]
        dropping = any(c.dropout > 0 for c in configs)
        init = NumpyGlorotUniform(seed)
        layers, dense, masks, drops = [keras.Input((d,), name="features")], [], [], []
        for j, width in enumerate(widths):
            dense.append(keras.layers.Dense(width, activation="relu", kernel_initializer=init,
                                            kernel_regularizer=None, name=f"hidden_{j + 1}"))
            masks.append(UnitMask(name=f"units_{j + 1}") if varies[j] else None)
            drops.append(MemberDropout(None if seed is None else seed + 1000 + j, name=f"dropout_{j + 1}")
                         if dropping else None)
            layers += [layer for layer in (dense[-1], masks[-1], drops[-1]) if layer is not None]
        dense.append(keras.layers.Dense(n_outputs, activation=OUTPUT_ACTIVATION[task],
                                        kernel_initializer=init, name="output"))
        network = keras.Sequential(layers + [dense[-1]], name="kerasnet_search_stack")
        return cls(widths, network, dense, masks, drops)

    def _position(self):
        return {id(v): i for i, v in enumerate(self.network.weights)}

    def start(self, config):
        """``config``'s initial weights (``network.weights`` order): its units, its rate."""
        weights = [np.asarray(keras.ops.convert_to_numpy(v)).copy() for v in self.network.weights]
        position = self._position()
        sizes = (self.dense[0].kernel.shape[0],) + tuple(config.hidden)
        wide = (self.dense[0].kernel.shape[0],) + self.widths
        for j, layer in enumerate(self.dense):
            rows, cols = sizes[j], (sizes[j + 1] if j < len(self.widths) else layer.units)
            wide_cols = wide[j + 1] if j < len(self.widths) else layer.units
            kernel = weights[position[id(layer.kernel)]]
            # The kept block, from the stack's Glorot limit to the narrower layer's.
            block = kernel[:rows, :cols] * np.sqrt((wide[j] + wide_cols) / (rows + cols))
            kernel[:] = 0.0
            kernel[:rows, :cols] = block
            weights[position[id(layer.bias)]][cols:] = 0.0
        for j, mask in enumerate(self.masks):
            if mask is not None:
                weights[position[id(mask.mask)]][:] = np.arange(self.widths[j]) < config.hidden[j]
        for drop in self.drops:
            if drop is not None:
                weights[position[id(drop.rate)]] = np.asarray(config.dropout, "float32")
        return weights

    def narrow(self, weights, config):
        """``(kernel, bias)`` of each ``Dense`` layer of ``config``'s own network, cut from a
        member's ``weights`` (``network.weights`` order)."""
        position = self._position()
        sizes = (self.dense[0].kernel.shape[0],) + tuple(config.hidden)
        pairs = []
        for j, layer in enumerate(self.dense):
            cols = sizes[j + 1] if j < len(self.widths) else layer.units
            kernel = np.asarray(weights[position[id(layer.kernel)]])[:sizes[j], :cols]
            pairs.append((kernel.copy(), np.asarray(weights[position[id(layer.bias)]])[:cols].copy()))
        return pairs


def stacks_of(configs):
    """``{depth: [indices of configs]}``: the configurations each stack trains, in order."""
    groups = {}
    for i, config in enumerate(configs):
        groups.setdefault(len(config.hidden), []).append(i)
    return groups
