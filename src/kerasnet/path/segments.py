"""Which members run which steps of a pass: leave out members with nothing to do.

A pass runs every stacked member for every step, and a member without rows in a step (a
stopped member, or a fold member after its last batch while the refits, with more rows,
go on) is computed and thrown away. When that waste is large, the pass is cut into at most
two segments of steps, each run on the members active in it (gathered into a smaller
stack, then put back): for instance 96 members for a fold's steps, then the 16 refits for
their extra fifth.

Each new stack width and segment length is a new program to compile on JAX, so a cut is
made only where it saves more arithmetic than a compilation costs (:data:`COMPILE_FLOPS`),
or where its shapes were compiled before. Widths are rounded up to eighths of the member
count so few shapes ever arise. With buckets (:mod:`kerasnet.path.buckets`) a call's steps are
also padded, with empty steps nobody trains in, to :func:`~kerasnet.path.buckets.bucket` of
its length, and a sub-stack goes back at its rounded width (its padding copies at index ``K``,
which JAX's scatter drops).
"""

from __future__ import annotations

import numpy as np
from keras import ops

from .buckets import bucket
from .device import to_device
from .step import MemberSettings

__all__ = ["COMPILE_FLOPS", "Work", "padded", "plan", "run_pass", "width"]

#: Arithmetic worth one compilation: about a second of this engine's throughput on a CPU.
COMPILE_FLOPS = 5e10


def width(count, K):
    """The width of a stack of ``count`` of ``K`` members: ``count`` rounded up to eighths of ``K``."""
    quantum = max(1, -(-K // 8))
    return min(K, -(-count // quantum) * quantum)


def _members(active):
    return np.flatnonzero(active.any(axis=0))


def plan(active, flops_per_member_step, compiled, repeats=1, rounded=None):
    """Segments ``[(start, stop, members)]`` covering the steps of ``active [S, K]``.

    ``members`` are the indices of the members to run (None: all, the plain pass);
    ``compiled`` is a set of ``(steps, width)`` already compiled, updated here;
    ``repeats``: how many more passes are likely to take the same cut (the epochs left),
    over which one compilation is paid back; ``rounded(steps)``: the steps a call of
    ``steps`` compiles for (its bucket; None: the same).
    """
    rounded = rounded or (lambda steps: steps)
    S, K = active.shape
    options = [[(0, S, None)]]
    everyone = _members(active)
    if len(everyone) and width(len(everyone), K) < K:
        options.append([(0, S, everyone)])
    counts = active.sum(axis=1)
    for s in np.flatnonzero(np.diff(counts) < 0) + 1:  # where members run out of rows
        head, tail = _members(active[:s]), _members(active[s:])
        if len(head) and len(tail):
            options.append([(0, s, head), (s, S, tail)])

    def cost(option):
        return sum((b - a) * (K if m is None else width(len(m), K)) for a, b, m in option)

    def new_shapes(option):
        return {(rounded(b - a), width(len(m), K)) for a, b, m in option if m is not None} - compiled

    def worth(option):
        saved = (cost(options[0]) - cost(option)) * flops_per_member_step * max(1, repeats)
        return saved > 0 and (not new_shapes(option) or saved > COMPILE_FLOPS * len(new_shapes(option)))

    best = min((o for o in options if o is options[0] or worth(o)), key=cost)
    compiled |= new_shapes(best)
    return best


def padded(members, K):
    """``members`` padded to their rounded width with copies of the first (run inactive)."""
    extra = width(len(members), K) - len(members)
    return np.concatenate([members, np.full(extra, members[0])]).astype("int32")


class Work:
    """What :func:`_run_pass` needs besides the batches: FLOPs of one member's step (6 per
    weight per row), each member's group, the shapes already compiled, and whether a call's
    steps are padded to a bucket (``rounded``: :mod:`kerasnet.path.buckets`)."""

    def __init__(self, flops, group, rounded=False):
        self.flops, self.group, self.rounded = flops, group, bool(rounded)
        self.group_t = to_device(group.astype("int32"))
        self.compiled = set()

    def steps(self, count):
        """The steps of a call of ``count`` steps: its bucket when ``rounded``."""
        return bucket(count) if self.rounded else count


def _steps_padded(work, idx, pad, active):
    """``idx``, ``pad`` and ``active`` with empty steps (no rows, nobody active) up to the bucket."""
    extra = work.steps(len(idx)) - len(idx)
    if extra <= 0:
        return idx, pad, active
    more = lambda a: np.concatenate([a, np.zeros((extra,) + a.shape[1:], a.dtype)])  # noqa: E731
    return more(idx), more(pad), more(active)


def run_pass(runner, state, data, idx, pad, active, settings, group, work, repeats):
    """One pass over a chunk's steps; members without rows in a stretch of steps are left
    out of it where that saves enough (:mod:`kerasnet.path.segments`). Returns the state
    and each member's objective per step ``[S, K]`` (NaN where not run)."""
    S, K = active.shape
    totals = np.full((S, K), np.nan, "float32")
    for a, b, members in plan(active, work.flops, work.compiled, repeats, work.steps):
        if members is None:
            steps = _steps_padded(work, idx[a:b], pad[a:b], active[a:b].astype("float32"))
            state, part = runner.epoch(state, data, *(to_device(s) for s in steps), settings, work.group_t)
            totals[a:b] = np.asarray(ops.convert_to_numpy(part))[:b - a]
            continue
        index = padded(members, K)
        sub_active = active[a:b][:, index].astype("float32")
        sub_active[:, len(members):] = 0.0  # the padding copies do not train
        index_t = to_device(index)
        sub_settings = MemberSettings(*[None if p is None else ops.take(p, index_t, axis=0)
                                        for p in settings])
        steps = _steps_padded(work, idx[a:b], pad[a:b], sub_active)
        sub, part = runner.epoch(runner.take(state, index_t), data, *(to_device(s) for s in steps),
                                 sub_settings, to_device(group[index].astype("int32")))
        at = members
        if work.rounded:  # one shape per width: the padding copies are put at K, which JAX's scatter drops
            at = np.concatenate([members, np.full(len(index) - len(members), K)])
        state = runner.put(state, to_device(at.astype("int32")), sub)
        totals[a:b, members] = np.asarray(ops.convert_to_numpy(part))[:b - a, :len(members)]
    return state, totals
