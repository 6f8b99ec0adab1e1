"""Browser-based connectors: scrapy-playwright with the system Chromium, the host
guard on every browser request (redirect hops included), HTML printed to PDF."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from dextcore.runner import Runner
from dextcore.runner.reactor import run
from dextcore.statuses import Status
from tests.runner import browser_plugin, spa_plugin
from tests.runner.helpers import inbox_files, stored_ids
from tests.runner.portal import Account


@pytest.fixture
def browser_app(app, events):
    app.host.register(browser_plugin)
    return app


def _connect(app, sandbox, account):
    sandbox.portal("acme").add_account(account)
    return app.connections.create(connector="acme_browser", owner="ann@example.com", created_by="ann@example.com",
                                  username=account.username, password=account.password,
                                  base_url=sandbox.root("acme")).connection.id


def test_browser_login_and_printed_invoices(browser_app, sandbox, portal):
    app = browser_app
    cid = _connect(app, sandbox, Account("bea@example.com", "pw-B", documents=2))
    result = run(Runner(app).fetch(cid))
    assert result.status is Status.CONNECTED, result.message
    assert sorted(stored_ids(app, cid)) == ["invoice:BEA-00001", "invoice:BEA-00002"]
    [first, *_] = inbox_files(app.config.inbox_dir)
    text = PdfReader(str(first)).pages[0].extract_text()
    assert "Invoice BEA-0000" in text
    # The browser's cookies were saved: the next run is already signed in.
    logins = len(portal.events_of("login"))
    again = run(Runner(app).fetch(cid))
    assert again.status is Status.CONNECTED and len(portal.events_of("login")) == logins


def test_browser_redirect_to_foreign_host_is_refused(browser_app, sandbox):
    app = browser_app
    foreign = sandbox.portal("foreign")
    cid = _connect(app, sandbox, Account("brett@example.com", "pw-X", scenario="redirect-get",
                                         foreign_url=sandbox.root("foreign") + "/landing"))
    result = run(Runner(app).fetch(cid))
    assert foreign.received == []
    assert result.status is Status.PLUGIN_BROKEN
    assert sandbox.root("foreign").split("//")[1] in result.message


def test_browser_local_storage_is_kept_for_the_next_run(app, events, sandbox, portal):
    app.host.register(spa_plugin)
    portal.add_account(Account("sally@example.com", "pw-S"))
    cid = app.connections.create(connector="acme_spa", owner="ann@example.com", created_by="ann@example.com",
                                 username="sally@example.com", password="pw-S",
                                 base_url=sandbox.root("acme")).connection.id

    first = run(Runner(app).fetch(cid))
    assert first.status is Status.CONNECTED, first.message
    assert len(portal.events_of("login")) == 1
    [token] = [sid.removeprefix("api:") for sid in portal.sessions if sid.startswith("api:")]

    # The app keeps its sign-in in localStorage only (no cookie carries it):
    # the next run is signed in because the browser's storage came back.
    second = run(Runner(app).fetch(cid))
    assert second.status is Status.CONNECTED, second.message
    assert len(portal.events_of("login")) == 1
    # Kept encrypted: the token is in no file of the instance.
    home = app.config.home
    assert not [p for p in home.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
