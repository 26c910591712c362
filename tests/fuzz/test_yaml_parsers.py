"""The keyword-file and config parsers fed generated YAML: a valid table, or their own error listing problems
as ``file:line: ...``; never another exception.

Three sources: YAML written here token by token (tags, anchors, aliases, merge keys, flow and block style),
random values dumped by PyYAML, and the shipped keywords.yaml and config/gateway.yaml mutated (keys dropped,
values replaced by other types, unknown keys, broken templates, lines deleted or duplicated).
"""

from __future__ import annotations

import copy

import yaml
from hypothesis import given
from hypothesis import strategies as st

from gateway.carriers import twilio_settings
from gateway.config import ConfigFileError, parse_config
from gateway.config.keyword_file import KeywordFileError, parse_keyword_table
from tests.conftest import KEYWORDS, ROOT
from tests.fuzz.budget import examples

FILE = "fuzzed.yaml"
SHIPPED_KEYWORDS = KEYWORDS.read_text()
SHIPPED_CONFIG = (ROOT / "config" / "gateway.yaml").read_text()


def clean_outcome(parse, error: type[Exception], text: str):
    """What ``parse`` made of ``text``: its value, or None after checking its error is a clean list of problems."""
    try:
        return parse(text, FILE)
    except error as exc:
        assert exc.problems, exc
        last = text.count("\n") + 2  # PyYAML marks an error at the end of the text on the line after the last
        for problem in exc.problems:
            assert problem.file == FILE and 1 <= problem.line <= last, problem
            assert str(problem).startswith(f"{FILE}:{problem.line}: ") and problem.message, problem
        return None


def check_both(text: str) -> None:
    clean_outcome(parse_keyword_table, KeywordFileError, text)
    config = clean_outcome(parse_config, ConfigFileError, text)
    if config is not None and config.carrier.backend == "twilio":
        assert all(isinstance(p, str) for p in twilio_settings.problems(config, env={}))


# YAML written token by token.
PLAIN = st.sampled_from(["yes", "No", "on", "~", "null", "1", "-7", "0x1F", "0o17", "1_000", "1e999", "-.inf", ".nan",
                         "12:30", "2026-01-15", "2026-13-45", "2026-01-15 25:00", "abc", "a b", "http://[::1", "http://x",
                         "+15550000000", "{site_name}", "'{'", '"{unknown}"', '"\\u00e9"', "''", "SMSYES", "BA", "0",
                         "65536", "twilio", "loopback", "smtp", "sqlite:///x", '"a\\x00b"', "true"])
TAG = st.sampled_from(["", "", "", "!!int ", "!!float ", "!!bool ", "!!str ", "!!null ", "!!timestamp ", "!!binary ",
                       "!!python/object:os.system ", "!foo ", "!!set ", "!!omap ", "!!seq ", "!!map ", "!!merge "])
KEY = st.sampled_from(["http", "port", "public_url", "carrier", "backend", "twilio", "database", "url", "interface",
                       "name", "triggers", "template", "keywords", "keyword", "aliases", "code", "codes", "reply",
                       "outcome", "auto_processes", "dispatch_templates", "variables", "webhooks", "events", "welcome",
                       "text", "logo_url", "email", "x", "<<", "? k", "'k'", "1", "~"])
ANCHORS = ["a", "b"]


def flow(draw, depth: int) -> str:
    anchor = draw(st.sampled_from(["", "", "", "&a ", "&b "]))
    kind = draw(st.sampled_from(["scalar", "scalar", "alias", "list", "map"] if depth < 3 else ["scalar", "alias"]))
    if kind == "alias":
        return "*" + draw(st.sampled_from(ANCHORS + ["zz"]))
    if kind == "scalar":
        return draw(TAG) + anchor + draw(PLAIN)
    items = [flow(draw, depth + 1) for _ in range(draw(st.integers(0, 3)))]
    if kind == "list":
        return draw(TAG) + anchor + "[" + ", ".join(items) + "]"
    return draw(TAG) + anchor + "{" + ", ".join(f"{draw(KEY)}: {item}" for item in items) + "}"


@st.composite
def yaml_documents(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        indent = "  " * draw(st.integers(0, 2))
        dash = draw(st.sampled_from(["", "", "- "]))
        lines.append(f"{indent}{dash}{draw(KEY)}:" + draw(st.sampled_from(["", " " + flow(draw, 0)])))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n---\nx: 1\n", "\n...\n"]))


@examples(150)
@given(yaml_documents())
def test_written_yaml(text):
    check_both(text)


# Random values dumped by PyYAML.
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.dates(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.one_of(KEY, st.text(max_size=8)), children,
                                                                       max_size=4),
    max_leaves=20)


@examples(100)
@given(VALUES, st.booleans())
def test_dumped_values(value, flow_style):
    check_both(yaml.safe_dump(value, default_flow_style=flow_style, allow_unicode=True))


# The shipped files, mutated.
def paths(value, prefix=()):
    """Every path into ``value``: mapping keys and list indexes."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from paths(item, (*prefix, i))


BAD_TEMPLATES = st.sampled_from(["{", "}", "{unknown}", "{site_name.x}", "{0}", "{}", "{site_name!r}",
                                 "{site_name:>5}", "{{ok}}", "{link}", "{{", "a {central_station"])


@st.composite
def mutated(draw, shipped: str) -> str:
    data = yaml.safe_load(shipped)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(data))))
        if not path:
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        how = draw(st.sampled_from(["drop", "replace", "template", "unknown", "duplicate"]))
        if how == "drop":
            del parent[path[-1]]
        elif how == "replace":
            parent[path[-1]] = draw(VALUES)
        elif how == "template":
            parent[path[-1]] = draw(BAD_TEMPLATES)
        elif how == "unknown" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(VALUES)
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@st.composite
def edited(draw, shipped: str) -> str:
    """The file's text edited by hand, badly: a line deleted, duplicated, re-indented or its value replaced."""
    lines = shipped.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["delete", "duplicate", "indent", "value"]))
        if how == "delete":
            del lines[i]
        elif how == "duplicate":
            lines.insert(i, lines[i])
        elif how == "indent":
            lines[i] = " " * draw(st.integers(0, 5)) + lines[i].lstrip()
        elif ":" in lines[i]:
            lines[i] = lines[i].split(":", 1)[0] + ": " + flow(draw, 0)
    return "\n".join(lines)


@examples(75)
@given(st.one_of(mutated(SHIPPED_KEYWORDS), edited(SHIPPED_KEYWORDS)))
def test_keyword_file_mutations(text):
    clean_outcome(parse_keyword_table, KeywordFileError, text)


@examples(75)
@given(st.one_of(mutated(SHIPPED_CONFIG), edited(SHIPPED_CONFIG)))
def test_config_file_mutations(text):
    config = clean_outcome(parse_config, ConfigFileError, text)
    if config is not None and config.carrier.backend == "twilio":
        assert all(isinstance(p, str) for p in twilio_settings.problems(config, env={}))


def test_the_shipped_files_are_valid():
    assert clean_outcome(parse_keyword_table, KeywordFileError, SHIPPED_KEYWORDS) is not None
    assert clean_outcome(parse_config, ConfigFileError, SHIPPED_CONFIG) is not None
