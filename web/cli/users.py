"""``catalog users add|list|remove|set-role|disable|enable|password|token|revoke``: accounts
and API tokens."""

from __future__ import annotations

import json
import sys

import click

from web.cli.context import CliState, pass_state
from web.cli.output import echo_json, json_option, table

ROLES = ("viewer", "steward", "intake", "admin")  # catalog.vocabulary.Role, for a fast --help


def _read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    line = sys.stdin.readline()
    return line.rstrip("\r\n") or None


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group("users")
def users() -> None:
    """Manage accounts: who may sign in, with which role and agencies."""


@users.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the person may do.")
@click.option("--agency", "agencies", multiple=True, metavar="SLUG",
              help="An agency a steward stewards; repeatable.")
@click.option("--data-officer", "officer_of", multiple=True, metavar="SLUG",
              help="Also the Agency Data Officer of this stewarded agency; repeatable.")
@click.option("--name", help="The person's name, as pages show it.")
@click.option("--password-stdin", is_flag=True,
              help="Read a first password from the first line of standard input "
                   "(without one, the account signs in only through single sign-on).")
@json_option
@pass_state
def add(state: CliState, email: str, role: str, agencies: tuple[str, ...],
        officer_of: tuple[str, ...], name: str | None, password_stdin: bool,
        as_json: bool) -> None:
    """Add an account for EMAIL."""
    from catalog import accounts

    password = _read_password(password_stdin)
    try:
        with state.catalog.transaction() as session:
            user = accounts.create_user(session, email, role, agencies=agencies,
                                        data_officer_of=officer_of, password=password,
                                        name=name)
            shown = user.email
    except accounts.AccountError as exc:
        raise _fail(exc) from None
    if as_json:
        echo_json({"added": shown, "role": role, "agencies": list(agencies),
                   "data_officer_of": list(officer_of)})
        return
    click.echo(f"added {shown} ({role}{': ' + ', '.join(agencies) if agencies else ''})",
               err=True)


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_(state: CliState, as_json: bool) -> None:
    """List the accounts with their roles and agencies."""
    from catalog import accounts

    with state.catalog.session() as session:
        rows = [{
            "email": u.email, "name": u.name, "role": u.role, "active": u.active,
            "agencies": list(accounts.agency_slugs(u)),
            "data_officer_of": sorted(s.agency.slug for s in u.stewardships if s.data_officer),
            "password": u.password_hash is not None, "sso": u.sso_subject is not None,
            "created_at": u.created_at.isoformat() if u.created_at else None,
            "last_sign_in_at": u.last_sign_in_at.isoformat() if u.last_sign_in_at else None,
        } for u in accounts.list_users(session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no accounts yet; add one with `catalog users add EMAIL --role admin "
                   "--password-stdin`")
        return
    click.echo(table([[r["email"], r["name"] or "—", r["role"], " ".join(r["agencies"]) or "—",
                       "yes" if r["password"] else "no",
                       "active" if r["active"] else "disabled",
                       (r["last_sign_in_at"] or "—")[:19].replace("T", " ")]
                      for r in rows],
                     ["email", "name", "role", "agencies", "password", "status",
                      "last sign-in"]))


@users.command("remove")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def remove(state: CliState, email: str, yes: bool) -> None:
    """Remove the account of EMAIL (its sessions and tokens end; the history keeps its name)."""
    from catalog import accounts

    with state.catalog.transaction() as session:
        user = accounts.get_user(session, email)
        if user is None:
            raise click.ClickException(f"no account for {email} (see `catalog users list`)")
        if not yes:
            click.confirm(f"Remove the account of {user.email}?", abort=True)
        try:
            accounts.remove_user(session, user)
        except accounts.AccountError as exc:
            raise _fail(exc) from None
    click.echo(f"removed {email.strip().lower()}", err=True)


@users.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--agency", "agencies", multiple=True, metavar="SLUG",
              help="An agency a steward stewards; repeatable (replaces the old ones).")
@click.option("--data-officer", "officer_of", multiple=True, metavar="SLUG",
              help="Also the Agency Data Officer of this stewarded agency; repeatable.")
@json_option
@pass_state
def set_role(state: CliState, email: str, role: str, agencies: tuple[str, ...],
             officer_of: tuple[str, ...], as_json: bool) -> None:
    """Give EMAIL another role (and agencies); their sessions end so that it holds at once."""
    from catalog import accounts

    try:
        with state.catalog.transaction() as session:
            user = accounts.get_user(session, email)
            if user is None:
                raise click.ClickException(f"no account for {email} (see `catalog users list`)")
            accounts.set_role(session, user, role, agencies=agencies, data_officer_of=officer_of)
    except accounts.AccountError as exc:
        raise _fail(exc) from None
    if as_json:
        echo_json({"email": email.strip().lower(), "role": role, "agencies": list(agencies)})
        return
    click.echo(f"{email.strip().lower()} is now {role}", err=True)


def _set_active(state: CliState, email: str, active: bool, as_json: bool) -> None:
    from catalog import accounts

    try:
        with state.catalog.transaction() as session:
            user = accounts.get_user(session, email)
            if user is None:
                raise click.ClickException(f"no account for {email} (see `catalog users list`)")
            changed = accounts.set_active(session, user, active)
            shown = user.email
    except accounts.AccountError as exc:
        raise _fail(exc) from None
    if as_json:
        echo_json({"email": shown, "active": active, "changed": changed})
        return
    state_word = "enabled" if active else "disabled"
    if not changed:
        click.echo(f"{shown} was {state_word} already", err=True)
    elif active:
        click.echo(f"enabled {shown}: they can sign in again", err=True)
    else:
        click.echo(f"disabled {shown}: their sessions ended and their API tokens no longer "
                   "work (`catalog users enable` restores them)", err=True)


@users.command("disable")
@click.argument("email")
@json_option
@pass_state
def disable(state: CliState, email: str, as_json: bool) -> None:
    """Disable the account of EMAIL: it can no longer sign in, its sessions end and its API
    tokens stop working (kept, so that `enable` restores them). Its requests and history stay."""
    _set_active(state, email, False, as_json)


@users.command("enable")
@click.argument("email")
@json_option
@pass_state
def enable(state: CliState, email: str, as_json: bool) -> None:
    """Enable a disabled account of EMAIL again."""
    _set_active(state, email, True, as_json)


@users.command("password")
@click.argument("email")
@pass_state
def password(state: CliState, email: str) -> None:
    """Set a new password for EMAIL, read from standard input (their sessions end)."""
    from catalog import accounts

    new = _read_password(True)
    if new is None:
        raise click.UsageError("give the new password on standard input")
    try:
        with state.catalog.transaction() as session:
            user = accounts.get_user(session, email)
            if user is None:
                raise click.ClickException(f"no account for {email} (see `catalog users list`)")
            accounts.set_password(session, user, new)
    except accounts.AccountError as exc:
        raise _fail(exc) from None
    click.echo(f"new password set for {email.strip().lower()}", err=True)


@users.command("token")
@click.argument("email")
@click.option("--label", help="What the token is for.")
@json_option
@pass_state
def token(state: CliState, email: str, label: str | None, as_json: bool) -> None:
    """Print a new API token for EMAIL, alone on standard output (it is shown only once)."""
    from catalog import accounts

    with state.catalog.transaction() as session:
        user = accounts.get_user(session, email)
        if user is None:
            raise click.ClickException(f"no account for {email} (see `catalog users list`)")
        secret, record = accounts.issue_token(session, user, label or "cli")
        prefix = record.prefix
    if as_json:
        echo_json({"email": email.strip().lower(), "token": secret, "prefix": prefix,
                   "label": label or "cli"})
        return
    click.echo(secret)


@users.command("revoke")
@click.argument("email")
@click.option("--all", "everything", is_flag=True, help="Revoke every token of EMAIL.")
@click.option("--prefix", help="Revoke the token that starts so (see the account page).")
@json_option
@pass_state
def revoke(state: CliState, email: str, everything: bool, prefix: str | None,
           as_json: bool) -> None:
    """Revoke API tokens of EMAIL."""
    from catalog import accounts

    if not everything and not prefix:
        raise click.UsageError("give --all or --prefix PREFIX")
    with state.catalog.transaction() as session:
        user = accounts.get_user(session, email)
        if user is None:
            raise click.ClickException(f"no account for {email} (see `catalog users list`)")
        count = 0
        for record in accounts.tokens_of(session, user):
            if record.revoked_at is None and (everything or record.prefix.startswith(
                    prefix or "") or (prefix or "").startswith(record.prefix)):
                count += accounts.revoke_token(session, user, record.id)
    if as_json:
        echo_json({"email": email.strip().lower(), "revoked": count})
        return
    click.echo(f"revoked {count} token(s) of {email.strip().lower()}", err=True)
