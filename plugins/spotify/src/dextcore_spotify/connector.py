"""The Spotify connector record (what the plugin offers to dextcore)."""

from __future__ import annotations

from dextcore.records import (
    Connector,
    ConnectorKind,
    CredentialField,
    FieldType,
    TwoFactorMedium,
    Variant,
)

from typing import Any

__all__ = ["COUNTRY_VARIANTS", "browser_headers", "make_connector"]

_HINT = ("Pick the country your Spotify account belongs to (its receipts are listed on that country's "
         "pages). Accounts created with Google or Facebook have no Spotify password: set one on "
         "spotify.com first.")

COUNTRY_VARIANTS: tuple[Variant, ...] = (
    Variant(name="uk", label="Spotify UK (spotify.com/uk)", base_url="https://www.spotify.com/uk",
            default=True, hint=_HINT, currency="GBP", options={"country": "uk"}),
    Variant(name="de", label="Spotify Deutschland (spotify.com/de)", base_url="https://www.spotify.com/de",
            hint=_HINT, currency="EUR", options={"country": "de"}),
    Variant(name="us", label="Spotify US (spotify.com/us)", base_url="https://www.spotify.com/us",
            hint=_HINT, currency="USD", options={"country": "us"}),
    Variant(name="fr", label="Spotify France (spotify.com/fr)", base_url="https://www.spotify.com/fr",
            hint=_HINT, currency="EUR", options={"country": "fr"}),
)
"""Country paths of www.spotify.com; the base URL keeps the path so
``<base>/account/order-history/`` is the receipts page of that country."""


async def browser_headers(*, browser_type_name: str, playwright_request: Any,
                          scrapy_request_data: dict[str, Any]) -> dict[str, str]:
    """The browser's own headers for every request of the page, with Scrapy's User-Agent.

    scrapy-playwright's default (``use_scrapy_headers``) gives every
    *navigation* of a page the headers of the Scrapy request that opened it:
    a form POST (the 2FA code page) then loses its ``Content-Type`` and the
    portal reads an empty form. Only the User-Agent is taken from Scrapy, so
    the browser does not announce itself as "HeadlessChrome".
    """
    headers = await playwright_request.all_headers()
    agent = scrapy_request_data["headers"].get("User-Agent")
    if agent:
        headers["user-agent"] = agent.decode("latin-1") if isinstance(agent, bytes) else str(agent)
    return headers


def make_connector(implementation: object) -> Connector:
    """The ``spotify`` connector served by ``implementation`` (the hooks module)."""
    return Connector(
        name="spotify",
        label="Spotify",
        kind=ConnectorKind.SUPPLIER,
        implementation=implementation,
        variants=COUNTRY_VARIANTS,
        fields=(
            CredentialField("username", "Email or username", FieldType.EMAIL, required=True),
            CredentialField("password", "Password", FieldType.PASSWORD, secret=True, required=True),
        ),
        allowed_domains=("spotify.com",),
        two_factor=(TwoFactorMedium.EMAIL,),
        uses_browser=True,
        description="Spotify Premium receipts from the account's order history (PDF, or the printed receipt "
                    "page when Spotify has no PDF).",
        max_concurrency=2,
        settings={"PLAYWRIGHT_PROCESS_REQUEST_HEADERS": "dextcore_spotify.connector.browser_headers"},
    )
