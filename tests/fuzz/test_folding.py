"""Keyword folding (gateway/core/keywords.py fold) and matching, against what its docstring and keywords.yaml promise."""

from __future__ import annotations

import unicodedata

from hypothesis import assume, given
from hypothesis import strategies as st

from gateway.core.keywords import AutoProcess, Keyword, fold
from tests.fuzz.budget import examples

ANY_TEXT = st.text(st.characters(exclude_categories=()))  # lone surrogates too: a JSON "\ud800" gets this far


def _punctuation(char: str) -> bool:
    """Not a letter, digit or mark, before or after normalisation ("TM" is letters once NFKC has read it)."""
    return unicodedata.category(char)[0] in "PSZC" and all(
        unicodedata.category(c)[0] not in "LMN" for c in unicodedata.normalize("NFKC", char))


PUNCTUATION = st.text(st.characters(exclude_categories=("L", "M", "N")).filter(_punctuation), max_size=5)
WHITESPACE = st.text(st.sampled_from([chr(i) for i in range(0x3001) if chr(i).isspace()]), min_size=1, max_size=4)
LETTERS = st.characters(categories=("L", "Nd"))
WORD = st.text(LETTERS, min_size=1, max_size=8)
# A letter or digit with the marks that belong to it: Devanagari vowel signs, Arabic harakat, Hebrew points, accents.
MARK = st.characters(categories=("M",)).filter(lambda c: c.casefold() == c == c.upper())  # not U+0345, a letter once folded
CLUSTER = st.tuples(LETTERS, st.text(MARK, max_size=2)).map("".join)
MARKED_WORD = st.lists(CLUSTER, min_size=1, max_size=5).map("".join)
ASCII_WORD = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), min_size=1,
                     max_size=10)


@examples(150)
@given(ANY_TEXT)
def test_fold_never_raises_and_is_idempotent(text):
    folded = fold(text)
    assert isinstance(folded, str)
    assert fold(folded) == folded


@examples(100)
@given(ASCII_WORD, PUNCTUATION, PUNCTUATION, WHITESPACE, WHITESPACE)
def test_yes_matches_however_it_is_typed(word, before, after, lead, trail):
    """' Yes! ', 'yes', 'YES.' all fold to 'YES': case, surrounding whitespace and punctuation do not count."""
    assert fold(lead + before + word.swapcase() + after + trail) == word.upper()


@examples(100)
@given(st.lists(WORD, min_size=1, max_size=4), st.lists(WHITESPACE, min_size=3, max_size=3), PUNCTUATION, PUNCTUATION)
def test_case_and_space_never_count_in_any_script(words, gaps, before, after):
    spaced = words[0] + "".join(g + w for g, w in zip(gaps, words[1:]))
    plain = " ".join(words)
    assume(fold(plain) and fold(plain)[0].isalnum() and fold(plain)[-1].isalnum())
    assert fold(before + spaced + after) == fold(plain)
    assert fold(plain.upper()) == fold(plain) == fold(plain.lower()) == fold(plain.swapcase())


def _canonical(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@examples(150)
@given(MARKED_WORD, PUNCTUATION, PUNCTUATION)
def test_a_word_keeps_its_letters_and_marks(word, before, after):
    """Only what surrounds a word is stripped: a vowel sign or accent at its end is part of it."""
    expected = unicodedata.normalize("NFKC", word).casefold().upper()
    assume(all(unicodedata.category(c)[0] in "LMN" for c in expected))  # "Ŀ" is "L·" once normalised
    assert _canonical(fold(before + word + after)) == _canonical(fold(word)) == _canonical(expected)
    assert fold(fold(word)) == fold(word) == fold(word.upper()) == fold(word.lower())


@examples(100)
@given(ANY_TEXT)
def test_fold_is_trimmed_upper_case_with_single_spaces(text):
    folded = fold(text)
    assert folded == folded.strip() and "  " not in folded and not any(c.isspace() and c != " " for c in folded)
    assert folded == folded.upper()
    if any(c.isalnum() for c in folded):  # only a text of punctuation alone keeps punctuation around it
        last = len(folded) - 1
        while last and unicodedata.category(folded[last]).startswith("M"):  # marks belong to the letter before
            last -= 1
        assert folded[0].isalnum() and folded[last].isalnum()


@examples(100)
@given(WORD, st.lists(WORD, max_size=3), ANY_TEXT)
def test_a_keyword_matches_exactly_the_texts_that_fold_like_it(word, aliases, text):
    keyword = Keyword(word=word, aliases=tuple(aliases), code="SMSYES", reply=None, outcome="confirm")
    process = AutoProcess("p", frozenset({"BA"}), "t", 300, "S", "R", "P", "E", (keyword,))
    expected = keyword if fold(text) in {fold(w) for w in (word, *aliases)} else None
    assert process.match(text) is expected
    assert process.match(" " + word.swapcase() + "!") is keyword


def test_vowel_signs_at_the_end_of_a_keyword_count():
    """Found by test_a_word_keeps_its_letters_and_marks: the trailing-punctuation strip took marks too, so
    Hindi "हाँ" (yes) folded to "ह", like "है" (is), and a reply "है" confirmed an alarm."""
    assert fold(" हाँ! ") == "हाँ" and fold("नहीं.") == "नहीं"
    yes = Keyword(word="हाँ", aliases=(), code="SMSYES", reply=None, outcome="confirm")
    process = AutoProcess("p", frozenset({"BA"}), "t", 300, "S", "R", "P", "E", (yes,))
    assert process.match("हाँ") is yes and process.match("है") is None
    assert fold("ΐ") == fold("ΐ".upper()) == fold(fold("ΐ"))
