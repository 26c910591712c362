"""How records look in JSON answers: one place per record, shared by every route that shows it."""

from __future__ import annotations

from gateway.clock import isoformat
from gateway.model import Verification
from gateway.stores import Store


def verification_json(v: Verification, names: dict[int, str] | None = None) -> dict:
    """A verification as the seed shows it; contact ids are the Contacts API's numbers."""
    names = names or {}
    data = {
        "verification_id": v.id, "event_id": v.event_id, "site_id": v.site_id, "status": v.status,
        "method": v.method, "process": v.process, "sent_at": isoformat(v.created_at),
        "timeout_at": isoformat(v.timeout_at) if v.require_response else None,
        "require_response": v.require_response, "response": v.response,
        "responded_at": isoformat(v.responded_at) if v.responded_at else None, "responded_by": v.responded_by,
        "sent_to": [
            {"contact_id": r.contact_id, "name": names.get(r.contact_id), "channel": r.channel,
             **({"email": r.email} if r.channel == "email" else {"phone": r.phone}),
             "status": r.status, "error": r.error, "response": r.response,
             "responded_at": isoformat(r.responded_at) if r.responded_at else None}
            for r in v.recipients],
    }
    return data


async def contact_names(store: Store, v: Verification) -> dict[int, str | None]:
    """The names of a verification's recipients, for ``sent_to``."""
    names: dict[int, str | None] = {}
    for r in v.recipients:
        if r.contact_id not in names:
            contact = await store.get_contact(r.contact_id)
            names[r.contact_id] = contact.name if contact else None
    return names
