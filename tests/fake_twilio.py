"""A fake Twilio on 127.0.0.1 that the real twilio library talks to, and fixtures around it.

It serves the Messages resource (Basic auth checked, 201 answers shaped like Twilio's,
scripted errors and slow answers; the list of every message it took or sent, paged as Twilio
pages it: tests/fake_twilio_messages.py), Calls (tests/fake_twilio_calls.py) and Lookup v2, and it fires status
callbacks and inbound webhooks signed with the auth token exactly as Twilio signs them. A text sent to one of ``numbers``
comes back to that number's inbound webhook (the canary's way round), unless ``drop`` says to lose it;
``missed_text`` is a text Twilio took while the gateway could not (its webhook failed: error 11200).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

import msgspec
import pytest
from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from gateway.core import segments
from gateway.config import Carrier, Twilio
from tests import fake_twilio_messages
from tests.fake_twilio_calls import FakeCalls
from tests.fake_twilio_messages import Message
from tests.helpers import serve_on_loopback

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f" * 32
TWILIO_NUMBER = "+15005550006"
Fields = dict[str, str] | list[tuple[str, str]]


@dataclass
class Answer:
    """A scripted answer to the next create: an error (status, code) and/or a delay."""

    status: int = 201
    code: int | None = None
    message: str = ""
    delay: float = 0.0


@dataclass
class Received:
    sid: str
    form: dict[str, str]
    at: float  # the test clock's monotonic time (or real time) when the fake got it

    @property
    def to(self) -> str:
        return self.form["To"]

    @property
    def body(self) -> str:
        return self.form["Body"]


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    clock: object = None
    script: list[Answer] = field(default_factory=list)
    errors_for: dict[str, Answer] = field(default_factory=dict)  # by To number, every time
    always: Answer | None = None  # while set, every create gets this answer (an outage, a slow API)
    lines: dict[str, str | None] = field(default_factory=dict)  # lookup: number -> line type, None = invalid
    auto_reports: tuple[str, ...] = ()  # statuses to call back with after each accepted message
    received: list[Received] = field(default_factory=list)
    tried: list[Received] = field(default_factory=list)  # every create that passed auth, refused ones too
    lookups: list[str] = field(default_factory=list)
    refused: int = 0
    numbers: dict[str, str] = field(default_factory=dict)  # our numbers -> their "a message comes in" webhook URL
    drop: int = 0  # texts to ``numbers`` to lose on the way (then counted down)
    messages: list[Message] = field(default_factory=list)  # the Messages list: every text taken or sent
    listed: list[dict[str, str]] = field(default_factory=list)  # the query of each list page asked for
    in_flight: int = 0
    max_in_flight: int = 0
    url: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self.deliver_to = None  # a test client (aiohttp) or base URL where callbacks are delivered
        self.calls = FakeCalls(self)  # the Calls resource (tests/fake_twilio_calls.py)

    async def start(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._create)
        app.router.add_get("/2010-04-01/Accounts/{account}/Messages.json", self._list)
        app.router.add_get("/v2/PhoneNumbers/{number}", self._lookup)
        app.router.add_post("/2010-04-01/Accounts/{account}/Calls.json", self.calls.create)
        self._runner, self.url = await serve_on_loopback(app)
        return self

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    def _now(self) -> float:
        return self.clock.monotonic() if self.clock is not None else time.monotonic()

    def _wall(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(timezone.utc)

    async def settle(self) -> None:
        """Wait for the callbacks and webhooks fired so far (and those they fire) to be answered."""
        for _ in range(10):
            if not self._tasks:
                return
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    @staticmethod
    def _error(status: int, code: int | None, message: str) -> web.Response:
        return web.json_response({"code": code or status, "message": message or "error",
                                  "more_info": f"https://www.twilio.com/docs/errors/{code or status}",
                                  "status": status}, status=status)

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authorized(request) or request.match_info["account"] != self.account_sid:
            self.refused += 1
            return self._error(401, 20003, "Authenticate")
        form = dict(await request.post())
        self.tried.append(Received("", form, self._now()))
        answer = (self.always or self.errors_for.get(form.get("To", ""))
                  or (self.script.pop(0) if self.script else Answer()))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if answer.delay:
                await asyncio.sleep(answer.delay)
        finally:
            self.in_flight -= 1
        if answer.status != 201:
            self.refused += 1
            return self._error(answer.status, answer.code, answer.message)
        sid = f"SM{next(self._ids):032x}"
        self.received.append(Received(sid, form, self._now()))
        to, from_ = form.get("To", ""), form.get("From") or TWILIO_NUMBER
        self.messages.append(Message(sid, to, from_, form.get("Body", ""), "outbound-api", "queued", self._wall(),
                                     self._wall()))
        for status in self.auto_reports:
            self._spawn(self.report(sid, status))
        if to in self.numbers:
            if self.drop:
                self.drop -= 1
            else:
                inbound = self.record_inbound(from_, form.get("Body", ""), to=to)
                self._spawn(self.post_signed(self.numbers[to], self.inbound_fields(from_, inbound.body, inbound.sid,
                                                                                  To=to)))
        return web.json_response(self._message(sid, form), status=201)

    async def _list(self, request: web.Request) -> web.Response:
        if not self._authorized(request) or request.match_info["account"] != self.account_sid:
            return self._error(401, 20003, "Authenticate")
        query = dict(request.query)
        self.listed.append(query)
        return web.json_response(fake_twilio_messages.page(self.messages, self.account_sid, query))

    def record_inbound(self, from_: str, body: str, sid: str | None = None, to: str = TWILIO_NUMBER) -> Message:
        """A text Twilio took for one of our numbers: on its Messages list from now on (once per sid)."""
        known = next((m for m in self.messages if sid is not None and m.sid == sid), None)
        if known is not None:
            return known
        message = Message(sid or self.new_sid(), to, from_, body, "inbound", "received", self._wall(), self._wall())
        self.messages.append(message)
        return message

    def missed_text(self, from_: str, body: str, sid: str | None = None, to: str = TWILIO_NUMBER) -> str:
        """A text Twilio took while the gateway could not (its webhook failed, error 11200): only on the list."""
        return self.record_inbound(from_, body, sid, to).sid

    def _message(self, sid: str, form: dict[str, str]) -> dict:
        stamp = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        return {"sid": sid, "account_sid": self.account_sid, "to": form.get("To"), "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"), "body": form.get("Body"),
                "status": "queued", "num_segments": str(segments.count(form.get("Body", "")).segments),
                "num_media": "0", "direction": "outbound-api", "api_version": "2010-04-01", "price": None,
                "price_unit": "USD", "error_code": None, "error_message": None, "date_created": stamp,
                "date_updated": stamp, "date_sent": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json", "subresource_uris": {}}

    async def _lookup(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._error(401, 20003, "Authenticate")
        number = request.match_info["number"]
        self.lookups.append(number)
        line = self.lines.get(number, "mobile")
        valid = line is not None
        return web.json_response({
            "calling_country_code": "1", "country_code": "US", "phone_number": number, "national_format": number,
            "valid": valid, "validation_errors": [] if valid else ["NOT_A_NUMBER"], "caller_name": None,
            "line_type_intelligence": {"type": line, "carrier_name": "Fake Wireless", "mobile_country_code": "310",
                                       "mobile_network_code": "456", "error_code": None} if valid else None,
            "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{number}"})

    # What Twilio sends to the gateway
    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def sign(self, url: str, fields: Fields) -> str:
        """The X-Twilio-Signature Twilio computes (the real library's code) for ``fields`` POSTed to ``url``."""
        return RequestValidator(self.auth_token).compute_signature(url, MultiDict(fields))

    def validates(self, url: str, fields: Fields, signature: str) -> bool:
        """Whether the real library's validator accepts ``signature`` for ``fields`` (as a receiver checks it)."""
        return RequestValidator(self.auth_token).validate(url, MultiDict(fields), signature)

    async def post_signed(self, url: str, fields: Fields, *, signature: str | None = None):
        """POST ``fields`` (a dict, or (key, value) pairs in wire order) as Twilio would to ``url`` (the URL it
        signs), delivered to ``deliver_to``."""
        headers = {"X-Twilio-Signature": signature if signature is not None else self.sign(url, fields)}
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if isinstance(self.deliver_to, str):
            import aiohttp

            async with aiohttp.ClientSession() as session:
                async with session.post(self.deliver_to + path, data=fields, headers=headers) as resp:
                    return resp.status, await resp.text()
        resp = await self.deliver_to.post(path, data=fields, headers=headers)
        return resp.status, await resp.text()

    async def report(self, sid: str, status: str, error_code: str | None = None):
        """Fire the status callback of message ``sid``, as Twilio does."""
        message = next(r for r in self.received if r.sid == sid)
        return await self.post_signed(message.form["StatusCallback"], self.report_fields(sid, status, error_code))

    def report_fields(self, sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
        """The form of a status callback about message ``sid``, as Twilio sends it."""
        message = next((r for r in self.received if r.sid == sid), None)
        form = message.form if message else {"To": "+15550123456"}
        fields = {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01", "MessageSid": sid, "SmsSid": sid,
                  "MessageStatus": status, "SmsStatus": status, "To": form["To"],
                  "From": form.get("From", TWILIO_NUMBER)}
        if error_code:
            fields["ErrorCode"] = error_code
        return fields

    def inbound_fields(self, from_: str, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
        """The form of an inbound SMS webhook, as Twilio sends it (its three message-id keys alike)."""
        sid = sid or self.new_sid()
        return {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01", "MessageSid": sid, "SmsSid": sid,
                "SmsMessageSid": sid, "SmsStatus": "received", "From": from_, "To": TWILIO_NUMBER, "Body": body,
                "NumMedia": "0", "NumSegments": "1", "FromCountry": "US", "ToCountry": "US", **extra}

    async def text(self, url: str, from_: str, body: str, sid: str | None = None, **extra: str):
        """An inbound SMS webhook to ``url`` (the gateway's public inbound URL); on the Messages list too."""
        fields = self.inbound_fields(from_, body, sid, **extra)
        self.record_inbound(from_, body, fields["MessageSid"], fields["To"])
        return await self.post_signed(url, fields)

    def new_sid(self) -> str:
        return f"SM{next(self._ids) + 10**9:032x}"


def twilio_carrier_config(fake: FakeTwilio, **options) -> Carrier:
    return Carrier(backend="twilio", from_number=TWILIO_NUMBER,
                   twilio=Twilio(account_sid=fake.account_sid, auth_token=fake.auth_token, api_base_url=fake.url,
                                 **options))


@contextlib.contextmanager
def fake_twilio_in_a_thread():
    """The fake Twilio on its own event loop, so the test can drive a daemon with blocking calls."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-twilio", daemon=True)
    thread.start()

    def call(coro, timeout: float = 20):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    fake = FakeTwilio()
    call(fake.start())
    try:
        yield fake, call
    finally:
        call(fake.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
async def fake_twilio(clock):
    fake = await FakeTwilio(clock=clock).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def tw(client, fake_twilio):
    """The fake Twilio with its webhooks and status callbacks posted to the test's application (``client``)."""
    fake_twilio.deliver_to = client
    return fake_twilio


def with_twilio(config, fake: FakeTwilio, *, public_url: str | None = None, **options):
    """``config`` with the Twilio carrier pointed at ``fake``."""
    http = msgspec.structs.replace(config.http, public_url=public_url or config.http.public_url)
    return msgspec.structs.replace(config, http=http, carrier=twilio_carrier_config(fake, **options))
