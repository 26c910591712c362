"""The command line as an operator types it (real subprocesses)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import KEYWORDS
from tests.daemon import Daemon


@pytest.fixture
def d(tmp_path):
    daemon = Daemon(tmp_path)
    yield daemon
    daemon.close()


def test_site_and_contact_setup(d):
    out = d.cli("site", "add", "--dealer", "12345", "--name", "Main Office").stdout
    site_id, name, dealer = out.strip().split("\t")
    assert site_id.startswith("site_") and name == "Main Office" and dealer == "dealer 12345"
    out = d.cli("contact", "add", "--site", site_id, "--first-name", "John", "--last-name", "Doe",
                "--phone", "(555) 012-3456", "--auto-notify").stdout
    assert out.strip().split("\t") == ["1", "John Doe", "+1 555-012-3456"]
    listed = d.cli("contact", "list", "--site", site_id).stdout
    assert listed.strip().split("\t") == ["1", "John Doe", "+15550123456", "-", "auto-notify"]
    assert site_id in d.cli("site", "list").stdout


@pytest.mark.parametrize("args, message", [
    (["--phone", "12"], "is not a possible phone number"),
    (["--phone", "call me"], "is not a phone number"),
    (["--auto-notify"], "--auto-notify needs --phone"),
    (["--email-notify"], "--email-notify needs --email"),
    (["--time-zone", "Mars/Olympus"], "--time-zone: 'Mars/Olympus' is not an IANA time zone"),
])
def test_contact_add_refuses_bad_input(d, args, message):
    site_id = d.cli("site", "add", "--dealer", "1", "--name", "S").stdout.split("\t")[0]
    result = d.cli("contact", "add", "--site", site_id, "--first-name", "A", "--last-name", "B", *args, check=False)
    assert result.returncode != 0 and message in result.stderr
    assert d.cli("contact", "list", "--site", site_id).stdout == ""


def test_contact_add_refuses_an_external_id_already_on_the_site(d):
    site_id = d.cli("site", "add", "--dealer", "1", "--name", "S").stdout.split("\t")[0]
    add = ("contact", "add", "--site", site_id, "--first-name", "A", "--last-name", "B", "--external-id", "x1")
    d.cli(*add)
    result = d.cli(*add, check=False)
    assert result.returncode == 2 and "error: external_contact_id 'x1' is already on this site." in result.stderr
    assert len(d.cli("contact", "list", "--site", site_id).stdout.splitlines()) == 1


def test_contact_add_to_unknown_site(d):
    result = d.cli("contact", "add", "--site", "site_nope", "--first-name", "A", "--last-name", "B", check=False)
    assert result.returncode != 0 and "no site 'site_nope'" in result.stderr


def test_phone_region_is_configurable(tmp_path):
    d = Daemon(tmp_path, phone={"default_region": "GB"})
    try:
        site_id = d.cli("site", "add", "--dealer", "1", "--name", "London").stdout.split("\t")[0]
        out = d.cli("contact", "add", "--site", site_id, "--first-name", "A", "--last-name", "B",
                    "--phone", "020 7946 0958").stdout
        assert "+44 20 7946 0958" in out
    finally:
        d.close()


def test_check_ok_and_bad(d, tmp_path):
    ok = d.cli("check")
    assert ok.returncode == 0 and ok.stdout.startswith("ok:")
    bad = tmp_path / "bad.yaml"
    bad.write_text(KEYWORDS.read_text().replace("code: SMSYES", "code: 'not a code'")
                   .replace("template: >-", "template: >-\n      {nonsense}", 1))
    d.config.write_text(d.config.read_text().replace(str(KEYWORDS), str(bad)))
    result = d.cli("check", check=False)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(f"{bad}:" in line and "nonsense" in line for line in lines), lines
    assert any("keywords[0].code" in line for line in lines), lines


@pytest.mark.parametrize("host, warned", [("0.0.0.0", True), ("::", True), ("192.0.2.10", True),
                                         ("gateway.example", True), ("127.0.0.1", False), ("::1", False),
                                         ("localhost", False)])
def test_check_warns_loudly_about_a_loopback_carrier_off_loopback(tmp_path, host, warned):
    d = Daemon(tmp_path, http={"host": host})
    try:
        result = d.cli("check")
    finally:
        d.close()
    assert result.returncode == 0
    assert ("SECURITY: carrier.backend is loopback" in result.stderr
            and "NO authentication" in result.stderr) is warned, result.stderr


def test_check_names_the_canary(tmp_path, d):
    assert d.cli("check").stdout.splitlines()[-1] == "canary: not configured"
    (tmp_path / "canary").mkdir()
    with_canary = Daemon(tmp_path / "canary", canary={"to_number": "+15550100099", "every_minutes": 10})
    try:
        assert with_canary.cli("check").stdout.splitlines()[-1] == (
            "canary: every 10 min a text from +15550000000 to +15550100099, expected back within 120 s")
        with_canary.config.write_text(with_canary.config.read_text().replace("'+15550100099'", "'+1555'"))
        result = with_canary.cli("check", check=False)
    finally:
        with_canary.close()
    assert result.returncode == 1
    assert "canary.to_number: '+1555' is not an E.164 number like +15550000000" in result.stderr


def test_check_reports_bad_config(tmp_path):
    config = tmp_path / "gateway.yaml"
    config.write_text("http:\n  port: 99999\n")
    result = subprocess.run([sys.executable, "-m", "gateway", "check", "-c", str(config)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1 and f"{config}:2" in result.stderr and "http.port" in result.stderr


def test_migrate(d):
    assert "up to date" in d.cli("migrate").stdout
    assert "up to date" in d.cli("migrate").stdout  # idempotent


def test_event_and_chat_against_a_running_daemon(d):
    site_id = d.cli("site", "add", "--dealer", "12345", "--name", "Main Office").stdout.split("\t")[0]
    d.cli("contact", "add", "--site", site_id, "--first-name", "John", "--last-name", "Doe",
          "--phone", "(555) 012-3456", "--auto-notify")
    d.start()
    out = d.cli("event", "--site", site_id, "--code", "BA", "--zone", "3", "--text", "Motion, hallway").stdout
    assert out.startswith("event evt_") and "verification ver_" in out
    from tests.test_daemon import outbox_counts, wait_until

    wait_until(lambda: outbox_counts(d.db_url) == {"sent": 1})
    chat = d.cli("chat", "--from", "(555) 012-3456", "--url", d.url, input="yes\n")
    lines = chat.stdout.splitlines()
    assert lines[0].startswith("< Acme Monitoring: ALARM at Main Office: Motion, hallway zone 3")
    assert lines[1] == "< Thank you John. Alarm at Main Office CONFIRMED. Police are being requested."


def test_event_without_daemon_is_a_clear_error(d):
    (d.tmp / "operator.key").write_text("gwk_operator_x\n")
    result = d.cli("event", "--site", "s", "--code", "BA", "--url", "http://127.0.0.1:9", check=False)
    assert result.returncode != 0 and "cannot reach the daemon" in result.stderr


def check_with(tmp_path, database: str) -> subprocess.CompletedProcess:
    config = tmp_path / "gateway.yaml"
    config.write_text(f"database: {database}\nkeywords: {KEYWORDS}\n")
    return subprocess.run([sys.executable, "-m", "gateway", "check", "-c", str(config)], capture_output=True,
                          text=True, timeout=60)


def test_check_says_in_one_line_that_postgresql_does_not_answer(tmp_path):
    result = check_with(tmp_path, '{url: "postgresql://gateway:pw-s3cret@127.0.0.1:1/gateway"}')
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if "database.url" in line]
    assert "database.url: PostgreSQL at postgresql://gateway:***@127.0.0.1:1/gateway does not answer" in line
    assert "pw-s3cret" not in result.stdout + result.stderr


@pytest.mark.postgres
def test_check_says_that_postgresql_answers(tmp_path, pg_url):
    result = check_with(tmp_path, f'{{url: "{pg_url}"}}')
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok: database {pg_url} answers: PostgreSQL " in result.stdout


def test_check_reads_the_database_password_file(tmp_path):
    result = check_with(tmp_path, '{url: "postgresql://gateway@127.0.0.1:1/gateway", password_file: missing.txt}')
    assert result.returncode == 1
    assert "database.password_file: cannot read" in result.stdout and "Traceback" not in result.stderr


def test_api_keys_add_list_revoke(d):
    key = d.cli("api-key", "add", "--name", "automation").stdout.strip()
    key_id = key.split("_")[1]
    assert d.cli("api-key", "list").stdout.split("\t")[:2] == [key_id, "automation"]
    assert d.cli("api-key", "revoke", key_id).stdout.strip() == f"revoked {key_id}"
    assert "revoked" in d.cli("api-key", "list").stdout.split("\t")[-1]
    again = d.cli("api-key", "revoke", key_id, check=False)
    assert again.returncode != 0 and "no active stored key" in again.stderr


def test_chat_without_daemon_is_a_clear_error(d):
    result = d.cli("chat", "--from", "+15550123456", "--url", "http://127.0.0.1:9", input="", check=False)
    assert result.returncode != 0 and "cannot reach the daemon at http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_folder_that_cannot_be_made_is_one_clear_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    config = tmp_path / "gateway.yaml"
    config.write_text(f'database: {{url: "sqlite:///{blocker}/sub/gateway.sqlite3"}}\nkeywords: {KEYWORDS}\n')
    result = subprocess.run([sys.executable, "-m", "gateway", "site", "list", "-c", str(config)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_chat_shows_an_incoming_call_and_presses_a_key(d):
    import json

    site_id = d.cli("site", "add", "--dealer", "12345", "--name", "Main Office").stdout.split("\t")[0]
    contact_id = d.cli("contact", "add", "--site", site_id, "--first-name", "John", "--last-name", "Doe",
                       "--phone", "(555) 012-3456", "--language", "en-GB").stdout.split("\t")[0].strip()
    d.start()
    status, _ = d.request("POST", "/ext/v1/verifications", json.dumps({
        "site_id": site_id, "contacts": [int(contact_id)], "method": "call",
        "message": "Alarm at Main Office."}).encode(),
        {"Authorization": f"Bearer {d.operator_key()}", "Content-Type": "application/json"})
    assert status == 200
    from tests.test_daemon import outbox_counts, wait_until

    wait_until(lambda: outbox_counts(d.db_url) == {"sent": 1})
    lines = d.cli("chat", "--from", "(555) 012-3456", "--url", d.url, input="1\n").stdout.splitlines()
    assert lines[0] == "< incoming call: Alarm at Main Office."
    assert lines[2].startswith("< (call) Thank you John. Alarm at Main Office CONFIRMED.")
    assert lines[3] == "< (call ended)"


def test_check_names_the_call_and_push_methods_and_their_problems(tmp_path, d):
    lines = d.cli("check").stdout.splitlines()
    assert "call: through the loopback carrier, in en-US (voice alice), answering machines detected" in lines
    assert "push: not configured (push.backend: none): the push method answers 422 UNSUPPORTED_METHOD" in lines
    results = {}
    for name, settings in (("bad", {"push": {"backend": "webpush", "subject": "ops"},
                                    "voice": {"language": "english!"}}),
                           ("good", {"push": {"backend": "webpush", "subject": "mailto:ops@acme.test",
                                              "vapid_private_key_file": "vapid.pem"}})):
        (tmp_path / name).mkdir()
        daemon = Daemon(tmp_path / name, **settings)
        try:
            results[name] = daemon.cli("check", check=False)
            if name == "good":
                (tmp_path / name / "vapid.pem").write_text("not a key")
                results["broken"] = daemon.cli("check", check=False)
        finally:
            daemon.close()
    bad = results["bad"].stdout + results["bad"].stderr
    assert results["bad"].returncode == 1 and "push.subject: required for webpush" in bad
    assert "voice.language: 'english!' is not a BCP 47 language tag like en-US" in bad
    assert "push: webpush as mailto:ops@acme.test, VAPID key vapid.pem" in results["good"].stdout
    assert results["broken"].returncode == 1 and "is not a PEM EC P-256 private key" in results["broken"].stdout
