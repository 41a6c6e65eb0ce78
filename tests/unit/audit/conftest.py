"""Audit store tests run once on SQLite and once on PostgreSQL (fixtures in ``kit/sql.py``)."""

from __future__ import annotations

from kit.sql import pg_database_url, store_url

__all__ = ["pg_database_url", "store_url"]
