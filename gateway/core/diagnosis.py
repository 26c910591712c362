"""Why a contact did or did not get a text: the one-line diagnosis ``gateway trace`` ends with.

Each rule looks at the facts the trace gathered and the first that applies wins, most decisive
first: a number nobody has, an opt-out, a text the carrier refused, ... down to a text the
carrier delivered. The order is the README's ("Why didn't my contact get the text?").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from gateway import codes
from gateway.core.carrier_errors import OPTED_OUT, explain


@dataclass(frozen=True)
class Diagnosis:
    code: str  # stable, for machines: opted_out, send_failed, delivered ...
    line: str
    ok: bool  # True when, as far as the gateway can tell, nothing is wrong


@dataclass(frozen=True)
class LastText:
    """The newest text to the number and where it got to."""

    status: str  # queued, sending, sent, delivered, undelivered, failed, expired, cancelled
    at: datetime  # when it got there
    error_code: str | None = None
    carrier: str | None = None


@dataclass(frozen=True)
class NumberFacts:
    now: datetime
    contacts: int = 0
    auto_notify: bool = False  # some contact with the number gets alarm texts
    stored: bool = False  # any text, event-log row, lookup or opt-out of the number
    opted_out_at: datetime | None = None  # opted out now, since then ...
    opted_out_by: str | None = None  # ... by STOP or the carrier's code
    lookup_valid: bool | None = None  # None: never looked up
    line_type: str | None = None
    last_text: LastText | None = None
    locked_until: datetime | None = None
    pin_failures: int = 0
    welcome_pending_since: datetime | None = None
    answered_at: datetime | None = None  # the newest text from the number


def when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def diagnose_number(f: NumberFacts) -> Diagnosis:
    last = f.last_text
    if not f.contacts:
        if not f.stored:
            return Diagnosis("unknown_number", "no contact has this number and no text to or from it is stored", False)
        return Diagnosis("no_contact", "no contact has this number: alarm texts go to contacts only", False)
    if f.opted_out_at is not None:
        by = f.opted_out_by or "STOP"
        how = f"by {by}" if not by.isdigit() else f"(the carrier refused a text with {by})"
        return Diagnosis("opted_out", f"opted out on {f.opted_out_at:%Y-%m-%d} {how}: the contact must text START",
                         False)
    if last is not None and last.status in ("failed", "undelivered") and last.error_code != OPTED_OUT:
        info = explain(last.error_code)
        said = f"carrier says {info.title} ({info.code})" if info.code else f"the carrier gave {info.title}"
        return Diagnosis("send_failed", f"last text {last.status} at {when(last.at)}: {said}: "
                         f"{_lower_first(info.advice)}", False)
    if last is not None and last.status == "failed" and last.error_code == OPTED_OUT:
        return Diagnosis("opted_in_again", f"last text not sent ({when(last.at)}): the number had opted out; it has "
                         "opted in again since, so the next text goes out", True)
    if last is not None and last.status == "expired":
        return Diagnosis("stale", f"last text went stale at {when(last.at)}: it waited in the outbox past its "
                         "validity and was not sent; check that the outbox drains", False)
    if f.lookup_valid is False or f.line_type == "landline":
        if last is None or last.status != "delivered":
            what = "a landline" if f.line_type == "landline" else "not a valid number"
            return Diagnosis("invalid_number", f"the carrier's lookup says {what}: texts cannot reach this number; "
                             "use another number", False)
    if f.locked_until is not None and f.locked_until > f.now:
        after = f" after {f.pin_failures} wrong PINs" if f.pin_failures else ""
        return Diagnosis("locked_out", f"locked out of the SMS interface until {when(f.locked_until)}{after}", False)
    if last is not None and last.status in ("queued", "sending"):
        return Diagnosis("queued", f"last text queued at {when(last.at)} and not sent yet: check that the daemon "
                         "runs and the outbox drains", False)
    if not f.auto_notify:
        return Diagnosis("not_auto_notify", "no contact with this number has auto-notify on: alarm texts do not "
                         "go to it", False)
    if f.welcome_pending_since is not None:
        return Diagnosis("welcome_unconfirmed", "the welcome link was never confirmed (sent "
                         f"{when(f.welcome_pending_since)})", False)
    if last is None:
        return Diagnosis("nothing_sent", "no text has been sent to this number yet", True)
    if f.answered_at is not None and f.answered_at >= last.at:
        return Diagnosis("answered", f"the number texted back at {when(f.answered_at)}, after the last text went "
                         "out: it got through", True)
    if last.status == "delivered":
        return Diagnosis("delivered", f"last text delivered at {when(last.at)}: the carrier delivered it; "
                         "check the handset", True)
    if last.status == "cancelled":
        return Diagnosis("cancelled", f"last text cancelled at {when(last.at)}: its contact was deleted before it "
                         "went out", False)
    quiet = " (the loopback carrier sends none)" if last.carrier == "loopback" else " yet"
    return Diagnosis("sent", f"last text handed to the carrier at {when(last.at)}; no delivery report{quiet}", True)


@dataclass(frozen=True)
class RecipientFacts:
    name: str
    status: str  # pending, sent, delivered, failed, removed
    error_code: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class VerificationFacts:
    now: datetime
    status: str
    timeout_at: datetime
    require_response: bool = True
    response: str | None = None
    responded_at: datetime | None = None
    responder: str | None = None
    recipients: Sequence[RecipientFacts] = field(default_factory=tuple)


def diagnose_verification(f: VerificationFacts) -> Diagnosis:
    if f.status == "responded":
        by = f" by {f.responder}" if f.responder else ""
        at = f" at {when(f.responded_at)}" if f.responded_at else ""
        return Diagnosis(f.response or "answered", f"{f.response or 'answered'}{by}{at}", True)
    failed = [r for r in f.recipients if r.status == "failed"]
    if f.status == "failed" or (f.recipients and len(failed) == len(f.recipients)):
        first = failed[0] if failed else None
        words = _failure(first) if first else "no recipient could be reached"
        return Diagnosis("all_failed", f"every text failed: {words}", False)
    counts = _counts(f.recipients)
    if not f.require_response:
        return Diagnosis("notice", f"a notice, nothing to answer ({counts})", True)
    if f.status == "expired" or f.timeout_at <= f.now:
        return Diagnosis("expired", f"expired at {when(f.timeout_at)} with no answer ({counts})", False)
    return Diagnosis("waiting", f"waiting for an answer until {when(f.timeout_at)} ({counts})", True)


def diagnose_alarm(event_code: str, logged: Sequence[str]) -> Diagnosis:
    """Why an alarm opened no verification (``logged``: the codes of its rows)."""
    if codes.ON_TEST in logged:
        return Diagnosis("on_test", "the site was on test: no verification text was sent", True)
    if codes.ALARM_NO_PROCESS in logged:
        return Diagnosis("no_process", f"no auto process handles event code {event_code}: add it to a process's "
                         "triggers in keywords.yaml", False)
    if codes.NO_RECIPIENT in logged:
        return Diagnosis("no_recipient", "the site has no auto-notify contact with a phone: nobody was texted",
                         False)
    return Diagnosis("no_verification", "no verification was opened for this alarm", False)


NO_ALARM = Diagnosis("no_alarm", "no alarm is stored for this site", False)


def _failure(r: RecipientFacts) -> str:
    if r.error_code:
        info = explain(r.error_code)
        return f"{r.name}: carrier says {info.title} ({info.code}): {_lower_first(info.advice)}"
    return f"{r.name}: {r.error or 'not sent'}"


def _counts(recipients: Sequence[RecipientFacts]) -> str:
    tally = {s: sum(r.status == s for r in recipients) for s in ("delivered", "sent", "failed", "pending")}
    parts = [f"{n} {s}" for s, n in tally.items() if n]
    return f"{len(recipients)} recipient{'s' if len(recipients) != 1 else ''}" + (f": {', '.join(parts)}" if parts
                                                                                  else "")


def _lower_first(text: str) -> str:
    text = text.rstrip(".")
    return text[:1].lower() + text[1:]
