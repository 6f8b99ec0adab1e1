"""Frozen records exchanged between the core and plugins.

Plugins declare what they offer with these records (the registration hook
returns :class:`Connector` records, the way conda plugins return typed
registration records) and describe what they found on a portal with
:class:`DocumentRef`. All records are immutable attrs classes: the core may
share them between crawls without copying.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any, Mapping

import attrs

__all__ = [
    "Challenge",
    "Connector",
    "ConnectorKind",
    "CredentialField",
    "Direction",
    "DocumentKind",
    "DocumentRef",
    "Downloaded",
    "FieldType",
    "TwoFactorMedium",
    "Variant",
]


class ConnectorKind(str, enum.Enum):
    """What a connector connects to."""

    SUPPLIER = "supplier"
    """A portal documents are fetched from (cost or sales direction)."""
    ACCOUNTING = "accounting"
    """Accounting software items are published to."""


class Direction(str, enum.Enum):
    """Whether a supplier connection fetches costs or sales documents."""

    COST = "cost"
    SALES = "sales"


class DocumentKind(str, enum.Enum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    RECEIPT = "receipt"


class FieldType(str, enum.Enum):
    """How a credential field is entered and stored."""

    TEXT = "text"
    EMAIL = "email"
    PASSWORD = "password"
    TOTP_SECRET = "totp_secret"
    """Base32 authenticator secret; codes are generated with pyotp."""
    CHOICE = "choice"


class TwoFactorMedium(str, enum.Enum):
    SMS = "sms"
    EMAIL = "email"
    APP = "app"
    """An authenticator-app (TOTP) code."""
    PUSH = "push"
    """Approval in the supplier's mobile app; no code is typed."""


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen
class Variant:
    """One flavour of a portal: a region or an account type.

    Picking the wrong variant is the commonest cause of rejected logins, so
    ``label`` must make the choice obvious ("Amazon UK (amazon.co.uk)") and
    ``hint`` is shown with an "Incorrect login credentials" status.
    """

    name: str
    label: str
    base_url: str
    """Where the portal lives, e.g. ``https://www.amazon.co.uk``."""
    default: bool = False
    hint: str = ""
    currency: str = ""
    options: Mapping[str, Any] = attrs.field(factory=dict, eq=False)
    """Plugin-private facts about the variant (assoc handles, cookie names)."""


@attrs.frozen
class CredentialField:
    """A value the user enters when connecting.

    ``username`` and ``password`` are always asked; plugins declare extra
    fields (account number, TOTP secret ...) with this record. A field with
    ``secret=True`` is stored only in the vault and never shown back.
    """

    name: str
    label: str
    type: FieldType = FieldType.TEXT
    secret: bool = False
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = attrs.field(default=(), converter=_tuple)

    def __attrs_post_init__(self) -> None:
        if self.type in (FieldType.PASSWORD, FieldType.TOTP_SECRET) and not self.secret:
            raise ValueError(f"credential field {self.name!r} of type {self.type.value} must be secret")


@attrs.frozen
class Connector:
    """A connector a plugin offers, returned by ``register_connectors``.

    ``implementation`` is the object holding the plugin's connector hook
    implementations (a module or class instance registered with pluggy);
    connector hooks are dispatched to it alone.
    """

    name: str
    """Stable identifier (``amazon_uk``); also the Scrapy spider name."""
    label: str
    kind: ConnectorKind
    implementation: object = attrs.field(eq=False, repr=False)
    variants: tuple[Variant, ...] = attrs.field(default=(), converter=_tuple)
    fields: tuple[CredentialField, ...] = attrs.field(default=(), converter=_tuple)
    allowed_domains: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    """Hosts (and their subdomains) requests may go to; credentials are
    never sent elsewhere, whatever the portal redirects to."""
    two_factor: tuple[TwoFactorMedium, ...] = attrs.field(default=(), converter=_tuple)
    uses_browser: bool = False
    """True when the portal needs JavaScript (scrapy-playwright)."""
    settings: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    """Scrapy settings for this connector's crawls (never secrets)."""
    description: str = ""
    max_concurrency: int = 4
    """At most this many connections of this connector run at once."""

    def __attrs_post_init__(self) -> None:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"connector {self.name!r} has duplicate variant names")
        if self.variants and sum(v.default for v in self.variants) > 1:
            raise ValueError(f"connector {self.name!r} has several default variants")

    @property
    def default_variant(self) -> Variant | None:
        for variant in self.variants:
            if variant.default:
                return variant
        return self.variants[0] if self.variants else None

    def variant(self, name: str | None) -> Variant:
        """The variant called ``name`` (the default one for ``None``)."""
        if name is None:
            found = self.default_variant
            if found is None:
                raise KeyError(f"connector {self.name!r} has no variants")
            return found
        for variant in self.variants:
            if variant.name == name:
                return variant
        known = ", ".join(v.name for v in self.variants)
        raise KeyError(f"connector {self.name!r} has no variant {name!r} (known: {known})")

    def field(self, name: str) -> CredentialField | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


@attrs.frozen
class DocumentRef:
    """A document a portal lists, before it is downloaded.

    ``stable_id`` identifies the document within its connection across
    visits; it must not depend on URLs (Amazon regenerates download links on
    every visit). Good ids combine the portal's own keys: order id and
    invoice label, billing account and bill number.
    """

    stable_id: str
    kind: DocumentKind = DocumentKind.INVOICE
    number: str | None = None
    date: dt.date | None = None
    total: Decimal | None = attrs.field(default=None, converter=_decimal)
    currency: str | None = None
    tax: Decimal | None = attrs.field(default=None, converter=_decimal)
    supplier: str | None = None
    """The supplier as the portal/document names it (a marketplace seller on
    Amazon), never pre-selected per connection."""
    url: str | None = attrs.field(default=None, eq=False)
    filename: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, eq=False)
    """Plugin-private data needed by ``download`` (form fields, popover ids)."""


@attrs.frozen
class Challenge:
    """A two-factor challenge raised by a portal.

    ``state`` holds whatever the plugin needs to resume the login with a
    code (hidden form fields, transaction ids); the core keeps it encrypted
    and hands it back to ``handle_2fa``.
    """

    medium: TwoFactorMedium
    prompt: str
    expires_at: dt.datetime | None = None
    state: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen
class Downloaded:
    """The bytes of one document, as ``download`` returns them.

    The inbox validates ``body`` (it must be a PDF) before anything is
    stored; ``filename`` is the portal's name for it and is sanitised.
    """

    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    filename: str | None = None
    content_type: str | None = None
    document: DocumentRef | None = None
    """What the file itself tells about the document, when the listing did
    not show it (Amazon lists "Invoice 1"; the number is on the invoice).
    Replaces the listed :class:`DocumentRef`; its ``stable_id`` must not change."""
