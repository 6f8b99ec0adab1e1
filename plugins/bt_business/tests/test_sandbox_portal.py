"""The fake BT portal driven over real HTTP the way a browser would."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import pypdf

from dextcore.sandbox import Clock
from dextcore_bt_business.sandbox import BTPortal

OK = ("accounts@acme-trading.example", "Acme-Sandbox-2024")
SMS = ("finance@brightsparks.example", "Bright-Sparks-77")
CHANGE = ("office@oldmill.example", "Old-Mill-Pass-1")
CONTACT = ("admin@harbourlights.example", "Harbour-Lights-9")
CAPTCHA = ("it@quickfix.example", "Quick-Fix-Robot-3")
MULTI = ("ap@northwind-group.example", "Northwind-Multi-5")
CONSUMER = ("jane.smith@homemail.example", "Jane-Home-Pass-8")
PHONE, BACKUP = "+447700900123", "backup@brightsparks.example"
MFA_SEND = "MFAVerifyPrimaryPhoneOrBackupEmailDisplayControl_but_send_code"


def sign_in(browser, base, username, password):
    """Login start → e-mail step → password step; returns the page the last POST ends on."""
    page = browser.open(base + "/Account/LoginRedirect.aspx?tabId=1")
    assert page.has("input", id="signInName") and page.has("button", id="next")
    step2 = browser.submit(page, page.form(id="localAccountForm"), {"signInName": username})
    assert step2.has("input", name="Password")
    return browser.submit(step2, step2.form(id="localAccountForm"), {"Password": password})


def visible_page_error(page) -> str | None:
    found = re.search(r'<div class="error pageLevel" aria-hidden="false"[^>]*><p>([^<]*)</p>', page.text)
    return found.group(1).replace("&#x27;", "'") if found else None


def send_and_verify(browser, page, mailbox, *, to=PHONE, method="phone", remember=False, code=None):
    before = mailbox.count(to)
    page = browser.submit(page, page.form(id="attributeVerification"), {"mfaMethod": method})
    assert page.has("input", id="verificationCode") and page.has("button", class_="verifyCode")
    typed = code if code is not None else mailbox.wait_for_code(to, timeout=5, after=before)
    values = {"verificationCode": typed}
    if remember:
        values["rememberDevice"] = "true"
    return browser.submit(page, page.form(id="verifyCodeForm"), values)


def logged_in(page) -> bool:
    return page.has("a", id="logoutLink") and ">My Account</a>" in page.text


# -- sign-in -------------------------------------------------------------------------


def test_login_ok_lands_on_my_account(browser, base, portal):
    page = sign_in(browser, base, *OK)
    assert page.status == 200 and page.url == base + "/eserve/cust/loggedin/home.html"
    assert logged_in(page)
    assert [e.detail["username"] for e in portal.events_of("login")] == [OK[0]]
    again = browser.open(base + "/Account/LoginRedirect.aspx?tabId=1")  # a logged-in start skips the sign-in
    assert again.url.endswith("/eserve/cust/loggedin/home.html")


def test_wrong_password_shows_the_page_level_error(browser, base, portal):
    page = sign_in(browser, base, OK[0], OK[1] + " ")  # a trailing space is a wrong password
    assert "password" in visible_page_error(page).lower()
    assert not logged_in(page)
    assert portal.events_of("login_failed")[0].detail["reason"] == "wrong-password"
    bills = browser.open(base + "/eserve/cust/loggedin/previousBills.html")
    assert bills.has("input", id="signInName")


def test_the_error_block_is_hidden_until_there_is_an_error(browser, base):
    page = browser.open(base + "/Account/LoginRedirect.aspx?tabId=1")
    assert '<div class="error pageLevel" aria-hidden="true"' in page.text
    assert visible_page_error(page) is None


def test_usernames_are_case_sensitive(browser, base):
    page = sign_in(browser, base, OK[0].capitalize(), OK[1])
    assert "can't find an account" in visible_page_error(page)


def test_legacy_form_still_logs_in(browser, base):
    page = browser.open(base + "/Account/Login.aspx")
    form = page.form(name="Login")
    assert page.has("input", id="USER") and page.has("input", id="PASSWORD")
    wrong = browser.submit(page, form, {"USER": OK[0], "PASSWORD": "nope"})
    assert re.search(r'<div class="error"[^>]*>[^<]*password', wrong.text)
    right = browser.submit(wrong, wrong.form(name="Login"), {"USER": OK[0], "PASSWORD": OK[1]})
    assert logged_in(right)


def test_captcha_blocks_the_password_step(browser, base, portal):
    page = browser.open(base + "/Account/LoginRedirect.aspx?tabId=1")
    step2 = browser.submit(page, page.form(id="localAccountForm"), {"signInName": CAPTCHA[0]})
    assert step2.has("iframe", title="reCAPTCHA")
    after = browser.submit(step2, step2.form(id="localAccountForm"), {"Password": CAPTCHA[1]})
    assert "not a robot" in visible_page_error(after) and after.has("iframe", title="reCAPTCHA")
    assert portal.events_of("login_failed")[0].detail["reason"] == "captcha"


# -- wrong portal ------------------------------------------------------------------------


def test_consumer_login_fails_on_the_business_portal(browser, base, portal):
    page = sign_in(browser, base, *CONSUMER)
    assert "can't find an account with that email address and password" in visible_page_error(page)
    assert portal.events_of("login_failed")[0].detail["reason"] == "wrong-variant"


def test_business_login_fails_on_the_consumer_portal_and_consumer_logs_in(browser, home_base):
    page = browser.open(home_base + "/login/loginform")
    form = page.form(name="loginForm")
    failed = browser.submit(page, form, {"USER": OK[0], "PASSWORD": OK[1]})
    assert re.search(r'<div class="loginerror">[^<]+</div>', failed.text)
    ok = browser.submit(failed, failed.form(name="loginForm"), {"USER": CONSUMER[0], "PASSWORD": CONSUMER[1]})
    assert ok.url == home_base + "/myaccount" and ok.has("a", id="logoutLink")
    links = re.findall(r'href="([^"]+/myaccount/bills/pdf\?invoiceNumber=(MB\d+))"', ok.text)
    assert len(links) == 27
    pdf = browser.open(urljoin(home_base, links[0][0]))
    assert links[0][1] in pypdf.PdfReader(io.BytesIO(pdf.body)).pages[0].extract_text()


def urljoin(base: str, href: str) -> str:
    from urllib.parse import urljoin as join

    return join(base + "/", href)


# -- two-factor -----------------------------------------------------------------------------


def test_sms_code_from_the_mailbox_logs_in_and_remembered_device_skips_it(browser, base, sandbox, portal, make_browser):
    page = sign_in(browser, base, *SMS)
    assert page.url == base + "/B2C/MFA" and page.has("button", id=MFA_SEND)
    assert page.has("button", class_="sendCode") and "*********0123" in page.text
    done = send_and_verify(browser, page, sandbox.mailbox, remember=True)
    assert logged_in(done)
    assert sandbox.mailbox.messages(PHONE)[-1].channel == "sms"
    assert [e.detail for e in portal.events_of("code_sent")] == [{"to": PHONE, "channel": "sms"}]

    browser.open(base + "/Account/Logout.aspx")
    assert logged_in(sign_in(browser, base, *SMS))  # the device cookie spares the code
    assert len(portal.events_of("code_sent")) == 1

    fresh = sign_in(make_browser(), base, *SMS)
    assert fresh.url == base + "/B2C/MFA"


def test_code_to_the_backup_email(browser, base, sandbox):
    page = sign_in(browser, base, *SMS)
    done = send_and_verify(browser, page, sandbox.mailbox, to=BACKUP, method="email")
    assert logged_in(done)
    assert sandbox.mailbox.messages(BACKUP)[-1].channel == "email"


def test_wrong_and_expired_codes_are_refused(browser, base, sandbox, portal):
    page = sign_in(browser, base, *SMS)
    wrong = send_and_verify(browser, page, sandbox.mailbox, code="000000")
    assert "does not match our records" in visible_page_error(wrong)
    assert not logged_in(wrong)
    code = sandbox.mailbox.last_code(PHONE)
    portal.clock.advance(dt.timedelta(minutes=11))
    late = browser.submit(wrong, wrong.form(id="verifyCodeForm"), {"verificationCode": code})
    assert "expired" in visible_page_error(late)
    assert [e.detail["reason"] for e in portal.events_of("code_rejected")] == ["wrong", "expired"]


# -- interruptions ---------------------------------------------------------------------------


def test_change_password_interrupts_until_done(browser, base, portal):
    page = sign_in(browser, base, *CHANGE)
    assert page.url == base + "/ChangePassword.do" and "password has expired" in page.text
    bills = browser.open(base + "/eserve/cust/loggedin/previousBills.html")
    assert bills.url == base + "/ChangePassword.do"
    form = bills.form(name="changePassword")
    done = browser.submit(bills, form, {"currentPassword": CHANGE[1], "newPassword": "Brand-New-Pass-2",
                                        "confirmPassword": "Brand-New-Pass-2"})
    assert logged_in(done)
    browser.open(base + "/Account/Logout.aspx")
    assert "incorrect" in visible_page_error(sign_in(browser, base, *CHANGE))
    assert logged_in(sign_in(browser, base, CHANGE[0], "Brand-New-Pass-2"))


def test_update_contact_interrupts_until_confirmed(browser, base, portal):
    page = sign_in(browser, base, *CONTACT)
    assert page.url == base + "/Intercept/UpdateContact" and page.has("button", id="confirmContactDetails")
    assert portal.events_of("interruption")[0].detail["what"] == "update-contact"
    done = browser.submit(page, page.form(id="updateContactForm"))
    assert logged_in(done)


# -- bills ------------------------------------------------------------------------------------


def bill_rows(page):
    return re.findall(r'<td class="bill-date">([^<]+)</td><td class="account-number">([^<]+)</td>'
                      r'<td class="invoice-number">([^<]+)</td><td class="bill-amount">£([\d,.]+)</td>'
                      r'<td class="bill-vat">£([\d,.]+)</td><td class="bill-pdf"><a class="download-pdf" '
                      r'href="([^"]+)"', page.text)


def all_rows(browser, page):
    rows = []
    while True:
        rows += bill_rows(page)
        nxt = re.search(r'<a class="next" rel="next" href="([^"]+)"', page.text)
        if not nxt:
            return rows
        page = browser.open(urljoin(page.url, nxt.group(1).replace("&amp;", "&")))


def test_bills_of_every_billing_account_with_pdfs(browser, base):
    home = sign_in(browser, base, *MULTI)
    page = browser.open(base + "/eserve/cust/loggedin/previousBills.html")
    assert page.has("div", id="multiAccountsDiv")
    options = re.findall(r'<option value="(GP\d+)"', page.text)
    assert options == ["GP70000001", "GP70000002", "GP70000003"] and logged_in(home)
    seen = set()
    for account in options:
        listing = browser.submit(page, page.form(id="accountSelectForm"), {"accountNumber": account})
        rows = all_rows(browser, listing)
        assert len(rows) == 27 and {r[1] for r in rows} == {account}
        dates = [dt.datetime.strptime(r[0], "%d %b %Y").date() for r in rows]
        assert dates == sorted(dates, reverse=True) and dates[0] <= dt.date(2026, 11, 21)
        assert dates[-1].year <= 2024  # more than two calendar years back
        seen |= {r[2] for r in rows}
        date, _, invoice, amount, vat, href = rows[5]
        pdf = browser.open(urljoin(listing.url, href.replace("&amp;", "&")))
        assert pdf.headers["Content-Type"] == "application/pdf"
        text = pypdf.PdfReader(io.BytesIO(pdf.body)).pages[0].extract_text()
        assert f"Invoice number: {invoice}" in text and f"Account number: {account}" in text
        assert f"Total: £{amount} (GBP)" in text and f"VAT: £{vat}" in text
        assert Decimal(vat) > 0
    assert len(seen) == 81  # invoice numbers are unique


def test_single_account_has_no_selector(browser, base):
    sign_in(browser, base, *OK)
    page = browser.open(base + "/eserve/cust/loggedin/previousBills.html")
    assert not page.has("div", id="multiAccountsDiv") and page.has("span", id="accountNumber")
    assert len(bill_rows(page)) == 12 and page.has("a", rel="next")


def test_download_all_is_a_zip_of_pdfs(browser, base, portal):
    sign_in(browser, base, *OK)
    page = browser.open(base + "/eserve/cust/loggedin/previousBills.html")
    answer = browser.submit(page, page.form(id="downloadAllForm"))
    assert answer.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.body)) as archive:
        names = archive.namelist()
        assert len(names) == 27 and all(n.startswith("BT_Bill_GP10293847_MB") and n.endswith(".pdf") for n in names)
        for name in names[:3]:
            text = pypdf.PdfReader(io.BytesIO(archive.read(name))).pages[0].extract_text()
            assert name.removesuffix(".pdf").rsplit("_", 1)[1] in text
    served = portal.events_of("file_served")
    assert served and served[-1].detail["content_type"] == "application/zip"


def test_someone_elses_bill_is_not_found(browser, base):
    sign_in(browser, base, *OK)
    page = browser.open(base + "/eserve/cust/loggedin/downloadBill.html?accountNumber=GP70000001"
                               "&invoiceNumber=MB1&format=pdf")
    assert page.status == 404


def test_expired_or_absent_session_gets_the_sign_in_page_with_200(browser, base, portal, sandbox, make_browser):
    sign_in(browser, base, *OK)
    href = bill_rows(browser.open(base + "/eserve/cust/loggedin/previousBills.html"))[0][5].replace("&amp;", "&")
    url = urljoin(base, href)
    assert browser.open(url).headers["Content-Type"] == "application/pdf"
    portal.clock.advance(dt.timedelta(minutes=21))
    expired = browser.open(url)
    assert expired.status == 200 and expired.headers["Content-Type"].startswith("text/html")
    assert expired.has("input", id="signInName")

    absent = make_browser().open(url)
    assert absent.status == 200 and absent.has("input", id="signInName")
    assert browser.open(base + "/eserve/cust/loggedin/home.html").url == base + "/B2C/SignIn"


def test_logout_ends_the_session(browser, base):
    sign_in(browser, base, *OK)
    out = browser.open(base + "/Account/Logout.aspx")
    assert "logged out" in out.text
    assert browser.open(base + "/eserve/cust/loggedin/home.html").has("input", id="signInName")


# -- redesign, data, accounts ----------------------------------------------------------------------


def test_redesign_changes_the_markup(browser, base, portal, make_browser):
    sign_in(browser, base, *OK)
    portal.faults.redesign = True
    bills = browser.open(base + "/eserve/cust/loggedin/previousBills.html")
    assert not bills.has("table", id="previousBillsTable") and bills.has("li", class_="bill-card")
    assert not bills.has("a", id="logoutLink")

    page = make_browser().open(base + "/Account/LoginRedirect.aspx?tabId=1")
    assert not page.has("input", id="signInName") and not page.has("button", id="next")
    assert page.has("input", id="username") and "error pageLevel" not in page.text


def test_bills_are_deterministic_per_seed():
    clock = Clock(dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc))
    one, same, other = BTPortal(seed=3, clock=clock), BTPortal(seed=3, clock=clock), BTPortal(seed=4, clock=clock)
    assert one.bills("GP10293847") == same.bills("GP10293847")
    assert one.bills("GP10293847") != other.bills("GP10293847")


def test_demo_accounts_and_variants(sandbox):
    portal = sandbox.portal("bt")
    scenarios = {a.scenario: a for a in portal.demo_accounts()}
    assert {"ok", "sms", "change-password", "update-contact", "captcha", "multi-account", "wrong-variant",
            "consumer"} <= set(scenarios)
    assert scenarios["wrong-variant"].variant == "business" and scenarios["consumer"].variant == "consumer"
    assert scenarios["sms"].phone == PHONE and SMS[1] not in repr(scenarios["sms"])
    root = sandbox.root("bt")
    assert sandbox.base_url("bt") == root + "/secure.business.bt.com"
    assert sandbox.base_url("bt", "consumer") == root + "/home.bt.com"


def test_the_plugin_offers_its_portal_through_the_hook():
    from dextcore.sandbox import discover_portals

    assert BTPortal in discover_portals().portals


def test_the_portal_is_subject_to_fault_injection(browser, base, portal):
    portal.faults.error_rate = 1.0
    assert browser.open(base + "/Account/LoginRedirect.aspx?tabId=1").status in (500, 502, 503)
    portal.faults.clear()
    assert browser.open(base + "/Account/LoginRedirect.aspx?tabId=1").has("input", id="signInName")
