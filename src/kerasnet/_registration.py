"""kerasnet's Keras objects are registered as soon as Keras is imported, without importing Keras first.

``keras.saving.load_model(f, safe_mode=True)`` finds a saved penalty, proximal optimizer,
feature selector or initializer only once the module defining it has run its
``@keras.saving.register_keras_serializable``. ``import kerasnet`` stays light (the command
line's help needs no Keras), so those modules are imported when Keras is:

* Keras already imported when kerasnet is: :func:`register` runs at once.
* Otherwise :func:`install` puts a finder first on ``sys.meta_path``. It wraps the loader of
  ``keras`` so that :func:`register` runs right after Keras's own module has run, and the
  loaders of kerasnet's submodules so that, when one of them imported Keras, the registration
  waits until the outermost kerasnet module being imported has finished (importing the
  registering modules from inside a half-run kerasnet module could ask it for names it has
  not defined yet). After the registration the finder removes itself.

:func:`register` also turns on JAX's persistent compilation cache (:mod:`._compilation_cache`), and
so does the import of ``jax`` itself (the finder wraps its loader too; at once if JAX is already
imported): a program compiled before Keras is imported is kept as well.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys

__all__ = ["REGISTERING", "install", "register", "registered"]

#: Modules defining kerasnet's registered Keras objects, relative to the package.
REGISTERING = ("penalty", "proximal", "prune", "survival", "path.inputs")

_state = {"done": False, "running": False, "pending": False, "depth": 0, "cache": False}


def registered() -> bool:
    """True once every module of :data:`REGISTERING` has been imported by :func:`register`."""
    return _state["done"]


def register() -> None:
    """Import the modules of :data:`REGISTERING` (once) and turn the compilation cache on."""
    if _state["done"] or _state["running"]:
        return
    _state["running"] = True
    try:
        for name in REGISTERING:
            importlib.import_module(f"{__package__}.{name}")
        _enable_cache()
        _state["done"] = True
        _state["pending"] = False
        _uninstall()
    finally:
        _state["running"] = False


def _enable_cache() -> None:
    if not _state["cache"]:
        from ._compilation_cache import enable

        enable()
        _state["cache"] = True


def _after_keras() -> None:
    _state["pending"] = True
    if _state["depth"] == 0:
        register()


def _wrap(loader, name: str) -> bool:
    """Run :func:`register` (or, for ``jax``, the cache) after ``loader`` has run its module."""
    original = loader.exec_module
    ours = name not in ("keras", "jax")  # a kerasnet module: counted while it runs

    def exec_module(module):
        if ours:
            _state["depth"] += 1
        try:
            original(module)
        finally:
            if ours:
                _state["depth"] -= 1
        if name == "jax":
            _enable_cache()
        elif name == "keras":
            _after_keras()
        elif _state["pending"] and _state["depth"] == 0:
            register()

    try:
        loader.exec_module = exec_module  # this spec's own loader instance, made for this import
    except AttributeError:  # a loader with __slots__: leave it as it is
        return False
    return True


class _Finder(importlib.abc.MetaPathFinder):
    """Finds ``keras``, ``jax`` and ``kerasnet.*`` with the other finders and wraps their loaders."""

    def find_spec(self, name, path=None, target=None):
        if name not in ("keras", "jax") and not name.startswith(f"{__package__}."):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            _wrap(spec.loader, name)
        return spec


_FINDER = _Finder()


def install() -> None:
    """Register now if Keras is already imported, else when it is (see the module's docstring)."""
    if "keras" in sys.modules:
        register()
        return
    if "jax" in sys.modules:
        _enable_cache()
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def _uninstall() -> None:
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
