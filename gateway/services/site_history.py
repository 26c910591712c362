"""A site's event history as the console shows it: newest first, one row per notification sent.

As in stages' history, the rows that sent a text (an alarm verification or a Dispatch SMS, one row
per recipient in the event log) show as one "sent" row whose notification opens the recipients and
the exact text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gateway.model import LogRow
from gateway.stores import Store

LIMIT = 200  # event-log rows read for one page of history


@dataclass
class HistoryRow:
    at: datetime
    code: str
    comment: str | None
    contacts: list[str]  # who the row is about (each recipient of a notification)
    notification: tuple[str, str] | None = None  # ("verification" | "dispatch", its id)
    rows: list[LogRow] = field(default_factory=list)


def notification_of(row: LogRow) -> tuple[str, str] | None:
    """The notification a row sent a text for: rows that name a recipient are the sent ones."""
    details = row.details or {}
    if details.get("recipient") is None:
        return None
    if details.get("dispatch_id"):
        return ("dispatch", details["dispatch_id"])
    return ("verification", row.verification_id) if row.verification_id else None


async def site_history(store: Store, site_id: str, limit: int = LIMIT) -> list[HistoryRow]:
    """The site's last ``limit`` rows, newest first, the rows of one notification folded into one."""
    names = {c.id: c.name for c in await store.list_contacts(site_id)}
    history: list[HistoryRow] = []
    for row in await store.recent_events(site_id, limit):
        key = notification_of(row)
        name = (row.details or {}).get("recipient") or names.get(row.contact_id)
        last = history[-1] if history else None
        if key is not None and last is not None and last.notification == key and last.code == row.code:
            last.contacts.insert(0, name or "")
            last.rows.insert(0, row)
            last.at = row.at
            continue
        history.append(HistoryRow(at=row.at, code=row.code, comment=row.comment, contacts=[name] if name else [],
                                  notification=key, rows=[row]))
    return history
