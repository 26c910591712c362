"""Which open verification a reply answers, when a contact holds several alarms. Pure, no I/O.

``YES 2`` answers the alarm holding reference 2; a bare ``YES`` answers the newest, as it always has.
Nothing is guessed: a reference no open alarm holds, or a bare confirm/cancel while the newest alarm the
contact was texted has timed out since (the contact may well mean that one), is asked back and changes
nothing. With no reference held (one alarm, texts from before references), the newest is answered as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import msgspec

from gateway import codes
from gateway.config import Verifications
from gateway.core.keywords import KeywordTable
from gateway.core.reply_refs import HeldRef, alarm_key, alarm_label, confirm_cancel, others_open, split_ref
from gateway.core.templates import render
from gateway.model import AlarmEvent, LogEntry, Site, Verification

DECISIVE = ("confirm", "cancel")


class Target(msgspec.Struct, frozen=True):
    """The open verifications with the one the reply answers first; the words without the reference."""

    open: Sequence[tuple[Verification, int]]
    words: str  # without the reference (a late answer's row names the keyword it matched)
    ref: int | None = None  # the answered alarm's reference, while it is not the contact's only open alarm
    chosen_by: str | None = None  # "ref" or "newest", when ``ref`` is set
    problem: str | None = None  # "unknown_ref" or "newest_closed": ask which, change nothing
    asked: int | None = None  # the reference the text named
    closed: HeldRef | None = None  # the alarm the problem is about, when the phone still holds its reference


def aim(open_: Sequence[tuple[Verification, int]], refs: Sequence[HeldRef], words: str, table: KeywordTable,
        now: datetime) -> Target:
    """The verification a reply with ``words`` answers, among ``open_`` (newest first), for a phone holding
    ``refs``."""
    if not open_ or not refs:
        return Target(open_, words)
    in_view = {alarm_key(v): v for v, _ in open_}
    held = {h.ref: h for h in refs}
    newest = open_[0][0]
    process = table.process(newest.process)
    keyword = process.match(words) if process else None
    if keyword is not None:
        latest = max(refs, key=lambda h: h.created_at)
        if (keyword.outcome in DECISIVE and latest.alarm_key not in in_view and latest.created_at > newest.created_at
                and not latest.open_at(now)):
            return Target(open_, words, problem="newest_closed", closed=latest)
        return _chosen(open_, words, refs, alarm_key(newest), now, "newest")

    def any_keyword(word: str):
        return next((k for v in in_view.values() if (p := table.process(v.process)) and (k := p.match(word))), None)
    split = split_ref(words, any_keyword)
    if split is None:
        return Target(open_, words)
    rest, asked = split
    hold = held.get(asked)
    if hold is None or hold.alarm_key not in in_view:
        return Target(open_, rest, problem="unknown_ref", asked=asked, closed=hold)
    # the alarm's verifications, one still waiting first (a responded one first would say "already answered")
    chosen = sorted((row for row in open_ if alarm_key(row[0]) == hold.alarm_key),
                    key=lambda row: row[0].status == "responded")
    target_process = table.process(chosen[0][0].process)
    if target_process is None or target_process.match(rest) is None:
        return Target(open_, words)  # that alarm's process has no such keyword: an ordinary answer
    reordered = chosen + [row for row in open_ if alarm_key(row[0]) != hold.alarm_key]
    return Target(reordered, rest, ref=asked, chosen_by="ref", asked=asked)


def _chosen(open_, words, refs, key, now, how) -> Target:
    own = next((h.ref for h in refs if h.alarm_key == key), None)
    if own is None or not others_open(refs, key, now):
        return Target(open_, words)
    return Target(open_, words, ref=own, chosen_by=how)


def still_open(refs: Sequence[HeldRef], open_: Sequence[tuple[Verification, int]], table: KeywordTable,
               sites: Mapping[str, Site], alarms: Mapping[str, AlarmEvent], now: datetime,
               but: str | None = None) -> str:
    """``" Still open: reply YES 1 or NO 1 for Main Office, BA zone 3, Motion."``: the alarms of ``open_`` still
    waiting for an answer, with the words that answer each (``but``: an alarm key left out); empty when none."""
    offers = []
    by_key = {alarm_key(v): v for v, _ in reversed(open_)}
    for h in sorted(refs, key=lambda h: h.ref):
        v = by_key.get(h.alarm_key)
        if v is None or h.alarm_key == but or not h.open_at(now) or v.status == "responded":
            continue
        words = confirm_cancel(table.process(v.process)) or ("YES", "NO")
        label = alarm_label(sites.get(v.site_id), alarms.get(v.event_id or ""))
        offers.append(f"{words[0]} {h.ref} or {words[1]} {h.ref} for {label}")
    return f" Still open: reply {'; '.join(offers)}." if offers else ""


def which_alarm(target: Target, refs: Sequence[HeldRef], table: KeywordTable,
                verifications: Verifications, sites: Mapping[str, Site], alarms: Mapping[str, AlarmEvent],
                comment: str, base: dict) -> tuple[LogEntry, str]:
    """The row and the reply for a text that named no open alarm: it changes nothing and says what is open."""
    closed = target.closed
    hint = still_open(refs, target.open, table, sites, alarms, base["at"])
    label = alarm_label(None, closed.alarm, closed.site_name) if closed else ""
    template = verifications.newest_closed if target.problem == "newest_closed" else verifications.unknown_reference
    ref = target.asked if target.asked is not None else (closed.ref if closed else "")
    reply = render(template, {"ref": ref, "alarm": label, "site_name": closed.site_name if closed else "",
                              "open": hint})
    newest = target.open[0][0]
    details = {"reason": target.problem, "ref": ref,
               "open_refs": sorted(h.ref for h in refs if h.open_at(base["at"]) and h.alarm_key in
                                   {alarm_key(v) for v, _ in target.open if v.status != "responded"})}
    if closed is not None:
        details["closed_verification_id"] = closed.verification_id
    entry = LogEntry(code=codes.WHICH_ALARM, site_id=newest.site_id, contact_id=target.open[0][1], comment=comment,
                     details=details, **base)
    return entry, reply
