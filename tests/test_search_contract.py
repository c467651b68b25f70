"""The search contract: every engine must behave the same on the same catalog.

The module is parametrised by engine; the Elasticsearch engine joins the list when it
exists. The catalog is built with the real embedding model.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.schemas import DatasetInSchema
from catalog.search.query import SearchQuery
from catalog.service import Catalog
from catalog.store import find_or_create_agency, upsert_dataset

ALL = ("public", "restricted", "internal")

DATASETS = [
    ("Department of Social Services", "DSS", {
        "identifier": "dss-clients", "title": "Client eligibility records",
        "description": "Clients who applied for cash assistance and their eligibility.",
        "fields": [
            {"position": 1, "name": "CLNT_ID", "label": "Client identifier"},
            {"position": 2, "name": "CLNT_DOB_DT", "label": "Client date of birth",
             "data_type": "date", "sensitivity": "personal"},
            {"position": 3, "name": "ELIG_AMT", "label": "Monthly eligibility amount",
             "data_type": "number"},
            {"position": 4, "name": "CNTY_CD", "label": "County code", "data_type": "code",
             "value_labels": [{"code": "1", "label": "Fairfield"},
                              {"code": "2", "label": "Hartford"}]},
        ]}),
    ("Department of Public Health", "DPH", {
        "identifier": "hospital-discharges", "title": "Hospital discharge records",
        "description": "Inpatient stays at acute care hospitals.", "layout": True,
        "fields": [
            {"position": 1, "name": "BDATE", "label": "Birth date", "data_type": "date",
             "start_col": 1, "end_col": 8, "width": 8},
            {"position": 2, "name": "LOS", "label": "Length of stay in days",
             "data_type": "integer", "start_col": 9, "end_col": 12, "width": 4},
            {"position": 3, "name": "PAT_ZIP", "label": "Patient ZIP code",
             "data_type": "string", "start_col": 13, "end_col": 17, "width": 5},
        ] + [
            {"position": 3 + i, "name": f"DX{i}", "label": f"Diagnosis code {i}",
             "data_type": "code"} for i in range(1, 26)
        ]}),
    ("Department of Public Health", "DPH", {
        "identifier": "vital-births-restricted", "title": "Zorblax birth certificate file",
        "access_level": "restricted",
        "fields": [{"position": 1, "name": "CHILD_DOB", "label": "Zorblax child date of birth",
                    "data_type": "date"}]}),
    ("Department of Social Services", "DSS", {
        "identifier": "dss-case-notes-restricted", "title": "Glorbix case notes",
        "access_level": "restricted",
        "fields": [{"position": 1, "name": "CASE_DOB", "label": "Glorbix client date of birth",
                    "data_type": "date"}]}),
    ("Department of Correction", "DOC", {
        "identifier": "inmate-internal", "title": "Quuxinate inmate roster",
        "access_level": "internal",
        "fields": [{"position": 1, "name": "INMATE_BIRTH_DT", "label": "Quuxinate birth date",
                    "data_type": "date"}]}),
]

ENGINES = ["embedded", "elasticsearch"]


def _build(catalog: Catalog) -> None:
    ids = []
    with catalog.transaction() as session:
        for agency_name, abbr, raw in DATASETS:
            agency = find_or_create_agency(session, agency_name, abbr)
            record = DatasetInSchema().load(raw)
            ids.append(upsert_dataset(session, record, agency=agency, fmt="test",
                                      provenance={}, actor="test").dataset.id)
    catalog.index_datasets(ids)


def make_engine(request, name: str):  # type: ignore[no-untyped-def]
    """A fresh engine of the given kind; Elasticsearch gets its own test index."""
    if name == "embedded":
        return None  # the catalog's default
    from catalog.search.elasticsearch import ElasticsearchEngine

    url = request.getfixturevalue("elasticsearch_url")
    return ElasticsearchEngine(url, index=f"catalog-test-{uuid.uuid4().hex[:12]}")


def drop_engine(engine) -> None:  # type: ignore[no-untyped-def]
    """Delete an Elasticsearch test index and its alias."""
    if engine is not None:
        for index in engine._indices():
            engine.es.indices.delete(index=index, ignore_unavailable=True)


def engine_catalog(request, tmp_path_factory, embedder: Embedder, name: str,
                   build: Callable[[Catalog], None]) -> Iterator[Catalog]:
    """A catalog on the engine ``request.param`` names, in a folder of its own, filled by
    ``build``; closed, and its Elasticsearch index dropped, afterwards."""
    engine = make_engine(request, request.param)
    data_dir = tmp_path_factory.mktemp(f"{name}-{request.param}")
    cat = Catalog(load_settings(data_dir=data_dir, database_url=None), embedder=embedder,
                  engine=engine)
    build(cat)
    yield cat
    drop_engine(engine)
    cat.close()


@pytest.fixture(scope="module", params=ENGINES)
def catalog(request, tmp_path_factory, embedder: Embedder) -> Iterator[Catalog]:
    yield from engine_catalog(request, tmp_path_factory, embedder, "contract", _build)


def _fields(result) -> list[str]:
    return [h.payload["field"] for h in result.hits if h.kind == "field"]


def test_meaning_finds_birth_dates_whatever_the_column_name(catalog: Catalog) -> None:
    result = catalog.search(SearchQuery(text="date of birth", kind="field"))
    top = _fields(result)[:3]
    assert "CLNT_DOB_DT" in top and "BDATE" in top
    assert {h.payload["agency"] for h in result.hits[:2]} == {"dss", "dph"}


def test_semantic_mode_alone_finds_a_field_with_no_shared_words(catalog: Catalog) -> None:
    result = catalog.search(SearchQuery(text="how long the patient was in hospital",
                                        kind="field", mode="semantic"))
    assert _fields(result)[0] == "LOS"


def test_lexical_mode_matches_exact_and_expanded_names(catalog: Catalog) -> None:
    assert _fields(catalog.search(SearchQuery(text="ELIG_AMT", mode="lexical")))[0] == "ELIG_AMT"
    assert _fields(catalog.search(SearchQuery(text="eligibility amount", mode="lexical",
                                              kind="field")))[0] == "ELIG_AMT"


@pytest.mark.parametrize(("text", "field"), [("CNTY_CD", "CNTY_CD"), ("pat_zip", "PAT_ZIP"),
                                             ("BDATE", "BDATE"), ("Patient ZIP code", "PAT_ZIP")])
def test_a_field_named_or_labelled_as_typed_comes_first(catalog: Catalog, text: str,
                                                        field: str) -> None:
    # Whatever the model makes of the letters: the exact name (or label) leads.
    for mode in ("hybrid", "lexical"):
        assert _fields(catalog.search(SearchQuery(text=text, mode=mode)))[0] == field, mode


def test_a_query_word_finds_the_words_it_begins(catalog: Catalog) -> None:
    # "diagnos" (stem diagno) is no stem of "diagnosis" (diagnosi), but begins it.
    found = catalog.search(SearchQuery(text="diagnos", mode="lexical", kind="field"))
    assert _fields(found) and all(f.startswith("DX") for f in _fields(found))
    # Three letters begin too many words: they match whole words only.
    assert not catalog.search(SearchQuery(text="dia", mode="lexical", kind="field")).hits


def test_hits_carry_ranks_scores_and_highlights(catalog: Catalog) -> None:
    hit = catalog.search(SearchQuery(text="county code", kind="field")).hits[0]
    assert hit.payload["field"] == "CNTY_CD"
    assert hit.lexical_rank == 1 and hit.semantic_rank is not None
    assert hit.score > 0
    assert "<mark>" in str(hit.highlight)


@pytest.mark.parametrize("text", ["birth", "zorblax birth certificate", "quuxinate", ""])
def test_restricted_and_internal_never_reach_the_public(catalog: Catalog, text: str) -> None:
    result = catalog.search(SearchQuery(text=text, per_page=100))
    datasets = {h.payload["dataset"] for h in result.hits}
    assert not datasets & {"vital-births-restricted", "inmate-internal"}
    assert set(result.facets["access_level"]) <= {"public"}
    assert "doc" not in result.facets["agency"]
    total_public = sum(result.facets["kind"].values())
    assert total_public == result.total


def test_access_levels_open_up_for_those_allowed(catalog: Catalog) -> None:
    query = SearchQuery(text="zorblax birth", allowed_access=ALL, per_page=50)
    datasets = {h.payload["dataset"] for h in catalog.search(query).hits}
    assert {"vital-births-restricted", "inmate-internal"} <= datasets
    only = SearchQuery(text="birth", allowed_access=ALL, access_levels=("internal",))
    assert {h.payload["dataset"] for h in catalog.search(only).hits} == {"inmate-internal"}
    sneaky = SearchQuery(text="birth", access_levels=("restricted",))
    assert catalog.search(sneaky).total == 0


STEWARD_OF_DPH = {"allowed_access": ("public", "internal"), "allowed_agencies": ("dph",)}


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "semantic"])
def test_a_steward_sees_the_restricted_datasets_of_their_agency_only(
    catalog: Catalog, mode: str
) -> None:
    query = SearchQuery(text="child date of birth", mode=mode, per_page=100,
                        **STEWARD_OF_DPH)
    result = catalog.search(query)
    datasets = {h.payload["dataset"] for h in result.hits}
    assert "vital-births-restricted" in datasets  # DPH's restricted: theirs
    assert "inmate-internal" in datasets  # internal: every signed-in role
    assert "dss-case-notes-restricted" not in datasets  # DSS's restricted: not theirs
    assert result.facets["access_level"].get("restricted", 0) == sum(
        1 for h in result.hits if h.payload["access_level"] == "restricted")
    assert sum(result.facets["kind"].values()) == result.total == len(result.hits)
    asked = catalog.search(SearchQuery(text="glorbix zorblax", mode=mode,
                                       access_levels=("restricted",), **STEWARD_OF_DPH))
    assert {h.payload["dataset"] for h in asked.hits} == {"vital-births-restricted"}


def test_a_steward_browses_and_finds_similar_fields_within_their_audience(
    catalog: Catalog
) -> None:
    from catalog.audience import Audience

    browse = catalog.search(SearchQuery(text="", per_page=100, **STEWARD_OF_DPH))
    datasets = {h.payload["dataset"] for h in browse.hits}
    assert {"vital-births-restricted", "inmate-internal"} <= datasets
    assert "dss-case-notes-restricted" not in datasets
    assert browse.total == 2 + 4 + 28 + 2 + 2 == len(browse.hits)
    with catalog.session() as session:
        from sqlalchemy import select

        from catalog.models import Field

        field_id = session.scalar(select(Field.id).where(Field.name == "CLNT_DOB_DT"))
    steward = Audience(levels=("public", "internal"), agencies=("dph",))
    similar = {h.payload["field"] for h in catalog.similar_fields(field_id, audience=steward,
                                                                  limit=50)}
    assert "CHILD_DOB" in similar and "CASE_DOB" not in similar
    nobody = Audience(levels=())
    assert catalog.search(SearchQuery(text="birth", allowed_access=())).total == 0
    assert catalog.similar_fields(field_id, audience=nobody) == []


def test_filters_apply_inside_both_rankings(catalog: Catalog) -> None:
    by_agency = catalog.search(SearchQuery(text="date of birth", agencies=("dph",)))
    assert by_agency.hits and {h.payload["agency"] for h in by_agency.hits} == {"dph"}
    by_type = catalog.search(SearchQuery(text="birth", data_types=("date",), kind="field"))
    assert by_type.hits and {h.payload["data_type"] for h in by_type.hits} == {"date"}
    personal = catalog.search(SearchQuery(text="birth", sensitivities=("personal",)))
    assert _fields(personal) == ["CLNT_DOB_DT"]
    datasets = catalog.search(SearchQuery(text="hospital", kind="dataset"))
    assert datasets.hits and {h.kind for h in datasets.hits} == {"dataset"}


def test_facets_count_what_matched(catalog: Catalog) -> None:
    result = catalog.search(SearchQuery(text="diagnosis code", per_page=5, collapse=False))
    assert result.facets["agency"]["dph"] >= 25
    assert sum(result.facets["kind"].values()) == result.total
    assert result.facets["data_type"]["code"] >= 25


def test_near_identical_fields_of_a_dataset_collapse_into_one_hit(catalog: Catalog) -> None:
    result = catalog.search(SearchQuery(text="diagnosis code", kind="field"))
    diagnoses = [h for h in result.hits if h.payload["field"].startswith("DX")]
    assert len(diagnoses) == 1 and diagnoses[0].more_in_dataset == 24
    # The hit names the first fields it stands for, so that each can be opened.
    named = diagnoses[0].more_fields
    assert len(named) == 3 and all(f["field"].startswith("DX") and f["field_id"]
                                   and f["title"].startswith("Diagnosis code") for f in named)
    assert diagnoses[0].payload["field"] not in {f["field"] for f in named}
    assert result.total == len(result.hits)  # 25 diagnosis codes count as one result
    apart = catalog.search(SearchQuery(text="diagnosis code", kind="field", collapse=False))
    assert sum(h.payload["field"].startswith("DX") for h in apart.hits) == 20
    assert all(h.more_in_dataset == 0 for h in apart.hits)


def test_dataset_hits_name_the_fields_that_matched(catalog: Catalog) -> None:
    result = catalog.search(SearchQuery(text="zip code of the patient", kind="dataset"))
    hospital = next(h for h in result.hits if h.payload["dataset"] == "hospital-discharges")
    assert "PAT_ZIP" in [f["field"] for f in hospital.matched_fields]
    assert all(f["field_id"] and f["title"] for f in hospital.matched_fields)


@pytest.mark.parametrize("text", ["birth", "date of birth", "hospital", "county code",
                                  "client eligibility amount", "zorblax"])
def test_every_count_is_the_total_of_the_view_it_leads_to(catalog: Catalog, text: str) -> None:
    for allowed in (("public",), ALL):
        base = SearchQuery(text=text, allowed_access=allowed, per_page=100)
        result = catalog.search(base)
        assert sum(result.facets.get("kind", {}).values()) == result.total
        views = {"kind": "kind", "agency": "agencies", "data_type": "data_types",
                 "sensitivity": "sensitivities", "access_level": "access_levels"}
        for facet, argument in views.items():
            for value, count in result.facets.get(facet, {}).items():
                narrowed = value if facet == "kind" else (value,)
                view = catalog.search(replace(base, **{argument: narrowed}))
                assert view.total == count, (text, facet, value)
                assert len(view.hits) == count  # everything counted is there to see
        datasets = catalog.search(replace(base, kind="dataset"))
        # From inside a tab, the other tabs' counts are the same as from All.
        assert datasets.facets.get("kind", {}) == result.facets.get("kind", {})


def test_pagination_is_stable_and_disjoint(catalog: Catalog) -> None:
    pages = [catalog.search(SearchQuery(text="diagnosis code", per_page=10, page=n,
                                        collapse=False)) for n in (1, 2)]
    first, second = pages
    assert first.total == second.total and first.total > 20
    assert not {h.doc_id for h in first.hits} & {h.doc_id for h in second.hits}
    assert len(first.hits) == 10
    beyond = catalog.search(SearchQuery(text="diagnosis code", per_page=10, page=99,
                                        collapse=False))
    assert beyond.hits == [] and beyond.total == first.total


def test_empty_query_browses_everything_visible(catalog: Catalog) -> None:
    result = catalog.search(SearchQuery(text="", per_page=100))
    assert result.total == 2 + 4 + 28
    assert result.hits[0].kind == "dataset"


@pytest.mark.parametrize("text", ["!!!", "?*^%$#@!", "\"", "'", "NEAR(", "a AND OR NOT",
                                  "x" * 10_000, "birth " * 2_000, "\x00\x01", "é ü ß 中文"])
def test_hostile_queries_give_sane_results(catalog: Catalog, text: str) -> None:
    result = catalog.search(SearchQuery(text=text))
    assert result.total >= 0
    for hit in result.hits:
        assert hit.payload["access_level"] == "public"


def test_words_that_mean_nothing_have_no_semantic_match(catalog: Catalog) -> None:
    # Every text has some cosine with any query; below the model's floor it is no match.
    assert catalog.search_engine.semantic_floor == catalog.embedder.spec.semantic_floor
    assert catalog.search(SearchQuery(text="qwxv plokij brrzt", mode="semantic")).total == 0
    assert catalog.search(SearchQuery(text="date of birth", mode="semantic")).total > 0


def test_punctuation_only_finds_nothing(catalog: Catalog) -> None:
    assert catalog.search(SearchQuery(text="?!...")).total == 0


def test_similar_fields_come_from_other_datasets_visible_to_the_asker(catalog: Catalog) -> None:
    with catalog.session() as session:
        from sqlalchemy import select

        from catalog.models import Field

        field_id = session.scalar(select(Field.id).where(Field.name == "CLNT_DOB_DT"))
    similar = catalog.similar_fields(field_id, audience=("public",), limit=5)
    names = [h.payload["field"] for h in similar]
    assert names[0] == "BDATE"
    assert all(h.payload["dataset"] != "dss-clients" for h in similar)
    assert not {"CHILD_DOB", "INMATE_BIRTH_DT"} & set(names)
    wider = catalog.similar_fields(field_id, audience=ALL, limit=5)
    assert {"CHILD_DOB", "INMATE_BIRTH_DT"} & {h.payload["field"] for h in wider}


def _dob_field_id(catalog: Catalog) -> int:
    with catalog.session() as session:
        from sqlalchemy import select

        from catalog.models import Field

        return session.scalar(select(Field.id).where(Field.name == "CLNT_DOB_DT"))


def _shifted_cosines(catalog: Catalog, field_id: int) -> dict[str, float]:
    """Every other-dataset field's cosine to the field, each with its dataset's context
    sentence taken out (unit(v − 0.7·c)), computed here from the engine's vectors and
    freshly embedded contexts, as catalog.search.similar documents it."""
    import numpy as np
    from sqlalchemy import select

    from catalog.models import Dataset
    from catalog.search.documents import context_text

    with catalog.session() as session:
        from sqlalchemy.orm import selectinload

        datasets = list(session.scalars(select(Dataset).options(selectinload(Dataset.agency))))
        contexts = dict(zip([d.id for d in datasets],
                            catalog.embedder.embed([context_text(d) for d in datasets]),
                            strict=True))

    def unit(v: np.ndarray) -> np.ndarray:
        return v / np.linalg.norm(v)

    vector, dataset_id = catalog.search_engine.field_vector(field_id)
    source = unit(vector - 0.7 * contexts[dataset_id])
    out = {}
    for hit, other in catalog.search_engine.nearest_fields(
            vector, exclude_dataset=dataset_id, audience=ALL, limit=1000):
        out[hit.payload["field"]] = float(
            unit(other - 0.7 * contexts[hit.payload["dataset_id"]]) @ source)
    return out


def test_similar_fields_compare_fields_without_their_datasets_context(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scores are the likeness (0-1) of the context-shifted vectors, best first; fields no
    more alike than two random fields (the model's similar_baseline) are left out."""
    field_id = _dob_field_id(catalog)
    spec = catalog.embedder.spec
    expected = _shifted_cosines(catalog, field_id)
    shown = catalog.similar_fields(field_id, audience=ALL, limit=100)
    assert [h.score for h in shown] == sorted((h.score for h in shown), reverse=True)
    assert all(0 < h.score <= 1 for h in shown)
    for hit in shown:
        want = spec.likeness(expected[hit.payload["field"]], spec.similar_baseline)
        assert abs(hit.score - want) < 1e-4, hit.payload["field"]
    assert {h.payload["field"] for h in shown} == {
        name for name, c in expected.items() if c > spec.similar_baseline}
    by_field = {h.payload["field"]: h.score for h in shown}
    assert shown[0].payload["field"] == "BDATE"
    births = {"BDATE", "CASE_DOB", "CHILD_DOB", "INMATE_BIRTH_DT"}  # the same concept
    assert min(by_field[name] for name in births) > 0.7
    assert max(score for name, score in by_field.items() if name not in births) < 0.5

    cut = sorted(expected.values())[len(expected) // 2]  # a baseline half of them fall under
    monkeypatch.setattr(catalog.embedder, "spec", replace(spec, similar_baseline=cut))
    listed = {h.payload["field"] for h in catalog.similar_fields(field_id, audience=ALL,
                                                                 limit=100)}
    assert listed == {name for name, c in expected.items() if c > cut}
    assert "BDATE" in listed and len(listed) < len(expected)
    assert len(catalog.similar_fields(field_id, audience=ALL, limit=2)) == 2


def test_similar_fields_read_contexts_from_the_cache_and_never_write_it(
    catalog: Catalog
) -> None:
    """Indexing cached every dataset's context vector; a page view that finds one missing
    embeds it for itself and leaves the cache as it was."""
    from sqlalchemy import delete, func, select

    from catalog.embeddings import text_hash
    from catalog.models import Dataset, EmbeddingCache
    from catalog.search.documents import context_text

    field_id = _dob_field_id(catalog)
    before = catalog.similar_fields(field_id, audience=ALL, limit=10)
    with catalog.transaction() as session:
        hashes = [text_hash(context_text(d)) for d in session.scalars(select(Dataset))
                  if d.fields]
        cached = session.scalar(select(func.count()).select_from(EmbeddingCache).where(
            EmbeddingCache.text_hash.in_(hashes)))
        assert cached == len(set(hashes))
        session.execute(delete(EmbeddingCache).where(EmbeddingCache.text_hash.in_(hashes)))
    after = catalog.similar_fields(field_id, audience=ALL, limit=10)
    assert [(h.doc_id, round(h.score, 4)) for h in after] == [
        (h.doc_id, round(h.score, 4)) for h in before]
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(EmbeddingCache).where(
            EmbeddingCache.text_hash.in_(hashes))) == 0
    catalog.reindex()  # puts them back for the tests that follow
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(EmbeddingCache).where(
            EmbeddingCache.text_hash.in_(hashes))) == len(set(hashes))


