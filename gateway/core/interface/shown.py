"""What a phone may see of the event log: which rows (``hidden_codes``) and what of each (``event_line``).

The one rule for STATUS and EVENTS. A duress login must leave nothing a phone can see that a normal
login would not (the person holding the phone may be the one forcing it), and a phone never reads
what another person wrote.
"""

from __future__ import annotations

from gateway.config import Interface
from gateway.model import LogRow

COMMENT_CHARS = 40


def hidden_codes(config: Interface) -> list[str]:
    """The codes a phone never sees: the interface's authentication rows (duress, wrong PIN, lockout,
    expired PIN: the central station's audit, not a phone's) and ``interface.hidden_codes``."""
    codes = config.codes
    return sorted({codes.duress, codes.failed_pin, codes.lockout, codes.expired_pin, *config.hidden_codes})


def alarm_row(row: LogRow) -> bool:
    """A row about an alarm that names no one: the alarm itself (its text and zone are the alarm's) and
    the gateway's notes on it. Rows naming a contact, a number or a verification may hold a person's text."""
    return bool(row.event_id) and row.contact_id is None and row.phone is None and row.verification_id is None


def event_line(row: LogRow, when: str) -> str:
    """One EVENTS line: the time, the code, and for an alarm's own row its zone and text."""
    line = f"{when} {row.code}"
    if not alarm_row(row):
        return line
    zone = (row.details or {}).get("zone")
    if zone:
        line += f" zone {zone}"
    return line + (f" {row.comment[:COMMENT_CHARS].rstrip()}" if row.comment else "")
