"""The :class:`~dextcore.portal.PortalSession` of a running crawl, on Scrapy's engine.

Every request goes through ``crawler.engine.download_async`` and so through
the downloader middlewares: the host check first, then retries, redirects
and cookies. Secrets are resolved from the vault only when a plugin asks
(:meth:`ScrapyPortalSession.secret`) and are never put in settings or
``Request.meta``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.cookiejar
import json as jsonlib
import logging
from typing import TYPE_CHECKING, Any, Callable, Mapping, MutableMapping
from urllib.parse import urlencode, urljoin

from scrapy import Request
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.http import Response, TextResponse

from dextcore.totp import totp_now
from dextcore.crawl.hosts import AllowedHosts
from dextcore.crawl.pages import PageSaver
from dextcore.outcomes import ConnectorOutcome, PortalUnavailable
from dextcore.portal.session import ConnectionView

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = ["ScrapyPortalSession", "SecretSource"]

SecretSource = Callable[[str], "str | None"]
"""Looks up one secret credential field of the connection (``password``...)."""

_UNAVAILABLE = frozenset({408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
_COOKIE_ATTRS = ("version", "name", "value", "port", "port_specified", "domain", "domain_specified",
                 "domain_initial_dot", "path", "path_specified", "secure", "expires", "discard",
                 "comment", "comment_url")


def _retry_after(response: Response) -> dt.timedelta | None:
    value = response.headers.get(b"Retry-After")
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return dt.timedelta(seconds=int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(dt.timedelta(0), when - dt.datetime.now(dt.timezone.utc))


class ScrapyPortalSession:
    """A fetch in progress, as a portal connector sees it (implements :class:`PortalSession`).

    Besides the protocol it keeps what the runner needs afterwards: the last
    response (saved when the plugin breaks), the number of requests, the
    pages saved, the foreign host a request was refused for, and the
    session state to store for next time (:meth:`export_state`).
    """

    def __init__(self, *, crawler: Crawler, connection: ConnectionView, base_url: str,
                 since: dt.date | None, allowed_hosts: AllowedHosts, secrets: SecretSource,
                 pages: PageSaver, log: logging.Logger | None = None) -> None:
        self.crawler = crawler
        self.connection = connection
        self.base_url = base_url
        self.since = since
        self.state: MutableMapping[str, Any] = {}
        self.log = log or logging.getLogger(f"dextcore.connector.{connection.connector.name}")
        self.allowed_hosts = allowed_hosts
        self._secrets = secrets
        self._pages = pages
        self.last_response: Response | None = None
        self.saved_pages: list[str] = []
        self.requests = 0
        self._browser_pages: list[Any] = []
        self._browser_cookies: list[dict[str, Any]] = []
        self._browser_origins: list[dict[str, Any]] = []
        self._pdf_browser: Any = None
        self._playwright: Any = None
        self._proxy: Any = None
        self._browser_context: Any = None

    def __repr__(self) -> str:
        return f"<ScrapyPortalSession connection={self.connection.id} {self.connection.connector.name}>"

    # -- facts and secrets -----------------------------------------------------

    @property
    def username(self) -> str | None:
        return self.connection.username

    def url(self, path: str) -> str:
        if "://" in path or path.startswith("data:"):
            return path
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        return urljoin(base, path.lstrip("/"))

    def secret(self, name: str) -> str | None:
        return self._secrets(name)

    def totp(self) -> str | None:
        secret = self._secrets("totp_secret")
        if not secret:
            return None
        return totp_now(secret)

    def scrub_values(self) -> list[str]:
        """The values to blank out of saved pages and messages."""
        values = [self.connection.username or ""]
        for name in ("password", "totp_secret"):
            try:
                values.append(self._secrets(name) or "")
            except Exception:  # a vault problem must not stop saving a page
                continue
        for field in self.connection.connector.fields:
            if field.secret and field.name not in ("password", "totp_secret"):
                try:
                    values.append(self._secrets(field.name) or "")
                except Exception:
                    continue
        return [v for v in values if len(v) >= 3]

    # -- HTTP ------------------------------------------------------------------

    @property
    def blocked_host(self) -> str | None:
        return getattr(self.crawler.spider, "blocked_host", None)

    async def fetch(self, request: Request) -> Response:
        engine = self.crawler.engine
        host = AllowedHosts.host_of(request.url)
        try:
            response = await engine.download_async(request)
        except ConnectorOutcome:
            raise
        except Exception as exc:  # Twisted and Scrapy network errors, after retries
            raise PortalUnavailable(f"Could not reach {host} ({type(exc).__name__}).") from None
        finally:
            self.requests += 1
        self.last_response = response
        accepted = request.meta.get("handle_httpstatus_list", ())
        if response.status in _UNAVAILABLE and response.status not in accepted:
            raise PortalUnavailable(f"{host} answered HTTP {response.status}.", retry_after=_retry_after(response))
        return response

    async def get(self, url: str, **kwargs: Any) -> Response:
        kwargs.setdefault("dont_filter", True)
        return await self.fetch(Request(self.url(url), **kwargs))

    async def post(self, url: str, *, data: Mapping[str, str] | None = None, json: Any = None,
                   headers: Mapping[str, str] | None = None) -> Response:
        hdrs = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json).encode()
            hdrs.setdefault("Content-Type", "application/json")
        else:
            body = urlencode(list((data or {}).items())).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return await self.fetch(Request(self.url(url), method="POST", body=body, headers=hdrs, dont_filter=True))

    async def submit_form(self, response: Response, *, css: str | None = None,
                          data: Mapping[str, str] | None = None, click: str | None = None) -> Response:
        from form2request import form2request

        if not isinstance(response, TextResponse):
            raise TypeError("submit_form needs an HTML response")
        forms = response.css(css or "form")
        if not forms:
            from dextcore.outcomes import LayoutChanged

            raise LayoutChanged(f"no form matching {css or 'form'!r} on {response.url}", page=response)
        form = forms[0]
        click_el: Any = None
        if click is not None:
            found = form.css(click)
            click_el = found[0].root if found else None
        request_data = form2request(form, dict(data or {}), click=click_el)
        request = request_data.to_scrapy(callback=None, dont_filter=True)
        return await self.fetch(request)

    # -- browser ---------------------------------------------------------------

    async def browser_page(self, url: str) -> Any:
        """Open ``url`` in this crawl's browser context and return the Playwright page.

        Close the page when done with it (``await page.close()``): a context
        holds a few pages at a time and the core closes leftovers only at
        the end of the run. Every browser request, redirect hops included,
        goes through the crawl's :class:`~dextcore.crawl.guard_proxy.GuardProxy`.
        """
        if not self.connection.connector.uses_browser:
            raise RuntimeError(f"connector {self.connection.connector.name!r} does not declare uses_browser=True")
        proxy = await self._guard_proxy()
        request = Request(self.url(url), dont_filter=True, meta={
            "playwright": True,
            "playwright_include_page": True,
            "playwright_context": f"dextcore-{self.connection.id}",
            # Only the loopback proxy's address: nothing secret.
            "playwright_context_kwargs": {"proxy": {"server": proxy, "bypass": "<-loopback>"}},
            "playwright_page_init_callback": self._init_browser_page,
        })
        response = await self.fetch(request)
        page = response.meta["playwright_page"]
        if page not in self._browser_pages:
            self._browser_pages.append(page)
        return page

    async def _guard_proxy(self) -> str:
        if self._proxy is None:
            from dextcore.crawl.guard_proxy import GuardProxy

            # The proxy refuses every foreign request (Chromium's own
            # background traffic, third-party page resources); only a
            # navigation to a foreign host fails the run (see _watch_navigation).
            self._proxy = GuardProxy(self.allowed_hosts, lambda host: None)
            await self._proxy.start()
        return self._proxy.url

    def _watch_navigation(self, pw_request: Any) -> None:
        try:
            navigation = pw_request.is_navigation_request()
        except Exception:
            return
        if navigation and not self.allowed_hosts.allows(pw_request.url):
            spider = self.crawler.spider
            if getattr(spider, "blocked_host", None) is None:
                spider.blocked_host = AllowedHosts.host_of(pw_request.url)

    async def _init_browser_page(self, page: Any, request: Request) -> None:
        """Remember the page and its context; restore saved browser cookies once."""
        self._browser_pages.append(page)
        self._browser_context = page.context
        # Fired for every hop of a redirect chain, unlike request routing.
        page.on("request", self._watch_navigation)
        if self._browser_cookies:
            await page.context.add_cookies(self._browser_cookies)
            self._browser_cookies = []
        if self._browser_origins:
            origins, self._browser_origins = self._browser_origins, []
            await _restore_local_storage(page, [o for o in origins if self.allowed_hosts.allows(o.get("origin", ""))])

    async def print_pdf(self, response: Response) -> bytes:
        """Render ``response``'s HTML in a headless Chromium of this session and print it to PDF.

        Rendering happens offline: every network request of the page is
        refused, so a page cannot phone home (or leak cookies) while printed.
        """
        from playwright.async_api import async_playwright

        from dextcore.crawl.settings import BROWSER_ARGS, CHROMIUM

        if self._pdf_browser is None:
            self._playwright = await async_playwright().start()
            self._pdf_browser = await self._playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=list(BROWSER_ARGS))
        context = await self._pdf_browser.new_context()
        try:
            page = await context.new_page()
            await page.route("**", lambda route, _req: route.abort("blockedbyclient"))
            await page.set_content(response.text if isinstance(response, TextResponse) else response.body.decode(
                "utf-8", "replace"), wait_until="load")
            return await page.pdf(print_background=True)
        finally:
            await context.close()

    # -- pages -----------------------------------------------------------------

    def save_page(self, response: Response, reason: str) -> str:
        path = self._pages.save(response, reason=reason, secrets=self.scrub_values())
        self.saved_pages.append(path)
        return path

    # -- saved sessions -------------------------------------------------------

    def _cookie_jar(self) -> http.cookiejar.CookieJar | None:
        for mw in self.crawler.engine.downloader.middleware.middlewares:
            if isinstance(mw, CookiesMiddleware):
                return mw.jars[None].jar
        return None

    def restore_state(self, state: Mapping[str, Any]) -> int:
        """Load saved cookies into the crawl's cookie jar (and the browser's, when one opens).

        Returns how many cookies were restored. Expired cookies are dropped.
        """
        jar = self._cookie_jar()
        count = 0
        now = dt.datetime.now(dt.timezone.utc).timestamp()
        for item in state.get("cookies", ()):
            if item.get("expires") is not None and item["expires"] < now:
                continue
            values = {k: item.get(k) for k in _COOKIE_ATTRS}
            values["rest"] = item.get("rest") or {}
            values["rfc2109"] = bool(item.get("rfc2109", False))
            if jar is not None:
                jar.set_cookie(http.cookiejar.Cookie(**values))
                count += 1
        self._browser_cookies = list(state.get("browser_cookies", ()))
        self._browser_origins = list(state.get("browser_origins", ()))
        return count + len(self._browser_cookies)

    async def export_state(self) -> dict[str, Any]:
        """The session to keep for next time: Scrapy's cookies, and the browser's
        storage state (its cookies and each origin's ``localStorage``)."""
        cookies: list[dict[str, Any]] = []
        jar = self._cookie_jar()
        if jar is not None:
            for cookie in jar:
                item = {k: getattr(cookie, k) for k in _COOKIE_ATTRS}
                item["rest"] = dict(getattr(cookie, "_rest", {}) or {})
                item["rfc2109"] = cookie.rfc2109
                cookies.append(item)
        # Not used this run (no browser page was opened): keep them.
        browser_cookies: list[dict[str, Any]] = list(self._browser_cookies)
        browser_origins: list[dict[str, Any]] = list(self._browser_origins)
        if self._browser_context is not None:
            try:
                storage = await self._browser_context.storage_state()
                browser_cookies = list(storage.get("cookies", []))
                browser_origins = list(storage.get("origins", []))
            except Exception:  # a closed or crashed context has nothing to give
                pass
        return {"version": 1, "cookies": cookies, "browser_cookies": browser_cookies,
                "browser_origins": browser_origins}

    async def close(self) -> None:
        """Close every browser page opened for the plugin (a page left open freezes the crawl)."""
        for page in self._browser_pages:
            try:
                if not page.is_closed():
                    await page.close()
            except Exception:
                pass
        self._browser_pages.clear()
        if self._proxy is not None:
            await self._proxy.close()
            self._proxy = None
        if self._pdf_browser is not None:
            try:
                await self._pdf_browser.close()
                await self._playwright.stop()
            except Exception:
                pass
            self._pdf_browser = self._playwright = None



_RESTORE_PATH = "/__dextcore_restore_storage__"


async def _restore_local_storage(page: Any, origins: list[dict[str, Any]]) -> None:
    """Put saved ``localStorage`` back before the page's first navigation.

    As Playwright does for a context's ``storage_state``: each origin is
    opened on a blank page that the browser serves itself (the route answers
    it; nothing reaches the portal), its items are set, and the route goes.
    The values are never part of a request, its meta or a log line.
    """
    async def blank(route: Any) -> None:
        await route.fulfill(status=200, content_type="text/html", body="<!doctype html><title></title>")

    for entry in origins:
        items = entry.get("localStorage") or []
        origin = str(entry.get("origin", "")).rstrip("/")
        if not origin or not items:
            continue
        url = origin + _RESTORE_PATH
        await page.route(url, blank)
        try:
            await page.goto(url)
            await page.evaluate(
                "items => { for (const item of items) localStorage.setItem(item.name, item.value); }", items)
        finally:
            await page.unroute(url, blank)
