"""Fixtures for the ledger tests: store tests run once on SQLite and once on PostgreSQL.

The fixtures live in ``kit/sql.py`` so the integration tests use the same ones.
"""

from __future__ import annotations

from kit.sql import pg_database_url, store, store_url

__all__ = ["pg_database_url", "store", "store_url"]
