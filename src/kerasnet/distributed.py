"""Dask execution of the path's fits: see :mod:`kerasnet.path.distributed`.

Dask is an optional extra: ``pip install 'kerasnet[dask]'``.
"""

from .path.distributed import fit_members_on_cluster, get_client

__all__ = ["fit_members_on_cluster", "get_client"]