def test_reindex_rebuilds_the_same_index_from_the_database(catalog: Catalog) -> None:
    query = SearchQuery(text="date of birth", per_page=10)
    before = [(h.doc_id, round(h.score, 9)) for h in catalog.search(query).hits]
    count = catalog.search_engine.count()
    assert catalog.reindex() == count
    after = [(h.doc_id, round(h.score, 9)) for h in catalog.search(query).hits]
    assert after == before


def test_long_queries_prefer_documents_matching_two_terms(catalog: Catalog) -> None:
    # "county" alone names CNTY_CD (weight of a field name); "patient zip" match two terms.
    result = catalog.search(SearchQuery(text="patient zip county", mode="lexical",
                                        kind="field"))
    assert _fields(result)[:2] == ["PAT_ZIP", "CNTY_CD"]


def test_the_catalog_uses_the_engine_under_test(catalog: Catalog, request) -> None:
    assert catalog.search_engine.name == request.node.callspec.params["catalog"]


def test_lexical_expressions_ask_for_two_terms_then_any() -> None:
    from catalog.search.embedded import lexical_expressions

    assert lexical_expressions(["a", "b"]) == ['"a" OR "b"']
    pairs, anyone = lexical_expressions(["a", "b", "c"])
    assert pairs == '("a" AND "b") OR ("a" AND "c") OR ("b" AND "c")'
    assert anyone == '"a" OR "b" OR "c"'
    assert lexical_expressions([f"t{i}" for i in range(30)])[0].count("AND") == 45


