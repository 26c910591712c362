"""Every query the SQLite engine runs, loaded from sql/sqlite/queries.sql, and the parameters and
writes the engine's modules share."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosql
import msgspec

from gateway.clock import isoformat
from gateway.model import InterfaceState, LogEntry, Notification
from gateway.stores.records import OutboxItem

SQL_DIR = Path(__file__).parent.parent / "sql" / "sqlite"
QUERIES = aiosql.from_path(SQL_DIR / "queries.sql", "aiosqlite", mandatory_parameters=False)
# The same queries for plain sqlite3 connections: what runs inside a group-commit batch.
SYNC_QUERIES = aiosql.from_path(SQL_DIR / "queries.sql", "sqlite3", mandatory_parameters=False)


def _t(moment: datetime | None) -> str | None:
    return isoformat(moment) if moment is not None else None


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _log_params(entries: Sequence[LogEntry]) -> list[dict[str, Any]]:
    return [{"at": _t(e.at), "code": e.code, "site_id": e.site_id, "contact_id": e.contact_id, "phone": e.phone,
             "verification_id": e.verification_id, "event_id": e.event_id, "comment": e.comment,
             "details": _json(e.details) if e.details else None, "trace_id": e.trace_id}
            for e in entries]


def _notification_params(notifications: Sequence[Notification]) -> list[dict[str, Any]]:
    return [{"event_type": n.event_type, "data": _json(n.data), "created_at": _t(n.at)}
            for n in notifications]


def _interface_state_params(state: InterfaceState, now: str) -> dict[str, Any]:
    return dict(
        phone=state.phone, session_contact_id=state.session_contact_id,
        session_expires_at=_t(state.session_expires_at), session_duress=int(state.session_duress),
        failures=state.failures, failures_since=_t(state.failures_since), locked_until=_t(state.locked_until),
        pending_command=state.pending_command, pending_until=_t(state.pending_until), replies=state.replies,
        replies_since=_t(state.replies_since), muted_until=_t(state.muted_until), updated_at=now,
    )


def _recipient_failed(conn: sqlite3.Connection, item: OutboxItem, error: str, now: datetime) -> None:
    """Mark the recipient of ``item`` failed; when nobody of its verification is left, the verification
    fails too and subscribers hear ``verification.failed``."""
    q = SYNC_QUERIES
    q.recipient_sent(conn, verification_id=item.verification_id, contact_id=item.contact_id, status="failed",
                     channel=item.channel, error=error)
    if q.verification_all_failed(conn, verification_id=item.verification_id)[0]:
        for row in q.verification_failed(conn, verification_id=item.verification_id):
            q.insert_webhook_events(conn, _notification_params([Notification(
                event_type="verification.failed", at=now, data={
                    "verification_id": row["id"], "event_id": row["event_id"], "site_id": row["site_id"],
                    "reason": error, "failed_at": isoformat(now)})]))

