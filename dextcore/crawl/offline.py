"""Keep Scrapy's cookie handling off the network.

``CookiesMiddleware`` builds a module-level ``TLDExtract`` that downloads
the public suffix list on first use. dextcore runs on machines without
internet access and must not make requests nobody asked for, so the
extractor is replaced by one that reads only the snapshot bundled with
tldextract (``suffix_list_urls=()``, no cache directory).
"""

from __future__ import annotations

import tldextract
from scrapy.downloadermiddlewares import cookies as _cookies

__all__ = ["make_tldextract_offline"]

_done = False


def make_tldextract_offline() -> None:
    """Idempotent; called before any crawl starts."""
    global _done
    if _done:
        return
    _cookies._split_domain = tldextract.TLDExtract(  # noqa: SLF001 - the middleware reads this global
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )
    _done = True
