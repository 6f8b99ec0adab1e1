"""Saved pages as Scrapy responses, for offline parser tests."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any, Mapping

__all__ = ["load_page"]


def load_page(path: str | Path, url: str = "https://example.com/", status: int = 200,
              headers: Mapping[str, str] | None = None) -> Any:
    """The file at ``path`` as the response a crawl would have received from ``url``.

    The response class follows the ``Content-Type`` header when given,
    else the file's extension, else Scrapy's sniffing of the content:
    :class:`~scrapy.http.HtmlResponse` for a saved ``.html``
    page (so ``.css()`` and ``.xpath()`` work), ``TextResponse`` for JSON
    or text, a plain ``Response`` for PDFs and archives. Without a
    ``Content-Type`` header, HTML and text files are read as UTF-8 unless
    the page declares its own encoding.
    """
    from scrapy.http import TextResponse
    from scrapy.responsetypes import responsetypes

    path = Path(path)
    body = path.read_bytes()
    given = dict(headers or {})
    typed = any(k.lower() == "content-type" for k in given)
    mimetype, _ = mimetypes.guess_type(path.name)
    if mimetype and not typed:
        # The file's extension is what the portal served (a .pdf stays binary even when it looks like text).
        cls = responsetypes.from_mimetype(mimetype)
    else:
        cls = responsetypes.from_args(headers=given or None, url=url, filename=path.name, body=body)
    if issubclass(cls, TextResponse) and not typed:
        # Saved pages lose their HTTP headers; a meta charset in the page still wins over this default.
        declared = cls(url=url, body=body).encoding if b"charset" in body[:4096].lower() else None
        return cls(url=url, status=status, headers=given, body=body, encoding=declared or "utf-8")
    return cls(url=url, status=status, headers=given, body=body)
