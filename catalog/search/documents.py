"""Search documents built from the catalog: one per dataset and one per field.

A field's document carries its dataset's title, agency and access level so that a field
hit can be shown, filtered and faceted without a join. Lexical columns hold analysed
tokens (split, expanded, stemmed by :mod:`catalog.text`) so that both engines index the
very same terms; the embedding text is plain words.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from catalog.acronyms import overrides
from catalog.models import Dataset, Field
from catalog.text import (
    ABBREVIATIONS_DIGEST,
    PLACEHOLDERS,
    analyse,
    analyse_name,
    clip,
    expand_name,
    prefixes,
    query_terms,
    split_identifier,
)

# Per-column BM25 weights, shared by both engines. Both score BM25F-style: a term's
# frequency is the weighted sum of its frequencies in the columns (FTS5's bm25() with
# weights; Elasticsearch's combined_fields, which requires every weight to be at least 1).
LEXICAL_COLUMNS: tuple[str, ...] = (
    "name", "label", "description", "context", "codes", "prefixes")
LEXICAL_WEIGHTS: dict[str, float] = {
    "name": 10.0,
    "label": 7.5,
    "description": 1.0,
    "context": 1.5,
    "codes": 1.0,
    "prefixes": 4.0,  # a query term that begins a word (text.prefixes); chosen by --cv-columns
}
PREFIXED_COLUMNS = ("name", "label", "description", "codes")  # whose words' prefixes count
# Bump when what a document holds changes (2: twin keys in ``words``; 3: the source's
# identifier, ``source_dataset``, in the payload; 4: compilations marked in ``words``; 5:
# sibling keys in ``words``; 6: fields embedded with their dataset's title in words,
# :func:`readable_title`; 7: the abbreviation table's digest, so that documents and queries
# are always analysed with the same table; 8: acronyms a dataset defines for itself,
# :func:`abbreviations_of`): an Elasticsearch index that records another is rebuilt, as an
# embedded one of another INDEX_FORMAT is.
DOCUMENTS_FORMAT = f"8.{ABBREVIATIONS_DIGEST}"
EMBED_CHARS = 1000
MAX_CODES = 40
WORDS_CHARS = 400
NAME_MARK = " | "  # separates a field's label words from its name's terms in ``words``
TWIN_MARK = " ~ "  # then comes the document's twin key (see :func:`twin_key`)
COMPILED_MARK = " +"  # after the twin key: the document's dataset is a compilation


@dataclass
class SearchDocument:
    """What an engine indexes for one dataset or field."""

    doc_id: str
    kind: str
    dataset_id: int
    field_id: int | None
    agency: str
    data_type: str
    access_level: str
    sensitivity: str
    lexical: dict[str, str]
    embed_text: str
    payload: dict[str, Any]
    # Label words, to tell near-identical fields of one dataset (see search.results), and
    # after TWIN_MARK the twin key that tells exact copies in other datasets, followed by
    # COMPILED_MARK when the dataset compiles other agencies' (its copies yield to theirs).
    words: str = ""
    # A dataset's :func:`context_text`, embedded beside the documents but not indexed: the
    # part its fields' embed texts share, which similar-field search takes out.
    context_text: str = ""

    def attributes(self) -> dict[str, str]:
        """Filterable and facetable attributes."""
        return {
            "kind": self.kind,
            "agency": self.agency,
            "data_type": self.data_type,
            "access_level": self.access_level,
            "sensitivity": self.sensitivity,
        }


def _tokens(values: list[str]) -> str:
    return " ".join(values)


def _with_prefixes(lexical: dict[str, str],
                   columns: tuple[str, ...] = PREFIXED_COLUMNS) -> dict[str, str]:
    """The columns, and the prefixes of the words of ``columns``."""
    words = [w for column in columns for w in lexical.get(column, "").split()]
    return {**lexical, "prefixes": _tokens(prefixes(words))}


def label_words(field: Field) -> str:
    """The stems of a field's label (or expanded name) in their order, numbers left out,
    for collapsing and phrase matching; then, after :data:`NAME_MARK`, the name's terms as
    a query would spell them.

    Collapsing compares labels only; an exact match of the query with the label *or* the
    name counts as an exact match (``CLNT_ID`` typed as it is named finds that field first).
    Only the table's expansions count here, not the dataset's own acronyms
    (:func:`abbreviations_of`): spelt out, "Hispanic or Latino (of any race) MOE" would
    have three words more than the estimate it qualifies and no longer collapse with it.
    """
    stems = analyse(field.label or expand_name(field.name), expand=True)
    label = " ".join(dict.fromkeys(w for w in stems if not w.isdigit()))  # in label order
    name = " ".join(sorted(set(query_terms(field.name))))
    return f"{label}{NAME_MARK}{name}"[:WORDS_CHARS]


def _plain(text: str | None) -> str:
    """Words in lower case without punctuation; "" for none or a placeholder ("N/A")."""
    words = " ".join(re.sub(r"[^0-9a-z]+", " ", (text or "").casefold()).split())
    return "" if words in PLACEHOLDERS else words


def twin_key(kind: str, *parts: str | None) -> str:
    """A digest of what makes two documents copies of each other: their words, spacing,
    case, punctuation and placeholders ("Not Available" is no description) aside.

    One file can republish another: P20 WIN's merged data dictionary repeats, row for row,
    the dictionary each agency publishes, so every field of those agencies would be listed
    twice. A field's key is its agency, its dataset's title, its name, label and
    description; a dataset's, its agency, title and its fields' names (not its description,
    which a loader may write from the file it came from). Equal keys fold into one result
    when their facet values agree too ("also in …", :mod:`catalog.search.results`).
    """
    text = "\x1f".join(_plain(part) for part in (kind, *parts))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def field_twin(field: Field, dataset: Dataset) -> str:
    """The twin key of a field (see :func:`twin_key`)."""
    return twin_key("field", dataset.agency.slug, dataset.title, field.name, field.label,
                    field.description)


def field_sibling(field: Field, dataset: Dataset) -> str:
    """The key that tells the same element in the other datasets the catalog split the
    same file into: a dictionary with a program column gives one dataset per (agency,
    program), and an element such as ``SSN``, defined alike in seven of DOL's programs,
    would be listed seven times. The key is :func:`field_twin`'s with the file's identifier
    in place of the dataset's title; "" for a dataset that is a whole file, or a record
    layout (whose fields are places in different records)."""
    if dataset.layout or dataset.source_identifier == dataset.identifier:
        return ""
    return twin_key("element", dataset.agency.slug, dataset.source_identifier, field.name,
                    field.label, field.description)


def dataset_twin(dataset: Dataset) -> str:
    """The twin key of a dataset (see :func:`twin_key`)."""
    names = sorted(_plain(f.name) for f in dataset.fields)
    return twin_key("dataset", dataset.agency.slug, dataset.title, *names)


def split_twin(words: str) -> tuple[str, str]:
    """A document's ``words`` without its twin keys, and the keys ("" when it has none):
    its twin key, and after a space its sibling key when it has one (see
    :func:`field_sibling`)."""
    words, _, twin = words.partition(TWIN_MARK)
    return words, twin.removesuffix(COMPILED_MARK)


def compiled(words: str) -> bool:
    """Whether a document's ``words`` mark its dataset as a compilation of other agencies'
    (see :attr:`catalog.models.Dataset.is_compilation`)."""
    return words.endswith(COMPILED_MARK)


def _twin_words(twin: str, dataset: Dataset, sibling: str = "") -> str:
    keys = f"{twin} {sibling}" if sibling else twin
    return f"{TWIN_MARK}{keys}{COMPILED_MARK if dataset.is_compilation else ''}"


def word_sets(words: str) -> tuple[frozenset[str], frozenset[str]]:
    """The label's and the name's words of a document's ``words`` (see :func:`label_words`)."""
    label, _, name = split_twin(words)[0].partition(NAME_MARK)
    return frozenset(label.split()), frozenset(name.split())


