"""The command table, modelled on aiosmtpd's: one ``sms_<VERB>`` method per command, its
syntax and help beside it, HELP built from the table, one answer for anything unknown."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.core.autoprocess import zone_named
from gateway.config import Interface
from gateway.core.interface.shown import event_line
from gateway.model import Contact, LogEntry, LogRow, Site, SiteTest
from gateway.core.pin import masked

UNKNOWN_COMMAND = "Unknown command. Text HELP for the list."


def syntax(text: str, summary: str, *, on_test: bool = False) -> Callable:
    """Attach a command's syntax and one-line help; ``on_test`` commands need the On Test permission."""

    def mark(method: Callable) -> Callable:
        method.syntax, method.summary, method.on_test = text, summary, on_test
        return method

    return mark


@dataclass
class Outcome:
    """What a command did: the reply, the rows to log, the site test changes."""

    reply: str
    log: list[LogEntry] = field(default_factory=list)
    site_tests: list[SiteTest] = field(default_factory=list)
    logout: bool = False


def zone_of(contact: Contact | None) -> ZoneInfo:
    return zone_named(contact.time_zone if contact else None)


class Commands:
    """Runs one command for an authenticated contact. ``events`` holds preloaded rows per site id."""

    def __init__(self, contact: Contact, sites: Sequence[Site], config: Interface, now: datetime,
                 events: dict[str, Sequence[LogRow]], base: dict) -> None:
        self.contact, self.sites, self.config, self.now = contact, list(sites), config, now
        self.events, self.base, self.zone = events, base, zone_of(contact)

    @classmethod
    @functools.cache  # the table is fixed once the class exists; asked for on every inbound text
    def verbs(cls) -> dict[str, Callable]:
        return {name[4:]: getattr(cls, name) for name in dir(cls) if name.startswith("sms_")}

    @classmethod
    def usable(cls, contact: Contact | None) -> list[str]:
        allowed = bool(contact and contact.on_test_permission)
        return [verb for verb, method in cls.verbs().items() if allowed or not method.on_test]

    def run(self, verb: str, args: list[str]) -> Outcome:
        method = self.verbs().get(verb)
        if method is None:
            return Outcome(UNKNOWN_COMMAND, [self._row(self.config.codes.unknown_command, comment=masked(verb))])
        if method.on_test and not self.contact.on_test_permission:
            return Outcome("You do not have permission to put sites on test.",
                           [self._row(getattr(self.config.codes, verb.lower()), comment="refused: no permission")])
        return method(self, args)

    # Helpers
    def _row(self, code: str, site: Site | None = None, **fields) -> LogEntry:
        return LogEntry(code=code, site_id=site.id if site else None, contact_id=self.contact.id, **self.base,
                        **fields)

    def _time(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        return local.strftime("%H:%M %Z") if local.date() == self.now.astimezone(self.zone).date() \
            else local.strftime("%m-%d %H:%M %Z")

    def _site(self, words: list[str]) -> Site | str:
        """The site named by ``words`` (its SITES number, id, or a name prefix), or an answer saying why not."""
        if not words:
            return self.sites[0] if len(self.sites) == 1 else "Which site? Text SITES for the list."
        name = " ".join(words)
        if name.isdigit() and 1 <= int(name) <= len(self.sites):
            return self.sites[int(name) - 1]
        for site in self.sites:
            if site.id == name:
                return site
        matches = [s for s in self.sites if s.name.casefold().startswith(name.casefold())]
        if len(matches) == 1:
            return matches[0]
        if matches:
            return "Which site? " + "; ".join(f"{self.sites.index(s) + 1} {s.name}" for s in matches[:5])
        return f"No site '{masked(name)[:20]}'. Text SITES for the list."

    def _on_test(self, site: Site) -> bool:
        return site.on_test_until is not None and site.on_test_until > self.now

    # Commands
    @syntax("SITES", "list your sites")
    def sms_SITES(self, args: list[str]) -> Outcome:
        lines = [f"{n} {site.name}{' (ON TEST)' if self._on_test(site) else ''}"
                 for n, site in enumerate(self.sites, 1)]
        return Outcome("\n".join(lines) or "You have no sites.", [self._row(self.config.codes.sites)])

    @syntax("STATUS [site]", "test status and last events")
    def sms_STATUS(self, args: list[str]) -> Outcome:
        site = self._site(args)
        if isinstance(site, str):
            return Outcome(site)
        state = f"ON TEST until {self._time(site.on_test_until)}" if self._on_test(site) else "not on test"
        rows = list(self.events.get(site.id, ()))[:self.config.status_events]
        recent = [f"{self._time(row.at)} {row.code}" for row in rows]
        reply = f"{site.name}: {state}." + (f" Last: {'; '.join(recent)}" if recent else "")
        return Outcome(reply, [self._row(self.config.codes.status, site)])

    @syntax("TEST site minutes", "put a site on test", on_test=True)
    def sms_TEST(self, args: list[str]) -> Outcome:
        if not args or not args[-1].isdigit():
            return Outcome(f"Send TEST site minutes, e.g. TEST 1 60 (at most {self.config.max_test_minutes}).")
        minutes = int(args[-1])
        if not 1 <= minutes <= self.config.max_test_minutes:
            return Outcome(f"Minutes must be 1 to {self.config.max_test_minutes}.")
        site = self._site(args[:-1])
        if isinstance(site, str):
            return Outcome(site)
        until = self.now + timedelta(minutes=minutes)
        return Outcome(f"{site.name} is ON TEST until {self._time(until)}.",
                       [self._row(self.config.codes.test, site, comment=f"TEST {minutes} min"),
                        self._row(self.config.codes.test_start, site, comment=f"On test for {minutes} min by SMS",
                                  details={"until": until.isoformat(), "minutes": minutes})],
                       [SiteTest(site_id=site.id, until=until)])

    @syntax("UNTEST site", "end a test early", on_test=True)
    def sms_UNTEST(self, args: list[str]) -> Outcome:
        site = self._site(args)
        if isinstance(site, str):
            return Outcome(site)
        if not self._on_test(site):
            return Outcome(f"{site.name} is not on test.", [self._row(self.config.codes.untest, site)])
        return Outcome(f"{site.name} is off test.",
                       [self._row(self.config.codes.untest, site),
                        self._row(self.config.codes.test_end, site, comment="Test ended by SMS")],
                       [SiteTest(site_id=site.id, until=None)])

    @syntax("EVENTS site [n]", "last n events")
    def sms_EVENTS(self, args: list[str]) -> Outcome:
        count = 5
        if args and args[-1].isdigit() and (len(args) > 1 or len(self.sites) == 1):
            count = max(1, min(int(args.pop()), self.config.max_events))
        site = self._site(args)
        if isinstance(site, str):
            return Outcome(site)
        rows = list(self.events.get(site.id, ()))[:count]
        lines = [event_line(row, self._time(row.at)) for row in rows]
        return Outcome(f"{site.name}:\n" + ("\n".join(lines) if lines else "no events"),
                       [self._row(self.config.codes.events, site, comment=f"EVENTS {count}")])

    @syntax("LOGOUT", "end your session")
    def sms_LOGOUT(self, args: list[str]) -> Outcome:
        return Outcome("Logged out.", [self._row(self.config.codes.logout)], logout=True)

    @syntax("HELP [command]", "this list, or help on one command")
    def sms_HELP(self, args: list[str]) -> Outcome:
        return Outcome(help_text(self.contact, args), [self._row(self.config.codes.help)])


def help_text(contact: Contact | None, args: Sequence[str]) -> str:
    """The commands ``contact`` may use in as few segments as fit, or one command's help."""
    verbs = Commands.verbs()
    usable = Commands.usable(contact)
    if args:
        verb = args[0].upper()
        if verb in usable:
            method = verbs[verb]
            return f"{method.syntax}: {method.summary}. Site = number from SITES, or name."
        return UNKNOWN_COMMAND
    return _command_list(bool(contact and contact.on_test_permission))


@functools.cache  # one of two texts (with or without the test commands), asked for by every HELP
def _command_list(on_test: bool) -> str:
    verbs = Commands.verbs()
    return ("Commands: " + ", ".join(method.syntax for verb, method in verbs.items()
                                     if verb != "HELP" and (on_test or not method.on_test))
            + ". Add your PIN at the end. HELP cmd for more.")
