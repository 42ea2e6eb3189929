"""Shared test setup.

``import kerasnet`` must run before any test module imports ``keras``: it picks the JAX
backend when neither KERAS_BACKEND nor keras.json chooses one (Keras fixes its backend at
first import).
"""

import kerasnet  # noqa: F401
