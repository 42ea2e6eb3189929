"""Build the seed recipe (``mlp``), compile it for its task, and export it as plain Keras."""

from __future__ import annotations

import numbers

import keras
import numpy as np

from .penalty import ElasticNet
from .proximal import ProximalStep, with_proximal_step
from .tasks import OUTPUT_ACTIVATION, TASKS, check_task, keras_loss, keras_metrics

__all__ = ["TASKS", "mlp", "compile_for", "standalone_network", "to_plain_keras"]


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; received {name}={value!r}.")
    return int(value)


def _check_penalty(penalty, name="penalty"):
    if penalty is None or isinstance(penalty, keras.regularizers.Regularizer):
        return penalty
    raise ValueError(
        f"{name} must be None or a Keras regularizer such as kerasnet.ElasticNet(l1=..., l2=...); "
        f"received {name}={penalty!r}."
    )


def mlp(
    n_inputs,
    n_outputs=1,
    hidden=(64, 64),
    task="binary",
    penalty=None,
    activation="relu",
    dropout=0.0,
    seed=None,
    input_penalty=None,
    kernel_initializer=None,
):
    """The seed recipe: a ``keras.Sequential`` of ``Dense`` layers with penalized kernels.

    Every ``Dense`` kernel carries ``penalty``; no bias does. The output activation comes
    from ``task``: sigmoid (``binary``), softmax over ``n_outputs`` classes
    (``multiclass``) or linear (``regression``). ``hidden=()`` is the linear / logistic
    model. The model is returned uncompiled; see :func:`compile_for`.

    Parameters
    ----------
    n_inputs : int
        Number of input features.
    n_outputs : int, default 1
        Output units: 1 for ``binary``, the number of classes for ``multiclass``, the
        number of targets for ``regression``.
    hidden : sequence of int, default (64, 64)
        Units of each hidden ``Dense`` layer.
    task : {"binary", "multiclass", "regression"}, default "binary"
    penalty : keras.regularizers.Regularizer or None, default None
        Kernel penalty, for example ``kerasnet.ElasticNet(l1=1e-4, l2=1e-3)``; the same
        object is used on every kernel.
    activation : str, default "relu"
        Activation of the hidden layers.
    dropout : float, default 0.0
        Dropout rate after each hidden layer, in [0, 1).
    seed : int or None, default None
        Makes the initial weights (and dropout masks) reproducible.
    input_penalty : keras.regularizers.Regularizer or None, default None
        Penalty for the first layer's kernel only, in place of ``penalty`` there; for
        example ``kerasnet.GroupLasso(0.05)`` to select input features.
    kernel_initializer : keras initializer or None, default None
        Initializer of every kernel; None is Keras's Glorot uniform, seeded by ``seed``
        (layer ``i`` with ``seed + i``).

    Proximal penalties (``ElasticNet(..., proximal=True)``, ``GroupLasso``) also get their
    :class:`kerasnet.proximal.ProximalStep` as the kernel constraint, so the soft-threshold
    runs after every optimizer step of a plain ``model.fit``.

    Returns
    -------
    keras.Sequential

    Examples
    --------
    >>> import kerasnet
    >>> model = kerasnet.mlp(30, hidden=(64, 64), penalty=kerasnet.ElasticNet(1e-4, 1e-3), seed=0)
    >>> model = kerasnet.compile_for(model, "binary")
    """
    n_inputs = _check_positive_int(n_inputs, "n_inputs")
    n_outputs = _check_positive_int(n_outputs, "n_outputs")
    task = check_task(task)
    if task == "binary" and n_outputs != 1:
        raise ValueError(f"task='binary' needs n_outputs=1; received n_outputs={n_outputs}.")
    if task == "multiclass" and n_outputs < 2:
        raise ValueError(
            f"task='multiclass' needs n_outputs >= 2 (one per class); received n_outputs={n_outputs}."
        )
    if isinstance(hidden, (str, bytes)):  # tuple("64") would be two layers, of 6 and 4 units
        raise ValueError(f"hidden must be a sequence of positive integers such as (64, 64); received the "
                         f"string {hidden!r}.")
    try:
        hidden = tuple(hidden)
    except TypeError:
        raise ValueError(
            f"hidden must be a sequence of positive integers; received {hidden!r}."
        ) from None
    hidden = tuple(_check_positive_int(h, "each hidden layer size") for h in hidden)
    penalty = _check_penalty(penalty)
    input_penalty = _check_penalty(input_penalty, "input_penalty")
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a number in [0, 1); received dropout={dropout!r}.")

    def init(i):
        if kernel_initializer is not None:
            return kernel_initializer
        return keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)

    def layer_penalty(i):
        return input_penalty if (i == 0 and input_penalty is not None) else penalty

    layers = [keras.Input(shape=(n_inputs,), name="features")]
    for i, units in enumerate(hidden):
        layers.append(
            keras.layers.Dense(
                units,
                activation=activation,
                kernel_initializer=init(i),
                kernel_regularizer=layer_penalty(i),
                kernel_constraint=with_proximal_step(layer_penalty(i)),
                name=f"hidden_{i + 1}",
            )
        )
        if dropout > 0:
            layers.append(
                keras.layers.Dropout(
                    float(dropout),
                    seed=None if seed is None else seed + 1000 + i,
                    name=f"dropout_{i + 1}",
                )
            )
    layers.append(
        keras.layers.Dense(
            n_outputs,
            activation=OUTPUT_ACTIVATION[task],
            kernel_initializer=init(len(hidden)),
            kernel_regularizer=layer_penalty(len(hidden)),
            kernel_constraint=with_proximal_step(layer_penalty(len(hidden))),
            name="output",
        )
    )
    return keras.Sequential(layers, name="kerasnet_mlp")


