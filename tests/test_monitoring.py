"""The monitoring that ships (monitoring/): promtool checks and unit-tests the rules, and every metric the rules and
the dashboard read is on a real daemon's /metrics after real traffic, which passes ``promtool check metrics``.

Without promtool the promtool tests skip locally and fail under CI=true, where .ci/run installs it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from gateway import codes
from tests.conftest import ROOT, free_port
from tests.daemon import Daemon, wait_for
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, Answer, fake_twilio_in_a_thread

MONITORING = ROOT / "monitoring"
ALERTS = MONITORING / "alerts.yml"
DASHBOARD = MONITORING / "grafana-dashboard.json"
FROM_PROMETHEUS = {"up"}  # made by the scrape itself, not by the daemon

OK, REFUSED, RETRIED, UNDELIVERED = "+15550100001", "+15550100002", "+15550100003", "+15550100004"
CANARY_TO = "+15550100099"  # the daemon's second number: its canary series exist only with a canary configured
DEAD_HOOK = f"http://127.0.0.1:{free_port()}/dead"  # nothing listens: every delivery there fails
# What the traffic below must have left on /metrics before the checks read it
EXERCISED = ('gateway_keyword_reloads_total{result="ok"} 1.0',
             f'gateway_webhook_deliveries_total{{outcome="failed",subscriber="{DEAD_HOOK}"}} 1.0',
             'code="503"', 'code="21211"', 'code="30003"', 'gateway_outbox_oldest_age_seconds{kind="verification"}',
             'gateway_verifications_total{outcome="confirmed"} 1.0', "gateway_canary_round_trip_seconds_count 1.0")


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is not installed: .ci/run should have installed it (apt-get install prometheus)")
        pytest.skip("promtool is not installed (apt-get install -y prometheus)")
    return path


def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, input=input, capture_output=True, text=True, timeout=60, cwd=MONITORING)


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def panel_queries() -> list[str]:
    return [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"]
            for target in panel.get("targets", [])]


def dashboard_queries() -> list[str]:
    """The panels' PromQL and the variables' label_values() queries."""
    variables = json.loads(DASHBOARD.read_text())["templating"]["list"]
    return panel_queries() + [v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
                              for v in variables if v["type"] == "query"]


def as_promql(expr: str) -> str:
    """A panel query with Grafana's variables filled in as Grafana would."""
    for variable, value in (("$__rate_interval", "1m"), ("$__interval", "15s"), ("$__range", "6h"), ("$instance", ".+")):
        expr = expr.replace(variable, value)
    return expr


def selectors(expr: str) -> list[tuple[str, set[str]]]:
    """Each metric a query names, with the label names its {matchers} use."""
    found = []
    for match in re.finditer(r"\b(up|gateway_[a-z0-9_]+)\b(\{([^}]*)\})?", expr):
        labels = set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", match.group(3) or ""))
        found.append((match.group(1), labels))
    return found


# --- the rules ---------------------------------------------------------------------------------------------------

def test_the_rules_pass_promtool_check(promtool):
    result = run(promtool, "check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_the_rules_pass_their_unit_tests(promtool):
    result = run(promtool, "test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_unit_tested_firing_and_has_severity_summary_and_runbook():
    tested = yaml.safe_load((MONITORING / "alerts_test.yml").read_text())["tests"]
    fired = {case["alertname"] for test in tested for case in test["alert_rule_test"] if case.get("exp_alerts")}
    quiet = {case["alertname"] for test in tested for case in test["alert_rule_test"] if not case.get("exp_alerts")}
    readme = (ROOT / "README.md").read_text()
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names))
    for rule in rules():
        assert rule["alert"] in fired, f"{rule['alert']}: no test in alerts_test.yml where it fires"
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert set(rule["annotations"]) == {"summary", "description", "runbook"}, rule["alert"]
        assert f"`{rule['alert']}`" in readme and rule["annotations"]["runbook"] in readme, \
            f"{rule['alert']}: README's Monitoring section names it with its runbook line, word for word"
    assert quiet <= set(names), quiet - set(names)


def test_every_event_code_the_rules_name_is_one_the_gateway_logs():
    logged = {value for name, value in vars(codes).items() if name.isupper()}
    named = {code for rule in rules() for code in re.findall(r'code="([A-Z]+)"', rule["expr"])}
    assert named and named <= logged, named - logged


# --- the dashboard -----------------------------------------------------------------------------------------------

