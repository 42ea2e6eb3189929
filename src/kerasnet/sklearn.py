"""scikit-learn estimators: elastic-net regularized MLPs as classifiers and regressors.

The estimators are thin shells over the library: ``fit`` validates its input the
scikit-learn way, builds the recipe with :func:`kerasnet.mlp`, compiles it with
:func:`kerasnet.compile_for` and trains it with Keras's ``model.fit``. Parameter names
follow :class:`sklearn.neural_network.MLPClassifier` where the meaning is the same.
"""

from __future__ import annotations

import math
import os
import tempfile
from numbers import Integral, Real

import keras
import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context, is_classifier
from sklearn.model_selection import check_cv, train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d, validate_data

from ._measures import MEASURES
from .models import compile_for, mlp
from .monitor import kernel_sparsity
from .path import fit_path
from .penalty import ElasticNet

__all__ = [
    "ElasticNetMLPClassifier",
    "ElasticNetMLPClassifierCV",
    "ElasticNetMLPRegressor",
    "ElasticNetMLPRegressorCV",
    "expected_failed_checks",
]

# scikit-learn's activation names (MLPClassifier) -> Keras's; Keras names are accepted as well.
_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


_NUMPY_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": expit,
    "softmax": _softmax,
}


def _numpy_forward(model, X):
    """``model``'s output in float64 NumPy, from its Dense layers' weights and activations.

    Keras's float32 kernels (XLA's) can change a row's result by one ulp with its position
    in the batch; scikit-learn's checks require predictions that do not depend on the other
    rows (``check_methods_subset_invariance``), which the float64 pass gives.
    """
    out = X
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dropout):
            continue  # inactive at inference
        activation = layer.get_config().get("activation") if isinstance(layer, keras.layers.Dense) else None
        if activation not in _NUMPY_ACTIVATIONS:  # not the plain recipe: let Keras compute it
            return keras.ops.convert_to_numpy(model(X.astype(np.float32), training=False)).astype(np.float64)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            kernel, bias = layer.get_weights()
            z = out @ kernel.astype(np.float64) + bias.astype(np.float64)
            out = _NUMPY_ACTIVATIONS[layer.get_config()["activation"]](z)
    return out


def _seed_from(random_state) -> int:
    """An int seed for Keras from scikit-learn's ``random_state`` (None, int or RandomState)."""
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def _hidden_sizes(hidden_layer_sizes) -> tuple[int, ...]:
    sizes = (hidden_layer_sizes,) if isinstance(hidden_layer_sizes, Integral) else hidden_layer_sizes
    sizes = tuple(sizes)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise ValueError(
            "hidden_layer_sizes must be a positive int or a sequence of positive ints (() for the "
            f"linear model); received hidden_layer_sizes={hidden_layer_sizes!r}."
        )
    return tuple(int(s) for s in sizes)


def _weighted_scale(a, weight):
    """Weighted column means and standard deviations; a constant column gets scale 1."""
    mean = np.average(a, axis=0, weights=weight)
    std = np.sqrt(np.average((a - mean) ** 2, axis=0, weights=weight))
    # Same rule as StandardScaler: leave (near-)constant columns unscaled.
    std = np.where(std < 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean)), 1.0, std)
    return mean, std


class _ShuffledBatches(keras.utils.PyDataset):
    """Minibatches reshuffled every epoch by a private, seeded generator.

    Keras's own shuffling draws from NumPy's global generator; a private one keeps fits
    reproducible from ``random_state`` without touching global state (several fits may
    share a process, e.g. threads of a Dask worker).
    """

    def __init__(self, x, y, weight, batch_size, seed):
        super().__init__()
        self._x, self._y, self._weight = x, y, weight
        self._batch_size = batch_size
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(len(x))

    def __len__(self):
        return math.ceil(len(self._x) / self._batch_size)

    def on_epoch_begin(self):
        self._order = self._rng.permutation(len(self._x))

    def __getitem__(self, index):
        rows = self._order[index * self._batch_size : (index + 1) * self._batch_size]
        return self._x[rows], self._y[rows], self._weight[rows]


