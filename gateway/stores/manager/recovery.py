"""What recovery from the carrier (gateway/loops/recovery.py) asks of the store: the inbound texts
recorded, the verifications a late text could have answered, and the loopback carrier's missed texts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gateway.model import InboundMessage, Verification
from gateway.stores.manager.base import StoreBase
from gateway.stores.records import verification_from_row


class RecoveryStore(StoreBase):
    async def newest_inbound_at(self, carrier: str, to_phone: str) -> datetime | None:
        """When the newest inbound text to ``to_phone`` through ``carrier`` was recorded; None: never."""
        row = await self.db.fetch("newest_inbound_at", carrier=carrier, to_phone=to_phone)
        return row["received_at"] if row else None

    async def seen_inbound(self, carrier: str, carrier_message_ids: Sequence[str]) -> set[str]:
        """Those of ``carrier_message_ids`` already recorded as inbound texts of ``carrier``."""
        if not carrier_message_ids:
            return set()
        return {r["carrier_message_id"]
                for r in await self.db.fetch("seen_inbound", carrier=carrier, ids=list(carrier_message_ids))}

    async def verifications_open_at(self, phone: str, at: datetime) -> list[tuple[Verification, int]]:
        """Verifications a text from ``phone`` at ``at`` could have answered (opened by then, timing out after
        it), whatever became of them since, newest first, with the recipient contact id."""
        return [(verification_from_row(r), r["recipient_contact_id"])
                for r in await self.db.fetch("verifications_open_at", phone=phone, at=at)]

    async def record_loopback_inbound(self, message: InboundMessage) -> bool:
        """Keep a text the loopback carrier took for the gateway and did not deliver; False when its id was
        kept before."""
        row = await self.db.execute("insert_loopback_inbound", message_id=message.carrier_message_id,
                                    from_phone=message.from_phone, to_phone=message.to_phone, body=message.body,
                                    received_at=message.received_at)
        return row is not None

    async def loopback_inbound(self, to_phone: str, since: datetime, limit: int) -> list[InboundMessage]:
        """The texts to ``to_phone`` the loopback carrier kept, received at or after ``since``, oldest first."""
        return [InboundMessage(carrier="loopback", carrier_message_id=r["message_id"], from_phone=r["from_phone"],
                               to_phone=r["to_phone"], body=r["body"], received_at=r["received_at"])
                for r in await self.db.fetch("loopback_inbound", to_phone=to_phone, since=since, limit=limit)]
