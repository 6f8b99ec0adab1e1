"""``dextcore new-plugin``: generate a complete supplier plugin distribution.

The files come from the templates in ``dextcore/scaffold/templates``
(package data): ``$name``-style placeholders (:class:`string.Template`)
in file contents, ``__package__`` in paths, ``.tmpl`` suffixes dropped.
The generated plugin works at once: its sandbox portal, its hooks and its
tests (offline page tests on pages saved from that sandbox at generation
time, end-to-end tests through :mod:`dextcore.testing`) all pass.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import importlib.util
import keyword
import re
import shutil
import sys
import tempfile
from decimal import Decimal
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template
from typing import Iterator

import attrs

__all__ = ["PluginNames", "ScaffoldError", "new_plugin"]

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_LABEL_FORBIDDEN = set('"\\{}$\n\r')


class ScaffoldError(ValueError):
    """A name, label, domain or directory the scaffold refuses (shown as one line)."""


@attrs.frozen
class PluginNames:
    """Every spelling of the plugin's name the templates use."""

    name: str
    """Connector, entry point and sandbox portal name: ``acme_uk``."""
    label: str
    """What users see: ``Acme Uk``."""
    domain: str
    """The site's domain: ``acme-uk.example``."""

    @classmethod
    def make(cls, name: str, *, label: str | None = None, domain: str | None = None) -> PluginNames:
        """Validated names; raises :class:`ScaffoldError` with the reason."""
        if not _NAME.fullmatch(name) or keyword.iskeyword(name):
            raise ScaffoldError(f"invalid plugin name {name!r}: use a lowercase Python identifier "
                                f"such as acme or acme_uk")
        label = (label if label is not None else name.replace("_", " ").title()).strip()
        if not label or _LABEL_FORBIDDEN & set(label):
            raise ScaffoldError(f"invalid label {label!r}: give a plain supplier name (no quotes, backslashes, "
                                f"braces or $)")
        domain = (domain if domain is not None else f"{name.replace('_', '-')}.example").strip().lower()
        if not _DOMAIN.fullmatch(domain):
            raise ScaffoldError(f"invalid domain {domain!r}: give the site's domain, such as example.com")
        return cls(name, label, domain)

    @property
    def package(self) -> str:
        return f"dextcore_{self.name}"

    @property
    def distribution(self) -> str:
        return f"dextcore-{self.name.replace('_', '-')}"

    @property
    def class_prefix(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_") if part)

    @property
    def invoice_prefix(self) -> str:
        """What the sandbox's invoice numbers start with: ``ACMEUK``."""
        return self.name.replace("_", "").upper()[:8]

    def substitutions(self) -> dict[str, str]:
        return {"name": self.name, "label": self.label, "domain": self.domain, "package": self.package,
                "dist": self.distribution, "Class": self.class_prefix, "prefix": self.invoice_prefix}


def _templates(root: Traversable, relative: str = "") -> Iterator[tuple[str, str]]:
    """(relative path, text) of every template under ``root``."""
    for item in sorted(root.iterdir(), key=lambda t: t.name):
        if item.name == "__pycache__":
            continue
        path = f"{relative}/{item.name}" if relative else item.name
        if item.is_dir():
            yield from _templates(item, path)
        elif item.name.endswith(".tmpl"):
            yield path.removesuffix(".tmpl"), item.read_text(encoding="utf-8")


def new_plugin(name: str, directory: Path | None = None, *, label: str | None = None,
               domain: str | None = None) -> Path:
    """Create the plugin distribution in ``directory`` (default ``./dextcore-<name>``); returns it.

    Refuses an existing ``directory``. The distribution is assembled in a
    temporary folder next to it and moved into place at the end, so a
    failure leaves nothing half-written.
    """
    names = PluginNames.make(name, label=label, domain=domain)
    target = Path(directory) if directory is not None else Path.cwd() / names.distribution
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another --directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        values = names.substitutions()
        for relative, text in _templates(importlib.resources.files(__name__) / "templates"):
            path = staging / relative.replace("__package__", names.package)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(Template(text).substitute(values), encoding="utf-8")
        _save_pages(staging / "src" / names.package / "sandbox.py", staging / "tests" / "pages", names)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _save_pages(sandbox_file: Path, pages: Path, names: PluginNames) -> None:
    """Render the pages ``tests/test_pages.py`` reads with the generated sandbox's own markup.

    They stand in for pages saved from the real site, which the plugin
    author puts there instead. The invoices are fixed (their values are
    what the generated test expects).
    """
    from dextcore.sandbox import InvoiceLine

    module_name = f"_dextcore_scaffold_{names.name}_sandbox"
    spec = importlib.util.spec_from_file_location(module_name, sandbox_file)
    assert spec is not None and spec.loader is not None
    sandbox = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = sandbox  # attrs resolves the classes' module while they are built
    try:
        spec.loader.exec_module(sandbox)
        invoices = [
            sandbox.Invoice(f"{names.invoice_prefix}-202602-1001", dt.date(2026, 2, 5),
                            (InvoiceLine("Subscription", 1, Decimal("50.00")),)),
            sandbox.Invoice(f"{names.invoice_prefix}-202601-1001", dt.date(2026, 1, 5),
                            (InvoiceLine("Subscription", 1, Decimal("1028.75")),)),
        ]
        rendered = {
            "invoices.html": sandbox.render_invoices(invoices),
            "login_failed.html": sandbox.render_login(sandbox.WRONG_PASSWORD),
            "verify.html": sandbox.render_verify(),
        }
    finally:
        del sys.modules[module_name]
    pages.mkdir(parents=True, exist_ok=True)
    for filename, text in rendered.items():
        (pages / filename).write_text(text, encoding="utf-8")
