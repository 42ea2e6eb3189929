"""Search more than the strength: a space of network settings cross-validated in one stacked fit."""

from .fit import search
from .result import SearchResult
from .space import Config

__all__ = ["Config", "SearchResult", "search"]
