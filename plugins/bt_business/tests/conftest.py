"""Fixtures of the BT plugin tests, on the dextcore testing kit (:mod:`dextcore.testing.plugin`).

The kit gives the app (``dextcore_app``, ``dextcore_events``), ``connect`` and
``fetch``; what is BT's own is here: the plugin the app loads, the sandbox's
seed and its clock frozen at :data:`FROZEN_AT`, and a small stdlib "browser"
(urllib with its own cookie jar, real form submission) that drives the sandbox by hand.
"""

from __future__ import annotations

import datetime as dt
import html.parser
import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable

import attrs
import pytest

import dextcore_bt_business
from dextcore.sandbox import Clock, SandboxServer
from dextcore_bt_business.sandbox import BTPortal

FROZEN_AT = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)


@attrs.define
class Form:
    attrs: dict[str, str]
    fields: list[tuple[str, str]]  # hidden and text-like inputs with their values, checked boxes/radios
    buttons: list[dict[str, str]]
    inputs: list[dict[str, str]]


class _Parser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.forms: list[Form] = []
        self._form: Form | None = None

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attributes}
        self.tags.append((tag, a))
        if tag == "form":
            self._form = Form(a, [], [], [])
            self.forms.append(self._form)
        elif self._form is not None and tag == "input":
            self._form.inputs.append(a)
            kind = a.get("type", "text")
            if a.get("name") and (kind not in ("checkbox", "radio", "submit") or "checked" in a):
                self._form.fields.append((a["name"], a.get("value", "")))
        elif self._form is not None and tag == "button":
            self._form.buttons.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


@attrs.define
class Page:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def _parsed(self) -> _Parser:
        parser = _Parser()
        parser.feed(self.text)
        return parser

    def has(self, tag: str, **wanted: str) -> bool:
        """Whether an element matches: ``has("input", id="signInName")``; ``class_`` matches one class."""
        for name, a in self._parsed().tags:
            if name != tag:
                continue
            if all((v in a.get("class", "").split()) if k == "class_" else a.get(k) == v for k, v in wanted.items()):
                return True
        return False

    def form(self, **wanted: str) -> Form:
        for form in self._parsed().forms:
            if all(form.attrs.get(k) == v for k, v in wanted.items()):
                return form
        raise AssertionError(f"no form {wanted} on {self.url}")


class Browser:
    """Follows redirects, keeps cookies, submits forms like a person pressing their button."""

    def __init__(self) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def open(self, url: str, data: dict[str, str] | list[tuple[str, str]] | None = None) -> Page:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            response = self._opener.open(url, body, timeout=10)
        except urllib.error.HTTPError as error:
            return Page(error.url, error.code, dict(error.headers), error.read())
        with response:
            return Page(response.url, response.status, dict(response.headers), response.read())

    def submit(self, page: Page, form: Form, values: dict[str, str] | None = None) -> Page:
        fields = [(k, v) for k, v in form.fields if k not in (values or {})] + list((values or {}).items())
        action = urllib.parse.urljoin(page.url, form.attrs.get("action") or page.url)
        if form.attrs.get("method", "get").lower() == "post":
            return self.open(action, fields)
        return self.open(action.split("?")[0] + "?" + urllib.parse.urlencode(fields))


@pytest.fixture
def dextcore_plugins() -> list[object]:
    return [dextcore_bt_business]


@pytest.fixture
def sandbox(sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """The running BT sandbox (the kit's factory, called once): fresh per test, clock frozen."""
    return sandbox(BTPortal(seed=3), clock=Clock(FROZEN_AT))


@pytest.fixture
def portal(sandbox: SandboxServer) -> BTPortal:
    bt = sandbox.portal("bt")
    assert isinstance(bt, BTPortal)
    return bt


@pytest.fixture
def base(sandbox: SandboxServer) -> str:
    return sandbox.base_url("bt", "business")


@pytest.fixture
def home_base(sandbox: SandboxServer) -> str:
    return sandbox.base_url("bt", "consumer")


@pytest.fixture
def browser() -> Browser:
    return Browser()


@pytest.fixture
def make_browser() -> type[Browser]:
    """For tests that need a second browser (no cookies)."""
    return Browser