def compile_for(model, task, learning_rate=1e-3, optimizer="adam"):
    """Compile ``model`` with the loss and metrics that fit ``task``; returns the model.

    ``binary``: binary cross-entropy and accuracy (labels 0/1); ``multiclass``: sparse
    categorical cross-entropy and accuracy (integer labels); ``regression``: mean
    squared error and RMSE. Keras adds the kernels' penalties to the loss.

    Parameters
    ----------
    model : keras.Model
    task : {"binary", "multiclass", "regression"}
    learning_rate : float, default 1e-3
    optimizer : {"adam", "sgd", "rmsprop", "adamw"} or keras.optimizers.Optimizer, default "adam"
        A name is built with ``learning_rate``; an optimizer instance is used as given.

    Returns
    -------
    keras.Model
        The same model, compiled; when it is built, its optimizer is built for its trainable
        variables too, so a ``.keras`` file of it holds the optimizer state that
        ``keras.saving.load_model`` rebuilds (an unbuilt optimizer's two variables against
        the loaded model's full set is Keras's "Skipping variable loading for optimizer" warning).
    """
    task = check_task(task)
    learning_rate = float(learning_rate)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0; received learning_rate={learning_rate!r}.")
    if isinstance(optimizer, str):
        classes = {
            "adam": keras.optimizers.Adam,
            "sgd": keras.optimizers.SGD,
            "rmsprop": keras.optimizers.RMSprop,
            "adamw": keras.optimizers.AdamW,
        }
        if optimizer.lower() not in classes:
            raise ValueError(
                f"optimizer must be one of {', '.join(classes)} or a Keras optimizer; "
                f"received optimizer={optimizer!r}."
            )
        optimizer = classes[optimizer.lower()](learning_rate=learning_rate)
    model.compile(optimizer=optimizer, loss=keras_loss(task), metrics=keras_metrics(task))
    if model.built and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    return model


