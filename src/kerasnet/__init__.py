"""kerasnet: elastic-net (L1-L2) regularized deep learning on Keras 3.

``import kerasnet`` is light: the public names below are imported on first use (PEP 562),
so the command line answers ``--help`` without loading Keras, JAX or scikit-learn. The
modules defining kerasnet's registered Keras objects are imported as soon as Keras is
(:mod:`kerasnet._registration`), so ``import kerasnet`` then
``keras.saving.load_model(f, safe_mode=True)`` finds them, as before.
"""

import sys as _sys
import types as _types

from ._backend import choose_default_backend as _choose_default_backend
from ._lazy import lookup as _lookup

# Before anything imports Keras: Keras reads its backend once, at import.
_choose_default_backend()

from ._registration import install as _install_registration  # noqa: E402

_install_registration()

#: Where each public name is defined (imported from there on first use).
_API = {
    "ElasticNet": "penalty",
    "ElasticNetMLPClassifier": "sklearn",
    "ElasticNetMLPClassifierCV": "sklearn",
    "ElasticNetMLPPoissonRegressorCV": "sklearn",
    "ElasticNetMLPRegressor": "sklearn",
    "ElasticNetMLPRegressorCV": "sklearn",
    "GroupLasso": "penalty",
    "Path": "path",
    "PathDisplay": "displays",
    "PenaltyMonitor": "monitor",
    "PruneReport": "prune",
    "RatioPaths": "path",
    "SearchResult": "search",
    "StabilitySelection": "path",
    "build_report": "runs",
    "compile_for": "models",
    "fit_path": "path",
    "load_survival_dataset": "data",
    "mlp": "models",
    "penalize": "penalize",
    "prune": "prune",
    "search": "search",
    "selected_features": "prune",
    "stability_selection": "path",
}

__all__ = sorted([*_API, "__version__"])


def _installed_version() -> str:
    """The version of the installed package (pyproject.toml's), read from its metadata."""
    from importlib import metadata

    try:
        return metadata.version("kerasnet")
    except metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
        return "unknown"


def __getattr__(name):
    if name == "__version__":
        globals()[name] = version = _installed_version()
        return version
    return _lookup(__name__, _API, globals(), name)


def __dir__():
    return sorted({*globals(), *__all__})


#: Public functions named like the module defining them (``kerasnet.prune`` is the function).
_SHADOWED = frozenset(name for name, module in _API.items() if name == module)


class _Package(_types.ModuleType):
    """The package's module type: importing ``kerasnet.prune`` leaves ``kerasnet.prune`` the function.

    The import system binds a submodule on its package once it is imported; with the function
    imported eagerly, the ``from .prune import prune`` after it rebound the name. Here the
    binding itself keeps the function.
    """

    def __setattr__(self, name, value):
        if (name in _SHADOWED and isinstance(value, _types.ModuleType)
                and value.__name__ == f"{__name__}.{name}"):
            value = getattr(value, name)
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
