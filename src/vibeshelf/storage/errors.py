"""The errors of stored data: a store or build that is missing, damaged or unreachable."""

from __future__ import annotations


class StoreError(RuntimeError):
    """A vector store is missing, unreadable or unreachable."""


class StorageError(RuntimeError):
    """A database (interactions, feedback) is unreachable or a source is missing."""
