"""Page detection and parsing against saved sandbox pages (offline: no server).

The pages in ``pages/`` come from ``save_pages.py`` (sandbox seed 11, clock
frozen at 2026-11-21); the expected orders are the sandbox's own seeded
data, computed here without serving anything.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from dextcore.outcomes import LayoutChanged
from dextcore.records import DocumentKind, TwoFactorMedium

from dextcore_amazon_uk.pages import (
    LinkKind, PageKind, SignInError, detect, is_pdf, layout_changed, parse_amount, parse_date,
    parse_invoice_popover, parse_order_history, query_value,
)
from dextcore_amazon_uk.sandbox import AmazonPortal
from dextcore_amazon_uk.selectors import AmazonSelectors

PAGES = Path(__file__).parent / "pages"
INDEX = json.loads((PAGES / "index.json").read_text())


def saved(name: str) -> HtmlResponse:
    entry = INDEX[name]
    headers = {"Location": entry["location"]} if "location" in entry else {}
    return HtmlResponse(url=entry["url"], status=entry["status"], headers=headers,
                        body=(PAGES / f"{name}.html").read_bytes(), encoding="utf-8")


@pytest.fixture
def data(clock) -> AmazonPortal:
    """The sandbox's seeded data as the pages were saved (the portal is not served)."""
    return AmazonPortal(seed=11, clock=clock)


def orders_of(data: AmazonPortal, variant: str, year: int):
    who = next(a for a in data.accounts if a.scenario == "ok" and a.variant == variant)
    return [o for o in data.orders(who) if o.placed.year == year]


@pytest.mark.parametrize(("name", "kind"), [
    ("signin_email", PageKind.SIGNIN_EMAIL),
    ("signin_password", PageKind.SIGNIN_PASSWORD),
    ("signin_wrong_password", PageKind.SIGNIN_PASSWORD),
    ("signin_unknown_email", PageKind.SIGNIN_EMAIL),
    ("intent", PageKind.INTENT),
    ("passkey", PageKind.PASSKEY),
    ("captcha_inline", PageKind.CAPTCHA_INLINE),
    ("captcha_cvf", PageKind.CAPTCHA_CVF),
    ("captcha_robot", PageKind.CAPTCHA_ROBOT),
    ("js_wall", PageKind.JS_WALL),
    ("otp_device_choice", PageKind.OTP_DEVICE_CHOICE),
    ("otp_entry_sms", PageKind.OTP_ENTRY),
    ("otp_entry_totp", PageKind.OTP_ENTRY),
    ("otp_wrong_code", PageKind.OTP_ENTRY),
    ("push_approval", PageKind.PUSH_APPROVAL),
    ("push_pending", PageKind.PUSH_STATUS),
    ("push_completed", PageKind.PUSH_STATUS),
    ("account_switcher", PageKind.ACCOUNT_SWITCHER),
    ("sso_redirect", PageKind.SSO_REDIRECT),
    ("sso_identity_provider", PageKind.SSO_REDIRECT),
    ("cookies_disabled", PageKind.COOKIES_DISABLED),
    ("home_signed_in", PageKind.LOGGED_IN),
    ("print_summary", PageKind.ORDER_SUMMARY),
    ("orders_uk_2025_0", PageKind.ORDER_HISTORY),
    ("orders_uk_2019", PageKind.ORDER_HISTORY),
    ("orders_de_2025_0", PageKind.ORDER_HISTORY),
    ("orders_com_2025_0", PageKind.ORDER_HISTORY),
    ("popover_multi", PageKind.INVOICE_POPOVER),
    ("expired_pdf", PageKind.SIGNIN_EMAIL),
    ("home_signed_out", PageKind.UNKNOWN),
    ("signin_redesign", PageKind.UNKNOWN),
    ("popover_redesign", PageKind.UNKNOWN),
])
def test_detect_names_every_saved_page(name, kind):
    assert detect(saved(name)).kind is kind


def test_captchas_and_walls_are_flagged_as_such():
    flagged = {n for n in INDEX if detect(saved(n)).is_captcha}
    assert flagged == {"captcha_inline", "captcha_cvf", "captcha_robot", "js_wall"}


