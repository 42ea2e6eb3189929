"""``Path``: the result of :func:`kerasnet.fit_path`, explored like glmnet's ``cv.glmnet`` object."""

from __future__ import annotations

import keras
import numpy as np

from ..models import compile_for, mlp, standalone_network
from ..penalty import lambda_to_l1_l2
from . import grid, measures
from .df import rows_are_features
from .features import first_layer_norms
from .plan import MemberGrid

__all__ = ["Path"]


class Path:
    """A fitted regularization path with cross-validation (returned by :func:`kerasnet.fit_path`).

    Attributes
    ----------
    lambdas_ : ndarray [L]
        Strengths, descending.
    measure : str
        The CV measure (``fit_path``'s ``measure``; :mod:`kerasnet.path.measures`).
    cv_mean_, cv_se_ : ndarray [L]
        glmnet's ``cvm`` and ``cvsd`` of ``measure``: the mean over folds (weighted by
        each fold's total row weight) and its standard error; NaN for diverged strengths.
    cv_scores_ : ndarray [L, n_folds]
        ``measure`` on each fold, at each member's cross-fit epoch (chosen without its fold).
    cv_measures_ : dict of {str: ndarray [L, n_folds]}
        Every measure that applies to the task, per fold (``cv_summary`` of any of them).
    cv_loss_mean_, cv_loss_se_, cv_losses_ : ndarray
        The same for the deviance.
    greater_is_better : bool
        Whether a larger ``measure`` is better (``auc``, ``r2``).
    lambda_min_, lambda_1se_ : float
        Best mean; largest strength whose mean is within one standard error of the best
        (glmnet's ``lambda.1se``, the default choice).
    oof_predictions_ : ndarray [L, n, o] or None
        With ``keep=True``: each row's out-of-fold output (probability of the second class,
        class probabilities, or values in ``y``'s units) at every strength; NaN for rows in
        no test set, the mean where test sets overlap.
    sparsity_ : ndarray [L]
        Fraction of kernel weights exactly zero in each refit model.
    n_features_selected_ : ndarray [L] int
        Input features with a nonzero first-layer weight in each refit model; -1 when the
        first penalized layer is not a ``Dense`` on the inputs (a user's Conv1D, Embedding, ...).
    n_nonzero_ : ndarray [L] int
        Nonzero penalized kernel weights in each refit model.
    df_, df_name_ : ndarray [L] int, str
        The ``Df`` of :meth:`summary`: ``n_features_selected_`` ("features") when the first
        penalized layer is a ``Dense`` on the inputs, else ``n_nonzero_`` ("nonzero weights").
    weight_norm_ : ndarray [L]
        ``sum |W|`` over the refit model's kernels.
    feature_path_ : ndarray [L, d] or None
        Each input feature's first-layer weight norm ``||W1[j]||_2`` in each refit model
        (standardized units; 0: the feature is out), the network's counterpart of glmnet's
        coefficient path; None when the first penalized layer is not a Dense on the inputs.
    feature_selection : bool
        The path's strength was a group lasso on the input features (``hidden_l2`` on the
        other kernels).
    dev_ratio_ : ndarray [L] or None
        glmnet's ``dev.ratio``: the fraction of the null deviance each refit explains on its
        own (all) rows, ``1 - loss / loss of the constant model``; :meth:`summary`.
    penalty_factor_ : ndarray [d] or None
        The rescaled penalty factors the path used (excluded features :data:`~kerasnet.path.members.HOLD`).
    relaxed_ : Path or None
        With ``fit_path(..., relax=True)``: the relaxed path, every point trained again on
        exactly its selected features without the feature penalty (its own CV curve,
        ``lambda_min_``, ``lambda_1se_`` and refits).
    relax_chosen_ : bool
        The relaxed path's best CV mean beats this path's (what :meth:`model` follows).
    baselines_ : kerasnet.path.baselines.Baselines or None
        The null model's and the linear elastic net's CV measure on this path's own splits
        (``fit_path(baselines=True)``, the default; None otherwise); :meth:`baseline_text`
        words them against the network.
    diverged_ : ndarray [L] bool
        A fold or the refit of this strength became NaN / infinite; excluded from selection.
    best_epoch_ : ndarray [L, n_folds] int
    refit_epochs_ : ndarray [L] int
        Epochs of each refit on all rows (see :func:`kerasnet.fit_path`).
    batch_size_, patience_, max_epochs_ : int or None
        The batch size, patience and epoch cap the fit used, given or chosen from the row count
        (:mod:`kerasnet.path.defaults`); None on a path not made by :func:`kerasnet.fit_path`.
    cv_rows_ : tuple of two bool ndarrays [n_splits, n] or None
        Each CV split's training and test rows (``fit_path``'s splits, as row masks), so another
        fit can use exactly the same ones (``cv=`` pairs); None on a path not made by ``fit_path``.
    """

    def __init__(self, *, lambdas, l1_ratio, task, classes, feature_names, cv_values, measure,
                 member_diverged, best_epoch, refit_epochs, refit_diverged,
                 weights, n_outputs, proximal, fold_weights=None, history=None, oof_predictions=None,
                 hidden=None, mean=None, scale=None, y_mean=None, y_scale=None, architecture=None,
                 kernels=None, penalized=None, feature_selection=False, hidden_l2=0.0, relaxed=None,
                 dev_ratio=None, penalty_factor=None, measure_weights=None, members=None):
        self.lambdas_ = np.asarray(lambdas, float)
        self.l1_ratio, self.task, self.hidden, self.proximal = l1_ratio, task, hidden, proximal
        self.classes_, self.feature_names_ = classes, list(feature_names)
        self.n_outputs, self.mean_, self.scale_ = n_outputs, mean, scale
        self.y_mean_, self.y_scale_ = y_mean, y_scale
        self.measure = measures.check_measure(measure, task)
        self.greater_is_better = measures.greater_is_better(measure)
        self.cv_measures_ = {m: np.asarray(v, float) for m, v in cv_values.items()}
        self.cv_scores_ = self.cv_measures_[measure]
        self.cv_losses_ = self.cv_measures_["deviance"]
        self.fold_weights_ = None if fold_weights is None else np.asarray(fold_weights, float)
        # A measure whose folds weigh otherwise (Cox's grouped deviance: by their events).
        self.measure_weights_ = {m: np.asarray(v, float) for m, v in (measure_weights or {}).items()}
        self.member_diverged_ = member_diverged
        #: Who each member of the CV fit was (:class:`kerasnet.path.plan.MemberGrid`).
        self.members_ = members if members is not None else MemberGrid.of(self.lambdas_,
                                                                          member_diverged.shape[1])
        self.diverged_ = member_diverged.any(axis=1) | np.asarray(refit_diverged, bool)
        self._excluded = member_diverged | np.asarray(refit_diverged, bool)[:, None]
        self.cv_mean_, self.cv_se_ = self.cv_summary(measure)
        self.cv_loss_mean_, self.cv_loss_se_ = self.cv_summary("deviance")
        self.index_min_ = grid.select_min(self.lambdas_, self.cv_mean_, self.greater_is_better)
        self.index_1se_ = grid.select_1se(self.lambdas_, self.cv_mean_, self.cv_se_, self.greater_is_better)
        self.oof_predictions_ = oof_predictions
        self.lambda_min_ = float(self.lambdas_[self.index_min_])
        self.lambda_1se_ = float(self.lambdas_[self.index_1se_])
        self.best_epoch_, self.refit_epochs_ = best_epoch, refit_epochs
        self.weights_ = weights
        # A user's model (fit_path(model=...)): its builder, its penalized kernels' positions.
        self.architecture, self.penalized = architecture, penalized
        self._kernels = kernels
        kernels = [w[0::2] if self._kernels is None else [w[j] for j in self._kernels] for w in weights]
        self.sparsity_ = np.array([sum(int((k == 0).sum()) for k in ks) / sum(k.size for k in ks)
                                   for ks in kernels])
        # Features are the first kernel's rows when it is a Dense on the inputs (the MLP's always
        # is); else (a Conv1D, an Embedding, a Dense after a Flatten) Df counts nonzero weights.
        features = bool(kernels) and kernels[0][0].ndim == 2 and (
            architecture is None or rows_are_features(architecture, self._kernels[0]))
        self.feature_path_ = first_layer_norms(kernels) if features else None
        self.n_features_selected_ = (self.feature_path_ > 0).sum(axis=1) if features \
            else np.full(len(kernels), -1)
        self.n_nonzero_ = np.array([sum(int(np.count_nonzero(k)) for k in ks) for ks in kernels])
        self.df_name_ = "features" if features else "nonzero weights"
        self.df_ = self.n_features_selected_ if features else self.n_nonzero_
        self.weight_norm_ = np.array([float(sum(np.abs(k).sum() for k in ks)) for ks in kernels])
        self.feature_selection, self.hidden_l2 = bool(feature_selection), float(hidden_l2)
        self.relaxed_ = relaxed
        self.relax_chosen_ = False
        if relaxed is not None:
            sign = 1.0 if self.greater_is_better else -1.0
            best, relaxed_best = (sign * p.cv_mean_[p.index_min_] for p in (self, relaxed))
            self.relax_chosen_ = bool(relaxed_best > best)
        self.history_ = history or {}
        self.dev_ratio_ = None if dev_ratio is None else np.asarray(dev_ratio, float)
        self.penalty_factor_ = penalty_factor
        self.baselines_ = None  # fit_path sets it after the fit
        self.batch_size_ = self.patience_ = self.max_epochs_ = None  # and these
        self.cv_rows_ = None

    @property
    def score_name(self) -> str:
        """The CV measure's name (``measure``), as in the path table's column ``cv_<name>``."""
        return self.measure

    def cv_summary(self, measure):
        """``(mean, se)`` over folds of any measure in ``cv_measures_`` (glmnet's ``cvm``, ``cvsd``)."""
        if measure not in self.cv_measures_:
            raise ValueError(f"measure must be one of {', '.join(self.cv_measures_)}; received {measure!r}.")
        return grid.cv_summary(self.cv_measures_[measure], self._excluded,
                               self.measure_weights_.get(measure, self.fold_weights_))

    def index(self, lam):
        """Position on ``lambdas_`` of ``lam``: a strength of the grid, or a rule.

        ``"1se"`` is glmnet's ``lambda.1se`` (the largest strength whose CV mean is within one
        standard error of the best), ``"min"`` the best CV mean: the one home of the selection
        rule, used by the estimators and the command line.
        """
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

    def model(self, lam="1se", relaxed=None, fold=False):
        """The refit network at strength ``lam`` as a standalone, compiled ``keras.Sequential``.

        It is the plain recipe (:func:`kerasnet.mlp` with Keras's own ``L1L2`` penalty at
        ``lam``) preceded by a ``Normalization`` layer holding the training mean and
        variance, so it takes raw ``X`` (for regression followed by a ``Rescaling`` layer
        back to ``y``'s units). It is compiled as :func:`kerasnet.compile_for` does (the
        task's loss and metrics, a fresh Adam built for its weights, no steps taken), so it
        evaluates or trains further at once; a ``.keras`` file of it (``model.save``) loads
        with ``keras.saving.load_model`` (safe mode) without kerasnet and without warnings.
        With ``fit_path(model=...)`` it is your architecture with Keras's own ``L1L2`` on the
        penalized kernels, compiled the same way.

        Parameters
        ----------
        lam : float or {"1se", "min"}, default "1se"
            A strength of ``lambdas_`` or a selection rule.
        relaxed : bool or None, default None
            With a relaxed path: its model (True) or the penalized one (False); None
            follows ``relax_chosen_`` (the rule then reads the relaxed CV curve).
        fold : bool, default False
            Fold the standardization into the first and last ``Dense`` layers
            (:func:`kerasnet.models.fold_standardization`) instead of the ``Normalization`` and
            ``Rescaling`` layers: then it is the plain :func:`kerasnet.mlp` recipe on raw ``X``
            (what the scikit-learn estimators keep as ``model_``), the same function up to the
            float32 rounding of the folded weights. It does not apply to ``fit_path(model=...)``,
            whose inputs the path does not standardize.
        """
        if self._relaxed(relaxed):
            return self.relaxed_.model(lam, fold=fold)
        i = self.index(lam)
        if self.diverged_[i]:
            raise ValueError(f"the model at lam={self.lambdas_[i]:.4g} diverged; choose another strength.")
        l1, l2 = lambda_to_l1_l2(float(self.lambdas_[i]), self.l1_ratio)
        if self.architecture is not None:
            return self._user_model(i, l1, l2)
        d = len(self.mean_)
        if self.feature_selection:
            # Keras has no group lasso: the first layer carries no regularizer (its zero rows
            # are the features left out), the others their fixed L2, so the file loads anywhere.
            penalty = keras.regularizers.L2(self.hidden_l2) if self.hidden_l2 else None
            base = mlp(d, self.n_outputs, self.hidden, self.task, penalty=penalty,
                       input_penalty=keras.regularizers.L2(0.0))
        else:
            base = mlp(d, self.n_outputs, self.hidden, self.task,
                       penalty=keras.regularizers.L1L2(l1=l1, l2=l2))
        weights = self.weights_[i]
        dense = [(weights[2 * j], weights[2 * j + 1]) for j in range(len(self.hidden) + 1)]
        return standalone_network(base, dense, self.mean_, self.scale_, self.task, self.y_mean_,
                                  self.y_scale_, fold=fold)

    def _user_model(self, i, l1, l2):
        """The user's architecture with strength ``i``'s refit weights and Keras's own ``L1L2``."""
        from ..models import to_plain_keras
        from ..penalize import penalize
        from ..penalty import ElasticNet
        from .inputs import build_model

        model = build_model(self.architecture)
        model.set_weights(self.weights_[i])
        model = to_plain_keras(penalize(model, ElasticNet(l1=l1, l2=l2), layers=self.penalized))
        return compile_for(model, self.task)

    def _relaxed(self, relaxed):
        if relaxed and self.relaxed_ is None:
            raise ValueError("this path has no relaxed fits; fit it with relax=True.")
        return self.relaxed_ is not None and (self.relax_chosen_ if relaxed is None else bool(relaxed))

    def selected_features(self, lam="1se", relaxed=None):
        """The input features the refit model at ``lam`` keeps: ``(indices, names)``.

        A feature is kept when any of its first-layer weights is nonzero (exactly zero rows
        come from the group lasso of ``feature_selection=True`` or the proximal L1).
        """
        if self._relaxed(relaxed):
            return self.relaxed_.selected_features(lam)
        if self.feature_path_ is None:
            raise ValueError("this path's first layer is not a Dense kernel: no input features to select.")
        indices = np.flatnonzero(self.feature_path_[self.index(lam)] > 0)
        return indices, [self.feature_names_[j] for j in indices]

    def predict(self, X, lam="1se", relaxed=None, offset=None):
        """Predictions of :meth:`model` (``lam``, ``relaxed``) on raw ``X``: class labels or
        values; for Poisson the mean counts, ``rate * exp(offset)`` (``offset`` the rows' log
        exposure; None: 0, the rate)."""
        from .inputs import check_features

        if self.architecture is None:  # the MLP: the fit's feature columns, checked before Keras sees them
            X = check_features(X, len(self.mean_))
        else:
            X = [np.asarray(a) for a in X] if isinstance(X, (list, tuple)) else np.asarray(X, "float32")
        out = self.model(lam, relaxed).predict(X, verbose=0)
        if offset is not None:
            if self.task != "poisson":
                raise ValueError(f"offset= is the log exposure of a Poisson path; this path's task is "
                                 f"{self.task!r}.")
            out = out * np.exp(np.asarray(offset, float)).reshape(-1, 1)
        if self.task == "binary":
            return self.classes_[(out[:, 0] > 0.5).astype(int)]
        if self.task == "multiclass":
            return self.classes_[out.argmax(axis=1)]
        return out[:, 0] if out.shape[1] == 1 else out

    def curves(self, lam="1se"):
        """The learning curves of strength ``lam``'s CV members: one row per epoch, the mean over
        folds of the training objective (``objective`` = ``loss``: data loss + the whole penalty,
        the proximal L1 / group part included; ``data_loss``; ``penalty``) and of the held-out
        fold's (``val_data_loss``; ``val_objective`` = ``val_loss``, with the penalty), the
        columns of :class:`kerasnet.PenaltyMonitor`. Each fold's rows are held out of its own
        member only; the refit on all rows trains for ``refit_epochs_`` (empty without history).
        """
        from .curves import cv_curves

        return cv_curves(self, lam)

    def to_frame(self):
        """The path as a ``pandas.DataFrame``, one row per strength (descending)."""
        import pandas as pd

        l1, l2 = np.array([lambda_to_l1_l2(float(lam), self.l1_ratio) for lam in self.lambdas_]).T
        selected = np.full(len(self.lambdas_), "", dtype=object)
        selected[self.index_min_] = "min"
        selected[self.index_1se_] = "1se" if self.index_1se_ != self.index_min_ else "min,1se"
        columns = {"lambda": self.lambdas_, "l1": l1, "l2": l2,
                   f"cv_{self.measure}": self.cv_mean_, f"cv_{self.measure}_se": self.cv_se_}
        for name in self.cv_measures_:  # the other measures, for a look without refitting
            if name != self.measure:
                columns[f"cv_{name}"], columns[f"cv_{name}_se"] = self.cv_summary(name)
        return pd.DataFrame({
            **columns,
            "sparsity": self.sparsity_, "n_features": self.n_features_selected_,
            "dev_ratio": self.dev_ratio_ if self.dev_ratio_ is not None else np.nan,
            "weight_norm": self.weight_norm_, "refit_epochs": self.refit_epochs_,
            "diverged": self.diverged_, "selected": selected,
        })

    def plot(self, ax=None):
        """Draw the path (scikit-learn's Display convention); returns a :class:`kerasnet.PathDisplay`.

        The CV curve with +-1 SE bars and both choices, ``sum |W|`` and the share of exact
        zeros along the path, and (when the first layer is a Dense on the inputs) each
        feature's first-layer weight norm: ``display.n_panels`` panels (2 or 3).

        Parameters
        ----------
        ax : None, matplotlib Figure or SubFigure, or ``n_panels`` Axes, default None
            None draws on pyplot's current figure when it is empty, else on a new pyplot
            figure, so ``path.plot(); plt.savefig("path.png")`` (or ``plt.show()``) works;
            a Figure gets the panels as a row of subplots; Axes get one panel each
            (another count is refused).

        Returns
        -------
        PathDisplay
            With ``figure_`` (the Figure) and ``ax_`` (the panels' Axes).
        """
        from ..displays import PathDisplay

        return PathDisplay.from_path(self, ax=ax)

    def summary(self):
        """glmnet's ``print(fit)``: a ``pandas.DataFrame`` with one row per strength, ``Df``
        (``df_``: its column says "Df (features)", input features kept, or "Df (nonzero
        weights)" when the first penalized layer is not a Dense on the inputs), ``%Dev``
        (the refit's deviance explained on its training rows, glmnet's ``dev.ratio`` in
        percent), ``Lambda``, and the CV measure with its standard error; the rows
        ``lambda_min_`` and ``lambda_1se_`` chose are marked."""
        import pandas as pd

        frame = pd.DataFrame({f"Df ({self.df_name_})": self.df_,
                              "%Dev": np.round(100 * self.dev_ratio_, 2) if self.dev_ratio_ is not None
                              else np.nan, "Lambda": self.lambdas_,
                              f"CV {self.measure}": self.cv_mean_, "SE": self.cv_se_})
        frame["rule"] = self.to_frame()["selected"].to_numpy()
        frame.index = np.arange(1, len(frame) + 1)
        return frame

    def __str__(self):
        kind = "feature-selection path" if self.feature_selection else f"path (l1_ratio={self.l1_ratio:g})"
        head = (f"kerasnet {kind}, task={self.task}, measure={self.measure}: "
                f"lambda_min {self.lambda_min_:.4g}, lambda_1se {self.lambda_1se_:.4g}")
        text = head + "\n\n" + self.summary().to_string(float_format=lambda v: f"{v:.4g}")
        words = self.baseline_text()
        return text + ("\n\n" + words if words else "")

    def baseline_text(self) -> str:
        """The baselines' numbers and, computed from them, whether the network at ``lambda_1se``
        and ``lambda_min`` beats the null and the linear model by more than one standard error
        (:func:`kerasnet.path.baselines.baseline_sentences`); "" without baselines."""
        from .baselines import baseline_sentences

        if self.baselines_ is None:
            return ""
        choices = [("lambda_1se", self.cv_mean_[self.index_1se_], self.cv_se_[self.index_1se_])]
        if self.index_min_ != self.index_1se_:
            choices.append(("lambda_min", self.cv_mean_[self.index_min_], self.cv_se_[self.index_min_]))
        sentences = baseline_sentences(self.baselines_.to_record(), choices)
        return "\n".join([self.baselines_.line(), *sentences])

    def __repr__(self):
        return (f"Path(task={self.task!r}, n_lambdas={len(self.lambdas_)}, "
                f"lambda_min_={self.lambda_min_:.4g}, lambda_1se_={self.lambda_1se_:.4g}, "
                f"measure={self.measure!r}, cv_best={self.cv_mean_[self.index_min_]:.4f})")