def _fold_standardization(model, x_mean, x_scale, y_mean=None, y_scale=None):
    """Fold input standardization into the first Dense layer and output scaling into the last.

    ``x -> (x - mean)/scale`` followed by ``x @ W + b`` equals ``x @ (W/scale) + (b - (mean/scale) @ W)``,
    exactly, so the returned model maps raw inputs to raw targets; zeros in ``W`` stay zeros.
    """
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    first, last = dense[0], dense[-1]
    kernel, bias = (np.asarray(v, dtype=np.float64) for v in first.get_weights())
    first.set_weights([kernel / x_scale[:, None], bias - (x_mean / x_scale) @ kernel])
    if y_mean is not None:
        kernel, bias = (np.asarray(v, dtype=np.float64) for v in last.get_weights())
        last.set_weights([kernel * y_scale[None, :], bias * y_scale + y_mean])


def _model_to_bytes(model) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        with open(path, "rb") as fh:
            return fh.read()


def _model_from_bytes(data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as fh:
            fh.write(data)
        return keras.saving.load_model(path, safe_mode=True)


class _KerasEstimator(BaseEstimator):
    """What every kerasnet estimator shares: input checks, the forward pass, pickling."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # densified: ColumnTransformer's one-hot output is often sparse
        return tags

    def _validate_xy(self, X, y, min_samples=1):
        regressor = not is_classifier(self)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=("csr", "csc", "coo"),
            dtype=(np.float64, np.float32),
            multi_output=regressor,
            y_numeric=regressor,
            ensure_min_samples=min_samples,
        )
        if sp.issparse(X):
            X = X.toarray()
        return np.asarray(X, dtype=np.float64), y

    def _set_model(self, model):
        self.model_ = model
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        self.coefs_ = [np.asarray(layer.get_weights()[0]) for layer in dense]
        self.intercepts_ = [np.asarray(layer.get_weights()[1]) for layer in dense]
        self.sparsity_ = kernel_sparsity(model)

    def _forward(self, X):
        """The network's output on ``X`` as float64, shape (n_samples, n_outputs)."""
        check_is_fitted(self, "model_")
        X = validate_data(
            self, X, accept_sparse=("csr", "csc", "coo"), dtype=(np.float64, np.float32), reset=False
        )
        if sp.issparse(X):
            X = X.toarray()
        return _numpy_forward(self.model_, np.asarray(X, dtype=np.float64))

    # --- pickling: the Keras model travels as the bytes of a .keras file ------------------
    def __getstate__(self):
        state = super().__getstate__()
        if "model_" in state:
            state = dict(state)
            state["model_"] = _model_to_bytes(state["model_"])
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            state = dict(state)
            state["model_"] = _model_from_bytes(state["model_"])
        super().__setstate__(state)


class _BaseElasticNetMLP(_KerasEstimator):
    """Parameters and fit of the one-strength estimators."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "proximal": ["boolean"],
        "standardize": ["boolean"],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        l1=1e-4,
        l2=1e-4,
        proximal=False,
        standardize=True,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=None,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.l1 = l1
        self.l2 = l2
        self.proximal = proximal
        self.standardize = standardize
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose

    def _penalty(self):
        penalty = ElasticNet(l1=self.l1, l2=self.l2, proximal=self.proximal)
        return penalty

    def _check_proximal_installed(self, model):
        # Proximal mode moves L1 out of the loss into a kernel constraint; a recipe that does
        # not install it would silently train without L1, so refuse instead.
        if self.proximal and self.l1 > 0:
            dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
            if any(layer.kernel_constraint is None for layer in dense):
                raise NotImplementedError(
                    "proximal=True needs kerasnet.mlp to install the proximal step (kerasnet issue 3); "
                    "this installation does not. Use proximal=False."
                )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``X, y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse input is densified.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classifier, any hashable values) or targets (regressor).
        sample_weight : array-like of shape (n_samples,), default None
            Non-negative weights; rescaled to mean 1 so that integer weights act like
            repeated rows (Keras divides a batch's weighted loss by its row count).

        Returns
        -------
        self
        """
        X, y = self._validate_xy(X, y)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        targets, task, n_outputs = self._encode_targets(y, sample_weight)
        hidden = _hidden_sizes(self.hidden_layer_sizes)
        seed = _seed_from(self.random_state)

        rows = np.arange(X.shape[0])
        if self.early_stopping:
            train, val = train_test_split(
                rows,
                test_size=self.validation_fraction,
                random_state=seed,
                stratify=targets.ravel() if task != "regression" else None,
            )
        else:
            train, val = rows, rows[:0]

        if self.standardize:
            x_mean, x_scale = _weighted_scale(X[train], sample_weight[train])
        else:
            x_mean, x_scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
        y_mean = y_scale = None
        if task == "regression" and self.standardize:
            y_mean, y_scale = _weighted_scale(targets[train], sample_weight[train])
            targets = (targets - y_mean) / y_scale
        x_std = ((X - x_mean) / x_scale).astype(np.float32)
        targets = targets.astype(np.float32)
        # Mean-one weights: Keras's batch loss is sum(w*loss)/rows, so this makes integer weights
        # equal to repeated rows, keeping the penalty's weight against the data term unchanged.
        weight = (sample_weight * (len(train) / sample_weight[train].sum())).astype(np.float32)

        model = mlp(
            X.shape[1],
            n_outputs,
            hidden=hidden,
            task=task,
            penalty=self._penalty(),
            activation=_ACTIVATIONS[self.activation],
            seed=seed,
        )
        self._check_proximal_installed(model)
        compile_for(model, task, learning_rate=self.learning_rate_init)
        batch_size = min(200, len(train)) if self.batch_size == "auto" else min(self.batch_size, len(train))
        batches = _ShuffledBatches(x_std[train], targets[train], weight[train], batch_size, seed)
        callbacks, validation_data = [], None
        if self.early_stopping:
            validation_data = (x_std[val], targets[val], weight[val])
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=self.n_iter_no_change, restore_best_weights=True
                )
            )
        history = model.fit(
            batches,
            epochs=self.max_iter,
            shuffle=False,  # _ShuffledBatches shuffles rows; Keras would reorder batches globally
            validation_data=validation_data,
            callbacks=callbacks,
            verbose=2 if self.verbose else 0,
        )
        _fold_standardization(model, x_mean, x_scale, y_mean, y_scale)

        self._set_model(model)
        self.history_ = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self.n_iter_ = len(self.history_.get("loss", []))
        return self