def test_a_failed_rebuild_leaves_the_old_index_serving(catalog: Catalog) -> None:
    query = SearchQuery(text="date of birth", per_page=10)
    before = [h.doc_id for h in catalog.search(query).hits]
    count = catalog.search_engine.count()

    def batches():  # type: ignore[no-untyped-def]
        yield from catalog._batches()
        raise RuntimeError("the database went away in the middle of the rebuild")

    with pytest.raises(RuntimeError):
        catalog.search_engine.rebuild(batches())
    assert catalog.search_engine.count() == count
    assert [h.doc_id for h in catalog.search(query).hits] == before
    assert catalog.reindex() == count  # and the next rebuild succeeds


def test_a_changed_dataset_is_updated_in_place_without_a_rebuild(catalog: Catalog) -> None:
    raw = {"identifier": "incremental", "title": "Wage records",
           "fields": [{"position": 1, "name": "QTR_WAGES", "label": "Quarterly wages paid"}]}
    with catalog.transaction() as session:
        agency = find_or_create_agency(session, "Department of Labor", "DOL")
        dataset_id = upsert_dataset(session, DatasetInSchema().load(raw), agency=agency,
                                    fmt="test", provenance={}, actor="test").dataset.id
    catalog.index_datasets([dataset_id])
    found = catalog.search(SearchQuery(text="quarterly wages", mode="lexical", kind="field"))
    assert _fields(found)[0] == "QTR_WAGES"

    raw["fields"] = [{"position": 1, "name": "UI_BENEFIT_AMT",
                      "label": "Unemployment benefit amount"}]
    with catalog.transaction() as session:
        agency = find_or_create_agency(session, "Department of Labor", "DOL")
        upsert_dataset(session, DatasetInSchema().load(raw), agency=agency, fmt="test",
                       provenance={}, actor="test")
    catalog.index_datasets([dataset_id])
    gone = catalog.search(SearchQuery(text="quarterly wages", mode="lexical", kind="field"))
    assert "QTR_WAGES" not in _fields(gone)
    new = catalog.search(SearchQuery(text="unemployment benefit", mode="lexical", kind="field"))
    assert _fields(new)[0] == "UI_BENEFIT_AMT"

    # leave the shared catalog as the other tests expect it
    catalog.search_engine.delete_datasets([dataset_id])
    with catalog.transaction() as session:
        from catalog.models import Dataset

        session.delete(session.get(Dataset, dataset_id))
    assert catalog.search(SearchQuery(text="", per_page=100)).total == 2 + 4 + 28


