"""NumPy-side arithmetic of the estimators: the float64 forward pass and standardization.

Predictions are computed from the Dense layers' weights in float64 NumPy (row-invariant,
as scikit-learn's checks require); weighted column statistics standardize inputs and
targets before training, and are folded back into the first and last layers afterwards so
that ``model_`` maps raw inputs to raw outputs.
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


def weighted_scale(a, weight):
    """Weighted column means and standard deviations; a constant column gets scale 1."""
    mean = np.average(a, axis=0, weights=weight)
    std = np.sqrt(np.average((a - mean) ** 2, axis=0, weights=weight))
    # Same rule as StandardScaler: leave (near-)constant columns unscaled.
    std = np.where(std < 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean)), 1.0, std)
    return mean, std


def fold_standardization(model, x_mean, x_scale, y_mean=None, y_scale=None):
    """Fold input standardization into the first Dense layer and output scaling into the last.

    ``x -> (x - mean)/scale`` followed by ``x @ W + b`` equals ``x @ (W/scale) + (b - (mean/scale) @ W)``,
    exactly, so the returned model maps raw inputs to raw targets; zeros in ``W`` stay zeros.
    """
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    first, last = dense[0], dense[-1]
    kernel, bias = (np.asarray(v, dtype=np.float64) for v in first.get_weights())
    first.set_weights([kernel / x_scale[:, None], bias - (x_mean / x_scale) @ kernel])
    if y_mean is not None:
        kernel, bias = (np.asarray(v, dtype=np.float64) for v in last.get_weights())
        last.set_weights([kernel * y_scale[None, :], bias * y_scale + y_mean])
