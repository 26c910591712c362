from pathlib import Path

import pytest

from gateway.errors import ConfigurationError
from gateway.core.keywords import CatchAll
from gateway.config.keyword_file import KeywordFileError, load_keyword_table, parse_keyword_table

ROOT = Path(__file__).resolve().parent.parent

MINIMAL = """
auto_processes:
  - name: burglary
    triggers: [ba, BV]
    template: "ALARM at {site_name}"
    timeout_seconds: 300
    codes: {sent: SMSSENT, response: SMSReply, pin_response: SMSPINReply, expired: SMSTIMEOUT}
    keywords:
      - keyword: YES
        aliases: [Y, ON]
        code: SMSYES
        outcome: confirm
  - name: everything
    triggers: BA
    template: "Event {event_code}"
    timeout_seconds: 60
    codes: {sent: S, response: R, pin_response: P, expired: E}
"""


def test_shipped_keyword_file_loads():
    table = load_keyword_table(ROOT / "keywords.yaml")
    assert table.source == str(ROOT / "keywords.yaml")
    assert {"BA", "BV", "BG"} <= table.processes[0].triggers
    assert table.processes_for("fa") and table.processes_for("PA")
    burglary = table.processes_for("BA")[0]
    assert burglary.match(" Yes! ").outcome == "confirm"
    assert burglary.match("cancel").outcome == "cancel"
    assert burglary.match("help").outcome == "help"
    assert burglary.match("n").word == "NO"
    assert table.dispatch_templates["police-dispatched"].variables == ("reference",)
    assert table.unknown_sender == CatchAll("SMSUNKNOWN", None)
    assert table.central_station


def test_yaml_booleans_keep_their_words():
    process = parse_keyword_table(MINIMAL).process("burglary")
    assert process.keywords[0].word == "YES"
    assert process.keywords[0].aliases == ("Y", "ON")
    assert process.match("on").code == "SMSYES"


def test_match_and_lookup():
    table = parse_keyword_table(MINIMAL, "k.yaml")
    assert [p.name for p in table.processes_for(" ba ")] == ["burglary", "everything"]
    assert table.processes_for("XX") == ()
    assert table.process("burglary").triggers == frozenset({"BA", "BV"})
    assert table.process("nope") is None
    assert table.process("burglary").match("maybe") is None
    assert table.process("everything").keywords == ()
    assert table.known_sender == CatchAll("SMSIN", None)
    assert table.dispatch_templates == {}


BAD = """\
central_station: Acme
colour: blue
auto_processes:
  - name: burglary
    triggers: [BA, "B A"]
    template: "Alarm at {site} zone {zone}"
    timeout_seconds: 5
    codes: {sent: SMSSENT, response: SMSReply, pin_response: SMSPINReply}
    keywords:
      - keyword: YES
        aliases: [Y, CONFIRM]
        code: SMSYES
        outcome: maybe
      - keyword: confirm!
        code: SMSCONF
        reply: "Hi {first_name"
      - keyword: NO
        reply: "Cancelled"
        reply: "twice"
  - name: burglary
    triggers: []
    template: [not, text]
    timeout_seconds: "300"
    codes: {sent: SMS-SENT, response: R, pin_response: P, expired: E}
  - triggers: [FA]
    template: Fire
    timeout_seconds: 60
    codes: {sent: S, response: R, pin_response: P, expired: E}
dispatch_templates:
  - name: police
    code: SMSDISP
    text: "Police for {site_name}, ref {ref}"
    variables: [reference, zone]
  - name: police
    code: SMSDISP2
    text: "Hello"
unknown_sender: {code: SMSUNKNOWN, reply: "This is {site_name}"}
"""

ALERT = ("central_station, contact_name, date, event_code, event_id, event_text, first_name, last_name, "
         "site_id, site_name, time, timeout_minutes, zone")


