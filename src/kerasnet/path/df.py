"""Df for any network: whether a path's first penalized kernel has one row per input feature."""

from __future__ import annotations

import keras

__all__ = ["rows_are_features"]

# Layers that act on each input feature alone: after them a Dense kernel's row j still reads
# feature j only, so a zero row leaves the feature out. (LayerNormalization mixes features.)
FEATUREWISE = (keras.layers.Normalization, keras.layers.Rescaling, keras.layers.Dropout,
               keras.layers.GaussianNoise, keras.layers.GaussianDropout, keras.layers.AlphaDropout,
               keras.layers.Activation)


def rows_are_features(architecture, position) -> bool:
    """Whether ``model.get_weights()[position]`` of ``architecture``'s model is the kernel of a
    ``Dense`` layer that reads the model's one 2-d input (directly or through featurewise
    layers only): then its nonzero rows are the features the network keeps.

    ``architecture`` is what ``fit_path(model=...)`` took (a built ``keras.Model`` or a function
    returning one). A convolution, an embedding, a Dense after a ``Flatten`` or on one of
    several inputs has no row per feature: False (Df then counts nonzero weights).
    """
    from .inputs import build_model

    model = build_model(architecture, seed=0)  # seeded: the caller's random states are put back
    kernel = model.weights[position]
    try:
        if len(model.inputs) != 1 or len(model.inputs[0].shape) != 2:
            return False
        layer = next((layer for layer in model.layers
                      if isinstance(layer, keras.layers.Dense) and layer.kernel is kernel), None)
        if layer is None:  # not a top-level Dense (a conv, an embedding, a nested model's layer)
            return False
        tensor = layer.input
        while tensor is not model.inputs[0]:
            operation = tensor._keras_history.operation  # Keras's graph of a Functional model
            if not isinstance(operation, FEATUREWISE):
                return False
            tensor = operation.input
    except (AttributeError, ValueError, TypeError):  # a subclassed model, a shared layer: no graph to read
        return False
    return True
