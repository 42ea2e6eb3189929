"""prune(): turn exact zeros into a smaller model; selected_features(): which inputs are still used."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import keras
import numpy as np
from keras import ops

__all__ = ["FeatureSelection", "PruneReport", "SelectFeatures", "prune", "selected_features"]

# Layers that hold no units and act elementwise (or not at all) at inference: kept as they are.
_PASS_THROUGH = (
    keras.layers.Dropout,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
    keras.layers.ActivityRegularization,
)
# Activations that mix units, so a unit's output is not a function of its own input alone.
_MIXING_ACTIVATIONS = ("softmax", "log_softmax")


@keras.saving.register_keras_serializable(package="kerasnet")
class SelectFeatures(keras.layers.Layer):
    """Keep the given columns of the last axis: ``x[..., indices]``.

    The first layer of a pruned model, so that it takes the original inputs. Serializable
    (loads in safe mode once kerasnet is imported).

    Parameters
    ----------
    indices : sequence of int
        Column indices to keep, in order.
    """

    def __init__(self, indices, **kwargs):
        super().__init__(**kwargs)
        self.indices = [int(i) for i in indices]
        if not self.indices or min(self.indices) < 0:
            raise ValueError(
                f"indices must be a non-empty sequence of non-negative integers; received {indices!r}."
            )

    def call(self, inputs):
        return ops.take(inputs, ops.convert_to_tensor(self.indices, dtype="int32"), axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (len(self.indices),)

    def get_config(self):
        return {**super().get_config(), "indices": list(self.indices)}


class FeatureSelection(NamedTuple):
    """Input features a model still uses: ``indices`` into its inputs, ``names`` when known."""

    indices: np.ndarray
    names: list | None


@dataclasses.dataclass
class PruneReport:
    """What :func:`prune` removed.

    Attributes
    ----------
    kept_features : list of int
        Indices of the input features the pruned model still reads.
    n_features : int
        Number of input features of the original model.
    units : dict
        ``{layer name: (units before, units after)}`` for every ``Dense`` layer.
    params_before, params_after : int
        Parameter counts of the original and the pruned model.
    feature_names : list of str or None
        Names of ``kept_features`` when the caller gave the feature names.
    """

    kept_features: list
    n_features: int
    units: dict
    params_before: int
    params_after: int
    feature_names: list | None = None

    def to_dict(self) -> dict:
        """JSON-ready dictionary (for metrics files and the CLI)."""
        out = dataclasses.asdict(self)
        out["units"] = {k: list(v) for k, v in self.units.items()}
        return out

    def __str__(self):
        units = ", ".join(f"{name} {a}->{b}" for name, (a, b) in self.units.items())
        return (
            f"features {len(self.kept_features)}/{self.n_features}; units {units}; "
            f"parameters {self.params_before} -> {self.params_after}"
        )


def _chain(model):
    """The layers of ``model`` in order, if it is a single chain from one rank-2 input; else raise."""
    message = (
        "prune needs a model that is a single chain of Dense layers (optionally with Dropout-like "
        "layers) on one rank-2 input, such as kerasnet.mlp(...) or a penalize()d copy of one; "
    )
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(message + f"received {model!r}.")
    if len(model.inputs) != 1 or len(model.outputs) != 1 or len(model.inputs[0].shape) != 2:
        raise ValueError(message + "this model has several inputs or outputs, or a rank > 2 input.")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not isinstance(model, keras.Sequential):
        previous = model.inputs[0]
        for layer in layers:
            if len(layer._inbound_nodes) != 1 or layer.input is not previous:
                raise ValueError(message + f"layer {layer.name!r} is not the next link of a chain.")
            previous = layer.output
    for layer in layers:
        if not isinstance(layer, (keras.layers.Dense, SelectFeatures, *_PASS_THROUGH)):
            raise ValueError(message + f"layer {layer.name!r} is a {type(layer).__name__}.")
    dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise ValueError(message + "this model has no Dense layer.")
    return layers


def _numpy(variable):
    return np.asarray(ops.convert_to_numpy(variable), dtype=np.float64)


def _check_names(feature_names, n):
    if feature_names is None:
        return None
    names = [str(name) for name in feature_names]
    if len(names) != n:
        raise ValueError(
            f"feature_names must have one name per model input ({n}); received {len(names)} names."
        )
    return names


def selected_features(model, feature_names=None) -> FeatureSelection:
    """Input features whose first-layer weights are not all exactly zero.

    Reads the first layer with a kernel (after a :class:`SelectFeatures` of a pruned
    model, whose selection it composes with); a feature is used when any weight of its
    kernel row is nonzero. Exact zeros come from proximal training
    (``GroupLasso`` on the first layer, or ``ElasticNet(..., proximal=True)``).

    Parameters
    ----------
    model : keras.Model
    feature_names : sequence of str, optional
        One name per model input; when given, ``names`` lists the selected ones.

    Returns
    -------
    FeatureSelection
        ``(indices, names)``: sorted indices into the model's inputs, and their names or None.

    Examples
    --------
    >>> import kerasnet
    >>> selected_features(kerasnet.mlp(3, hidden=(2,), seed=0)).indices.tolist()
    [0, 1, 2]
    """
    try:
        n_inputs = int(model.inputs[0].shape[-1])
    except (AttributeError, IndexError, TypeError, ValueError):
        # Subclassed (and unbuilt) models have no known input, so no known first layer.
        raise ValueError(
            f"selected_features needs a built Sequential or Functional model, whose first layer is "
            f"known; received {type(model).__name__} without defined inputs. Build it on keras.Input, "
            "or rebuild it as a Functional model."
        ) from None
    base = None
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, SelectFeatures) and base is None:
            base = np.asarray(layer.indices)
        kernel = getattr(layer, "kernel", None)
        if isinstance(kernel, keras.Variable):
            rows = _numpy(kernel).reshape(kernel.shape[0], -1)
            used = np.flatnonzero(np.any(rows != 0, axis=1))
            break
    else:
        raise ValueError(f"model has no layer with a kernel; received {model!r}.")
    indices = used if base is None else base[used]
    names = _check_names(feature_names, n_inputs)
    return FeatureSelection(indices.astype(int), None if names is None else [names[i] for i in indices])


def _removable(indices, size):
    """Keep one unit when all would go: a layer of width 0 cannot be built."""
    indices = sorted(set(int(i) for i in indices))
    return indices[1:] if len(indices) == size else indices


def prune(model, feature_names=None):
    """A smaller model with the same predictions, without what exact zeros made useless.

    Removes, repeatedly until nothing changes:

    - input features whose first-layer kernel row is all zero;
    - hidden units whose incoming weights are all zero: their output is the constant
      ``activation(bias)``, folded into the next layer's bias;
    - hidden units whose outgoing weights are all zero.

    The pruned model is a drop-in replacement: it takes the same inputs (its first layer,
    :class:`SelectFeatures`, keeps the used columns), gives the same predictions (up to
    float32 rounding of the folded biases), keeps each layer's name, activation, penalty and
    constraint (so it can be trained further), and saves and loads in safe mode after
    ``import kerasnet``. Output units are never removed. Hidden layers with a mixing
    activation (softmax) keep their units.

    Parameters
    ----------
    model : keras.Model
        A single chain of ``Dense`` layers (Dropout-like layers allowed) on one rank-2
        input, Sequential or Functional: ``kerasnet.mlp`` models and penalized copies.
    feature_names : sequence of str, optional
        One name per input, reported for the kept features.

    Returns
    -------
    (keras.Sequential, PruneReport)
        The pruned model (uncompiled) and what was removed.

    Examples
    --------
    >>> import kerasnet
    >>> small, report = prune(kerasnet.mlp(4, hidden=(3,), seed=0))
    >>> report.params_before == report.params_after
    True
    """
    layers = _chain(model)
    n_features = int(model.inputs[0].shape[-1])
    feature_names = _check_names(feature_names, n_features)
    base = np.arange(n_features)
    if isinstance(layers[0], SelectFeatures):
        base = np.asarray(layers[0].indices)
        layers = layers[1:]
    dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    weights = [_numpy(layer.kernel) for layer in dense]
    biases = [
        _numpy(layer.bias) if layer.use_bias else np.zeros(layer.units) for layer in dense
    ]
    needs_bias = [layer.use_bias for layer in dense]
    kept_units = [np.arange(layer.units) for layer in dense]
    kept_inputs = np.arange(len(base))

    def constant_output(layer, bias):
        return np.asarray(
            ops.convert_to_numpy(layer.activation(ops.convert_to_tensor(bias, dtype=layer.compute_dtype))),
            dtype=np.float64,
        )

    changed = True
    while changed:
        changed = False
        rows = _removable(np.flatnonzero(~np.any(weights[0] != 0, axis=1)), weights[0].shape[0])
        if rows:
            keep = np.setdiff1d(np.arange(weights[0].shape[0]), rows)
            weights[0], kept_inputs, changed = weights[0][keep], kept_inputs[keep], True
        for k in range(len(dense) - 1):
            if dense[k].get_config().get("activation") in _MIXING_ACTIVATIONS:
                continue
            w_in, w_out = weights[k], weights[k + 1]
            dead = np.flatnonzero(~np.any(w_in != 0, axis=0))
            silent = np.flatnonzero(~np.any(w_out != 0, axis=1))
            drop = _removable(np.concatenate([dead, silent]), w_in.shape[1])
            if not drop:
                continue
            folded = np.intersect1d(drop, dead)
            folded = folded[np.any(w_out[folded] != 0, axis=1)]
            if folded.size:
                constants = constant_output(dense[k], biases[k][folded])
                biases[k + 1] = biases[k + 1] + constants @ w_out[folded]
                needs_bias[k + 1] = True
            keep = np.setdiff1d(np.arange(w_in.shape[1]), drop)
            weights[k] = w_in[:, keep]
            biases[k] = biases[k][keep]
            weights[k + 1] = w_out[keep]
            kept_units[k] = kept_units[k][keep]
            changed = True

    kept_features = base[kept_inputs]
    new_layers = [keras.Input(shape=(n_features,), dtype=model.inputs[0].dtype, name="features")]
    if len(kept_features) < n_features or not np.array_equal(kept_features, np.arange(n_features)):
        new_layers.append(SelectFeatures(kept_features.tolist(), name="select_features"))
    by_layer = {}
    for layer in layers:
        config = layer.get_config()
        if isinstance(layer, keras.layers.Dense):
            k = dense.index(layer)
            config["units"] = int(weights[k].shape[1])
            config["use_bias"] = bool(needs_bias[k])
            by_layer[layer.name] = k
        new_layers.append(layer.__class__.from_config(config))
    smaller = keras.Sequential(new_layers, name=model.name)
    for layer in smaller.layers:
        if layer.name in by_layer:
            k = by_layer[layer.name]
            values = [weights[k]] + ([biases[k]] if needs_bias[k] else [])
            layer.set_weights([v.astype(layer.variable_dtype) for v in values])

    report = PruneReport(
        kept_features=kept_features.astype(int).tolist(),
        n_features=n_features,
        units={layer.name: (int(layer.units), int(weights[k].shape[1])) for k, layer in enumerate(dense)},
        params_before=int(model.count_params()),
        params_after=int(smaller.count_params()),
        feature_names=None if feature_names is None else [feature_names[i] for i in kept_features],
    )
    return smaller, report
