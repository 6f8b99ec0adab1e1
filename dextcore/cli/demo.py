"""``dextcore demo`` and ``dextcore sandbox``."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from dextcore.cli import Context


def register(sub: argparse._SubParsersAction, ctx: Context) -> None:
    p = sub.add_parser("demo", help="Run the whole product against the bundled sandbox portals.",
                       description="Run the whole product against the bundled sandbox portals.")
    p.add_argument("--home", type=Path, help="demo data folder (default: <data dir>/demo; wiped on each run)")
    p.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    p.set_defaults(handler=lambda args: cmd_demo(ctx, args))

    p = sub.add_parser("sandbox", help="Serve the sandbox portals and print their URLs and demo accounts.",
                       description="Serve the sandbox portals and print their URLs and demo accounts.")
    p.add_argument("--once", action="store_true", help="print and exit (for scripts)")
    p.set_defaults(handler=lambda args: cmd_sandbox(ctx, args))


def cmd_demo(ctx: Context, args: argparse.Namespace) -> int:
    from dextcore.demo import run_demo

    summary = run_demo(home=args.home, out=ctx.out)
    if args.json:
        ctx.json(summary)
    fetched = {r["connector"] for r in summary["connections"] if r["documents"]}
    wanted = {r["connector"] for r in summary["connections"]}
    return 0 if fetched == wanted else 1


def cmd_sandbox(ctx: Context, args: argparse.Namespace) -> int:
    from dextcore.sandbox import SandboxServer

    with SandboxServer() as server:
        for failure in server.failures:
            ctx.print(f"warning: {failure}")
        rows = []
        for portal in server.portals:
            for account in portal.demo_accounts():
                rows.append({
                    "portal": portal.name,
                    "variant": account.variant,
                    "base_url": server.base_url(portal.name, account.variant),
                    "scenario": account.scenario,
                    "username": account.username,
                    "password": account.password,
                })
        ctx.print(f"Admin view: {server.admin_url}.html")
        ctx.print("Demo accounts (sandbox only; these are not secrets):")
        ctx.table(rows, [("portal", "Portal"), ("variant", "Variant"), ("scenario", "Scenario"),
                         ("username", "Username"), ("password", "Password"), ("base_url", "Base URL")])
        if args.once:
            return 0
        ctx.print("Serving; press Ctrl-C to stop.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0
