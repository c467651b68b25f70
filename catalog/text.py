"""Text normalisation shared by both search engines: name splitting, abbreviations, stemming.

Field names such as ``CLNT_DOB_DT``, ``studentEnrollDate`` or ``zip5`` are split into words
and their abbreviations expanded, so that a researcher's words ("client date of birth")
meet the names agencies actually use. The same analysis feeds the embedded engine and
Elasticsearch, so both engines see identical tokens.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import snowballstemmer

# What a source writes for "no value" (lower case, punctuation as spaces): "Not Available".
PLACEHOLDERS = {"", "not available", "n/a", "n a", "na", "none", "null", "unknown", "tbd", "-",
                "?", "not applicable", "blank"}

# Common abbreviations in government data dictionaries and record layouts. Only entries
# whose meaning is unambiguous in that setting; ambiguous ones (ED, MED, IND) are left out.
# Mined ones (catalog.abbreviations, data/abbreviations.tsv) extend these in ABBREVIATIONS.
HAND_ABBREVIATIONS: dict[str, str] = {
    "acct": "account", "addr": "address", "adm": "admission", "admit": "admission",
    "admsn": "admission", "admssn": "admissions", "adj": "adjusted", "agcy": "agency",
    "amt": "amount", "ann": "annual", "appl": "application", "applcn": "applicants",
    "apt": "apartment", "asst": "assistance", "att": "attendance", "attnd": "attendance",
    "avg": "average", "bal": "balance", "bdate": "birth date", "ben": "benefit",
    "bnft": "benefit", "bmi": "body mass index", "bus": "business", "cd": "code",
    "cert": "certificate", "chg": "charge", "chgs": "charges", "chld": "child",
    "cig": "cigarette", "cigs": "cigarettes", "clm": "claim", "clnt": "client",
    "cnt": "count", "cnty": "county", "co": "county", "cond": "condition", "ctr": "center",
    "cty": "city", "cur": "current", "curr": "current", "dob": "date of birth",
    "dod": "date of death", "dept": "department", "descr": "description",
    "desc": "description", "diag": "diagnosis", "disab": "disability", "disch": "discharge",
    "disp": "disposition", "dist": "district", "dsbl": "disability", "dschg": "discharge",
    "dt": "date", "dte": "date", "dtm": "datetime", "dur": "duration", "dx": "diagnosis",
    "educ": "education", "eitc": "eitc earned income tax credit", "elig": "eligibility",
    "emp": "employment", "empl": "employment",
    "enrl": "enrollment", "enrlt": "enrolled", "enroll": "enrollment", "ethn": "ethnicity",
    "exp": "expenditure", "fac": "facility", "fam": "family", "fed": "federal",
    "fips": "fips state county code", "fname": "first name", "fpl": "federal poverty level",
    "freq": "frequency", "fte": "full time equivalent", "fy": "fiscal year", "gndr": "gender",
    "govt": "government", "grad": "graduation", "grd": "grade", "grp": "group",
    "hh": "household", "hhld": "household", "hisp": "hispanic", "hosp": "hospital",
    "hr": "hour", "hrs": "hours", "hs": "high school", "hsg": "housing", "id": "identifier",
    "idn": "identifier", "inc": "income", "ins": "insurance", "instn": "institution",
    "inst": "institution", "inv": "investment", "lang": "language", "lname": "last name",
    "los": "length of stay", "lvl": "level", "mbr": "member", "mgmt": "management",
    "mi": "middle initial", "mnth": "month", "mo": "month", "mrtl": "marital",
    "msa": "metropolitan statistical area", "mth": "month", "naics": "industry code naics",
    "nbr": "number", "no": "number", "num": "number", "occ": "occupation",
    "occup": "occupation", "org": "organization", "pat": "patient", "pct": "percent",
    "perc": "percent", "pgm": "program", "phys": "physician", "pmt": "payment",
    "pop": "population", "pos": "position", "pov": "poverty", "prgm": "program",
    "prev": "previous", "prog": "program", "prov": "provider", "pt": "patient",
    "pymt": "payment", "qtr": "quarter", "qty": "quantity", "rcpt": "receipt",
    "rec": "record", "recip": "recipient", "ref": "reference", "reg": "region",
    "rel": "relationship", "res": "residence", "resp": "respondent", "sch": "school",
    "schl": "school", "sfy": "state fiscal year", "snap": "snap food stamps",
    "soc": "occupation code soc", "src": "source", "ssn": "social security number",
    "st": "state", "stat": "status", "std": "standard", "stdnt": "student", "stu": "student",
    "svc": "service", "svcs": "services", "tanf": "tanf temporary assistance needy families",
    "tchr": "teacher", "tel": "telephone", "tot": "total", "trans": "transaction",
    "ui": "unemployment insurance", "unemp": "unemployment", "univ": "university",
    "vet": "veteran", "wk": "week", "wkly": "weekly", "yr": "year", "yrs": "years",
    "zip": "zip code", "zipcode": "zip code",
    # Seen in Connecticut's P20 WIN element names, which have definitions but no labels
    # (``MntlHlthIndic``, ``AdmissionTSP``, ``Sched_…``); unambiguous there and elsewhere.
    "adlt": "adult", "alleg": "allegation", "amer": "american", "assm": "assessment",
    "atty": "attorney", "calc": "calculated", "cred": "credential", "excl": "excluded",
    "flg": "flag", "hlth": "health", "hoh": "head of household", "ldesc": "long description",
    "mh": "mental health", "mntl": "mental", "oth": "other", "pers": "personal",
    "recom": "recommendation", "sched": "schedule", "sdesc": "short description",
    "tsp": "timestamp",
}
MINED_FILE = Path(__file__).with_name("data") / "abbreviations.tsv"


def read_mined(path: Path | None = None) -> dict[str, str]:
    """The mined table written by ``catalog abbreviations``: ``$CATALOG_ABBREVIATIONS``, else
    the one shipped in the package (mined from the bundled corpus)."""
    path = path or Path(os.environ.get("CATALOG_ABBREVIATIONS") or MINED_FILE)
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["abbreviation"]: row["expansion"]
                for row in csv.DictReader(handle, delimiter="\t")
                if row.get("abbreviation") and row.get("expansion")}


def table_digest(table: dict[str, str]) -> str:
    """Eight hex digits that change whenever an entry of ``table`` does."""
    lines = "\n".join(f"{k}\t{v}" for k, v in sorted(table.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()[:8]


ABBREVIATIONS: dict[str, str] = {**read_mined(), **HAND_ABBREVIATIONS}
# The table in use, as a short digest: the search indexes record it in their format, so that
# an index analysed with another table (a new release's, or $CATALOG_ABBREVIATIONS's) is
# rebuilt rather than matched against queries analysed differently.
ABBREVIATIONS_DIGEST = table_digest(ABBREVIATIONS)

STOPWORDS = frozenset(
    [
        "a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "has",
        "have", "how", "i", "in", "into", "is", "it", "its", "many", "much", "me", "my",
        "of", "on", "or", "our", "s", "that", "the", "their", "them", "there", "these",
        "they", "this", "those", "to", "was", "were", "what", "when", "where", "which",
        "who", "whom", "why", "will", "with", "you", "your"
    ]
)

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_ALNUM_EDGE = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_WORD = re.compile(r"[0-9A-Za-z]+")
_STEMMER = snowballstemmer.stemmer("english")


def fold(text: str) -> str:
    """Strip accents and compatibility forms (``é`` → ``e``) so that spelling variants meet."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def split_identifier(name: str) -> list[str]:
    """Split a field name into lower-case words: ``CLNT_DOB_DT`` → ``[clnt, dob, dt]``."""
    words: list[str] = []
    for chunk in _WORD.findall(fold(name)):
        chunk = _CAMEL.sub(" ", chunk)
        chunk = _ALNUM_EDGE.sub(" ", chunk)
        words.extend(part.lower() for part in chunk.split() if part)
    return words


