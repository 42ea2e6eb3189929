"""kerasnet: elastic-net (L1-L2) regularized deep learning on Keras 3."""

from ._backend import choose_default_backend as _choose_default_backend

_choose_default_backend()

from .models import compile_for, mlp  # noqa: E402
from .monitor import PenaltyMonitor  # noqa: E402
from .penalty import ElasticNet  # noqa: E402

__version__ = "0.1.0"

__all__ = ["ElasticNet", "PenaltyMonitor", "compile_for", "mlp", "__version__"]
