"""Shapes rounded up to buckets, so a table of another size reuses the compiled programs.

JAX's persistent compilation cache (:mod:`kerasnet._compilation_cache`) finds a program only
when every shape matches: without buckets a table of 620 rows and 14 features compiles every
program of the path again after one of 600 x 10. On the JAX backend, for the MLP path on a
table in memory (not a streamed source, not a Dask cluster, not a model of your own), these
sizes are rounded up by :func:`bucket` and the padding is exact:

* **Rows** (:class:`~kerasnet.path.rows.Rows`): the device copy of the table has
  ``bucket(n)`` rows; the padded rows are zero, carry zero weight and belong to no row set,
  so no batch, validation, measure or standardization ever reads them.
* **Features**: the device copy has ``bucket(d)`` columns, zero in the padded ones, and the
  engine trains a copy of the network whose first kernel has ``bucket(d)`` rows
  (:func:`widen`): the real rows start from the network's own weights (drawn at the real
  width: Glorot's fan-in is the real one), the padded ones at zero; each member standardizes a
  padded column with mean 0 and scale 1, so it stays 0. A padded row is then held at exactly
  zero: its data gradient is ``x = 0`` times the error, its L2 gradient ``2 l2 * 0``, an
  optimizer's update of a zero gradient from zero moments is zero, and the proximal step's
  soft-threshold (or a group lasso's) of zero is zero. Where that is not so (the L1 subgradient
  in the gradient, ``proximal=False``, whose JAX derivative of ``|w|`` at 0 is 1), or where the
  first kernel already carries glmnet's penalty factors, the padded rows carry the factor
  :data:`~kerasnet.path.members.HOLD` (no penalty, set to zero after every update, glmnet's
  ``exclude``); a per-feature group strength is padded with ``HOLD`` too. The weights handed
  back have the real width (:meth:`Widened.narrow`), so Df, sparsity, coefficients,
  ``Path.model`` and saved models are those of the real network, and the penalty (the reported
  objective, Keras's ``val_loss`` that early stopping may watch) counts no padded weight.
* **Steps** of a pass (:func:`kerasnet.path.segments.run_pass`): ``bucket(steps)``, the extra
  steps empty; a step where no member has rows is skipped (``jax.lax.cond``), so Adam's step
  count and moments are those of the real steps.
* **Validation rows** per member (:class:`~kerasnet.path.validation.Validation`):
  ``bucket(width)`` up to the chunk size, the padding of zero weight.
* **Members** of an inference pass (:mod:`kerasnet.path.inference`): ``bucket(K)``, the extra
  members copies of the first, their numbers dropped.

The rule (:func:`bucket`): a size up to 16 is rounded up to a power of two (1, 2, 4, 8, 16);
above 16 to the next ``m * 2**e`` with ``m`` in 5, 6, 7, 8 (four steps per octave: 20, 24, 28,
32, 40, 48, 56, 64, 80, ...), so padding adds less than a quarter above 16. 600 and 620 rows
both become 640; 10 and 14 features both 16.

What moves is the order of float32 sums over padding (a longer sum of zeros, a wider matmul):
the golden paths' numbers (``tests/test_golden_paths.py``) are equal, or within 3e-6 relative
(the deviance explained, a sum over the padded rows). ``KERASNET_BUCKETS=off`` (or
``0``, ``false``, ``no``) switches all of it off: every shape is the table's own, as before.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np

from .members import HOLD, Scaling

__all__ = ["ENV", "Widened", "bucket", "enabled", "padded_index", "wide_weights", "widen"]

#: The environment variable that switches buckets off (``off``, ``0``, ``false``, ``no``).
ENV = "KERASNET_BUCKETS"
_OFF = ("0", "off", "false", "no")
#: Sizes up to this are rounded to a power of two; above it, four steps per octave.
_SMALL = 16


def enabled():
    """Whether shapes are rounded to buckets: the JAX backend, unless ``KERASNET_BUCKETS`` is off."""
    import keras

    if keras.backend.backend() != "jax":
        return False
    return os.environ.get(ENV, "on").strip().lower() not in _OFF


def bucket(n):
    """The bucket of a size ``n``: the next power of two up to 16, then the next of 20, 24, 28,
    32, 40, 48, ... (``m * 2**e``, ``m`` in 5..8).

    Examples
    --------
    >>> [bucket(n) for n in (1, 3, 10, 14, 16, 17, 21, 100, 600, 620, 641)]
    [1, 4, 16, 16, 16, 20, 24, 112, 640, 640, 768]
    """
    n = int(n)
    if n <= 1:
        return max(n, 1)
    if n <= _SMALL:
        return 1 << (n - 1).bit_length()
    step = 1 << max((n - 1).bit_length() - 3, 0)  # an eighth of the next power of two above n - 1
    return -(-n // step) * step


def _padded(a, width, axis, fill):
    a = np.asarray(a)
    extra = width - a.shape[axis]
    if extra <= 0:
        return a
    shape = list(a.shape)
    shape[axis] = extra
    return np.concatenate([a, np.full(shape, fill, a.dtype)], axis=axis)


def wide_weights(weights, width):
    """A weight list (``model.get_weights()`` order) with the first kernel's rows zero-padded."""
    first, *rest = weights
    return [_padded(first, width, 0, 0), *rest]