def expand_words(words: list[str], local: Mapping[str, str] | None = None) -> list[str]:
    """Replace known abbreviations by their meaning, keeping other words as they are;
    ``local`` (what a dataset defines for itself, :mod:`catalog.acronyms`) wins over the
    table."""
    out: list[str] = []
    for word in words:
        meaning = local.get(word) if local else None
        out.extend((meaning or ABBREVIATIONS.get(word, word)).split())
    return out


def expand_name(name: str, local: Mapping[str, str] | None = None) -> str:
    """A field name in words: ``CLNT_DOB_DT`` → ``client date of birth date``."""
    return " ".join(expand_words(split_identifier(name), local))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The English stem of one lower-case word."""
    return _STEMMER.stemWord(word)


def words(text: str | None) -> list[str]:
    """Lower-case words of a free text (identifiers inside it are split too)."""
    if not text:
        return []
    return split_identifier(text)


def analyse(text: str | None, *, expand: bool = False,
            local: Mapping[str, str] | None = None) -> list[str]:
    """Index tokens of a text: words, optionally expanded (``local`` winning over the
    table, as in :func:`expand_words`), stemmed; stopwords dropped."""
    if not text:
        return []
    if expand and local:
        tokens = words(text)
        if any(t in local for t in tokens):
            return list(_analysed(tokens, expand, local))
    return list(_analyse(text, expand))


@lru_cache(maxsize=100_000)
def _analyse(text: str, expand: bool) -> tuple[str, ...]:
    # Catalogs repeat the same labels and titles across thousands of fields: cache them.
    return _analysed(words(text), expand)


def _analysed(tokens: list[str], expand: bool,
              local: Mapping[str, str] | None = None) -> tuple[str, ...]:
    if expand:
        tokens = tokens + [w for w in expand_words(tokens, local) if w not in tokens]
    return tuple(stem(t) for t in tokens if t not in STOPWORDS)


def analyse_name(name: str, local: Mapping[str, str] | None = None) -> list[str]:
    """Index tokens of a field name: the name whole, its parts and their expansions."""
    if local:
        parts = split_identifier(name)
        if any(p in local for p in parts):
            return list(_analysed_name(parts, local))
    return list(_analyse_name(name))


@lru_cache(maxsize=100_000)
def _analyse_name(name: str) -> tuple[str, ...]:
    return _analysed_name(split_identifier(name))


def _analysed_name(parts: list[str],
                   local: Mapping[str, str] | None = None) -> tuple[str, ...]:
    whole = "".join(parts)
    tokens = [whole] if len(parts) > 1 else []
    tokens += parts + [w for w in expand_words(parts, local) if w not in parts]
    return tuple(stem(t) for t in tokens if t not in STOPWORDS)


# Abbreviations that are also everyday English words: in a query they are expanded only
# when written in capitals ("NO" might be a number, "no" is just no).
ENGLISH_WORDS = frozenset(
    [
        "adj", "ann", "app", "att", "bal", "ben", "bus", "cert", "co", "cond", "cur",
        "desc", "dist", "dur", "exp", "fac", "fam", "fed", "grad", "hr", "inc", "ins",
        "inst", "lang", "mi", "mo", "no", "num", "pat", "pop", "pos", "prev", "rec", "ref",
        "reg", "rel", "res", "resp", "soc", "st", "stat", "std", "tel", "tot", "trans",
        "vet"
    ]
)
_QUERY_WORD = re.compile(r"[0-9A-Za-z]+")


# What a question asks for, in the words data dictionaries use for it: "how long the
# patient stayed" asks for a length of stay, not for something long; "how many students
# applied" for a number or count of applicants. The word after "how" is replaced by these.
QUESTION_WORDS: dict[str, tuple[str, ...]] = {
    "long": ("length", "duration"), "many": ("number", "count"), "much": ("amount",),
    "often": ("frequency",), "old": ("age",), "far": ("distance",), "big": ("size",),
}


def _query_words(query: str) -> list[tuple[str, bool]]:
    """Words of a query with whether each may be expanded as an abbreviation; the word
    after "how" read as what the question asks for (:data:`QUESTION_WORDS`)."""
    out: list[tuple[str, bool]] = []
    previous = ""
    for raw in _QUERY_WORD.findall(fold(query)):
        shouting = raw.isupper() and len(raw) > 1
        for word in split_identifier(raw):
            asked = QUESTION_WORDS.get(word) if previous == "how" else None
            if asked:
                out.extend((w, False) for w in asked)
            else:
                out.append((word, shouting or word not in ENGLISH_WORDS))
            previous = word
    return out


def query_terms(query: str, *, max_terms: int = 64) -> list[str]:
    """Distinct stemmed terms of a search query, abbreviations expanded, in order."""
    seen: dict[str, None] = {}
    for word, expandable in _query_words(query):
        words_ = [word]
        if expandable and word in ABBREVIATIONS:
            words_ += [w for w in ABBREVIATIONS[word].split() if w != word]
        for w in words_:
            if w in STOPWORDS:
                continue
            token = stem(w)
            if token not in seen:
                seen[token] = None
            if len(seen) >= max_terms:
                return list(seen)
    return list(seen)


def query_for_embedding(query: str) -> str:
    """The query as the embedding model should read it: acronyms in capitals spelled out.

    ``EITC claimed`` → ``EITC (earned income tax credit) claimed``. Only words written in
    capitals are expanded, so that plain English words are never misread.
    """

    def spell(match: re.Match[str]) -> str:
        word = match.group()
        meaning = ABBREVIATIONS.get(word.lower())
        if not meaning or not word.isupper() or len(word) < 2:
            return word
        extra = " ".join(w for w in meaning.split() if w != word.lower())
        return f"{word} ({extra})" if extra else word

    return _QUERY_WORD.sub(spell, query)


PREFIX_FROM = 4  # shortest prefix indexed (shorter query terms match whole words only)
PREFIX_LIMIT = 200  # prefixes of one document, at most


def prefixes(tokens: list[str]) -> list[str]:
    """The proper prefixes, ``PREFIX_FROM`` letters or longer, of each distinct token.

    Indexed in a column of their own, they let a query term match the words it begins:
    "denied" (stem ``deni``) finds "denials" (``denial``), "applied" (``appli``) finds
    "applicants" (``applic``), a misspelt "cigarets" (``cigaret``) finds "cigarettes"
    (``cigarett``). A whole word is left out, so an exact match is not counted twice; so
    are tokens with digits (codes, years).
    """
    out: dict[str, None] = {}
    for token in dict.fromkeys(tokens):
        if token.isalpha():
            for end in range(PREFIX_FROM, len(token)):
                out.setdefault(token[:end], None)
                if len(out) >= PREFIX_LIMIT:
                    return list(out)
    return list(out)


def clip(text: str | None, limit: int) -> str:
    """Shorten a text to at most ``limit`` characters at a word boundary."""
    if not text:
        return ""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:.") + "…"
