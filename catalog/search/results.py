"""From two candidate lists to a page of results, the same way on both engines.

Each engine hands over its lexical candidates ``(key, bm25, stage)`` and its semantic ones
``(key, cosine)``, both taken over everything the asker may see (the audience is applied
inside both rankings) but *not* narrowed by the asker's own filters, and the attributes of
every candidate. Here they are fused (:mod:`catalog.search.fusion`), near-identical fields
of one dataset are collapsed into one hit, exact copies in other datasets (the same
dataset published twice: :func:`catalog.search.documents.twin_key`) folded into it too, and
only then are the filters applied. The set
of results therefore does not depend on the filters: a tab or facet count is always the
total of the view it leads to (facets count as if their own filter were not set, the
usual "disjunctive" facets, so a count is what ticking that value alone would show).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from catalog.search.documents import compiled, label_sequence, split_twin, word_sets
from catalog.search.fusion import (
    convex_fusion,
    label_match,
    label_score,
    normalise_lexical,
    normalise_semantic,
)
from catalog.search.query import FACETS, Hit, SearchQuery, SearchResult
from catalog.search.ranking import make_hit, sorted_facets

# Lexical candidates per kind: 2 × query.candidates. 5 gave the same dev nDCG@10 (0.760)
# and cost Elasticsearch a p95 of 65-90 ms at 100k fields instead of 39.
LEXICAL_POOL_FACTOR = 2
COLLAPSE_SIMILARITY = 0.75  # Jaccard of label words at which two fields count as near-identical
MATCHED_FIELDS_SHOWN = 3  # a dataset hit names up to this many of its matching fields
MORE_FIELDS_SHOWN = 3  # a field hit names up to this many of the fields collapsed under it
TWINS_SHOWN = 5  # a hit names up to this many of the other datasets holding copies of it
# A field is compared with its dataset's best-ranked hits only: a dataset with thousands of
# candidates would otherwise cost a comparison with every one of them (quadratic).
HEADS_COMPARED = 20
# A dataset's score takes this share from its best-matching field (fused score): a dataset
# is what its fields hold, and layouts often carry no title or description worth the name.
# Chosen by cross-validation on the development queries (search_quality.py --cv-evidence).
FIELD_EVIDENCE = 0.5
# What a hit says of each of its copies in other datasets (Hit.also_in).
ALSO_IN_KEYS = ("dataset_id", "dataset", "source_dataset", "dataset_title", "field_id", "field")
# What a hit reads of the other documents it names (its collapsed fields, its copies, a
# dataset's matching fields): an engine may fetch these apart from whole payloads.
REF_KEYS = (*ALSO_IN_KEYS, "title")
_facet_values = itemgetter(*FACETS)  # a candidate's FACETS values, as a tuple

Fetch = Callable[[list[Any]], dict[Any, tuple[str, str, dict[str, Any]]]]
FetchRefs = Callable[[list[Any]], dict[Any, dict[str, Any]]]  # key → its REF_KEYS values


@dataclass
class _Group:
    """A result: the head candidate and the near-identical fields collapsed under it."""

    key: Hashable
    score: float
    attrs: dict[str, Any]
    words: frozenset[str]
    members: list[Hashable] = field(default_factory=list)
    facets: tuple[Any, ...] = ()  # attrs' values of FACETS, in that order
    # Exact copies of the head or of its members in other datasets (twin keys), best first.
    twins: list[Hashable] = field(default_factory=list)


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return False
    return len(a & b) / len(a | b) >= COLLAPSE_SIMILARITY


def _word_sets_memo() -> Callable[[str], tuple[frozenset[str], frozenset[str]]]:
    """:func:`word_sets` remembered for one search (copies of a field share their words)."""
    memo: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    def sets(words: str) -> tuple[frozenset[str], frozenset[str]]:
        found = memo.get(words)
        if found is None:
            found = memo[words] = word_sets(words)
        return found

    return sets


def rank(
    query: SearchQuery,
    lexical: Sequence[tuple[Hashable, float, int]],
    semantic: Sequence[tuple[Hashable, float]],
    *,
    lexical_cut: bool,
    semantic_cut: bool,
    weight: float | None = None,
    labels: dict[Hashable, float] | None = None,
    attributes: dict[Hashable, dict[str, Any]] | None = None,
    exact: frozenset[Hashable] = frozenset(),
) -> list[tuple[Hashable, float]]:
    """The candidates in result order with their scores, by the query's mode.

    With ``attributes``, hybrid and vector-only scores of datasets take their share
    (:data:`FIELD_EVIDENCE`) from their best field (see :func:`with_field_evidence`).
    Fields whose name or label is exactly the query (``exact``) come first in hybrid and
    lexical ranking (see :func:`exact_first`).
    """
    if query.uses_lexical and query.uses_vectors:
        kwargs = {} if weight is None else {"weight": weight}
        fused = convex_fusion(lexical, semantic, lexical_cut=lexical_cut, semantic_cut=semantic_cut,
                              labels=labels, **kwargs)
        return exact_first(with_field_evidence(fused, attributes or {}), exact)
    if query.uses_lexical:
        scores = normalise_lexical(lexical, labels=labels)
        # Stage first (documents matching two terms of a long query lead), then the score.
        staged = sorted(lexical, key=lambda item: (item[2], -scores[item[0]]))
        return exact_first([(key, scores[key]) for key, _, _ in staged], exact)
    sem = normalise_semantic(semantic)
    return with_field_evidence([(key, sem[key]) for key, _ in semantic], attributes or {})


def exact_first(ranked: list[tuple[Hashable, float]],
                exact: frozenset[Hashable]) -> list[tuple[Hashable, float]]:
    """Exact matches of the query, by name or label, ahead of everything else.

    Someone who types ``DISPUNIFORM`` or ``CLNT_DOB_DT`` wants that field, whatever the
    model makes of the letters; someone who types "date of birth" wants the fields so
    labelled before "birth month". Among themselves, and among the rest, the order stays.
    """
    if not exact:
        return ranked
    return ([item for item in ranked if item[0] in exact]
            + [item for item in ranked if item[0] not in exact])


def with_field_evidence(
    ranked: list[tuple[Hashable, float]],
    attributes: dict[Hashable, dict[str, Any]],
    *,
    share: float | None = None,
) -> list[tuple[Hashable, float]]:
    """Datasets rescored as ``(1 − s) · own + s · best field``, then all resorted.

    Only datasets move; fields keep their scores. The best field is the best-scored field
    candidate of that dataset in the same ranking (0 when none is a candidate), so the
    set of results, and with it every count, is unchanged. Ties keep the given order.
    """
    s = FIELD_EVIDENCE if share is None else share
    if s <= 0 or not attributes:
        return ranked
    best: dict[Any, float] = {}
    for key, score in ranked:
        attrs = attributes.get(key)
        if attrs is not None and attrs.get("kind") == "field":
            dataset = attrs.get("dataset_id")
            if score > best.get(dataset, 0.0):
                best[dataset] = score
    out = []
    for i, (key, score) in enumerate(ranked):
        attrs = attributes.get(key)
        if attrs is not None and attrs.get("kind") == "dataset":
            score = (1 - s) * score + s * best.get(attrs.get("dataset_id"), 0.0)
        out.append((i, key, score))
    out.sort(key=lambda item: (-item[2], item[0]))
    return [(key, score) for _, key, score in out]


def _facets_of(attrs: dict[str, Any]) -> tuple[Any, ...]:
    try:
        return _facet_values(attrs)
    except KeyError:  # a candidate without some attribute: None, as attrs.get gives
        return tuple([attrs.get(f) for f in FACETS])


def _originals_first(ranked: Sequence[tuple[Hashable, float]],
                     attributes: dict[Hashable, dict[str, Any]]
                     ) -> Sequence[tuple[Hashable, float]]:
    """``ranked`` with each document of a compilation (a file of several agencies'
    dictionaries: P20 WIN's merged one) preceded by its agency's own copy, when that is a
    candidate too (the same twin key and facet values): the copy a hit shows is then the
    original, in the place and with the score of the better-ranked of the two. Copies
    share their text, but not always its spacing, so their scores can differ a little."""
    words = [attributes.get(key, {}).get("words", "") for key, _ in ranked]
    flags = [compiled(w) for w in words]
    if not any(flags):  # a catalog without compilations: the order stands as it is
        return ranked
    keyed: list[tuple[str, tuple[Any, ...]] | None] = []
    for (key, _), text in zip(ranked, words, strict=True):
        twin = split_twin(text)[1].partition(" ")[0]  # its copies, not its siblings
        keyed.append((twin, _facets_of(attributes[key])) if twin else None)
    originals: dict[tuple[str, tuple[Any, ...]], int] = {}
    for i, twin in enumerate(keyed):
        if twin is not None and not flags[i]:
            originals.setdefault(twin, i)
    out: list[tuple[Hashable, float]] = []
    moved: set[int] = set()
    for i, (key, score) in enumerate(ranked):
        if i in moved:
            continue
        j = originals.get(keyed[i]) if flags[i] and keyed[i] is not None else None
        if j is not None and j > i:
            out.append((ranked[j][0], score))
            moved.add(j)
        out.append((key, score))
    return out


def collapse(
    ranked: Sequence[tuple[Hashable, float]],
    attributes: dict[Hashable, dict[str, Any]],
    *,
    enabled: bool = True,
    sets: Callable[[str], tuple[frozenset[str], frozenset[str]]] = word_sets,
) -> list[_Group]:
    """Greedy: a field joins the first better-ranked field of its dataset it nearly repeats;
    a dataset or field joins the better-ranked result it is an exact copy of.

    Near-identical means the same dataset, the same facet values (so that a group is never
    split by a filter) and label words whose Jaccard similarity reaches
    :data:`COLLAPSE_SIMILARITY`. A field is compared with the first
    :data:`HEADS_COMPARED` heads of its dataset only. An exact copy is a document of another
    dataset with the same twin key and the same facet values: it joins the group of the
    first document with that key, head or member, as one of its ``twins``; so does the same
    element in another dataset split out of the same file (its sibling key, see
    :func:`catalog.search.documents.field_sibling`). An agency's own
    copy comes before a compilation's (:func:`_originals_first`), so that the copy a hit
    shows is the original.
    """
    ranked = _originals_first(ranked, attributes)
    groups: list[_Group] = []
    by_dataset: dict[Any, list[_Group]] = {}
    by_twin: dict[str, _Group] = {}
    for key, score in ranked:
        attrs = attributes.get(key)
        if attrs is None:
            continue
        # Copies share their label words: without the twin key, one memo entry serves all.
        label_text, twin = split_twin(attrs.get("words", ""))
        twin = twin if enabled else ""
        words = sets(label_text)[0]
        facets = _facets_of(attrs)
        keys = twin.split()  # its twin key, and its sibling key when it has one
        if keys:
            original = next((by_twin[k] for k in keys if k in by_twin), None)
            if original is not None and original.facets == facets:
                original.twins.append(key)
                for k in keys:
                    by_twin.setdefault(k, original)
                continue
        if enabled and attrs.get("kind") == "field":
            heads = by_dataset.setdefault(attrs.get("dataset_id"), [])
            head = None
            if words:
                for g in heads:
                    other = g.words
                    if (g.facets == facets and other
                            and len(other & words) / len(other | words)
                            >= COLLAPSE_SIMILARITY):
                        head = g
                        break
            if head is not None:
                head.members.append(key)
                for k in keys:
                    by_twin.setdefault(k, head)
                continue
            group = _Group(key, score, attrs, words, facets=facets)
            if len(heads) < HEADS_COMPARED:  # later heads are never compared with
                heads.append(group)
        else:
            group = _Group(key, score, attrs, words, facets=facets)
        for k in keys:
            by_twin.setdefault(k, group)
        groups.append(group)
    return groups


def _passes(attrs: dict[str, Any], filters: dict[str, tuple[str, ...]], skip: str = "") -> bool:
    return all(attrs.get(attr) in allowed for attr, allowed in filters.items() if attr != skip)


def facet_counts(
    groups: Sequence[_Group], filters: dict[str, tuple[str, ...]]
) -> dict[str, dict[str, int]]:
    """Results per facet value, each facet counted with every filter but its own."""
    counts: list[dict[Any, int]] = [{} for _ in FACETS]
    for group in groups:
        values = group.facets or tuple([group.attrs.get(f) for f in FACETS])
        failing = [attr for attr, allowed in filters.items()
                   if group.attrs.get(attr) not in allowed] if filters else []
        if not failing:
            for i, value in enumerate(values):
                if value:
                    counts[i][value] = counts[i].get(value, 0) + 1
        elif len(failing) == 1 and failing[0] in FACETS:
            i = FACETS.index(failing[0])
            value = values[i]
            if value:
                counts[i][value] = counts[i].get(value, 0) + 1
    return sorted_facets(dict(zip(FACETS, counts, strict=True)))


def _field_ref(payload: dict[str, Any]) -> dict[str, Any]:
    """How a hit names another field: its id, name and title."""
    return {"field_id": payload.get("field_id"), "field": payload.get("field"),
            "title": payload.get("title")}


def copy_ref(payload: dict[str, Any]) -> dict[str, Any]:
    """How a hit names a copy of itself in another dataset (an entry of Hit.also_in)."""
    return {key: payload.get(key) for key in ALSO_IN_KEYS}


def assemble(
    query: SearchQuery,
    terms: Sequence[str],
    lexical: Sequence[tuple[Hashable, float, int]],
    semantic: Sequence[tuple[Hashable, float]],
    attributes: dict[Hashable, dict[str, Any]],
    fetch: Fetch,
    *,
    lexical_cut: bool,
    semantic_cut: bool,
    fetch_refs: FetchRefs | None = None,
) -> SearchResult:
    """Fuse, collapse, count, filter and page the candidates into a result.

    ``fetch`` gives the payloads of the page's hits; ``fetch_refs``, when the engine has a
    cheaper way, the :data:`REF_KEYS` of the documents those hits name (else ``fetch``)."""
    term_set = frozenset(terms)
    sets = _word_sets_memo()
    matches: dict[str, float] = {}  # label match by words: copies of a field share them
    labels = {}
    exact_words: set[str] = set()
    exact: set[Hashable] = set()
    for key, _, _ in lexical:
        attrs = attributes.get(key)
        if attrs is None:
            continue
        words = split_twin(attrs.get("words", ""))[0]  # copies of a field share them
        match = matches.get(words)
        if match is None:
            label, name = sets(words)
            match = matches[words] = max(label_score(terms, label, label_sequence(words)),
                                         label_match(term_set, name))
            if term_set in (label, name):
                exact_words.add(words)
        labels[key] = match
        if words in exact_words:
            exact.add(key)
    ranked = rank(query, lexical, semantic, lexical_cut=lexical_cut,
                  semantic_cut=semantic_cut, weight=query.fusion_weight, labels=labels,
                  attributes=attributes, exact=frozenset(exact))
    groups = collapse(ranked, attributes, enabled=query.collapse, sets=sets)
    filters = query.filters()
    facets = facet_counts(groups, filters)
    shown = [g for g in groups if _passes(g.attrs, filters)] if filters else list(groups)
    start = (query.page - 1) * query.per_page
    page = shown[start : start + query.per_page]
    matched: dict[Hashable, list[Hashable]] = {}
    if any(g.attrs.get("kind") == "dataset" for g in page):
        # A dataset's matching fields may be headed by the fields of its copy.
        wanted: dict[Any, Hashable] = {}
        for g in page:
            if g.attrs.get("kind") == "dataset":
                for k in [g.key, *g.twins]:
                    wanted.setdefault((attributes.get(k) or {}).get("dataset_id"), g.key)
        for group in groups:
            owner = wanted.get(group.attrs.get("dataset_id"))
            if group.attrs.get("kind") == "field" and owner is not None:
                fields = matched.setdefault(owner, [])
                if len(fields) < MATCHED_FIELDS_SHOWN:
                    fields.append(group.key)
    twins: dict[Hashable, list[Hashable]] = {}  # the best copy in each other dataset
    for g in page:
        if g.twins:
            by_dataset_copy: dict[Any, Hashable] = {}
            for k in g.twins:
                by_dataset_copy.setdefault((attributes.get(k) or {}).get("dataset_id"), k)
            twins[g.key] = list(by_dataset_copy.values())
    named = list(dict.fromkeys(
        [k for keys in matched.values() for k in keys]
        + [k for keys in twins.values() for k in keys[:TWINS_SHOWN]]
        + [k for g in page for k in g.members[:MORE_FIELDS_SHOWN]]))
    if fetch_refs is None:
        payloads = fetch([g.key for g in page] + named)
        refs = {k: p[2] for k, p in payloads.items()}
    else:
        payloads = fetch([g.key for g in page])
        refs = fetch_refs(named) if named else {}
    lex_rank = {key: i + 1 for i, (key, _, _) in enumerate(lexical)}
    sem_rank = {key: i + 1 for i, (key, _) in enumerate(semantic)}
    hits: list[Hit] = []
    for group in page:
        if group.key not in payloads:
            continue
        doc_id, kind, payload = payloads[group.key]
        hit = make_hit(doc_id, kind, group.score, payload, term_set, lex_rank.get(group.key),
                       sem_rank.get(group.key))
        hit.more_in_dataset = len(group.members)
        hit.more_fields = [_field_ref(refs[k])
                           for k in group.members[:MORE_FIELDS_SHOWN] if k in refs]
        hit.matched_fields = [_field_ref(refs[k]) for k in matched.get(group.key, []) if k in refs]
        copies = twins.get(group.key, [])
        hit.also_in = [copy_ref(refs[k]) for k in copies[:TWINS_SHOWN] if k in refs]
        hit.also_in_count = len(copies)
        hits.append(hit)
    return SearchResult(hits, len(shown), query.page, query.per_page, facets)
