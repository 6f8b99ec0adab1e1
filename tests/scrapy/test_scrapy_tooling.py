"""Scrapy's own commands on dextcore: ``scrapy list`` and ``scrapy crawl <connector> -a connection=ID``.

The commands run as subprocesses, the way a person or scrapyd runs them,
against the BT sandbox portal served over HTTP on 127.0.0.1 by this test
process; alerts go to a real SMTP server on loopback. The dextcore store
is a SQLite file in ``tmp_path`` that both processes open.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, Iterator

import attrs
import pytest
from aiosmtpd.controller import Controller

from dextcore.api import Dextcore
from dextcore.config import Config
from dextcore.crawl.command import CrawlArgumentError, CrawlRequest
from dextcore.crawl.spider import ConnectorSpider
from dextcore.crawl.spiderloader import ConnectorSpiderLoader
from dextcore.plugins import PluginHost
from dextcore.runner import recent_runs
from dextcore.runner.saved_sessions import load_session
from dextcore.sandbox import DemoAccount, SandboxServer
from dextcore.statuses import Status
from dextcore.vault import generate_key
from dextcore_bt_business.sandbox import BTPortal

REPO = Path(__file__).resolve().parents[2]
SCRAPY = [sys.executable, "-m", "scrapy"]
TIMEOUT = 90


# -- fixtures ----------------------------------------------------------------------------------------


class _Mails:
    """aiosmtpd handler keeping what it receives (delivery completes before the sender's SMTP call returns)."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.texts.append(message.as_string())
        return "250 Message accepted"


class _LoopbackSMTP(Controller):
    """An SMTP server on a port the OS picked (the socket is bound before the server uses it)."""

    def __init__(self, handler: Any) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self._sock.getsockname()[1])

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


