"""Reply references: which alarm a contact with several open answers. Pure, no I/O.

Every verification text to a phone holds a reference for that phone: the smallest positive number no
other alarm of that phone holds (the processes of one alarm share one). The reference is shown only
while the contact has more than one alarm open ("Reply YES 2 or NO 2"): one open alarm, and the text
is exactly what the template says. A reference stays held until :data:`HOLD_AFTER_TIMEOUT` after its
verification's timeout, so ``YES 2`` sent just after alarm 2 closed is told so, and never lands on
a newer alarm that took the number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

import msgspec

from gateway.core.keywords import AutoProcess, Keyword, fold
from gateway.core.templates import placeholders
from gateway.model import AlarmEvent, ReplyRef, Site, Verification

HOLD_AFTER_TIMEOUT = timedelta(hours=1)
MAX_REF = 999  # at most 3 digits: a 4-digit number could be a PIN, and is masked as one
CLOSED = ("responded", "expired")
_WITH_REF = re.compile(r"^(.*?\S)\s*#?\s*(\d{1,3})$")


class HeldRef(msgspec.Struct, frozen=True, kw_only=True):  # one per row of every answering text's read
    """A reference a phone holds: the alarm it names and the state of the verification it was given to."""

    ref: int
    alarm_key: str
    verification_id: str
    status: str
    created_at: datetime
    timeout_at: datetime
    site_name: str = ""
    alarm: AlarmEvent | None = None

    def open_at(self, now: datetime) -> bool:
        """Still waiting for an answer at ``now``."""
        return self.status not in CLOSED and self.timeout_at > now


def alarm_key(verification: Verification) -> str:
    """What a reference names: the alarm event (all its processes), else the verification alone."""
    return verification.event_id or verification.id


def choose_ref(held: Sequence[HeldRef], key: str, now: datetime) -> int:
    """The reference of alarm ``key`` for a phone holding ``held``: its own if it has one, else the smallest
    free (a reference whose hold ran out is free)."""
    live = [h for h in held if h.timeout_at + HOLD_AFTER_TIMEOUT > now]
    own = next((h.ref for h in live if h.alarm_key == key), None)
    if own is not None:
        return own
    taken = {h.ref for h in live}
    return next(n for n in range(1, MAX_REF + 2) if n not in taken)


def others_open(held: Sequence[HeldRef], key: str, now: datetime) -> bool:
    """Whether the phone has another alarm than ``key`` waiting for an answer (an expired or answered one does
    not count)."""
    return any(h.alarm_key != key and h.open_at(now) for h in held)


def give_refs(held: Mapping[str, Sequence[HeldRef]] | None, phones: Sequence[str], verification: Verification,
              now: datetime) -> tuple[list[ReplyRef], dict[str, int]]:
    """The references ``verification``'s texts to ``phones`` take, for the store to hold, and those to show (a
    phone with another alarm open)."""
    held, key = held or {}, alarm_key(verification)
    refs = {phone: choose_ref(held.get(phone, ()), key, now) for phone in dict.fromkeys(phones)}
    hold = [ReplyRef(phone=phone, ref=ref, alarm_key=key, verification_id=verification.id,
                     site_id=verification.site_id, created_at=now,
                     held_until=verification.timeout_at + HOLD_AFTER_TIMEOUT) for phone, ref in refs.items()]
    return hold, {phone: ref for phone, ref in refs.items() if others_open(held.get(phone, ()), key, now)}


def confirm_cancel(process: AutoProcess | None) -> tuple[str, str] | None:
    """The first confirm and cancel keywords of ``process``, as a text offers them."""
    words = {o: next((k.word for k in (process.keywords if process else ()) if k.outcome == o), None)
             for o in ("confirm", "cancel")}
    return (words["confirm"], words["cancel"]) if words["confirm"] and words["cancel"] else None


def ref_value(ref: int | None) -> str:
    """The ``{ref}`` placeholder: ``" 2"`` while several alarms are open, else empty."""
    return f" {ref}" if ref is not None else ""


def with_ref(text: str, template: str, process: AutoProcess | None, ref: int | None) -> str:
    """A verification text carrying its reference when several alarms are open: the template's own ``{ref}``,
    or, when it has none, a sentence the gateway adds."""
    if ref is None or "ref" in placeholders(template):
        return text
    words = confirm_cancel(process)
    offer = f"reply {words[0]} {ref} or {words[1]} {ref}" if words else f"its reference is {ref}"
    return f"{text} Another alarm is open: {offer} for this one."


def alarm_label(site: Site | None, alarm: AlarmEvent | None, site_name: str = "") -> str:
    """``Main Office, BA zone 3, Motion, hallway``: the site and alarm a reply names."""
    parts = [site.name if site else site_name]
    if alarm is not None:
        parts.append(" ".join(p for p in (alarm.event_code, f"zone {alarm.zone}" if alarm.zone else "") if p))
        parts.append(alarm.text or "")
    return ", ".join(p for p in parts if p)


def answered_value(ref: int | None, site: Site | None, alarm: AlarmEvent | None) -> str:
    """The ``{answered}`` placeholder of a keyword reply: ``" (alarm 2: Main Office, BA zone 3, ...)"`` while
    several alarms are open, else empty."""
    return f" (alarm {ref}: {alarm_label(site, alarm)})" if ref is not None else ""


def split_ref(words: str, match: Callable[[str], Keyword | None]) -> tuple[str, int] | None:
    """``"YES 2"``, ``"yes #2"``, ``"Y2"``: the keyword's words and the reference; None when the text is not a
    keyword (``match`` knows it) followed by a number of at most 3 digits."""
    found = _WITH_REF.match(fold(words))
    if found is None or match(found.group(1)) is None:
        return None
    return found.group(1), int(found.group(2))
