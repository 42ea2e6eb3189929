"""The regularization path with cross-validation, for the MLP and for any Keras model.

:func:`fit_path` (``fit``) chooses the grid (``grid``), the folds, and trains every strength
and fold at once in one vectorized fit (``engine``: the epoch loop; ``step``: one member's
step; ``runners``: vectorized over members per backend; ``batches``; ``stopping``: cross-fit
early stopping; ``distributed``: the members split across a Dask cluster), then returns a
:class:`Path` (``result``). :func:`stability_selection` (``stability``) trains half-samples x
strengths of the feature-selection path in one fit.
"""

from .engine import MemberFit, fit_members
from .fit import fit_path
from .folds import check_fold_count
from .result import Path
from .stability import StabilitySelection, stability_selection

__all__ = ["MemberFit", "Path", "StabilitySelection", "check_fold_count", "fit_members", "fit_path",
           "stability_selection"]
