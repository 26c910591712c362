"""``gateway trace``: why didn't my contact get the text? The story of a number, a site's last alarm or one
verification, read from the store, printed for people (coloured on a terminal) or as JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from datetime import datetime

import msgspec

from gateway.clock import Clock, isoformat
from gateway.cli.store import named_site, opened
from gateway.config import Config
from gateway.core.phone import to_e164
from gateway.errors import GatewayError, InvalidPhoneNumber
from gateway.services.trace import NumberStory, SiteStory, VerificationStory, trace_number, trace_site, \
    trace_verification
from gateway.services.trace.story import Logged, Status, TextIn, TextOut, VerificationStep

UNKNOWN = 1  # exit status when the gateway stores nothing at all about the number


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("trace", parents=[common],
                       help="why didn't my contact get the text? everything stored about a number, a site's last "
                            "alarm or a verification, with a diagnosis")
    what = p.add_mutually_exclusive_group()
    what.add_argument("number", nargs="?", metavar="NUMBER", help="a phone number, as people write it")
    what.add_argument("--site", metavar="ID", help="the story of the site's last alarm")
    what.add_argument("--verification", metavar="ID", help="the story of one verification")
    p.add_argument("--json", action="store_true", help="print the story as JSON (the shape: README, gateway trace)")
    p.set_defaults(run=trace)


async def trace(config: Config, args: argparse.Namespace) -> int:
    if not (args.number or args.site or args.verification):
        raise GatewayError("trace: give a NUMBER, --site ID or --verification ID")
    phone = None
    if args.number:
        try:
            phone = to_e164(args.number, config.phone.default_region)
        except InvalidPhoneNumber as exc:
            raise GatewayError(f"NUMBER: {exc.message}") from None
    now = Clock().now()
    async with opened(config) as store:
        if phone is not None:
            story = await trace_number(store, phone, now)
        elif args.site:
            site = await named_site(store, args.site)
            story = await trace_site(store, site.id, site.name, now)
        else:
            story = await trace_verification(store, args.verification, now)
            if story is None:
                raise GatewayError(f"--verification: no verification {args.verification!r}")
    if args.json:
        # ASCII only: no text a phone sent reaches a terminal as a control character (C1 included).
        print(json.dumps(plain(msgspec.to_builtins(story, builtin_types=(datetime,))), indent=2))
    else:
        Printer(colour=_colour()).story(story)
    return UNKNOWN if isinstance(story, NumberStory) and not story.known else 0


def plain(value):
    """JSON-ready: every time as the gateway writes times (``2026-01-15T15:30:00.000Z``)."""
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _colour() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org) or the terminal is dumb."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


BAD = {"failed", "undelivered", "stale", "expired", "cancelled", "canceled"}
GOOD = {"delivered", "read", "confirmed", "responded"}


class Printer:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def state(self, word: str) -> str:
        return self.paint(word, "31") if word in BAD else self.paint(word, "32") if word in GOOD else word

    def story(self, story) -> None:
        if isinstance(story, NumberStory):
            self.number(story)
        elif isinstance(story, SiteStory):
            self.site(story)
        else:
            self.verification(story)
        d = story.diagnosis
        print(f"{self.paint('diagnosis:', '1')} {self.paint(d.line, '32' if d.ok else '31;1')}")

    def number(self, s: NumberStory) -> None:
        print(self.paint(f"{s.display} ({s.phone})", "1") + "  (times in UTC)")
        for c in s.contacts:
            where = (f"site {c.site_id} {c.site_name}" if c.site_id else f"group {c.group_id} {c.group_name}")
            facts = [where, "auto-notify" if c.auto_notify else "no auto-notify",
                     f"number {c.phone_status}" + (f" ({c.line_type})" if c.line_type else "")]
            if c.has_pin:
                facts.append("PIN set" + (f", expires {c.pin_expires_at:%Y-%m-%d}" if c.pin_expires_at else ""))
            facts.append(f"welcome {c.welcome}" + (f" {_t(c.welcome_confirmed_at)}" if c.welcome_confirmed_at else
                                                   f" (sent {_t(c.welcome_sent_at)})" if c.welcome_sent_at else "")
                         + (f": {_one_line(c.welcome_error)}" if c.welcome_error else ""))
            print(f"contact:   {c.id} {c.name}, {'; '.join(facts)}")
        if not s.contacts:
            print("contact:   none")
        lookup = s.lookup
        print("lookup:    " + (f"{_t(lookup.looked_up_at)} {'valid' if lookup.valid else 'not a valid number'}"
                               f"{', ' + lookup.line_type if lookup.line_type else ''}"
                               f"{', ' + _one_line(lookup.carrier_name) if lookup.carrier_name else ''}"
                               if lookup else "none cached"))
        opt = s.opt_out
        print("opt-out:   " + ("never" if opt is None else self.paint(f"opted out {_t(opt.changed_at)} ({opt.source})", "31")
                               if opt.opted_out else f"opted in again {_t(opt.changed_at)} ({opt.source})"))
        i = s.interface
        if i is not None and (i.locked_until or i.session_until or i.muted_until):
            held = [self.paint(f"locked until {_t(i.locked_until)} ({i.pin_failures} wrong PINs)", "31")
                    if i.locked_until else "", f"session open until {_t(i.session_until)}" if i.session_until else "",
                    f"replies muted until {_t(i.muted_until)}" if i.muted_until else ""]
            print("interface: " + "; ".join(h for h in held if h))
        print()
        for step in s.steps:
            self.step(step)
        if not s.steps:
            print("(no text to or from this number is stored)")
        if s.older_left_out:
            print("(older texts and rows left out)")

    def site(self, s: SiteStory) -> None:
        print(self.paint(f"site {s.site_id} {s.site_name}: last alarm", "1") + "  (times in UTC)")
        if s.alarm is not None:
            self.alarm(s.alarm)
        for step in s.steps:
            self.step(step)
        for v in s.verifications:
            print()
            self.verification(v, alarm=False)
            if len(s.verifications) > 1:
                print(f"{v.verification.id}: {v.diagnosis.line}")

    def verification(self, s: VerificationStory, alarm: bool = True) -> None:
        v = s.verification
        print(self.paint(f"verification {v.id}", "1") + f" of site {v.site_id} {v.site_name}, process {v.process},"
              f" {v.method}, opened {_t(v.at)}" + (f", times out {_t(v.timeout_at)}" if v.timeout_at else ", a notice"))
        if alarm and s.alarm is not None:
            self.alarm(s.alarm)
        for r in s.recipients:
            answer = f", answered {r.response} {_t(r.responded_at)}" if r.response else ""
            error = "" if r.error is None else f": {r.error.code} {r.error.title}" if r.error.code \
                else f": {_one_line(r.error.meaning)}"
            print(f"recipient: {r.contact_id} {r.name} ({r.channel} {r.address or '-'}): {self.state(r.status)}"
                  f"{error}{answer}")
        names = {r.contact_id: r.name for r in s.recipients}
        for step in s.steps:
            self.step(step, names)

    def alarm(self, a) -> None:
        print(f"alarm:     {a.id} {a.event_code}" + (f" zone {a.zone}" if a.zone else "")
              + (f": {_one_line(a.text)}" if a.text else "") + f", received {_t(a.received_at)}")

    def step(self, step, names: dict[int, str] | None = None) -> None:
        head = f"{self.paint(f'{step.at:%Y-%m-%d %H:%M:%S}', '2')}  "
        pad = " " * 21
        if isinstance(step, TextIn):
            codes = f" -> {', '.join(step.codes)}" if step.codes else ""
            print(f"{head}in   '{_one_line(step.body)}'{codes}")
            for reply in step.replies:
                print(f"{pad}     reply: {_one_line(reply)}")
        elif isinstance(step, TextOut):
            about = f" {step.verification_id}" if step.verification_id else ""
            print(f"{head}out  {step.kind}{about} to {step.to}: {_one_line(step.body)}")
            print(f"{pad}     {' -> '.join(self.status(h, step.at) for h in step.history)}"
                  + (f" (attempt {step.attempts})" if step.attempts > 1 else ""))
            if step.error is not None:
                words = f"{step.error.code} {step.error.title}" if step.error.code else step.error.title
                print(f"{pad}     {self.paint(words, '31')}: {step.error.meaning} {step.error.advice}")
            elif step.last_error and step.status in ("queued", "sending"):
                print(f"{pad}     last try: {_one_line(step.last_error)}")
        elif isinstance(step, Logged):
            who = (names or {}).get(step.contact_id)
            said = ": ".join(part for part in (who, _one_line(step.comment)) if part)
            print(f"{head}log  {step.code}" + (f"  {said}" if said else ""))
        elif isinstance(step, VerificationStep):
            by = f" by {step.responded_by}" if step.responded_by else ""
            what = "alarm" if step.event_id else "verification"
            print(f"{head}{what} {step.id} {step.site_name} ({step.process}): {self.state(step.state)}{by}")

    def status(self, h: Status, since: datetime) -> str:
        at = f"{h.at:%H:%M:%S}" if h.at.date() == since.date() else _t(h.at)
        word = f"carrier {self.state(h.status)}" if h.by == "carrier" else self.state(h.status)
        return f"{word} {at}" + (f" ({h.error_code})" if h.error_code else "")


def _t(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


def _one_line(text: str | None) -> str:
    """``text`` on one line, with control characters shown escaped: a text that carries terminal escape
    sequences must not reach the operator's terminal as such."""
    return " ".join("".join(c if unicodedata.category(c)[0] != "C" else repr(c)[1:-1] for c in word)
                    for word in (text or "").split())
