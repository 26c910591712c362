"""Message templates: their placeholders, escaped braces, what a missing value renders as."""

import pytest

from gateway.core.templates import ALERT_PLACEHOLDERS, REPLY_PLACEHOLDERS, placeholders, render, unknown_placeholders


def test_placeholders_lists_names():
    assert placeholders("ALARM at {site_name} zone {zone}, {zone}") == {"site_name", "zone"}


def test_escaped_braces_are_text():
    assert placeholders("{{not}} {site_name}") == {"site_name"}
    assert render("{{literal}} {site_name}", {"site_name": "Depot"}) == "{literal} Depot"


@pytest.mark.parametrize("template", ["{site_name", "site}", "{}", "{0}", "{site.name}", "{site[0]}",
                                      "{zone:>5}", "{zone!r}"])
def test_malformed_templates_raise(template):
    with pytest.raises(ValueError):
        placeholders(template)


def test_render_missing_and_none_values_are_empty():
    assert render("Hi {first_name} {last_name}.", {"first_name": "Ann", "last_name": None}) == "Hi Ann ."


def test_render_str_of_values():
    assert render("zone {zone} in {timeout_minutes} min", {"zone": 3, "timeout_minutes": 5}) == "zone 3 in 5 min"


def test_unknown_placeholders_sorted():
    assert unknown_placeholders("{site} {central_station} {b}", REPLY_PLACEHOLDERS) == ["b", "site"]
    assert "central_station" in ALERT_PLACEHOLDERS
