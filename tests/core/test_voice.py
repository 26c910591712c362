"""What a verification call says and what a key or a word on it means (gateway/core/voice.py)."""

from __future__ import annotations

import pytest

from gateway.core.keywords import AutoProcess, Keyword
from gateway.core.voice import call_template, choice, choices, language_tag
from gateway.errors import ValidationFailed

YES = Keyword("YES", ("Y", "CONFIRM"), "SMSYES", None, "confirm")
NO = Keyword("NO", ("N", "FALSE ALARM"), "SMSNO", None, "cancel")
SAFE = Keyword("SAFE", (), "SMSSAFE", None, "cancel")


def process(*keywords: Keyword, template: str = "ALARM at {site_name}. Reply YES to confirm or NO to cancel.",
            call: str | None = None) -> AutoProcess:
    return AutoProcess("p", frozenset({"BA"}), template, 300, "S", "R", "P", "E", tuple(keywords),
                       call_template=call)


def test_the_default_call_text_drops_the_sentences_about_texting_back():
    assert call_template(process(YES, NO)) == "ALARM at {site_name}."
    assert call_template(process(YES, call="Alarm at {site_name}!")) == "Alarm at {site_name}!"
    assert call_template(process(template="Reply YES or NO.")) == "Reply YES or NO."  # nothing left: all of it


def test_the_choices_name_only_what_the_process_can_answer():
    assert choices(process(YES, NO)) == ("Press 1 to confirm the alarm, press 2 to cancel the alarm, "
                                         "press 9 to hear this again.")
    assert choices(process(SAFE)) == "Press 2 to cancel the alarm, press 9 to hear this again."


@pytest.mark.parametrize("digits, speech, action, word", [
    ("1", None, "answer", "YES"), ("2", None, "answer", "NO"), ("9", None, "repeat", None),
    ("5", None, "unknown", None), (None, "yes", "answer", "YES"), (None, "False alarm.", "answer", "NO"),
    (None, "No thank you", "answer", "NO"), (None, "maybe", "unknown", None), (None, None, "unknown", None)])
def test_a_key_or_a_word_names_a_keyword(digits, speech, action, word):
    picked = choice(process(YES, NO), digits, speech)
    assert (picked.action, picked.keyword.word if picked.keyword else None) == (action, word)


def test_a_key_for_an_outcome_the_process_lacks_does_nothing():
    assert choice(process(SAFE), "1", None).action == "unknown"
    assert choice(process(SAFE), "2", None).keyword == SAFE


def test_language_tags():
    assert language_tag(" es-mx ") == "es-MX" and language_tag("fr") == "fr" and language_tag("zh-Hant-TW")
    with pytest.raises(ValidationFailed):
        language_tag("english!")


def test_the_keyword_file_takes_a_call_template_and_checks_its_placeholders():
    from gateway.config.keyword_file import KeywordFileError, parse_keyword_table

    text = """auto_processes:
  - name: burglary
    triggers: [BA]
    template: "ALARM at {site_name}. Reply YES."
    timeout_seconds: 60
    call_template: "{call_me}, alarm at {site_name}."
    codes: {sent: S, response: R, pin_response: P, expired: E}
"""
    with pytest.raises(KeywordFileError) as caught:
        parse_keyword_table(text, "k.yaml")
    assert str(caught.value.problems[0]).startswith(
        "k.yaml:6: auto_processes[0].call_template: unknown placeholder {call_me}")
    table = parse_keyword_table(text.replace("{call_me}, ", ""), "k.yaml")
    assert table.process("burglary").call_template == "alarm at {site_name}."
