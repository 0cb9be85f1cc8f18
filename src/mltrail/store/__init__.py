"""Storage: one ``Store`` interface with a SQLAlchemy implementation, and content-addressed blobs."""

from mltrail.store.base import Store

__all__ = ["Store"]
