"""kerasnet: elastic-net (L1-L2) regularized deep learning on Keras 3."""

from ._backend import choose_default_backend as _choose_default_backend

_choose_default_backend()

# Importing every module that defines a registered Keras object (penalties, the proximal
# step, the pruning selector, the path's initializer) is what lets `keras.saving.load_model`
# find them after a plain `import kerasnet`.
from ._compilation_cache import enable as _enable_compilation_cache  # noqa: E402
from .data import load_survival_dataset  # noqa: E402
from .displays import PathDisplay  # noqa: E402
from .models import compile_for, mlp  # noqa: E402
from .monitor import PenaltyMonitor  # noqa: E402
from .path import Path, StabilitySelection, fit_path, stability_selection  # noqa: E402
from .penalize import penalize  # noqa: E402
from .penalty import ElasticNet, GroupLasso  # noqa: E402
from .prune import PruneReport, prune, selected_features  # noqa: E402
from .runs import build_report  # noqa: E402
from .sklearn import (  # noqa: E402
    ElasticNetMLPClassifier,
    ElasticNetMLPClassifierCV,
    ElasticNetMLPPoissonRegressorCV,
    ElasticNetMLPRegressor,
    ElasticNetMLPRegressorCV,
)

_enable_compilation_cache()


def _installed_version() -> str:
    """The version of the installed package (pyproject.toml's), read from its metadata."""
    from importlib import metadata

    try:
        return metadata.version("kerasnet")
    except metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
        return "unknown"


__version__ = _installed_version()

__all__ = [
    "ElasticNet",
    "ElasticNetMLPClassifier",
    "ElasticNetMLPClassifierCV",
    "ElasticNetMLPPoissonRegressorCV",
    "ElasticNetMLPRegressor",
    "ElasticNetMLPRegressorCV",
    "GroupLasso",
    "Path",
    "PathDisplay",
    "PenaltyMonitor",
    "PruneReport",
    "StabilitySelection",
    "__version__",
    "build_report",
    "compile_for",
    "fit_path",
    "load_survival_dataset",
    "mlp",
    "penalize",
    "prune",
    "selected_features",
    "stability_selection",
]
