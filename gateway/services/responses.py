"""Answering a verification by the confirm and cancel links of its email or push, by the rule a text answers it.

Each link token works once and dies with its verification: an unknown, used or expired token,
and one whose verification is answered or over, opens nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from gateway.auth.hashes import token_digest
from gateway.clock import Clock
from gateway.core.keywords import KeywordTable
from gateway.core.pipeline import OUTCOME_RESPONSES
from gateway.daemon.metrics import Metrics
from gateway.services.answers import Answers
from gateway.stores import OutboxItem, Store

LINKS = {"email": "email link", "push": "push notification"}  # how an answer's row names the link it came by


async def response_link(store: Store, public_url: str, item: OutboxItem) -> str | None:
    """A new one-time link for the recipient of ``item`` to answer its verification (append ``/confirm`` or
    ``/cancel``; alone it opens a page with both); None when the message asks for no answer. Only the token's
    digest is stored, and it dies with the verification."""
    if not item.verification_id or item.contact_id is None:
        return None
    verification = await store.get_verification(item.verification_id)
    if verification is None or not verification.require_response:
        return None
    token = secrets.token_urlsafe(32)
    await store.add_response_token(token_digest(token), verification.id, item.contact_id, verification.timeout_at,
                                   channel=item.channel)
    return f"{public_url.rstrip('/')}/v/{token}"


class ResponseLinks:
    def __init__(self, store: Store, table: Callable[[], KeywordTable], clock: Clock, metrics: Metrics) -> None:
        self.store, self.clock = store, clock
        self.answers = Answers(store, table, clock, metrics)

    async def message(self, token: str, outcome: str) -> str | None:
        """The verification's message that a link for ``outcome`` (confirm, cancel) would answer ("" for none);
        None when the link opens nothing."""
        found = await self._usable(token, outcome)
        return None if found is None else found["message"] or ""

    async def answer(self, token: str, outcome: str, trace_id: str | None) -> str | None:
        """Answer the verification as the link says, once: the response recorded (confirmed, cancelled), or
        None when the link opens nothing (any more)."""
        found = await self._usable(token, outcome)
        now = self.clock.now()
        if found is None or not await self.store.use_response_token(token_digest(token), now):
            return None
        verification = await self.store.get_verification(found["verification_id"])
        # answered by text (or expired) between the check above and now: None
        channel = found["channel"]
        return await self.answers.answer(verification, found["contact_id"], outcome, channel=channel,
                                         comment=f"{OUTCOME_RESPONSES[outcome]} by {LINKS.get(channel, channel)}",
                                         trace_id=trace_id)

    async def _usable(self, token: str, outcome: str) -> Mapping[str, Any] | None:
        if outcome not in OUTCOME_RESPONSES:
            return None
        found = await self.store.response_token(token_digest(token))
        if found is None or found["used_at"] or found["verification_status"] in ("responded", "expired"):
            return None
        return found if found["expires_at"] > self.clock.now() else None
