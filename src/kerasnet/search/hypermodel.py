"""A KerasTuner user's ``build(hp)`` function (or ``HyperModel``) searched in stacked fits.

Every combination of the function's hyperparameters (:func:`kerasnet.search.hyperparameters.hp_grid`)
is built once, seeded. What a combination changes is then read off its model and becomes a
per-member value of one compiled step, as :mod:`kerasnet.search.stack` does for the MLP:

* the compiled optimizer's learning rate (Keras keeps it in the optimizer's state);
* the kernel penalty, when every penalized layer carries the same Keras ``L1L2`` / ``L1`` / ``L2``
  (then the member's ``l1`` / ``l2``, on those layers; penalties that differ between layers stay
  in the model, as ``model.fit`` adds them);
* each ``Dropout`` layer's rate (a :class:`~kerasnet.search.layers.MemberDropout` in the stack).

Models that still differ (other layers, other widths, another optimizer) form separate stacks, each
compiled once. Training is Keras's own: the penalty as your model has it (the L1 subgradient, no
proximal step), the task's loss, inputs as given (put a ``Normalization`` layer in the model), as
:func:`kerasnet.fit_path` with ``model=``. The refit is your model, built from the chosen values,
with the refit's weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import keras
import numpy as np

from ..errors import InputError
from ..path.inputs import build_model
from .hyperparameters import GridHyperParameters, hp_grid
from .layers import MemberDropout

__all__ = ["HyperFamily", "HyperPoint", "hyper_family"]


@dataclass(frozen=True, eq=False)
class HyperPoint:
    """One combination of a build function's hyperparameters and what it sets per member."""

    values: dict
    lam: float
    l1_ratio: float
    learning_rate: float
    dropout: float
    hidden: tuple
    signature: str

    @property
    def units(self):
        """Units of the hidden ``Dense`` layers (the simplicity order's size)."""
        return sum(self.hidden)

    def as_dict(self):
        """The hyperparameters by name, then the per-member values read off the model."""
        return {**self.values, "lambda": self.lam, "l1_ratio": self.l1_ratio,
                "learning_rate": self.learning_rate, "dropout": self.dropout}


def _penalty(regularizer):
    """``(l1, l2)`` of a Keras ``L1L2`` / ``L1`` / ``L2``; None for another penalty."""
    if isinstance(regularizer, keras.regularizers.L1L2):
        return float(regularizer.l1), float(regularizer.l2)
    if isinstance(regularizer, keras.regularizers.L1):
        return float(regularizer.l1), 0.0
    if isinstance(regularizer, keras.regularizers.L2):
        return 0.0, float(regularizer.l2)
    return None


