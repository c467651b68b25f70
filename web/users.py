"""Administrators manage accounts: add people, set roles and agencies, reset passwords."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog import accounts
from catalog.models import Agency, User
from web.auth import admin_required, current_account
from web.current import catalog

bp = Blueprint("users", __name__)


def _slugs(name: str) -> tuple[str, ...]:
    values = request.form.getlist(name)
    out = [v.strip() for value in values for v in value.replace(",", " ").split() if v.strip()]
    return tuple(dict.fromkeys(out))


@bp.get("/admin/users")
@admin_required
def index() -> ResponseReturnValue:
    """Every account with its role and agencies, and the form to add one."""
    with catalog().session() as session:
        users = accounts.list_users(session)
        agencies = list(session.scalars(
            select(Agency).order_by(func.lower(Agency.name), Agency.name)))
        rows = [(u, [(s.agency, s.data_officer) for s in u.stewardships]) for u in users]
        return render_template("users.html", rows=rows, agencies=agencies,
                               roles=accounts.ROLES, when=accounts.when)


def _done(message: str) -> ResponseReturnValue:
    flash(message, "info")
    return redirect(url_for("users.index"))


def _refused(exc: Exception) -> ResponseReturnValue:
    flash(f"Not done: {exc}", "error")
    return redirect(url_for("users.index"))


@bp.post("/admin/users")
@admin_required
def add() -> ResponseReturnValue:
    """Add an account (with a first password, or none for single sign-on only)."""
    password = request.form.get("password") or None
    try:
        with catalog().transaction() as session:
            user = accounts.create_user(
                session, request.form.get("email", ""), request.form.get("role", ""),
                agencies=_slugs("agencies"), data_officer_of=_slugs("officer_of"),
                password=password, name=request.form.get("name"))
            email = user.email
    except accounts.AccountError as exc:
        return _refused(exc)
    return _done(f"Added {email}.")


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/admin/users/<int:user_id>/role")
@admin_required
def set_role(user_id: int) -> ResponseReturnValue:
    """Change an account's role and agencies (their sessions end)."""
    try:
        with catalog().transaction() as session:
            user = _user(session, user_id)
            accounts.set_role(session, user, request.form.get("role", ""),
                              agencies=_slugs("agencies"), data_officer_of=_slugs("officer_of"))
            email = user.email
    except accounts.AccountError as exc:
        return _refused(exc)
    return _done(f"{email} is now {request.form.get('role')}.")


@bp.post("/admin/users/<int:user_id>/password")
@admin_required
def reset_password(user_id: int) -> ResponseReturnValue:
    """Set a new password for an account (every session of theirs ends)."""
    try:
        with catalog().transaction() as session:
            user = _user(session, user_id)
            accounts.set_password(session, user, request.form.get("password", ""))
            email = user.email
    except accounts.AccountError as exc:
        return _refused(exc)
    return _done(f"New password set for {email}; tell them through another channel.")


@bp.post("/admin/users/<int:user_id>/active")
@admin_required
def set_active(user_id: int) -> ResponseReturnValue:
    """Disable an account (its sessions end, its tokens stop working) or enable it again;
    not one's own."""
    active = request.form.get("active") == "1"
    me = current_account()
    if not active and me is not None and me.user_id == user_id:
        return _refused(ValueError("you cannot disable your own account"))
    try:
        with catalog().transaction() as session:
            user = _user(session, user_id)
            changed = accounts.set_active(session, user, active)
            email = user.email
    except accounts.AccountError as exc:
        return _refused(exc)
    if not changed:
        return _done(f"{email} was {'enabled' if active else 'disabled'} already.")
    if active:
        return _done(f"Enabled {email}: they can sign in again.")
    return _done(f"Disabled {email}: their sessions ended and their API tokens no longer "
                 "work; enable the account to restore them.")


@bp.post("/admin/users/<int:user_id>/remove")
@admin_required
def remove(user_id: int) -> ResponseReturnValue:
    """Remove an account (not one's own)."""
    me = current_account()
    if me is not None and me.user_id == user_id:
        return _refused(ValueError("you cannot remove your own account"))
    try:
        with catalog().transaction() as session:
            user = _user(session, user_id)
            email = user.email
            accounts.remove_user(session, user)
    except accounts.AccountError as exc:
        return _refused(exc)
    return _done(f"Removed {email}.")
