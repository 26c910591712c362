"""Keyword types and matching: how a reply is folded, which keyword it is, which processes an alarm starts."""

from __future__ import annotations

import pytest

from gateway.core.keywords import fold
from tests.core.records import BURGLARY, TABLE


@pytest.mark.parametrize("text, folded", [("Yes!", "YES"), (" YES ", "YES"), ("y", "Y"), ("CONFIRM.", "CONFIRM"),
                                          ("y.", "Y"), ("  false \n alarm!! ", "FALSE ALARM"), ("?", "?"),
                                          ("«oui»", "OUI"), ("", "")])
def test_fold(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize("reply, word", [("yes", "YES"), (" Yes! ", "YES"), ("YES.", "YES"), ("confirm", "YES"),
                                         ("ｙｅｓ", "YES"), ("n", "NO"), ("Cancel!!", "NO"), ("?", "HELP"),
                                         ("yes please", None), ("", None), ("4821", None)])
def test_a_reply_is_its_keyword_or_alias_folded(reply, word):
    keyword = BURGLARY.match(reply)
    assert (keyword.word if keyword else None) == word


def test_an_alarm_starts_every_process_it_triggers_in_table_order_in_any_case():
    assert [p.name for p in TABLE.processes_for(" ba ")] == ["burglary", "supervisor"]
    assert [p.name for p in TABLE.processes_for("bv")] == ["burglary"]
    assert TABLE.processes_for("FA") == ()
    assert TABLE.process("supervisor").expired_code == "SUPTIMEOUT" and TABLE.process("nope") is None
