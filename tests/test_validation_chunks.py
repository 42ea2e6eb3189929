"""Validation in chunks of rows gives the numbers of one pass over all rows."""

import numpy as np
import pytest

import kerasnet
from kerasnet.path import validation
from kerasnet.path.engine import fit_members
from kerasnet.path.members import MemberSpec, Training
from kerasnet.path.rows import Rows
from kerasnet.path.stopping import StoppingRule


@pytest.mark.backend
def test_chunked_validation_equals_one_pass(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4)).astype("float32")
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=150) > 0).astype("float32")
    w = rng.uniform(0.5, 2.0, 150).astype("float32")
    val = np.zeros((3, 150), bool)
    val[0, :50], val[1, 50:90], val[2, 90:] = True, True, True  # folds of 50, 40 and 60 rows
    members = MemberSpec.of([1e-3, 1e-2, 0.0], train=~val, val=val)
    training = Training("binary_crossentropy", epochs=4, batch_size=16, seed=0, outputs=True)

    def fit():
        # Rows prepared for each fit: in memory they keep the validation they built (its chunk size).
        rows = Rows.prepare(X, y, sample_weight=w)
        return fit_members(kerasnet.mlp(4, 1, (5,), "binary", seed=0), rows, members, training,
                           StoppingRule(patience=2))

    _, whole = fit()
    monkeypatch.setattr(validation, "CHUNK", 7)  # 60 rows: 9 chunks, the last one padded
    _, chunked = fit()
    np.testing.assert_allclose(chunked.val_loss, whole.val_loss, rtol=1e-5)
    np.testing.assert_array_equal(chunked.best_epoch, whole.best_epoch)
    index, outputs, valid = chunked.val_outputs
    np.testing.assert_array_equal(index, whole.val_outputs[0])
    np.testing.assert_array_equal(valid, whole.val_outputs[2])
    np.testing.assert_allclose(outputs[valid], whole.val_outputs[1][valid], rtol=1e-5, atol=1e-7)
    # The weighted mean by hand, from the outputs of the kept weights, is the recorded loss.
    p = np.clip(outputs[0][valid[0]][:, 0], 1e-7, 1 - 1e-7)
    rows = index[0][valid[0]]
    bce = -(y[rows] * np.log(p) + (1 - y[rows]) * np.log(1 - p))
    kept = chunked.best_epoch[0] - 1
    assert np.sum(w[rows] * bce) / np.sum(w[rows]) == pytest.approx(chunked.val_loss[kept, 0], rel=1e-4)


@pytest.mark.backend
def test_validating_only_the_members_still_training_gives_their_numbers(monkeypatch):
    # Eight members with budgets of 2 to 9 epochs: from epoch 5 at most half train, and only
    # they are validated (gathered); their curves are those of validating everyone.
    from kerasnet.path import engine

    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3)).astype("float32")
    y = (X[:, 0] + 0.5 * rng.normal(size=120) > 0).astype("float32")
    val = np.zeros((2, 120), bool)
    val[0, :60], val[1, 60:] = True, True
    K = 8
    members = MemberSpec.of(np.geomspace(1e-1, 1e-4, K), train=(~val, np.arange(K) % 2),
                            val=(val, np.arange(K) % 2), max_epochs=np.arange(2, 2 + K))
    training = Training("binary_crossentropy", epochs=9, batch_size=16, seed=0)

    def fit():
        network = kerasnet.mlp(3, 1, (4,), "binary", seed=0)
        return fit_members(network, Rows.prepare(X, y), members, training)[1]

    gathered = fit()
    monkeypatch.setattr(engine._Loop, "GATHER_AT", 0.0)  # never gather: validate all K every epoch
    everyone = fit()
    assert np.isnan(gathered.val_loss[-1]).sum() == K - 1  # only the 9-epoch member ran last
    np.testing.assert_allclose(gathered.val_loss, everyone.val_loss, rtol=1e-5)
    np.testing.assert_allclose(gathered.val_objective, everyone.val_objective, rtol=1e-5)
