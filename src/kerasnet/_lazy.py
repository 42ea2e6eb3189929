"""Public names of a package imported on first use (PEP 562), for ``kerasnet``, ``kerasnet.path``
and ``kerasnet.runs``: their light modules come without Keras, pandas or scikit-learn."""

import importlib
from importlib.util import find_spec


def lookup(package: str, api: dict, namespace: dict, name: str):
    """``package``'s attribute ``name``: imported from the module ``api`` names for it, or the
    submodule of that name (as when every module was imported eagerly); kept in ``namespace``
    (the package's globals) so it is looked up once, and a test's monkeypatch replaces it there."""
    if name in api:
        value = getattr(importlib.import_module(f"{package}.{api[name]}"), name)
    elif not name.startswith("_") and find_spec(f"{package}.{name}") is not None:
        value = importlib.import_module(f"{package}.{name}")
    else:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    namespace[name] = value
    return value