def fold_standardization(model, x_mean, x_scale, y_mean=None, y_scale=None):
    """Fold input standardization into the first Dense layer and output scaling into the last.

    ``x -> (x - mean)/scale`` followed by ``x @ W + b`` equals ``x @ (W/scale) + (b - (mean/scale) @ W)``,
    exactly (in float64, before the weights are stored in the layer's dtype), so the model then
    maps raw inputs to raw targets (``y_mean``, ``y_scale``: the target's standardization, None
    for none); zeros in ``W`` stay zeros. Returns the model.
    """
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    first, last = dense[0], dense[-1]
    x_mean, x_scale = (np.asarray(v, np.float64) for v in (x_mean, x_scale))
    kernel, bias = (np.asarray(v, dtype=np.float64) for v in first.get_weights())
    first.set_weights([kernel / x_scale[:, None], bias - (x_mean / x_scale) @ kernel])
    if y_mean is not None:
        y_mean, y_scale = (np.asarray(v, np.float64) for v in (y_mean, y_scale))
        kernel, bias = (np.asarray(v, dtype=np.float64) for v in last.get_weights())
        last.set_weights([kernel * y_scale[None, :], bias * y_scale + y_mean])
    return model


def standalone_network(base, dense_weights, x_mean, x_scale, task, y_mean=None, y_scale=None, fold=False):
    """A fitted :func:`mlp` that takes raw inputs and predicts in the target's units, compiled.

    ``base`` is the recipe (its ``Dense`` layers get ``dense_weights``, a ``(kernel, bias)`` pair
    each, fitted on standardized inputs and, for regression, a standardized target). It is preceded
    by a ``Normalization`` layer holding ``x_mean`` and ``x_scale ** 2`` (for regression followed by
    a ``Rescaling`` back to the target's units), or with ``fold`` the standardization is folded into
    the first and last ``Dense`` layers (:func:`fold_standardization`). Compiled by
    :func:`compile_for`, so a ``.keras`` file of it loads in safe mode without kerasnet.
    """
    dense = [layer for layer in base.layers if isinstance(layer, keras.layers.Dense)]
    for layer, (kernel, bias) in zip(dense, dense_weights, strict=True):
        layer.set_weights([kernel, bias])
    regression = task == "regression"
    if fold:
        target = (y_mean, y_scale) if regression else ()
        return compile_for(fold_standardization(base, x_mean, x_scale, *target), task)
    d = len(x_mean)
    norm = keras.layers.Normalization(mean=np.asarray(x_mean).tolist(),
                                      variance=np.square(np.asarray(x_scale)).tolist(), name="standardize")
    layers = [keras.Input((d,), name="features"), norm, *base.layers]
    if regression:
        scale, offset = np.asarray(y_scale).tolist(), np.asarray(y_mean).tolist()
        if len(scale) == 1:
            scale, offset = scale[0], offset[0]
        layers.append(keras.layers.Rescaling(scale=scale, offset=offset, name="unstandardize"))
    return compile_for(keras.Sequential(layers, name="kerasnet_path_model"), task)


def _plain_regularizer(regularizer):
    if isinstance(regularizer, ElasticNet):
        return regularizer.to_keras()
    return regularizer


def to_plain_keras(model):
    """A copy of ``model`` whose kerasnet penalties are Keras's own ``L1L2`` (same numbers).

    The copy has the same architecture and weights and is uncompiled; a ``.keras`` file of
    it loads with ``keras.saving.load_model`` in a process that never imports kerasnet.
    ``ElasticNet(proximal=True)`` becomes ``L1L2(l1, l2)`` too (the same objective; plain
    Keras would train its L1 part by subgradient) and its ``ProximalStep`` constraint is
    removed, leaving any constraint the layer had before. Penalties with no built-in
    equivalent (``GroupLasso``) are kept with their step, so that file needs kerasnet.
    A model saved directly (``model.save``) keeps everything, proximal steps included, and
    loads in safe mode in any process that has imported kerasnet.
    """

    def clone(layer):
        config = layer.get_config()
        for key in ("kernel", "embeddings"):
            current = getattr(layer, f"{key}_regularizer", None)
            plain = _plain_regularizer(current)
            if plain is not current:
                config[f"{key}_regularizer"] = keras.regularizers.serialize(plain)
                constraint = getattr(layer, f"{key}_constraint", None)
                if isinstance(constraint, ProximalStep) and isinstance(constraint.penalty, ElasticNet):
                    then = constraint.then
                    config[f"{key}_constraint"] = (
                        None if then is None else keras.constraints.serialize(then)
                    )
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy
