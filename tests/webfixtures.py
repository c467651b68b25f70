"""A small real catalog and its web app, shared by the web and browser tests.

The catalog uses the real embedding model and the embedded search engine. Two datasets
are hidden from anonymous visitors (one ``restricted``, one ``internal``); their
distinctive words, in :data:`HIDDEN_WORDS`, must never appear in a page or an API answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from catalog.config import load_settings
from catalog.embeddings import Embedder
from catalog.schemas import DatasetInSchema
from catalog.service import Catalog
from catalog.store import find_or_create_agency, upsert_dataset
from web.app import create_app

HIDDEN_WORDS = ("quixotic", "zeph", "marmoset", "quokka", "xylograph")


def _f(position: int, name: str, label: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"position": position, "name": name, "label": label, **extra}


def _births_fields() -> list[dict[str, Any]]:
    names = [
        ("CERT_NO", "Certificate number", "string"),
        ("CHILD_BIRTH_DT", "Date of birth of the infant", "date"),
        ("BIRTH_TM", "Time of birth", "time"),
        ("SEX_CD", "Sex of infant", "code"),
        ("BWT_GRAMS", "Birth weight in grams", "integer"),
        ("GEST_WKS", "Gestational age in weeks", "integer"),
        ("PLURALITY", "Plurality (single, twin, triplet)", "integer"),
        ("MOTHER_AGE", "Age of mother at delivery", "integer"),
        ("MOTHER_EDUC", "Mother's education", "code"),
        ("FATHER_AGE", "Age of father", "integer"),
        ("PRENATAL_VISITS", "Number of prenatal care visits", "integer"),
        ("PAY_SRC", "Principal source of payment for delivery", "code"),
        ("FAC_NAME", "Facility name", "string"),
        ("FAC_TOWN", "Town of facility", "string"),
        ("RES_TOWN", "Town of residence of mother", "string"),
        ("RES_CNTY", "County of residence of mother", "code"),
        ("APGAR5", "Five-minute Apgar score", "integer"),
        ("NICU_ADM", "Admitted to neonatal intensive care", "boolean"),
        ("BF_DISCH", "Breastfed at discharge", "boolean"),
        ("CIG_PREG", "Cigarettes smoked during pregnancy", "integer"),
        ("WIC_FLG", "Mother received WIC food assistance", "boolean"),
        ("DELIV_METH", "Method of delivery", "code"),
        ("INFANT_LIVING", "Infant living at time of report", "boolean"),
        ("REG_DT", "Date the certificate was registered", "date"),
    ]
    return [
        _f(i + 1, n, lab, data_type=t,
           sensitivity="private" if n in ("CERT_NO", "CHILD_BIRTH_DT") else "protected")
        for i, (n, lab, t) in enumerate(names)
    ]


RECORDS: list[dict[str, Any]] = [
    {
        "agency": "Department of Children and Families", "agency_abbreviation": "DCF",
        "identifier": "foster-care-placements", "title": "Foster Care Placements",
        "description": "One record per placement episode of a child in out-of-home care.",
        "keywords": ["foster care", "child welfare", "placements"],
        "update_frequency": "Quarterly", "last_modified": "2024-03-31",
        "landing_page": "https://portal.ct.gov/dcf/data",
        "fields": [
            _f(1, "CHILD_ID", "Child identifier", data_type="string", sensitivity="personal",
               pii=["identifier"]),
            _f(2, "DOB_DT", "Birth date", data_type="date", sensitivity="personal",
               pii=["date of birth"], description="Child's date of birth (MM/DD/YYYY)."),
            _f(3, "REMOVAL_DT", "Date of removal from home", data_type="date",
               description="Date the child entered foster care after removal from the home."),
            _f(4, "PLCMT_TYPE_CD", "Placement type", data_type="code",
               value_labels=[{"code": "1", "label": "Foster family home"},
                             {"code": "2", "label": "Relative home"},
                             {"code": "3", "label": "Congregate care"}]),
            _f(5, "EXIT_RSN_CD", "Reason for exit", data_type="code",
               value_labels=[{"code": "RU", "label": "Reunification"},
                             {"code": "AD", "label": "Adoption"}]),
        ],
    },
    {
        "agency": "State Department of Education", "agency_abbreviation": "SDE",
        "identifier": "enrollment-layout", "title": "Student Enrollment Record Layout",
        "description": "Fixed-width layout of the October 1 public school enrollment file.",
        "keywords": ["education", "enrollment"], "layout": True,
        "update_frequency": "Annual",
        "fields": [
            _f(1, "STU_ID", "State-assigned student identifier", data_type="string",
               start_col=1, end_col=10, width=10, sensitivity="personal"),
            _f(2, "BDATE", None, description="Student's birth date, YYYYMMDD.",
               data_type="date", start_col=11, end_col=18, width=8, sensitivity="personal"),
            _f(3, "GRADE_LVL", "Grade level", data_type="code", start_col=19, end_col=20,
               width=2),
            _f(4, "ENROLL_DT", "Enrollment date", data_type="date", start_col=21, end_col=28,
               width=8),
            _f(5, "FRL_ELIG", "Free or reduced-price lunch eligibility", data_type="code",
               start_col=29, end_col=29, width=1, sensitivity="protected",
               value_labels=[{"code": "F", "label": "Free"}, {"code": "R", "label": "Reduced"},
                             {"code": "N", "label": "Not eligible"}]),
        ],
    },
    {
        "agency": "Department of Labor", "agency_abbreviation": "DOL",
        "identifier": "ui-claims", "title": "Unemployment Insurance Claims",
        "description": "Initial claims for unemployment insurance benefits.",
        "keywords": ["unemployment", "labor"],
        "fields": [
            _f(1, "CLAIM_ID", "Claim identifier", data_type="string"),
            _f(2, "CLMT_BIRTH_DT", "Claimant birth date", data_type="date",
               sensitivity="personal"),
            _f(3, "HH_INCOME_APP", "Household income at application", data_type="number",
               sensitivity="protected"),
            _f(4, "WBA_AMT", "Weekly benefit amount", data_type="number"),
        ],
    },
    {
        "agency": "Department of Public Health", "agency_abbreviation": "DPH",
        "identifier": "birth-file", "title": "Vital Statistics Birth File",
        "description": "Registered live births, with characteristics of infant and mother.",
        "keywords": ["births", "vital statistics"],
        "fields": _births_fields(),
    },
    # ---- hidden from anonymous visitors ----
    {
        "agency": "Office of Quixotic Oversight", "agency_abbreviation": "ZEPHOQO",
        "identifier": "zephyrine-ledger", "title": "Zephyrine Marmoset Ledger",
        "description": "Restricted ledger of marmoset zephyrine tallies.",
        "access_level": "restricted", "keywords": ["marmoset"],
        "fields": [
            _f(1, "ZEPH_MARMOSET_CT", "Marmoset zephyrine tally", data_type="integer"),
            _f(2, "ZEPH_BIRTH_DT", "Zephyrine marmoset date of birth", data_type="date"),
        ],
    },
    {
        "agency": "Department of Children and Families", "agency_abbreviation": "DCF",
        "identifier": "quokka-casework", "title": "Quokka Xylograph Casework Notes",
        "description": "Internal quokka xylograph notes.", "access_level": "internal",
        "fields": [
            _f(1, "QUOKKA_XYLO_DOB", "Quokka xylograph date of birth", data_type="date"),
            _f(2, "QUOKKA_XYLO_NOTE", "Quokka xylograph case note", data_type="string"),
        ],
    },
    {
        "agency": "Department of Labor", "agency_abbreviation": "DOL",
        "identifier": "marmoset-wage-match", "title": "Marmoset Wage Match",
        "description": "Restricted quokka wage match.", "access_level": "restricted",
        "fields": [_f(1, "MARMOSET_WAGE", "Marmoset quarterly wages", data_type="number")],
    },
]


@dataclass
class WebCatalog:
    """The test catalog, its app, and where things are."""

    catalog: Catalog
    app: Flask
    datasets: dict[str, int] = field(default_factory=dict)
    fields: dict[str, int] = field(default_factory=dict)
    hidden_datasets: list[int] = field(default_factory=list)
    hidden_fields: list[int] = field(default_factory=list)
    public_field_count: int = 0
    hidden_words: tuple[str, ...] = HIDDEN_WORDS


def build_catalog(catalog: Catalog) -> WebCatalog:
    """Load :data:`RECORDS` into ``catalog`` through the real schema and store, then index."""
    out = WebCatalog(catalog=catalog, app=create_app(catalog))
    with catalog.transaction() as session:
        for raw in RECORDS:
            record = DatasetInSchema().load(raw)
            agency = find_or_create_agency(session, record["agency"],
                                           record["agency_abbreviation"])
            dataset = upsert_dataset(session, record, agency=agency, fmt="test",
                                     provenance={"source": "tests/webfixtures.py"},
                                     actor="tests").dataset
            session.flush()
            out.datasets[dataset.identifier] = dataset.id
            hidden = dataset.access_level != "public"
            for f in dataset.fields:
                out.fields[f.name] = f.id
                if hidden:
                    out.hidden_fields.append(f.id)
            if hidden:
                out.hidden_datasets.append(dataset.id)
            else:
                out.public_field_count += len(dataset.fields)
    catalog.index_datasets(out.datasets.values())
    return out


@pytest.fixture(scope="session")
def web_catalog(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
                ) -> Iterator[WebCatalog]:
    """The small real catalog with its Flask app, shared by the web tests."""
    data_dir = tmp_path_factory.mktemp("web-catalog")
    catalog = Catalog(load_settings(data_dir=data_dir, database_url=None), embedder=embedder)
    yield build_catalog(catalog)
    catalog.close()


@pytest.fixture
def client(web_catalog: WebCatalog) -> FlaskClient:
    """A Flask test client of the shared app."""
    return web_catalog.app.test_client()


@pytest.fixture
def broken_index_app(tmp_path: Path, embedder: Embedder
                     ) -> Iterator[tuple[Flask, WebCatalog]]:
    """An app whose search index file is corrupt while its database is fine."""
    catalog = Catalog(load_settings(data_dir=tmp_path / "data", database_url=None),
                      embedder=embedder)
    built = build_catalog(catalog)
    catalog.settings.search_index_path.write_bytes(b"this is not a SQLite database" * 100)
    yield built.app, built
    catalog.close()


# ------------------------------------------------------------------------- accounts

PASSWORD = "correct horse battery staple"


def add_account(catalog: Catalog, email: str, role: str, agencies: tuple[str, ...] = (),
                password: str = PASSWORD, officer_of: tuple[str, ...] = ()) -> str:
    """Create an account (through the real account rules); returns its e-mail address."""
    from catalog import accounts

    with catalog.transaction() as session:
        return accounts.create_user(session, email, role, agencies=agencies,
                                    data_officer_of=officer_of, password=password,
                                    name=email.split("@")[0].title()).email


def readable(response: Any) -> str:
    """An answer as text; a workbook (the XLSX export) as the text of its XML parts."""
    import io
    import zipfile

    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace")
                             for n in archive.namelist() if n.endswith(".xml"))
    return data.decode("utf-8", "replace")


def csrf_of(page: str) -> str:
    """The CSRF token of a page's forms."""
    import re

    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> str:
    """Sign a test client in through the real sign-in form; returns the session's CSRF token."""
    csrf = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"email": email, "password": password, "csrf": csrf})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    return csrf_of(client.get("/account").get_data(as_text=True))
