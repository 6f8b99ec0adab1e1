"""Commands that fetch: ``fetch``, ``run`` (the scheduler daemon) and ``2fa submit``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dextcore.cli import CliError, Context

__all__ = ["register"]


def register(sub: argparse._SubParsersAction, ctx: Context) -> None:
    def command(name: str, handler: Any, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=lambda args: handler(ctx, args))
        return p

    p = command("fetch", cmd_fetch,
                "Fetch one connection now, in this process. Exit status 0 when it ends Connected, 1 otherwise.")
    p.add_argument("id", type=int, help="connection id")
    p.add_argument("--force", action="store_true",
                   help="run whatever the status (e.g. after fixing credentials); may ask for a 2FA code")
    p.add_argument("--wait-for-code", type=float, metavar="SECONDS", default=None,
                   help="with --force: wait this long for a 2FA code given with `dextcore 2fa submit`")
    p.add_argument("--full", action="store_true", help="re-check the whole history, not only recent documents")
    p.add_argument("--json", action="store_true")

    p = command("run", cmd_run, "The scheduler: fetch connections as they fall due (SIGINT/SIGTERM stop cleanly).")
    p.add_argument("--once", action="store_true", help="fetch what is due now, then exit")
    p.add_argument("--poll", type=float, default=30.0, help="seconds between looks for due connections (default 30)")
    p.add_argument("--max-crawls", type=int, default=32, help="connections fetched at once (default 32)")
    p.add_argument("--max-browsers", type=int, default=2, help="browser-based fetches at once (default 2)")
    p.add_argument("--json", action="store_true", help="print the results as JSON when done")

    p = command("2fa", cmd_2fa, "Two-factor codes for a waiting interactive fetch.")
    p.add_argument("action", choices=("submit", "show"))
    p.add_argument("id", type=int, help="connection id")
    p.add_argument("code", nargs="?", help="the code the portal sent (for submit)")
    p.add_argument("--json", action="store_true")


def _progress(args: argparse.Namespace) -> Any:
    from dextcore.runner import progress_for

    return progress_for(sys.stderr, quiet=bool(args.json))


def cmd_fetch(ctx: Context, args: argparse.Namespace) -> int:
    from dextcore.runner import fetch_one

    if args.wait_for_code is not None and not args.force:
        raise CliError("--wait-for-code needs --force (scheduled runs never wait for a person)")
    if args.wait_for_code is not None and args.wait_for_code <= 0:
        raise CliError("--wait-for-code must be a positive number of seconds")
    app = ctx.app()
    if args.wait_for_code and not args.json:
        ctx.print(f"Waiting up to {args.wait_for_code:g} s for a code if the portal asks for one: "
                  f"give it with `dextcore 2fa submit {args.id} CODE`.")
    result = fetch_one(app, args.id, force=args.force, wait_for_code=args.wait_for_code, full=args.full,
                       progress=_progress(args))
    if args.json:
        ctx.json(result.to_json())
    else:
        ctx.print(f"connection {result.connection_id}: {result.status.label} — {result.documents_new} new, "
                  f"{result.documents_seen} listed, {result.requests} requests")
        if result.message and result.status.value != "connected":
            ctx.print(result.message)
    return 0 if result.status.value == "connected" else 1


def cmd_run(ctx: Context, args: argparse.Namespace) -> int:
    from dextcore.runner import serve_forever

    app = ctx.app()
    results = serve_forever(app, poll=args.poll, once=args.once, progress=_progress(args),
                            max_crawls=args.max_crawls, max_browsers=args.max_browsers)
    if args.json:
        ctx.json([r.to_json() for r in results])
    return 0


def cmd_2fa(ctx: Context, args: argparse.Namespace) -> int:
    from dextcore.runner import pending_challenge, submit_code

    app = ctx.app()
    if args.action == "show":
        app.connections.get(args.id)
        pending = pending_challenge(app.store, args.id)
        if args.json:
            ctx.json(pending)
        else:
            if pending is None:
                ctx.print("(no code awaited)")
            elif pending["waiting"]:
                ctx.print(f"connection {args.id} awaits a {pending['medium']} code: {pending['prompt']}")
            else:
                ctx.print(f"The last run stopped at a {pending['medium']} code request ({pending['prompt']}); "
                          f"start `dextcore fetch {args.id} --force --wait-for-code 300` to answer one.")
        return 0
    if not args.code:
        raise CliError("give the code: dextcore 2fa submit ID CODE")
    challenge_id = submit_code(app, args.id, args.code)
    if args.json:
        ctx.json({"connection": args.id, "challenge": challenge_id, "submitted": True})
    else:
        ctx.print(f"Code handed to the waiting fetch of connection {args.id}.")
    return 0
