"""Field-name splitting, abbreviation expansion and query analysis."""

from __future__ import annotations

import pytest

from catalog import text
from catalog.text import analyse_name, clip, expand_name, query_terms, split_identifier


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("CLNT_DOB_DT", ["clnt", "dob", "dt"]),
        ("studentEnrollDate", ["student", "enroll", "date"]),
        ("zip5", ["zip", "5"]),
        ("HTTPStatusCode", ["http", "status", "code"]),
        ("dateOfExitYear", ["date", "of", "exit", "year"]),
        ("I10_DX1", ["i", "10", "dx", "1"]),
        ("Año-de-nacimiento", ["ano", "de", "nacimiento"]),
        ("", []),
    ],
)
def test_split_identifier(name: str, words: list[str]) -> None:
    assert split_identifier(name) == words


@pytest.mark.parametrize(
    ("name", "expanded"),
    [
        ("CLNT_DOB_DT", "client date of birth date"),
        ("SSN", "social security number"),
        ("ELIG_AMT", "eligibility amount"),
        ("CNTY_CD", "county code"),
        ("ENRL_NBR", "enrollment number"),
        ("LOS", "length of stay"),
        ("PAT_ZIP", "patient zip code"),
    ],
)
def test_expand_name(name: str, expanded: str) -> None:
    assert expand_name(name) == expanded


def test_name_tokens_keep_the_original_and_add_meanings() -> None:
    tokens = analyse_name("CLNT_DOB_DT")
    assert "clntdobdt" in tokens and "dob" in tokens
    assert "birth" in tokens and "client" in tokens


def test_query_terms_stem_expand_and_drop_stopwords() -> None:
    assert query_terms("the patient's long stay in the hospital") == [
        "patient", "long", "stay", "hospit",
    ]
    assert "birth" in query_terms("DOB")
    assert query_terms("?!... ---") == []


def test_a_question_word_asks_for_what_dictionaries_call_it() -> None:
    # "How long" asks for a length or duration, not for something long.
    assert query_terms("how long the patient stayed in the hospital") == [
        "length", "durat", "patient", "stay", "hospit",
    ]
    assert query_terms("How many students applied") == ["number", "count", "student", "appli"]
    assert query_terms("how much money the family makes")[:1] == ["amount"]
    assert query_terms("how old is the child") == ["age", "child"]
    # Only right after "how": elsewhere the word is itself.
    assert query_terms("long-term care") == ["long", "term", "care"]
    assert query_terms("many") == [] and query_terms("how") == []


def test_query_terms_are_bounded() -> None:
    assert len(query_terms(" ".join(f"word{i}x" for i in range(10_000)))) == 64


def test_clip() -> None:
    assert clip("a b c", 10) == "a b c"
    assert clip("alpha beta gamma delta", 12) == "alpha beta…"
    assert clip(None, 5) == ""


def test_prefixes_of_words_let_a_query_term_begin_them() -> None:
    assert text.prefixes(["denial", "cd", "dx1", "elig", "denial"]) == ["deni", "denia"]
    assert text.stem("denied") in text.prefixes([text.stem("denials")])
    assert len(text.prefixes(["a" * 400])) == text.PREFIX_LIMIT
