"""The PIN a text carries survives nowhere the pipeline writes: its rows, its replies, the remembered command.

Driven as gateway/services/inbound.py drives it: the PIN is split off the text, the stored body masked with it,
the PIN checked (here: drawn), and the pure pipeline decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from gateway.config import Interface, Verifications
from gateway.core.interface import Access
from gateway.config.keyword_file import load_keyword_table
from gateway.core.pin import PinCheck, masked, split_pin
from gateway.core.pipeline import Sender, Text, decide_inbound
from gateway.model import Contact, Decision, InboundMessage, InterfaceState, Site
from tests.conftest import KEYWORDS
from tests.fuzz.budget import examples
from tests.fuzz.test_pin_masking_properties import PIN, SCRIPT_MIX, in_script, spelled, survives

NOW = datetime(2026, 1, 15, 10, 30, tzinfo=timezone.utc)
PHONE = "+15550004444"
TABLE = load_keyword_table(KEYWORDS)
SITES = [Site(id="site_a", dealer_id="1", name="Main Office", created_at=NOW),
         Site(id="site_b", dealer_id="1", name="Depot", created_at=NOW)]
CONTACT = Contact(id=7, site_id=None, group_id="g1", first_name="Ann", last_name="Lee", phone=PHONE,
                  pin_hash="$argon2id$checked-elsewhere", on_test_permission=True, created_at=NOW)
VERBS = st.sampled_from(["", "STATUS", "EVENTS", "TEST", "UNTEST", "SITES", "HELP", "LOGOUT", "YES", "status"])


@st.composite
def pin_shapes(draw, pin: str) -> str:
    """``pin`` as someone may write it again in a command: whole, as a time, in halves (the shapes rule 2 keeps
    readable, so only rule 1 masks them), any way at all."""
    half = len(pin) // 2
    return draw(st.sampled_from([pin, f"{pin[:half]}:{pin[half:]}", f"{pin[:half]} {pin[half:]}",
                                 f"{pin[:half]}  {pin[half:]}", f"{pin[:2]}.{pin[2:4]}.{pin[4:]}", draw(spelled(pin))]))


@st.composite
def commands(draw) -> tuple[str, str]:
    pin = draw(PIN)
    args = draw(st.lists(st.one_of(pin_shapes(pin), pin_shapes(pin), st.sampled_from(["1", "2", "Main", "60", "x"])),
                         max_size=3))
    # a verb, or none: "12:34 1234" in a session is an unknown command, and logged
    words = " ".join([draw(VERBS), *args]).strip()
    return in_script(words, draw(SCRIPT_MIX)) + " " + in_script(pin, draw(SCRIPT_MIX)), pin


def decide(body: str, check: PinCheck, state: InterfaceState | None, contact: Contact | None) -> Decision:
    words, pin = split_pin(body)
    msg = InboundMessage(carrier="loopback", carrier_message_id="SM1", from_phone=PHONE, to_phone="+15550000000",
                         body=masked(body, pin), received_at=NOW)
    access = Access(contact=contact, sites=SITES if contact else (), state=state)
    sender = Sender(contacts=[contact] if contact else [], access=access)
    return decide_inbound(msg, sender, Text(words=words, stored=msg.body, pin=check), TABLE, Interface(),
                          Verifications())


def written(decision: Decision) -> list[str]:
    """Every text the decision stores or sends."""
    out = [decision.inbound.body, *decision.replies]
    for row in decision.log:
        out += [row.comment or "", msgspec.json.encode(row.details).decode()]
    if decision.interface_state:
        out.append(decision.interface_state.pending_command or "")
    return out


SESSION = InterfaceState(phone=PHONE, session_contact_id=CONTACT.id, session_expires_at=NOW + timedelta(minutes=5))
PENDING = InterfaceState(phone=PHONE, pending_command="STATUS", pending_until=NOW + timedelta(minutes=1))
LOCKED = InterfaceState(phone=PHONE, failures=5, failures_since=NOW, locked_until=NOW + timedelta(minutes=1))
# What the service's check can answer for a text carrying a PIN: ABSENT only in a lockout (nothing is checked),
# VALID, DURESS and WRONG only for a contact with a PIN, UNCHECKED only without one.
KNOWN = [PinCheck.VALID, PinCheck.DURESS, PinCheck.WRONG, PinCheck.SHED, PinCheck.ABSENT]
UNKNOWN = [PinCheck.UNCHECKED, PinCheck.SHED, PinCheck.ABSENT]


@examples(300)
@given(commands(), st.booleans(), st.sampled_from([None, SESSION, PENDING]), st.data())
def test_no_row_reply_or_remembered_command_spells_the_pin(case, known, state, data):
    body, pin = case
    check = data.draw(st.sampled_from(KNOWN if known else UNKNOWN))
    decision = decide(body, check, LOCKED if check is PinCheck.ABSENT else state, CONTACT if known else None)
    for text in written(decision):
        assert not survives(text, pin), (text, decision.log)


def test_a_pin_typed_again_as_a_time_or_in_halves_is_not_echoed():
    """Found by test_no_row_reply_or_remembered_command_spells_the_pin: the interface masked what it echoed
    without the PIN the text carried, so the PIN again as a time or in halves (kept readable by rule 2) was
    logged as the unknown command and sent back in "No site '...'"."""
    unknown = decide("12:34 1234", PinCheck.VALID, SESSION, CONTACT)
    assert [row.comment for row in unknown.log if row.code == "SMSCMDUNK"] == ["****"]
    no_site = decide("STATUS 12 34 1234", PinCheck.VALID, None, CONTACT)
    assert no_site.replies == ["No site '****'. Text SITES for the list."]
