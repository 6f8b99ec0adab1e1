"""``dextcore demo``: the whole product against the bundled sandbox portals.

Starts every installed sandbox portal on 127.0.0.1, creates a business with
connections to each supplier (one answering TOTP codes from a stored
secret, one answering an SMS code read from the sandbox phone as a person
would, one region variant, one with deliberately wrong credentials), runs
the fetch, connects the accounting sandbox, publishes the collected
invoices and prints the Invoice Fetch table.

The demo keeps its data in its own folder (``<data dir>/demo`` unless
``--home`` says otherwise) and starts afresh on every run.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any, Callable, TextIO

import attrs

from dextcore.config import Config
from dextcore.hookspecs import hookimpl

__all__ = ["DemoPlan", "run_demo"]

ADMIN = "owner@demo.example"
BOOKKEEPER = "bookkeeper@demo.example"
MARKER = ".dextcore-demo"


@attrs.frozen
class DemoPlan:
    """One connection the demo creates: which sandbox account, and why."""

    portal: str
    connector: str
    scenario: str
    variant: str | None
    why: str
    interactive: bool = False


PLAN = (
    DemoPlan("amazon", "amazon_uk", "totp", "co.uk", "authenticator codes generated from the stored TOTP secret"),
    DemoPlan("amazon", "amazon_uk", "ok", "de", "a region variant (amazon.de)"),
    DemoPlan("bt", "bt_business", "sms", "business", "an SMS code read from the sandbox phone", interactive=True),
    DemoPlan("bt", "bt_business", "multi-account", "business", "several billing accounts behind one login"),
    DemoPlan("spotify", "spotify", "ok", "uk", "a JavaScript portal in headless Chromium"),
    DemoPlan("amazon", "amazon_uk", "wrong-password", "co.uk", "deliberately wrong credentials"),
)


class DemoListener:
    """The demo's app-side plugin: collects alerts instead of e-mailing them
    (an ``alert`` hook, as an app would implement to use its own channel)
    and hears when a fetch waits for a 2FA code."""

    def __init__(self) -> None:
        self.alerts: list[tuple[str, str]] = []
        self.waiting: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def waiting_for_code(self, connection_id: int) -> threading.Event:
        with self._lock:
            return self.waiting.setdefault(connection_id, threading.Event())

    @hookimpl
    def alert(self, recipient: str, subject: str, body: str, connection: Any) -> bool:
        with self._lock:
            self.alerts.append((recipient, subject))
        return True

    @hookimpl
    def challenge_raised(self, connection: Any, challenge: Any, interactive: bool) -> None:
        if interactive:
            self.waiting_for_code(connection.id).set()


def demo_home(home: Path | None) -> Path:
    if home is not None:
        return home
    return Config.from_env().home / "demo"


def _reset(home: Path) -> None:
    if home.exists():
        if not (home / MARKER).exists() and any(home.iterdir()):
            raise ValueError(f"{home} exists and is not a demo folder; choose another --home")
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / MARKER).write_text("Created by `dextcore demo`; deleted and re-created by every demo run.\n")


def run_demo(*, home: Path | None = None, out: TextIO, say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the demo; returns what it did (connections, documents, publications)."""
    from dextcore.api import Dextcore
    from dextcore.plugins import PluginHost
    from dextcore.runner import submit_code
    from dextcore.runner.orchestrator import Runner
    from dextcore.runner.reactor import run
    from dextcore.sandbox import SandboxServer
    from dextcore.store import Store

    say = say or (lambda text: print(text, file=out, flush=True))
    home = demo_home(home)
    _reset(home)
    config = Config.from_env({}, home=home, database_url=f"sqlite:///{home / 'dextcore.db'}",
                             inbox_dir=home / "inbox", key_file=home / "vault.key")
    alerts = DemoListener()
    host = PluginHost()
    host.register(alerts)
    for failure in host.failures:
        say(f"warning: plugin {failure.name} failed to load: {failure.error}")

    with SandboxServer() as server:
        say(f"Sandbox portals running (admin view: {server.admin_url}.html)")
        app = Dextcore(config=config, store=Store(config.database_url), host=host)
        try:
            app.add_user(ADMIN, name="Demo Owner", role="admin")
            app.add_user(BOOKKEEPER, name="Demo Bookkeeper")
            created = _connect(app, server, say)
            say("")
            say(f"Fetching {len(created)} connections concurrently ...")
            waiters = [_answer_sms(server, app, cid, account.phone, alerts.waiting_for_code(cid), submit_code)
                       for cid, (plan, account) in created.items() if plan.interactive]

            async def fetch_all() -> list[Any]:
                import asyncio

                runner = Runner(app)
                return await asyncio.gather(*[
                    runner.fetch(cid, trigger="forced", wait_for_code=60 if plan.interactive else None)
                    for cid, (plan, _) in created.items()
                ])

            results = run(fetch_all())
            for waiter in waiters:
                waiter.join(timeout=5)
            for result in results:
                plan, _ = created[result.connection_id]
                say(f"  {plan.connector} ({plan.scenario}): {result.status.label} — {result.documents_new} new document(s)"
                    + (f"; {result.message}" if result.status.needs_attention else ""))
            publications = _publish(app, server, say)
            say("")
            _print_table(app, out)
            say("")
            say(f"Documents are in {config.inbox_dir} ({len(app.inbox.list())} PDFs).")
            if alerts.alerts:
                say(f"Alerts sent ({len(alerts.alerts)}):")
                for recipient, subject in alerts.alerts:
                    say(f"  to {recipient}: {subject}")
            say(f"Demo data: {home} (re-run `dextcore demo` to start afresh).")
            return {
                "home": str(home),
                "connections": app.table(),
                "documents": len(app.inbox.list()),
                "publications": publications,
                "alerts": len(alerts.alerts),
            }
        finally:
            app.close()


