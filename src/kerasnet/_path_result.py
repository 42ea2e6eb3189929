"""``Path``: the result of :func:`kerasnet.fit_path`, explored like glmnet's ``cv.glmnet`` object."""

from __future__ import annotations

import keras
import numpy as np

from . import _grid
from .models import compile_for, mlp
from .penalty import lambda_to_l1_l2

__all__ = ["Path"]


class Path:
    """A fitted regularization path with cross-validation (returned by :func:`kerasnet.fit_path`).

    Attributes
    ----------
    lambdas_ : ndarray [L]
        Strengths, descending.
    cv_mean_, cv_se_ : ndarray [L]
        Mean and standard error over folds of the validation score (accuracy for
        classifiers, R^2 for regression); NaN for diverged strengths.
    cv_loss_mean_, cv_loss_se_ : ndarray [L]
        The same for the validation data loss (cross-entropy or MSE, penalty excluded).
    cv_scores_, cv_losses_ : ndarray [L, n_folds]
        Per fold, at each member's restored (best) epoch.
    lambda_min_, lambda_1se_ : float
        Best mean score; largest strength whose mean is within one standard error of the
        best (glmnet's ``lambda.1se``, the default choice).
    sparsity_ : ndarray [L]
        Fraction of kernel weights exactly zero in each refit model.
    n_features_selected_ : ndarray [L] int
        Input features with a nonzero first-layer weight in each refit model.
    weight_norm_ : ndarray [L]
        ``sum |W|`` over the refit model's kernels.
    diverged_ : ndarray [L] bool
        A fold or the refit of this strength became NaN / infinite; excluded from selection.
    best_epoch_ : ndarray [L, n_folds] int
    refit_epochs_ : ndarray [L] int
        Epochs of each refit on all rows: the mean of its folds' best epochs.
    """

    def __init__(self, *, lambdas, l1_ratio, task, hidden, classes, feature_names, mean, scale, y_mean,
                 y_scale, cv_score, cv_loss, member_diverged, best_epoch, refit_epochs, refit_diverged,
                 weights, n_outputs, proximal, history=None):
        self.lambdas_ = np.asarray(lambdas, float)
        self.l1_ratio, self.task, self.hidden, self.proximal = l1_ratio, task, hidden, proximal
        self.classes_, self.feature_names_ = classes, list(feature_names)
        self.n_outputs, self.mean_, self.scale_ = n_outputs, mean, scale
        self.y_mean_, self.y_scale_ = y_mean, y_scale
        self.cv_scores_, self.cv_losses_ = cv_score, cv_loss
        self.member_diverged_ = member_diverged
        self.diverged_ = member_diverged.any(axis=1) | np.asarray(refit_diverged, bool)
        excluded = member_diverged | np.asarray(refit_diverged, bool)[:, None]
        self.cv_mean_, self.cv_se_ = _grid.cv_summary(cv_score, excluded)
        self.cv_loss_mean_, self.cv_loss_se_ = _grid.cv_summary(cv_loss, excluded)
        self.score_name = "r2" if task == "regression" else "accuracy"
        self.index_min_ = _grid.select_min(self.lambdas_, self.cv_mean_)
        self.index_1se_ = _grid.select_1se(self.lambdas_, self.cv_mean_, self.cv_se_)
        self.lambda_min_ = float(self.lambdas_[self.index_min_])
        self.lambda_1se_ = float(self.lambdas_[self.index_1se_])
        self.best_epoch_, self.refit_epochs_ = best_epoch, refit_epochs
        self.weights_ = weights
        kernels = [w[0::2] for w in weights]
        self.sparsity_ = np.array([sum(int((k == 0).sum()) for k in ks) / sum(k.size for k in ks)
                                   for ks in kernels])
        self.n_features_selected_ = np.array([int((np.abs(ks[0]).sum(axis=1) > 0).sum()) for ks in kernels])
        self.weight_norm_ = np.array([float(sum(np.abs(k).sum() for k in ks)) for ks in kernels])
        self.history_ = history or {}

    def _index(self, lam):
        if isinstance(lam, str):
            if lam not in ("1se", "min"):
                raise ValueError(f"lam must be '1se', 'min' or a strength on the grid; received {lam!r}.")
            return self.index_1se_ if lam == "1se" else self.index_min_
        hits = np.flatnonzero(np.isclose(self.lambdas_, float(lam), rtol=1e-6, atol=0))
        if hits.size == 0:
            raise ValueError(
                f"lam={lam!r} is not on the path's grid; use '1se', 'min' or one of Path.lambdas_ "
                f"({self.lambdas_.min():.4g} .. {self.lambdas_.max():.4g})."
            )
        return int(hits[0])

    def model(self, lam="1se"):
        """The refit network at strength ``lam`` as a standalone, compiled ``keras.Sequential``.

        It is the plain recipe (:func:`kerasnet.mlp` with Keras's own ``L1L2`` penalty at
        ``lam``) preceded by a ``Normalization`` layer holding the training mean and
        variance, so it takes raw ``X`` (for regression followed by a ``Rescaling`` layer
        back to ``y``'s units); a ``.keras`` file of it loads with
        ``keras.saving.load_model`` (safe mode) without kerasnet.

        Parameters
        ----------
        lam : float or {"1se", "min"}, default "1se"
            A strength of ``lambdas_`` or a selection rule.
        """
        i = self._index(lam)
        if self.diverged_[i]:
            raise ValueError(f"the model at lam={self.lambdas_[i]:.4g} diverged; choose another strength.")
        l1, l2 = lambda_to_l1_l2(float(self.lambdas_[i]), self.l1_ratio)
        d = len(self.mean_)
        base = mlp(d, self.n_outputs, self.hidden, self.task, penalty=keras.regularizers.L1L2(l1=l1, l2=l2))
        norm = keras.layers.Normalization(mean=self.mean_.tolist(), variance=np.square(self.scale_).tolist(),
                                          name="standardize")
        layers = [keras.Input((d,), name="features"), norm, *base.layers]
        if self.task == "regression":  # the network fit the standardized target
            scale, offset = self.y_scale_.tolist(), self.y_mean_.tolist()
            if len(scale) == 1:
                scale, offset = scale[0], offset[0]
            layers.append(keras.layers.Rescaling(scale=scale, offset=offset, name="unstandardize"))
        model = keras.Sequential(layers, name="kerasnet_path_model")
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        weights = self.weights_[i]
        for j, layer in enumerate(dense):
            layer.set_weights([weights[2 * j], weights[2 * j + 1]])
        return compile_for(model, self.task)

    def predict(self, X, lam="1se"):
        """Predictions of :meth:`model` (``lam``) on raw ``X``: class labels or values."""
        out = self.model(lam).predict(np.asarray(X, "float32"), verbose=0)
        if self.task == "binary":
            return self.classes_[(out[:, 0] > 0.5).astype(int)]
        if self.task == "multiclass":
            return self.classes_[out.argmax(axis=1)]
        return out[:, 0] if out.shape[1] == 1 else out

    def to_frame(self):
        """The path as a ``pandas.DataFrame``, one row per strength (descending)."""
        import pandas as pd

        l1, l2 = np.array([lambda_to_l1_l2(float(lam), self.l1_ratio) for lam in self.lambdas_]).T
        selected = np.full(len(self.lambdas_), "", dtype=object)
        selected[self.index_min_] = "min"
        selected[self.index_1se_] = "1se" if self.index_1se_ != self.index_min_ else "min,1se"
        return pd.DataFrame({
            "lambda": self.lambdas_, "l1": l1, "l2": l2,
            f"cv_{self.score_name}": self.cv_mean_, f"cv_{self.score_name}_se": self.cv_se_,
            "cv_loss": self.cv_loss_mean_, "cv_loss_se": self.cv_loss_se_,
            "sparsity": self.sparsity_, "n_features": self.n_features_selected_,
            "weight_norm": self.weight_norm_, "refit_epochs": self.refit_epochs_,
            "diverged": self.diverged_, "selected": selected,
        })

    def plot(self):
        """A matplotlib Figure: CV curve with error bars and both choices; sparsity / norm path."""
        from .plots import path_figure

        return path_figure(self.lambdas_, self.cv_mean_, self.cv_se_, self.lambda_min_, self.lambda_1se_,
                           self.weight_norm_, self.sparsity_, self.n_features_selected_,
                           score_name=self.score_name)

    def __repr__(self):
        return (f"Path(task={self.task!r}, n_lambdas={len(self.lambdas_)}, "
                f"lambda_min_={self.lambda_min_:.4g}, lambda_1se_={self.lambda_1se_:.4g}, "
                f"cv_{self.score_name}_max={np.nanmax(self.cv_mean_):.4f})")
