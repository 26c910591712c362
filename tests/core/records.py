"""The pure core's inputs, built directly: a keyword table, and model records with what a test changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from msgspec.structs import replace

from gateway.core.keywords import AutoProcess, CatchAll, DispatchTemplate, Keyword, KeywordTable
from gateway.model import AlarmEvent, Contact, Recipient, Site, Verification

NOW = datetime(2026, 1, 15, 15, 30, tzinfo=timezone.utc)  # 10:30 in New York, 09:30 in Chicago
PHONE = "+15550123456"
OTHER_PHONE = "+15550123457"
GATEWAY = "+15550000000"

YES = Keyword(word="YES", aliases=("Y", "CONFIRM"), code="SMSYES",
              reply="Thank you {first_name}. Alarm at {site_name} CONFIRMED.", outcome="confirm")
NO = Keyword(word="NO", aliases=("N", "CANCEL"), code="SMSNO",
             reply="Thank you {first_name}. Alarm at {site_name} CANCELLED.", outcome="cancel")
HELP = Keyword(word="HELP", aliases=("?",), code="SMSHELP", reply="Reply YES to confirm or NO to cancel.",
               outcome="help")
BURGLARY = AutoProcess(
    name="burglary", triggers=frozenset({"BA", "BV"}),
    template="{central_station}: ALARM at {site_name}: {event_text} zone {zone} at {time}. Reply YES or NO "
             "within {timeout_minutes} min.",
    timeout_seconds=300, sent_code="SMSSENT", response_code="SMSReply", pin_response_code="SMSPINReply",
    expired_code="SMSTIMEOUT", keywords=(YES, NO, HELP))
# A second process on the same trigger: one answer must settle both.
SUPERVISOR = AutoProcess(
    name="supervisor", triggers=frozenset({"BA"}), template="Supervisor: alarm at {site_name}.", timeout_seconds=600,
    sent_code="SUPSENT", response_code="SUPReply", pin_response_code="SUPPIN", expired_code="SUPTIMEOUT",
    keywords=(YES, NO))
POLICE = DispatchTemplate(name="police-dispatched", code="SMSDISP", text="Police sent to {site_name}. Ref {reference}.",
                          variables=("reference",), reply_window_minutes=60)
TABLE = KeywordTable(processes=(BURGLARY, SUPERVISOR), dispatch_templates={POLICE.name: POLICE},
                     unknown_sender=CatchAll("SMSUNKNOWN", None),
                     known_sender=CatchAll("SMSIN", "{central_station} got your text."),
                     central_station="Acme Monitoring", source="<tests>")


def site(**fields) -> Site:
    return replace(Site(id="site_main", dealer_id="12345", name="Main Office", time_zone="America/New_York",
                        created_at=NOW), **fields)


def contact(**fields) -> Contact:
    return replace(Contact(id=1, site_id="site_main", first_name="John", last_name="Doe", phone=PHONE,
                           auto_notify=True, created_at=NOW), **fields)


def alarm(**fields) -> AlarmEvent:
    return replace(AlarmEvent(id="evt_1", site_id="site_main", event_code="BA", zone="3", text="Motion, hallway",
                              received_at=NOW), **fields)


def verification(**fields) -> Verification:
    """A burglary verification of alarm evt_1, texted to contact 1 at NOW, open for five minutes."""
    return replace(Verification(id="ver_1", site_id="site_main", event_id="evt_1", process="burglary", status="sent",
                                created_at=NOW, timeout_at=NOW + timedelta(minutes=5),
                                recipients=(Recipient(contact_id=1, phone=PHONE, status="sent"),)), **fields)


# A site-group contact with a PIN, a duress PIN and the On Test permission, and her group's sites.
GINA = contact(id=7, site_id=None, group_id="grp_1", first_name="Gina", last_name="Group", time_zone="America/Chicago",
               pin_hash="$argon2id$...", duress_pin_hash="$argon2id$...", on_test_permission=True)
GINAS_SITES = [site(id="site_a", name="Main Office"), site(id="site_b", name="Main Warehouse"),
               site(id="site_c", name="Depot")]
