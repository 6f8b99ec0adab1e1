"""``dextcore new-plugin``: generate a plugin distribution to start a new supplier from."""

from __future__ import annotations

import argparse
from pathlib import Path

from dextcore.cli import CliError, Context


def register(sub: argparse._SubParsersAction, ctx: Context) -> None:
    help = "Generate a new supplier plugin (connector, hooks, sandbox portal, tests that pass)."
    p = sub.add_parser("new-plugin", help=help, description=help)
    p.add_argument("name", help="connector name: a lowercase Python identifier, e.g. acme or acme_uk")
    p.add_argument("--directory", type=Path, help="folder to create (default: ./dextcore-NAME); must not exist")
    p.add_argument("--label", help="supplier name users see (default: from NAME, e.g. Acme Uk)")
    p.add_argument("--domain", help="the site's domain, e.g. example.com (default: NAME.example)")
    p.set_defaults(handler=lambda args: cmd_new_plugin(ctx, args))


def cmd_new_plugin(ctx: Context, args: argparse.Namespace) -> int:
    from dextcore.scaffold import ScaffoldError, new_plugin

    try:
        target = new_plugin(args.name, args.directory, label=args.label, domain=args.domain)
    except ScaffoldError as exc:
        raise CliError(str(exc)) from None
    ctx.print(f"Created the {args.name} plugin in {target}")
    ctx.print("Next:")
    ctx.print(f"  pip install -e {target}")
    ctx.print(f"  pytest {target / 'tests'}")
    return 0