_PARAMS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (100,)
        Units of each hidden layer; ``()`` is the linear (logistic) model.
    activation : {"relu", "tanh", "logistic", "identity"}, default "relu"
        Hidden-layer activation (scikit-learn's names).
    l1 : float, default 1e-4
        L1 strength on every kernel (biases are never penalized).
    l2 : float, default 1e-4
        L2 strength on every kernel. The objective is
        ``mean(weighted data loss) + l1*sum|W| + l2*sum(W**2)`` (see :class:`kerasnet.ElasticNet`).
    proximal : bool, default False
        Apply L1 as a soft-threshold after every optimizer step (exact zeros).
    standardize : bool, default True
        Standardize the inputs (and, for regression, the targets) with the weighted mean and
        standard deviation of the training rows before training, as glmnet does: the penalty
        then treats every feature alike. The statistics are folded into the first and last
        layers afterwards, so ``model_`` maps raw inputs to raw outputs (in float32: a feature
        whose mean exceeds ~1e4 standard deviations loses precision; center it first). Set
        False when the inputs are already scaled (for example by a ``StandardScaler`` in a
        ``Pipeline``).
    batch_size : int or "auto", default "auto"
        Minibatch size; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default 1e-3
        Adam's learning rate.
    max_iter : int, default 200
        Number of epochs (passes over the training rows).
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the rows (stratified for classifiers), stop when
        the validation loss has not improved for ``n_iter_no_change`` epochs and restore
        the best weights. Without it, training runs exactly ``max_iter`` epochs.
    validation_fraction : float, default 0.1
    n_iter_no_change : int, default 10
    random_state : int, RandomState instance or None, default None
        Seeds the initial weights, the minibatch order and the validation split: the same
        int gives the same fitted model.
    verbose : bool or int, default False
        Print one line per epoch.

    Attributes
    ----------
    model_ : keras.Sequential
        The trained network (the :func:`kerasnet.mlp` recipe), on raw inputs.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.
    history_ : dict of list
        Keras's per-epoch logs (``loss``, metrics, ``val_loss`` ...).
    n_iter_ : int
        Epochs run.
    coefs_ : list of ndarray
        Kernels of each layer, ``coefs_[i]`` of shape (units_in, units_out), on raw inputs.
    intercepts_ : list of ndarray
    sparsity_ : float
        Fraction of kernel weights exactly zero.
"""


class _ClassifierOutputs:
    """Label encoding and class outputs shared by both classifiers."""

    def _encode_targets(self, y, sample_weight):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        codes = encoder.transform(y)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                f"A classifier needs at least 2 classes in y; received 1 class: {self.classes_[0]!r}."
            )
        if len(np.unique(codes[sample_weight > 0])) < 2:
            raise ValueError(
                "sample_weight is zero for every row but those of 1 class; a classifier needs rows "
                "of at least 2 classes with positive weight."
            )
        if n_classes == 2:
            return codes.astype(np.float64)[:, None], "binary", 1
        return codes.astype(np.float64), "multiclass", n_classes

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        out = self._forward(X)
        if out.shape[1] == 1:
            return np.hstack([1.0 - out, out])
        return out

    def predict(self, X):
        """The most probable class of each row."""
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class _RegressorOutputs:
    """Targets and predictions shared by both regressors (one or several targets)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _encode_targets(self, y, sample_weight):
        y = np.asarray(y, dtype=np.float64)
        targets = y[:, None] if y.ndim == 1 else y
        return targets, "regression", targets.shape[1]

    def predict(self, X):
        """Predicted targets, shape (n_samples,) for one target, else (n_samples, n_outputs)."""
        out = self._forward(X)
        return out.ravel() if out.shape[1] == 1 else out


class ElasticNetMLPClassifier(ClassifierMixin, _ClassifierOutputs, _BaseElasticNetMLP):
    __doc__ = (
        """Multi-layer perceptron classifier with an elastic-net (L1-L2) penalty on its kernels.

    Binary problems use one sigmoid output and binary cross-entropy, multi-class problems a
    softmax and categorical cross-entropy; labels may be any values (strings included).
"""
        + _PARAMS_DOC
        + """    classes_ : ndarray
        The class labels.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from kerasnet.sklearn import ElasticNetMLPClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = ElasticNetMLPClassifier((16,), l1=1e-3, max_iter=20, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """
    )


class ElasticNetMLPRegressor(RegressorMixin, _RegressorOutputs, _BaseElasticNetMLP):
    __doc__ = (
        """Multi-layer perceptron regressor with an elastic-net (L1-L2) penalty on its kernels.

    Mean squared error, linear output; ``y`` of shape (n_samples, n_outputs) fits all
    targets with one network.
"""
        + _PARAMS_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from kerasnet.sklearn import ElasticNetMLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = ElasticNetMLPRegressor((16,), l1=1e-3, max_iter=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """
    )


class _BaseElasticNetMLPCV(_KerasEstimator):
    """Parameters and fit of the path estimators: a thin shell over :func:`kerasnet.fit_path`."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "lambdas": ["array-like", None],
        "n_lambdas": [Interval(Integral, 1, None, closed="left")],
        "lambda_min_ratio": [Interval(Real, 0, 1, closed="neither")],
        "cv": ["cv_object"],
        "selection": [StrOptions({"1se", "min"})],
        "measure": [StrOptions(set(MEASURES))],
        "proximal": ["boolean"],
        "standardize": ["boolean"],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "scheduler": "no_validation",  # an address or a dask Client; checked by kerasnet.distributed
        "verbose": ["verbose"],
        "model": [callable, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        l1_ratio=0.5,
        lambdas=None,
        n_lambdas=32,
        lambda_min_ratio=1e-3,
        cv=5,
        selection="1se",
        measure="deviance",
        proximal=False,
        standardize=True,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=100,
        early_stopping=True,
        n_iter_no_change=10,
        random_state=None,
        scheduler=None,
        verbose=False,
        model=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.l1_ratio = l1_ratio
        self.lambdas = lambdas
        self.n_lambdas = n_lambdas
        self.lambda_min_ratio = lambda_min_ratio
        self.cv = cv
        self.selection = selection
        self.measure = measure
        self.proximal = proximal
        self.standardize = standardize
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.scheduler = scheduler
        self.verbose = verbose
        self.model = model

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the path with cross-validation, choose ``lambda_``, keep its refit network.

        Each fold's epoch is chosen on the other folds, ``lambda_`` on the CV ``measure``
        (see :func:`kerasnet.fit_path` for which rows each choice sees).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default None
            Row weights (scaled to sum to n_samples): weighted losses, standardization,
            ``lambda_max`` and CV measures.
        groups : array-like of shape (n_samples,), default None
            Group labels for the splitter; with an int ``cv``, folds never split a group.

        Returns
        -------
        self
        """
        X, y = self._validate_xy(X, y, min_samples=2)  # the path needs rows to split into folds
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        targets, task, _ = self._encode_targets(y, sample_weight)
        if self.model is not None:
            return self._fit_model(X, targets, task, sample_weight, groups)
        y_mean = y_scale = None
        if task == "regression" and self.standardize:
            # The network learns standardized targets (Adam's steps are O(learning rate));
            # their scale is folded back into the output layer below.
            y_mean, y_scale = _weighted_scale(targets, sample_weight)
            targets = (targets - y_mean) / y_scale
        if task != "regression":
            targets = targets.ravel().astype(int)
        elif targets.shape[1] == 1:
            targets = targets.ravel()
        seed = _seed_from(self.random_state)
        cv = 5 if self.cv is None else self.cv
        if not isinstance(cv, Integral):  # lists of (train, test) pairs become a splitter
            cv = check_cv(cv, targets, classifier=task != "regression")
        n = X.shape[0]
        path = fit_path(
            X,
            targets,
            hidden=_hidden_sizes(self.hidden_layer_sizes),
            task=task,
            l1_ratio=self.l1_ratio,
            lambdas=self.lambdas,
            n_lambdas=self.n_lambdas,
            lambda_min_ratio=self.lambda_min_ratio,
            cv=cv,
            epochs=self.max_iter,
            batch_size=min(200, n) if self.batch_size == "auto" else self.batch_size,
            learning_rate=self.learning_rate_init,
            early_stopping=self.early_stopping,
            patience=self.n_iter_no_change,
            proximal=self.proximal,
            standardize=self.standardize,
            seed=seed,
            scheduler=self.scheduler,
            verbose=int(bool(self.verbose)),
            measure=self.measure,
            sample_weight=sample_weight,
            groups=groups,
        )
        self.path_ = path
        self.lambda_ = path.lambda_1se_ if self.selection == "1se" else path.lambda_min_
        self.lambdas_ = path.lambdas_
        self.cv_mean_, self.cv_se_ = path.cv_mean_, path.cv_se_
        index = path._index(self.lambda_)
        # The chosen refit member as the plain recipe on raw inputs, like the one-strength
        # estimators' model_ (Path.model(lambda_) gives it with a Normalization layer instead).
        model = mlp(
            X.shape[1],
            path.n_outputs,
            hidden=path.hidden,
            task=task,
            penalty=ElasticNet.from_lambda(self.lambda_, self.l1_ratio, proximal=self.proximal),
        )
        model.set_weights(path.weights_[index])
        _fold_standardization(
            model, np.asarray(path.mean_, np.float64), np.asarray(path.scale_, np.float64), y_mean, y_scale
        )
        compile_for(model, task, learning_rate=self.learning_rate_init)
        # Built now so that the pickled .keras file holds the optimizer state it loads back.
        model.optimizer.build(model.trainable_variables)
        self._set_model(model)
        self.n_iter_ = int(path.refit_epochs_[index])
        self._set_history(path)
        return self

    def _fit_model(self, X, targets, task, sample_weight, groups):
        """The path of the user's ``model`` (a builder); ``model_`` is its refit at ``lambda_``."""
        targets = targets.ravel().astype(int) if task != "regression" else targets
        if task == "regression" and targets.shape[1] == 1:
            targets = targets.ravel()
        n = X.shape[0]
        path = fit_path(
            X.astype(np.float32), targets, model=self.model, task=task, l1_ratio=self.l1_ratio,
            lambdas=self.lambdas, n_lambdas=self.n_lambdas, lambda_min_ratio=self.lambda_min_ratio,
            cv=5 if self.cv is None else self.cv, epochs=self.max_iter,
            batch_size=min(200, n) if self.batch_size == "auto" else self.batch_size,
            learning_rate=self.learning_rate_init, early_stopping=self.early_stopping,
            patience=self.n_iter_no_change, proximal=self.proximal, seed=_seed_from(self.random_state),
            verbose=int(bool(self.verbose)), measure=self.measure, sample_weight=sample_weight, groups=groups,
        )
        self.path_ = path
        self.lambda_ = path.lambda_1se_ if self.selection == "1se" else path.lambda_min_
        self.lambdas_ = path.lambdas_
        self.cv_mean_, self.cv_se_ = path.cv_mean_, path.cv_se_
        self._set_model(path.model(self.lambda_))
        self.n_iter_ = int(path.refit_epochs_[path._index(self.lambda_)])
        self._set_history(path)
        return self

    def _set_history(self, path):
        self.history_ = {
            "cv_deviance": [float(v) for v in path.cv_loss_mean_],
            f"cv_{path.measure}": [float(v) for v in path.cv_mean_],
            "refit_epochs": [int(v) for v in path.refit_epochs_],
        }


_CV_PARAMS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (100,)
        Units of each hidden (ReLU) layer; ``()`` is the linear (logistic) model.
    l1_ratio : float in [0, 1], default 0.5
        glmnet's alpha: strength ``lambda`` means ``l1 = lambda*l1_ratio``,
        ``l2 = lambda*(1 - l1_ratio)/2`` on every kernel.
    lambdas : array-like or None, default None
        The strengths; None builds ``n_lambdas`` log-spaced ones from the data, as
        :func:`kerasnet.fit_path` does (from a constant network down, for any ``l1_ratio``).
    n_lambdas : int, default 32
    lambda_min_ratio : float, default 1e-3
    cv : int, cross-validation generator or iterable, default 5
        An int makes shuffled (stratified, for classifiers) folds seeded by ``random_state``.
    selection : {"1se", "min"}, default "1se"
        ``lambda_`` is the largest strength within one standard error of the best CV score
        (glmnet's ``lambda.1se``), or the best one.
    model : callable or None, default None
        A function returning a built, uncompiled Keras model on ``(n_features,)`` inputs (its
        output a sigmoid / softmax / value as the task needs) to use instead of the MLP:
        ``hidden_layer_sizes`` and ``standardize`` then do not apply (put a
        ``Normalization`` layer in it); ``model_`` is its refit at ``lambda_`` with Keras's
        own ``L1L2`` on every kernel (:func:`kerasnet.fit_path`'s ``model=``).
    measure : {"deviance", "class", "auc", "mse", "mae", "r2"}, default "deviance"
        The CV measure that chooses ``lambda_`` (glmnet's ``type.measure``; ``class`` and
        ``auc`` for classifiers, ``r2`` for regressors): ``cv_mean_`` and ``cv_se_`` are in it.
    proximal : bool, default False
        L1 as a soft-threshold after each step (exact zeros).
    standardize : bool, default True
        Standardize inputs with each fold's training rows (and regression targets); folded
        into ``model_``, which takes raw inputs.
    batch_size : int or "auto", default "auto"
        "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default 1e-3
    max_iter : int, default 100
        Epochs of each CV member (with early stopping: at most).
    early_stopping : bool, default True
        Each (strength, fold) member stops after ``n_iter_no_change`` epochs without a lower
        loss on its validation fold and keeps its best weights; each strength is refit on
        all rows for the mean of its folds' best epochs.
    n_iter_no_change : int, default 10
    random_state : int, RandomState instance or None, default None
        Seeds initial weights, folds and batch order.
    scheduler : str, dask.distributed.Client or None, default None
        Run the path on a Dask cluster (``kerasnet[dask]``): its address or a client.
    verbose : bool, default False
        Show a progress bar.

    Attributes
    ----------
    lambda_ : float
        The chosen strength.
    lambdas_ : ndarray
        The grid, descending.
    cv_mean_, cv_se_ : ndarray
        glmnet's ``cvm`` and ``cvsd`` of ``measure`` per strength.
    path_ : kerasnet.Path
        The whole path: every strength's refit model, sparsity, plots.
    model_ : keras.Sequential
        The refit network at ``lambda_`` (the :func:`kerasnet.mlp` recipe), on raw inputs.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    history_ : dict of list
        ``cv_deviance``, ``cv_<measure>`` (per strength) and ``refit_epochs``.
    n_iter_ : int
        Refit epochs of the chosen strength.
    coefs_, intercepts_ : list of ndarray
    sparsity_ : float
"""


class ElasticNetMLPClassifierCV(ClassifierMixin, _ClassifierOutputs, _BaseElasticNetMLPCV):
    __doc__ = (
        """Elastic-net MLP classifier whose strength is chosen by cross-validation over a path.

    One call to :func:`kerasnet.fit_path` trains every (strength, fold) pair as one stacked
    network, then refits every strength on all rows; ``lambda_`` is chosen from the CV
    ``measure`` (the deviance by default) by ``selection``.
"""
        + _CV_PARAMS_DOC
        + """    classes_ : ndarray

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from kerasnet.sklearn import ElasticNetMLPClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = ElasticNetMLPClassifierCV((16,), n_lambdas=8, max_iter=20, random_state=0).fit(X, y)
    >>> bool(clf.lambda_ in clf.lambdas_)
    True
    """
    )


class ElasticNetMLPRegressorCV(RegressorMixin, _RegressorOutputs, _BaseElasticNetMLPCV):
    __doc__ = (
        """Elastic-net MLP regressor whose strength is chosen by cross-validation over a path.

    As :class:`ElasticNetMLPClassifierCV`, scored by R^2; several targets share one network.
"""
        + _CV_PARAMS_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from kerasnet.sklearn import ElasticNetMLPRegressorCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = ElasticNetMLPRegressorCV((16,), n_lambdas=8, max_iter=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """
    )


_SAMPLE_WEIGHT_REASON = (
    "float32 training: weighted and repeated-row fits agree to ~1e-6 (tested), the check needs 1e-7"
)


_CV_SAMPLE_WEIGHT_REASON = (
    "cross-validation splits rows: repeated rows fall into different folds than their weighted "
    "original, so the CV choice differs; with the copies in one fold (foldid) they agree (tested)"
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
    if isinstance(estimator, _BaseElasticNetMLP):
        reason = _SAMPLE_WEIGHT_REASON
    elif isinstance(estimator, _BaseElasticNetMLPCV):
        reason = _CV_SAMPLE_WEIGHT_REASON
    else:
        return {}
    return {
        "check_sample_weight_equivalence_on_dense_data": reason,
        "check_sample_weight_equivalence_on_sparse_data": reason,
    }