@pytest.mark.parametrize(("name", "error_kind", "text"), [
    ("signin_wrong_password", SignInError.WRONG_PASSWORD, "Your password is incorrect"),
    ("signin_unknown_email", SignInError.UNKNOWN_EMAIL, "We cannot find an account with that e-mail address"),
    ("otp_wrong_code", SignInError.WRONG_CODE,
     "The One Time Password (OTP) you entered is not valid. Please try again."),
    ("intent", SignInError.UNKNOWN_EMAIL, ""),
    ("signin_password", None, ""),
])
def test_error_box_message_and_reason(name, error_kind, text):
    page = detect(saved(name))
    assert (page.error_kind, page.error) == (error_kind, text)


def test_two_step_verification_details():
    choice = detect(saved("otp_device_choice"))
    assert [(d.medium, d.value.split(",")[-1].strip()) for d in choice.otp_devices] == [
        (TwoFactorMedium.SMS, "SMS"), (TwoFactorMedium.SMS, "VOICE")]
    assert choice.otp_devices[0].label.startswith("Text me at my number ending in")
    sms = detect(saved("otp_entry_sms"))
    assert sms.otp_medium is TwoFactorMedium.SMS and "ending in 23" in sms.otp_prompt
    assert detect(saved("otp_entry_totp")).otp_medium is TwoFactorMedium.APP
    assert detect(saved("push_approval")).otp_medium is TwoFactorMedium.PUSH
    assert [detect(saved(n)).push_status for n in ("push_pending", "push_pending_2", "push_completed")] == [
        "TransactionPending", "TransactionPending", "TransactionCompleted"]


def test_sso_redirect_names_the_foreign_host():
    for name in ("sso_redirect", "sso_identity_provider"):
        page = detect(saved(name))
        assert (page.sso_host, page.sso_provider) == ("localhost", "Okta")


def test_a_redirect_within_the_site_is_not_sso():
    response = HtmlResponse(url="http://127.0.0.1:8000/www.amazon.co.uk/ap/signin", status=302, body=b"",
                            headers={"Location": "/www.amazon.co.uk/your-orders/orders"})
    assert detect(response).kind is not PageKind.SSO_REDIRECT


def test_passkey_page_gives_the_password_link():
    link = detect(saved("passkey")).password_link
    assert link.startswith("http://127.0.0.1:8000/www.amazon.co.uk/ap/signin?") and "selectedChallengeType=password" in link


def test_signed_in_flag():
    assert detect(saved("home_signed_in")).signed_in and detect(saved("orders_uk_2025_0")).signed_in
    assert not detect(saved("home_signed_out")).signed_in and not detect(saved("signin_email")).signed_in


def test_expired_document_is_html_not_pdf():
    response = saved("expired_pdf")
    assert response.status == 200 and not is_pdf(response)


def test_uk_history_page_cards_match_the_orders(data):
    expected = orders_of(data, "co.uk", 2025)
    page = parse_order_history(saved("orders_uk_2025_0"))
    assert page.problem is None and page.count == len(expected) == 24
    assert [c.order_id for c in page.orders] == [o.order_id for o in expected[:10]]
    for card, order in zip(page.orders, expected):
        assert (card.placed, card.total, card.currency) == (order.placed, order.total, "GBP")
        assert card.details_url.startswith("http://127.0.0.1:8000/www.amazon.co.uk/your-orders/order-details?")
        assert query_value(card.popover_url, "orderId") == order.order_id
        assert query_value(card.popover_url, "relatedRequestId") and card.summary_url is None
    assert query_value(page.next_url, "startIndex") == "10" and query_value(page.next_url, "timeFilter") == "year-2025"
    assert any(c.digital for c in page.orders) == any(o.digital for o in expected[:10])
    assert page.years == (2026, 2025, 2024)


def test_last_history_page_has_no_next(data):
    page = parse_order_history(saved("orders_uk_2025_20"))
    assert [c.order_id for c in page.orders] == [o.order_id for o in orders_of(data, "co.uk", 2025)[20:]]
    assert page.next_url is None and page.problem is None


