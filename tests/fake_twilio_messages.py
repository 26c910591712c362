"""The fake Twilio's Messages list: every message it took or sent, served as Twilio serves
``GET /2010-04-01/Accounts/{AccountSid}/Messages.json``.

Filters ``To``, ``From``, ``DateSent``, ``DateSent<`` and ``DateSent>`` (a whole date compares dates,
as Twilio documents; the twilio library sends date-times, compared as such), newest first by
``date_sent``, paged by ``PageSize`` (default 50, at most 1000), ``Page`` and ``PageToken`` (``PA`` and the
sid of the previous page's last message), with ``uri``, ``first_page_uri``, ``next_page_uri``,
``previous_page_uri``, ``page``, ``page_size``, ``start`` and ``end`` as the real API answers.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import date, datetime, timezone
from urllib.parse import urlencode

from gateway.core import segments

FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")


@dataclass(frozen=True)
class Message:
    sid: str
    to: str
    from_: str
    body: str
    direction: str  # inbound | outbound-api
    status: str
    date_created: datetime
    date_sent: datetime | None

    def resource(self, account_sid: str) -> dict:
        def stamp(moment: datetime | None) -> str | None:
            return email.utils.format_datetime(moment.astimezone(timezone.utc)) if moment else None

        uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{self.sid}.json"
        return {"sid": self.sid, "account_sid": account_sid, "api_version": "2010-04-01", "to": self.to,
                "from": self.from_, "body": self.body, "direction": self.direction, "status": self.status,
                "num_segments": str(segments.count(self.body).segments), "num_media": "0",
                "messaging_service_sid": None, "price": None, "price_unit": "USD", "error_code": None,
                "error_message": None, "date_created": stamp(self.date_created), "date_updated": stamp(self.date_created),
                "date_sent": stamp(self.date_sent), "uri": uri,
                "subresource_uris": {"media": uri.replace(".json", "/Media.json")}}


def _bound(value: str) -> tuple[bool, datetime | date]:
    """(whole date?, the moment or date) of a DateSent filter value."""
    if "T" in value:
        return False, datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True, date.fromisoformat(value)


def _matches(message: Message, query: dict[str, str]) -> bool:
    if query.get("To") and message.to != query["To"]:
        return False
    if query.get("From") and message.from_ != query["From"]:
        return False
    for key, keep in (("DateSent", lambda a, b: a == b), ("DateSent<", lambda a, b: a <= b),
                      ("DateSent>", lambda a, b: a >= b)):
        if query.get(key):
            if message.date_sent is None:
                return False
            whole_date, bound = _bound(query[key])
            if not keep(message.date_sent.date() if whole_date else message.date_sent, bound):
                return False
    return True


def page(messages: list[Message], account_sid: str, query: dict[str, str]) -> dict:
    """One page of the list, as Twilio answers it."""
    size = min(int(query.get("PageSize") or 50), 1000)
    number = int(query.get("Page") or 0)
    found = sorted((m for m in messages if _matches(m, query)),
                   key=lambda m: (m.date_sent or m.date_created, m.sid), reverse=True)
    token = query.get("PageToken")
    start = number * size
    if token:
        sids = [m.sid for m in found]
        start = sids.index(token[2:]) + 1 if token[2:] in sids else len(found)
    records = found[start:start + size]
    base = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
    filters = {key: query[key] for key in FILTERS if query.get(key)}

    def uri(page_number: int, page_token: str | None = None) -> str:
        params = {**filters, "PageSize": size, "Page": page_number}
        if page_token:
            params["PageToken"] = page_token
        return f"{base}?{urlencode(params)}"

    more = start + size < len(found)
    return {"messages": [m.resource(account_sid) for m in records], "page": number, "page_size": size,
            "start": start, "end": start + max(len(records) - 1, 0), "uri": uri(number, token),
            "first_page_uri": uri(0),
            "next_page_uri": uri(number + 1, "PA" + records[-1].sid) if more and records else None,
            "previous_page_uri": uri(number - 1) if number > 0 else None}
