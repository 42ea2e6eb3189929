"""Host arrays to the backend's device: the one transfer every part of the engine uses."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

__all__ = ["to_device"]


def to_device(value):
    """A host array as the runner takes it. On JAX a plain transfer (``jax.device_put``):
    ``convert_to_tensor`` would compile a staging kernel for every new shape."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.device_put(np.asarray(value))
    return ops.convert_to_tensor(value)
