"""Verifications: reading one, expiring those nobody answered, the response links of their emails,
and what happens to one when its last recipient cannot be reached."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from gateway.clock import isoformat
from gateway.core.call_list import after_failure
from gateway.model import Decision, Notification, Verification
from gateway.stores.connector import Body, Op
from gateway.stores.manager.base import StoreBase, write_log, write_notifications
from gateway.stores.records import verification_from_row


class VerificationStore(StoreBase):
    async def get_verification(self, verification_id: str) -> Verification | None:
        return await self.db.read(_get_verification, verification_id)

    async def expire_verifications(self, now: datetime,
                                   effects_for: Callable[[Verification], Decision]) -> list[Verification]:
        """Mark every verification past its timeout expired; write the log rows and notifications of
        ``effects_for(v)`` in the same transaction. With several daemons, each verification is expired
        by one of them (rows another daemon's pass holds are skipped)."""
        return await self.db.transaction(_expire, now, effects_for)

    # Response links
    async def add_response_token(self, token_hash: str, verification_id: str, contact_id: int,
                                 expires_at: datetime, channel: str = "email") -> None:
        """A one-time link's token (its digest), for the message of ``channel`` (email, push) that carries it."""
        await self.db.execute("insert_response_token", token_hash=token_hash, verification_id=verification_id,
                              contact_id=contact_id, expires_at=expires_at, channel=channel)

    async def response_token(self, token_hash: str) -> dict[str, Any] | None:
        """The token's row with its verification's status, process, site, event and message."""
        return await self.db.fetch("get_response_token", token_hash=token_hash)

    async def use_response_token(self, token_hash: str, now: datetime) -> bool:
        """Mark the token used; False when it already was (one use only)."""
        return bool(await self.db.execute("use_response_token", token_hash=token_hash, now=now))


def _get_verification(verification_id: str) -> Body[Verification | None]:
    row = yield Op("get_verification", {"id": verification_id})
    if row is None:
        return None
    return verification_from_row(row, (yield Op("verification_recipients", {"verification_id": verification_id})))


def _expire(now: datetime, effects_for: Callable[[Verification], Decision]) -> Body[list[Verification]]:
    expired = [Verification(id=r["id"], site_id=r["site_id"], event_id=r["event_id"], process=r["process"],
                            status="expired", created_at=now, timeout_at=r["timeout_at"])
               for r in (yield Op("expire_verifications", {"now": now}))]
    for v in expired:
        yield Op("end_call_list", {"verification_id": v.id})
        effects = effects_for(v)
        yield from write_log(effects.log)
        yield from write_notifications(effects.notifications)
    return expired


def recipient_failed(verification_id: str, contact_id: int, channel: str, error: str, now: datetime) -> Body[None]:
    """Mark a recipient failed; when nobody of its verification is left, the verification fails too and
    subscribers hear ``verification.failed``."""
    yield Op("recipient_sent", {"verification_id": verification_id, "contact_id": contact_id, "status": "failed",
                                "channel": channel, "error": error})
    yield from _next_step_now(verification_id, now)
    if not (yield Op("verification_all_failed", {"verification_id": verification_id}))["all_failed"]:
        return
    failed = yield Op("verification_failed", {"verification_id": verification_id})
    yield from write_notifications([
        Notification(event_type="verification.failed", at=now, data={
            "verification_id": row["id"], "event_id": row["event_id"], "site_id": row["site_id"], "reason": error,
            "failed_at": isoformat(now)})
        for row in failed])


def _next_step_now(verification_id: str, now: datetime) -> Body[None]:
    """An in-order call list whose current step has nobody left to answer moves on now, not when the step's
    seconds are up (the escalation loop reaches the step at its next pass)."""
    row = yield Op("get_verification", {"id": verification_id})
    if row is None or not row["call_list"]:
        return
    verification = verification_from_row(row, (yield Op("verification_recipients",
                                                         {"verification_id": verification_id})))
    for r in after_failure(verification, now):
        yield Op("update_recipient_step", {"verification_id": verification_id, "contact_id": r.contact_id,
                                           "channel": r.channel, "status": r.status, "error": r.error,
                                           "due_at": r.due_at})
