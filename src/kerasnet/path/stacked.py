"""Members stacked on a leading axis ``K``: one member, a stack of them, and their selections.

The runners (:mod:`kerasnet.path.runners`, :mod:`kerasnet.path.loop_runner`,
:mod:`kerasnet.path.torch_runner`) all take and return member states in this form.
"""

from __future__ import annotations

from keras import ops

from .step import MemberState

__all__ = ["member", "put", "select", "stack", "take"]


def member(tree, k):
    """Member ``k`` of a stacked nest (None fields stay None)."""
    if tree is None:
        return None
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*[member(part, k) for part in tree])
    if isinstance(tree, (list, tuple)):
        return type(tree)(member(part, k) for part in tree)
    return tree[k]


def stack(parts):
    """The inverse of :func:`member`: stack a list of per-member nests on a new axis 0."""
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*[stack([p[i] for p in parts]) for i in range(len(first))])
    if isinstance(first, (list, tuple)):
        return type(first)(stack([p[i] for p in parts]) for i in range(len(first)))
    return ops.stack(parts)


def select(mask, new, old):
    """Per member: ``new`` where ``mask [K]`` else ``old`` (e.g. the kept best weights)."""

    def pick(a, b):
        return ops.where(ops.reshape(mask, (-1,) + (1,) * (len(a.shape) - 1)), a, b)

    return MemberState(*[[pick(a, b) for a, b in zip(pn, po, strict=True)]
                         for pn, po in zip(new, old, strict=True)])


def take(state, index):
    """Members ``index [W]`` of a stacked state, as a stack of ``W``."""
    return MemberState(*[[ops.take(v, index, axis=0) for v in part] for part in state])


def put(state, index, sub):
    """``state`` with members ``index [W]`` replaced by the first ``W`` of the stack ``sub``."""
    rows = ops.expand_dims(index, 1)
    return MemberState(*[[ops.scatter_update(v, rows, s[: index.shape[0]]) for v, s in zip(p, q, strict=True)]
                         for p, q in zip(state, sub, strict=True)])
