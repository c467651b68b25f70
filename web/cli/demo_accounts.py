"""Accounts for trying the demo in every role: one per role, one printed password.

The demo serves on loopback by default; the password is random for each demo and shown
only on the console that started it, so a demo left running on a shared machine is not
an open door.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import case, func, select

from catalog import accounts
from catalog.models import Agency, Dataset
from catalog.service import Catalog
from catalog.vocabulary import AccessLevel, Role

DOMAIN = "demo.example.org"


@dataclass(frozen=True)
class DemoAccounts:
    """The accounts made, their shared password, and the agency the steward looks after."""

    emails: dict[str, str]
    password: str
    agency: str | None


def steward_agency(catalog: Catalog) -> Agency | None:
    """The agency with the most non-public datasets (then the most datasets): worth stewarding."""
    hidden = func.sum(case((Dataset.access_level != AccessLevel.PUBLIC, 1), else_=0))
    with catalog.session() as session:
        row = session.execute(
            select(Agency).join(Dataset).group_by(Agency.id)
            .order_by(hidden.desc(), func.count(Dataset.id).desc(), Agency.slug).limit(1)
        ).scalar_one_or_none()
        if row is not None:
            session.expunge(row)
        return row


def create_demo_accounts(catalog: Catalog) -> DemoAccounts:
    """A viewer, a steward (and data officer) of one agency, an intake officer, an admin."""
    password = secrets.token_urlsafe(12)
    agency = steward_agency(catalog)
    emails: dict[str, str] = {}
    with catalog.transaction() as session:
        for role in (Role.VIEWER, Role.STEWARD, Role.INTAKE, Role.ADMIN):
            if role == Role.STEWARD and agency is None:
                continue
            slugs = (agency.slug,) if role == Role.STEWARD and agency else ()
            emails[role] = accounts.create_user(
                session, f"{role}@{DOMAIN}", role, agencies=slugs, data_officer_of=slugs,
                password=password, name=f"Demo {role}").email
    return DemoAccounts(emails, password, agency.name if agency else None)
