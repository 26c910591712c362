"""The carrier section checked at start and by `gateway check`: keys named, secrets kept, opt-out word collisions."""

from __future__ import annotations

import argparse

import pytest

from gateway.carriers.twilio_settings import load_settings, problems
from gateway.cli.admin import check
from gateway.config import parse_config
from gateway.errors import ConfigurationError
from gateway.services.optouts import keyword_collisions
from gateway.web.app import create_app
from tests.conftest import KEYWORDS

SID = "AC" + "1" * 32
TOKEN = "s3cr3t-token-value-0123456789abc"


def twilio_config(extra: str = "", public_url: str = "https://sms.example.com", keywords: str = str(KEYWORDS)):
    return parse_config(f"""
http: {{public_url: "{public_url}"}}
keywords: "{keywords}"
carrier:
  backend: twilio
  from_number: "+15005550006"
  twilio:
{extra}
""", "gateway.yaml")


def test_a_complete_section_is_fine_with_secrets_from_file_or_environment(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    config = twilio_config(f"    account_sid: {SID}\n    auth_token_file: {token_file}\n")
    assert problems(config, env={}) == []
    assert load_settings(config, env={}).auth_token == TOKEN
    from_env = twilio_config("    validate_signatures: true\n")
    assert problems(from_env, env={"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}) == []


def test_missing_keys_are_named():
    found = problems(twilio_config("    status_callback: true\n", public_url="http://gateway.example.com"), env={})
    keys = [p.split(":")[0] for p in found]
    assert keys == ["carrier.twilio.account_sid", "carrier.twilio.auth_token", "http.public_url"]
    sender = parse_config("carrier: {backend: twilio, twilio: {account_sid: " + SID + ", auth_token: x}}\n")
    assert [p.split(":")[0] for p in problems(sender, env={})] == ["carrier.from_number"]


def test_an_unreadable_token_file_is_named_without_the_secret(tmp_path):
    found = problems(twilio_config(f"    account_sid: {SID}\n    auth_token_file: {tmp_path}/nope\n"), env={})
    assert len(found) == 1 and found[0].startswith("carrier.twilio.auth_token_file: cannot read")


def test_the_daemon_refuses_to_start_with_problems(tmp_path):
    config = twilio_config(f"    account_sid: {SID}\n")
    with pytest.raises(ConfigurationError, match="carrier.twilio.auth_token"):
        create_app(config, run_loops=False)


async def test_check_names_keys_and_warns(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    bad = twilio_config("    max_per_second: 1\n")
    assert await check(bad, argparse.Namespace()) == 1
    out = capsys.readouterr()
    assert "carrier.twilio.account_sid: missing" in out.out and "carrier.twilio.auth_token: missing" in out.out
    unsafe = twilio_config(f"    account_sid: {SID}\n    auth_token: {TOKEN}\n    validate_signatures: false\n")
    assert await check(unsafe, argparse.Namespace()) == 0
    out = capsys.readouterr()
    assert out.out.startswith("ok:") and TOKEN not in out.out + out.err
    warnings = out.err.splitlines()
    assert "validate_signatures: OFF" in warnings[0]
    assert any("'CANCEL' is a carrier opt-out word" in w for w in warnings)


def test_keyword_collisions_have_lines(tmp_path):
    keywords = tmp_path / "keywords.yaml"
    keywords.write_text(KEYWORDS.read_text().replace('aliases: ["N", "CANCEL"', 'aliases: ["N", "stop!"'))
    found = keyword_collisions(keywords)
    stop = next(w for w in found if "'STOP'" in w)
    line = next(i for i, text in enumerate(keywords.read_text().splitlines(), 1) if '"stop!"' in text)
    assert stop.startswith(f"{keywords}:{line}: auto_processes[0].keywords[1].aliases[1]: ")
    words = {w.split("'")[1] for w in found}
    assert words == {"YES", "HELP", "INFO", "STOP", "CANCEL"}
