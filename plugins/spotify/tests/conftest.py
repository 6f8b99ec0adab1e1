"""Fixtures of the Spotify plugin tests, on the dextcore testing kit (:mod:`dextcore.testing.plugin`).

The kit gives the app (``dextcore_app``, ``dextcore_events``), ``connect``,
``fetch`` and ``answer_code`` (the end-to-end tests run the real runner:
Scrapy + scrapy-playwright on the process's asyncio reactor). What is
Spotify's own is here: the plugin the app loads, the sandbox's seed and its
clock frozen at :data:`FROZEN_AT`, a plain HTTP client (urllib, its own
cookie jar) and one headless Chromium per module to drive the sandbox by hand.
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Iterator

import attrs
import pytest

import dextcore_spotify
from dextcore.sandbox import Clock, SandboxServer
from dextcore_spotify.sandbox import SpotifyPortal

FROZEN_AT = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]



@pytest.fixture
def dextcore_plugins() -> list[object]:
    return [dextcore_spotify]


@pytest.fixture
def sandbox(sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """The running Spotify sandbox (the kit's factory, called once): fresh per test, so
    sessions, faults and lock-out counters never leak between tests."""
    return sandbox(SpotifyPortal(seed=7), clock=Clock(FROZEN_AT))


@pytest.fixture
def portal(sandbox: SandboxServer) -> SpotifyPortal:
    spotify = sandbox.portal("spotify")
    assert isinstance(spotify, SpotifyPortal)
    return spotify


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
