"""scikit-learn estimators: sklearn's own checks, composition, pickling, numbers against sklearn."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from kerasnet.sklearn import ElasticNetMLPClassifier, ElasticNetMLPRegressor, expected_failed_checks


def _check_instances():
    # Small networks and few epochs keep sklearn's ~60 checks (each fitting several times) quick;
    # learning_rate_init=0.01 reaches the accuracy check_classifiers_train demands honestly.
    small = dict(hidden_layer_sizes=(8,), max_iter=20, learning_rate_init=0.01, random_state=0)
    return [ElasticNetMLPClassifier(**small), ElasticNetMLPRegressor(**small)]


@parametrize_with_checks(_check_instances(), expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
