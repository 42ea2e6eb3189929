"""Dask: a stacked fit split across a LocalCluster's workers equals the local fit."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from kerasnet.models import mlp
from kerasnet.stack import StackedMLP
from kerasnet.stack import fit_stack as fit_stack_local

distributed = pytest.importorskip("dask.distributed")

from kerasnet import distributed as kd  # noqa: E402


@pytest.fixture(scope="module")
def client():
    # Two worker processes on the loopback interface, as a real cluster has separate processes.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(90, 5, n_informative=3, random_state=0)
    return X.astype("float32"), y


def _stack(K, d, hidden=(6,)):
    model = StackedMLP(K, d, 1, hidden, "binary")
    init = mlp(d, 1, hidden, "binary", seed=0).get_weights()
    for var, w in zip(model.trainable_variables, init, strict=True):
        var.assign(np.broadcast_to(w, (K,) + w.shape))
    return model


def _members(n, K, n_folds=3):
    fold = np.arange(n) % n_folds
    member_fold = np.tile(np.arange(n_folds), K // n_folds)
    train = np.stack([fold != f for f in member_fold])
    l1 = np.repeat(np.geomspace(0.1, 1e-4, K // n_folds), n_folds)
    return dict(l1=l1, l2=l1 / 2, train_mask=train, val_mask=~train, streams=member_fold)


@pytest.mark.parametrize("proximal", [False, True])
def test_split_fit_equals_local_fit(client, data, proximal):
    X, y = data
    K = 12
    kwargs = dict(
        _members(len(y), K),
        epochs=40,
        batch_size=16,
        learning_rate=0.05,
        patience=2,
        proximal=proximal,
        seed=7,
    )
    local, remote = _stack(K, X.shape[1]), _stack(K, X.shape[1])
    fit_local = fit_stack_local(local, X, y, **kwargs)
    fit_remote = kd.fit_stack(remote, X, y, scheduler=client, n_chunks=4, **kwargs)
    for a, b in zip(local.trainable_variables, remote.trainable_variables, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-6)
        if proximal:
            np.testing.assert_array_equal(np.asarray(b) == 0, np.asarray(a) == 0)
    np.testing.assert_array_equal(fit_remote.best_epoch, fit_local.best_epoch)
    np.testing.assert_array_equal(fit_remote.epochs_trained, fit_local.epochs_trained)
    np.testing.assert_allclose(fit_remote.best_val_score, fit_local.best_val_score, rtol=1e-6)
    np.testing.assert_allclose(fit_remote.val_loss, fit_local.val_loss, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(fit_remote.loss, fit_local.loss, rtol=1e-5, equal_nan=True)
    # Early stopping did act, so chunks really stopped at different epochs.
    assert len(set(fit_local.epochs_trained)) > 1


def test_scheduler_address_string(client, data):
    X, y = data
    model = _stack(3, X.shape[1])
    fit = kd.fit_stack(model, X, y, l1=0.0, l2=0.0, epochs=2, seed=0, scheduler=client.scheduler.address)
    assert fit.loss.shape == (2, 3)


def test_bad_scheduler_names_argument():
    with pytest.raises(ValueError, match="scheduler"):
        kd.get_client(42)


def test_missing_dask_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import now fails
    with pytest.raises(ImportError, match=r"kerasnet\[dask\]"):
        kd.get_client("tcp://127.0.0.1:8786")


def test_gridsearch_under_joblib_dask_backend(client, data):
    import joblib
    from sklearn.model_selection import GridSearchCV

    from kerasnet.sklearn import ElasticNetMLPClassifier

    X, y = data
    est = ElasticNetMLPClassifier((8,), max_iter=10, learning_rate_init=0.01, random_state=0)
    grid = {"l1": [1e-4, 1e-1]}
    local = GridSearchCV(est, grid, cv=2).fit(X, y)
    with joblib.parallel_backend("dask"):
        remote = GridSearchCV(est, grid, cv=2, n_jobs=-1).fit(X, y)
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    assert remote.best_params_ == local.best_params_


def _path_kwargs():
    return dict(
        hidden=(6,),
        n_lambdas=4,
        cv=3,
        epochs=12,
        batch_size=16,
        learning_rate=0.01,
        patience=3,
        seed=3,
        verbose=0,
    )


def test_fit_path_through_distributed_equals_local(client, data, monkeypatch):
    # fit_path's local stacked fits swapped for kerasnet.distributed's, in 3 chunks of members.
    import functools

    import kerasnet.path as kpath

    X, y = data
    local = kpath.fit_path(X, y, **_path_kwargs())
    monkeypatch.setattr(kpath, "fit_stack", functools.partial(kd.fit_stack, scheduler=client, n_chunks=3))
    remote = kpath.fit_path(X, y, **_path_kwargs())
    _assert_same_path(remote, local)


def _assert_same_path(remote, local):
    np.testing.assert_array_equal(remote.lambdas_, local.lambdas_)
    np.testing.assert_allclose(remote.cv_mean_, local.cv_mean_, rtol=1e-6)
    np.testing.assert_array_equal(remote.best_epoch_, local.best_epoch_)
    assert (remote.lambda_min_, remote.lambda_1se_) == (local.lambda_min_, local.lambda_1se_)
    for a, b in zip(remote.weights_, local.weights_, strict=True):
        for wa, wb in zip(a, b, strict=True):
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


def test_fit_path_scheduler_argument(client, data):
    from kerasnet.path import fit_path

    X, y = data
    remote = fit_path(X, y, **_path_kwargs(), scheduler=client)
    _assert_same_path(remote, fit_path(X, y, **_path_kwargs()))


def test_cv_estimator_scheduler_equals_local(client, data):
    from kerasnet.sklearn import ElasticNetMLPClassifierCV

    X, y = data
    params = dict(
        hidden_layer_sizes=(6,), n_lambdas=3, cv=3, max_iter=10, learning_rate_init=0.01, random_state=0
    )
    local = ElasticNetMLPClassifierCV(**params).fit(X, y)
    remote = ElasticNetMLPClassifierCV(**params, scheduler=client).fit(X, y)
    assert remote.lambda_ == local.lambda_
    np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_fit_path_regression_scheduler_equals_local(client):
    # Regression members carry their own target statistics (y_mean, y_scale), split with them.
    from sklearn.datasets import make_regression

    from kerasnet.path import fit_path

    X, y = make_regression(90, 5, n_informative=3, noise=5.0, bias=40.0, random_state=0)
    X, y = X.astype("float32"), 3.0 * y
    remote = fit_path(X, y, **_path_kwargs(), scheduler=client)
    local = fit_path(X, y, **_path_kwargs())
    assert remote.task == "regression"
    _assert_same_path(remote, local)
    np.testing.assert_allclose(remote.y_mean_, local.y_mean_)
    np.testing.assert_allclose(remote.predict(X, "min"), local.predict(X, "min"), rtol=1e-5, atol=1e-4)


def test_cv_estimator_runs_its_path_on_the_cluster(client, data):
    # The scheduler records every task it ran: the path's stacked fits must be among them.
    from kerasnet.sklearn import ElasticNetMLPClassifierCV

    X, y = data
    params = dict(hidden_layer_sizes=(4,), n_lambdas=2, cv=2, max_iter=3, random_state=0)
    with distributed.get_task_stream(client) as local_tasks:
        ElasticNetMLPClassifierCV(**params).fit(X, y)
    assert not local_tasks.data
    with distributed.get_task_stream(client) as tasks:
        ElasticNetMLPClassifierCV(**params, scheduler=client).fit(X, y)
    chunks = [t for t in tasks.data if "_fit_chunk" in str(t["key"])]
    # Two stacked fits (CV, then refit), each cut into one chunk per worker thread.
    assert len(chunks) == 2 * sum(client.nthreads().values())
    assert {t["worker"] for t in chunks} <= set(client.scheduler_info()["workers"])
