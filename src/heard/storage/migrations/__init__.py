"""Alembic migrations of heard's schema (run by heard.storage.Database.migrate)."""
