"""Template rendering (gateway/core/templates.py): what is found is what is rendered; unknown names are reported."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gateway.config.keyword_file import KeywordFileError, parse_keyword_table
from gateway.core.templates import ALERT_PLACEHOLDERS, placeholders, render, unknown_placeholders
from tests.fuzz.budget import examples

NAME = st.one_of(st.sampled_from(sorted(ALERT_PLACEHOLDERS)), st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True),
                 st.text(st.characters(categories=("L",)), min_size=1, max_size=6).filter(str.isidentifier))
LITERAL = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="{}"), max_size=12)
# A template as parts: ("text", literal as rendered) or ("name", placeholder); braces in text are written doubled.
PART = st.one_of(st.tuples(st.just("text"), LITERAL), st.tuples(st.just("text"), st.sampled_from(["{", "}", "{}"])),
                 st.tuples(st.just("name"), NAME))
PARTS = st.lists(PART, max_size=10)


def written(parts) -> str:
    return "".join(value.replace("{", "{{").replace("}", "}}") if kind == "text" else "{" + value + "}"
                   for kind, value in parts)


def names(parts) -> set[str]:
    return {value for kind, value in parts if kind == "name"}


@examples(150)
@given(PARTS, st.data())
def test_placeholders_found_are_the_placeholders_rendered(parts, data):
    template = written(parts)
    assert placeholders(template) == names(parts)
    # Each name: a value, None, or left out; the last two render empty, never as "{name}".
    values = {name: data.draw(st.sampled_from([f"<{name}>", None, "left out"])) for name in sorted(names(parts))}
    values = {name: value for name, value in values.items() if value != "left out"}
    expected = "".join(value if kind == "text" else values.get(value) or "" for kind, value in parts)
    assert render(template, values) == expected


@examples(100)
@given(PARTS, st.sets(NAME, max_size=8))
def test_unknown_placeholders_are_reported(parts, allowed):
    template = written(parts)
    assert unknown_placeholders(template, allowed) == sorted(names(parts) - allowed)


@examples(150)
@given(st.text(st.one_of(st.sampled_from("{}!:.[]0 a_"), st.characters(exclude_categories=("Cs",))), max_size=30))
def test_any_text_is_a_template_or_a_value_error(text):
    try:
        found = placeholders(text)
    except ValueError as exc:
        assert "placeholder" in str(exc) or "malformed template" in str(exc)
        with pytest.raises(ValueError):
            render(text, {})
        return
    assert all(name.isidentifier() for name in found)
    values = {name: "" for name in found}
    assert render(text, values) == render(text, {}) == text.format(**values)


@examples(50)
@given(PARTS, st.text(st.sampled_from("abc"), min_size=1, max_size=3))
def test_the_keyword_file_names_each_unknown_placeholder(parts, suffix):
    """The loader reports every placeholder outside ALERT_PLACEHOLDERS on the template's line."""
    unknown = {n + "_x" + suffix for n in names(parts) if n not in ALERT_PLACEHOLDERS}
    template = written([(kind, value + "_x" + suffix if kind == "name" and value not in ALERT_PLACEHOLDERS else value)
                        for kind, value in parts]) or "Alarm"
    text = yaml.safe_dump({"auto_processes": [{
        "name": "p", "triggers": ["BA"], "template": template, "timeout_seconds": 60,
        "codes": {"sent": "S", "response": "R", "pin_response": "P", "expired": "E"}}]}, allow_unicode=True)
    try:
        table = parse_keyword_table(text, "k.yaml")
    except KeywordFileError as exc:
        reported = {p.message.split("{", 1)[1].split("}", 1)[0] for p in exc.problems}
        assert reported == unknown and all(p.key == "auto_processes[0].template" for p in exc.problems)
        assert all(str(p).startswith("k.yaml:") for p in exc.problems)
    else:
        read = yaml.safe_load(text)["auto_processes"][0]["template"]  # PyYAML writes a lone U+0085 back as a space
        assert not unknown and table.processes[0].template == read
