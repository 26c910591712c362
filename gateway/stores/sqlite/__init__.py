"""The SQLite engine: WAL mode through aiosqlite, every query in sql/sqlite/queries.sql.

Writes go through one connection: the hot ones (``commit``, the sender's marks) as group
commits (gateway/stores/groupcommit.py), the rest as one-off transactions under the same
lock. Reads use a second connection, which in WAL mode never waits for a writer and only
sees committed rows.

``SQLiteStore`` is composed of one class per area of ``Store``, each in the module named like
its interface in gateway/stores/base/; all build on ``SQLiteEngine`` (engine.py).
"""

from __future__ import annotations

from gateway.stores.base import Store
from gateway.stores.sqlite.engine import SQLiteEngine
from gateway.stores.sqlite.events import SQLiteEvents
from gateway.stores.sqlite.outbox import SQLiteOutbox
from gateway.stores.sqlite.partner import SQLitePartner
from gateway.stores.sqlite.phones import SQLitePhones
from gateway.stores.sqlite.sites import SQLiteSites


class SQLiteStore(SQLiteSites, SQLiteOutbox, SQLiteEvents, SQLitePartner, SQLitePhones, SQLiteEngine, Store):
    """The ``sqlite`` engine (``sqlite:///PATH``)."""


__all__ = ["SQLiteStore"]
