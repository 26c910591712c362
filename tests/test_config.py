from pathlib import Path

import msgspec
import pytest

from gateway.config import Config, ConfigFileError, load_config, parse_config, read_secret
from gateway.errors import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_run_as_they_are():
    config = Config()
    assert config.source is None
    assert (config.http.host, config.http.port) == ("127.0.0.1", 8080)
    assert config.database.engine == "sqlite"
    assert config.database.sqlite_path == Path("var/gateway.sqlite3")
    assert config.carrier.backend == "loopback"
    assert config.keywords_path == Path("keywords.yaml")
    assert config.email.backend == "none"


def test_shipped_example_equals_the_defaults():
    config = load_config(ROOT / "config" / "gateway.yaml", env={})
    assert config == Config()
    assert msgspec.structs.asdict(config) == msgspec.structs.asdict(Config())
    assert config.keywords_path.resolve() == (ROOT / "keywords.yaml").resolve()


def test_explicit_path_wins_over_env_and_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "config" / "gateway.yaml", "http: {port: 1001}\n")
    write(tmp_path / "env.yaml", "http: {port: 1002}\n")
    write(tmp_path / "cli.yaml", "http: {port: 1003}\n")
    env = {"GATEWAY_CONFIG": str(tmp_path / "env.yaml")}
    assert load_config(tmp_path / "cli.yaml", env=env).http.port == 1003
    assert load_config(None, env=env).http.port == 1002
    config = load_config(None, env={})
    assert config.http.port == 1001
    assert config.source == Path("config/gateway.yaml")


def test_no_file_anywhere_gives_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(env={})
    assert config == Config() and config.source is None


@pytest.mark.parametrize("how", ["argument", "env"])
def test_named_file_that_is_missing_is_an_error(tmp_path, how):
    missing = str(tmp_path / "missing.yaml")
    with pytest.raises(ConfigFileError) as caught:
        load_config(missing if how == "argument" else None, env={"GATEWAY_CONFIG": missing})
    assert isinstance(caught.value, ConfigurationError)
    assert str(caught.value.problems[0]).startswith(f"{missing}: cannot read the config file")