# ------------------------------------------------------- the same dataset published twice

CLIENT_FIELDS = [
    {"position": 1, "name": "CLNT_ID", "label": "Client identifier"},
    {"position": 2, "name": "CLNT_DOB_DT", "label": "Client date of birth",
     "description": "The client's date of birth, as reported.", "data_type": "date"},
    {"position": 3, "name": "ELIG_AMT", "label": "Monthly eligibility amount",
     "data_type": "number"},
]
TWINS = [
    # The merged dictionary repeats the agency's own (below): another file, another
    # description, spacing and a placeholder where the agency's file has no definition. It
    # is a compilation of several agencies' files, and loaded first: on a tie, the order of
    # loading would show it rather than the agency's own.
    {"identifier": "merged-dss-clients", "title": "Client  eligibility records",
     "description": "From P20WIN_Data_Dictionary.xlsx.", "extra": {"compilation": True},
     "fields": [
         CLIENT_FIELDS[0],
         {**CLIENT_FIELDS[1], "description": "The client's date of birth,\n\nas reported."},
         {**CLIENT_FIELDS[2], "description": "Not Available"}]},
    {"identifier": "dss-clients", "title": "Client eligibility records",
     "description": "From DSS_Data_Dictionary.xlsx.", "fields": CLIENT_FIELDS},
    # The same fields in a dataset of another title are not copies.
    {"identifier": "dss-clients-2020", "title": "Client eligibility records, 2020 archive",
     "fields": CLIENT_FIELDS},
    # Nor is a restricted copy the public copy: another audience, another facet value.
    {"identifier": "dss-clients-restricted", "title": "Client eligibility records",
     "access_level": "restricted", "fields": CLIENT_FIELDS},
]


