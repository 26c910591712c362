"""Opt-outs: numbers that told the carrier STOP, and the keywords that collide with those words.

A carrier answers STOP (and its synonyms) itself and then refuses every further text to
that number until it says START. For an alarm gateway that means a life-safety contact
can no longer be reached, so each change is logged for every contact with that number,
and sends to an opted-out number fail at once instead of reaching the carrier.
"""

from __future__ import annotations

import os

from gateway import codes
from gateway.clock import Clock, isoformat
from gateway.core.keywords import fold
from gateway.model import Decision, LogEntry, Notification
from gateway.stores import Store
from gateway.config.yamlsource import load_yaml

# Twilio's default Advanced Opt-Out words (the same set US carriers honour).
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})


class OptOuts:
    """Records opt-outs and opt-ins, logging one row per contact the number belongs to."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def opt_out(self, phone: str, source: str, trace_id: str | None = None) -> bool:
        """Mark ``phone`` opted out (``source``: STOP, or the carrier's error code); True when it was not yet."""
        return await self._set(phone, True, source, trace_id)

    async def opt_in(self, phone: str, source: str, trace_id: str | None = None) -> bool:
        """Mark ``phone`` reachable again; True when it had opted out."""
        return await self._set(phone, False, source, trace_id)

    async def _set(self, phone: str, opted_out: bool, source: str, trace_id: str | None) -> bool:
        now = self.clock.now()
        if opted_out:
            code, comment = codes.OPTED_OUT, (f"Opted out of texts ({source}): the carrier refuses every text to this "
                                              "number until it texts START.")
        else:
            code, comment = codes.OPTED_IN, f"Opted in to texts again ({source})."
        contacts = await self.store.contacts_by_phone(phone)
        entries = [LogEntry(code=code, at=now, site_id=c.site_id, contact_id=c.id, phone=phone, comment=comment,
                            details={"source": source}, trace_id=trace_id) for c in contacts]
        entries = entries or [LogEntry(code=code, at=now, phone=phone, comment=comment, details={"source": source},
                                       trace_id=trace_id)]
        changed = await self.store.set_opt_out(phone, opted_out, source, now, entries)
        if changed and opted_out:
            # Subscribers hear that a life-safety contact can no longer be texted. Queued right after the
            # opt-out's own transaction: a crash between the two loses this webhook, not the opt-out.
            await self.store.commit(Decision(notifications=[Notification(
                event_type="contact.opted_out", at=now, data={
                    "phone": phone, "contact_ids": [c.id for c in contacts], "site_ids": sorted(
                        {c.site_id for c in contacts if c.site_id}), "source": source,
                    "opted_out_at": isoformat(now)})]))
        return changed


def keyword_collisions(path: str | os.PathLike[str]) -> list[str]:
    """Warnings, as ``file:line: key: message``, for each keyword or alias that is a carrier opt-out/in/help word.

    Call it only for a keyword file that loads without problems.
    """
    filename = os.fspath(path)
    with open(filename, encoding="utf-8") as f:
        data, lines = load_yaml(f.read(), filename)
    warnings = []
    for i, process in enumerate((data or {}).get("auto_processes") or []):
        for j, keyword in enumerate(process.get("keywords") or []):
            words = [(("auto_processes", i, "keywords", j, "keyword"), keyword.get("keyword"))]
            words += [(("auto_processes", i, "keywords", j, "aliases", k), alias)
                      for k, alias in enumerate(keyword.get("aliases") or [])]
            for key, word in words:
                message = _collision(fold(str(lines.text(key) or word)))
                if message:
                    warnings.append(str(lines.problem(key, message)))
    return warnings


def _collision(word: str) -> str | None:
    if word in OPT_OUT_WORDS:
        return (f"{word!r} is a carrier opt-out word: a contact who texts it is opted out of every future alarm text "
                "unless your Twilio Messaging Service's Advanced Opt-Out no longer lists it")
    if word in OPT_IN_WORDS:
        return f"{word!r} is a carrier opt-in word: the carrier also treats it as START (re-subscribes the number)"
    if word in HELP_WORDS:
        return f"{word!r} is a carrier help word: the carrier also answers it with its own HELP text"
    return None
