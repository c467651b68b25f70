"""Abbreviations mined from the catalog itself: field names aligned with their labels.

Agencies abbreviate the same words the same way across a layout: ``CLNT_ID`` is labelled
"Client identifier", ``CLNT_DOB`` "Client date of birth". Each name token that is not a
word of its own label is aligned with the label's words, two ways:

- **initials** of consecutive label words, stopwords counted or skipped (``DOB`` ↔ "date
  of birth", ``FPL`` ↔ "federal poverty level");
- **a contraction** of one label word: the token's letters, in order, inside the word, the
  first letters equal (``CLNT`` ↔ "client", ``APPLCN`` ↔ "applicants").

A field without a label is read off the head of its description instead (its first
sentence, at most :data:`DEFINITION_WORDS` words): Connecticut's P20 WIN dictionaries give
only an element name and a definition (``MntlHlthIndic``, "Indicator (Y/N) showing whether
Mental Health was found to be a factor"; ``JuvDtnEpsd…``). A definition is longer and looser
than a label, so only contractions are read off it, never initials ("PO" would be the
"period of" a definition happens to contain).

An alignment counts once per distinct (name, label) pair. A token becomes an entry when its
best expansion was seen in at least ``min_support`` distinct pairs (one more for a token of
two letters), is more than ``min_share``
of the token's labelled occurrences (so that an ambiguous token such as ``ED`` stays out),
and the token is not itself a word that labels use (``AGE``, ``RACE``). Entries written by
hand in :data:`catalog.text.HAND_ABBREVIATIONS` win over mined ones.

``catalog abbreviations`` mines the catalog's public fields and writes the table that
:mod:`catalog.text` loads (``catalog/data/abbreviations.tsv``); the index must then be
rebuilt (``catalog reindex``) so that documents and queries are analysed alike.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.text import HAND_ABBREVIATIONS, MINED_FILE, STOPWORDS, split_identifier

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from catalog.audience import Audience

MIN_SUPPORT = 2
MIN_SHARE = 0.5
MAX_LABEL_WORD_USES = 2  # a token used as a word in more labels than this is a word
MIN_TOKEN = 2
MIN_CONTRACTION = 3  # two letters inside a word are too often chance ("TA" in "total")
MAX_TOKEN = 8
DEFINITION_WORDS = 12  # words of a description's head read when a field has no label
_SENTENCE_END = re.compile(r"[.;:]\s|\n")
_LABEL_WORD = re.compile(r"[a-z]+")
HEADER = ("abbreviation", "expansion", "support", "occurrences")


@dataclass(frozen=True)
class Mined:
    """One mined entry: the token, its expansion, and the evidence for it."""

    abbreviation: str
    expansion: str
    support: int  # distinct (name, label) pairs aligning the two
    occurrences: int  # distinct labelled names holding the token

    @property
    def share(self) -> float:
        """How often the token, where it occurs in a labelled name, means this."""
        return self.support / self.occurrences if self.occurrences else 0.0


def _is_contraction(token: str, word: str) -> bool:
    """Whether ``token`` is ``word`` with letters left out (first letter kept)."""
    if len(word) <= len(token) or token[0] != word[0]:
        return False
    rest = iter(word[1:])
    return all(ch in rest for ch in token[1:])


def _initials(token: str, words: list[str]) -> list[str]:
    """Runs of consecutive label words whose initials spell ``token`` (stopwords counted,
    then skipped)."""
    out = []
    n = len(token)
    for i in range(len(words)):
        run = words[i : i + n]
        if len(run) == n and "".join(w[0] for w in run) == token:
            out.append(" ".join(run))
        content: list[str] = []
        for w in words[i:]:
            if w in STOPWORDS and content:
                continue
            content.append(w)
            if len(content) == n:
                break
        if (len(content) == n and content[0] not in STOPWORDS
                and "".join(w[0] for w in content) == token):
            span = words[i : words.index(content[-1], i) + 1]
            out.append(" ".join(span))
    return out


def definition_head(description: str | None) -> str:
    """The first sentence of a description, at most :data:`DEFINITION_WORDS` words."""
    if not description:
        return ""
    first = _SENTENCE_END.split(description.strip(), maxsplit=1)[0]
    return " ".join(first.split()[:DEFINITION_WORDS])


def alignments(name: str, label: str, *, initials: bool = True) -> list[tuple[str, str]]:
    """``(token, expansion)`` pairs of one field: its name's tokens read off its label
    (with ``initials=False``, off a description's head: contractions only)."""
    words = _LABEL_WORD.findall(label.lower())
    if not words:
        return []
    tokens = split_identifier(name)
    # A word the name spells out across its tokens ("PowerLink", "powerlink") is not what
    # one of those tokens abbreviates.
    vocabulary = set(words)
    joined = "".join(tokens)
    out: list[tuple[str, str]] = []
    for token in dict.fromkeys(tokens):
        if (not token.isalpha() or token in vocabulary or token in STOPWORDS
                or not MIN_TOKEN <= len(token) <= MAX_TOKEN):
            continue
        found = _initials(token, words) if initials and len(token) <= 4 else []
        if not found and len(token) >= MIN_CONTRACTION:
            found = [w for w in dict.fromkeys(words)
                     if w not in STOPWORDS and w not in joined and _is_contraction(token, w)]
        if len(found) == 1 or (found and len(set(found)) == 1):
            out.append((token, found[0]))
    return out


def mine(
    fields: Iterable[tuple[str, str | None] | tuple[str, str | None, str | None]],
    *,
    min_support: int = MIN_SUPPORT,
    min_share: float = MIN_SHARE,
) -> list[Mined]:
    """Entries mined from ``(name, label)`` or ``(name, label, description)`` tuples, best
    supported first; a field without a label is read off its description's head."""
    support: dict[str, Counter[str]] = defaultdict(Counter)
    occurrences: Counter[str] = Counter()
    label_uses: Counter[str] = Counter()
    texts = set()
    for name, label, *description in fields:
        if label:
            texts.add((name, label, True))
        elif description and (head := definition_head(description[0])):
            texts.add((name, head, False))
    for name, label, labelled in texts:
        for word in set(_LABEL_WORD.findall(label.lower())):
            label_uses[word] += 1
        for token in set(split_identifier(name)):
            occurrences[token] += 1
        for token, expansion in alignments(name, label, initials=labelled):
            support[token][expansion] += 1
    out = []
    for token, counts in support.items():
        if token in HAND_ABBREVIATIONS or label_uses[token] > MAX_LABEL_WORD_USES:
            continue
        expansion, count = counts.most_common(1)[0]
        entry = Mined(token, expansion, count, occurrences[token])
        # Two letters agree by chance more often than three: they need one pair more.
        needed = min_support + (1 if len(token) <= MIN_TOKEN else 0)
        if count >= needed and entry.share > min_share:
            out.append(entry)
    out.sort(key=lambda e: (-e.support, e.abbreviation))
    return out


def write(entries: Iterable[Mined], path: Path = MINED_FILE) -> int:
    """Write the mined table (tab-separated, sorted by token); returns the entry count."""
    rows = sorted(entries, key=lambda e: e.abbreviation)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows((e.abbreviation, e.expansion, e.support, e.occurrences) for e in rows)
    return len(rows)



def catalog_fields(session: Session, audience: Audience
                   ) -> list[tuple[str, str | None, str | None]]:
    """``(name, label, description)`` of every field the audience may see."""
    from sqlalchemy import select

    from catalog.models import Agency, Dataset, Field

    query = (select(Field.name, Field.label, Field.description)
             .join(Dataset, Field.dataset_id == Dataset.id)
             .join(Agency, Dataset.agency_id == Agency.id)
             .where(audience.clause(Dataset.access_level, Agency.slug)))
    return [(name, label, description) for name, label, description in session.execute(query)]
