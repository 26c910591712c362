"""PIN-shaped text is masked before storage however it is written, in any script; a PIN set in any script works."""

from __future__ import annotations

import json
import random
import re

import pytest

from gateway.core.pin import ascii_digits, masked, normalized_pin, split_pin
from tests import storage
from tests.daemon import Daemon

PIN = "7391826"
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
SPELLINGS = ["pin:7391826", "S:7391826", "see https://x.example/a/7391826 ok", "7 3 9 1 8 2 6", "STATUS 7-391-826",
             "STATUS +7391826", "STATUS 7391826/", "STATUS 12:7391826", "STATUS 7391826.5", "STATUS 12:7-391-826",
             "7391826 YES", "pin is ７３９１８２６", "٧٣٩١٨٢٦ please", "STATUS 73 91 826", "STATUS 739 1826"]
_RUN = re.compile(r"[0-9](?:[\W_]{0,3}[0-9])*")  # digits with at most 3 non-letters between them


def spelled(text: str, pin: str) -> bool:
    """Whether ``text`` still holds ``pin``'s digits together, in any script and whatever separates them."""
    return any(pin in re.sub(r"[^0-9]", "", run) for run in _RUN.findall(ascii_digits(text)))


@pytest.mark.parametrize("body", SPELLINGS)
def test_every_spelling_of_a_pin_is_masked(body):
    assert spelled(body, PIN)
    assert not spelled(masked(body), PIN) and "****" in masked(body)


@pytest.mark.parametrize("body, stored", [
    ("pin:7391826", "pin:****"),
    ("see https://x.example/a/7391826 ok", "see https://x.example/a/**** ok"),
    ("STATUS 12:7391826", "STATUS ****"),
    ("STATUS 7391826/", "STATUS ****/"),
    ("7 3 9 1 8 2 6 is my pin", "**** is my pin"),
    ("call 555-1234", "call ****"),  # a local number of 7 digits: cannot be told from a PIN
    ("on 15.01 or 1/15/26", "on **** or ****"),  # nor a date without its 4-digit year
    ("STATUS ٧٣٩١٨٢٦", "STATUS ****"),
])
def test_masked_exactly(body, stored):
    assert masked(body) == stored


@pytest.mark.parametrize("body", [
    "call me on +1 555 123 4567 at 10:30", "(555) 123-4567", "+44 20 7946 0958", "06 12 34 56 78",
    "+33 6 12 34 56 78", "+15550123456",
    "at 20:45, again 8:05:30", "on 2026-01-15, 15.01.2026 or 1/15/2026", "TEST 1 120", "EVENTS 12 20",
    "zone 12", "123456789", "3 guards, 2 cars",
])
def test_what_cannot_be_a_pin_stays_readable(body):
    assert masked(body) == body


SEPARATORS = [" ", "  ", "-", ".", ":", "/", "+", " - ", " / ", "\t"]
PREFIXES = ["", "pin:", "S:", "PIN=", "see https://x.example/a/", "STATUS ", "STATUS +", "STATUS 12:", "(", "#", "12:"]
SUFFIXES = ["", "/", ".5", " ok", "!", ".", ")", "?", "/x", ":"]


READABLE = re.compile(r"[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?|[0-9]{4}([-./])[0-9]{1,2}\2[0-9]{1,2}"
                      r"|[0-9]{1,2}([-./])[0-9]{1,2}\3[0-9]{4}")


def spellings(rng: random.Random, pin: str):
    """``pin`` cut in 1 to len(pin) pieces joined by one separator each, inside some text. Left out: what the
    rule keeps readable on purpose, two short pieces joined by spaces alone ("TEST 1 120") and times or dates
    with their year, alone or side by side ("20:45", "15.01.2026", "12:16 - 5:02"), which the unit tests above
    pin down."""
    while True:
        cuts = sorted(rng.sample(range(1, len(pin)), rng.randint(0, len(pin) - 1)))
        pieces = [pin[a:b] for a, b in zip([0, *cuts], [*cuts, len(pin)])]
        joins = [rng.choice(SEPARATORS) for _ in pieces[1:]]
        text = rng.choice(PREFIXES) + pieces[0] + "".join(j + p for j, p in zip(joins, pieces[1:])) + rng.choice(SUFFIXES)
        readable = any(all(READABLE.fullmatch(p) for p in re.split(r"[ \t()\-./:+]*[ \t][ \t()\-./:+]*", number))
                       for number in re.findall(r"[0-9]+(?:[ \t()\-./:+]{1,3}[0-9]+)*", text))
        if len(pieces) == 2 and max(map(len, pieces)) <= 3 and not joins[0].strip() or readable:
            continue
        return text


def test_generated_spellings_are_masked():
    rng = random.Random(8)
    for _ in range(3000):
        pin = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 8)))
        body = spellings(rng, pin).translate(rng.choice([{}, ARABIC_INDIC, FULLWIDTH]))
        assert not spelled(masked(body), pin), (body, masked(body))


def test_the_pin_a_text_carries_is_masked_wherever_it_stands():
    rng = random.Random(9)
    noise = " -./:+,;_()#*!?\n"
    for _ in range(3000):
        pin = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 8)))
        body = "".join(c + "".join(rng.choice(noise) for _ in range(rng.randint(0, 3))) for c in pin)
        body = rng.choice(["", "1", "99", "call 555", "x"]) + body + rng.choice(["", "5", "00 ok", "y"])
        assert spelled(body, pin)
        assert not spelled(masked(f"{body} {pin}", pin), pin), body


