"""People: accounts with roles, the agencies they steward, sign-in, sessions and API tokens.

* Passwords are hashed with argon2id (argon2-cffi); a hash made with older parameters is
  replaced at the next sign-in.
* Failed sign-ins are recorded and throttle further tries, per account and per address,
  across every process that serves the catalog (they are rows of the database).
* A browser session is a row too: the cookie carries a random key whose SHA-256 is stored,
  so signing out (or an administrator resetting the password or removing the account) ends
  the session on the server; a copied cookie is worthless afterwards.
* API tokens are random, shown once, stored as their SHA-256, and revocable.
* :func:`audience_of` says what a user may see (:class:`catalog.audience.Audience`), and
  :func:`may_edit` whether they may edit a dataset: one place for both.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from catalog.audience import ALL_LEVELS, PUBLIC, Audience
from catalog.models import (
    Agency,
    ApiToken,
    Dataset,
    SignInFailure,
    Stewardship,
    User,
    UserSession,
    as_utc,
    utcnow,
)
from catalog.vocabulary import AccessLevel, Role, values

ROLES = values(Role)
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1000
TOKEN_PREFIX = "cat_"
SESSION_IDLE = timedelta(hours=12)
SESSION_LONGEST = timedelta(days=7)
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
_HASHER = PasswordHasher()
# Verified against when an account does not exist, so that a wrong e-mail address takes as
# long as a wrong password and does not reveal which accounts exist.
_DUMMY_HASH = _HASHER.hash("not a password anyone has")
SIGNED_IN_LEVELS = (AccessLevel.PUBLIC.value, AccessLevel.INTERNAL.value)


class AccountError(ValueError):
    """An account cannot be created or changed; the message says which and why."""


class Throttled(Exception):
    """Too many failed sign-ins lately; ``retry_after`` seconds until the next try."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")
        self.retry_after = retry_after


class AccountDisabled(Exception):
    """The password was right but an administrator has disabled the account."""


# ------------------------------------------------------------------------ accounts


def normalise_email(email: str) -> str:
    """The address as stored: trimmed, lower-case; AccountError when it is not one."""
    email = (email or "").strip().lower()
    if not EMAIL.match(email) or len(email) > 320:
        raise AccountError(f"{email!r} is not an e-mail address")
    return email


def check_password(password: str) -> None:
    """AccountError unless the password is long enough (and not absurdly long)."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"a password has at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    """The argon2id hash of a password."""
    return _HASHER.hash(password)


def get_user(session: Session, email: str) -> User | None:
    """The account with this e-mail address (any case), or None."""
    return session.scalar(
        select(User).where(User.email == email.strip().lower())
        .options(selectinload(User.stewardships).selectinload(Stewardship.agency)))


def list_users(session: Session) -> list[User]:
    """Every account, by e-mail address."""
    return list(session.scalars(
        select(User).order_by(User.email)
        .options(selectinload(User.stewardships).selectinload(Stewardship.agency))))


def _agencies(session: Session, slugs: tuple[str, ...] | list[str]) -> list[Agency]:
    found = {a.slug: a for a in session.scalars(select(Agency).where(Agency.slug.in_(slugs)))}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise AccountError(f"no agency with slug {', '.join(map(repr, missing))} "
                           "(see /agencies or `catalog search`)")
    return [found[s] for s in dict.fromkeys(slugs)]


def _check_role(role: str, agencies: tuple[str, ...] | list[str]) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == Role.STEWARD and not agencies:
        raise AccountError("a steward stewards at least one agency (--agency SLUG)")
    if role != Role.STEWARD and agencies:
        raise AccountError(f"only stewards have agencies; a {role} has none")


def create_user(session: Session, email: str, role: str, *, agencies: tuple[str, ...] = (),
                data_officer_of: tuple[str, ...] = (), password: str | None = None,
                name: str | None = None, sso_subject: str | None = None) -> User:
    """A new account; AccountError for a taken address, a bad role or an unknown agency."""
    email = normalise_email(email)
    if get_user(session, email) is not None:
        raise AccountError(f"an account for {email} exists already")
    _check_role(role, agencies)
    if password is not None:
        check_password(password)
    user = User(email=email, name=(name or "").strip() or None, role=role, active=True,
                password_hash=hash_password(password) if password is not None else None,
                sso_subject=sso_subject, created_at=utcnow())
    session.add(user)
    session.flush()
    _set_stewardships(session, user, agencies, data_officer_of)
    return user


def _set_stewardships(session: Session, user: User, agencies: tuple[str, ...] | list[str],
                      data_officer_of: tuple[str, ...] | list[str]) -> None:
    extra = [s for s in data_officer_of if s not in agencies]
    if extra:
        raise AccountError(f"a data officer of {', '.join(extra)} must also steward it")
    session.execute(delete(Stewardship).where(Stewardship.user_id == user.id))
    for agency in _agencies(session, list(agencies)):
        session.add(Stewardship(user_id=user.id, agency_id=agency.id,
                                data_officer=agency.slug in data_officer_of))
    session.flush()
    session.expire(user, ["stewardships"])


def _keep_an_administrator(session: Session, user: User, what: str) -> None:
    """Refuse to take away the last active administrator (nobody could manage accounts in
    the web app again)."""
    if user.role != Role.ADMIN:
        return
    others = session.scalar(select(func.count(User.id)).where(
        User.role == Role.ADMIN.value, User.id != user.id, User.active.is_(True)))
    if not others:
        raise AccountError(f"{user.email} is the only administrator: make another one "
                           f"before {what}")


def set_role(session: Session, user: User, role: str, *, agencies: tuple[str, ...] = (),
             data_officer_of: tuple[str, ...] = ()) -> None:
    """Change a user's role (and agencies); their sessions end, so the change holds at once.
    The last administrator keeps the role."""
    _check_role(role, agencies)
    if role != Role.ADMIN:
        _keep_an_administrator(session, user, "changing their role")
    user.role = role
    _set_stewardships(session, user, agencies, data_officer_of)
    end_all_sessions(session, user)


def set_password(session: Session, user: User, password: str) -> None:
    """Set a new password (a reset by an administrator); every session of the user ends."""
    check_password(password)
    user.password_hash = hash_password(password)
    end_all_sessions(session, user)


def set_active(session: Session, user: User, active: bool) -> bool:
    """Disable an account (it can no longer sign in; its sessions end and its API tokens
    stop working, though they are kept, so that enabling it again restores them) or enable
    it again. The last active administrator stays enabled. Returns whether it changed."""
    if bool(user.active) == active:
        return False
    if not active:
        _keep_an_administrator(session, user, "disabling their account")
        end_all_sessions(session, user)
    user.active = active
    session.flush()
    return True


def remove_user(session: Session, user: User) -> None:
    """Delete an account with its sessions, tokens and stewardships (history keeps its name);
    not the last administrator's."""
    _keep_an_administrator(session, user, "removing their account")
    session.delete(user)
    session.flush()