def label_sequence(words: str) -> list[str]:
    """The label's stems of a document's ``words`` in the label's order."""
    return split_twin(words)[0].partition(NAME_MARK)[0].split()


def _codes_text(field: Field) -> str:
    labels = [v.get("label", "") for v in (field.value_labels or [])[:MAX_CODES]]
    return "; ".join(label for label in labels if label)


def abbreviations_of(dataset: Dataset) -> dict[str, str]:
    """What the dataset's own texts say its acronyms mean (:func:`catalog.acronyms.overrides`):
    its agency's name, title, description and its fields' labels and descriptions."""
    texts = [dataset.title, dataset.description]
    for field in dataset.fields:
        texts += (field.label, field.description)
    return overrides(texts, publisher=(dataset.agency.name, dataset.agency.abbreviation))


def dataset_document(dataset: Dataset,
                     local: Mapping[str, str] | None = None) -> SearchDocument:
    """The search document of a dataset (its fields' names feed a low-weight column);
    ``local`` is :func:`abbreviations_of` the dataset, when the caller has it already."""
    local = abbreviations_of(dataset) if local is None else local
    agency = dataset.agency
    field_words = " ".join(
        f"{f.name} {f.label or ''}" for f in dataset.fields[:300]
    )
    lexical = {
        "name": _tokens(analyse_name(dataset.identifier, local)
                        + analyse(dataset.title, expand=True, local=local)),
        "label": _tokens(analyse(dataset.title, expand=True, local=local)),
        "description": _tokens(analyse(dataset.description)),
        "context": _tokens(
            analyse(f"{agency.name} {agency.abbreviation or ''} {' '.join(dataset.keywords or [])}"
                    f" {(dataset.extra or {}).get('program') or ''}")
        ),
        "codes": _tokens(analyse(field_words, expand=True, local=local)),
    }
    # Not the fields' words: a dataset's own text begins the words it is found by.
    lexical = _with_prefixes(lexical, ("name", "label", "description"))
    labels = [f.label or expand_name(f.name, local) for f in dataset.fields[:30]]
    embed_text = clip(
        f"{dataset.title}. {clip(dataset.description, 600)} "
        f"Keywords: {', '.join(dataset.keywords or [])}. Published by {agency.name}. "
        f"Fields: {', '.join(labels)}",
        EMBED_CHARS,
    )
    payload = {
        "id": dataset.id,
        "agency": agency.slug,
        "agency_name": agency.name,
        "dataset": dataset.identifier,
        "source_dataset": dataset.source_identifier,
        "dataset_id": dataset.id,
        "dataset_title": dataset.title,
        "field": None,
        "field_id": None,
        "title": dataset.title,
        "description": clip(dataset.description, 400),
        "data_type": None,
        "access_level": dataset.access_level,
        "sensitivity": None,
        "field_count": len(dataset.fields),
        "layout": dataset.layout,
        "status": dataset.status,
    }
    return SearchDocument(
        doc_id=f"dataset:{dataset.id}",
        kind="dataset",
        dataset_id=dataset.id,
        field_id=None,
        agency=agency.slug,
        data_type="",
        access_level=dataset.access_level,
        sensitivity="",
        lexical=lexical,
        embed_text=embed_text,
        payload=payload,
        words=_twin_words(dataset_twin(dataset), dataset),
        context_text=context_text(dataset) if dataset.fields else "",
    )


def _label_and_name(field: Field, local: Mapping[str, str] | None = None) -> str:
    """The label, with the name spelled out in brackets when that says more; else the name."""
    plain = " ".join(split_identifier(field.name))
    expanded = expand_name(field.name, local)
    label = (field.label or "").strip()
    if not label:
        return expanded
    if expanded != plain and expanded.lower() not in label.lower():
        return f"{label} ({expanded})"  # only when an abbreviation was spelled out
    return label


# A name-like code: words joined by "_", "-" or "." with no space ("NY_SID_2013_CORE").
_CODE_TITLE = re.compile(r"[A-Za-z0-9]+(?:[_.-][A-Za-z0-9]+)+")


def readable_title(dataset: Dataset) -> str:
    """The dataset's title in words, for the embedding model to read.

    A title that begins with the dataset's identifier ("NY_SID_2013_CORE: Inpatient stay
    CORE file", as SAS load programs are titled) loses it, and a title that is only a code
    ("tx_pudf_2012_base_definition_1") is spelled out as words: the model reads codes as
    noise, which let "Died during hospitalization" outrank "Length of stay" for "how long
    the patient stayed in the hospital" (docs/benchmarks.md, seventh session). The
    lexical columns keep the title as given.
    """
    title = (dataset.title or "").strip()
    for code in dict.fromkeys(c for c in (dataset.identifier, dataset.source_identifier) if c):
        if title.lower().startswith(code.lower() + ":") and title[len(code) + 1:].strip():
            return title[len(code) + 1:].strip()
    if _CODE_TITLE.fullmatch(title):
        return expand_name(title)
    return title