@attrs.frozen
class Setup:
    env: dict[str, str]
    sandbox: SandboxServer
    mails: _Mails
    tmp: Path

    def app(self) -> Dextcore:
        return Dextcore.open(Config.from_env(self.env))

    def account(self, scenario: str) -> DemoAccount:
        return next(a for a in self.sandbox.portal("bt").demo_accounts()
                    if a.scenario == scenario and a.variant == "business")

    def connect(self, account: DemoAccount, *, password: str | None = None) -> int:
        with self.app() as app:
            created = app.connections.create(
                connector="bt_business", variant="business", owner="ann@example.com", created_by="ann@example.com",
                username=account.username, password=password or account.password,
                base_url=self.sandbox.base_url("bt", "business"))
            return created.connection.id

    def scrapy(self, *args: str, cwd: Path | None = None, settings_module: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if settings_module:
            env["SCRAPY_SETTINGS_MODULE"] = "dextcore.crawl.project"
        return subprocess.run([*SCRAPY, *args], env=env, cwd=cwd or self.tmp, capture_output=True, text=True,
                              timeout=TIMEOUT)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    mails = _Mails()
    smtp = _LoopbackSMTP(mails)
    smtp.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEXTCORE_", "SCRAPY_"))}
    env.update(DEXTCORE_HOME=str(tmp_path / "home"), DEXTCORE_SECRET_KEY=generate_key(),
               DEXTCORE_SMTP_HOST="127.0.0.1", DEXTCORE_SMTP_PORT=str(smtp.port))
    try:
        with SandboxServer([BTPortal(seed=3)]) as sandbox:
            setup = Setup(env=env, sandbox=sandbox, mails=mails, tmp=tmp_path)
            with setup.app() as app:
                app.add_user("ann@example.com", name="Ann")
            yield setup
    finally:
        smtp.stop()


def _log(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


# -- scrapy list -------------------------------------------------------------------------------------


def test_scrapy_list_shows_the_installed_portal_connectors(setup: Setup) -> None:
    listed = setup.scrapy("list")
    assert listed.returncode == 0, listed.stderr
    names = listed.stdout.split()
    assert {"amazon_uk", "bt_business", "spotify"} <= set(names)
    assert "billcom" not in names  # an accounting connector has no spider
    assert names == sorted(names)


def test_scrapy_list_from_a_checkout_uses_its_scrapy_cfg(setup: Setup) -> None:
    listed = setup.scrapy("list", cwd=REPO, settings_module=False)
    assert listed.returncode == 0, listed.stderr
    assert {"amazon_uk", "bt_business", "spotify"} <= set(listed.stdout.split())


# -- scrapy crawl ------------------------------------------------------------------------------------


def test_scrapy_crawl_fetches_one_connection_like_dextcore_fetch(setup: Setup) -> None:
    account = setup.account("ok")
    cid = setup.connect(account)
    command = ["crawl", "bt_business", "-a", f"connection={cid}"]
    crawl = setup.scrapy(*command)
    log = _log(crawl)
    assert crawl.returncode == 0, log

    portal = setup.sandbox.portal("bt")
    assert isinstance(portal, BTPortal)
    expected = {f"{b.account_number}:{b.invoice_number}" for b in portal.bills("GP10293847")}
    with setup.app() as app:
        connection = app.connections.get(cid)
        assert connection.status is Status.CONNECTED, connection.status_reason
        stored = app.inbox.list(cid)
        assert {d.stable_id for d in stored} == expected
        assert all(d.path.read_bytes().startswith(b"%PDF") for d in stored)
        (run,) = recent_runs(app.store, cid)
        assert (run.trigger, run.outcome, run.documents_new) == ("scheduled", "connected", len(expected))
        saved = load_session(app.vault, cid)
        assert saved and saved["cookies"]  # the session is kept for next time, in the vault
        cookie_values = [c["value"] for c in saved["cookies"] if len(c["value"] or "") >= 8]
    assert cookie_values

    # The crawl ends with the status label (and the counts) in its log and stats.
    assert f"connection {cid} (bt_business): Connected; {len(expected)} new documents" in log
    assert "'dextcore/status': 'connected'" in log and "Spider closed (finished)" in log
    # No secret on the command line or in the log: password, session cookies, vault key.
    secrets = [account.password, setup.env["DEXTCORE_SECRET_KEY"], *cookie_values]
    for secret in secrets:
        assert secret not in " ".join(command)
        assert secret not in log
    # The Connected alert went out by e-mail, without secrets either.
    assert setup.mails.texts and all(s not in t for s in secrets for t in setup.mails.texts)


def test_a_rejected_password_ends_with_its_status_and_the_password_stays_out_of_the_log(setup: Setup) -> None:
    wrong = "Not-The-Right-Pass-41"
    cid = setup.connect(setup.account("ok"), password=wrong)
    crawl = setup.scrapy("crawl", "bt_business", "-a", f"connection={cid}")
    log = _log(crawl)
    assert crawl.returncode == 1, log  # as `dextcore fetch`: 0 only when the connection ends Connected
    with setup.app() as app:
        assert app.connections.get(cid).status is Status.INCORRECT_CREDENTIALS
    assert f"connection {cid} (bt_business): {Status.INCORRECT_CREDENTIALS.label}" in log
    assert "Spider closed (incorrect_credentials)" in log
    assert wrong not in log
    assert setup.mails.texts and all(wrong not in t for t in setup.mails.texts)

    # Not retried on its own (account lock-out), as with `dextcore fetch`; force=1 runs it anyway.
    again = setup.scrapy("crawl", "bt_business", "-a", f"connection={cid}")
    assert again.returncode == 1 and "not retried automatically" in again.stderr
    forced = setup.scrapy("crawl", "bt_business", "-a", f"connection={cid}", "-a", "force=1")
    assert forced.returncode == 1 and "Spider closed (incorrect_credentials)" in _log(forced), _log(forced)
    with setup.app() as app:
        assert [r.trigger for r in recent_runs(app.store, cid)] == ["forced", "scheduled"]
    assert wrong not in _log(forced)


@pytest.mark.parametrize("option", [
    ["-a", "password={password}"],
    ["-a", "totp_secret={password}"],
    ["-s", "BT_PASSWORD={password}"],
])
def test_secrets_given_on_the_command_line_are_refused(setup: Setup, option: list[str]) -> None:
    account = setup.account("ok")
    cid = setup.connect(account)
    with setup.app() as app:
        before = app.connections.get(cid)
    crawl = setup.scrapy("crawl", "bt_business", "-a", f"connection={cid}",
                         *[part.format(password=account.password) for part in option])
    log = _log(crawl)
    assert crawl.returncode == 1
    assert "secrets are never spider arguments or settings" in log
    assert account.password not in log  # refused by name: the value is never echoed
    with setup.app() as app:
        assert recent_runs(app.store, cid) == []  # nothing ran
        after = app.connections.get(cid)
        assert (after.status, after.status_changed_at) == (before.status, before.status_changed_at)
    assert setup.sandbox.portal("bt").events_of("login") == []


def test_command_line_settings_cannot_reopen_what_the_crawl_layer_closes(setup: Setup) -> None:
    # -s outranks the spider's own settings, which turn the console off.
    cid = setup.connect(setup.account("ok"))
    crawl = setup.scrapy("crawl", "bt_business", "-a", f"connection={cid}", "-s", "TELNETCONSOLE_ENABLED=True")
    assert crawl.returncode == 1
    assert "refusing TELNETCONSOLE_ENABLED=True" in crawl.stderr
    assert setup.sandbox.portal("bt").events_of("login") == []


@pytest.mark.parametrize("name, value, message", [
    ("REMOTE_CONTROL_ENABLED", True, "refusing REMOTE_CONTROL_ENABLED=True"),
    ("DOWNLOADER_MIDDLEWARES", {"dextcore.crawl.middlewares.AllowedHostsMiddleware": None},
     "refusing DOWNLOADER_MIDDLEWARES without"),
    ("SESSION_COOKIE", "abc", "refusing the setting SESSION_COOKIE"),
])
def test_unsafe_or_secret_settings_are_refused_before_anything_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     name: str, value: Any, message: str) -> None:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

    monkeypatch.setenv("DEXTCORE_HOME", str(tmp_path / "home"))  # where a wrongly opened store would appear

    settings = Settings()
    settings.setmodule("dextcore.crawl.project", priority="project")
    settings.set(name, value, priority="cmdline")
    spidercls = ConnectorSpiderLoader(PluginHost()).load("bt_business")
    crawler = Crawler(spidercls, settings)
    with pytest.raises(CrawlArgumentError, match=message):
        spidercls.from_crawler(crawler, connection="1")
    assert not (tmp_path / "home").exists()


def test_a_connection_of_another_connector_is_refused(setup: Setup) -> None:
    cid = setup.connect(setup.account("ok"))
    crawl = setup.scrapy("crawl", "spotify", "-a", f"connection={cid}")
    assert crawl.returncode == 1
    assert f"connection {cid} is a bt_business connection, not spotify" in crawl.stderr
    with setup.app() as app:
        assert recent_runs(app.store, cid) == []


# -- in process: the loader and the arguments ---------------------------------------------------------


def test_the_loader_builds_connector_spiders_with_the_crawl_factory() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scrapy.interfaces is deprecated, the interface still stands
        from scrapy.interfaces import ISpiderLoader
    from scrapy.settings import Settings
    from scrapy.http import Request
    from zope.interface.verify import verifyClass

    verifyClass(ISpiderLoader, ConnectorSpiderLoader, tentative=True)  # the methods and their signatures
    loader = ConnectorSpiderLoader.from_settings(Settings())
    spider = loader.load("bt_business")
    assert issubclass(spider, ConnectorSpider) and spider.name == "bt_business"
    assert spider.custom_settings["REMOTE_CONTROL_ENABLED"] is False
    assert spider.custom_settings["DOWNLOADER_MIDDLEWARES"]["dextcore.crawl.middlewares.AllowedHostsMiddleware"] == 50
    assert loader.load("bt_business") is spider
    with pytest.raises(KeyError, match="accounting connector has no spider"):
        loader.load("billcom")
    with pytest.raises(KeyError):
        loader.load("no_such_portal")
    assert loader.find_by_request(Request("https://secure.business.bt.com/account/bills")) == ["bt_business"]
    assert loader.find_by_request(Request("https://home.bt.com/")) == ["bt_business"]
    assert loader.find_by_request(Request("https://example.com/")) == []


def test_spider_arguments_parse_like_dextcore_fetch_options() -> None:
    connector = PluginHost().connector("bt_business")
    assert CrawlRequest.from_arguments(connector, {"connection": "7", "_job": "abc"}) == CrawlRequest(7)
    assert CrawlRequest.from_arguments(connector, {"connection": "7", "force": "yes", "full": "1",
                                                   "wait_for_code": "300"}) == CrawlRequest(7, True, True, 300.0)
    for arguments, message in [
        ({}, "say which connection"),
        ({"connection": "seven"}, "takes a connection id"),
        ({"connection": "7", "wait_for_code": "60"}, "needs -a force=1"),
        ({"connection": "7", "force": "maybe"}, "takes 1/true/yes"),
        ({"connection": "7", "colour": "red"}, "unknown spider argument 'colour'"),
        ({"connection": "7", "session_cookie": "x"}, "refusing the spider argument 'session_cookie'"),
    ]:
        with pytest.raises(CrawlArgumentError, match=message):
            CrawlRequest.from_arguments(connector, arguments)


def test_sigint_stops_the_fetch_cleanly_as_with_dextcore_fetch(setup: Setup) -> None:
    setup.sandbox.portal("bt").faults.latency = 0.3  # a slow portal: the signal arrives mid-fetch
    cid = setup.connect(setup.account("ok"))
    env = dict(setup.env, SCRAPY_SETTINGS_MODULE="dextcore.crawl.project")
    process = subprocess.Popen([*SCRAPY, "crawl", "bt_business", "-a", f"connection={cid}"], env=env,
                               cwd=setup.tmp, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert process.stderr is not None
    lines = []
    for line in process.stderr:  # blocks until the crawl says its fetch started (its run is recorded)
        lines.append(line)
        if "SIGINT or SIGTERM stops it cleanly" in line:
            break
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=TIMEOUT)
    log = "".join(lines) + rest
    assert process.returncode == 1, log  # interrupted: not a fetch that ended Connected
    assert "Spider closed (interrupted)" in log
    with setup.app() as app:
        # Back to the status it had: an interrupted run says nothing about the portal.
        assert app.connections.get(cid).status is Status.CONNECTING
        (run,) = recent_runs(app.store, cid)
        assert run.outcome == "interrupted" and run.finished_at is not None
        assert run.documents_new == len(app.inbox.list(cid)) < 27
