"""penalize(): put a penalty on the kernels of an existing Keras model, by rebuilding it.

Setting ``layer.kernel_regularizer`` on a layer that is already built changes nothing: Keras
attaches regularizers (and constraints) to the variable when it is created. So the model is
cloned with the penalty in each chosen layer's config and the weights are copied over.
"""

from __future__ import annotations

import inspect

import keras

from .proximal import with_proximal_step

__all__ = ["penalize"]

# Config keys of the penalized weight, by the attribute that holds it.
_WEIGHT_KEYS = {"kernel": "kernel", "embeddings": "embeddings"}


def _penalized_key(layer):
    """``"kernel"`` or ``"embeddings"`` when ``layer`` has such a regularizable weight, else None."""
    config_keys = None
    for key in _WEIGHT_KEYS:
        if hasattr(layer, f"{key}_regularizer"):
            if config_keys is None:
                config_keys = layer.get_config()
            if f"{key}_regularizer" in config_keys:
                return key
    return None


def _selector(layers):
    """A predicate ``layer -> bool`` from ``layers`` (None, names, classes, or a callable)."""
    if layers is None:
        return lambda layer: True
    if callable(layers) and not inspect.isclass(layers):
        return layers
    if isinstance(layers, str) or inspect.isclass(layers):
        layers = [layers]
    try:
        items = list(layers)
    except TypeError:
        items = None
    if not items or not all(isinstance(i, str) or inspect.isclass(i) for i in items):
        raise ValueError(
            "layers must be None, a layer name, a layer class, a list of names and/or classes, "
            f"or a predicate taking a layer; received layers={layers!r}."
        )
    names = {i for i in items if isinstance(i, str)}
    classes = tuple(i for i in items if inspect.isclass(i))
    return lambda layer: layer.name in names or (bool(classes) and isinstance(layer, classes))


def penalize(model, penalty, layers=None):
    """A copy of ``model`` with ``penalty`` on the kernels of the chosen layers.

    Same architecture, same weights, same predictions; only the chosen layers' kernel
    penalty changes (``kernel_regularizer``, or ``embeddings_regularizer`` for
    ``Embedding``). Works for Sequential and Functional models and for Sequential or
    Functional models nested inside them. The original model is left unchanged. A
    proximal penalty (``ElasticNet(..., proximal=True)``, ``GroupLasso``) also gets its
    :class:`kerasnet.proximal.ProximalStep` as the kernel constraint, composed before any
    constraint the layer already had. The copy is uncompiled.

    Parameters
    ----------
    model : keras.Sequential or keras.Model (Functional)
    penalty : keras.regularizers.Regularizer or None
        For example ``kerasnet.ElasticNet(l1=1e-4, l2=1e-3)``; None removes the chosen
        layers' kernel penalties.
    layers : None, str, layer class, list of those, or callable, default None
        Which layers: None means every layer with a kernel (``Dense``, ``EinsumDense``,
        ``Conv1D/2D/3D`` and other convolutions, recurrent layers) or embeddings
        (``Embedding``); names and classes select by ``layer.name`` / ``isinstance``; a
        callable is called with each layer and returns True to select it. Layers without a
        kernel are never changed.

    Returns
    -------
    keras.Model
        A new, uncompiled model of the same class.

    Raises
    ------
    ValueError
        For a subclassed model (its layers cannot be rebuilt from outside; give its layers
        the penalty in its ``__init__``, or build it with the Functional API), or for bad
        ``penalty`` / ``layers`` arguments.

    Examples
    --------
    >>> import keras, kerasnet
    >>> base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    >>> model = kerasnet.penalize(base, kerasnet.ElasticNet(l1=1e-3), layers=keras.layers.Dense)
    >>> len(model.losses)
    2
    """
    if penalty is not None and not isinstance(penalty, keras.regularizers.Regularizer):
        raise ValueError(
            "penalty must be None or a Keras regularizer such as kerasnet.ElasticNet(l1=..., l2=...); "
            f"received penalty={penalty!r}."
        )
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model; received model of type {type(model).__name__}.")
    if not isinstance(model, (keras.Sequential, keras.src.models.Functional)):
        raise ValueError(
            f"penalize cannot rebuild a subclassed model ({type(model).__name__}): Keras does not know "
            "its layer graph. Pass the penalty to its layers in the class's __init__ (for example "
            "Dense(..., kernel_regularizer=penalty)), or build the model with the Functional API or "
            "keras.Sequential and call penalize on that."
        )
    if not model.built:
        raise ValueError(
            "model must be built (give it an Input or call it on data once) so that its weights "
            "can be copied; received an unbuilt model."
        )
    select = _selector(layers)
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.Model) and not isinstance(
            layer, (keras.Sequential, keras.src.models.Functional)
        ):
            raise ValueError(
                f"penalize cannot rebuild the subclassed model {layer.name!r} "
                f"({type(layer).__name__}) nested in this model. Pass the penalty to its layers "
                "in its __init__, or build it with the Functional API."
            )

    def clone(layer):
        key = _penalized_key(layer)
        config = layer.get_config()
        if key is not None and select(layer):
            config[f"{key}_regularizer"] = (
                None if penalty is None else keras.regularizers.serialize(penalty)
            )
            constraint = with_proximal_step(penalty, getattr(layer, f"{key}_constraint", None))
            config[f"{key}_constraint"] = (
                None if constraint is None else keras.constraints.serialize(constraint)
            )
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    copy.set_weights(model.get_weights())
    return copy
