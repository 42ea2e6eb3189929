"""What every kerasnet scikit-learn estimator shares: the base class and the output mixins.

:class:`KerasEstimator` checks inputs the scikit-learn way, runs the forward pass and
pickles its Keras model as the bytes of a ``.keras`` file; :class:`ClassifierOutputs` and
:class:`RegressorOutputs` encode targets and turn network outputs into predictions for
both the one-strength and the cross-validated estimators; :func:`seed_from` and
:func:`hidden_sizes` convert the scikit-learn parameters both kinds take.
"""

from __future__ import annotations

import os
import tempfile
from numbers import Integral

import keras
import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..monitor import kernel_sparsity
from .numeric import numpy_forward


def seed_from(random_state) -> int:
    """An int seed for Keras from scikit-learn's ``random_state`` (None, int or RandomState)."""
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def batch_size_for(batch_size, n_samples):
    """The batch size a CV estimator trains with: ``"auto"`` is scikit-learn's ``min(200, n_samples)``,
    an int itself, None :func:`kerasnet.fit_path`'s rule of the row count."""
    return min(200, n_samples) if batch_size == "auto" else batch_size


def hidden_sizes(hidden_layer_sizes) -> tuple[int, ...]:
    """``hidden_layer_sizes`` (an int or a sequence of positive ints) as a tuple of ints."""
    sizes = (hidden_layer_sizes,) if isinstance(hidden_layer_sizes, Integral) else hidden_layer_sizes
    sizes = tuple(sizes)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise ValueError(
            "hidden_layer_sizes must be a positive int or a sequence of positive ints (() for the "
            f"linear model); received hidden_layer_sizes={hidden_layer_sizes!r}."
        )
    return tuple(int(s) for s in sizes)


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


class KerasEstimator(BaseEstimator):
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
        return numpy_forward(self.model_, np.asarray(X, dtype=np.float64))

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


class ClassifierOutputs:
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


class RegressorOutputs:
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