@pytest.fixture(scope="module", params=ENGINES)
def twins(request, tmp_path_factory, embedder: Embedder) -> Iterator[Catalog]:
    yield from engine_catalog(request, tmp_path_factory, embedder, "twins", _build_twins)


def _build_twins(catalog: Catalog) -> None:
    ids = []
    with catalog.transaction() as session:
        agency = find_or_create_agency(session, "Department of Social Services", "DSS")
        for raw in TWINS:
            ids.append(upsert_dataset(session, DatasetInSchema().load(raw), agency=agency,
                                      fmt="test", provenance={}, actor="test").dataset.id)
    catalog.index_datasets(ids)


def _datasets_of(hits) -> list[str]:
    return [h.payload["dataset"] for h in hits]


def test_exact_copies_in_other_datasets_fold_into_one_hit(twins: Catalog) -> None:
    result = twins.search(SearchQuery(text="client date of birth", kind="field"))
    births = [h for h in result.hits if h.payload["field"] == "CLNT_DOB_DT"]
    print("\ncopies of CLNT_DOB_DT:", [(h.payload["dataset"], [c["dataset"] for c in h.also_in])
                                      for h in births])
    assert len(births) == 2  # the agency's and the merged copy as one, the 2020 archive apart
    folded = next(h for h in births if h.also_in)
    # The agency's own copy is the hit, the compilation's the copy it names.
    assert folded.payload["dataset"] == "dss-clients"
    assert [c["dataset"] for c in folded.also_in] == ["merged-dss-clients"]
    assert folded.also_in_count == 1
    assert all(c["field"] == "CLNT_DOB_DT" and c["field_id"] and c["dataset_title"]
               for c in folded.also_in)
    apart = next(h for h in births if not h.also_in)
    assert apart.payload["dataset"] == "dss-clients-2020"
    # Counted once, in the total and in every facet; listed one by one without collapsing.
    assert result.facets["kind"]["field"] == result.total == len(result.hits) == 6
    every = twins.search(SearchQuery(text="client date of birth", kind="field",
                                     collapse=False))
    assert sum(h.payload["field"] == "CLNT_DOB_DT" for h in every.hits) == 3
    assert every.total == result.total + 3  # each of the three fields had one copy


