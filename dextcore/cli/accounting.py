"""``dextcore accounting``, ``items``, ``rules`` and ``publish``.

Managing the accounting connection (connect, reconnect, refresh, change,
merge) is for administrators: the acting user is ``--as EMAIL`` (default
``$DEXTCORE_USER``). Secrets never come from the command line: they are
asked for, or read as JSON with ``--secrets-stdin``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

from dextcore.cli import CliError, Context

__all__ = ["register"]

_ITEM_FIELDS = (
    ("supplier", "supplier", "supplier name as on the document"),
    ("number", "invoice_number", "invoice number"),
    ("date", "invoice_date", "invoice date YYYY-MM-DD"),
    ("due_date", "due_date", "due date YYYY-MM-DD"),
    ("total", "total", "total including tax"),
    ("tax", "tax", "tax amount"),
    ("tax_rate", "tax_rate", "tax rate as a fraction (0.2)"),
    ("currency", "currency", "ISO currency"),
    ("description", "description", "bill line description"),
)
_REFS = (
    ("vendor", "vendor", "supplier list entry (#id, remote id or name)"),
    ("category", "category", "chart-of-accounts entry (#id, number or name)"),
    ("tax_account", "tax_account", "account the tax line goes to"),
    ("class", "accounting_class", "class"),
    ("location", "location", "location"),
    ("payment_terms", "payment_terms", "payment terms (sets the due date)"),
)


def register(sub: argparse._SubParsersAction, ctx: Context) -> None:
    acc = sub.add_parser("accounting", help="Connect accounting software (Bill.com): admins only.")
    asub = acc.add_subparsers(dest="accounting_command", metavar="ACTION", required=True)

    p = asub.add_parser("connect", help="Connect accounting software, sync its lists.")
    _connect_args(p)
    p.set_defaults(handler=lambda a: cmd_connect(ctx, a, change=False))
    p = asub.add_parser("change", help="Switch to another accounting connection (then run `merge`).")
    _connect_args(p)
    p.set_defaults(handler=lambda a: cmd_connect(ctx, a, change=True))

    p = asub.add_parser("reconnect", help="Log in again (same or new credentials); publishes queued items.")
    _actor(p)
    p.add_argument("--id", type=int, help="connection id (default: the current one)")
    p.add_argument("--username")
    p.add_argument("--password", action="store_true", help="ask for a new password")
    p.add_argument("--field", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--secret", action="append", default=[], metavar="NAME", help="ask for a new secret field")
    p.add_argument("--secrets-stdin", action="store_true", help='read {"password": ..., "dev_key": ...} from stdin')
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=lambda a: cmd_reconnect(ctx, a))

    p = asub.add_parser("refresh", help="Re-pull every list; nothing stored is lost.")
    _actor(p)
    p.add_argument("--id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=lambda a: cmd_refresh(ctx, a))

    p = asub.add_parser("status", help="The connection, its expiry, lists and items.")
    p.add_argument("--id", type=int)
    p.add_argument("--lists", nargs="?", const="all", metavar="KIND", help="print list entries (a kind, or all)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=lambda a: cmd_status(ctx, a))

    p = asub.add_parser("merge", help="Map old list entries to the new connection's (shows proposals; --apply).")
    _actor(p)
    p.add_argument("--apply", action="store_true", help="apply: accept proposals unless overridden or skipped")
    p.add_argument("--map", action="append", default=[], metavar="OLD=NEW", help="use entry NEW for old entry OLD")
    p.add_argument("--skip", action="append", default=[], type=int, metavar="OLD", help="drop references to OLD")
    p.add_argument("--default", choices=("accept", "skip"), default="accept")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=lambda a: cmd_merge(ctx, a))

    items = sub.add_parser("items", help="Collected documents as accounting items.")
    isub = items.add_subparsers(dest="items_command", metavar="ACTION", required=True)
    p = isub.add_parser("list", help="Every item and what it still needs.")
    p.add_argument("--state", choices=("ready", "needs details", "queued", "failed", "published"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=lambda a: cmd_items_list(ctx, a))
    p = isub.add_parser("show", help="One item's details.")
    p.add_argument("item", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=lambda a: cmd_items_show(ctx, a))
    p = isub.add_parser("edit", help="Set an item's details (kept when rules change).")
    p.add_argument("item", type=int)
    for flag, _, text in _ITEM_FIELDS + _REFS:
        p.add_argument("--" + flag.replace("_", "-"), dest=flag, help=text)
    p.add_argument("--reset", action="append", default=[], metavar="FIELD", help="hand a field back to rules")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=lambda a: cmd_items_edit(ctx, a))

    rules = sub.add_parser("rules", help="Supplier rules: defaults for every item of a supplier.")
    rsub = rules.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    p = rsub.add_parser("list")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=lambda a: cmd_rules_list(ctx, a))
    p = rsub.add_parser("set", help="Create or change a supplier's rule (re-applied to its items).")
    p.add_argument("supplier")
    for flag, _, text in _REFS:
        p.add_argument("--" + flag.replace("_", "-"), dest=flag, help=text + ' ("" clears)')
    p.add_argument("--tax-rate", help="fraction: 0.2 for 20 percent")
    p.add_argument("--due-days", help="due date = invoice date + days")
    p.add_argument("--description")
    p.add_argument("--auto-publish", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=lambda a: cmd_rules_set(ctx, a))
    p = rsub.add_parser("delete")
    p.add_argument("supplier")
    p.set_defaults(handler=lambda a: cmd_rules_delete(ctx, a))

    p = sub.add_parser("publish", help="Publish items to the accounting software.")
    p.add_argument("item", nargs="*", type=int)
    p.add_argument("--all-ready", action="store_true", help="every ready, queued or failed item")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=lambda a: cmd_publish(ctx, a))


# -- argument helpers -----------------------------------------------------------------------


def _actor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as", dest="actor", default=os.environ.get("DEXTCORE_USER"),
                   help="acting user's e-mail (default $DEXTCORE_USER); must be an admin")


def _who(args: argparse.Namespace) -> str:
    if not args.actor:
        raise CliError("say who you are: --as EMAIL (or set DEXTCORE_USER)")
    return args.actor


def _connect_args(p: argparse.ArgumentParser) -> None:
    _actor(p)
    p.add_argument("connector", help="accounting connector, e.g. billcom")
    p.add_argument("--username", required=True)
    p.add_argument("--variant")
    p.add_argument("--field", action="append", default=[], metavar="NAME=VALUE",
                   help="a plugin field, e.g. organization_id=008...")
    p.add_argument("--secrets-stdin", action="store_true",
                   help='read {"password": ..., "dev_key": ...} as JSON from stdin instead of prompting')
    p.add_argument("--lifetime-days", type=int, default=365, help="the connection expires after this (default 365)")
    p.add_argument("--base-url", help=argparse.SUPPRESS)  # sandbox and tests
    p.add_argument("--json", action="store_true")


def _pairs(pairs: list[str], what: str = "--field") -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CliError(f"{what} takes NAME=VALUE, not {pair!r}")
        out[name] = value
    return out


def _secrets(args: argparse.Namespace, names: list[str], *, password: bool) -> dict[str, str]:
    if args.secrets_stdin:
        try:
            data = json.loads(sys.stdin.read() or "{}")
        except json.JSONDecodeError:
            raise CliError("--secrets-stdin expects a JSON object on stdin") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise CliError("--secrets-stdin expects a JSON object of strings")
        return data
    wanted = (["password"] if password else []) + names
    if wanted and not sys.stdin.isatty():
        raise CliError("no terminal to ask for secrets: use --secrets-stdin")
    return {name: getpass.getpass(f"{name.replace('_', ' ').capitalize()}: ") for name in wanted}


def _code_prompt(challenge: Any) -> str:
    if not sys.stdin.isatty():
        raise CliError(f"{challenge.prompt}: run the command in a terminal to type the code")
    return input(f"{challenge.prompt}. Code: ").strip()


def _conn_row(c: Any) -> dict[str, Any]:
    return {"id": c.id, "connector": c.connector, "organisation": c.organisation_name or c.organisation_id,
            "username": c.username, "status": c.status, "reason": c.status_reason, "current": c.current,
            "authorised": c.authorised_at.date().isoformat(), "expires": c.expires_at.date().isoformat(),
            "last_synced": c.last_synced_at.isoformat(timespec="seconds") if c.last_synced_at else None}


_CONN_COLUMNS = [("id", "ID"), ("connector", "Software"), ("organisation", "Organisation"), ("username", "User"),
                 ("status", "Status"), ("current", "Current"), ("expires", "Expires"), ("last_synced", "Synced"),
                 ("reason", "Reason")]


def _outcomes(ctx: Context, outcomes: list[Any], as_json: bool) -> int:
    rows = [{"item": o.item_id, "published": o.published, "bill": o.remote_bill_id, "error": o.error}
            for o in outcomes]
    if as_json:
        ctx.json(rows)
    else:
        ctx.table(rows, [("item", "Item"), ("published", "Published"), ("bill", "Bill"), ("error", "Error")],
                  empty="nothing to publish")
    return 0 if all(o.published for o in outcomes) else 1


# -- handlers ----------------------------------------------------------------------------------


def cmd_connect(ctx: Context, args: argparse.Namespace, *, change: bool) -> int:
    app = ctx.app()
    connector = app.host.connector(args.connector)
    fields = _pairs(args.field)
    secret_names = [f.name for f in connector.fields if f.secret and f.name not in fields]
    secrets = _secrets(args, secret_names, password=True)
    if "password" not in secrets:
        raise CliError('the JSON on stdin has no "password"')
    password = secrets.pop("password")
    kwargs = dict(username=args.username, password=password, fields={**fields, **secrets}, variant=args.variant,
                  base_url=args.base_url, code_provider=_code_prompt, lifetime_days=args.lifetime_days)
    service = app.accounting
    made = service.change(_who(args), args.connector, **kwargs) if change else \
        service.connect(_who(args), args.connector, **kwargs)
    if args.json:
        ctx.json(service.status(made.id))
    else:
        ctx.print(f"Connected {connector.label} (connection {made.id}, organisation "
                  f"{made.organisation_name or made.organisation_id}); lists synced, expires {made.expires_at:%Y-%m-%d}.")
        if change:
            ctx.print("Run `dextcore accounting merge` to move supplier rules onto the new lists.")
    return 0


def cmd_reconnect(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.app().accounting
    fields = _pairs(args.field)
    secrets = _secrets(args, list(args.secret), password=args.password) \
        if (args.password or args.secret or args.secrets_stdin) else {}
    password = secrets.pop("password", None)
    made, outcomes = service.reconnect(_who(args), args.id, username=args.username, password=password,
                                       fields={**fields, **secrets} or None, code_provider=_code_prompt)
    if not args.json:
        ctx.print(f"Reconnected connection {made.id}; expires {made.expires_at:%Y-%m-%d}.")
        if outcomes:
            ctx.print("Queued items:")
    return _outcomes(ctx, outcomes, args.json) if (outcomes or args.json) else 0


def cmd_refresh(ctx: Context, args: argparse.Namespace) -> int:
    summary = ctx.app().accounting.refresh(_who(args), args.id)
    rows = [{"list": k, **v} for k, v in sorted(summary.counts.items())]
    if args.json:
        ctx.json(rows)
    else:
        ctx.table(rows, [("list", "List"), ("total", "Total"), ("active", "Active"), ("added", "New"),
                         ("deactivated", "Now inactive")])
    return 0


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.app().accounting
    status = service.status(args.id)
    entries = []
    if args.lists:
        kind = None if args.lists == "all" else args.lists
        entries = [{"id": e.id, "kind": e.kind.value, "remote_id": e.remote_id, "code": e.code, "name": e.name,
                    "active": e.active} for e in service.lists(kind, args.id)]
    if args.json:
        ctx.json({**status, "entries": entries} if args.lists else status)
        return 0
    ctx.table([_conn_row(c) for c in service.connections()], _CONN_COLUMNS)
    ctx.print()
    ctx.table([{"list": k, **v} for k, v in sorted(status["lists"].items())],
              [("list", "List"), ("active", "Active"), ("inactive", "Inactive")])
    ctx.print()
    ctx.table([{"state": k, "items": v} for k, v in sorted(status["items"].items())],
              [("state", "Items"), ("items", "Count")], empty="no items yet")
    if entries:
        ctx.print()
        ctx.table(entries, [("id", "ID"), ("kind", "List"), ("code", "Code"), ("name", "Name"),
                            ("active", "Active"), ("remote_id", "Remote id")])
    return 0


def cmd_merge(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.app().accounting
    proposals = service.merge_proposals()
    rows = [{"old": p.old.id, "list": p.old.kind.value, "old_name": p.old.label(), "new": p.match.id if p.match else None,
             "new_name": p.match.label() if p.match else None, "by": p.reason, "rules": p.rules, "items": p.items}
            for p in proposals]
    if not args.apply:
        if args.json:
            ctx.json(rows)
        else:
            ctx.table(rows, [("old", "Old"), ("list", "List"), ("old_name", "Old entry"), ("new", "New"),
                             ("new_name", "Proposed"), ("by", "Matched by"), ("rules", "Rules"), ("items", "Items")],
                      empty="nothing to merge: no rule or unpublished item uses an old list entry")
            if rows:
                ctx.print("\nApply with --apply; change a proposal with --map OLD=NEW, drop one with --skip OLD.")
        return 0
    decisions: dict[int, Any] = {int(k): int(v.lstrip("#")) for k, v in _pairs(args.map, "--map").items()}
    decisions.update({old: "skip" for old in args.skip})
    report = service.merge(_who(args), decisions, default=args.default)
    result = {"retargeted": {str(k): v for k, v in report.retargeted.items()}, "cleared": list(report.cleared),
              "rules_changed": report.rules_changed, "items_changed": report.items_changed}
    if args.json:
        ctx.json(result)
    else:
        ctx.print(f"Merged: {len(report.retargeted)} entries mapped, {len(report.cleared)} dropped; "
                  f"{report.rules_changed} rules and {report.items_changed} items now use the new lists.")
    return 0


def _item_row(service: Any, item: Any) -> dict[str, Any]:
    names = {e.id: e.label() for e in _all_entries(service)}
    return {"id": item.id, "supplier": item.supplier, "number": item.invoice_number,
            "date": item.invoice_date.isoformat() if item.invoice_date else None,
            "due": item.due_date.isoformat() if item.due_date else None,
            "total": str(item.total) if item.total is not None else None, "currency": item.currency,
            "tax": str(item.tax) if item.tax is not None else None,
            "category": names.get(item.category_entry_id), "state": item.state, "bill": item.remote_bill_id,
            "missing": "; ".join(item.missing) if item.missing else None, "reason": item.status_reason or None}


def _all_entries(service: Any) -> list[Any]:
    out = []
    for c in service.connections():
        out.extend(service.lists(None, c.id))
    return out


def cmd_items_list(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.app().accounting
    service.collect_items()
    rows = [_item_row(service, i) for i in service.items(state=args.state)]
    if args.json:
        ctx.json(rows)
    else:
        ctx.table(rows, [("id", "ID"), ("supplier", "Supplier"), ("number", "Number"), ("date", "Date"),
                         ("total", "Total"), ("category", "Category"), ("state", "State"), ("missing", "Missing")],
                  empty="no items: collected documents become items")
    return 0


def cmd_items_show(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.app().accounting
    item = service.item(args.item)
    names = {e.id: e.label() for e in _all_entries(service)}
    data = _item_row(service, item)
    for column in ("vendor_entry_id", "tax_account_entry_id", "class_entry_id", "location_entry_id",
                   "payment_term_entry_id"):
        data[column.replace("_entry_id", "")] = names.get(getattr(item, column))
    data.update({"description": item.description, "tax_rate": str(item.tax_rate) if item.tax_rate is not None
                 else None, "edited": list(item.edited), "document": item.document_id, "lines": item.lines})
    if args.json:
        ctx.json(data)
    else:
        width = max(len(k) for k in data)
        for key, value in data.items():
            ctx.print(f"{key.ljust(width)}  {'-' if value in (None, '', []) else value}")
    return 0


def cmd_items_edit(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.app().accounting
    changes: dict[str, Any] = {}
    for flag, name, _ in _ITEM_FIELDS + _REFS:
        value = getattr(args, flag)
        if value is not None:
            changes[name] = value or None
    if not changes and not args.reset:
        raise CliError("nothing to change: give --category, --due-date ... or --reset FIELD")
    try:
        item = service.edit_item(args.item, reset=[r.replace("-", "_") for r in args.reset], **changes)
    except (ArithmeticError, TypeError) as exc:
        raise CliError(f"invalid value: {exc}") from None
    row = _item_row(service, item)
    if args.json:
        ctx.json(row)
    else:
        ctx.print(f"Item {item.id}: {item.state}" + (f" (missing: {row['missing']})" if item.missing else ""))
    return 0


def _rule_row(service: Any, rule: Any, names: dict[int, str]) -> dict[str, Any]:
    return {"supplier": rule.supplier, "category": names.get(rule.category_entry_id),
            "tax_rate": str(rule.tax_rate) if rule.tax_rate is not None else None,
            "tax_account": names.get(rule.tax_account_entry_id), "due_days": rule.due_days,
            "payment_terms": names.get(rule.payment_term_entry_id), "class": names.get(rule.class_entry_id),
            "location": names.get(rule.location_entry_id), "vendor": names.get(rule.vendor_entry_id),
            "description": rule.description, "auto_publish": rule.auto_publish}


def cmd_rules_list(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.app().accounting
    names = {e.id: e.label() for e in _all_entries(service)}
    rows = [_rule_row(service, r, names) for r in service.rules()]
    if args.json:
        ctx.json(rows)
    else:
        ctx.table(rows, [("supplier", "Supplier"), ("category", "Category"), ("tax_rate", "Tax rate"),
                         ("due_days", "Due days"), ("payment_terms", "Terms"), ("class", "Class"),
                         ("location", "Location"), ("auto_publish", "Auto-publish")], empty="no supplier rules")
    return 0


def cmd_rules_set(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.app().accounting
    values: dict[str, Any] = {}
    for flag, name, _ in _REFS:
        value = getattr(args, flag)
        if value is not None:
            values[name] = value or None
    if args.tax_rate is not None:
        values["tax_rate"] = args.tax_rate or None
    if args.due_days is not None:
        try:
            values["due_days"] = int(args.due_days) if args.due_days else None
        except ValueError:
            raise CliError("--due-days takes a number of days") from None
    if args.description is not None:
        values["description"] = args.description or None
    if args.auto_publish is not None:
        values["auto_publish"] = args.auto_publish
    try:
        rule = service.set_rule(args.supplier, **values)
    except ArithmeticError:
        raise CliError("--tax-rate takes a fraction such as 0.2") from None
    names = {e.id: e.label() for e in _all_entries(service)}
    if args.json:
        ctx.json(_rule_row(service, rule, names))
    else:
        ctx.print(f"Rule for {rule.supplier} saved and applied to its unpublished items.")
    return 0


def cmd_rules_delete(ctx: Context, args: argparse.Namespace) -> int:
    ctx.app().accounting.delete_rule(args.supplier)
    ctx.print(f"Rule for {args.supplier} deleted.")
    return 0


def cmd_publish(ctx: Context, args: argparse.Namespace) -> int:
    if not args.item and not args.all_ready:
        raise CliError("name the items to publish, or use --all-ready")
    if args.item and args.all_ready:
        raise CliError("give item ids or --all-ready, not both")
    service = ctx.app().accounting
    service.collect_items()
    outcomes = service.publish(args.item or None, all_ready=args.all_ready)
    return _outcomes(ctx, outcomes, args.json)
