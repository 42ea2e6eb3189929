"""Dask execution: one vectorized fit split by members across the workers of a Dask cluster.

:func:`kerasnet.path.engine.fit_members` trains members that never interact: each has its
own rows, strengths, optimizer state, early stopping, and a batch order that depends only
on ``(seed, stream)``. So the members can be cut into chunks, each chunk trained on a
different worker, and the results put back together: the same numbers as one local fit
with the same seed. :func:`fit_members` here has the signature of the engine's plus
``scheduler``, so a caller switches with one line.

Dask is an optional extra: ``pip install 'kerasnet[dask]'``.
"""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np

from . import engine

__all__ = ["MISSING_DASK", "fit_members", "get_client"]

# The engine's arguments that carry one entry per member (leading axis K).
_PER_MEMBER = ("l1", "l2", "group_l1", "train_mask", "val_mask", "max_epochs", "streams", "stop_groups")
MISSING_DASK = (
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
        raise ImportError(MISSING_DASK) from None
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


def _fit_chunk(model_bytes, X, y, per_member, scaling, common):
    """Worker side: train this chunk's members; return their weights and fit.

    The model travels as pickled bytes and is loaded here, after this module (so kerasnet and
    its registered Keras objects) is imported on the worker.
    """
    model = pickle.loads(model_bytes)  # noqa: S301 - our own bytes, made by fit_members below
    if "start" in per_member:
        common = dict(common)
        per_member = {**per_member, "start": (common.pop("starts"), per_member["start"])}
    return engine.fit_members(model, X, y, **per_member, scaling=scaling, **common)


def _pad(a, width, axis, fill):
    """``a`` padded with ``fill`` to ``width`` along ``axis``."""
    extra = width - a.shape[axis]
    if extra <= 0:
        return a
    shape = list(a.shape)
    shape[axis] = extra
    return np.concatenate([a, np.full(shape, fill, dtype=a.dtype)], axis=axis)


def _merge(fits):
    """One MemberFit from chunk fits, members in chunk order (what one local fit reports).

    2-D arrays are per-epoch histories ``[epochs, K]`` (shorter chunks padded with NaN, as
    a stopped member reads locally), 1-D arrays are per member; ``None`` stays ``None``;
    the validation outputs are padded to the widest chunk (padding is not ``valid``).
    """
    epochs = max(f.loss.shape[0] for f in fits)
    merged = {}
    for field in dataclasses.fields(engine.MemberFit):
        parts = [getattr(f, field.name) for f in fits]
        if any(p is None for p in parts):
            merged[field.name] = None  # not recorded (no validation rows, no outputs)
        elif field.name == "val_outputs":
            width = max(p[0].shape[1] for p in parts)
            fills = ((0, 0), (1, np.nan), (2, False))
            merged[field.name] = tuple(np.concatenate([_pad(p[j], width, 1, fill) for p in parts])
                                       for j, fill in fills)
        elif np.asarray(parts[0]).ndim == 2:
            padded = [_pad(np.asarray(p, float), epochs, 0, np.nan) for p in parts]
            merged[field.name] = np.concatenate(padded, axis=1)
        else:
            merged[field.name] = np.concatenate([np.asarray(p) for p in parts])
    return engine.MemberFit(**merged)


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


def fit_members(model, X, y, *, scheduler=None, n_chunks=None, callback=None, scaling=None, **kwargs):
    """:func:`kerasnet.path.engine.fit_members` with the members split across a Dask cluster.

    The members are cut into ``n_chunks`` contiguous chunks (for :func:`kerasnet.fit_path`'s
    member order ``strength * n_folds + fold``: chunks of strengths with all their folds);
    each chunk is trained on a worker from the same initial weights, strengths, masks and
    batch order it would have had in the local fit, and the results are put back in member
    order: equal to a local fit's.

    Parameters
    ----------
    model : keras.Model
        Its weights are every member's start; it is sent to the workers (pickled).
    X, y : arrays
        Sent once to every worker.
    scheduler : str, dask.distributed.Client or None, default None
        Scheduler address or client (see :func:`get_client`); None trains here.
    n_chunks : int or None, default None
        Number of chunks; None uses the cluster's total worker threads (at most one
        chunk per member).
    callback : callable or None
        Called once, when every chunk is done, as ``callback(last_epoch, logs)`` (the
        per-epoch progress of remote chunks is not streamed back).
    scaling : tuple of arrays [K, ...] or None
        Per-member standardization, split with the members.
    **kwargs
        Everything else the engine takes (``loss``, ``l1``, ``l2``, masks, ``epochs``,
        ``seed`` ...).

    Returns
    -------
    (weights, MemberFit)

    Examples
    --------
    >>> client = "tcp://scheduler-host:8786"
    >>> weights, fit = fit_members(model, X, y, loss="mse", l1=l1, seed=0, scheduler=client)  # doctest: +SKIP
    """
    if scheduler is None:
        return engine.fit_members(model, X, y, callback=callback, scaling=scaling, **kwargs)
    K = len(np.atleast_1d(kwargs["l1"]))
    # Pin the choice the engine would otherwise make per call, so that every chunk agrees.
    if kwargs.get("seed") is None:
        kwargs["seed"] = int(np.random.default_rng().integers(2**31))
    per_member = {}
    start = kwargs.pop("start", None)
    if start is not None:  # each member's index into the start weights travels with its chunk
        starts, per_member["start"] = start[0], np.asarray(start[1])
    for name in _PER_MEMBER:
        value = kwargs.pop(name, None)
        if isinstance(value, tuple):  # (row sets, each member's set): the members' own masks
            value = np.asarray(value[0])[np.asarray(value[1])]
        if value is not None:
            value = np.asarray(value)
            per_member[name] = np.broadcast_to(value, (K,) + value.shape[1:]) if value.ndim <= 1 else value
    common = kwargs if start is None else {**kwargs, "starts": starts}

    client, owned = get_client(scheduler)
    try:
        if n_chunks is None:
            n_chunks = sum(client.nthreads().values()) or 1
        if isinstance(n_chunks, bool) or not isinstance(n_chunks, (int, np.integer)) or n_chunks < 1:
            raise ValueError(f"n_chunks must be a positive integer or None; received n_chunks={n_chunks!r}.")
        chunks = _chunks(K, int(n_chunks), per_member.get("stop_groups"))
        # hash=False: content-hashed keys would let a second fit on the same data (fit_path's
        # refit) reuse keys the first fit is releasing, and Dask cancels it for lost data.
        X_remote, y_remote = client.scatter([X, np.asarray(y)], broadcast=True, hash=False)
        model_bytes = pickle.dumps(model)
        futures = [
            client.submit(
                _fit_chunk, model_bytes, X_remote, y_remote,
                {name: value[chunk] for name, value in per_member.items()},
                None if scaling is None else tuple(None if s is None else np.asarray(s)[chunk]
                                                   for s in scaling),
                common, pure=False,
            )
            for chunk in chunks
        ]
        results = client.gather(futures)
    finally:
        if owned:
            client.close()

    weights = [w for chunk_weights, _ in results for w in chunk_weights]
    fit = _merge([f for _, f in results])
    if callback is not None:
        callback(fit.loss.shape[0] - 1, {"loss": fit.loss[-1], "running": np.zeros(K, bool)})
    return weights, fit