def test_a_dataset_published_twice_is_one_dataset_hit(twins: Catalog) -> None:
    result = twins.search(SearchQuery(text="client eligibility records", kind="dataset"))
    assert sorted(_datasets_of(result.hits)) == ["dss-clients", "dss-clients-2020"]
    head = next(h for h in result.hits if h.payload["dataset"] != "dss-clients-2020")
    assert [c["dataset"] for c in head.also_in] == ["merged-dss-clients"]
    # Its matching fields are named, whichever copy's fields lead.
    assert {"CLNT_ID", "ELIG_AMT", "CLNT_DOB_DT"} & {f["field"] for f in head.matched_fields}


def test_a_restricted_copy_never_folds_into_a_public_hit(twins: Catalog) -> None:
    for allowed in (("public",), ALL):
        for kind in ("field", "dataset"):
            result = twins.search(SearchQuery(text="client eligibility", kind=kind,
                                              allowed_access=allowed, per_page=50))
            named = {c["dataset"] for h in result.hits for c in h.also_in}
            assert "dss-clients-restricted" not in named
            shown = set(_datasets_of(result.hits))
            assert ("dss-clients-restricted" in shown) == (allowed == ALL), (allowed, kind)


# ------------------------------------- one element in several programs of one dictionary

def _program(program: str, ssn_description: str, **extra) -> dict:
    return {"identifier": f"DOL_Data_Dictionary-dol-{program}", "title": program.title(),
            "extra": {"source_identifier": "DOL_Data_Dictionary", "program": program, **extra},
            "fields": [
                {"position": 1, "name": "SSN", "label": "Social security number",
                 "description": ssn_description},
                {"position": 2, "name": f"{program}_START", "label": "Program start date"}]}


SIBLINGS = [
    _program("apprenticeship", "The participant's social security number."),
    _program("pirl", "The participant's social security number."),
    # Defined otherwise in this program: another element, though named alike.
    _program("ui", "SSN of the claimant, as the employer reported it."),
]


@pytest.fixture(scope="module", params=ENGINES)
def siblings(request, tmp_path_factory, embedder: Embedder) -> Iterator[Catalog]:
    def build(catalog: Catalog) -> None:
        ids = []
        with catalog.transaction() as session:
            agency = find_or_create_agency(session, "Department of Labor", "DOL")
            for raw in SIBLINGS:
                ids.append(upsert_dataset(session, DatasetInSchema().load(raw),
                                          agency=agency, fmt="test", provenance={},
                                          actor="test").dataset.id)
        catalog.index_datasets(ids)

    yield from engine_catalog(request, tmp_path_factory, embedder, "siblings", build)


