"""Dask execution: one vectorized fit split by members across the workers of a Dask cluster.

:func:`kerasnet.path.engine.fit_members` trains members that never interact: each has its
own rows, strengths, optimizer state, early stopping, and a batch order that depends only
on ``(seed, stream)``. So the members can be cut into chunks (:meth:`MemberSpec.take
<kerasnet.path.members.MemberSpec.take>`), each chunk trained on a different worker, and the
results put back together: the same numbers as one local fit with the same seed.
:func:`fit_members_on_cluster` takes the engine's arguments after the scheduler.

Dask is an optional extra: ``pip install 'kerasnet[dask]'``.
"""

from __future__ import annotations

import pickle

import numpy as np

from . import engine

__all__ = ["MISSING_DASK", "fit_members_on_cluster", "get_client"]

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


def _fit_chunk(model_bytes, rows, members, training, stopping):
    """Worker side: train this chunk's members; return their weights and fit.

    The model travels as pickled bytes and is loaded here, after this module (so kerasnet and
    its registered Keras objects) is imported on the worker.
    """
    model = pickle.loads(model_bytes)  # noqa: S301 - our own bytes, made by fit_members_on_cluster below
    return engine.fit_members(model, rows, members, training, stopping)


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


def fit_members_on_cluster(scheduler, model, rows, members, training, stopping=None, *, n_chunks=None,
                           callback=None):
    """:func:`kerasnet.path.engine.fit_members` with the members split across a Dask cluster.

    The members are cut into ``n_chunks`` contiguous chunks (for :func:`kerasnet.fit_path`'s
    member order ``strength * n_folds + fold``: chunks of strengths with all their folds);
    each chunk is trained on a worker from the same initial weights, strengths, rows and
    batch order it would have had in the local fit, and the results are put back in member
    order: equal to a local fit's.

    Parameters
    ----------
    scheduler : str or dask.distributed.Client
        Scheduler address or client (see :func:`get_client`).
    model : keras.Model
        Its weights are every member's start; it is sent to the workers (pickled).
    rows : kerasnet.path.rows.Rows
        Sent once to every worker (its host arrays; each worker puts them on its device).
    members, training, stopping
        As :func:`kerasnet.path.engine.fit_members`.
    n_chunks : int or None, default None
        Number of chunks; None uses the cluster's total worker threads (at most one
        chunk per member).
    callback : callable or None
        Called once, when every chunk is done, as ``callback(last_epoch, logs)`` (the
        per-epoch progress of remote chunks is not streamed back).

    Returns
    -------
    (weights, MemberFit)

    Examples
    --------
    >>> client = "tcp://scheduler-host:8786"
    >>> weights, fit = fit_members_on_cluster(client, model, rows, members, training)  # doctest: +SKIP
    """
    K = members.K
    # Pin the choice the engine would otherwise make per call, so that every chunk agrees.
    if training.seed is None:
        training = training.replace(seed=int(np.random.default_rng().integers(2**31)))
    client, owned = get_client(scheduler)
    try:
        if n_chunks is None:
            n_chunks = sum(client.nthreads().values()) or 1
        if isinstance(n_chunks, bool) or not isinstance(n_chunks, (int, np.integer)) or n_chunks < 1:
            raise ValueError(f"n_chunks must be a positive integer or None; received n_chunks={n_chunks!r}.")
        chunks = _chunks(K, int(n_chunks), members.stop_groups)
        # hash=False: content-hashed keys would let a second fit on the same data (fit_path's
        # refit) reuse keys the first fit is releasing, and Dask cancels it for lost data.
        [rows_remote] = client.scatter([rows], broadcast=True, hash=False)
        model_bytes = pickle.dumps(model)
        futures = [client.submit(_fit_chunk, model_bytes, rows_remote, members.take(chunk), training,
                                 stopping, pure=False)
                   for chunk in chunks]
        results = client.gather(futures)
    finally:
        if owned:
            client.close()

    weights = [w for chunk_weights, _ in results for w in chunk_weights]
    fit = engine.MemberFit.concat([f for _, f in results])
    if callback is not None:
        callback(fit.loss.shape[0] - 1, {"loss": fit.loss[-1], "running": np.zeros(K, bool)})
    return weights, fit
