"""The Scrapy settings of dextcore crawls.

Settings are logged by Scrapy ("Overridden settings"), so nothing secret
ever goes here: credentials reach the spider as a handle resolved inside
the process (see :mod:`dextcore.crawl.session`).
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from scrapy.settings import BaseSettings, Settings, SettingsAttribute

from dextcore.records import Connector

__all__ = ["BROWSER_ARGS", "RunnerSettings", "crawl_settings", "runner_settings"]

BROWSER_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    "--disable-features=AutofillServerCommunication,OptimizationHints,Translate,MediaRouter",
)
"""Chromium flags: no sandbox (containers), and no traffic of its own
(component updates, sync, background fetches)."""

CHROMIUM = "/usr/bin/chromium"

_BASE: dict[str, Any] = {
    # Both extensions open local servers able to inspect the process that
    # holds credentials.
    "REMOTE_CONTROL_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "WARNING",
    "LOGSTATS_INTERVAL": 0,
    "ROBOTSTXT_OBEY": False,
    "COOKIES_ENABLED": True,
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 3,
    "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
    "DOWNLOAD_TIMEOUT": 30,
    # The crawl's own pacing; the runner caps concurrency across crawls.
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "DOWNLOAD_DELAY": 0,
    # A dextcore spider yields no items (documents go to the inbox), yet
    # Scrapy starts CONCURRENT_ITEMS tasks (default 100) for each callback's
    # output: one crawl per connection made that a measurable cost.
    "CONCURRENT_ITEMS": 1,
    "DOWNLOAD_MAXSIZE": 64 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 0,
    "USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "DOWNLOADER_MIDDLEWARES": {
        # Replaced by the stricter AllowedHostsMiddleware at the same place.
        "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
        "dextcore.crawl.middlewares.AllowedHostsMiddleware": 50,
    },
    "EXTENSIONS": {
        # Not wanted in a process running hundreds of short crawls.
        "scrapy.extensions.memusage.MemoryUsage": None,
        "scrapy.extensions.memdebug.MemoryDebugger": None,
        "scrapy.extensions.feedexport.FeedExporter": None,
        "scrapy.extensions.spiderstate.SpiderState": None,
        "scrapy.extensions.logstats.LogStats": None,
    },
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
}

_BROWSER: dict[str, Any] = {
    "DOWNLOAD_HANDLERS": {
        "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
        "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    },
    "PLAYWRIGHT_BROWSER_TYPE": "chromium",
    "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": CHROMIUM, "headless": True, "args": list(BROWSER_ARGS)},
    "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 4,
    "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 30_000,
    # The browser's own headers: scrapy-playwright's default stamps the
    # Scrapy request's headers on every navigation, which breaks form posts
    # a plugin makes in the page (their Content-Type is replaced).
    "PLAYWRIGHT_PROCESS_REQUEST_HEADERS": None,
}


def runner_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Settings of the ``AsyncCrawlerRunner`` (shared defaults of all crawls)."""
    settings = {k: (dict(v) if isinstance(v, dict) else v) for k, v in _BASE.items()}
    settings.update(overrides or {})
    return settings


def crawl_settings(connector: Connector, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``custom_settings`` of one connector's spider.

    dextcore's safety settings win over the connector's own
    ``Connector.settings``: a plugin may tune timeouts and pacing but cannot
    re-enable the remote-control console or drop the host check.
    """
    settings = runner_settings()
    if connector.uses_browser:
        settings.update({k: (dict(v) if isinstance(v, dict) else v) for k, v in _BROWSER.items()})
    for key, value in dict(connector.settings).items():
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key] = {**settings[key], **value}
        else:
            settings[key] = value
    for key, value in (overrides or {}).items():
        settings[key] = value
    # Enforced last, whatever the plugin asked for.
    settings["REMOTE_CONTROL_ENABLED"] = False
    settings["TELNETCONSOLE_ENABLED"] = False
    settings["DOWNLOADER_MIDDLEWARES"] = {
        **settings.get("DOWNLOADER_MIDDLEWARES", {}),
        "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
        "dextcore.crawl.middlewares.AllowedHostsMiddleware": 50,
    }
    return settings


class RunnerSettings(Settings):
    """The ``AsyncCrawlerRunner``'s settings, made to be copied cheaply.

    Scrapy copies the runner's settings for every crawler it creates, with
    ``copy.deepcopy``: a millisecond or two of recursing into hundreds of
    strings and numbers, once per connection fetched. This copy shares the
    immutable values and copies everything else, with the same promise:
    nothing done to the copy reaches the original.
    """

    def copy(self) -> RunnerSettings:
        return _copy_settings(self)


_IMMUTABLE = (str, bytes, int, float, bool, type(None), frozenset)


def _copy_settings(settings: Any) -> Any:
    clone = settings.__class__.__new__(settings.__class__)
    clone.__dict__.update(settings.__dict__)
    clone.attributes = {}
    for name, attribute in settings.attributes.items():
        copied = SettingsAttribute.__new__(SettingsAttribute)
        copied.value = _copy_value(attribute.value)
        copied.priority = attribute.priority
        clone.attributes[name] = copied
    return clone


def _copy_value(value: Any) -> Any:
    if isinstance(value, _IMMUTABLE):
        return value
    if isinstance(value, BaseSettings):  # the component dicts (DOWNLOADER_MIDDLEWARES_BASE, ...)
        return _copy_settings(value)
    return copy.deepcopy(value)
