"""The per-member runner: the member step for one member and one batch at a time.

Every backend's fallback (a model ``vmap`` cannot run) and the reference the vectorized runners
are tested against.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from .stacked import member, put, select, stack, take

__all__ = ["LoopRunner"]


class LoopRunner:
    """The per-member fallback: the same step, one member and one batch at a time."""

    def __init__(self, step):
        self.step = step
        self.select, self.take, self.put = select, take, put

    def epoch(self, state, data, idx, pad, active, settings, group):
        S, K = active.shape
        members, totals = [], np.full((S, K), np.nan, dtype="float32")
        on = np.asarray(ops.convert_to_numpy(active)) > 0
        group = np.asarray(ops.convert_to_numpy(group))
        for k in range(K):
            s_k, set_k, g = member(state, k), member(settings, k), int(group[k])
            for s in range(S):
                if on[s, k]:  # a skipped step is the identity: do not run it
                    s_k, total = self.step(s_k, data, idx[s, g], pad[s, g], active[s, k], set_k)
                    totals[s, k] = float(ops.convert_to_numpy(total))
            members.append(s_k)
        return stack(members), totals

    def validate(self, state, data, idx, pad, settings):
        parts = [self.step.validate(member(state, k), data, idx[k], pad[k], member(settings, k))
                 for k in range(len(idx))]
        return tuple(ops.stack([p[j] for p in parts]) for j in range(3))
