"""Choose JAX as Keras's backend when the user has not chosen one.

This is the only import-time work kerasnet does. It must run before ``keras`` is
first imported, because Keras reads its backend once, at import.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

DEFAULT_BACKEND = "jax"


def _keras_json_backend() -> str | None:
    """The backend named in the user's keras.json, if any (Keras's own lookup order)."""
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    path = os.path.join(base, "keras.json")
    try:
        with open(path, encoding="utf-8") as fh:
            config = json.load(fh)
    except (OSError, ValueError):
        return None
    backend = config.get("backend") if isinstance(config, dict) else None
    return backend or None


def choose_default_backend() -> None:
    """Set ``KERAS_BACKEND=jax`` unless the environment or keras.json already chooses."""
    if "keras" in sys.modules:
        # Keras has already fixed its backend; changing the variable now would only lie.
        return
    if os.environ.get("KERAS_BACKEND"):
        return
    configured = _keras_json_backend()
    if configured is not None and not _is_unusable_default(configured):
        return
    os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND


def backend_in_use() -> str:
    """Keras's backend without importing Keras: Keras's own, once imported; else the one it will read
    (``KERAS_BACKEND``, then keras.json, then Keras's default, TensorFlow)."""
    keras = sys.modules.get("keras")
    name = getattr(getattr(keras, "backend", None), "backend", None)
    if callable(name):
        return name()
    return os.environ.get("KERAS_BACKEND") or _keras_json_backend() or "tensorflow"


def _is_unusable_default(backend: str) -> bool:
    """True for the ``"tensorflow"`` entry Keras writes on its own when TensorFlow is absent.

    Keras creates keras.json with its default backend the first time it is imported, so the
    file can name TensorFlow without anyone choosing it; with TensorFlow not installed that
    entry can only fail, so it is not treated as the user's choice.
    """
    return backend == "tensorflow" and importlib.util.find_spec("tensorflow") is None
