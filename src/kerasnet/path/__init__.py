"""The regularization path with cross-validation, for the MLP and for any Keras model.

:func:`fit_path` (``fit``) chooses the grid (``grid``), the folds, and trains every strength
and fold at once in one vectorized fit (``engine``: the epoch loop; ``step``: one member's
step; ``runners``: vectorized over members per backend; ``batches``; ``stopping``: cross-fit
early stopping; ``distributed``: the members split across a Dask cluster), then returns a
:class:`Path` (``result``). :func:`stability_selection` (``stability``) trains half-samples x
strengths of the feature-selection path in one fit.
"""

import importlib as _importlib
from importlib.util import find_spec as _find_spec

#: Where each public name is defined; imported on first use, so that the light modules of the
#: package (``measures``, ``grid``, ``arguments``) come without Keras (the command line's help).
_API = {"MemberFit": "engine", "fit_members": "engine", "fit_path": "fit", "check_fold_count": "folds",
        "Path": "result", "StabilitySelection": "stability", "stability_selection": "stability"}

__all__ = sorted(_API)


def __getattr__(name):
    if name in _API:
        value = getattr(_importlib.import_module(f"{__name__}.{_API[name]}"), name)
    elif not name.startswith("_") and _find_spec(f"{__name__}.{name}") is not None:
        value = _importlib.import_module(f"{__name__}.{name}")  # a submodule, as when all were imported
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # looked up once (and a test's monkeypatch replaces it here)
    return value


def __dir__():
    return sorted({*globals(), *__all__})