def test_an_empty_year_is_no_orders_not_a_broken_page():
    page = parse_order_history(saved("orders_uk_2019"))
    assert (page.count, page.orders, page.problem) == (0, (), None)


def test_german_dates_and_euros(data):
    expected = orders_of(data, "de", 2025)
    page = parse_order_history(saved("orders_de_2025_0"))
    assert page.problem is None and page.count == len(expected)
    assert [(c.placed, c.total, c.currency) for c in page.orders] == [(o.placed, o.total, "EUR") for o in expected[:10]]


def test_us_cards_link_the_printable_summary(data):
    expected = orders_of(data, "com", 2025)
    page = parse_order_history(saved("orders_com_2025_0"))
    assert page.problem is None
    assert [(c.placed, c.total, c.currency) for c in page.orders] == [(o.placed, o.total, "USD") for o in expected[:10]]
    assert all(c.popover_url is None and "/gp/css/summary/print.html?orderID=" + c.order_id in c.summary_url
               for c in page.orders)


def test_redesigned_history_is_reported_not_read_as_empty():
    response = saved("orders_redesign")
    page = parse_order_history(response)
    assert page.count == 24 and page.orders == ()
    assert page.problem == "the page announces 24 orders but no order card was recognised"
    error = layout_changed(page.problem, response)
    assert isinstance(error, LayoutChanged) and error.page is response
    assert "/www.amazon.co.uk/your-orders/orders" in error.what


def test_popover_links_kinds_and_labels(data):
    links = parse_invoice_popover(saved("popover_multi"))
    assert [(link.kind, link.label) for link in links] == [
        (LinkKind.SUMMARY, "Printable Order Summary"), (LinkKind.INVOICE, "Invoice 1"), (LinkKind.INVOICE, "Invoice 2")]
    assert all(link.url.startswith("http://127.0.0.1:8000/www.amazon.co.uk/") for link in links)
    assert [link.is_pdf for link in links] == [False, True, True]
    credit = parse_invoice_popover(saved("popover_credit_note"))
    assert [link.kind.document_kind for link in credit if link.kind is LinkKind.CREDIT_NOTE] == [DocumentKind.CREDIT_NOTE]
    request = parse_invoice_popover(saved("popover_request"))
    assert request and all("request" not in link.label.lower() for link in request)
    assert "Request invoice" in (PAGES / "popover_request.html").read_text()


def test_german_popover():
    links = parse_invoice_popover(saved("popover_de"))
    assert [link.kind for link in links][:2] == [LinkKind.SUMMARY, LinkKind.INVOICE]
    assert links[0].label == "Bestellübersicht drucken" and links[1].label == "Rechnung 1"


def test_redesigned_popover_is_none_until_selectors_are_overridden():
    response = saved("popover_redesign")
    assert parse_invoice_popover(response) is None

    class Patched(AmazonSelectors):
        POPOVER_LIST = (".yo-invoice-popover",) + AmazonSelectors.POPOVER_LIST
        POPOVER_LINK = ("a[data-testid=invoice-link]",) + AmazonSelectors.POPOVER_LINK

    links = parse_invoice_popover(response, selectors=Patched)
    assert links and [link.label for link in links][:2] == ["Printable Order Summary", "Invoice 1"]


@pytest.mark.parametrize(("text", "day"), [
    ("5 March 2024", dt.date(2024, 3, 5)), ("5. März 2024", dt.date(2024, 3, 5)),
    ("March 5, 2024", dt.date(2024, 3, 5)), ("31 December 2025", dt.date(2025, 12, 31)),
    ("Smarch 5, 2024", None), ("30 February 2024", None), ("yesterday", None),
])
def test_parse_date(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize(("text", "amount"), [
    ("£1,234.56", (Decimal("1234.56"), "GBP")), ("1.234,56 €", (Decimal("1234.56"), "EUR")),
    ("$12.00", (Decimal("12.00"), "USD")), ("-£3.00", (Decimal("-3.00"), "GBP")),
    ("EUR 7,50", (Decimal("7.50"), "EUR")), ("£1,000", (Decimal("1000"), "GBP")), ("free", None),
])
def test_parse_amount(text, amount):
    assert parse_amount(text) == amount
