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
)
