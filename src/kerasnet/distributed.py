"""Dask execution: one stacked fit split by members across the workers of a Dask cluster.

A stacked fit (:func:`kerasnet.stack.fit_stack`) trains members that never interact: each
has its own rows, strengths, Adam state, early stopping, and a batch order that depends
only on ``(seed, stream)``. So the members can be cut into chunks, each chunk trained as
a smaller stack on a different worker, and the results put back together: the same
numbers as one local fit with the same seed. :func:`fit_stack` here has the signature of
:func:`kerasnet.stack.fit_stack` plus ``scheduler``, so a caller switches with one line.

Dask is an optional extra: ``pip install 'kerasnet[dask]'``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from keras import ops

from . import stack as _stack

__all__ = ["fit_stack", "get_client"]

# fit_stack's arguments that carry one entry per member (leading axis K).
# y_mean / y_scale: a regression member's target statistics (its own training rows).
_PER_MEMBER = ("l1", "l2", "train_mask", "val_mask", "mean", "scale", "y_mean", "y_scale", "max_epochs",
               "streams", "stop_groups")
_MISSING_DASK = (
    "scheduler= needs Dask's distributed scheduler, an optional extra of kerasnet: "
    "pip install 'kerasnet[dask]'  (or: pip install 'dask[distributed]')."
)


def get_client(scheduler):
    """A ``dask.distributed.Client`` for ``scheduler``, and whether the caller must close it.

    Parameters
    ----------
    scheduler : str or dask.distributed.Client
        The scheduler's address (``"tcp://10.0.0.5:8786"``) or a connected client.

    Returns
    -------
    (client, owned) : (dask.distributed.Client, bool)
        ``owned`` is True when the client was opened here (close it when done).
    """
    try:
        from dask.distributed import Client
    except ImportError:  # the extra is not installed
        raise ImportError(_MISSING_DASK) from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if isinstance(scheduler, str) and scheduler:
        try:
            return Client(scheduler, timeout="10s"), True
        except (OSError, TimeoutError) as err:
            raise ConnectionError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({type(err).__name__}); check the "
                "address and that `dask scheduler` and its workers are running."
            ) from None
    raise ValueError(
        "scheduler must be a Dask scheduler address such as 'tcp://host:8786' or a "
        f"dask.distributed.Client; received scheduler={scheduler!r}."
    )


def _fit_chunk(config, init, X, y, per_member, common):
    """Worker side: build a stack of this chunk's members, train it, return fit and weights."""
    model = _stack.StackedMLP(**config)
    for var, value in zip(model.trainable_variables, init, strict=True):
        var.assign(value)
    fit = _stack.fit_stack(model, X, y, **per_member, **common)
    return fit, [ops.convert_to_numpy(v) for v in model.trainable_variables]


def _pad_epochs(history, epochs):
    """[E_c, K_c] history padded with NaN (not trained) to ``epochs`` rows."""
    pad = np.full((epochs - history.shape[0], history.shape[1]), np.nan)
    return np.concatenate([history, pad], axis=0)


def _merge(fits):
    """One StackFit from chunk fits, members in chunk order (what one local fit reports).

    Generic over StackFit's fields: 2-D arrays are per-epoch histories ``[epochs, K]``
    (shorter chunks padded with NaN, as a stopped member reads locally), 1-D arrays are
    per member; ``None`` stays ``None``.
    """
    epochs = max(f.loss.shape[0] for f in fits)
    merged = {}
    for field in dataclasses.fields(_stack.StackFit):
        parts = [getattr(f, field.name) for f in fits]
        if field.name == "extra":
            continue  # per-fit bookkeeping; keeps its default
        if any(p is None for p in parts):
            merged[field.name] = None  # not recorded (no validation rows)
            continue
        parts = [np.asarray(p) for p in parts]
        if parts[0].ndim == 2:
            merged[field.name] = np.concatenate([_pad_epochs(p.astype(float), epochs) for p in parts], axis=1)
        else:
            merged[field.name] = np.concatenate(parts)
    return _stack.StackFit(**merged)


def _chunks(K, n_chunks, stop_groups=None):
    """Contiguous member chunks; members of one cross-fit group (a strength's folds) stay
    together, since each one's early stopping reads the others' curves."""
    if stop_groups is None:
        return [c for c in np.array_split(np.arange(K), min(n_chunks, K)) if len(c)]
    # A member outside any group (-1) is a unit of its own.
    unit = np.where(stop_groups >= 0, stop_groups, -1 - np.arange(K))
    starts = np.flatnonzero(np.r_[True, unit[1:] != unit[:-1]])
    units = np.split(np.arange(K), starts[1:])
    parts = np.array_split(np.arange(len(units)), min(n_chunks, len(units)))
    return [np.concatenate([units[u] for u in part]) for part in parts if len(part)]