def agency_slugs(user: User) -> tuple[str, ...]:
    """The slugs of the agencies a user stewards."""
    return tuple(sorted(s.agency.slug for s in user.stewardships))


def stewards_of(session: Session, agency: Agency) -> list[tuple[User, bool]]:
    """The active stewards of an agency, with whether each is its data officer."""
    rows = session.execute(
        select(User, Stewardship.data_officer).join(Stewardship)
        .where(Stewardship.agency_id == agency.id, User.active.is_(True))
        .order_by(Stewardship.data_officer.desc(), User.name, User.email)).all()
    return [(user, bool(officer)) for user, officer in rows]


# ------------------------------------------------------------------- what they may do


def audience_for(role: str | None, agencies: tuple[str, ...] = ()) -> Audience:
    """What a role sees: public only when signed out (None); everything for an administrator.

    Viewers, intake officers and stewards see public and internal metadata; a steward also
    sees the restricted datasets of the agencies they steward.
    """
    if role is None:
        return PUBLIC
    if role == Role.ADMIN:
        return Audience(levels=ALL_LEVELS)
    if role == Role.STEWARD:
        return Audience(levels=SIGNED_IN_LEVELS, agencies=tuple(agencies))
    return Audience(levels=SIGNED_IN_LEVELS)


def audience_of(user: User | None) -> Audience:
    """What a user may see (an inactive account: public only)."""
    if user is None or not user.active:
        return PUBLIC
    return audience_for(user.role, agency_slugs(user))


def may_edit_for(role: str | None, agencies: tuple[str, ...], agency_slug: str) -> bool:
    """Whether a role may edit the datasets of an agency: an administrator, or its steward."""
    return role == Role.ADMIN or (role == Role.STEWARD and agency_slug in agencies)


def may_edit(user: User | None, dataset: Dataset) -> bool:
    """Whether a user may edit a dataset: an administrator, or a steward of its agency."""
    if user is None or not user.active:
        return False
    return may_edit_for(user.role, agency_slugs(user), dataset.agency.slug)


# ------------------------------------------------------------------------- sign-in


@dataclass
class SignIn:
    """A successful sign-in: the user and the key of their new session (for the cookie)."""

    user: User
    session_key: str


