"""A persistent cache of compiled XLA programs: a second process with the same shapes starts at once.

On the JAX backend every new shape of a path's fit is compiled by XLA (seconds on a small
machine) and, without a cache, every ``kerasnet path`` process pays that again. kerasnet points
JAX's persistent compilation cache at a folder of the user's cache directory:
``$XDG_CACHE_HOME/kerasnet/xla`` (``~/.cache/kerasnet/xla`` by default). The environment variable
``KERASNET_XLA_CACHE`` names another folder, or turns the cache off with ``off`` (or ``0``,
``false``, ``no``, empty). A cache folder the user set for JAX itself (``JAX_COMPILATION_CACHE_DIR``
or ``jax.config``) is left as it is. A folder that cannot be created means no cache, silently:
the programs are compiled as before. The cache finds a program only when its shapes match: the
MLP path rounds its shapes up to buckets (:mod:`kerasnet.path.buckets`), so a table of a nearby
size, in rows and in features, finds the programs of the first.
"""

from __future__ import annotations

import os

__all__ = ["OFF", "default_folder", "enable"]

#: Values of ``KERASNET_XLA_CACHE`` that turn the cache off.
OFF = ("", "0", "off", "false", "no")


def default_folder() -> str:
    """``$XDG_CACHE_HOME/kerasnet/xla``, or ``~/.cache/kerasnet/xla``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kerasnet", "xla")


def enable() -> str | None:
    """Turn JAX's persistent compilation cache on (JAX backend only); return its folder or None."""
    from ._backend import backend_in_use

    # Named without importing Keras: this runs right after JAX is imported, maybe inside Keras's import.
    if backend_in_use() != "jax":
        return None
    setting = os.environ.get("KERASNET_XLA_CACHE")
    if setting is not None and setting.strip().lower() in OFF:
        return None
    import jax

    if jax.config.jax_compilation_cache_dir:  # the user's own choice for JAX
        return jax.config.jax_compilation_cache_dir
    folder = os.path.expanduser(setting) if setting else default_folder()
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", folder)
    # Keep every program: the path's small helper programs add up to seconds too.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return folder
