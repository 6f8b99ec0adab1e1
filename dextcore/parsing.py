"""Helpers for a plugin's page knowledge (pure functions over responses).

Every portal plugin needs the same few things: try a selector and its
fallbacks in order, read an element's text with the whitespace folded, and
tell a PDF from the sign-in page a portal serves in its place.
"""

from __future__ import annotations

from typing import Iterable

from parsel import Selector, SelectorList

from dextcore.inbox import is_pdf

__all__ = ["clean_text", "is_pdf", "select_first"]


def select_first(node: Selector | SelectorList, candidates: Iterable[str]) -> SelectorList:
    """The matches of the first CSS selector in ``candidates`` that matches
    anything (empty if none): the documented selector first, fallbacks after."""
    for css in candidates:
        found = node.css(css)
        if found:
            return found
    return SelectorList([])


def clean_text(node: Selector | SelectorList | None) -> str:
    """All text under ``node`` with runs of whitespace folded to one space."""
    if node is None:
        return ""
    return " ".join(" ".join(node.css("::text").getall()).split())
