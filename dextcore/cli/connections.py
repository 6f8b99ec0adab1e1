"""Commands for plugins, users, connections, documents and the vault."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from typing import Any

from dextcore.cli import CliError, Context

LIST_COLUMNS = (
    ("id", "ID"),
    ("supplier_variant", "Supplier"),
    ("connected_as", "Connected as"),
    ("status_label", "Status"),
    ("documents", "Documents"),
    ("last_fetched", "Last fetched"),
    ("created_by", "Created by"),
    ("notify", "Notification sent to"),
)


def register(sub: argparse._SubParsersAction, ctx: Context) -> None:
    def command(name: str, handler: Any, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=lambda args: handler(ctx, args))
        return p

    p = command("plugins", cmd_plugins, "List installed connectors, their variants and plugin distributions.")
    p.add_argument("--json", action="store_true")

    p = command("users", cmd_users, "Add or update a user (role admin may manage accounting).")
    p.add_argument("email")
    p.add_argument("--name", default="")
    p.add_argument("--role", choices=("member", "admin"), default="member")

    p = command("connect", cmd_connect, "Create a supplier connection (secrets are prompted for, or read with --secrets-stdin).")
    _connection_target_args(p)
    p.add_argument("--username", required=True)
    _field_args(p)
    p.add_argument("--json", action="store_true")

    p = command("invite", cmd_invite, "Ask the client to connect: create a connection and a one-time invitation token.")
    _connection_target_args(p)
    p.add_argument("--email", help="the client's e-mail address")
    p.add_argument("--days", type=int, default=7, help="days the invitation stays valid (default 7)")
    p.add_argument("--json", action="store_true")

    p = command("accept", cmd_accept, "Enter the credentials for an invitation (the client's side).")
    p.add_argument("token")
    p.add_argument("--username", required=True)
    _field_args(p)
    p.add_argument("--json", action="store_true")

    p = command("list", cmd_list, "The Invoice Fetch table: every connection with its status.")
    p.add_argument("--needing-attention", action="store_true", help="only connections a person must act on")
    p.add_argument("--json", action="store_true")

    p = command("show", cmd_show, "One connection with its status history and recent runs.")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")

    p = command("edit", cmd_edit, "Edit a connection's credentials, timezone, history date or fields.")
    p.add_argument("id", type=int)
    p.add_argument("--username")
    p.add_argument("--password", action="store_true", help="ask for a new password (or read it with --secrets-stdin)")
    p.add_argument("--timezone")
    p.add_argument("--history-from", help="YYYY-MM-DD, or 'all'")
    p.add_argument("--field", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--secret", action="append", default=[], metavar="NAME", help="ask for a secret field")
    p.add_argument("--secrets-stdin", action="store_true", help='read {"password": ..., "<field>": ...} as JSON from stdin')
    p.add_argument("--json", action="store_true")

    p = command("notify", cmd_notify, "Change who is alerted when a connection's status changes.")
    p.add_argument("id", type=int)
    p.add_argument("user")

    p = command("schedule", cmd_schedule, "Change how often a connection is checked and when unattended runs may start.")
    p.add_argument("id", type=int)
    p.add_argument("--every", metavar="DURATION", help="interval between checks: 7d (default), 3d, 12h ...")
    p.add_argument("--window", metavar="DAYS HOURS",
                   help="when unattended runs may start, in the connection's timezone: 'mon-fri 08-18'; 'none' removes it")
    p.add_argument("--json", action="store_true")

    p = command("delete", cmd_delete, "Delete a connection (its documents stay).")
    p.add_argument("id", type=int)

    p = command("documents", cmd_documents, "List collected documents.")
    p.add_argument("--connection", type=int)
    p.add_argument("--json", action="store_true")

    vault = sub.add_parser("vault", help="Manage the vault that encrypts secrets.")
    vsub = vault.add_subparsers(dest="vault_command", metavar="COMMAND", required=True)
    p = vsub.add_parser("rotate", help="Re-encrypt every secret under a new key.")
    p.add_argument("--new-key-stdin", action="store_true", help="read the new key from stdin (when the key comes from DEXTCORE_SECRET_KEY)")
    p.set_defaults(handler=lambda args: cmd_vault_rotate(ctx, args))
    p = vsub.add_parser("generate-key", help="Print a new random key for DEXTCORE_SECRET_KEY.")
    p.set_defaults(handler=lambda args: cmd_vault_generate_key(ctx, args))


def _connection_target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("connector", help="connector name (see `dextcore plugins`)")
    p.add_argument("--variant", help="region or account type (default: the connector's default)")
    p.add_argument("--direction", choices=("cost", "sales"), default="cost")
    p.add_argument("--owner", required=True, help="user the documents belong to")
    p.add_argument("--created-by", required=True)
    p.add_argument("--notify", help="user alerted on status changes (default: the creator)")
    p.add_argument("--timezone", default="UTC")
    p.add_argument("--history-from", help="collect documents from this date (YYYY-MM-DD); 'all' or omitted: all history")
    p.add_argument("--base-url", help=argparse.SUPPRESS)  # sandbox and tests: another address of the portal


def _field_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--field", action="append", default=[], metavar="NAME=VALUE", help="a non-secret plugin field")
    p.add_argument("--secret", action="append", default=[], metavar="NAME", help="ask for a secret plugin field (e.g. totp_secret)")
    p.add_argument(
        "--secrets-stdin",
        action="store_true",
        help='read {"password": ..., "totp_secret": ...} as JSON from stdin instead of prompting',
    )


def _history(value: str | None) -> dt.date | None:
    if value in (None, "", "all"):
        return None
    try:
        return dt.date.fromisoformat(value)  # type: ignore[arg-type]
    except ValueError:
        raise CliError(f"--history-from must be YYYY-MM-DD or 'all', not {value!r}") from None


def _fields(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CliError(f"--field takes NAME=VALUE, not {pair!r}")
        out[name] = value
    return out


def _read_secrets(args: argparse.Namespace, *, password: bool) -> dict[str, str]:
    """Secrets never come from the command line (visible to every process)."""
    if args.secrets_stdin:
        try:
            data = json.loads(sys.stdin.read() or "{}")
        except json.JSONDecodeError:
            raise CliError("--secrets-stdin expects a JSON object on stdin") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise CliError("--secrets-stdin expects a JSON object of strings")
        if password and "password" not in data:
            raise CliError('the JSON on stdin has no "password"')
        return data
    if not sys.stdin.isatty():
        if password or args.secret:
            raise CliError("no terminal to ask for secrets: use --secrets-stdin")
        return {}
    out: dict[str, str] = {}
    if password:
        out["password"] = getpass.getpass("Password: ")
    for name in args.secret:
        out[name] = getpass.getpass(f"{name}: ")
    return out


def _supplier_variant(row: dict[str, Any]) -> str:
    return f"{row['supplier']} ({row['variant_label']})" if row.get("variant_label") else row["supplier"]


def _print_warnings(ctx: Context, warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


# -- handlers ----------------------------------------------------------------------


def cmd_plugins(ctx: Context, args: argparse.Namespace) -> int:
    from dextcore.plugins import PluginHost

    host = PluginHost()
    connectors = [
        {
            "name": c.name,
            "label": c.label,
            "kind": c.kind.value,
            "distribution": host.distribution_of(c.name),
            "variants": [{"name": v.name, "label": v.label, "base_url": v.base_url, "default": v.default} for v in c.variants],
            "fields": [{"name": f.name, "label": f.label, "type": f.type.value, "secret": f.secret, "required": f.required} for f in c.fields],
            "two_factor": [m.value for m in c.two_factor],
            "uses_browser": c.uses_browser,
        }
        for c in sorted(host.connectors.values(), key=lambda c: c.name)
    ]
    failures = [{"name": f.name, "distribution": f.distribution, "error": f.error} for f in host.failures]
    if args.json:
        ctx.json({"connectors": connectors, "failures": failures})
    else:
        rows = [
            {
                "name": c["name"],
                "label": c["label"],
                "kind": c["kind"],
                "variants": ", ".join(v["name"] + ("*" if v["default"] else "") for v in c["variants"]) or "-",
                "distribution": c["distribution"],
            }
            for c in connectors
        ]
        ctx.table(rows, [("name", "Connector"), ("label", "Label"), ("kind", "Kind"), ("variants", "Variants (*default)"), ("distribution", "From")], empty="No connectors installed.")
        for f in failures:
            ctx.print(f"FAILED TO LOAD: {f['name']} ({f['distribution']}): {f['error']}")
    return 1 if failures and not connectors else 0


def cmd_users(ctx: Context, args: argparse.Namespace) -> int:
    ctx.app().add_user(args.email, name=args.name, role=args.role)
    ctx.print(f"{args.email}: {args.role}")
    return 0


def cmd_connect(ctx: Context, args: argparse.Namespace) -> int:
    app = ctx.app()
    app.host.connector(args.connector)  # a clear error before prompting
    secrets = _read_secrets(args, password=True)
    created = app.connections.create(
        connector=args.connector,
        variant=args.variant,
        direction=args.direction,
        owner=args.owner,
        created_by=args.created_by,
        notify=args.notify,
        username=args.username,
        password=secrets.pop("password"),
        timezone=args.timezone,
        history_from=_history(args.history_from),
        fields={**_fields(args.field), **secrets},
        base_url=args.base_url,
    )
    _print_warnings(ctx, created.warnings)
    row = app.row(created.connection)
    if args.json:
        ctx.json({**row, "warnings": list(created.warnings)})
    else:
        ctx.print(f"Connection {row['id']} created: {_supplier_variant(row)} as {row['connected_as']}; first fetch scheduled now.")
    return 0


def cmd_invite(ctx: Context, args: argparse.Namespace) -> int:
    app = ctx.app()
    invitation = app.connections.invite(
        connector=args.connector,
        variant=args.variant,
        direction=args.direction,
        owner=args.owner,
        created_by=args.created_by,
        notify=args.notify,
        email=args.email,
        timezone=args.timezone,
        history_from=_history(args.history_from),
        lifetime=dt.timedelta(days=args.days),
        base_url=args.base_url,
    )
    if args.json:
        ctx.json({"id": invitation.connection.id, "token": invitation.token, "expires_at": invitation.expires_at.isoformat()})
    else:
        ctx.print(f"Connection {invitation.connection.id} waits for the client.")
        ctx.print(f"Invitation token (give it to the client once): {invitation.token}")
        ctx.print(f"Expires: {invitation.expires_at:%Y-%m-%d %H:%M} UTC")
    return 0


def cmd_accept(ctx: Context, args: argparse.Namespace) -> int:
    app = ctx.app()
    secrets = _read_secrets(args, password=True)
    created = app.connections.accept(
        args.token, username=args.username, password=secrets.pop("password"), fields={**_fields(args.field), **secrets}
    )
    _print_warnings(ctx, created.warnings)
    if args.json:
        ctx.json({**app.row(created.connection), "warnings": list(created.warnings)})
    else:
        ctx.print(f"Connection {created.connection.id} is connected; the first fetch is scheduled now.")
    return 0


def cmd_list(ctx: Context, args: argparse.Namespace) -> int:
    app = ctx.app()
    rows = app.table(needing_attention=args.needing_attention)
    if args.json:
        keys = ("id", "supplier", "variant", "connected_as", "status", "status_label", "needs_attention",
                "documents", "last_fetched", "created_by", "notify")
        ctx.json([{k: r[k] for k in keys} for r in rows])
        return 0
    print_fetch_table(ctx, rows, empty="No connections needing attention." if args.needing_attention
                      else "No connections yet: add one with `dextcore connect`.")
    return 0


def print_fetch_table(ctx: Context, rows: list[dict[str, Any]], *, empty: str = "(none)") -> None:
    """The Invoice Fetch table of :meth:`dextcore.api.Dextcore.table` rows;
    a status that needs a person is marked with ``!``."""
    for r in rows:
        r["supplier_variant"] = _supplier_variant(r)
        if r["needs_attention"]:
            r["status_label"] = f"! {r['status_label']}"
    ctx.table(rows, LIST_COLUMNS, empty=empty)


def cmd_show(ctx: Context, args: argparse.Namespace) -> int:
    app = ctx.app()
    connection = app.connections.get(args.id)
    row = app.row(connection)
    history = [
        {"at": h.at.isoformat(timespec="seconds"), "from": h.old.label if h.old else None, "to": h.new.label, "reason": h.reason}
        for h in app.connections.history(args.id)
    ]
    runs = _runs(app, args.id)
    hint = connection.status.hint
    if args.json:
        ctx.json({**row, "hint": hint, "timezone": connection.timezone,
                  "history_from": connection.history_from.isoformat() if connection.history_from else None,
                  "fields": dict(connection.fields), "history": history, "runs": runs})
        return 0
    ctx.print(f"Connection {row['id']}: {_supplier_variant(row)}")
    for label, key in (("Connected as", "connected_as"), ("Direction", "direction"), ("Status", "status_label"),
                       ("Reason", "status_reason"), ("Documents", "documents"), ("Last fetched", "last_fetched"),
                       ("Next run", "next_run"), ("Document owner", "owner"), ("Created by", "created_by"),
                       ("Notification sent to", "notify")):
        ctx.print(f"  {label + ':':<22}{row[key] if row[key] not in (None, '') else '-'}")
    ctx.print(f"  {'History from:':<22}{connection.history_from or 'all history'}")
    if hint and connection.status.needs_attention:
        ctx.print(f"  What to do: {hint}")
    ctx.print()
    ctx.print("Status history")
    ctx.table(history, [("at", "When"), ("from", "From"), ("to", "To"), ("reason", "Why")])
    if runs:
        ctx.print()
        ctx.print("Runs")
        ctx.table(runs, [("started_at", "Started"), ("finished_at", "Finished"), ("trigger", "Trigger"), ("outcome", "Outcome"),
                         ("documents_new", "New"), ("documents_seen", "Seen"), ("requests", "Requests"), ("bytes", "Bytes")])
    return 0


def _runs(app: Any, connection_id: int) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    from dextcore.store import schema

    t = schema.runs
    with app.store.connect() as conn:
        rows = conn.execute(
            sa.select(t).where(t.c.connection_id == connection_id).order_by(t.c.started_at.desc(), t.c.id.desc()).limit(10)
        ).fetchall()
    return [
        {
            "started_at": r.started_at.isoformat(timespec="seconds") if r.started_at else None,
            "finished_at": r.finished_at.isoformat(timespec="seconds") if r.finished_at else None,
            "trigger": r.trigger,
            "full": r.full,
            "outcome": r.outcome,
            "message": r.message,
            "documents_new": r.documents_new,
            "documents_seen": r.documents_seen,
            "requests": r.requests,
            "bytes": r.bytes,
            "saved_page": r.saved_page,
        }
        for r in rows
    ]


def cmd_edit(ctx: Context, args: argparse.Namespace) -> int:
    app = ctx.app()
    app.connections.get(args.id)
    secrets = _read_secrets(args, password=args.password) if (args.password or args.secret or args.secrets_stdin) else {}
    kwargs: dict[str, Any] = {}
    if args.history_from is not None:
        kwargs["history_from"] = _history(args.history_from)
    created = app.connections.edit(
        args.id,
        username=args.username,
        password=secrets.pop("password", None),
        timezone=args.timezone,
        fields={**_fields(args.field), **secrets} or None,
        **kwargs,
    )
    _print_warnings(ctx, created.warnings)
    if args.json:
        ctx.json({**app.row(created.connection), "warnings": list(created.warnings)})
    else:
        ctx.print(f"Connection {args.id} updated.")
    return 0


def cmd_notify(ctx: Context, args: argparse.Namespace) -> int:
    connection = ctx.app().connections.set_notify(args.id, args.user)
    ctx.print(f"Alerts for connection {connection.id} now go to {connection.notify}.")
    return 0


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _duration(text: str) -> dt.timedelta:
    units = {"d": "days", "h": "hours"}
    number, unit = text[:-1], text[-1:].lower()
    if unit not in units or not number.isdigit():
        raise CliError(f"--every takes a number of days or hours such as 7d or 12h, not {text!r}")
    return dt.timedelta(**{units[unit]: int(number)})


def _parse_window(text: str) -> dict[str, Any] | None:
    if text.strip().lower() == "none":
        return None
    try:
        days_part, hours_part = text.lower().split()
        weekdays: set[int] = set()
        for chunk in days_part.split(","):
            first, _, last = chunk.partition("-")
            a, b = _DAYS.index(first), _DAYS.index(last or first)
            weekdays.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        start, end = (int(h) for h in hours_part.split("-"))
    except ValueError:
        raise CliError(f"--window takes days and hours such as 'mon-fri 08-18', not {text!r}") from None
    return {"weekdays": sorted(weekdays), "hours": [start, end]}


def cmd_schedule(ctx: Context, args: argparse.Namespace) -> int:
    app = ctx.app()
    kwargs: dict[str, Any] = {}
    if args.every:
        kwargs["interval"] = _duration(args.every)
    if args.window is not None:
        kwargs["window"] = _parse_window(args.window)
    connection = app.connections.set_schedule(args.id, **kwargs)
    summary = {
        "id": connection.id,
        "interval_seconds": connection.interval_seconds,
        "window": connection.window,
        "next_run": connection.next_run_at.isoformat(timespec="seconds") if connection.next_run_at else None,
    }
    if args.json:
        ctx.json(summary)
        return 0
    window = connection.window
    when = (f"{', '.join(_DAYS[d] for d in window['weekdays'])} {window['hours'][0]:02d}-{window['hours'][1]:02d} "
            f"({connection.timezone})") if window else "any time"
    ctx.print(f"Connection {connection.id}: checked every {dt.timedelta(seconds=connection.interval_seconds)}, "
              f"unattended runs {when}; next run {summary['next_run'] or 'not scheduled'}.")
    return 0


def cmd_delete(ctx: Context, args: argparse.Namespace) -> int:
    app = ctx.app()
    count = app.connections.get(args.id).documents_count
    app.connections.delete(args.id)
    ctx.print(f"Connection {args.id} deleted; its {count} document(s) stay in the inbox.")
    return 0


def cmd_documents(ctx: Context, args: argparse.Namespace) -> int:
    app = ctx.app()
    docs = app.inbox.list(connection_id=args.connection)
    rows = [
        {
            "id": d.id,
            "connection_id": d.connection_id,
            "connector": d.connector,
            "supplier": d.supplier,
            "kind": d.kind.value,
            "number": d.number,
            "date": d.date.isoformat() if d.date else None,
            "total": str(d.total) if d.total is not None else None,
            "currency": d.currency,
            "tax": str(d.tax) if d.tax is not None else None,
            "sha256": d.sha256,
            "size": d.size,
            "path": str(d.path),
            "fetched_at": d.fetched_at.isoformat(timespec="seconds"),
        }
        for d in docs
    ]
    if args.json:
        ctx.json(rows)
    else:
        ctx.table(rows, [("id", "ID"), ("connection_id", "Conn"), ("supplier", "Supplier"), ("kind", "Kind"), ("number", "Number"),
                         ("date", "Date"), ("total", "Total"), ("currency", "Cur"), ("path", "File")], empty="No documents yet.")
    return 0


def cmd_vault_rotate(ctx: Context, args: argparse.Namespace) -> int:
    from dextcore.vault import generate_key

    app = ctx.app()
    new_key = sys.stdin.readline().strip() if args.new_key_stdin else None
    generated = False
    if app.config.secret_key and not new_key:
        # The key lives in the environment, which we cannot change: make one
        # and show it once so the operator can update the environment.
        new_key, generated = generate_key(), True
    count = app.vault.rotate(new_key)
    ctx.print(f"Re-encrypted {count} secret(s) under the new key (id {app.vault.key_id}).")
    if generated:
        ctx.print("Set DEXTCORE_SECRET_KEY to this new key before the next run; it is shown only now:")
        ctx.print(new_key)
    return 0


def cmd_vault_generate_key(ctx: Context, args: argparse.Namespace) -> int:
    from dextcore.vault import generate_key

    ctx.print(generate_key())
    return 0
