"""Fixtures of the Spotify plugin tests: a sandbox with a frozen clock, a plain
HTTP client (urllib, its own cookie jar), one headless Chromium per module, and
for the end-to-end tests a dextcore app (SQLite, vault, inbox) with this plugin,
run by the real runner (Scrapy + scrapy-playwright on the process's asyncio reactor)."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

import attrs
import pytest

import dextcore_spotify
from dextcore.api import Dextcore
from dextcore.config import Config
from dextcore.hookspecs import hookimpl
from dextcore.plugins import PluginHost
from dextcore.sandbox import Clock, SandboxServer
from dextcore.vault import generate_key
from dextcore_spotify.sandbox import SpotifyPortal

FROZEN_AT = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]



@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer([SpotifyPortal(seed=7)], clock=Clock(FROZEN_AT)) as server:
        yield server


@pytest.fixture
def portal(sandbox: SandboxServer) -> Iterator[SpotifyPortal]:
    spotify = sandbox.portal("spotify")
    assert isinstance(spotify, SpotifyPortal)
    yield spotify
    spotify.faults.clear()
    spotify.expire_sessions()
    spotify.forget_failures()  # lock-out counters must not leak between tests


@attrs.frozen
class Reply:
    status: int
    url: str
    headers: Any
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpClient:
    """A cookie-keeping HTTP client without JavaScript (what plain Scrapy sees)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        cookies = urllib.request.HTTPCookieProcessor(self.jar)
        self._follow = urllib.request.build_opener(cookies)
        self._stay = urllib.request.build_opener(cookies, _NoRedirect())

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def request(self, url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
                follow: bool = True) -> Reply:
        req = urllib.request.Request(url, data=data, headers=headers or {})
        opener = self._follow if follow else self._stay
        try:
            with opener.open(req, timeout=10) as resp:
                return Reply(resp.status, resp.geturl(), resp.headers, resp.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.geturl(), err.headers, err.read())

    def get(self, url: str, *, follow: bool = True) -> Reply:
        return self.request(url, follow=follow)

    def post_json(self, url: str, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        return self.request(url, data=json.dumps(payload).encode(),
                            headers={"Content-Type": "application/json", **(headers or {})})

    def post_form(self, url: str, fields: dict[str, str]) -> Reply:
        return self.request(url, data=urllib.parse.urlencode(fields).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})


def bootstrap(html: str, element_id: str = "bootstrap-data") -> Any:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"no script#{element_id}"
    return json.loads(match.group(1))


def http_login(client: HttpClient, accounts: str, username: str, password: str, *,
               recaptcha: bool = True, csrf: bool = True) -> Reply:
    """The JSON login a browser's script performs, done by hand."""
    page = client.get(f"{accounts}/login?allow_password=1")
    cfg = bootstrap(page.text)
    token = client.request(f"{accounts}/recaptcha/token", data=b"").json()["token"] if recaptcha else ""
    headers = {"X-Csrf-Token": client.cookie("sp_sso_csrf_token") or ""} if csrf else {}
    return client.post_json(f"{accounts}/login/password", {
        "username": username, "password": password, "remember": True, "continue": cfg["continue"],
        "flowCtx": cfg["flowCtx"], "recaptchaToken": token}, headers)


@pytest.fixture(name="bootstrap")
def bootstrap_fixture() -> Any:
    """:func:`bootstrap` (the JSON a page's script starts from)."""
    return bootstrap


@pytest.fixture(name="http_login")
def http_login_fixture() -> Any:
    """:func:`http_login` (a login without a browser)."""
    return http_login


@pytest.fixture
def new_client() -> Any:
    """Makes another client with an empty cookie jar."""
    return HttpClient


@pytest.fixture
def client() -> HttpClient:
    return HttpClient()


@pytest.fixture
def accounts(sandbox: SandboxServer) -> str:
    return sandbox.root("spotify") + "/accounts.spotify.com"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


# -- end-to-end fixtures: a dextcore app with this plugin, run by the real runner ------------------------------------


class EventLog:
    """Records the event hooks the core fires; ``on_challenge`` lets a test answer a 2FA challenge."""

    def __init__(self) -> None:
        self.challenges: list[tuple[int, Any, bool]] = []
        self.documents: list[Any] = []
        self.on_challenge: Callable[[Any, Any, bool], None] | None = None

    @hookimpl
    def challenge_raised(self, connection, challenge, interactive):  # type: ignore[no-untyped-def]
        self.challenges.append((connection.id, challenge, interactive))
        if self.on_challenge is not None:
            self.on_challenge(connection, challenge, interactive)

    @hookimpl
    def document_collected(self, connection, document):  # type: ignore[no-untyped-def]
        self.documents.append(document)

    @hookimpl
    def alert(self, recipient, subject, body, connection):  # type: ignore[no-untyped-def]
        return True  # no SMTP server in these tests: alerts count as delivered elsewhere


@pytest.fixture(scope="session")
def reactor_loop() -> Any:
    """The process's one asyncio Twisted reactor (scrapy-playwright needs it)."""
    from dextcore.runner.reactor import ensure_reactor

    return ensure_reactor()


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
def app(tmp_path: Path, events: EventLog, reactor_loop: Any) -> Iterator[Dextcore]:
    """A fresh dextcore (its own SQLite, vault key, inbox, pages dir) with only this plugin."""
    home = tmp_path / "home"
    config = Config.from_env({}, home=home, database_url=f"sqlite:///{home / 'dextcore.db'}",
                             inbox_dir=home / "inbox", key_file=home / "vault.key", secret_key=generate_key())
    host = PluginHost(load_entry_points=False, plugins=[dextcore_spotify, events])
    host.check_pending()
    with Dextcore.open(config, host=host) as opened:
        opened.add_user("ann@example.com", name="Ann")
        yield opened