def fit_stack(model, X, y, *, scheduler=None, n_chunks=None, callback=None, **kwargs):
    """:func:`kerasnet.stack.fit_stack` with the members split across a Dask cluster.

    The members of ``model`` are cut into ``n_chunks`` contiguous chunks (for
    :func:`kerasnet.fit_path`'s member order ``strength * n_folds + fold``: chunks of
    strengths with all their folds); each chunk is trained as its own stack on a worker,
    from the same initial weights, strengths, masks and batch order it would have had in
    the local fit. The trained weights are written back into ``model`` and the per-member
    results are returned as one :class:`~kerasnet.stack.StackFit`, equal to a local fit's.

    Parameters
    ----------
    model : kerasnet.stack.StackedMLP
        Holds the initial weights; trained weights are assigned in place.
    X, y : arrays
        Sent once to every worker.
    scheduler : str, dask.distributed.Client or None, default None
        Scheduler address or client (see :func:`get_client`); None runs
        :func:`kerasnet.stack.fit_stack` here, unchanged.
    n_chunks : int or None, default None
        Number of chunks; None uses the cluster's total worker threads (at most one
        chunk per member).
    callback : callable or None
        Called once, when every chunk is done, as ``callback(last_epoch, logs)`` (the
        per-epoch progress of remote chunks is not streamed back).
    **kwargs
        Everything else :func:`kerasnet.stack.fit_stack` takes (``l1``, ``l2``, masks,
        ``epochs``, ``seed`` ...).

    Returns
    -------
    kerasnet.stack.StackFit

    Examples
    --------
    >>> client = "tcp://scheduler-host:8786"
    >>> fit = fit_stack(model, X, y, l1=l1, l2=l2, seed=0, scheduler=client)  # doctest: +SKIP
    """
    if scheduler is None:
        return _stack.fit_stack(model, X, y, callback=callback, **kwargs)
    K = model.members
    # Pin the choices fit_stack would otherwise make per call, so that every chunk agrees.
    if kwargs.get("seed") is None:
        kwargs["seed"] = int(np.random.default_rng().integers(2**31))
    if kwargs.get("streams") is None:
        kwargs["streams"] = np.arange(K)
    per_member = {}
    for name in _PER_MEMBER:
        value = kwargs.pop(name, None)
        if value is not None:
            value = np.asarray(value)
            per_member[name] = np.broadcast_to(value, (K,) + value.shape[1:]) if value.ndim <= 1 else value
    common = kwargs
    init = [ops.convert_to_numpy(v) for v in model.trainable_variables]
    config = dict(
        n_inputs=model.n_inputs,
        n_outputs=model.n_outputs,
        hidden=model.hidden,
        task=model.task,
        activation=model.hidden_activation,
    )

    client, owned = get_client(scheduler)
    try:
        if n_chunks is None:
            n_chunks = sum(client.nthreads().values()) or 1
        if isinstance(n_chunks, bool) or not isinstance(n_chunks, (int, np.integer)) or n_chunks < 1:
            raise ValueError(f"n_chunks must be a positive integer or None; received n_chunks={n_chunks!r}.")
        chunks = _chunks(K, int(n_chunks), per_member.get("stop_groups"))
        # hash=False: content-hashed keys would let a second fit on the same data (fit_path's
        # refit) reuse keys the first fit is releasing, and Dask cancels it for lost data.
        X_remote, y_remote = client.scatter([np.asarray(X), np.asarray(y)], broadcast=True, hash=False)
        futures = [
            client.submit(
                _fit_chunk,
                {**config, "members": len(chunk)},
                [w[chunk] for w in init],
                X_remote,
                y_remote,
                {name: value[chunk] for name, value in per_member.items()},
                common,
                pure=False,
            )
            for chunk in chunks
        ]
        results = client.gather(futures)
    finally:
        if owned:
            client.close()

    for i, var in enumerate(model.trainable_variables):
        var.assign(np.concatenate([weights[i] for _, weights in results], axis=0))
    fit = _merge([f for f, _ in results])
    if callback is not None:
        callback(
            fit.loss.shape[0] - 1,
            {
                "loss": fit.loss[-1],
                "running": np.zeros(K, bool),
                "diverged": fit.diverged.copy(),
                "best_val_score": fit.best_val_score,
            },
        )
    return fit