def _context(dataset: Dataset) -> str:
    """Where a field lives: its dataset's title (in words), program and agency, those that
    exist."""
    program = (dataset.extra or {}).get("program") or ""
    parts = [readable_title(dataset), program, dataset.agency.name]
    return ", ".join(dict.fromkeys(p.strip() for p in parts if p and p.strip()))


def context_text(dataset: Dataset) -> str:
    """The sentence every field embed text of the dataset ends with: "In title, program,
    agency." (see :mod:`catalog.search.similar`)."""
    return f"In {_context(dataset)}."


def field_embed_text(field: Field, dataset: Dataset,
                     local: Mapping[str, str] | None = None) -> str:
    """A field as a sentence for the embedding model: "label (name spelled out):
    description. Values: …. Category: …. In dataset title, program, agency."

    Chosen by measurement (``benchmarks/model_compare.py --templates``, docs/benchmarks.md):
    the agency and program in the text, and the sentence form, beat the bare label.
    """
    if local is None:
        local = abbreviations_of(dataset)
    text = _label_and_name(field, local)
    description = clip(field.description, 500).rstrip(". ")
    if description and description != (field.label or "").strip():
        text += f": {description}"
    text += "."
    codes = _codes_text(field)
    if codes:
        text += f" Values: {clip(codes, 200)}."
    if field.category:
        text += f" Category: {field.category}."
    return clip(f"{text} {context_text(dataset)}", EMBED_CHARS)


def field_document(field: Field, dataset: Dataset, dataset_key: str | None = None,
                   local: Mapping[str, str] | None = None) -> SearchDocument:
    """The search document of a field, carrying its dataset's title, agency and access
    (and its dataset's twin key, ``dataset_key`` when the caller has it already)."""
    local = abbreviations_of(dataset) if local is None else local
    agency = dataset.agency
    twin = field_twin(field, dataset)
    lexical = {
        "name": _tokens(analyse_name(field.name, local)),
        "label": _tokens(analyse(field.label, expand=True, local=local)),
        "description": _tokens(analyse(field.description)),
        "context": _tokens(analyse(f"{dataset.title} {agency.abbreviation or agency.name}"
                                   f" {field.category or ''}")),
        "codes": _tokens(analyse(_codes_text(field))),
    }
    lexical = _with_prefixes(lexical)
    payload = {
        "id": field.id,
        "agency": agency.slug,
        "agency_name": agency.name,
        "dataset": dataset.identifier,
        "source_dataset": dataset.source_identifier,
        "dataset_id": dataset.id,
        "dataset_title": dataset.title,
        "field": field.name,
        "field_id": field.id,
        "title": field.label or field.name,
        "description": clip(field.description, 400),
        "data_type": field.data_type,
        "access_level": dataset.access_level,
        "sensitivity": field.sensitivity,
        "category": field.category,
        "position": field.position,
        "start_col": field.start_col,
        "end_col": field.end_col,
        "status": dataset.status,
        # Tell its copies, and its dataset's copies, among similar fields.
        "twin": twin,
        "dataset_twin": dataset_key or dataset_twin(dataset),
    }
    return SearchDocument(
        doc_id=f"field:{field.id}",
        kind="field",
        dataset_id=dataset.id,
        field_id=field.id,
        agency=agency.slug,
        data_type=field.data_type or "other",
        access_level=dataset.access_level,
        sensitivity=field.sensitivity or "public",
        lexical=lexical,
        embed_text=field_embed_text(field, dataset, local),
        payload=payload,
        words=f"{label_words(field)}{_twin_words(twin, dataset, field_sibling(field, dataset))}",
    )


def documents_for(dataset: Dataset) -> list[SearchDocument]:
    """All search documents of a dataset: itself and each of its fields."""
    local = abbreviations_of(dataset)
    docs = [dataset_document(dataset, local)]
    key = dataset_twin(dataset)
    docs.extend(field_document(f, dataset, key, local) for f in dataset.fields)
    return docs