def test_keywords_path_rules(tmp_path):
    beside = load_config(write(tmp_path / "etc" / "gateway.yaml", "{}\n"), env={})
    assert beside.keywords_path == tmp_path / "keywords.yaml"
    relative = load_config(write(tmp_path / "etc" / "g2.yaml", "keywords: kw/table.yaml\n"), env={})
    assert relative.keywords_path == tmp_path / "etc" / "kw" / "table.yaml"
    absolute = load_config(write(tmp_path / "etc" / "g3.yaml", "keywords: /srv/k.yaml\n"), env={})
    assert absolute.keywords_path == Path("/srv/k.yaml")
    assert parse_config("keywords: k.yaml\n").keywords_path == Path("k.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text, "g.yaml")
    return [str(p) for p in caught.value.problems]


def test_unknown_key_names_file_line_and_key():
    assert problems("http:\n  host: 0.0.0.0\n  prot: 80\n") == [
        "g.yaml:3: http.prot: unknown key (allowed: host, port, public_url, max_body_bytes, header_timeout_seconds, "
        "body_timeout_seconds, keepalive_seconds, max_connections, stop_grace_seconds)"]
    assert problems("outbox: {}\nhtp: {}\n")[0].startswith("g.yaml:2: htp: unknown key (allowed: http, database")


def test_wrong_type():
    assert problems("interface:\n  session_minutes: soon\n") == [
        "g.yaml:2: interface.session_minutes: expected int, got str"]
    assert problems("http: 3\n") == ["g.yaml:1: http: expected a mapping, got int"]
    assert problems("webhooks:\n  - url: https://x\n    secret: s\n") == [
        "g.yaml:3: webhooks[0].secret: unknown key (allowed: url, secret_file, secret_env, events, timeout_seconds, "
        "max_age_seconds)"]
    assert problems("logging: {format: xml}\n") == [
        "g.yaml:1: logging.format: invalid enum value 'xml' (allowed: json, text)"]


@pytest.mark.parametrize("port, message", [(0, "expected int >= 1"), (70000, "expected int <= 65535")])
def test_bad_port(port, message):
    assert problems(f"\nhttp:\n  port: {port}\n") == [f"g.yaml:3: http.port: {message}"]


def test_cross_field_checks_report_every_problem():
    text = """\
http: {public_url: "ftp://example.com"}
database: {url: "mysql://db"}
carrier:
  from_number: "555-0100"
phone: {default_region: XX}
logging: {level: LOUD}
outbox: {backoff_base_seconds: 500.0}
webhooks: [{url: "example.com/hook", secret_env: GW_HOOK_SECRET}]
"""
    assert problems(text) == [
        "g.yaml:1: http.public_url: 'ftp://example.com' is not an http:// or https:// URL",
        "g.yaml:2: database.url: 'mysql://db': expected sqlite:///relative/path, sqlite:////absolute/path or "
        "postgresql://...",
        "g.yaml:4: carrier.from_number: '555-0100' is not an E.164 number like +15550000000",
        "g.yaml:5: phone.default_region: 'XX' is not a supported ISO region code like US or GB",
        "g.yaml:6: logging.level: 'LOUD' is not one of CRITICAL, ERROR, WARNING, INFO, DEBUG",
        "g.yaml:7: outbox.backoff_base_seconds: must not exceed backoff_max_seconds",
        "g.yaml:8: webhooks[0].url: 'example.com/hook' is not an http:// or https:// URL",
    ]


def test_positive_numbers():
    assert problems("outbox: {poll_seconds: 0}\n") == ["g.yaml:1: outbox.poll_seconds: expected float > 0.0"]
    assert problems("http:\n  header_timeout_seconds: 0\n") == ["g.yaml:2: http.header_timeout_seconds: "
                                                                 "expected float > 0.0"]
    assert problems("http: {max_connections: 0}\n") == ["g.yaml:1: http.max_connections: expected int >= 1"]


def test_duplicate_key_and_syntax_error():
    assert problems("http: {}\nhttp: {}\n") == ["g.yaml:2: http: duplicate key 'http' (first at line 1)"]
    [syntax] = problems("http:\n  port: [1\n")
    assert syntax.startswith("g.yaml:3: YAML syntax:")


def test_values_are_normalised_and_loose_sections_kept():
    config = parse_config("""
database: {url: "postgresql://gw@db/gateway"}
phone: {default_region: gb}
logging: {level: debug, format: json}
email: {backend: smtp, host: mail.example.com, from_address: alarms@example.com}
carrier: {backend: twilio, twilio: {account_sid: AC1}}
webhooks: [{url: "https://hooks.example.com", secret_file: hook.secret, events: [verification.responded]}]
""")
    assert config.database.engine == "postgres" and config.database.sqlite_path is None
    assert config.phone.default_region == "GB"
    assert config.logging.level == "DEBUG"
    assert config.email.host == "mail.example.com"
    assert config.carrier.twilio.account_sid == "AC1"  # typed since the Twilio carrier
    assert config.webhooks[0].events == ["verification.responded"]


def test_sqlite_absolute_path():
    assert parse_config('database: {url: "sqlite:////srv/gw.db"}\n').database.sqlite_path == Path("/srv/gw.db")


def test_resolve_is_relative_to_the_config_folder(tmp_path):
    config = load_config(write(tmp_path / "etc" / "gateway.yaml", "api: {keys_file: keys.txt}\n"), env={})
    assert config.resolve(config.api.keys_file) == tmp_path / "etc" / "keys.txt"


def test_read_secret_from_file_env_and_value(tmp_path):
    secret = write(tmp_path / "token", "  s3cret\n")
    assert read_secret(None, secret, "TOKEN", env={"TOKEN": "from-env"}) == "s3cret"
    assert read_secret("inline", None, "TOKEN", env={"TOKEN": "from-env"}) == "inline"
    assert read_secret(None, None, "TOKEN", env={"TOKEN": "from-env"}) == "from-env"
    assert read_secret(None, None, "TOKEN", env={}) is None
    assert read_secret(None, None, None, env={}) is None


def test_read_secret_problems_name_the_key_never_the_secret(tmp_path):
    with pytest.raises(ConfigurationError, match="auth_token_file: cannot read .*missing"):
        read_secret(None, tmp_path / "missing", None, env={}, key="auth_token")
    with pytest.raises(ConfigurationError, match="auth_token_file: .* is empty"):
        read_secret(None, write(tmp_path / "empty", "\n"), None, env={}, key="auth_token")
    with pytest.raises(ConfigurationError) as caught:
        read_secret("hunter2", write(tmp_path / "t", "x"), None, env={}, key="auth_token")
    assert "hunter2" not in str(caught.value) and "auth_token" in str(caught.value)


def test_database_password_settings():
    assert problems('database: {url: "sqlite:///x.db", password_file: pw.txt}\n') == [
        "g.yaml:1: database.password_file: is for a postgresql:// url (SQLite has no password)"]
    [bad] = problems('database: {url: "postgres-ql://gw:pw-s3cret@db/gateway"}\n')
    assert "pw-s3cret" not in bad and "'postgres-ql://gw:***@db/gateway'" in bad
    config = parse_config('database: {url: "postgresql://gw@db/gateway", password_file: pw.txt, pool_size: 4}\n')
    assert (config.database.password_file, config.database.pool_size) == ("pw.txt", 4)


def test_the_canary_is_checked_key_by_key():
    assert problems('carrier: {from_number: "+15550000000"}\ncanary:\n  to_number: "+15550000000"\n'
                    "  every_minutes: 1\n  timeout_seconds: 60\n") == [
        "g.yaml:3: canary.to_number: must be another of the gateway's numbers than the one the canary is sent from",
        "g.yaml:5: canary.timeout_seconds: must be shorter than every_minutes: one canary at a time"]
    assert problems('canary: {to_number: "555-0100", from_number: x}\n') == [
        "g.yaml:1: canary.to_number: '555-0100' is not an E.164 number like +15550000000",
        "g.yaml:1: canary.from_number: 'x' is not an E.164 number like +15550000000"]
    assert problems("canary: {}\n") == ["g.yaml:1: canary: missing required key 'to_number'"]
    config = parse_config('canary: {to_number: "+15550100099"}\n', "g.yaml")
    assert (config.canary.every_minutes, config.canary.timeout_seconds, config.canary.from_number) == (15, 120, None)
    assert config.own_numbers == ["+15550000000", "+15550100099"]


def test_recovery_windows_are_bounded():
    assert problems("carrier: {loopback: {recover_inbound_minutes: 1441}}\n") == [
        "g.yaml:1: carrier.loopback.recover_inbound_minutes: expected int <= 1440"]
    assert parse_config("carrier: {loopback: {recover_inbound_minutes: 0}}\n").carrier.loopback.recover_inbound_minutes == 0


def test_the_verifications_answers_are_checked_for_their_placeholders():
    text = """\
verifications:
  already_answered: "{site_name} was {response}{answered}"
  unknown_reference: "No {ref} here.{open} {pin}"
  newest_closed: "Alarm {ref} ({alarm}) closed{open"
"""
    assert problems(text) == [
        "g.yaml:3: verifications.unknown_reference: unknown placeholder(s) pin; use alarm, open, ref, site_name",
        "g.yaml:4: verifications.newest_closed: malformed template: expected '}' before end of string "
        "(write {{ and }} for literal braces)",
    ]
