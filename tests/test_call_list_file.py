"""The escalation and urgent keys of a keywords.yaml process: read into a call list, every mistake with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.keyword_file import KeywordFileError, load_keyword_table, parse_keyword_table
from gateway.model import CallList, CallStep

ROOT = Path(__file__).resolve().parent.parent
HEAD = """auto_processes:
  - name: p
    triggers: [BA]
    template: "ALARM at {site_name}"
    timeout_seconds: 300
    codes: {sent: SMSSENT, response: SMSReply, pin_response: SMSPINReply, expired: SMSTIMEOUT%s}
"""


def _problems(body: str, codes: str = "") -> list[str]:
    with pytest.raises(KeywordFileError) as caught:
        parse_keyword_table(HEAD % codes + body, "k.yaml")
    return [str(p) for p in caught.value.problems]


def test_no_escalation_is_everyone_at_once_and_urgent():
    process = parse_keyword_table(HEAD % "", "k.yaml").process("p")
    assert process.call_list == CallList(timeout_seconds=300)


def test_an_in_order_list_with_its_steps_codes_and_urgency():
    process = parse_keyword_table(HEAD % ", step: STEP, skipped: SKIP, held: QUIET" + """    urgent: false
    escalation:
      mode: in_order
      step_seconds: 45
      steps:
        - {methods: [sms], code: STEP1}
        - {methods: [sms, call], everyone_left: true}
""", "k.yaml").process("p")
    assert process.call_list == CallList(
        mode="in_order", step_seconds=45, urgent=False, timeout_seconds=300, step_code="STEP", skip_code="SKIP",
        held_code="QUIET", steps=(CallStep(methods=("sms",), code="STEP1"),
                                  CallStep(methods=("sms", "call"), everyone_left=True)))


def test_every_mistake_has_its_line_and_key():
    assert _problems("""    urgent: sometimes
    escalation:
      mode: one_by_one
      step_seconds: 5
      steps:
        - {methods: [sms], everyone_left: true}
        - {methods: [fax]}
        - {methods: []}
        - {code: "no spaces"}
      colour: red
""", ", step: 'bad code'") == [
        "k.yaml:6: auto_processes[0].codes.step: 'bad code' is not valid: an event code is 1 to 16 letters, digits "
        "or _",
        "k.yaml:7: auto_processes[0].urgent: expected true or false, got a string",
        "k.yaml:9: auto_processes[0].escalation.mode: 'one_by_one' is not one of all, in_order",
        "k.yaml:10: auto_processes[0].escalation.step_seconds: 5 is out of range 10..3600",
        "k.yaml:12: auto_processes[0].escalation.steps[0].everyone_left: only the last step may reach everyone left",
        "k.yaml:13: auto_processes[0].escalation.steps[1].methods[0]: 'fax' is not a method (have: sms, email, call, "
        "push)",
        "k.yaml:14: auto_processes[0].escalation.steps[2].methods: a step names no methods: name one or more of "
        "sms, email, call, push",
        "k.yaml:15: auto_processes[0].escalation.steps[3]: missing required key 'methods'",
        "k.yaml:15: auto_processes[0].escalation.steps[3].code: 'no spaces' is not valid: an event code is 1 to 16 "
        "letters, digits or _",
        "k.yaml:16: auto_processes[0].escalation.colour: unknown key (allowed: mode, step_seconds, steps)",
    ]


def test_all_at_once_takes_one_step_only_and_steps_may_not_be_empty():
    assert _problems("""    escalation:
      steps: [{methods: [sms]}, {methods: [call]}]
""") == ["k.yaml:8: auto_processes[0].escalation.steps: mode all reaches everyone with the first step; more steps "
         "need mode in_order"]
    assert _problems("""    escalation: {mode: in_order, steps: []}
""") == ["k.yaml:7: auto_processes[0].escalation.steps: expected a list of at least one step, e.g. "
         "[{methods: [sms]}]"]


def test_the_shipped_file_has_an_in_order_example():
    table = load_keyword_table(ROOT / "keywords.yaml")
    in_order = [p for p in table.processes if p.call_list.mode == "in_order"]
    assert [p.name for p in in_order] == ["trouble-call-list"] and in_order[0].call_list.urgent is False
    assert table.process("burglary-verification").call_list.mode == "all"  # the default stays all at once
