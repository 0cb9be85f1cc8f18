"""Alembic migrations of the SQL store's schema; ``store.factory`` runs them with a programmatic config."""
