"""The one rule for a contact's fields, whichever way in (the command line, the partner API) it comes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from gateway.errors import ValidationFailed
from gateway.model import Contact
from gateway.services.sites import Form, checked

DRAFT = Contact(id=0, site_id="site_main", first_name="", last_name="", created_at=datetime(2026, 1, 15, tzinfo=timezone.utc))
NAMES = {"first_name": " Jane ", "last_name": "Roe"}
OPTIONS = Form(names={"phone": "--phone", "auto_notify": "--auto-notify", "email_notify": "--email-notify",
                      "email": "--email", "external_contact_id": "--external-id"})


@pytest.mark.parametrize("phone, auto_notify", [("(555) 012-3456", True), ("  ", False), (None, False)])
def test_auto_notify_not_said_means_when_there_is_a_phone(phone, auto_notify):
    contact = checked(DRAFT, {**NAMES, "phone": phone, "auto_notify": None}, "US", Form())
    assert (contact.first_name, contact.phone, contact.auto_notify) == (
        "Jane", "+15550123456" if auto_notify else None, auto_notify)


@pytest.mark.parametrize("changes, form, message", [
    ({"phone": "12"}, OPTIONS, "--phone: '12' is not a possible phone number for region US."),
    ({"phone": "12"}, Form(), "phone: '12' is not a possible phone number for region US."),
    ({"auto_notify": True}, OPTIONS, "--auto-notify needs --phone: auto processes text the contact."),
    ({"email_notify": True}, Form(), "email_notify needs email: verifications by email go there."),
    ({"time_zone": "Mars/Olympus"}, Form(), "time_zone: 'Mars/Olympus' is not an IANA time zone (e.g. America/New_York)."),
    ({"external_contact_id": " "}, Form(names=OPTIONS.names, external_id_required=True), "--external-id must not be blank."),
    ({"first_name": "\x1b[2J"}, Form(), "first_name must not contain control characters (found U+001B)."),
])
def test_each_refusal_names_the_field_as_its_caller_spells_it(changes, form, message):
    with pytest.raises(ValidationFailed) as refused:
        checked(DRAFT, {**NAMES, **changes}, "US", form)
    assert refused.value.message == message


def test_an_update_keeps_the_rules_for_what_it_does_not_change():
    contact = checked(DRAFT, {**NAMES, "phone": "5550123456", "auto_notify": True}, "US", Form())
    assert checked(contact, {"title": "Key holder"}, "US", Form()).phone == "+15550123456"
    with pytest.raises(ValidationFailed, match="auto_notify needs phone"):
        checked(contact, {"phone": None}, "US", Form())
