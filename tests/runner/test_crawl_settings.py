"""The settings every crawl starts from, and the runner's cheap copy of them."""

from __future__ import annotations

import copy

from dextcore.crawl.settings import RunnerSettings, runner_settings


def test_runner_settings_copy_equals_a_deep_copy() -> None:
    settings = RunnerSettings(runner_settings({"DOWNLOAD_TIMEOUT": 7}))
    settings.set("CUSTOM_LIST", [1, [2, 3]], priority="cmdline")

    copied = settings.copy()

    assert type(copied) is RunnerSettings
    assert copied.copy_to_dict() == copy.deepcopy(settings).copy_to_dict()
    assert [copied.getpriority(name) for name in copied] == [settings.getpriority(name) for name in settings]
    assert copied["DOWNLOAD_TIMEOUT"] == 7
    # Mutable values are copies, all the way down.
    assert copied["CUSTOM_LIST"] == [1, [2, 3]] and copied["CUSTOM_LIST"] is not settings["CUSTOM_LIST"]
    assert copied["CUSTOM_LIST"][1] is not settings["CUSTOM_LIST"][1]
    assert copied["DOWNLOADER_MIDDLEWARES"] is not settings["DOWNLOADER_MIDDLEWARES"]


def test_changes_to_a_copy_never_reach_the_runner_settings() -> None:
    settings = RunnerSettings(runner_settings())
    middlewares_before = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    codes_before = list(settings.getlist("RETRY_HTTP_CODES"))

    copied = settings.copy()
    copied["DOWNLOADER_MIDDLEWARES"]["evil.Middleware"] = 1  # a nested component dict
    copied["DOWNLOADER_MIDDLEWARES_BASE"].set("scrapy.downloadermiddlewares.retry.RetryMiddleware", None)
    copied["RETRY_HTTP_CODES"].append(418)  # a list value
    copied.set("TELNETCONSOLE_ENABLED", True, priority="cmdline")
    copied.freeze()

    assert dict(settings.getdict("DOWNLOADER_MIDDLEWARES")) == middlewares_before
    assert settings["DOWNLOADER_MIDDLEWARES_BASE"]["scrapy.downloadermiddlewares.retry.RetryMiddleware"] == 550
    assert list(settings.getlist("RETRY_HTTP_CODES")) == codes_before
    assert settings.getbool("TELNETCONSOLE_ENABLED") is False
    assert not settings.frozen
    settings.set("LOG_LEVEL", "INFO")  # the original stays writable after its copy was frozen