def test_every_problem_is_reported_with_line_and_key():
    with pytest.raises(KeywordFileError) as caught:
        parse_keyword_table(BAD, "bad.yaml")
    assert isinstance(caught.value, ConfigurationError)
    assert [str(p) for p in caught.value.problems] == [
        "bad.yaml:2: colour: unknown key (allowed: central_station, auto_processes, dispatch_templates, "
        "unknown_sender, known_sender)",
        "bad.yaml:5: auto_processes[0].triggers[1]: 'B A' is not valid: an event code is 1 to 16 letters, digits or _",
        f"bad.yaml:6: auto_processes[0].template: unknown placeholder {{site}} "
        f"(allowed: {ALERT.replace('last_name, ', 'last_name, ref, ')})",
        "bad.yaml:7: auto_processes[0].timeout_seconds: 5 is out of range 10..86400",
        "bad.yaml:8: auto_processes[0].codes: missing required key 'expired'",
        "bad.yaml:13: auto_processes[0].keywords[0].outcome: 'maybe' is not one of confirm, cancel, help, none",
        "bad.yaml:14: auto_processes[0].keywords[1].keyword: 'confirm!' is already a keyword or alias of this "
        "process at line 11 (auto_processes[0].keywords[0].aliases[1])",
        "bad.yaml:16: auto_processes[0].keywords[1].reply: malformed template: expected '}' before end of string "
        "(write {{ and }} for literal braces)",
        "bad.yaml:17: auto_processes[0].keywords[2]: missing required key 'code'",
        "bad.yaml:19: auto_processes[0].keywords[2].reply: duplicate key 'reply' (first at line 18)",
        "bad.yaml:20: auto_processes[1].name: duplicate auto process name 'burglary' (first at line 4)",
        "bad.yaml:21: auto_processes[1].triggers: at least one alarm event code is required",
        "bad.yaml:22: auto_processes[1].template: expected a string, got a list",
        "bad.yaml:23: auto_processes[1].timeout_seconds: expected a whole number, got a string",
        "bad.yaml:24: auto_processes[1].codes.sent: 'SMS-SENT' is not valid: an event code is 1 to 16 letters, "
        "digits or _",
        "bad.yaml:25: auto_processes[2]: missing required key 'name'",
        "bad.yaml:32: dispatch_templates[0].text: unknown placeholder {ref} "
        f"(allowed: {ALERT.replace('last_name, ', 'last_name, reference, ')})",
        "bad.yaml:33: dispatch_templates[0].variables[1]: 'zone' is already a built-in placeholder",
        "bad.yaml:34: dispatch_templates[1].name: duplicate dispatch template name 'police' (first at line 30)",
        "bad.yaml:37: unknown_sender.reply: unknown placeholder {site_name} (allowed: central_station)",
    ]
    assert "bad.yaml:2: colour: unknown key" in str(caught.value)


def test_yaml_syntax_error_has_its_line():
    with pytest.raises(KeywordFileError) as caught:
        parse_keyword_table("auto_processes:\n  - name: x\n    triggers: [BA\n", "k.yaml")
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == ("k.yaml", 4)
    assert "YAML syntax" in problem.message


def test_top_level_must_be_a_mapping():
    with pytest.raises(KeywordFileError) as caught:
        parse_keyword_table("- just\n- a list\n", "k.yaml")
    assert str(caught.value.problems[0]).startswith("k.yaml:1: expected a mapping")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(KeywordFileError) as caught:
        load_keyword_table(tmp_path / "nope.yaml")
    assert str(caught.value.problems[0]).startswith(f"{tmp_path / 'nope.yaml'}: cannot read the keyword file")


def test_empty_keyword_is_a_problem():
    text = MINIMAL.replace("aliases: [Y, ON]", 'aliases: [Y, "  "]')
    with pytest.raises(KeywordFileError) as caught:
        parse_keyword_table(text, "k.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "k.yaml:10: auto_processes[0].keywords[0].aliases[1]: a keyword or alias may not be empty"]


def test_documented_example_loads():
    text = (ROOT / "README.md").read_text().split("#### Example")[1].split("```yaml\n")[1].split("```")[0]
    table = parse_keyword_table(text, "README.md")
    assert table.process("burglary-verification").match("no.").code == "SMSNO"


def test_the_reference_placeholders_are_for_verification_texts_and_keyword_replies_only():
    text = """\
auto_processes:
  - name: burglary
    triggers: [BA]
    template: "ALARM at {site_name}. Reply YES{ref} or NO{ref}."
    timeout_seconds: 300
    codes: {sent: SMSSENT, response: SMSReply, pin_response: SMSPINReply, expired: SMSTIMEOUT}
    keywords:
      - {keyword: "YES", code: SMSYES, outcome: confirm, reply: "Confirmed{answered}. Ref{ref}."}
"""
    assert parse_keyword_table(text).process("burglary").keywords[0].reply == "Confirmed{answered}. Ref{ref}."
    with pytest.raises(KeywordFileError) as caught:
        parse_keyword_table(text.replace("NO{ref}", "NO{answered}") + """\
dispatch_templates:
  - {name: police, code: SMSDISP, text: "Police sent{ref}"}
""", "k.yaml")
    assert [str(p).split(" (allowed")[0] for p in caught.value.problems] == [
        "k.yaml:4: auto_processes[0].template: unknown placeholder {answered}",  # the text answers nothing yet
        "k.yaml:10: dispatch_templates[0].text: unknown placeholder {ref}"]  # a dispatch holds no reference
