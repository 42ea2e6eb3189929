"""Dask: a member fit split across a LocalCluster's workers equals the local fit."""

import importlib

import numpy as np
import pytest
from sklearn.datasets import make_classification

from kerasnet.models import mlp
from kerasnet.path.engine import fit_members as fit_members_local
from kerasnet.path.members import MemberSpec, Training
from kerasnet.path.rows import Rows
from kerasnet.path.stopping import StoppingRule

distributed = pytest.importorskip("dask.distributed")

from kerasnet import distributed as kd  # noqa: E402
from kerasnet.path import distributed as kpd  # noqa: E402


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


def _model(d, hidden=(6,)):
    return mlp(d, 1, hidden, "binary", seed=0)  # unpenalized: the strengths are the members'


def _members(X, K, n_folds=3, stop_groups=False):
    n = len(X)
    fold = np.arange(n) % n_folds
    member_fold = np.tile(np.arange(n_folds), K // n_folds)
    train = np.stack([fold != f for f in member_fold])
    l1 = np.repeat(np.geomspace(0.1, 1e-4, K // n_folds), n_folds)
    # Each member standardizes with its own training rows, split with the members.
    scaling = (np.stack([X[t].mean(0) for t in train]), np.stack([X[t].std(0) for t in train]), None, None)
    groups = np.repeat(np.arange(K // n_folds), n_folds) if stop_groups else None
    return MemberSpec.of(l1, l1 / 2, train=train, val=~train, streams=member_fold, scaling=scaling,
                         stop_groups=groups)


def _assert_same_fit(remote, local, proximal=False):
    (w_remote, fit_remote), (w_local, fit_local) = remote, local
    assert len(w_remote) == len(w_local)
    for member_remote, member_local in zip(w_remote, w_local, strict=True):
        for b, a in zip(member_remote, member_local, strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
            if proximal:
                np.testing.assert_array_equal(b == 0, a == 0)
    np.testing.assert_array_equal(fit_remote.best_epoch, fit_local.best_epoch)
    np.testing.assert_array_equal(fit_remote.chosen_epoch, fit_local.chosen_epoch)
    np.testing.assert_array_equal(fit_remote.epochs_trained, fit_local.epochs_trained)
    np.testing.assert_array_equal(fit_remote.diverged, fit_local.diverged)
    np.testing.assert_allclose(fit_remote.best_val_loss, fit_local.best_val_loss, rtol=1e-6)
    np.testing.assert_allclose(fit_remote.val_loss, fit_local.val_loss, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(fit_remote.val_objective, fit_local.val_objective, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(fit_remote.loss, fit_local.loss, rtol=1e-5, equal_nan=True)
    # Validation outputs: chunks are padded to the widest one; padding is never valid.
    (i_remote, o_remote, v_remote), (i_local, o_local, v_local) = (fit_remote.val_outputs,
                                                                   fit_local.val_outputs)
    V = v_local.shape[1]
    np.testing.assert_array_equal(v_remote[:, :V], v_local)
    assert not v_remote[:, V:].any()
    np.testing.assert_array_equal(i_remote[:, :V][v_local], i_local[v_local])
    np.testing.assert_allclose(o_remote[:, :V][v_local], o_local[v_local], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("proximal", [False, True])
def test_split_fit_equals_local_fit(client, data, proximal):
    X, y = data
    K = 12
    rows, members = Rows.prepare(X, y), _members(X, K)
    training = Training("binary_crossentropy", epochs=40, batch_size=16, learning_rate=0.05,
                        proximal=proximal, seed=7, outputs=True)
    stopping = StoppingRule(patience=2)
    local = fit_members_local(_model(X.shape[1]), rows, members, training, stopping)
    remote = kd.fit_members_on_cluster(client, _model(X.shape[1]), rows, members, training, stopping,
                                       n_chunks=4)
    _assert_same_fit(remote, local, proximal)
    # Early stopping did act, so chunks really stopped at different epochs.
    assert len(set(local[1].epochs_trained)) > 1


def test_chunks_keep_cross_fit_groups_together(client, data):
    # Cross-fit early stopping reads a strength's other folds: 5 chunks of 4 groups of 3 folds
    # must not cut a group (else a member would stop on fewer folds' curve than locally).
    X, y = data
    K = 12
    rows, members = Rows.prepare(X, y), _members(X, K, stop_groups=True)
    training = Training("binary_crossentropy", epochs=40, batch_size=16, learning_rate=0.05, seed=7,
                        outputs=True)
    stopping = StoppingRule(patience=2)
    local = fit_members_local(_model(X.shape[1]), rows, members, training, stopping)
    remote = kd.fit_members_on_cluster(client, _model(X.shape[1]), rows, members, training, stopping,
                                       n_chunks=5)
    _assert_same_fit(remote, local)
    groups = members.stop_groups
    assert (local[1].chosen_epoch != local[1].best_epoch).any()  # the group curve, not the member's own
    for g in range(K // 3):  # a group's members share their all-folds chosen epoch
        assert len(set(local[1].chosen_epoch[groups == g])) == 1
    chunks = kpd._chunks(K, 5, groups)
    assert len(chunks) == 4 and all(len(set(groups[c])) == 1 for c in chunks)


def test_scheduler_address_string(client, data):
    X, y = data
    training = Training("binary_crossentropy", epochs=2, seed=0)
    weights, fit = kd.fit_members_on_cluster(client.scheduler.address, _model(X.shape[1]), Rows.prepare(X, y),
                                             MemberSpec.of([0.0] * 3), training)
    assert fit.loss.shape == (2, 3) and len(weights) == 3


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
    # fit_path's member fits (no scheduler: the local engine) sent to the cluster instead, in 3 chunks.
    from kerasnet.path import fit_path

    stages = importlib.import_module("kerasnet.path.stages")  # where fit_path's stages call the local engine
    calls = []

    def remote_fit_members(model, rows, members, training, stopping=None, callback=None):
        calls.append(members.l1.shape)
        return kd.fit_members_on_cluster(client, model, rows, members, training, stopping, n_chunks=3,
                                         callback=callback)

    X, y = data
    local = fit_path(X, y, **_path_kwargs())
    monkeypatch.setattr(stages, "fit_members", remote_fit_members)
    remote = fit_path(X, y, **_path_kwargs())
    # The CV fit (4 strengths x 3 folds) and the refit went to the cluster, as did the grid's probe,
    # any extension of its bottom and the linear baseline (every fit_members call was patched).
    assert (12,) in calls and (4,) in calls and len(calls) >= 2
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
    # The scheduler records every task it ran: the path's member fits must be among them.
    from kerasnet.sklearn import ElasticNetMLPClassifierCV

    X, y = data
    params = dict(hidden_layer_sizes=(4,), n_lambdas=2, cv=2, max_iter=3, random_state=0)
    with distributed.get_task_stream(client) as local_tasks:
        ElasticNetMLPClassifierCV(**params).fit(X, y)
    assert not local_tasks.data
    with distributed.get_task_stream(client) as tasks:
        ElasticNetMLPClassifierCV(**params, scheduler=client).fit(X, y)
    chunks = [t for t in tasks.data if "_fit_chunk" in str(t["key"])]
    # The member fits (the probe, CV, refit, the linear baseline), each cut into one chunk per worker thread.
    threads = sum(client.nthreads().values())
    assert len(chunks) >= 2 * threads and len(chunks) % threads == 0
    assert {t["worker"] for t in chunks} <= set(client.scheduler_info()["workers"])