def _throttle(session: Session, email: str, address: str | None) -> None:
    since = utcnow() - THROTTLE_WINDOW
    checks = [(SignInFailure.email == email, MAX_FAILURES_PER_ACCOUNT)]
    if address:
        checks.append((SignInFailure.address == address, MAX_FAILURES_PER_ADDRESS))
    for condition, limit in checks:
        rows = list(session.scalars(
            select(SignInFailure.at).where(condition, SignInFailure.at >= since)
            .order_by(SignInFailure.at.desc()).limit(limit)))
        if len(rows) >= limit:
            oldest = as_utc(rows[-1]) or utcnow()
            wait = int((oldest + THROTTLE_WINDOW - utcnow()).total_seconds()) + 1
            raise Throttled(max(1, wait))


def authenticate(session: Session, email: str, password: str,
                 address: str | None = None) -> User | None:
    """The active user whose password this is, or None (recorded, and throttled).

    Raises :class:`Throttled` when the account or the address failed too often lately;
    then the password is not even checked. Raises :class:`AccountDisabled` for the right
    password of a disabled account (only someone who knows it learns the account's state).
    """
    email = (email or "").strip().lower()[:320]
    _throttle(session, email, address)
    user = get_user(session, email) if email else None
    stored = user.password_hash if user is not None else None
    try:
        _HASHER.verify(stored or _DUMMY_HASH, password[:MAX_PASSWORD])
        ok = stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        session.add(SignInFailure(email=email, address=address, at=utcnow()))
        session.flush()
        return None
    if not user.active:
        raise AccountDisabled(user.email)
    if _HASHER.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    session.execute(delete(SignInFailure).where(SignInFailure.email == email))
    return user


def forget_old_failures(session: Session) -> None:
    """Drop failed sign-ins older than the throttle window."""
    session.execute(delete(SignInFailure).where(
        SignInFailure.at < utcnow() - THROTTLE_WINDOW))


# ------------------------------------------------------------------------- sessions


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def open_session(session: Session, user: User, address: str | None = None) -> SignIn:
    """A new server-side session for a user who just signed in."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(UserSession(user_id=user.id, token_hash=_digest(key), created_at=now,
                            last_seen_at=now, expires_at=now + SESSION_LONGEST,
                            address=address))
    user.last_sign_in_at = now
    session.flush()
    return SignIn(user, key)


def user_for_session(session: Session, key: str | None) -> User | None:
    """The user of a live session (not ended, not expired, not idle too long), or None."""
    if not key or len(key) > 200:
        return None
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _digest(key)))
    now = utcnow()
    if row is None or row.ended_at is not None or as_utc(row.expires_at) <= now \
            or now - (as_utc(row.last_seen_at) or now) > SESSION_IDLE:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if now - (as_utc(row.last_seen_at) or now) > timedelta(minutes=1):
        row.last_seen_at = now
    return user


def end_session(session: Session, key: str | None) -> None:
    """End one session (sign-out): its cookie no longer signs anyone in."""
    if key:
        session.execute(update(UserSession).where(UserSession.token_hash == _digest(key))
                        .values(ended_at=utcnow()))


def end_all_sessions(session: Session, user: User) -> None:
    """End every session of a user."""
    session.execute(update(UserSession).where(UserSession.user_id == user.id,
                                              UserSession.ended_at.is_(None))
                    .values(ended_at=utcnow()))


# ---------------------------------------------------------------------- API tokens


def issue_token(session: Session, user: User, label: str | None = None) -> tuple[str, ApiToken]:
    """A new API token for a user: the token itself (shown once) and its record."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id, label=(label or "").strip()[:200] or None,
                      token_hash=_digest(token), prefix=token[: len(TOKEN_PREFIX) + 6],
                      created_at=utcnow())
    session.add(record)
    session.flush()
    return token, record


def user_for_token(session: Session, token: str | None) -> User | None:
    """The active user of a live (unrevoked) API token, or None."""
    if not token or len(token) > 200 or not token.startswith(TOKEN_PREFIX):
        return None
    digest = _digest(token)
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if record is None or record.revoked_at is not None \
            or not hmac.compare_digest(record.token_hash, digest):
        return None
    user = session.get(User, record.user_id)
    if user is None or not user.active:
        return None
    now = utcnow()
    if record.last_used_at is None or now - (as_utc(record.last_used_at) or now) > \
            timedelta(minutes=1):
        record.last_used_at = now
    return user


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """A user's tokens, newest first (revoked ones too, marked)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, user: User, token_id: int) -> bool:
    """Revoke one of a user's tokens; False when it is not theirs or already revoked."""
    result = session.execute(update(ApiToken).where(
        ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()))
    return bool(result.rowcount)


def count_users(session: Session) -> int:
    """How many accounts exist."""
    return int(session.scalar(select(func.count(User.id))) or 0)


def when(moment: datetime | None) -> str:
    """A moment as ``YYYY-MM-DD HH:MM`` UTC, or an em dash."""
    return f"{as_utc(moment):%Y-%m-%d %H:%M}" if moment else "—"
