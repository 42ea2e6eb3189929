"""Which scikit-learn estimator checks the kerasnet estimators are known to fail, and why.

:func:`expected_failed_checks` feeds ``parametrize_with_checks`` and ``check_estimator``;
the reasons live here, next to the one function that hands them out.
"""

from __future__ import annotations

from .cv import BaseElasticNetMLPCV
from .mlp import BaseElasticNetMLP

_SAMPLE_WEIGHT_REASON = (
    "float32 training: weighted and repeated-row fits agree to ~1e-6 (tested), the check needs 1e-7"
)


_CV_SAMPLE_WEIGHT_REASON = (
    "cross-validation splits rows: repeated rows fall into different folds than their weighted "
    "original, so the CV choice differs; with the copies in one fold (foldid) they agree (tested)"
)


_FLOAT32_ORDER_REASON = (
    "model= predicts with the user's Keras model in float32, whose matrix products may round the "
    "last bit differently for another row order or subset (~1e-7); the check asks for 1e-9 (the "
    "MLP estimators predict in float64 and pass)"
)


def expected_failed_checks(estimator) -> dict[str, str]:
    """scikit-learn estimator checks a kerasnet estimator is known to fail, with the reason.

    Pass it to ``sklearn.utils.estimator_checks.parametrize_with_checks(...,
    expected_failed_checks=expected_failed_checks)`` or ``check_estimator``. The CV
    estimators' folds split rows, not weights, so a weighted fit and a fit on repeated rows
    see different folds (with the copies of a row in one fold they agree: tested).

    Parameters
    ----------
    estimator : estimator instance

    Returns
    -------
    dict
        ``{check_name: reason}``.

    Examples
    --------
    >>> from kerasnet.sklearn import ElasticNetMLPRegressor
    >>> sorted(expected_failed_checks(ElasticNetMLPRegressor()))  # doctest: +NORMALIZE_WHITESPACE
    ['check_sample_weight_equivalence_on_dense_data', 'check_sample_weight_equivalence_on_sparse_data']
    """
    if isinstance(estimator, BaseElasticNetMLP):
        reason = _SAMPLE_WEIGHT_REASON
    elif isinstance(estimator, BaseElasticNetMLPCV):
        reason = _CV_SAMPLE_WEIGHT_REASON
    else:
        return {}
    failing = {
        "check_sample_weight_equivalence_on_dense_data": reason,
        "check_sample_weight_equivalence_on_sparse_data": reason,
    }
    if getattr(estimator, "model", None) is not None:
        failing["check_methods_sample_order_invariance"] = _FLOAT32_ORDER_REASON
        failing["check_methods_subset_invariance"] = _FLOAT32_ORDER_REASON
    return failing
