"""Acronyms a dataset defines for itself: "Safety Net Assistance (SNA)".

The abbreviation table (:mod:`catalog.text`) holds what a token means across the catalog:
``DOB`` is a date of birth in nearly every layout. Yet New York City's "Department of
Buildings (DOB)" names a field ``DOBRunDate`` ("Date when query is run and pushed to Open
Data"), and read with the table it was a *date of birth run date*: the first field lexical
search gave for "date of birth". What a dataset's own texts (its title, description, its
fields' labels and descriptions) define wins there over the table, and new acronyms are
learnt the same way: New York's public-assistance denials define "Safety Net Assistance
(SNA)" in one label and name the other columns ``sna_finance``, ``sna_residence``. The
publisher's own acronym is read as itself, neither as the table says nor spelt out
(:func:`overrides`).

Definitions are found by Schwartz & Hearst's algorithm ("A simple algorithm for
identifying abbreviation definitions in biomedical text", PSB 2003): a short form in
brackets after its long form, or a long form in brackets after its short form; the long
form is the shortest run of the words before it (at most min(|SF| + 5, 2·|SF|) words) in
which the short form's characters appear in order, its first character beginning a word.
Two checks make it stricter, because what a definition changes here is how every field
name of the dataset is read: short forms are acronyms only (two capitals at least, no more
small letters than capitals: "DOB", "SNA", "PINs"; not "(cleaned)" or "(uniform)"), and the
long form's initials must spell the short form (:func:`explained`).

Every text is read up to :data:`TEXT_CHARS` and a dataset to :data:`DATASET_CHARS`
characters, so a hostile description cannot make indexing slow.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from catalog.text import ABBREVIATIONS, STOPWORDS, fold

TEXT_CHARS = 4000  # of one text (a description, a label)
DATASET_CHARS = 400_000  # of all the texts of one dataset
TAIL_CHARS = 300  # of the text before a bracket read for its long form (20 words at most)
_BRACKETED = re.compile(r"\(([^()]{1,120})\)")
_SHORT = re.compile(r"[A-Za-z][A-Za-z0-9]{1,9}")
_WORD = re.compile(r"[0-9A-Za-z]+")


def _acronym(text: str) -> bool:
    """Whether ``text`` can be a short form: one token, two capitals at least, no more
    small letters than capitals."""
    if not _SHORT.fullmatch(text):
        return False
    upper = sum(c.isupper() for c in text)
    return upper >= 2 and upper >= sum(c.islower() for c in text)


def long_form(short: str, candidate: str) -> str | None:
    """The shortest end of ``candidate`` that ``short`` abbreviates, or None (Schwartz &
    Hearst's ``findBestLongForm``): the short form's letters and digits found right to
    left, the first one at the start of a word."""
    s = len(short) - 1
    i = len(candidate) - 1
    while s >= 0:
        ch = short[s].lower()
        if not ch.isalnum():
            s -= 1
            continue
        while i >= 0 and (candidate[i].lower() != ch
                          or (s == 0 and i > 0 and candidate[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    start = candidate.rfind(" ", 0, i + 1) + 1
    words = candidate[start:].split()
    before = candidate[:start].split()
    # The shortest run can stop one word short: "Office of Temporary … (OTDA)" ends its
    # match at "of", "Social Services District (SSD)" at "Services". The word before is
    # taken when the run begins with a stopword, or has fewer words than the short form
    # has letters, and that word begins with the short form's first letter.
    first = short[0].lower()
    while before and before[-1][:1].lower() == first and (
            words[0].lower() in STOPWORDS or len(words) < len(short)):
        words.insert(0, before.pop())
    if len(words) < 2 or short.lower() in (w.lower() for w in words):
        return None
    return " ".join(words)


def _content(words: list[str]) -> list[str]:
    """Words of a long form, the "s" of a possessive ("Children's") left out."""
    return [w for i, w in enumerate(words) if not (i and w.lower() == "s")]


def explained(short: str, words: list[str]) -> list[str] | None:
    """The words of ``words`` whose initials spell ``short``, or None.

    The initials of every word, or of the words other than stopwords, must spell the short
    form (a plural's "s" aside: "PINs"), or begin with it when it has three letters or more
    ("Centers for Disease Control and Prevention (CDC)": the words up to "Control").
    Schwartz & Hearst accept any long form holding the letters in order, which in
    codebooks reads "… during the previous calendar year (STAMPNO)" as a definition.
    """
    key = short.lower()
    if short.endswith("s") and short[:-1].isupper():
        key = key[:-1]
    words = _content(words)
    for keep in (lambda w: True, lambda w: w.lower() not in STOPWORDS):
        kept = [w for w in words if keep(w)]
        initials = "".join(w[0] for w in kept).lower()
        if initials == key:
            return words
        if len(key) >= 3 and initials.startswith(key):
            last = kept[len(key) - 1]
            return words[:words.index(last) + 1]
    return None


def definitions(text: str) -> Iterable[tuple[str, str]]:
    """``(short form, long form)`` pairs a text defines."""
    text = fold(text[:TEXT_CHARS])
    for match in _BRACKETED.finditer(text):
        inside = match.group(1).strip()
        before = text[max(0, match.start() - TAIL_CHARS):match.start()].rstrip()
        if _acronym(inside):
            window = min(len(inside) + 5, 2 * len(inside))
            words = before.split()[-window:]
            found = long_form(inside, " ".join(words))
            spelt = explained(inside, _WORD.findall(found)) if found else None
            if spelt:
                yield inside, " ".join(spelt)
        elif len(inside.split()) >= 2:
            # "SNA (Safety Net Assistance)": the short form just before the brackets.
            head = before.split()[-1:] if before else []
            short = head[0].strip(",;:") if head else ""
            spelt = explained(short, _WORD.findall(inside)) if _acronym(short) else None
            if spelt:
                yield short, " ".join(spelt)


def defined_in(texts: Iterable[str | None]) -> dict[str, str]:
    """The acronyms ``texts`` define, as an abbreviation table: the short form in lower
    case → the long form's words in lower case. A short form defined two ways takes the
    way it is defined most often (the first of equals)."""
    seen: dict[str, Counter[str]] = {}
    budget = DATASET_CHARS
    for text in texts:
        if not text or budget <= 0:
            continue
        budget -= min(len(text), TEXT_CHARS)
        if "(" not in text:
            continue
        for short, found in definitions(text):
            words = " ".join(w.lower() for w in _WORD.findall(found))
            seen.setdefault(short.lower(), Counter())[words] += 1
    return {short: counts.most_common(1)[0][0] for short, counts in seen.items()}


def overrides(texts: Iterable[str | None], *, publisher: Iterable[str | None] = ()
              ) -> dict[str, str]:
    """How ``texts`` change the abbreviation table where they are written: a token the
    table lacks is learnt; one the table spells out otherwise (``DOB`` → "date of birth")
    takes the local meaning instead; one the table glosses rather than spells out
    (``SNAP`` → "snap food stamps") keeps the gloss, the local words added to it.

    The publisher's own acronym (``publisher``: its name and abbreviation) is read as
    nothing but itself: spelt out, "DCF_OFFICE" would be about "children and families"
    like every field of that agency, and the field's text names its agency already.
    """
    names = [n for n in publisher if n]
    own = {n.lower() for n in names if _acronym(n)}
    own_words = {w.lower() for n in names for w in _WORD.findall(fold(n))}
    out: dict[str, str] = {}
    for token, meaning in defined_in([*names, *texts]).items():
        known = ABBREVIATIONS.get(token)
        if token in own or set(meaning.split()) <= own_words:
            if known is not None:
                out[token] = token
            continue
        if known is None or explained(token, known.split()):
            if meaning != known:
                out[token] = meaning
            continue
        extra = [w for w in meaning.split() if w not in known.split()]
        if extra:
            out[token] = " ".join([known, *extra])
    return out