def test_digits_of_any_script_read_as_ascii():
    assert ascii_digits("٧٣٩١ ۷۳۹۱ ７３９１ ७३९१ ⁷³⁹¹") == "7391 7391 7391 7391 7391"
    assert ascii_digits("Ünïcode ½ ﬁ") == "Ünïcode 1⁄2 ﬁ"  # only digits change
    assert split_pin("STATUS ٧٣٩١٨٢٦") == ("STATUS", PIN)
    assert normalized_pin(" ７３９１８２６\n") == PIN and normalized_pin("739182") == "739182"
    assert normalized_pin("739") is None and normalized_pin("7391a26") is None


@pytest.mark.parametrize("body, words, pin", [
    ("STATUS 2 4821.", "STATUS 2", "4821"), ("Yes 4821 !?", "Yes", "4821"), ("1234 5678", "1234", "5678"),
    ("STATUS\u00a0４８２１", "STATUS", "4821"), ("ab4821", "ab4821", None), ("STATUS 123456789", "STATUS 123456789", None),
    ("STATUS 482", "STATUS 482", None), (" " * 1600, " " * 1600, None), ("", "", None),
])
def test_the_pin_is_the_last_word(body, words, pin):
    assert split_pin(body) == (words, pin)


@pytest.fixture
def d(tmp_path):
    # One number texts 40 times here, most of them PIN-shaped: room for that in its reply and argon2 budgets.
    daemon = Daemon(tmp_path, interface={"reply_budget": 1000},
                    credential_checks={"per_caller_burst": 200, "per_caller_per_minute": 200})
    yield daemon
    daemon.close()


def test_no_pin_digits_anywhere_after_a_conversation(d):
    """A PIN set in Arabic-Indic digits and a duress PIN in fullwidth ones work as typed in ASCII digits and
    in any script; after a conversation spelling them every way, no trace of them in the SQLite file, its WAL,
    the daemon's log or the replies."""
    site_id = d.cli("site", "add", "--dealer", "1", "--name", "Main Office").stdout.split("\t")[0]
    d.cli("contact", "add", "--site", site_id, "--first-name", "Ann", "--last-name", "Lee", "--phone", "+15550004444")
    d.cli("contact", "set-pin", "1", input=PIN.translate(ARABIC_INDIC) + "\n")
    d.cli("contact", "set-pin", "1", "--duress", input="４８２１５９３\n")
    d.start()
    replies = []

    def say(body: str) -> list[str]:
        status, answer = d.request("POST", "/carriers/loopback/inbound", json.dumps(
            {"from": "+15550004444", "body": body, "message_id": f"SM{len(replies):04d}"}).encode(),
            {"Content-Type": "application/json"})
        assert status == 200, answer
        replies.append(json.loads(answer)["replies"])
        return replies[-1]

    for body in SPELLINGS:  # no session: catch-all rows and the remembered command
        say(body)
    assert say(f"SITES {PIN}") == ["1 Main Office"]  # set in Arabic-Indic digits, typed in ASCII ones
    for body in SPELLINGS:  # in the session: unknown commands, "No site ..." answers
        say(body)
    say("EVENTS 20")
    say("LOGOUT")
    assert say("SITES " + PIN.translate(FULLWIDTH)) == ["1 Main Office"]
    say("LOGOUT")
    assert say("SITES 4821593") == ["1 Main Office"]  # the duress PIN, set in fullwidth digits
    assert say("SITES 7391825") == ["PIN not accepted."]
    say(f"call 1-555-739-1826 now {PIN}")  # a phone number, kept readable, but holding the PIN the text carries
    assert d.db.with_name(d.db.name + "-wal").exists()  # read while the latest pages are not yet checkpointed
    stored = storage.stored_bytes(d.db_url)
    d.stop()
    stored += storage.stored_bytes(d.db_url)
    logged = d.log.read_text()
    for secret in (PIN, "4821593", "7391825"):
        for script in ({}, ARABIC_INDIC, FULLWIDTH):
            assert secret.translate(script).encode() not in stored, secret
            assert secret.translate(script) not in logged, secret
        assert not any(spelled(line, secret) for answer in replies for line in answer), secret
    for body in [*SPELLINGS, "1-555-739-1826"]:
        assert written(body, PIN).encode() not in stored and written(body, PIN) not in logged, body
    assert b"****" in stored


def written(body: str, pin: str) -> str:
    """The stretch of ``body`` that spells ``pin`` ("7-391-826" of "STATUS 12:7-391-826")."""
    for run in _RUN.finditer(ascii_digits(body)):  # these bodies have one character per digit in any script
        places = [run.start() + i for i, c in enumerate(run[0]) if c.isdigit()]
        start = "".join(body[i] for i in places).translate(str.maketrans("٠١٢٣٤٥٦٧٨٩０１２３４５６７８９",
                                                                           "01234567890123456789")).find(pin)
        if start >= 0:
            return body[places[start]:places[start + len(pin) - 1] + 1]
    raise AssertionError(f"{body!r} does not spell {pin}")
