"""The schema's migrations, in order: one list for every engine, each with its own SQL per name
(gateway/stores/sql/<engine>/migrations/<name>.sql)."""

from __future__ import annotations

MIGRATIONS = (
    "0001_initial",
    "0002_sms_interface",
    "0003_twilio",
    "0004_partner",
    "0005_notifications",
    "0006_webhook_deliveries",
    "0007_verifications_api",
    "0008_claims",
    # main's names, kept: databases of the SQLite-only releases have them applied already
    "0008_console",
    "0009_trace",
    "0010_recovery",
    "0011_reply_refs",
    "0012_paging",
    "0013_sender_pace",
    "0014_call_lists",
    "0015_channels",
    "0016_one_trip",
    "0017_response_channel",
    "0018_partial_indexes",
)

# Every table the migrations make but schema_migrations, parents before the tables that refer to them.
TABLES = (
    "sites", "site_groups", "site_group_sites", "contacts", "alarm_events", "verifications",
    "verification_recipients", "inbound_messages", "outbound_messages", "event_log", "api_keys",
    "loopback_messages", "interface_state", "delivery_statuses", "opt_outs", "phone_lookups", "oauth_clients",
    "oauth_tokens", "contact_welcome", "webhook_events", "webhook_deliveries", "webhook_cursor",
    "response_tokens", "dispatches", "dispatch_recipients", "loopback_inbound",
    "reply_refs", "sender_pace", "push_subscriptions",
)