def _connect(app: Any, server: Any, say: Callable[[str], None]) -> dict[int, tuple[DemoPlan, Any]]:
    created: dict[int, tuple[DemoPlan, Any]] = {}
    for plan in PLAN:
        if plan.connector not in app.host.connectors:
            say(f"skipped {plan.connector}: plugin not installed")
            continue
        account = next(a for a in server.portal(plan.portal).demo_accounts()
                       if a.scenario == plan.scenario and (plan.variant is None or a.variant == plan.variant))
        fields = dict(account.fields)
        if account.totp_secret:
            fields["totp_secret"] = account.totp_secret
        password = account.password + ("-typo" if plan.scenario == "wrong-password" else "")
        result = app.connections.create(
            connector=plan.connector, variant=account.variant, owner=ADMIN, created_by=ADMIN, notify=BOOKKEEPER,
            username=account.username, password=password, fields=fields,
            base_url=server.base_url(plan.portal, account.variant),
        )
        say(f"Connected {plan.connector} as {account.username}: {plan.why}")
        created[result.connection.id] = (plan, account)
    return created


def _answer_sms(server: Any, app: Any, connection_id: int, phone: str | None, prompted: threading.Event,
                submit: Callable[[Any, int, str], int]) -> threading.Thread:
    """Read the code from the sandbox phone and type it in once the fetch
    asks for it, as a person would."""
    mailbox = server.mailbox
    seen = mailbox.count(phone)

    def answer() -> None:
        try:
            code = mailbox.wait_for_code(phone, timeout=60, after=seen)
        except TimeoutError:
            return
        if prompted.wait(timeout=60):
            submit(app, connection_id, code)

    thread = threading.Thread(target=answer, name=f"sms-{connection_id}", daemon=True)
    thread.start()
    return thread


def _publish(app: Any, server: Any, say: Callable[[str], None]) -> list[dict[str, Any]]:
    if "billcom" not in app.host.connectors:
        say("skipped publishing: the billcom plugin is not installed")
        return []
    from dextcore.demo_accounting import publish_demo

    return publish_demo(app, server, say, admin=ADMIN)


def _print_table(app: Any, out: TextIO) -> None:
    from dextcore.cli import Context
    from dextcore.cli.connections import print_fetch_table

    ctx = Context()
    ctx.out = out
    ctx.print("Invoice Fetch")
    print_fetch_table(ctx, app.table())
