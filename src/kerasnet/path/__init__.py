"""The regularization path with cross-validation, for the MLP and for any Keras model.

:func:`fit_path` (``fit``) chooses the grid (``grid``), the folds, and trains every strength
and fold at once in one vectorized fit (``engine``: the epoch loop; ``step``: one member's
step; ``members``: what each member has of its own and what all share; ``runners``: vectorized
over members per backend; ``batches``; ``stopping``: cross-fit
early stopping; ``distributed``: the members split across a Dask cluster), then returns a
:class:`Path` (``result``). :func:`stability_selection` (``stability``) trains half-samples x
strengths of the feature-selection path in one fit.
"""

from .._lazy import lookup as _lookup

#: Where each public name is defined; imported on first use, so that the light modules of the
#: package (``measures``, ``grid``, ``arguments``) come without Keras (the command line's help).
_API = {"MemberFit": "engine", "fit_members": "engine", "fit_path": "fit", "check_fold_count": "folds",
        "MemberSpec": "members", "Scaling": "members", "Training": "members", "StoppingRule": "stopping",
        "Rows": "rows", "MemberGrid": "plan",
        "Path": "result", "RatioPaths": "ratios", "StabilitySelection": "stability",
        "stability_selection": "stability"}

__all__ = sorted(_API)


def __getattr__(name):
    return _lookup(__name__, _API, globals(), name)


def __dir__():
    return sorted({*globals(), *__all__})
