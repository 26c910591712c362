"""Prometheus metrics, one registry per application so tests can build many apps."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from gateway import codes


class _Children:
    """``labels(...)`` remembered per label values: prometheus_client checks and converts the values and takes
    a lock on every call, which the per-text counters paid on each inbound text. Only for metrics whose
    series are never removed (a removed child would stay remembered)."""

    def labels(self, *values: str, **named: str):
        if named:  # by name: as prometheus_client does it, not remembered
            return super().labels(*values, **named)
        try:
            return self._children[values]
        except AttributeError:
            self._children = {}
        except KeyError:
            pass
        child = self._children[values] = super().labels(*values)
        return child


class _Counter(_Children, Counter):
    pass


class _Histogram(_Children, Histogram):
    pass


class Metrics:
    def __init__(self, *, canary: bool = False) -> None:
        """``canary``: one is configured, so its series exist (from 0) for the canary alerts to read."""
        self.registry = CollectorRegistry()
        r = self.registry
        self.inbound = _Counter("gateway_inbound_messages", "Inbound texts by carrier and outcome.",
                               ["carrier", "outcome"], registry=r)
        self.inbound_recovered = Counter("gateway_inbound_recovered", "Inbound texts the carrier took while the "
                                         "gateway could not, recovered from it and run late.", ["carrier"], registry=r)
        self.outbound = Counter("gateway_outbound_messages", "Outbound send attempts by carrier and outcome.",
                                ["carrier", "outcome"], registry=r)
        self.outbound_segments = Counter("gateway_outbound_segments", "SMS segments handed to the carrier.",
                                         ["carrier"], registry=r)
        self.event_log = _Counter("gateway_event_log_rows", "Event-log rows written, by event code.",
                                 ["code"], registry=r)
        self.event_log.labels(codes.SEND_EXPIRED)  # alerted on: at 0 from the start, so increase() sees the first
        self.outbox_depth = Gauge("gateway_outbox_depth", "Messages queued or sending.", registry=r)
        self.time_to_response = Histogram(
            "gateway_verification_response_seconds", "Time from verification sent to first decisive response.",
            buckets=(5, 15, 30, 60, 120, 180, 300, 600, 1800), registry=r)
        self.verifications = _Counter("gateway_verifications", "Verifications by what became of them.",
                                     ["outcome"], registry=r)
        self.http_latency = _Histogram(
            "gateway_http_request_seconds", "HTTP request latency by route and status.", ["route", "status"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5), registry=r)
        self.http_connections = Gauge("gateway_http_connections", "Open HTTP connections.", registry=r)
        self.http_connections_closed = Counter(
            "gateway_http_connections_closed", "HTTP connections closed by the gateway before their client did, by "
            "reason (header_timeout, body_timeout, evicted, refused).", ["reason"], registry=r)
        self.keyword_reloads = Counter("gateway_keyword_reloads", "keywords.yaml reloads by result.",
                                       ["result"], registry=r)
        self.keyword_table_loaded = Gauge("gateway_keyword_table_loaded_timestamp_seconds",
                                          "When the keyword table in force was loaded.", registry=r)
        self.webhook_deliveries = Counter("gateway_webhook_deliveries", "Webhook delivery attempts by subscriber (its "
                                          "URL without query string) and outcome (delivered, retry, failed).",
                                          ["subscriber", "outcome"], registry=r)
        self.checks_shed = Counter("gateway_credential_checks_shed", "Credential checks (argon2) refused unchecked "
                                   "because too many came at once, by kind (pin, api_key, oauth_client) and reason "
                                   "(queue, caller, overall).", ["kind", "reason"], registry=r)
        # Read at each scrape (gateway/daemon/readiness.py), so an alert sees the state of now.
        self.store_up = Gauge("gateway_store_up", "1 when the store answers (the /readyz check), else 0.", registry=r)
        self.sender_up = Gauge("gateway_sender_up", "1 when the outbox sender loop runs, else 0.", registry=r)
        self.outbox_oldest_age = Gauge("gateway_outbox_oldest_age_seconds", "Age of the oldest message queued or "
                                       "sending, by kind (no series for a kind with none).", ["kind"], registry=r)
        self.carrier_errors = Counter("gateway_carrier_errors", "Carrier refusals and failed delivery reports, by the "
                                      "carrier's error code (none: it gave none).", ["carrier", "code"], registry=r)
        self.carrier_last_success = Gauge("gateway_carrier_last_success_timestamp_seconds",
                                          "When the carrier last accepted a message.", ["carrier"], registry=r)
        self.keyword_reload_rejected = Gauge("gateway_keyword_reload_rejected_timestamp_seconds",
                                             "When a keywords.yaml reload was last rejected (0: never).", registry=r)
        self.canary_round_trip = Histogram(
            "gateway_canary_round_trip_seconds", "Time from a canary text queued to its return as an inbound text.",
            buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600), registry=r if canary else None)
        self.canary_missed = Counter("gateway_canary_missed", "Canary texts that did not come back in time.",
                                     registry=r if canary else None)

    def logged(self, entries) -> None:
        for entry in entries:
            self.event_log.labels(entry.code).inc()

    def answered(self, responses, verifications) -> None:
        """Count each answer recorded, and how long after its verification was opened it came."""
        opened = {v.id: v.created_at for v in verifications}
        for response in responses:
            self.verifications.labels(response.response).inc()
            if response.verification_id in opened:
                self.time_to_response.observe((response.at - opened[response.verification_id]).total_seconds())
