"""PenaltyMonitor: the whole objective, how much of it is penalty, and how sparse the kernels are."""

from __future__ import annotations

import keras
import numpy as np

from .proximal import proximal_penalty
from .thresholds import NEAR_ZERO

__all__ = ["NEAR_ZERO", "PenaltyMonitor", "kernel_sparsity", "near_zero_fraction", "penalty_value"]

#: NEAR_ZERO (:mod:`.thresholds`, light for the command line): the size below which the commands
#: count a weight as near zero (``demo``, ``compare``).


def _kernels(model):
    """Kernel (and embedding) variables of every layer, nested models included."""
    out = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for name in ("kernel", "embeddings"):
            var = getattr(layer, name, None)
            if isinstance(var, keras.Variable):
                out.append(var)
    return out


def near_zero_fraction(model, threshold=NEAR_ZERO) -> float:
    """Fraction of kernel weights with ``|w| < threshold`` (biases excluded).

    Keras's own L1 (a subgradient) leaves weights near zero rather than at it; this is the
    share a run reports beside the exact zeros of :func:`kernel_sparsity`.
    """
    kernels = [np.abs(np.asarray(keras.ops.convert_to_numpy(v))) for v in _kernels(model)]
    total = sum(k.size for k in kernels)
    return float(sum(int((k < threshold).sum()) for k in kernels) / total) if total else 0.0


def kernel_sparsity(model) -> float:
    """Fraction of kernel weights that are exactly zero (biases excluded).

    Examples
    --------
    >>> import kerasnet
    >>> kernel_sparsity(kerasnet.mlp(3, hidden=(2,)))
    0.0
    """
    kernels = [np.asarray(keras.ops.convert_to_numpy(v)) for v in _kernels(model)]
    total = sum(k.size for k in kernels)
    if total == 0:
        return 0.0
    return float(sum(int(np.count_nonzero(k == 0)) for k in kernels) / total)


def penalty_value(model) -> float:
    """Sum of the model's regularization losses at its current weights."""
    losses = model.losses
    if not losses:
        return 0.0
    return float(sum(float(keras.ops.convert_to_numpy(v)) for v in losses))


class PenaltyMonitor(keras.callbacks.Callback):
    """Add ``objective``, ``penalty``, ``data_loss``, ``sparsity`` (and their ``val_``) to the epoch logs.

    Keras logs ``loss``, the loss its gradient step minimized: the data loss plus the penalties
    inside the loss (``model.losses``). That hides how much of it is penalty, and with
    proximal penalties (``ElasticNet(proximal=True)``'s L1, :class:`kerasnet.GroupLasso`),
    which the optimizer step applies outside the loss, it is not the objective being
    minimized at all. This callback adds, for every epoch:

    - ``penalty``: the whole penalty (``sum(model.losses)`` plus, for proximal penalties,
      the L1 / group part that the proximal step applies outside the loss) at the weights
      each training step used, averaged over the epoch's steps like ``loss``;
    - ``data_loss``: the data term alone: ``loss`` minus the penalty terms Keras put in it
      (``loss - penalty`` unless proximal penalties are used);
    - ``objective``: ``data_loss + penalty``, the training objective with the whole penalty
      (equal to Keras's ``loss`` unless proximal penalties are used, where ``loss`` lacks
      their part);
    - ``sparsity``: the fraction of kernel weights that are exactly 0 at the epoch's end;
    - ``val_data_loss`` and ``val_objective``: ``val_loss`` minus the in-loss penalty, and
      plus the proximal penalty, at the end-of-epoch weights (those Keras evaluates), when
      validation runs.

    Keras's own ``loss`` and ``val_loss`` are left as Keras computed them: callbacks that
    monitor them (``EarlyStopping``) see the same numbers wherever they sit in the list.

    Steps are weighted equally; Keras weights its running ``loss`` by batch size, so the two
    differ only through a smaller last batch, whose weights are one step apart.

    Place it before ``History``-reading callbacks (CSVLogger, TensorBoard) in the list so
    they see the new keys; ``model.fit``'s own History always sees them.

    Examples
    --------
    >>> import numpy as np, kerasnet
    >>> x, y = np.random.rand(64, 3), np.random.rand(64, 1)
    >>> model = kerasnet.compile_for(
    ...     kerasnet.mlp(3, task="regression", penalty=kerasnet.ElasticNet(l2=1e-2)), "regression")
    >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[kerasnet.PenaltyMonitor()])
    >>> sorted(k for k in history.history if k != "loss")
    ['data_loss', 'objective', 'penalty', 'sparsity']
    """

    def __init__(self):
        super().__init__()
        self._in_loss = 0.0
        self._outside = 0.0
        self._steps = 0

    def _current_penalties(self) -> tuple[float, float]:
        """(penalty inside Keras's loss, proximal penalty applied outside it)."""
        # JAX training keeps weights outside the model between epochs; fetch them first.
        sync = getattr(self.model, "jax_state_sync", None)
        if sync is not None:
            sync()
        return penalty_value(self.model), proximal_penalty(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        self._in_loss, self._outside, self._steps = 0.0, 0.0, 0

    def on_train_batch_begin(self, batch, logs=None):
        in_loss, outside = self._current_penalties()
        self._in_loss += in_loss
        self._outside += outside
        self._steps += 1

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        end_in_loss, end_outside = self._current_penalties()
        if self._steps:
            in_loss, outside = self._in_loss / self._steps, self._outside / self._steps
        else:
            in_loss, outside = end_in_loss, end_outside
        logs["penalty"] = in_loss + outside
        if "loss" in logs:
            logs["data_loss"] = float(logs["loss"]) - in_loss
            logs["objective"] = logs["data_loss"] + logs["penalty"]
        if "val_loss" in logs:
            logs["val_data_loss"] = float(logs["val_loss"]) - end_in_loss
            logs["val_objective"] = logs["val_data_loss"] + end_in_loss + end_outside
        logs["sparsity"] = kernel_sparsity(self.model)
