"""scikit-learn estimators: elastic-net regularized MLPs as classifiers and regressors.

The estimators are thin shells over the library: ``fit`` validates its input the
scikit-learn way, builds the recipe with :func:`kerasnet.mlp`, compiles it with
:func:`kerasnet.compile_for` and trains it with Keras's ``model.fit`` (the ``...CV``
estimators fit a whole strength path with :func:`kerasnet.fit_path`). Parameter names
follow :class:`sklearn.neural_network.MLPClassifier` where the meaning is the same.

This module is their public address; the code lives in :mod:`kerasnet.estimators`, one
concept a module.
"""

from __future__ import annotations

from .estimators import (
    ElasticNetMLPClassifier,
    ElasticNetMLPClassifierCV,
    ElasticNetMLPPoissonRegressorCV,
    ElasticNetMLPRegressor,
    ElasticNetMLPRegressorCV,
    expected_failed_checks,
)

__all__ = [
    "ElasticNetMLPClassifier",
    "ElasticNetMLPClassifierCV",
    "ElasticNetMLPPoissonRegressorCV",
    "ElasticNetMLPRegressor",
    "ElasticNetMLPRegressorCV",
    "expected_failed_checks",
]
