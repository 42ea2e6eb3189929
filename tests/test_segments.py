"""Leaving members without rows out of a pass changes nothing but the work done."""

import numpy as np
import pytest

import kerasnet
from kerasnet.path import segments
from kerasnet.path.engine import fit_members
from kerasnet.path.members import MemberSpec, Training
from kerasnet.path.rows import Rows
from kerasnet.path.stopping import StoppingRule


def test_plan_cuts_the_tail_where_members_run_out_of_rows():
    active = np.zeros((10, 16), bool)
    active[:8, :12] = True  # fold members: 8 steps
    active[:, 12:] = True  # refits: 10 steps
    plan = segments.plan(active, flops_per_member_step=1e12, compiled=set())
    assert [(a, b) for a, b, _ in plan] == [(0, 8), (8, 10)]
    assert plan[0][2] is not None and len(plan[0][2]) == 16
    np.testing.assert_array_equal(plan[1][2], np.arange(12, 16))
    # Not worth a compilation: the plain pass.
    assert segments.plan(active, flops_per_member_step=1.0, compiled=set()) == [(0, 10, None)]
    # Stopped members are left out of the whole pass.
    active[:, :6] = False
    plan = segments.plan(active, flops_per_member_step=1e12, compiled=set())
    assert set(np.concatenate([m for _, _, m in plan])) <= set(range(6, 16))
    np.testing.assert_array_equal(segments.padded(np.array([3, 5, 7]), 16), [3, 5, 7, 3])


@pytest.mark.backend
@pytest.mark.parametrize("early_stopping", [False, True])
def test_segmented_passes_train_the_same_members(monkeypatch, early_stopping):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)).astype("float32")
    y = (X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=300) > 0).astype("float32")
    folds = np.arange(300) % 3
    # Three folds and a refit on all rows per strength: the refit has a fifth more batches.
    train = np.stack([folds != f for f in range(3)] + [np.ones(300, bool)])
    val = np.stack([folds == f for f in range(3)] + [np.zeros(300, bool)])
    of = np.tile(np.arange(4), 3)
    rows = Rows.prepare(X, y)
    members = MemberSpec.of(np.repeat([1e-1, 1e-2, 1e-4], 4), train=(train, of), val=(val, of), streams=of,
                            max_epochs=np.tile([6, 6, 6, 2], 3))
    training = Training("binary_crossentropy", epochs=6, batch_size=16, seed=0)
    stopping = StoppingRule(patience=1) if early_stopping else None

    plan = segments.plan

    def run(compile_flops):
        monkeypatch.setattr(segments, "COMPILE_FLOPS", compile_flops)
        calls = []
        monkeypatch.setattr(segments, "plan", lambda *a: calls.append(p := plan(*a)) or p)
        weights, fit = fit_members(kerasnet.mlp(4, 1, (5,), "binary", seed=0), rows, members, training,
                                   stopping)
        return weights, fit, calls

    whole_w, whole, plain = run(np.inf)
    cut_w, cut, calls = run(0.0)
    assert all(p == [(0, p[0][1], None)] for p in plain)
    assert any(len(p) == 2 or p[0][2] is not None for p in calls)  # some pass was cut
    for a, b in zip(whole_w, cut_w, strict=True):
        for u, v in zip(a, b, strict=True):
            np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cut.loss, whole.loss, rtol=1e-5)
    np.testing.assert_array_equal(cut.best_epoch, whole.best_epoch)
    np.testing.assert_array_equal(cut.epochs_trained, whole.epochs_trained)
