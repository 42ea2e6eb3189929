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
count so few shapes ever arise.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COMPILE_FLOPS", "plan"]

#: Arithmetic worth one compilation: about a second of this engine's throughput on a CPU.
COMPILE_FLOPS = 5e10


def _width(count, K):
    quantum = max(1, -(-K // 8))
    return min(K, -(-count // quantum) * quantum)


def _members(active):
    return np.flatnonzero(active.any(axis=0))


def plan(active, flops_per_member_step, compiled, repeats=1):
    """Segments ``[(start, stop, members)]`` covering the steps of ``active [S, K]``.

    ``members`` are the indices of the members to run (None: all, the plain pass);
    ``compiled`` is a set of ``(steps, width)`` already compiled, updated here;
    ``repeats``: how many more passes are likely to take the same cut (the epochs left),
    over which one compilation is paid back.
    """
    S, K = active.shape
    options = [[(0, S, None)]]
    everyone = _members(active)
    if len(everyone) and _width(len(everyone), K) < K:
        options.append([(0, S, everyone)])
    counts = active.sum(axis=1)
    for s in np.flatnonzero(np.diff(counts) < 0) + 1:  # where members run out of rows
        head, tail = _members(active[:s]), _members(active[s:])
        if len(head) and len(tail):
            options.append([(0, s, head), (s, S, tail)])

    def cost(option):
        return sum((b - a) * (K if m is None else _width(len(m), K)) for a, b, m in option)

    def new_shapes(option):
        return {(b - a, _width(len(m), K)) for a, b, m in option if m is not None} - compiled

    def worth(option):
        saved = (cost(options[0]) - cost(option)) * flops_per_member_step * max(1, repeats)
        return saved > 0 and (not new_shapes(option) or saved > COMPILE_FLOPS * len(new_shapes(option)))

    best = min((o for o in options if o is options[0] or worth(o)), key=cost)
    compiled |= new_shapes(best)
    return best


def padded(members, K):
    """``members`` padded to their rounded width with copies of the first (run inactive)."""
    width = _width(len(members), K)
    return np.concatenate([members, np.full(width - len(members), members[0])]).astype("int32")
