"""NumPy-side arithmetic of the estimators: the float64 forward pass.

Predictions are computed from the Dense layers' weights in float64 NumPy (row-invariant,
as scikit-learn's checks require). The standardization of inputs and targets is computed by
:func:`kerasnet.standardization.weighted_moments` and folded into the first and last layers
by :func:`kerasnet.models.fold_standardization`, so that ``model_`` maps raw inputs to raw outputs.
"""

from __future__ import annotations

import keras
import numpy as np
from scipy.special import expit


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


_NUMPY_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": expit,
    "softmax": _softmax,
    "exponential": np.exp,
}


def numpy_forward(model, X):
    """``model``'s output in float64 NumPy, from its Dense layers' weights and activations.

    Keras's float32 kernels (XLA's) can change a row's result by one ulp with its position
    in the batch; scikit-learn's checks require predictions that do not depend on the other
    rows (``check_methods_subset_invariance``), which the float64 pass gives.
    """
    out = X
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dropout):
            continue  # inactive at inference
        activation = layer.get_config().get("activation") if isinstance(layer, keras.layers.Dense) else None
        if activation not in _NUMPY_ACTIVATIONS:  # not the plain recipe: let Keras compute it
            return keras.ops.convert_to_numpy(model(X.astype(np.float32), training=False)).astype(np.float64)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            kernel, bias = layer.get_weights()
            z = out @ kernel.astype(np.float64) + bias.astype(np.float64)
            out = _NUMPY_ACTIVATIONS[layer.get_config()["activation"]](z)
    return out
