"""Offline tests of the BT page knowledge over pages saved from the sandbox (``save_pages.py``).

No server runs here: each saved page becomes a Scrapy response again and
goes through the same pure functions the hooks use.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Response

from dextcore.crawl.hosts import allowed_hosts_for
from dextcore.outcomes import LayoutChanged
from dextcore.plugins import PluginHost
from dextcore.records import TwoFactorMedium
from dextcore.sandbox import Clock
from dextcore_bt_business.archive import BadArchive, pdfs_in_zip
from dextcore_bt_business.pages import (
    SIGNED_OUT, ErrorKind, Interruption, PageKind, attachment_filename, detect, is_visible, mfa_choices,
    mfa_sent_to, parse_bills, parse_consumer_bills, parse_date, parse_money, visible_error,
)
from dextcore_bt_business.sandbox import BTPortal
from dextcore_bt_business.selectors import BTSelectors

PAGES = Path(__file__).parent / "pages"
INDEX = json.loads((PAGES / "index.json").read_text())
FROZEN_AT = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)  # as save_pages.py
BASE = "http://127.0.0.1:8000/secure.business.bt.com"


def load(name: str) -> Response:
    entry = INDEX[name]
    headers = {"Content-Type": entry["content_type"]}
    if "content_disposition" in entry:
        headers["Content-Disposition"] = entry["content_disposition"]
    body = (PAGES / entry["file"]).read_bytes()
    if entry["file"].endswith(".html"):
        return HtmlResponse(url=entry["url"], status=entry["status"], body=body, headers=headers, encoding="utf-8")
    return Response(url=entry["url"], status=entry["status"], body=body, headers=headers)


def html(name: str, replace: tuple[str, str] | None = None, *, url: str | None = None) -> HtmlResponse:
    """A saved page, optionally edited (one text replaced, which must occur)."""
    page = load(name)
    text = page.text
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    return HtmlResponse(url=url or page.url, status=page.status, body=text.encode(), encoding="utf-8")


def sandbox_bills(account: str):
    """What the sandbox lists for ``account`` on the day the pages were saved (no server needed)."""
    return BTPortal(seed=3, clock=Clock(FROZEN_AT)).bills(account)


def test_every_saved_page_is_indexed_and_the_index_is_complete():
    files = {p.name for p in PAGES.iterdir() if p.name != "index.json"}
    assert files == {e["file"] for e in INDEX.values()}


# -- detection ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind"), [
    ("signin_step1", PageKind.SIGNIN_NAME),
    ("signin_step2", PageKind.SIGNIN_PASSWORD),
    ("signin_wrong_password", PageKind.SIGNIN_PASSWORD),
    ("signin_unknown_login", PageKind.SIGNIN_PASSWORD),
    ("signin_captcha", PageKind.CAPTCHA),
    ("signin_captcha_refused", PageKind.CAPTCHA),
    ("legacy_login", PageKind.LEGACY_LOGIN),
    ("legacy_login_error", PageKind.LEGACY_LOGIN),
    ("mfa_send", PageKind.MFA_SEND),
    ("mfa_code", PageKind.MFA_CODE),
    ("mfa_wrong_code", PageKind.MFA_CODE),
    ("mfa_expired_code", PageKind.MFA_CODE),
    ("change_password", PageKind.INTERRUPTION),
    ("update_contact", PageKind.INTERRUPTION),
    ("my_account", PageKind.LOGGED_IN),
    ("bills_single", PageKind.BILLS),
    ("bills_single_last", PageKind.BILLS),
    ("bills_multi", PageKind.BILLS),
    ("bills_multi_second", PageKind.BILLS),
    ("bill", PageKind.PDF),
    ("bills_zip", PageKind.ZIP),
    ("bill_not_found", PageKind.NOT_FOUND),
    ("expired_pdf", PageKind.SIGNIN_NAME),
    ("logged_out", PageKind.PUBLIC_HOME),
    ("consumer_login", PageKind.CONSUMER_LOGIN),
    ("consumer_login_error", PageKind.CONSUMER_LOGIN),
    ("consumer_bills", PageKind.CONSUMER_BILLS),
    ("v2_signin_step1", PageKind.UNKNOWN),
    ("v2_signin_step2", PageKind.UNKNOWN),
    ("v2_mfa", PageKind.UNKNOWN),
    ("v2_consumer_login", PageKind.UNKNOWN),
    ("v2_bills", PageKind.LOGGED_IN),  # still signed in (a logout link), but no bills table it knows
])
def test_detect_names_every_saved_page(name, kind):
    assert detect(load(name)).kind is kind


def test_a_pdf_link_answered_with_the_sign_in_page_means_signed_out():
    page = load("expired_pdf")
    assert page.status == 200 and "downloadBill" in page.url
    assert detect(page).kind in SIGNED_OUT


# -- errors: only visible ones count ----------------------------------------------------------------------


def test_the_always_present_error_block_is_ignored_while_hidden():
    page = load("signin_step1")
    assert page.css(".error.pageLevel")  # it is there ...
    assert visible_error(page) == "" and detect(page).error_kind is None  # ... but hidden


def test_a_hidden_error_with_text_is_still_no_error():
    page = html("signin_wrong_password", ('aria-hidden="false"', 'aria-hidden="true" style="display: none"'))
    assert detect(page).error == ""
    styled = html("signin_wrong_password", ('aria-hidden="false"', 'style="display:none"'))
    assert detect(styled).error == ""


@pytest.mark.parametrize(("name", "kind", "text"), [
    ("signin_wrong_password", ErrorKind.WRONG_PASSWORD, "Your password is incorrect."),
    ("signin_unknown_login", ErrorKind.UNKNOWN_LOGIN, "We can't find an account"),
    ("signin_captcha_refused", ErrorKind.NOT_ROBOT, "not a robot"),
    ("legacy_login_error", ErrorKind.WRONG_CREDENTIALS, "username or password you entered is incorrect"),
    ("consumer_login_error", ErrorKind.WRONG_CREDENTIALS, "wasn't recognised"),
    ("mfa_wrong_code", ErrorKind.WRONG_CODE, "does not match our records"),
    ("mfa_expired_code", ErrorKind.EXPIRED_CODE, "That code has expired"),
])
def test_visible_errors_are_read_and_classified(name, kind, text):
    found = detect(load(name))
    assert found.error_kind is kind
    assert text in found.error


def test_visibility_looks_at_ancestors_and_the_hidden_attribute():
    page = HtmlResponse(url=BASE, encoding="utf-8", body=(
        b'<div style="display:none"><p id="a">x</p></div><p id="b" hidden>y</p>'
        b'<div aria-hidden="false"><p id="c">z</p></div><p id="d" class="error hidden">w</p>'))
    assert [is_visible(page.css(f"#{i}")[0]) for i in "abcd"] == [False, False, True, False]


# -- interruptions -------------------------------------------------------------------------------------------


def test_interruptions_name_what_the_person_must_do():
    change = detect(load("change_password"))
    assert change.interruption == Interruption("change_password")
    assert "new password" in change.interruption.message
    assert detect(load("update_contact")).interruption == Interruption("update_contact")


@pytest.mark.parametrize(("path", "what"), [("/FirstTimeLoginSQnA.aspx", "security_questions"),
                                            ("/VerifyEmail/EmailNotVerified", "verify_email"),
                                            ("/ChangePassword.do", "change_password")])
def test_interruptions_known_only_by_their_address(path, what):
    page = HtmlResponse(url=BASE + path, encoding="utf-8", body=b"<html><body><h1>Before you continue</h1></body>")
    assert detect(page).interruption == Interruption(what)


def test_interruption_known_by_its_text():
    page = HtmlResponse(url=BASE + "/Intercept/Somewhere", encoding="utf-8",
                        body=b"<html><body><h1>Set your security number</h1><form></form></body>")
    found = detect(page)
    assert found.kind is PageKind.INTERRUPTION and found.interruption.what == "security_number"


# -- two-factor ------------------------------------------------------------------------------------------------


def test_mfa_choices_and_where_the_code_went():
    choices = mfa_choices(load("mfa_send"))
    assert [(c.value, c.medium) for c in choices] == [("phone", TwoFactorMedium.SMS),
                                                      ("email", TwoFactorMedium.EMAIL)]
    assert choices[0].label == "Text message to *********0123"
    assert mfa_sent_to(load("mfa_code")) == "*********0123"
    code_page = load("mfa_code")
    assert code_page.css("input#rememberDevice") and code_page.css("button.verifyCode")


# -- bills ------------------------------------------------------------------------------------------------------


def test_single_account_bills_page_reads_every_field():
    page = parse_bills(load("bills_single"))
    expected = sandbox_bills("GP10293847")[:12]
    assert page.accounts == ("GP10293847",) and page.selected == "GP10293847"
    assert [(b.account_number, b.invoice_number, b.date, b.total, b.vat) for b in page.bills] == [
        (e.account_number, e.invoice_number, e.date, e.total, e.vat) for e in expected]
    first = page.bills[0]
    assert first.currency == "GBP" and first.stable_id == f"GP10293847:{expected[0].invoice_number}"
    assert first.pdf_url == (f"{BASE}/eserve/cust/loggedin/downloadBill.html?accountNumber=GP10293847"
                             f"&invoiceNumber={expected[0].invoice_number}&format=pdf")
    assert page.next_url == f"{BASE}/eserve/cust/loggedin/previousBills.html?accountNumber=GP10293847&page=2"
    assert page.download_all is not None
    assert page.download_all.url == f"{BASE}/eserve/cust/loggedin/downloadAllBills.html"
    assert dict(page.download_all.data) == {"accountNumber": "GP10293847"}


def test_the_last_page_has_no_next_link():
    page = parse_bills(load("bills_single_last"))
    assert len(page.bills) == 27 - 24 and page.next_url is None
    assert page.bills[-1].invoice_number == sandbox_bills("GP10293847")[-1].invoice_number


def test_several_billing_accounts_behind_the_selector():
    page = parse_bills(load("bills_multi"))
    assert page.accounts == ("GP70000001", "GP70000002", "GP70000003") and page.selected == "GP70000001"
    assert {b.account_number for b in page.bills} == {"GP70000001"}
    assert page.account_url("GP70000002") == INDEX["bills_multi_second"]["url"]
    second = parse_bills(load("bills_multi_second"))
    assert second.selected == "GP70000002"
    assert [b.invoice_number for b in second.bills] == [b.invoice_number for b in sandbox_bills("GP70000002")[:12]]


def test_no_bills_is_an_empty_list_but_an_empty_table_is_a_layout_change():
    page = load("bills_single")
    start, end = page.text.index('<table id="previousBillsTable"'), page.text.index("</table>") + len("</table>")
    table = page.text[start:end]
    empty = html("bills_single", (table, '<p class="no-bills">You have no previous bills for this account.</p>'))
    assert parse_bills(empty).bills == ()
    rows = table[table.index("<tbody>") + len("<tbody>"):table.index("</tbody>")]
    hollow = html("bills_single", (rows, ""))
    with pytest.raises(LayoutChanged) as caught:
        parse_bills(hollow)
    assert caught.value.page is hollow


def test_an_unreadable_bill_date_is_a_layout_change_with_the_page():
    first = sandbox_bills("GP10293847")[0]
    shown = f"{first.date.day} {first.date:%b %Y}"
    broken = html("bills_single", (f'<td class="bill-date">{shown}</td>', '<td class="bill-date">soon</td>'))
    with pytest.raises(LayoutChanged) as caught:
        parse_bills(broken)
    assert "soon" in caught.value.what and caught.value.page is broken


def test_the_redesigned_bills_page_is_a_layout_change_not_zero_bills():
    page = load("v2_bills")
    with pytest.raises(LayoutChanged) as caught:
        parse_bills(page)
    assert caught.value.page is page


def test_consumer_bills():
    bills = parse_consumer_bills(load("consumer_bills"))
    expected = sandbox_bills("BT44556677")
    assert [(b.stable_id, b.date, b.total) for b in bills] == [
        (f"BT44556677:{e.invoice_number}", e.date, e.total) for e in expected]
    assert bills[0].pdf_url == (f"http://127.0.0.1:8000/home.bt.com/myaccount/bills/pdf?invoiceNumber="
                                f"{expected[0].invoice_number}")
    with pytest.raises(LayoutChanged):
        parse_consumer_bills(load("consumer_login"))


def test_selectors_can_be_overridden_to_follow_a_redesign():
    class V2(BTSelectors):
        SIGNIN_NAME = ("input#username",) + BTSelectors.SIGNIN_NAME

    assert detect(load("v2_signin_step1")).kind is PageKind.UNKNOWN
    assert detect(load("v2_signin_step1"), V2).kind is PageKind.SIGNIN_NAME


# -- values ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value", "currency"), [
    ("£45.60", Decimal("45.60"), "GBP"), ("£1,234.56", Decimal("1234.56"), "GBP"),
    ("-£3.20", Decimal("-3.20"), "GBP"), ("£3.20 CR", Decimal("-3.20"), "GBP"), ("", None, None),
    ("12.00", Decimal("12.00"), None),
])
def test_parse_money(text, value, currency):
    assert parse_money(text) == (value, currency)


@pytest.mark.parametrize(("text", "date"), [
    ("21 Oct 2026", dt.date(2026, 10, 21)), ("3 September 2025", dt.date(2025, 9, 3)),
    ("03/09/2025", dt.date(2025, 9, 3)), ("2025-09-03", dt.date(2025, 9, 3)), ("next week", None),
])
def test_parse_date(text, date):
    assert parse_date(text) == date


def test_attachment_filename():
    assert attachment_filename(load("bill")) == INDEX["bill"]["content_disposition"].split('"')[1]
    assert attachment_filename(load("bills_single")) is None


# -- the download-all ZIP ------------------------------------------------------------------------------------------


def test_the_saved_zip_unpacks_into_every_bill_pdf():
    members = pdfs_in_zip(load("bills_zip").body)
    expected = sandbox_bills("GP10293847")
    assert list(members) == [b.filename for b in expected]
    assert all(body.startswith(b"%PDF-") for body in members.values())
    assert members[expected[0].filename] == load("bill").body  # same bytes as the per-bill link


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_members_that_are_not_pdfs_are_skipped_and_paths_dropped():
    body = _zip([("readme.txt", b"hello"), ("../../etc/bill.pdf", b"%PDF-1.4 one"), ("sub/", b""),
                 ("sub\\two.pdf", b"%PDF-1.4 two"), ("fake.pdf", b"<html>signed out</html>")])
    assert pdfs_in_zip(body) == {"bill.pdf": b"%PDF-1.4 one", "two.pdf": b"%PDF-1.4 two"}


def test_bad_or_oversized_zips_are_refused():
    with pytest.raises(BadArchive):
        pdfs_in_zip(b"<html>not a zip</html>")
    with pytest.raises(BadArchive, match="larger"):
        pdfs_in_zip(_zip([("big.pdf", b"%PDF-" + b"0" * 2000)]), max_member_bytes=1000)
    with pytest.raises(BadArchive, match="holds 3 files"):
        pdfs_in_zip(_zip([(f"{i}.pdf", b"%PDF-") for i in range(3)]), max_members=2)


# -- the connector record --------------------------------------------------------------------------------------------


def test_the_connector_is_registered_through_its_entry_point():
    host = PluginHost()
    connector = host.connector("bt_business")
    assert host.distribution_of("bt_business") == "dextcore-bt-business"
    assert connector.label == "BT" and connector.default_variant.name == "business"
    assert {v.name: v.base_url for v in connector.variants} == {
        "business": "https://secure.business.bt.com", "consumer": "https://home.bt.com"}
    assert "consumer" in connector.variant("business").hint and "Business" in connector.variant("consumer").hint
    assert connector.two_factor == (TwoFactorMedium.SMS, TwoFactorMedium.EMAIL)
    assert connector.field("code_via").choices == ("phone", "email")
    hosts = allowed_hosts_for(connector.allowed_domains, "https://secure.business.bt.com", override=False)
    for url in ("https://secure.business.bt.com/x", "https://home.bt.com/login", "https://my.bt.com/bills"):
        assert hosts.allows(url)
    for url in ("https://bt.com.example.net/", "https://notbt.com/", "https://www.google.com/recaptcha/api2"):
        assert not hosts.allows(url)
