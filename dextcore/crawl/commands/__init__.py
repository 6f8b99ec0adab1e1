"""Scrapy commands of the dextcore project (``COMMANDS_MODULE``): ``crawl``,
whose exit status says how the fetch ended."""
