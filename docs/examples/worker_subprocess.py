"""Fetching from an asyncio application with one ``dextcore fetch`` process per fetch.

Each fetch runs as ``python -m dextcore fetch ID --force --json`` — the
unit a distributed queue (Celery, RQ, Arq, a Kubernetes Job) runs — and the
app awaits it with ``asyncio.create_subprocess_exec``. Nothing but the
connection id crosses the command line: the child reads the same store and
vault (same ``DEXTCORE_*`` environment) and resolves the secrets itself.

The child process fires the event hooks of the *installed* plugins, not the
app's in-process hook object, so the app learns what happened from the
JSON result and the store it shares: the connection's status history and
the inbox's new documents.

This program starts the BT sandbox portal, connects two of its demo
accounts, fetches both at once in two processes while a heartbeat task
keeps ticking, and prints what it found. Run it in a scratch folder::

    DEXTCORE_HOME=/tmp/dextcore-subprocess python docs/examples/worker_subprocess.py

tests/docs/test_embedding_examples.py runs this file as it is.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from dextcore import Dextcore
from dextcore.sandbox import SandboxServer
from dextcore_bt_business.sandbox import BTPortal

OWNER = "ops@webapp.example"
SCENARIOS = ("ok", "multi-account")
HEARTBEAT = 0.02  # seconds between the app's heartbeat ticks


async def fetch_in_process(connection_id: int, *, timeout: float = 600.0) -> dict[str, Any]:
    """Run ``dextcore fetch ID --force --json`` and return its JSON result.

    Exit status 0 means Connected, 1 another outcome (still a JSON result);
    2 is a usage error (one line on stderr, no JSON). The child inherits
    the environment, hence the same ``DEXTCORE_HOME`` / database / key.
    """
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dextcore", "fetch", str(connection_id), "--force", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(child.communicate(), timeout)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        child.terminate()  # SIGTERM: the fetch stores the documents in flight and exits
        await child.wait()
        raise
    if child.returncode not in (0, 1):
        raise RuntimeError(f"dextcore fetch {connection_id} failed: {err.decode(errors='replace').strip()}")
    return json.loads(out)


async def main() -> int:
    ticks = {"all": 0, "fetching": 0}
    fetching = False

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)  # the app's own periodic work, not synchronisation
            ticks["all"] += 1
            ticks["fetching"] += fetching

    beating = asyncio.create_task(heartbeat())
    with SandboxServer([BTPortal]) as sandbox:
        app = await asyncio.to_thread(Dextcore.open)
        try:
            accounts = {a.scenario: a for a in sandbox.portal("bt").demo_accounts()}
            ids = []
            for scenario in SCENARIOS:
                account = accounts[scenario]
                created = await asyncio.to_thread(
                    app.connections.create, connector=account.connector, variant=account.variant,
                    owner=OWNER, created_by=OWNER, username=account.username, password=account.password,
                    base_url=sandbox.base_url("bt", account.variant))
                ids.append(created.connection.id)
                print(f"connection {created.connection.id}: BT Business as {account.username}")

            fetching = True
            results = await asyncio.gather(*(fetch_in_process(i) for i in ids))
            fetching = False

            print()
            for result in results:
                print(f"fetched connection {result['connection_id']}: {result['status_label']}, "
                      f"{result['documents_new']} new documents, {result['requests']} requests")
                # What the app's event hooks would have said, read back from the shared store.
                documents = await asyncio.to_thread(app.inbox.list, result["connection_id"])
                history = await asyncio.to_thread(app.connections.history, result["connection_id"])
                last = history[-1]
                print(f"  in the store: {len(documents)} documents, "
                      f"last status change {last.old.label if last.old else '-'} -> {last.new.label}")
        finally:
            app.close()
    beating.cancel()
    print(f"heartbeat: {ticks['fetching']} ticks while fetching ({ticks['all']} in all)")
    return 0 if all(r["status"] == "connected" for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
