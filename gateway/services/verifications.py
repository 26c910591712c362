"""The Verifications API and Dispatch SMS behind HTTP: read what the plan needs, commit, await the sends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from gateway.clock import Clock
from gateway.config import Verifications
from gateway.errors import InvalidContact, UnsupportedMethod, ValidationFailed
from gateway.core.call_list import call_order
from gateway.core.keywords import KeywordTable
from gateway.daemon.metrics import Metrics
from gateway.model import Contact, Verification
from gateway.loops.sender import OutboxSender
from gateway.services.fresh import commit_fresh
from gateway.services.ordering import KeyedLocks
from gateway.services.sites import find_site
from gateway.core.plain_text import clean, identifier
from gateway.stores import Store
from gateway.core.verification_plan import (
    METHODS, Request, choose_contacts, contact_number, plan_dispatch, plan_verification,
    render_dispatch,
)

SEND_WAIT_SECONDS = 2.0  # how long an API call waits to report "sent" rather than "pending"


class VerificationService:
    def __init__(self, store: Store, table: Callable[[], KeywordTable], clock: Clock, metrics: Metrics,
                 sender: OutboxSender, settings: Verifications, from_phone: str,
                 locks: KeyedLocks | None = None) -> None:
        self.store, self.table, self.clock, self.metrics = store, table, clock, metrics
        self.locks = locks  # the inbound texts' per-number locks: references are picked in turn
        self.sender, self.settings, self.from_phone = sender, settings, from_phone
        self.unavailable: dict[str, str] = {}  # method -> why this gateway cannot use it (push without a backend)

    def _process(self):
        table = self.table()
        process = table.process(self.settings.process) if self.settings.process else (
            table.processes[0] if table.processes else None)
        if process is None:
            raise ValidationFailed("No auto process in keywords.yaml to take the replies (verifications.process).")
        return process

    async def _opted_out(self, contacts: Sequence[Contact]) -> set[str]:
        return {c.phone for c in contacts if c.phone and await self.store.opted_out(c.phone)}

    async def create(self, *, site_id: str | None, event_id: str | None, contacts: list[int | str], method: str,
                     message: str | None, subject: str | None, timeout_seconds: int | None, require_response: bool,
                     trace_id: str | None, escalation: str = "all", step_seconds: int | None = None) -> Verification:
        """Send a verification and return it as stored once its sends are done (or after a short wait)."""
        if method in self.unavailable:
            raise UnsupportedMethod(f"Method {method!r} is not set up here: {self.unavailable[method]}", method=method)
        if method not in METHODS:
            raise ValidationFailed(f"method must be one of sms, email, push, call; got {method!r}.", field="method")
        if step_seconds is not None and escalation != "in_order":
            raise ValidationFailed("step_seconds needs escalation in_order.", field="step_seconds")
        event_id = identifier(event_id, "event_id")
        message, subject = clean(message, "message", lines=True), clean(subject, "subject")
        timeout = timeout_seconds or self.settings.default_timeout_seconds
        if not 10 <= timeout <= self.settings.max_timeout_seconds:
            raise ValidationFailed(f"timeout_seconds must be 10 to {self.settings.max_timeout_seconds}.",
                                   field="timeout_seconds")
        alarm = await self.store.get_alarm_event(event_id) if event_id else None
        site_id = alarm.site_id if alarm else site_id
        if site_id is None:
            site_id = await self._site_of(contacts)
        site = await find_site(self.store, site_id)
        chosen = choose_contacts(contacts, await self.store.list_contacts(site.id))
        if escalation == "in_order" and contacts == ["all"]:
            chosen = call_order(chosen)
        push_ready = frozenset([c.id for c in chosen if await self.store.push_subscriptions(c.id)]
                               if method == "push" else [])
        request = Request(site=site, contacts=chosen, method=method, message=message, subject=subject,
                          timeout_seconds=timeout, require_response=require_response, event_id=event_id, alarm=alarm,
                          escalation=escalation, step_seconds=step_seconds or self._process().call_list.step_seconds,
                          push_ready=push_ready)
        opted_out = await self._opted_out(chosen)
        phones = [c.phone for c in chosen if c.phone and method == "sms" and require_response]

        async def plan():
            now = self.clock.now()
            held = await self.store.reply_refs(phones, now) if phones else {}  # what the phones' texts answer by
            return plan_verification(request, self._process(), self.table(), now=now, from_phone=self.from_phone,
                                     opted_out=opted_out, trace_id=trace_id, held=held)
        decision, _ = await commit_fresh(self.store, plan, f"verification for site {site.id}", locks=self.locks,
                                         phones=phones)
        self.metrics.logged(decision.log)
        return await self._after_sends(decision.opened[0].id)

    async def _site_of(self, refs: list[int | str]) -> str:
        """The site of explicitly named contacts, for an event the gateway has not seen."""
        if refs == ["all"]:
            raise ValidationFailed("contacts ['all'] needs an event the gateway knows or a site_id.", field="site_id")
        for ref in refs:
            number = contact_number(ref)
            contact = await self.store.get_contact(number) if number else None
            if contact is not None and contact.site_id:
                return contact.site_id
        raise InvalidContact(invalid_contacts=list(refs))

    async def _after_sends(self, verification_id: str) -> Verification:
        self.sender.wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SEND_WAIT_SECONDS  # a bound on waiting for I/O, not domain time
        while True:
            verification = await self.store.get_verification(verification_id)
            if (not self.sender.running or loop.time() >= deadline
                    or all(r.status != "pending" for r in verification.recipients)):
                return verification
            await self.sender.sent_batch(deadline - loop.time())

    async def dispatch(self, *, site_id: str, contacts: list[int | str], template: str | None, text: str | None,
                       variables: dict[str, str], trace_id: str | None):
        """Send a Dispatch SMS; the dispatch and its outbox ids."""
        text = clean(text, "text", lines=True)
        variables = {name: clean(value, f"variables.{name}") or "" for name, value in variables.items()}
        table = self.table()
        chosen_template = table.dispatch_templates.get(template) if template else None
        if template and chosen_template is None:
            raise ValidationFailed(f"No dispatch template {template!r} (have: {', '.join(table.dispatch_templates)}).",
                                   field="template")
        if chosen_template is None and text is None:
            raise ValidationFailed("Give a template or the text.", field="template")
        site = await find_site(self.store, site_id)
        chosen = choose_contacts(contacts, await self.store.list_contacts(site.id))
        body = render_dispatch(chosen_template, text, variables)
        decision = plan_dispatch(site, chosen, chosen_template, body, variables, table, now=self.clock.now(),
                                 from_phone=self.from_phone, opted_out=await self._opted_out(chosen),
                                 trace_id=trace_id)
        await self.store.commit(decision)
        self.metrics.logged(decision.log)
        self.sender.wake()
        return decision.dispatches[0], decision.outbound