def test_an_element_defined_alike_in_two_programs_of_one_file_is_one_hit(
        siblings: Catalog) -> None:
    result = siblings.search(SearchQuery(text="social security number", kind="field"))
    ssn = [h for h in result.hits if h.payload["field"] == "SSN"]
    assert len(ssn) == 2  # apprenticeship and PIRL as one, UI's own definition apart
    folded = next(h for h in ssn if h.also_in)
    assert {folded.payload["dataset"], *(c["dataset"] for c in folded.also_in)} == {
        "DOL_Data_Dictionary-dol-apprenticeship", "DOL_Data_Dictionary-dol-pirl"}
    assert all(c["source_dataset"] == "DOL_Data_Dictionary" for c in folded.also_in)
    assert next(h for h in ssn if not h.also_in).payload["dataset"] == "DOL_Data_Dictionary-dol-ui"
    # Counted once; one by one when collapsing is off.
    assert result.total == result.facets["kind"]["field"] == len(result.hits)
    every = siblings.search(SearchQuery(text="social security number", kind="field",
                                        collapse=False))
    assert sum(h.payload["field"] == "SSN" for h in every.hits) == 3
    # Datasets are not folded: each program is a dataset of its own.
    programs = siblings.search(SearchQuery(text="social security number", kind="dataset"))
    assert programs.total == 3


def test_twin_keys_ignore_spacing_case_punctuation_and_placeholders() -> None:
    from catalog.search.documents import twin_key

    same = twin_key("field", "dss", "Client eligibility records", "ELIG_AMT", None, None)
    assert twin_key("field", "dss", "client  Eligibility records.", "elig_amt", "", "N/A") == same
    assert twin_key("field", "dss", "Client eligibility records", "ELIG_AMT", None,
                    "Not Available") == same
    assert twin_key("field", "dss", "Client eligibility records", "ELIG_AMT", None,
                    "Amount paid") != same
    assert twin_key("dataset", "dss", "Client eligibility records", "ELIG_AMT", None,
                    None) != same


def test_a_fields_copy_leads_its_similar_fields_marked_as_a_copy(twins: Catalog) -> None:
    with twins.session() as session:
        from sqlalchemy import select

        from catalog.models import Dataset, Field

        field_id = session.scalars(select(Field.id).join(Dataset).where(
            Dataset.identifier == "dss-clients", Field.name == "CLNT_DOB_DT")).one()
    found = twins.similar_fields(field_id, audience=ALL)
    print("\nsimilar to CLNT_DOB_DT:", [(h.payload["dataset"], h.payload["field"], h.copy,
                                         round(h.score, 2)) for h in found])
    # Its copies (the restricted one too, for who may see it) lead, marked as copies; the
    # same field in a dataset of another title is a similar field, not a copy.
    copies = [h for h in found if h.copy]
    assert {h.payload["dataset"] for h in copies} == {"merged-dss-clients",
                                                      "dss-clients-restricted"}
    assert found[:2] == copies and all(h.payload["field"] == "CLNT_DOB_DT" for h in copies)
    others = [h for h in found if h.payload["field"] == "CLNT_DOB_DT" and not h.copy]
    assert [h.payload["dataset"] for h in others] == ["dss-clients-2020"]
    # The copies' other fields are this field's own dataset's, published again: left out.
    assert {h.payload["dataset"] for h in found if not h.copy} == {"dss-clients-2020"}
    assert {h.payload["field"] for h in found if not h.copy} >= {"CLNT_ID"}
    assert found[0].to_dict()["copy"] is True
    public = twins.similar_fields(field_id, audience=("public",))
    assert [h.payload["dataset"] for h in public if h.copy] == ["merged-dss-clients"]
    assert "dss-clients-restricted" not in {h.payload["dataset"] for h in public}


def test_a_similar_field_published_twice_is_listed_once(twins: Catalog) -> None:
    """From a field of another dataset, the client fields' two public copies are one
    similar field each, "also in" the other copy."""
    with twins.session() as session:
        from sqlalchemy import select

        from catalog.models import Dataset, Field

        field_id = session.scalars(select(Field.id).join(Dataset).where(
            Dataset.identifier == "dss-clients-2020", Field.name == "CLNT_DOB_DT")).one()
    found = twins.similar_fields(field_id, audience=("public",))
    births = [h for h in found if h.payload["field"] == "CLNT_DOB_DT"]
    print("\nsimilar to the archive's CLNT_DOB_DT:", [
        (h.payload["dataset"], h.payload["field"], [c["dataset"] for c in h.also_in])
        for h in found])
    assert len(births) == 1 and not births[0].copy
    assert {births[0].payload["dataset"], *(c["dataset"] for c in births[0].also_in)} == {
        "dss-clients", "merged-dss-clients"}
    assert births[0].also_in_count == 1
    assert len({h.payload["twin"] for h in found}) == len(found)


def test_an_index_of_older_documents_is_rebuilt_on_opening(twins: Catalog,
                                                            embedder: Embedder) -> None:
    """Documents without twin keys (written before them) would never fold: an index that
    records older documents is stale, and a catalog opened on it rebuilds it."""
    engine = twins.search_engine
    assert not engine.stale
    if engine.name == "elasticsearch":
        engine.es.indices.put_mapping(index=engine.alias, meta={"model": embedder.name})
    else:
        from catalog.search.embedded import EmbeddedEngine

        with engine._connect() as conn:
            conn.execute("UPDATE meta SET value = '4' WHERE key = 'format'")
        engine = EmbeddedEngine(engine.path)  # as the next process opens it
    assert engine.stale
    again = Catalog(replace(twins.settings), embedder=embedder, engine=engine)
    assert not engine.stale
    result = again.search(SearchQuery(text="client date of birth", kind="field"))
    assert any(h.also_in for h in result.hits)
    again.db.dispose()  # the engine is the fixture's, closed with it


