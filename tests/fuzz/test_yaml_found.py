"""What the YAML fuzzing (test_yaml_parsers.py) found: each was a traceback out of ``gateway check`` and ``serve``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gateway.carriers import twilio_settings
from gateway.config import ConfigFileError, parse_config
from gateway.config.keyword_file import KeywordFileError, parse_keyword_table

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))  # 9**10 values


@pytest.mark.parametrize("text, problem", [
    ("http: {port: !!int abc}", "f.yaml:1: http.port: cannot read 'abc' as !!int"),
    ("http:\n  port: !!int ''", "f.yaml:2: http.port: cannot read '' as !!int"),
    ("logging: {level: !!bool maybe}", "f.yaml:1: logging.level: cannot read 'maybe' as !!bool"),
    ("http: {host: !!timestamp 2026-13-45}", "f.yaml:1: http.host: cannot read '2026-13-45' as !!timestamp"),
    ("http: {host: !!python/object:os.system x}", "f.yaml:1: http.host: cannot read 'x' as "
                                                  "!!python/object:os.system: no such tag"),
    ("http: !!map x", "f.yaml:1: http: cannot read 'x' as !!map: expected a mapping node, but found scalar"),
    ("http:\n  <<: 5", "f.yaml:2: http: merge key (<<): expected a mapping or list of mappings for merging"),
    ("webhooks: &a [*a]", "f.yaml:1: webhooks[0]: a value may not contain itself (an alias inside its own anchor)"),
    ("[" * 1000 + "]" * 1000, "f.yaml:1: YAML: nested too deeply"),
    (ALIAS_BOMB, "f.yaml:1: YAML: more than 100000 values once its aliases are expanded"),
    ('http: {public_url: "http://[::1"}', "f.yaml:1: http.public_url: 'http://[::1' is not an http:// or https:// URL"),
    ('http: {public_url: "http://host:port"}', "f.yaml:1: http.public_url: 'http://host:port' is not an http://"),
    ('webhooks: [{url: "https://[x", secret_env: S}]', "f.yaml:1: webhooks[0].url: 'https://[x' is not an http://"),
])
def test_unreadable_yaml_is_a_problem_on_its_line(text, problem):
    with pytest.raises(ConfigFileError) as config_error:
        parse_config(text, "f.yaml")
    assert any(str(p).startswith(problem) for p in config_error.value.problems), config_error.value.problems
    with pytest.raises(KeywordFileError) as keywords_error:
        parse_keyword_table(text, "f.yaml")
    assert keywords_error.value.problems


def test_a_twilio_api_base_url_urlsplit_refuses_is_a_problem():
    config = parse_config('carrier: {backend: twilio, twilio: {api_base_url: "http://[::1"}}', "f.yaml")
    assert "carrier.twilio.api_base_url: 'http://[::1' is not an http(s) URL" in twilio_settings.problems(config, env={})


def test_gateway_check_names_the_line_instead_of_a_traceback(tmp_path):
    (tmp_path / "gateway.yaml").write_text("http:\n  port: !!int abc\n")
    result = subprocess.run([sys.executable, "-m", "gateway", "check", "-c", str(tmp_path / "gateway.yaml")],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"error: {tmp_path / 'gateway.yaml'}:2: http.port: cannot read 'abc' as !!int" in result.stderr