def _learning_rate(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return keras.optimizers.Adam(), 1e-3
    rate = optimizer.learning_rate
    if not isinstance(rate, keras.Variable):
        raise InputError("the build function's optimizer has a learning-rate schedule; give it a constant "
                         "rate (members of one stack differ in a rate, not a schedule).")
    return optimizer, float(keras.ops.convert_to_numpy(rate))


_INIT_KEYS = ("name", "seed", "kernel_initializer", "bias_initializer", "embeddings_initializer")


def _signature(clone, optimizer):
    """What must be equal for models to share a stack: every layer's class and config (names, seeds
    and initializers aside: starts are per member), and the optimizer's but its rate."""
    layers = [(type(layer).__name__, {k: v for k, v in layer.get_config().items() if k not in _INIT_KEYS})
              for layer in clone.layers]
    settings = {k: v for k, v in optimizer.get_config().items() if k not in ("name", "learning_rate")}
    return json.dumps([layers, type(optimizer).__name__, settings], sort_keys=True, default=str)


class HyperFamily:
    """The points of a build function: one stack per structure (module docstring)."""

    proximal = False

    def __init__(self, build, combinations, task, seed):
        self.build_fn = getattr(build, "build", build)  # a KerasTuner HyperModel, or the function itself
        self.task, self.seed = task, seed
        self.points, self._models = [], {}
        for values in combinations:
            point, model = self._describe(values)
            self.points.append(point)
            self._models[id(point)] = model

    def _built(self, values):
        model = build_model(lambda: self.build_fn(GridHyperParameters(values)), self.seed)
        if isinstance(model, keras.Sequential) or type(model).__name__ == "Functional":
            return model
        raise InputError(f"the build function returned a subclassed {type(model).__name__}; kerasnet "
                         "stacks Sequential and Functional models (build it with keras.Sequential or "
                         "keras.Model(inputs, outputs)).")

    def _describe(self, values):
        model = self._built(values)
        optimizer, rate = _learning_rate(model)
        penalties = {layer.name: _penalty(layer.kernel_regularizer) for layer in model.layers
                     if getattr(layer, "kernel_regularizer", None) is not None}
        uniform = bool(penalties) and None not in penalties.values() and len(set(penalties.values())) == 1
        l1, l2 = next(iter(penalties.values())) if uniform else (0.0, 0.0)
        rates = [float(layer.rate) for layer in model.layers
                 if type(layer) is keras.layers.Dropout and layer.noise_shape is None]
        dense = [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        clone, start = _stackable(model, strip=set(penalties) if uniform else set())
        lam = l1 + 2 * l2  # glmnet's lambda with l1 = lam * ratio and l2 = lam * (1 - ratio) / 2
        point = HyperPoint(dict(values), lam, l1 / lam if lam > 0 else 0.0, rate, max(rates, default=0.0),
                           tuple(dense[:-1]), _signature(clone, optimizer))
        return point, {"clone": clone, "start": start, "penalized": sorted(penalties) if uniform else [],
                       "optimizer": optimizer}

    def groups(self, points):
        """``{structure number: indices}`` in order of first appearance."""
        keys, groups = {}, {}
        for i, point in enumerate(points):
            key = keys.setdefault(point.signature, len(keys))
            groups.setdefault(key, []).append(i)
        self._count = len(keys)
        return groups

    def label(self, key):
        return f"structure {key + 1} of {self._count}"

    def stack(self, points):
        """The stack of ``points`` (one structure): the first's network, each point's own start."""
        return HyperStack([self._models[id(p)] for p in points], points)

    def assemble(self, point, weights, fold=False):
        """Your model built from ``point``'s values, with the refit's ``weights``, compiled as it was
        (``fold`` does not apply: X is not standardized)."""
        model = self._built(point.values)
        model.set_weights(weights)
        if getattr(model, "optimizer", None) is None:
            from ..models import compile_for

            compile_for(model, self.task)
        return model

    def inputs(self, X):
        return [np.asarray(a) for a in X] if isinstance(X, (list, tuple)) else np.asarray(X, "float32")


def _stackable(model, strip):
    """A copy of ``model`` with ``Dropout`` as :class:`MemberDropout` and the kernel penalties of the
    layers ``strip`` removed (the members carry them), and its start: ``model``'s weights, the rates."""

    def clone(layer):
        if type(layer) is keras.layers.Dropout and layer.noise_shape is None:
            return MemberDropout(seed=layer.seed, name=layer.name)
        config = layer.get_config()
        if layer.name in strip:
            config["kernel_regularizer"] = None
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    for original, layer in zip(model.layers, copy.layers, strict=True):
        if isinstance(layer, MemberDropout):
            layer.rate.assign(float(original.rate))
        else:
            layer.set_weights(original.get_weights())
    return copy, [np.asarray(keras.ops.convert_to_numpy(v)).copy() for v in copy.weights]


class HyperStack:
    """One structure's stack: the network, each point's start, and a member's weights back in the
    order of the model the build function returns (the rate weights left out)."""

    def __init__(self, models, points):
        first = models[0]
        self.network, self.optimizer = first["clone"], first["optimizer"]
        self.penalized = tuple(first["penalized"])
        self._starts = {id(p): m["start"] for p, m in zip(points, models, strict=True)}
        rates = {id(layer.rate) for layer in self.network.layers if isinstance(layer, MemberDropout)}
        self._kept = [id(v) not in rates for v in self.network.weights]

    def start(self, point):
        return self._starts[id(point)]

    def narrow(self, weights, point):
        return [np.asarray(w) for w, kept in zip(weights, self._kept, strict=True) if kept]


def hyper_family(hypermodel, task, seed, n_iter=None):
    """The :class:`HyperFamily` of ``hypermodel``'s grid (``n_iter`` of its combinations drawn with
    ``seed``, without replacement, when given)."""
    build = getattr(hypermodel, "build", hypermodel)
    if not callable(build):
        raise InputError(f"hypermodel must be a build(hp) function or a KerasTuner HyperModel; received "
                         f"{type(hypermodel).__name__}.")
    combinations = hp_grid(lambda hp: build_model(lambda: build(hp), seed))
    if n_iter is not None and n_iter < len(combinations):
        rng = np.random.default_rng(seed)
        combinations = [combinations[i] for i in sorted(rng.choice(len(combinations), n_iter, replace=False))]
    return HyperFamily(hypermodel, combinations, task, seed)
