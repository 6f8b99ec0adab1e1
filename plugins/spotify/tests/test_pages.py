"""Offline tests of the Spotify page knowledge against saved, rendered pages
(tests/pages/, made by tests/pages/regenerate.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from dextcore.outcomes import LayoutChanged
from dextcore_spotify import pages
from dextcore_spotify.pages import Invoice, LoginError, Page, PageKind
from dextcore_spotify.sandbox.data import default_accounts, receipts_for
from dextcore_spotify.selectors import SELECTORS

HERE = Path(__file__).resolve().parent / "pages"
INDEX = json.loads((HERE / "index.json").read_text(encoding="utf-8"))
# The saved pages were made with seed 7 on this day (see regenerate.py).
SEED, TODAY = 7, dt.date(2026, 11, 21)


def load(name: str) -> Page:
    return Page((HERE / name).read_text(encoding="utf-8"), INDEX[name]["url"])


def expected(username: str) -> list[tuple[str, dt.date, Decimal, str, bool]]:
    account = next(a for a in default_accounts() if a.username == username)
    return [(r.id, r.sold_on, r.gross, r.country.currency, r.has_pdf)
            for r in receipts_for(account, seed=SEED, today=TODAY)]


def summary(invoices: list[Invoice]) -> list[tuple[str, dt.date, Decimal, str, bool]]:
    return [(i.id, i.date, i.amount, i.currency, i.has_pdf) for i in invoices]


@pytest.mark.parametrize("name", sorted(INDEX))
def test_every_saved_page_is_classified(name):
    assert pages.detect(load(name)) is PageKind(INDEX[name]["kind"])


def test_unrendered_shells_are_classified_from_their_data_and_url():
    login = Page('<div id="root"></div><script id="bootstrap-data" type="application/json">'
                 '{"flowCtx": "x:1", "allowPassword": true}</script>',
                 "https://accounts.spotify.com/login?allow_password=1")
    assert pages.detect(login) is PageKind.LOGIN
    assert pages.detect(Page("<div id=root></div>", "https://accounts.spotify.com/login")) is PageKind.LOGIN_CODE
    assert pages.detect(Page("<div id=root></div>", "https://challenge.spotify.com/c/ab12/recaptcha")) \
        is PageKind.CHALLENGE
    assert pages.detect(Page("<div id=root></div>", "https://challenge.spotify.com/c/ab12/code")) \
        is PageKind.TWO_FACTOR
    assert pages.detect(Page("<p>Choose an account</p>", "https://accounts.google.com/signin")) is PageKind.SSO
    assert pages.detect("<html><body><p>Nothing here</p></body></html>") is PageKind.UNKNOWN


def test_initial_order_history_html_counts_as_logged_in_through_its_data():
    initial = load("order_history_uk_initial.html")
    assert pages.is_logged_in(initial)
    assert not pages.is_logged_in(load("login_password.html"))
    assert pages.is_logged_in(load("account_overview.html"))


def test_login_errors_from_banners():
    assert pages.login_error(load("login_password.html")) is None
    assert pages.login_error(load("login_invalid.html")) is LoginError.INVALID_CREDENTIALS
    assert pages.banner_text(load("login_invalid.html")) == "Incorrect username or password."
    assert pages.login_error(load("login_sso_google.html")) is LoginError.SSO
    assert pages.login_error(load("twofa_wrong_code.html")) is LoginError.INCORRECT_CODE


def test_login_errors_from_banner_text_alone():
    banner = '<div role="alert">{}</div>'
    assert pages.login_error(banner.format("Incorrect username or password.")) is LoginError.INVALID_CREDENTIALS
    assert pages.login_error(banner.format("Please log in with Facebook.")) is LoginError.SSO
    assert pages.sso_provider(banner.format("Please log in with Facebook.")) == "facebook"
    assert pages.login_error(banner.format("Something odd")) is LoginError.OTHER


def test_login_errors_from_json_answers():
    assert pages.login_error(answer={"result": "ok"}) is None
    assert pages.login_error(answer={"error": "errorInvalidCredentials"}) is LoginError.INVALID_CREDENTIALS
    assert pages.login_error(answer={"error": "errorTooManyRequests"}) is LoginError.TOO_MANY_ATTEMPTS
    assert pages.login_error(answer={"error": "errorSomethingNew"}) is LoginError.OTHER
    assert pages.sso_provider(answer={"error": "errorThirdPartyLogin", "provider": "google"}) == "google"
    assert pages.sso_provider(answer={"error": "errorInvalidCredentials"}) is None


def test_sso_provider_from_pages():
    assert pages.sso_provider(load("login_sso_google.html")) == "google"
    assert pages.sso_provider(load("google_signin.html")) == "google"
    # Every login page offers a Google button: that alone is not an SSO account.
    assert pages.sso_provider(load("login_password.html")) is None
    assert pages.sso_provider(load("login_invalid.html")) is None


def test_order_history_parsed_from_next_data():
    invoices = pages.parse_invoices(load("order_history_uk.html"))
    assert summary(invoices) == expected("listener@example.com")
    assert len(invoices) >= 25 and {i.date.year for i in invoices} == {2024, 2025, 2026}
    first = invoices[0]
    assert first.receipt_url == f"http://127.0.0.1:8000/www.spotify.com/uk/account/receipt/{first.id}/"
    assert first.description == "Spotify Premium Individual"
    with_pdf = [i for i in invoices if i.has_pdf]
    assert all(i.pdf_url == f"{i.receipt_url}original/" for i in with_pdf)
    assert 0 < len(invoices) - len(with_pdf) < len(invoices)


def test_initial_html_gives_the_same_invoices_as_the_rendered_page():
    assert pages.parse_invoices(load("order_history_uk_initial.html")) == \
        pages.parse_invoices(load("order_history_uk.html"))


@pytest.mark.parametrize(("country", "user", "currency"), [
    ("de", "hoerer@example.de", "EUR"), ("us", "listener@example.us", "USD"), ("fr", "auditeur@example.fr", "EUR")])
def test_order_history_of_other_countries(country, user, currency):
    invoices = pages.parse_invoices(load(f"order_history_{country}.html"))
    assert summary(invoices) == expected(user)
    assert {i.currency for i in invoices} == {currency}


def _without_next_data(page: Page) -> Page:
    html = re.sub(r'<script id="__NEXT_DATA__".*?</script>', "", page.html, flags=re.S)
    assert "__NEXT_DATA__" not in html
    return Page(html, page.url)


@pytest.mark.parametrize("name", ["order_history_uk.html", "order_history_uk_v2.html", "order_history_fr.html"])
def test_rendered_table_is_the_fallback_without_next_data(name):
    page = load(name)
    from_data = pages.parse_invoices(page)
    from_rows = pages.parse_invoices(_without_next_data(page))
    assert [(i.id, i.date, i.amount, i.currency, i.receipt_url) for i in from_rows] == \
        [(i.id, i.date, i.amount, i.currency, i.receipt_url) for i in from_data]
    assert all(i.pdf_url is None for i in from_rows)  # the table has no PDF links: open the receipt page


def test_pages_that_are_not_order_histories_are_layout_changes():
    with pytest.raises(LayoutChanged):
        pages.parse_invoices(load("login_password.html"))
    odd = Page('<script id="__NEXT_DATA__" type="application/json">{"props": {"pageProps": {"receipts": []}}}'
               "</script>", "https://www.spotify.com/uk/account/order-history/")
    with pytest.raises(LayoutChanged) as caught:
        pages.parse_invoices(odd)
    assert caught.value.page is odd
    bad_row = Page('<table data-testid="invoice-table"><tbody><tr><td>soon</td>'
                   '<td><a href="/uk/account/receipt/P1/">r</a></td></tr></tbody></table>',
                   "https://www.spotify.com/uk/account/order-history/")
    with pytest.raises(LayoutChanged):
        pages.parse_invoices(bad_row)


def test_an_empty_history_is_not_a_layout_change():
    empty = Page('<script id="__NEXT_DATA__" type="application/json">'
                 '{"props": {"pageProps": {"paymentHistoryResult": {"invoices": []}}}}</script>',
                 "https://www.spotify.com/uk/account/order-history/")
    assert pages.parse_invoices(empty) == []


def test_receipt_pages():
    with_pdf, without = load("receipt_page.html"), load("receipt_page_no_pdf.html")
    assert pages.original_receipt_url(with_pdf) == with_pdf.url + "original/"
    assert pages.original_receipt_url(without) is None
    with pytest.raises(LayoutChanged):
        pages.original_receipt_url(load("login_password.html"))


@pytest.mark.parametrize(("text", "country", "day"), [
    ("21 Nov 2026", "uk", dt.date(2026, 11, 21)),
    ("3 Sept 2025", "uk", dt.date(2025, 9, 3)),
    ("3 September 2025", None, dt.date(2025, 9, 3)),
    ("Nov 21, 2026", "us", dt.date(2026, 11, 21)),
    ("Sep 3, 2025", "us", dt.date(2025, 9, 3)),
    ("21.11.2026", "de", dt.date(2026, 11, 21)),
    ("21 nov. 2026", "fr", dt.date(2026, 11, 21)),
    ("3 févr. 2025", "fr", dt.date(2025, 2, 3)),
    ("1 août 2025", "fr", dt.date(2025, 8, 1)),
    ("5. März 2025", "de", dt.date(2025, 3, 5)),
    ("04/05/2025", "uk", dt.date(2025, 5, 4)),
    ("04/05/2025", "us", dt.date(2025, 4, 5)),
    ("2025-05-04", None, dt.date(2025, 5, 4)),
])
def test_parse_date(text, country, day):
    assert pages.parse_date(text, country) == day


@pytest.mark.parametrize("text", ["", "yesterday", "32 Nov 2026", "Smarch 3, 2025"])
def test_parse_date_refuses_nonsense(text):
    with pytest.raises(ValueError):
        pages.parse_date(text, "uk")


@pytest.mark.parametrize(("text", "country", "amount", "currency"), [
    ("£11.99", "uk", "11.99", "GBP"),
    ("11,99\u00a0€", "de", "11.99", "EUR"),
    ("11,99\u202f€", "fr", "11.99", "EUR"),
    ("$11.99", "us", "11.99", "USD"),
    ("1.234,56 €", "de", "1234.56", "EUR"),
    ("£1,234.56", "uk", "1234.56", "GBP"),
    ("EUR 9.99", None, "9.99", "EUR"),
    ("12 €", "fr", "12", "EUR"),
])
def test_parse_amount(text, country, amount, currency):
    assert pages.parse_amount(text, country) == (Decimal(amount), currency)


@pytest.mark.parametrize("text", ["", "free", "£"])
def test_parse_amount_refuses_nonsense(text):
    with pytest.raises(ValueError):
        pages.parse_amount(text, None)


def test_where_things_are():
    assert pages.accounts_base("https://www.spotify.com/uk") == "https://accounts.spotify.com"
    assert pages.accounts_base("http://127.0.0.1:8000/www.spotify.com/de") == \
        "http://127.0.0.1:8000/accounts.spotify.com"
    with pytest.raises(ValueError):
        pages.accounts_base("https://example.com/uk")
    url = pages.login_url("https://www.spotify.com/uk", "https://www.spotify.com/uk/account/order-history/")
    assert url == ("https://accounts.spotify.com/login?allow_password=1&continue="
                   "https%3A%2F%2Fwww.spotify.com%2Fuk%2Faccount%2Forder-history%2F")
    assert pages.country_of("http://127.0.0.1:8000/www.spotify.com/fr/account/overview/") == "fr"
    assert pages.country_of("https://www.spotify.com/us/account/order-history/") == "us"
    assert pages.country_of("https://accounts.spotify.com/login") is None


def test_selectors_can_be_overridden():
    page = load("order_history_uk.html")
    blind = attrs.evolve(SELECTORS, logged_in=("nav [data-testid=new-widget]",), next_data=("script#nothing",))
    assert pages.detect(page) is PageKind.LOGGED_IN
    assert pages.detect(page, blind) is PageKind.UNKNOWN
    assert SELECTORS.first("login_username") == "input#login-username"
    assert SELECTORS.any_of("code_digits").startswith("[data-testid=twofa-digit-input], ")