@dataclass(frozen=True, eq=False)
class Widened:
    """A fit's network, members and training with the features padded to the rows' width."""

    model: object
    members: object
    training: object
    features: int

    def narrow(self, weights):
        """Each member's weights with the real features only (the first kernel's real rows)."""
        return [[np.asarray(w[0])[:self.features], *w[1:]] for w in weights]


_TWINS: dict = {}
_TWINS_KEPT = 8


def _twin(model, width):
    """A network like ``model`` (the MLP, a Sequential) whose input has ``width`` features, made
    once per structure and width; its weights are set by the caller."""
    import json

    import keras

    key = (json.dumps(keras.saving.serialize_keras_object(model), sort_keys=True, default=str), int(width))
    if key not in _TWINS:
        if len(_TWINS) >= _TWINS_KEPT:
            _TWINS.pop(next(iter(_TWINS)))
        _TWINS[key] = keras.models.clone_model(model, input_tensors=keras.Input(shape=(int(width),),
                                                                                 name="features"))
    return _TWINS[key]


def widen(model, rows, members, training):
    """The fit of ``model`` on ``rows`` padded to ``rows.padded_features``, or None (no padding).

    The twin network starts from ``model``'s weights (the padded first-kernel rows zero), each
    member's start is padded the same way, each member standardizes a padded column with mean
    0 and scale 1; the padded features carry the penalty factor
    :data:`~kerasnet.path.members.HOLD` where the L1 subgradient or glmnet's factors are in
    play, and a per-feature group strength of ``HOLD`` (the module's docstring says why the
    rows stay exactly zero).
    """
    width = getattr(rows, "padded_features", None)
    if width is None:
        return None
    d = rows.features
    twin = _twin(model, width)
    twin.set_weights(wide_weights(model.get_weights(), width))
    scaling = members.scaling
    if scaling is not None:
        scaling = Scaling(_padded(scaling.x_mean, width, 1, 0.0), _padded(scaling.x_scale, width, 1, 1.0),
                          scaling.y_mean, scaling.y_scale)
    group = members.group
    if group is not None and group.ndim == 2:  # one strength per feature: the padded ones held
        group = _padded(np.asarray(group, "float32"), width, 1, np.float32(HOLD))
    starts = None if members.starts is None else [wide_weights(w, width) for w in members.starts]
    members = dataclasses.replace(members, scaling=scaling, group=group, starts=starts)
    factor = training.penalty_factor
    if factor is None and not training.proximal and np.any(np.asarray(members.l1) > 0):
        factor = np.ones(d)  # the L1 subgradient at zero (JAX's is 1) would move a padded row
    if factor is not None:
        training = training.replace(penalty_factor=_padded(np.asarray(factor, float), width, 0, HOLD))
    return Widened(twin, members, training, d)


def padded_index(count):
    """``[bucket(count)]`` member indices: ``0 .. count-1``, then copies of member 0."""
    return np.concatenate([np.arange(count), np.zeros(bucket(count) - count, int)])
