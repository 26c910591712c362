"""The ``postgres`` engine: its connector (asyncpg with a pool)."""

from __future__ import annotations

from gateway.stores.postgres.connector import PostgresConnector

__all__ = ["PostgresConnector"]
