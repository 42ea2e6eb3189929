"""The scikit-learn estimators' code, one concept a module; import them from :mod:`kerasnet.sklearn`.

:mod:`.numeric` holds the float64 forward pass and the standardization arithmetic,
:mod:`.base` the shared base class and output mixins, :mod:`.mlp` the one-strength
estimators, :mod:`.cv` the cross-validated ones, :mod:`.poisson` the one for counts and
:mod:`.checks` the scikit-learn checks they are known to fail.
"""

from .checks import expected_failed_checks
from .cv import ElasticNetMLPClassifierCV, ElasticNetMLPRegressorCV
from .mlp import ElasticNetMLPClassifier, ElasticNetMLPRegressor
from .poisson import ElasticNetMLPPoissonRegressorCV

__all__ = [
    "ElasticNetMLPClassifier",
    "ElasticNetMLPClassifierCV",
    "ElasticNetMLPPoissonRegressorCV",
    "ElasticNetMLPRegressor",
    "ElasticNetMLPRegressorCV",
    "expected_failed_checks",
]
