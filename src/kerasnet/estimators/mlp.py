"""The one-strength estimators: :class:`ElasticNetMLPClassifier` and :class:`ElasticNetMLPRegressor`.

``fit`` validates its input the scikit-learn way, builds the recipe with
:func:`kerasnet.mlp`, compiles it with :func:`kerasnet.compile_for` and trains it with
Keras's ``model.fit`` at the given ``l1`` and ``l2``. Parameter names follow
:class:`sklearn.neural_network.MLPClassifier` where the meaning is the same.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import keras
import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

from ..models import compile_for, fold_standardization, mlp
from ..path import defaults
from ..penalty import ElasticNet
from ..standardization import weighted_moments
from .base import ClassifierOutputs, KerasEstimator, RegressorOutputs, hidden_sizes, seed_from

# scikit-learn's activation names (MLPClassifier) -> Keras's; Keras names are accepted as well.
_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}


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


class BaseElasticNetMLP(KerasEstimator):
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
        hidden_layer_sizes=defaults.HIDDEN,
        activation="relu",
        *,
        l1=1e-4,
        l2=1e-4,
        proximal=False,
        standardize=True,
        batch_size=defaults.BATCH_SIZE,
        learning_rate_init=defaults.LEARNING_RATE,
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
        hidden = hidden_sizes(self.hidden_layer_sizes)
        seed = seed_from(self.random_state)

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

        if self.standardize:  # kerasnet.standardization's rule: a constant column gets scale 1
            x_mean, x_scale = weighted_moments(X[train], sample_weight[train])
        else:
            x_mean, x_scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
        y_mean = y_scale = None
        if task == "regression" and self.standardize:
            y_mean, y_scale = weighted_moments(targets[train], sample_weight[train])
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
        fold_standardization(model, x_mean, x_scale, y_mean, y_scale)

        self._set_model(model)
        self.history_ = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self.n_iter_ = len(self.history_.get("loss", []))
        return self


_PARAMS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (64, 64)
        Units of each hidden layer; ``()`` is the linear (logistic) model. This and
        ``batch_size`` are :func:`kerasnet.fit_path`'s defaults (:mod:`kerasnet.path.defaults`);
        until kerasnet 0.1.0 they were scikit-learn's ``MLPClassifier``'s ((100,) and "auto").
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
    batch_size : int or "auto", default 32
        Minibatch size; "auto" is scikit-learn's ``min(200, n_samples)`` (1 to 5 steps an
        epoch on a few hundred rows, too few for Adam at ``learning_rate_init=1e-3``).
    learning_rate_init : float, default 1e-3
        Adam's learning rate.
    max_iter : int, default 200
        Number of epochs (passes over the training rows). Not the path's budget rule
        (``max_iter=None`` of the CV estimators): one network with no cross-fit curves to
        stop on, it trains ``max_iter`` epochs, or stops on its ``validation_fraction``.
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


class ElasticNetMLPClassifier(ClassifierMixin, ClassifierOutputs, BaseElasticNetMLP):
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


class ElasticNetMLPRegressor(RegressorMixin, RegressorOutputs, BaseElasticNetMLP):
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
