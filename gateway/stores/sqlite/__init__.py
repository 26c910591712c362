"""The ``sqlite`` engine: its connector and its one-daemon-per-file lock."""

from __future__ import annotations

from gateway.stores.sqlite.connector import SQLiteConnector

__all__ = ["SQLiteConnector"]
