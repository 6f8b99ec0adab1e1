"""The Scrapy settings module of dextcore, for Scrapy's own commands.

``SCRAPY_SETTINGS_MODULE=dextcore.crawl.project`` (or the ``scrapy.cfg`` at
the root of a checkout, or scrapyd's ``[settings]`` section) makes the
installed portal connectors a Scrapy project::

    $ scrapy list
    $ scrapy crawl bt_business -a connection=12

The settings are the crawl layer's defaults (the ones the bundled runner
gives every crawl, :func:`dextcore.crawl.settings.runner_settings`) plus
the spider loader. Nothing here is secret: Scrapy logs its settings.
"""

from dextcore.crawl.settings import runner_settings as _runner_settings

# Scrapy reads the upper-case names of this module.
globals().update(_runner_settings())

BOT_NAME = "dextcore"

SPIDER_LOADER_CLASS = "dextcore.crawl.spiderloader.ConnectorSpiderLoader"
"""One spider per installed supplier connector, named after it."""
SPIDER_MODULES: list[str] = []

COMMANDS_MODULE = "dextcore.crawl.commands"
"""``crawl`` exits 1 when the fetch did not end Connected (Scrapy's exits 0 once the crawl ran)."""

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
"""The runner's flow and scrapy-playwright need the asyncio reactor."""

# A crawl holds credentials: no local console able to inspect the process.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

LOG_LEVEL = "INFO"
"""A `scrapy crawl` is watched by someone or by scrapyd's job log (the runner's many crawls log at WARNING)."""
