"""The Twilio carrier: signed webhooks answered with TwiML, REST sends, delivery reports, lookups.

Inbound texts come to ``POST /carriers/twilio/inbound`` and their replies go back inline as
TwiML; delivery reports come to ``POST /carriers/twilio/status``. Both are checked against
the X-Twilio-Signature Twilio computed over the public URL it called and every form field.
Sends go through the library's async REST client, which gets a timeout and never retries:
a retried POST can text an alarm twice, and the outbox decides about retries. Recovery reads
the Messages list (filtered by To and DateSent, paged by the library) for texts the gateway missed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import TypeVar

import aiohttp
from aiohttp import web
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from gateway import codes
from gateway.carriers.base import Carrier, CarrierServices
from gateway.carriers import twilio_webhook
from gateway.carriers.twilio_settings import load_settings
from gateway.carriers.twilio_voice import TwilioVoice
from gateway.errors import CarrierError
from gateway.model import DeliveryReport, InboundMessage, LogEntry, PhoneLookup
from gateway.services.optouts import OptOuts
from gateway.stores import OutboxItem
from gateway.web.appkeys import TRACE_ID

T = TypeVar("T")
log = logging.getLogger(__name__)

UNSUBSCRIBED = "21610"
INVALID_NUMBER = {"21211", "21614"}  # not a valid phone number; not a mobile number (landline)
RETRYABLE_STATUS = {401, 429}  # a rotated token or a rate limit is no fault of the message


class TimedHttpClient(AsyncTwilioHttpClient):
    """The library's aiohttp client with its timeout applied.

    twilio 9.x stores ``timeout`` but passes only the per-call value (always None from the
    REST resources) to aiohttp, and aiohttp reads ``timeout=None`` as "no timeout at all".
    ``max_retries`` stays None: no RetryClient, so a POST is never repeated.
    """

    async def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                      allow_redirects=False):
        if auth is not None:  # as a header: aiohttp deprecates its BasicAuth helper
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        return await super().request(method, url, params=params, data=data, headers=headers, auth=None,
                                     timeout=timeout if timeout is not None else self.timeout,
                                     allow_redirects=allow_redirects)


class TwilioCarrier(Carrier):
    name = "twilio"
    places_calls = True
    # A report can overtake the outbox's own record of the send it is about; wait this long for it.
    unknown_report_wait_seconds = 2.0
    recovery_page_size = 50  # Twilio's own default page of the Messages list
    recovery_limit = 1000  # texts per number and recovery pass: a bound far above what an outage leaves

    def __init__(self, services: CarrierServices) -> None:
        super().__init__(services)
        self.settings = load_settings(services.config)
        self.webhook = twilio_webhook.TwilioWebhook(self.settings.auth_token, self.settings.account_sid,
                                                    self.settings.public_url,
                                                    check_signatures=self.settings.options.validate_signatures)
        self.optouts = OptOuts(services.store, services.clock)
        self.client: Client | None = None
        self.voice = TwilioVoice(self)
        self._sending = 0
        self._last_send: float | None = None

    async def start(self) -> None:
        http = TimedHttpClient(timeout=self.settings.options.request_timeout_seconds, max_retries=None)
        self.client = Client(self.settings.account_sid, self.settings.auth_token, http_client=http)
        if self.settings.options.api_base_url:
            base = self.settings.options.api_base_url.rstrip("/")
            self.client.api.base_url = base
            self.client.lookups.base_url = base

    async def close(self) -> None:
        if self.client is not None:
            await self.client.http_client.close()
            self.client = None

    def max_per_second(self, sender: str) -> float | None:
        return self.settings.rate_for(sender or self.settings.from_number)

    # Sending
    async def send(self, item: OutboxItem) -> str:
        assert self.client is not None, "carrier not started"
        if item.channel == "call":
            with self._in_flight():
                return await self.voice.place(item)
        options = self.settings.options
        fields = {"to": item.to_phone, "body": item.body}
        if options.messaging_service_sid:
            fields["messaging_service_sid"] = options.messaging_service_sid
        else:
            fields["from_"] = item.from_phone or self.settings.from_number
        if options.status_callback:
            fields["status_callback"] = self.settings.status_callback_url
        if item.kind == "verification":
            fields["validity_period"] = self._validity(item)
        with self._in_flight():
            try:
                message = await self.client.messages.create_async(**fields)
            except TwilioException as exc:
                raise await self._refused(exc, item) from None
            except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
                raise CarrierError(f"Twilio did not answer: {type(exc).__name__}", retryable=True,
                                   code="timeout") from None
        return message.sid

    @contextlib.contextmanager
    def _in_flight(self) -> Iterator[None]:
        """Count a send while Twilio has it: a webhook about it may come before the outbox records its sid."""
        self._sending += 1
        try:
            yield
        finally:
            self._sending -= 1
            self._last_send = self.services.clock.monotonic()

    def _validity(self, item: OutboxItem) -> int:
        """Seconds Twilio may hold an alarm text: the configured validity, never past the verification's end."""
        seconds = self.settings.options.alarm_validity_seconds
        if item.expires_at is not None:
            left = (item.expires_at - self.services.clock.now()).total_seconds()
            seconds = min(seconds, max(1, int(left)))
        return seconds

    async def _refused(self, exc: TwilioException, item: OutboxItem) -> CarrierError:
        status = getattr(exc, "status", None) or 0
        code = str(getattr(exc, "code", None) or status)
        message = getattr(exc, "msg", None) or getattr(exc, "title", None) or str(exc)
        if code == UNSUBSCRIBED:
            await self.optouts.opt_out(item.to_phone, UNSUBSCRIBED)
        elif code in INVALID_NUMBER:
            await self.services.store.save_lookup(PhoneLookup(
                phone=item.to_phone, valid=code == "21614", line_type="landline" if code == "21614" else None,
                looked_up_at=self.services.clock.now()))
        retryable = status >= 500 or status in RETRYABLE_STATUS or code == "20429"
        return CarrierError(f"Twilio {status} error {code}: {message}", retryable=retryable, code=code)

    # Recovery
    def recover_inbound_minutes(self) -> int:
        return self.settings.options.recover_inbound_minutes

    async def missed_inbound(self, to_phone: str, since: datetime) -> list[InboundMessage]:
        assert self.client is not None, "carrier not started"
        try:
            found = await self.client.messages.list_async(to=to_phone, date_sent_after=since, limit=self.recovery_limit,
                                                          page_size=self.recovery_page_size)
        except TwilioException as exc:
            raise CarrierError(f"Twilio did not list the messages to {to_phone}: {getattr(exc, 'msg', exc)}",
                               retryable=True, code=str(getattr(exc, "code", "") or "")) from None
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise CarrierError(f"Twilio did not answer: {type(exc).__name__}", retryable=True, code="timeout") from None
        if len(found) >= self.recovery_limit:  # newest first: what is cut off is the oldest
            log.warning("recovery: Twilio holds more than %d messages to %s since %s; the older ones are not "
                        "asked for", self.recovery_limit, to_phone, f"{since:%Y-%m-%d %H:%M:%S}")
        # The list holds what we sent to our own numbers too (the canary): only what came in counts.
        return [InboundMessage(carrier=self.name, carrier_message_id=m.sid, from_phone=m.from_, to_phone=m.to,
                               body=m.body or "", received_at=m.date_sent or m.date_created)
                for m in found if m.direction == "inbound" and m.from_ and m.to]

    # Lookups
    async def lookup(self, phone: str) -> PhoneLookup:
        assert self.client is not None, "carrier not started"
        now = self.services.clock.now()
        try:
            result = await self.client.lookups.v2.phone_numbers(phone).fetch_async(fields="line_type_intelligence")
        except TwilioException as exc:
            if getattr(exc, "status", None) == 404:
                return PhoneLookup(phone=phone, valid=False, looked_up_at=now)
            raise CarrierError(f"Twilio lookup failed: {getattr(exc, 'msg', exc)}", retryable=True,
                               code=str(getattr(exc, "code", "") or "")) from None
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise CarrierError(f"Twilio did not answer: {type(exc).__name__}", retryable=True, code="timeout") from None
        line = result.line_type_intelligence or {}
        return PhoneLookup(phone=phone, valid=bool(result.valid), line_type=line.get("type"),
                           carrier_name=line.get("carrier_name"), looked_up_at=now)

    # Webhooks
    def routes(self) -> list[web.RouteDef]:
        return [web.post("/inbound", self.inbound), web.post("/status", self.status), *self.voice.routes()]

    async def inbound(self, request: web.Request) -> web.Response:
        form = await self.webhook.form(request, twilio_webhook.INBOUND)
        sid = form["MessageSid"]
        trace_id = request.get(TRACE_ID)
        phone = self.services.inbound.normalize(form["From"])
        opt = (form.get("OptOutType") or "").upper()
        if opt == "STOP":
            await self.optouts.opt_out(phone, "STOP", trace_id)
        elif opt == "START":
            await self.optouts.opt_in(phone, "START", trace_id)
        result = await self.services.inbound.receive(
            carrier=self.name, carrier_message_id=sid, from_phone=phone,
            to_phone=form["To"], body=form["Body"], trace_id=trace_id,
            may_reply=opt != "STOP")  # Twilio refuses any text to a number that just opted out
        twiml = MessagingResponse()
        for reply in result.replies:
            twiml.message(reply)
        return web.Response(text=str(twiml), content_type="text/xml")

    async def status(self, request: web.Request) -> web.Response:
        form = await self.webhook.form(request, twilio_webhook.STATUS)
        sid, status = form["MessageSid"], form["MessageStatus"].lower()
        report = DeliveryReport(carrier=self.name, carrier_message_id=sid, status=status,
                                error_code=form.get("ErrorCode") or None, at=self.services.clock.now())
        # A report that overtook the outbox's record of its send is recorded, and that record applies it (on any
        # daemon: OutboxStore.outbound_sent); waited for briefly here all the same, so that it is applied and
        # counted now.
        result = await self.overtaken(lambda: self.services.store.delivery_report(report, self.delivery_log),
                                      lambda result: result.known)
        if result.logged:
            self.services.metrics.carrier_errors.labels(self.name, report.error_code or "none").inc()
            self.services.metrics.logged(result.logged)
        if report.error_code == UNSUBSCRIBED and form.get("To"):
            await self.optouts.opt_out(self.services.inbound.normalize(form["To"]), UNSUBSCRIBED)
        if not result.known:
            log.info("twilio status %s for unknown message %s: recorded only", status, sid)
        return web.Response(status=204)

    async def overtaken(self, look: Callable[[], Awaitable[T]], found: Callable[[T], bool]) -> T:
        """``look()`` (at what a webhook is about), again while a send that the webhook may have overtaken is
        under way, for ``unknown_report_wait_seconds`` at most: the first result ``found``, else the last.
        Whether a send is under way is asked before the next look, never after the last: a send recorded between
        a look and that question is seen by the next look, not missed."""
        result = await look()
        for _ in range(int(self.unknown_report_wait_seconds / 0.02)):
            if found(result):
                break
            waiting = await self._sent_lately()
            if waiting:
                await asyncio.sleep(0.02)  # real time: the outbox's commit is what we wait for
            result = await look()
            if not waiting:
                break
        return result

    async def _sent_lately(self) -> bool:
        """Whether the report may be for a send whose outcome is not committed yet: this daemon's, or (where
        daemons share the store) any daemon's claim still under lease."""
        last = self._last_send
        if self._sending > 0 or (last is not None and self.services.clock.monotonic() - last < 10):
            return True
        store = self.services.store
        return store.shared and await store.sends_in_flight(self.services.clock.now())

    def delivery_log(self, item: OutboxItem, report: DeliveryReport) -> list[LogEntry]:
        if report.outcome == "delivered":
            return []
        error = f" (error {report.error_code})" if report.error_code else ""
        return [LogEntry(code=codes.SEND_FAILED, at=report.at, site_id=item.site_id, contact_id=item.contact_id,
                         phone=item.to_phone, verification_id=item.verification_id,
                         comment=f"Twilio reported the text {report.status}{error} (outbox {item.id}, {item.kind})",
                         details={"error_code": report.error_code, "carrier_message_id": report.carrier_message_id,
                                  "outbox_id": item.id})]
