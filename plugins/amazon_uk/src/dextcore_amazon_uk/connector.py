"""The ``amazon_uk`` connector record: what the plugin offers to dextcore."""

from __future__ import annotations

from dextcore.records import Connector, ConnectorKind, CredentialField, FieldType, TwoFactorMedium, Variant

__all__ = ["VARIANTS", "make_connector"]

_HINT = ("Amazon accounts belong to one marketplace: pick the site where the account was created "
         "(amazon.co.uk, amazon.de or amazon.com). Amazon Business accounts that sign in through their "
         "company (single sign-on) cannot be connected.")

_USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/131.0.0.0 Safari/537.36")


def _variant(name: str, label: str, host: str, handle: str, cookie: str, currency: str, *,
             default: bool = False, business: bool = False) -> Variant:
    return Variant(name=name, label=label, base_url=f"https://{host}", default=default, hint=_HINT,
                   currency=currency, options={"assoc_handle": handle, "login_cookie": cookie,
                                               "region": name.removesuffix("-business"), "business": business})


VARIANTS: tuple[Variant, ...] = (
    _variant("co.uk", "Amazon UK (amazon.co.uk)", "www.amazon.co.uk", "gbflex", "x-acbuk", "GBP", default=True),
    _variant("de", "Amazon Deutschland (amazon.de)", "www.amazon.de", "deflex", "x-acbde", "EUR"),
    _variant("com", "Amazon US (amazon.com)", "www.amazon.com", "usflex", "x-main", "USD"),
    _variant("co.uk-business", "Amazon Business UK (amazon.co.uk)", "www.amazon.co.uk", "gbflex", "x-acbuk", "GBP",
             business=True),
    _variant("de-business", "Amazon Business Deutschland (amazon.de)", "www.amazon.de", "deflex", "x-acbde", "EUR",
             business=True),
    _variant("com-business", "Amazon Business US (amazon.com)", "www.amazon.com", "usflex", "x-main", "USD",
             business=True),
)
"""Regions differ in host, ``openid.assoc_handle``, logged-in cookie, currency and date format;
business variants use the same sites (their accounts may add an account switcher or SSO)."""


def make_connector(implementation: object) -> Connector:
    """The ``amazon_uk`` connector served by ``implementation`` (the hooks module)."""
    return Connector(
        name="amazon_uk",
        label="Amazon",
        kind=ConnectorKind.SUPPLIER,
        implementation=implementation,
        variants=VARIANTS,
        fields=(
            CredentialField("username", "E-mail address", FieldType.EMAIL, required=True),
            CredentialField("password", "Password", FieldType.PASSWORD, secret=True, required=True),
            CredentialField("totp_secret", "Authenticator key (optional)", FieldType.TOTP_SECRET, secret=True,
                            help="The key Amazon shows when you add an authenticator app under Login & security "
                                 "> Two-Step Verification (\"Can't scan the barcode?\"). With it, codes are "
                                 "generated automatically; spaces are fine."),
            CredentialField("profile", "Account to use (optional)", FieldType.TEXT,
                            help="For logins with several Amazon accounts (business and personal): part of the "
                                 "account's name as the account switcher shows it. Default: the first one."),
        ),
        allowed_domains=("amazon.co.uk", "amazon.de", "amazon.com"),
        two_factor=(TwoFactorMedium.APP, TwoFactorMedium.SMS, TwoFactorMedium.PUSH),
        uses_browser=False,
        settings={"USER_AGENT": _USER_AGENT, "COOKIES_ENABLED": True, "AMAZON_PUSH_POLL_INTERVAL": 5.0},
        description="VAT invoices and credit notes of Amazon orders (one per seller), or the printable order "
                    "summary where no invoice exists (amazon.com).",
        max_concurrency=2,
    )