def _named_as_held(cat: Catalog, queries: list[SearchQuery]) -> int:
    """Check each document the hits name against the catalog's rows; how many were."""
    from sqlalchemy import select

    from catalog.models import Dataset, Field

    with cat.db.begin() as conn:
        fields = {row.id: row for row in conn.execute(
            select(Field.id, Field.name, Field.label, Dataset.id.label("dataset_id"),
                   Dataset.identifier, Dataset.title).join(Dataset))}
        datasets = {row.id: row for row in conn.execute(
            select(Dataset.id, Dataset.identifier, Dataset.title))}
    checked = 0
    for query in queries:
        for hit in cat.search(query).hits:
            for ref in [*hit.more_fields, *hit.matched_fields, *hit.also_in]:
                if ref["field_id"] is None:  # a copy of a dataset hit
                    row = datasets[ref["dataset_id"]]
                    assert (ref["dataset"], ref["dataset_title"]) == (row.identifier, row.title)
                else:
                    row = fields[ref["field_id"]]
                    assert ref["field"] == row.name
                    if "title" in ref:  # a collapsed or matching field
                        assert ref["title"] == (row.label or row.name)
                    else:  # a copy
                        assert (ref["dataset"], ref["dataset_id"], ref["dataset_title"]) == (
                            row.identifier, row.dataset_id, row.title)
                checked += 1
    return checked


def test_the_fields_a_hit_names_are_named_as_the_catalog_holds_them(catalog: Catalog) -> None:
    """A hit's collapsed and matching fields (which Elasticsearch reads from doc values,
    not from each document's source) carry the ids, names and titles of the catalog's rows."""
    assert _named_as_held(catalog, [SearchQuery(text="diagnosis code", kind="field"),
                                    SearchQuery(text="zip code of the patient",
                                                kind="dataset")]) >= 4


def test_the_copies_a_hit_names_are_named_as_the_catalog_holds_them(twins: Catalog) -> None:
    assert _named_as_held(twins, [SearchQuery(text="client date of birth", kind="field"),
                                  SearchQuery(text="client eligibility records",
                                              kind="dataset")]) >= 3


def test_an_elasticsearch_index_keeping_vectors_in_its_source_is_rebuilt(
        request, tmp_path, embedder: Embedder) -> None:
    """An index written before the vectors left ``_source`` (and before ``ref``) is stale:
    the catalog rebuilds it on opening, and similar fields and named fields work on it."""
    from catalog.embeddings import DIMENSIONS
    from catalog.search.elasticsearch import ElasticsearchEngine
    from catalog.search.es_index import mappings

    engine = make_engine(request, "elasticsearch")
    old = mappings()
    old["_source"] = {"excludes": ["vector"]}
    old["properties"]["vector_b64"] = {"type": "binary"}
    del old["properties"]["ref"]
    legacy = f"{engine.alias}__1"
    engine.es.indices.create(index=legacy, mappings=old, aliases={engine.alias: {}})
    settings = load_settings(data_dir=tmp_path, database_url=None)
    try:
        assert engine.stale
        cat = Catalog(settings, embedder=embedder, engine=engine)
        assert not engine.stale and legacy not in engine._indices()
        _build(cat)
        cat.db.dispose()
        reopened = ElasticsearchEngine(engine.url, index=engine.alias)  # the next process
        assert not reopened.stale
        found = next(iter(reopened.es.indices.get_mapping(index=engine.alias).values()))
        assert found["mappings"]["properties"]["vector_b64"].get("store") is True
        assert "vector_b64" in found["mappings"]["_source"]["excludes"]
        again = Catalog(settings, embedder=embedder, engine=reopened)
        hit = next(h for h in again.search(SearchQuery(text="diagnosis code", kind="field")).hits
                   if h.more_fields)
        assert all(f["title"].startswith("Diagnosis code") for f in hit.more_fields)
        vector, dataset_id = reopened.field_vector(hit.payload["field_id"])
        assert vector.shape == (DIMENSIONS,) and dataset_id == hit.payload["dataset_id"]
        assert reopened.nearest_fields(vector, exclude_dataset=0, audience=ALL, limit=3)
        again.db.dispose()
    finally:
        drop_engine(engine)
        engine.close()


def test_the_cli_names_the_other_copies_by_their_titles(
    tmp_path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    """`catalog search` says which datasets also hold a folded field by title, with the
    identifier beside it (an identifier alone, "merged-dss-clients", tells a reader little)."""
    from click.testing import CliRunner

    from web.cli import main

    catalog = Catalog(load_settings(data_dir=tmp_path / "var", database_url=None,
                                    elasticsearch_url=None), embedder=embedder)
    _build_twins(catalog)
    catalog.close()
    monkeypatch.setenv("CATALOG_DATA_DIR", str(tmp_path / "var"))
    for name in ("CATALOG_DATABASE_URL", "CATALOG_ELASTICSEARCH_URL"):
        monkeypatch.delenv(name, raising=False)
    shown = CliRunner().invoke(main, ["search", "client date of birth", "--kind", "field"])
    assert shown.exit_code == 0, shown.output
    also = [line.strip() for line in shown.output.splitlines() if "also in" in line]
    print("\n".join(also))
    assert also and all("Client" in line and "eligibility records (" in line for line in also)