def test_the_dashboard_reads_everything_through_its_prometheus_datasource_variable_and_panels_do_not_overlap():
    board = json.loads(DASHBOARD.read_text())
    assert board["uid"] and board["title"] and isinstance(board["schemaVersion"], int)
    [source] = [v for v in board["templating"]["list"] if v["type"] == "datasource"]
    assert source["query"] == "prometheus"
    via = {"type": "prometheus", "uid": f"${{{source['name']}}}"}
    assert all(v["datasource"] == via for v in board["templating"]["list"] if v["type"] == "query")
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    boxes = []
    for panel in board["panels"]:
        box = panel["gridPos"]
        assert box["x"] >= 0 and box["x"] + box["w"] <= 24 and box["h"] > 0, panel["title"]
        for other_title, other in boxes:
            apart = (box["x"] + box["w"] <= other["x"] or other["x"] + other["w"] <= box["x"]
                     or box["y"] + box["h"] <= other["y"] or other["y"] + other["h"] <= box["y"])
            assert apart, f"{panel['title']!r} overlaps {other_title!r}"
        boxes.append((panel["title"], box))
        if panel["type"] != "row":
            assert panel["datasource"] == via and panel["targets"], panel["title"]
            assert all(t["datasource"] == via and t["refId"] and t["expr"] for t in panel["targets"]), panel["title"]
    for wanted in ("gateway_inbound_messages_total", "gateway_outbound_messages_total", "gateway_outbox_depth",
                   "gateway_outbox_oldest_age_seconds", "gateway_verification_response_seconds_bucket",
                   "gateway_http_request_seconds_bucket", "gateway_carrier_errors_total"):
        assert any(wanted in expr for expr in panel_queries()), wanted


def test_every_dashboard_query_is_promql_that_promtool_parses(promtool, tmp_path):
    queries = [{"record": f"dashboard:query{n}", "expr": as_promql(expr)} for n, expr in enumerate(panel_queries())]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": queries}]}))
    result = run(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


# --- a real daemon after real traffic ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def exposition(tmp_path_factory) -> str:
    """/metrics of a daemon on the Twilio carrier (the fake) with a canary, after texts sent, refused, retried,
    reported undelivered and answered, a canary around the loop, a webhook given up and a keyword reload."""
    tmp = tmp_path_factory.mktemp("monitored")
    (tmp / "webhook.secret").write_text("whsec-monitoring-0123456789\n")
    with fake_twilio_in_a_thread() as (fake, call):
        fake.errors_for[REFUSED] = Answer(status=400, code=21211, message="The 'To' number is not a valid phone number")
        fake.errors_for[RETRIED] = Answer(status=503, message="Service unavailable")
        fake.auto_reports = ("sent",)
        d = Daemon(tmp, carrier={"backend": "twilio", "from_number": TWILIO_NUMBER, "twilio": {
            "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "api_base_url": fake.url, "max_per_second": 100}},
            webhooks=[{"url": DEAD_HOOK, "secret_file": str(tmp / "webhook.secret"),
                       "timeout_seconds": 1, "max_age_seconds": 1}],
            canary={"to_number": CANARY_TO, "every_minutes": 15, "timeout_seconds": 120})
        fake.deliver_to = d.url
        fake.numbers[CANARY_TO] = d.url + "/carriers/twilio/inbound"
        try:
            site = d.cli("site", "add", "--dealer", "12345", "--name", "Main Office").stdout.split("\t")[0]
            for n, phone in enumerate((OK, REFUSED, RETRIED, UNDELIVERED)):
                d.cli("contact", "add", "--site", site, "--first-name", f"C{n}", "--last-name", "Doe", "--phone", phone,
                      "--auto-notify")
            d.start()
            status, body = d.request("POST", "/ext/v1/events", json.dumps({"site_id": site, "event_code": "BA"}).encode(),
                                     {"Content-Type": "application/json", "Authorization": f"Bearer {d.operator_key()}"})
            assert status == 201, body
            def contacts_texted():
                texted = {r.to: r.sid for r in fake.received if r.to != CANARY_TO}
                return texted if len(texted) >= 2 else None

            sent = wait_for(contacts_texted, "the texts to the two numbers Twilio takes")
            assert set(sent) == {OK, UNDELIVERED}
            assert call(fake.report(sent[OK], "delivered"))[0] == 204
            assert call(fake.report(sent[UNDELIVERED], "undelivered", "30003"))[0] == 204
            status, _ = call(fake.text(d.url + "/carriers/twilio/inbound", OK, "YES"))
            assert status == 200
            d.signal(signal.SIGHUP)  # keywords.yaml reloaded as it is

            def complete() -> str | None:
                text = d.request("GET", "/metrics")[1].decode()
                return text if all(wanted in text for wanted in EXERCISED) else None

            return wait_for(complete, f"all of {EXERCISED} on /metrics")
        finally:
            d.stop()
            d.close()


def test_the_daemons_metrics_pass_promtool_check_metrics(promtool, exposition):
    result = run(promtool, "check", "metrics", input=exposition)
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), \
        result.stdout + result.stderr


@pytest.mark.parametrize("source", ["alerts.yml", "grafana-dashboard.json"])
def test_every_metric_and_label_the_monitoring_reads_is_on_the_daemons_metrics(exposition, source):
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
    exprs = [rule["expr"] for rule in rules()] if source == "alerts.yml" else dashboard_queries()
    used = [s for expr in exprs for s in selectors(expr)]
    assert used
    for name, matched in used:
        if name in FROM_PROMETHEUS:
            continue
        assert name in labels, f"{source} reads {name}, which the daemon does not export"
        assert matched - {"job", "instance"} <= labels[name], f"{source}: {name} has no label {matched - labels[name]}"
