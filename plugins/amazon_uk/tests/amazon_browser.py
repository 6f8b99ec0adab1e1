"""A minimal cookie-keeping HTML client for driving the sandbox as a browser would.

It follows redirects, keeps cookies (aiohttp's jar, ``unsafe`` so that
cookies of 127.0.0.1 are kept) and submits HTML forms the way a browser
does: hidden and filled inputs, checked boxes and radios, the clicked
submit button only.
"""

from __future__ import annotations

from typing import Mapping
from urllib.parse import urljoin

import aiohttp
import attrs
from parsel import Selector

__all__ = ["Browser", "Page"]


@attrs.frozen
class Page:
    url: str
    status: int
    body: bytes = attrs.field(repr=False)
    content_type: str
    headers: Mapping[str, str] = attrs.field(repr=False)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def sel(self) -> Selector:
        return Selector(text=self.text)

    def css(self, query: str) -> list[str]:
        return self.sel.css(query).getall()

    def first(self, query: str) -> str | None:
        return self.sel.css(query).get()


class Browser:
    """Use as ``async with Browser() as browser: page = await browser.get(url)``."""

    def __init__(self) -> None:
        self.jar = aiohttp.CookieJar(unsafe=True)
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Browser:
        self.session = aiohttp.ClientSession(cookie_jar=self.jar, timeout=aiohttp.ClientTimeout(total=10))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.session is not None
        await self.session.close()

    async def _page(self, response: aiohttp.ClientResponse) -> Page:
        body = await response.read()
        return Page(str(response.url), response.status, body, response.content_type, dict(response.headers))

    async def get(self, url: str, *, follow: bool = True) -> Page:
        assert self.session is not None
        async with self.session.get(url, allow_redirects=follow) as response:
            return await self._page(response)

    async def post(self, url: str, data: Mapping[str, str], *, follow: bool = True) -> Page:
        assert self.session is not None
        async with self.session.post(url, data=dict(data), allow_redirects=follow) as response:
            return await self._page(response)

    def cookie(self, name: str) -> str | None:
        for cookie in self.jar:
            if cookie.key == name:
                return cookie.value
        return None

    async def submit(self, page: Page, form_css: str, data: Mapping[str, str | None] | None = None, *,
                     click: str | None = None, check: tuple[str, ...] = (), follow: bool = True) -> Page:
        """Submit the form ``form_css`` of ``page`` with ``data`` typed in (``None`` clears a field).

        ``check`` ticks checkboxes by name; ``click`` names the submit input's CSS (its name/value is sent).
        """
        form = page.sel.css(form_css)
        if not form:
            raise AssertionError(f"no form {form_css!r} on {page.url}")
        form = form[0]
        fields: dict[str, str] = {}
        for field in form.css("input, select, textarea"):
            name = field.attrib.get("name")
            kind = field.attrib.get("type", "text").lower()
            if not name or kind in ("submit", "button", "image", "reset"):
                continue
            if kind in ("checkbox", "radio"):
                if "checked" in field.attrib or (kind == "checkbox" and name in check):
                    fields[name] = field.attrib.get("value", "on")
                continue
            if field.root.tag == "select":
                value = field.css("option[selected]::attr(value)").get() or field.css("option::attr(value)").get()
                fields[name] = value or ""
                continue
            fields[name] = field.attrib.get("value", "")
        if click:
            button = form.css(click)
            if button and button[0].attrib.get("name"):
                fields[button[0].attrib["name"]] = button[0].attrib.get("value", "")
        for key, value in (data or {}).items():
            if value is None:
                fields.pop(key, None)
            else:
                fields[key] = value
        action = urljoin(page.url, form.attrib.get("action") or page.url)
        method = form.attrib.get("method", "get").lower()
        if method == "post":
            return await self.post(action, fields, follow=follow)
        assert self.session is not None
        async with self.session.get(action, params=fields, allow_redirects=follow) as response:
            return await self._page(response)
