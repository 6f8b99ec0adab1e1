"""Every CSS selector the Spotify connector uses, in one overridable place.

Each entry is a tuple tried in order: the selector the public scrapers
document first (docs/reference/portals.md, "Spotify"), then generic
fallbacks (``name`` attributes, ARIA roles, URL shapes) that survive a
redesign renaming test ids. When none matches, the page functions report
the page as not understood (status "Plugin broken") instead of guessing.

Override for a site change without a release::

    from dextcore_spotify import selectors
    custom = attrs.evolve(selectors.SELECTORS, logged_in=("nav [data-testid=new-widget]",))
"""

from __future__ import annotations

import attrs

__all__ = ["SELECTORS", "SpotifySelectors"]

Alternatives = tuple[str, ...]


def _tuple(value: object) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]


@attrs.frozen
class SpotifySelectors:
    """CSS selectors (alternatives, best first) of spotify.com pages."""

    # accounts.spotify.com/login (rendered by JavaScript)
    login_username: Alternatives = attrs.field(converter=_tuple, default=(
        "input#login-username", "input[name=username]", "input[autocomplete=username]"))
    login_password: Alternatives = attrs.field(converter=_tuple, default=(
        "input#login-password", "input[name=password][type=password]", "input[type=password]"))
    login_button: Alternatives = attrs.field(converter=_tuple, default=(
        "#login-button", "form button[type=submit]"))
    login_remember: Alternatives = attrs.field(converter=_tuple, default=(
        "input#login-remember", "input[name=remember][type=checkbox]"))
    login_with_password: Alternatives = attrs.field(converter=_tuple, default=(
        "[data-testid=login-with-password]", "a[href*='allow_password=1']"))
    error_banner: Alternatives = attrs.field(converter=_tuple, default=(
        "div[data-encore-id=banner]", "[role=alert]"))
    sso_buttons: Alternatives = attrs.field(converter=_tuple, default=(
        "[data-testid=google-login]", "[data-testid=facebook-login]", "[data-testid=apple-login]"))
    bootstrap_data: Alternatives = attrs.field(converter=_tuple, default=("script#bootstrap-data",))

    # challenge.spotify.com: e-mailed code ("2FA") and reCAPTCHA
    code_input: Alternatives = attrs.field(converter=_tuple, default=(
        "input[name=code]:not([type=hidden])", "input[autocomplete=one-time-code]"))
    code_digits: Alternatives = attrs.field(converter=_tuple, default=(
        "[data-testid=twofa-digit-input]", "input[aria-label^=Digit]"))
    code_trusted: Alternatives = attrs.field(converter=_tuple, default=(
        "input[name=trusted]", "input[type=checkbox][id*=trust]"))
    code_submit: Alternatives = attrs.field(converter=_tuple, default=(
        "button[data-testid=twofa-submit]", "form:has(input[name=code]) button[type=submit]"))
    captcha: Alternatives = attrs.field(converter=_tuple, default=(
        "[data-testid=recaptcha-challenge]", ".g-recaptcha", "iframe[title*=reCAPTCHA]", "iframe[src*=recaptcha]"))

    # www.spotify.com/<cc>/account/*
    logged_in: Alternatives = attrs.field(converter=_tuple, default=(
        "button[data-testid=user-widget-link]", "a[href*='/logout']"))
    next_data: Alternatives = attrs.field(converter=_tuple, default=("script#__NEXT_DATA__",))
    invoice_rows: Alternatives = attrs.field(converter=_tuple, default=(
        "[data-testid=invoice-table] tbody tr", "[data-testid=invoice-table] tr:has(td)",
        "[role=table] [role=row]:has(a[href*='/receipt/'])", "table tr:has(a[href*='/receipt/'])"))
    receipt_link: Alternatives = attrs.field(converter=_tuple, default=(
        "a[data-testid=table-receipt]", "a[href*='/receipt/']"))
    original_receipt_link: Alternatives = attrs.field(converter=_tuple, default=(
        "a[data-testid=download-original-receipt]", "a[href$='/original/']"))
    receipt_article: Alternatives = attrs.field(converter=_tuple, default=(
        "article[data-testid=receipt]", "article[data-receipt-id]", "main article"))

    def first(self, name: str) -> str:
        """The preferred selector of ``name``."""
        return getattr(self, name)[0]

    def any_of(self, name: str) -> str:
        """All alternatives of ``name`` joined into one CSS selector list (for browsers' waits)."""
        return ", ".join(getattr(self, name))


SELECTORS = SpotifySelectors()
"""The default selectors."""
