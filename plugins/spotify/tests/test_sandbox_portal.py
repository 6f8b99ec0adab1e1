"""The Spotify sandbox portal: first as plain HTTP sees it (no JavaScript),
then in a real headless Chromium (one browser for the module)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import urllib.parse

import pypdf
import pytest

OK_USER, OK_PASSWORD = "listener@example.com", "correct-horse-1"
TWOFA_USER, TWOFA_PASSWORD = "twofactor@example.com", "correct-horse-3"

pytestmark = pytest.mark.timeout(60)


def _next_invoices(html: str, bootstrap) -> list[dict]:
    return bootstrap(html, "__NEXT_DATA__")["props"]["pageProps"]["paymentHistoryResult"]["invoices"]


def _link(invoice: dict, semantic_id: str) -> str | None:
    return next((m["link"]["url"] for m in invoice["menu"] if m["link"]["semanticId"] == semantic_id), None)


# -- plain HTTP -------------------------------------------------------------------------------------


def test_account_page_without_session_redirects_to_login_without_password_form(sandbox, client):
    base = sandbox.base_url("spotify", "uk")
    reply = client.get(base + "/account/order-history/", follow=False)
    assert reply.status == 302
    location = urllib.parse.urlsplit(reply.headers["Location"])
    assert location.path == "/accounts.spotify.com/login"
    query = urllib.parse.parse_qs(location.query)
    assert query["continue"] == [base + "/account/order-history/"]
    assert "allow_password" not in query


def test_initial_login_html_holds_no_form(accounts, client, bootstrap):
    reply = client.get(accounts + "/login?allow_password=1")
    assert reply.status == 200
    for absent in ("<form", "login-username", "login-password", "login-button", "<input"):
        assert absent not in reply.text
    cfg = bootstrap(reply.text)
    assert cfg["allowPassword"] is True and cfg["flowCtx"]
    assert client.cookie("sp_sso_csrf_token")
    assert bootstrap(client.get(accounts + "/login").text)["allowPassword"] is False


def test_static_script_is_served(accounts, client):
    reply = client.get(accounts + "/static/login.js")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/javascript")
    assert "login/password" in reply.text and "X-Csrf-Token" in reply.text


def test_json_login_needs_the_csrf_header(accounts, client, http_login, portal):
    refused = http_login(client, accounts, OK_USER, OK_PASSWORD, csrf=False)
    assert refused.status == 403 and refused.json() == {"error": "errorInvalidCsrf"}
    assert client.cookie("sp_dc") is None
    accepted = http_login(client, accounts, OK_USER, OK_PASSWORD)
    assert accepted.status == 200 and accepted.json() == {"result": "ok"}
    assert client.cookie("sp_dc")
    assert portal.events_of("login")[-1].detail["username"] == OK_USER


def test_wrong_password_is_invalid_credentials(accounts, client, http_login, portal):
    reply = http_login(client, accounts, OK_USER, "wrong-password")
    assert reply.status == 400 and reply.json() == {"error": "errorInvalidCredentials"}
    assert client.cookie("sp_dc") is None
    assert "wrong-password" not in repr(portal.events)


def test_repeated_failures_lock_the_username(accounts, client, http_login, portal):
    for _ in range(5):
        assert http_login(client, accounts, OK_USER, "nope").json()["error"] == "errorInvalidCredentials"
    locked = http_login(client, accounts, OK_USER, OK_PASSWORD)
    assert locked.status == 429 and locked.json() == {"error": "errorTooManyRequests"}


def test_google_account_is_told_to_use_google(accounts, client, http_login):
    reply = http_login(client, accounts, "google-user@example.com", "anything")
    assert reply.json() == {"error": "errorThirdPartyLogin", "provider": "google"}


def test_challenge_account_and_missing_recaptcha_go_to_the_challenge_page(accounts, client, http_login, bootstrap):
    for user, password, recaptcha in (("suspicious@example.com", "correct-horse-4", True),
                                      (OK_USER, OK_PASSWORD, False)):
        reply = http_login(client, accounts, user, password, recaptcha=recaptcha).json()
        assert reply["result"] == "redirect_required"
        assert re.search(r"/challenge\.spotify\.com/c/[0-9a-f]+/recaptcha$", reply["redirect_url"])
        page = client.get(reply["redirect_url"])
        assert bootstrap(page.text)["kind"] == "recaptcha" and "g-recaptcha" not in page.text
        assert client.cookie("sp_dc") is None


def test_order_history_html_holds_next_data_but_no_table(sandbox, client, http_login, accounts, portal, bootstrap):
    http_login(client, accounts, OK_USER, OK_PASSWORD)
    reply = client.get(sandbox.base_url("spotify", "uk") + "/account/order-history/")
    assert reply.status == 200
    assert "invoice-table" not in reply.text and "<table" not in reply.text and "table-receipt" not in reply.text
    invoices = _next_invoices(reply.text, bootstrap)
    expected = portal.receipts(OK_USER)
    assert [i["id"] for i in invoices] == [r.id for r in expected]
    assert len({r.sold_on.year for r in expected}) >= 3  # spans 2+ calendar years back
    assert expected[0].sold_on <= dt.date(2026, 11, 21) and expected[-1].sold_on <= dt.date(2024, 8, 31)
    first = invoices[0]
    assert first["formattedAmountSummary"] == "£11.99" and re.fullmatch(r"\d{1,2} \w{3,4} 2026", first["formattedSoldAt"])


def test_receipt_pdf_needs_the_session_cookie(sandbox, client, http_login, accounts, bootstrap, new_client):
    http_login(client, accounts, OK_USER, OK_PASSWORD)
    invoices = _next_invoices(client.get(sandbox.base_url("spotify", "uk") + "/account/order-history/").text, bootstrap)
    invoice = next(i for i in invoices if _link(i, "original-receipt"))
    pdf_url = _link(invoice, "original-receipt")
    reply = client.get(pdf_url)
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(reply.body)).pages[0].extract_text()
    assert invoice["id"] in text and "11.99" in text

    stranger = new_client()
    redirected = stranger.get(pdf_url, follow=False)
    assert redirected.status == 302 and "/accounts.spotify.com/login?" in redirected.headers["Location"]
    landed = stranger.get(pdf_url)  # what a client that follows redirects ends up holding
    assert landed.status == 200 and landed.headers["Content-Type"].startswith("text/html")
    assert not landed.body.startswith(b"%PDF")


def test_gift_card_receipts_have_only_an_html_page(sandbox, client, http_login, accounts, bootstrap, portal):
    http_login(client, accounts, OK_USER, OK_PASSWORD)
    invoices = _next_invoices(client.get(sandbox.base_url("spotify", "uk") + "/account/order-history/").text, bootstrap)
    without_pdf = [i for i in invoices if _link(i, "original-receipt") is None]
    assert 1 <= len(without_pdf) < len(invoices) / 3
    page = client.get(_link(without_pdf[0], "receipt"))
    assert page.status == 200 and without_pdf[0]["id"] in page.text and 'data-testid="no-original-receipt"' in page.text
    missing = client.get(_link(without_pdf[0], "receipt") + "original/")
    assert missing.status == 404


def test_country_paths_and_currencies(sandbox, client, http_login, accounts, bootstrap):
    http_login(client, accounts, "hoerer@example.de", "richtiges-pferd-1")
    wrong_country = client.get(sandbox.base_url("spotify", "uk") + "/account/order-history/", follow=False)
    assert wrong_country.status == 302
    assert wrong_country.headers["Location"].endswith("/www.spotify.com/de/account/order-history/")
    invoices = _next_invoices(client.get(sandbox.base_url("spotify", "de") + "/account/order-history/").text, bootstrap)
    assert invoices[0]["formattedAmountSummary"] == "12,99\u00a0€"
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", invoices[0]["formattedSoldAt"])


def test_two_factor_code_by_http_expires_and_is_checked(sandbox, accounts, client, http_login, bootstrap, portal):
    before = sandbox.mailbox.count(TWOFA_USER)
    reply = http_login(client, accounts, TWOFA_USER, TWOFA_PASSWORD).json()
    assert reply["result"] == "redirect_required" and reply["redirect_url"].endswith("/code")
    code = sandbox.mailbox.wait_for_code(TWOFA_USER, after=before, timeout=5)
    cfg = bootstrap(client.get(reply["redirect_url"]).text)
    assert cfg["kind"] == "email-code" and cfg["allowTrust"] is True
    wrong = "000000" if code != "000000" else "111111"
    rejected = client.post_form(reply["redirect_url"], {"code": wrong, "csrf": cfg["csrf"]})
    assert rejected.status == 400 and bootstrap(rejected.text)["error"] == "errorInvalidCode"
    portal.clock.advance(dt.timedelta(minutes=11))
    expired = client.post_form(reply["redirect_url"], {"code": code, "csrf": cfg["csrf"]})
    assert bootstrap(expired.text)["error"] == "errorCodeExpired"
    assert client.cookie("sp_dc") is None


# -- headless Chromium ---------------------------------------------------------------------------------


def _login_in_browser(page, sandbox, username: str, password: str) -> None:
    base = sandbox.base_url("spotify", "uk")
    accounts = sandbox.root("spotify") + "/accounts.spotify.com"
    target = base + "/account/order-history/"
    page.goto(f"{accounts}/login?allow_password=1&continue={urllib.parse.quote(target, safe='')}")
    page.fill("input#login-username", username)
    page.fill("input#login-password", password)
    page.click("#login-button")


def test_browser_builds_the_form_and_table_and_logs_in(page, sandbox, portal):
    base = sandbox.base_url("spotify", "uk")
    page.goto(base + "/account/order-history/")
    page.wait_for_selector("[data-testid=login-with-password]")
    assert page.locator("input#login-password").count() == 0  # the default is "email me a code"
    _login_in_browser(page, sandbox, OK_USER, OK_PASSWORD)
    page.wait_for_url(re.compile(r"/www\.spotify\.com/uk/account/order-history/$"))
    page.wait_for_selector("button[data-testid=user-widget-link]")
    rows = page.locator("[data-testid=invoice-table] tbody tr")
    assert rows.count() == len(portal.receipts(OK_USER))
    assert page.locator("[data-testid=table-receipt]").first.get_attribute("href").endswith(
        f"/account/receipt/{portal.receipts(OK_USER)[0].id}/")
    assert any(c["name"] == "sp_dc" for c in page.context.cookies())


def test_browser_shows_the_invalid_credentials_banner(page, sandbox):
    _login_in_browser(page, sandbox, OK_USER, "wrong-password")
    banner = page.wait_for_selector("div[data-encore-id=banner][role=alert]")
    assert banner.inner_text() == "Incorrect username or password."
    assert "/accounts.spotify.com/login" in page.url


def test_browser_two_factor_and_trusted_device(page, sandbox, portal):
    mailbox = sandbox.mailbox
    before = mailbox.count(TWOFA_USER)
    _login_in_browser(page, sandbox, TWOFA_USER, TWOFA_PASSWORD)
    page.wait_for_url(re.compile(r"/challenge\.spotify\.com/c/\w+/code$"))
    code = mailbox.wait_for_code(TWOFA_USER, after=before, timeout=5)
    page.fill("input[name=code]", code)
    page.check("input[name=trusted]")
    page.click("button[type=submit][data-testid=twofa-submit]")
    page.wait_for_url(re.compile(r"/www\.spotify\.com/uk/account/order-history/$"))
    page.wait_for_selector("[data-testid=invoice-table]")

    portal.expire_sessions()  # a later run: the session is gone, the device cookie is kept
    sent = mailbox.count(TWOFA_USER)
    _login_in_browser(page, sandbox, TWOFA_USER, TWOFA_PASSWORD)
    page.wait_for_url(re.compile(r"/www\.spotify\.com/uk/account/order-history/$"))
    page.wait_for_selector("button[data-testid=user-widget-link]")
    assert mailbox.count(TWOFA_USER) == sent


def test_browser_redesign_changes_the_markup(page, sandbox, portal):
    portal.faults.redesign = True
    page.goto(sandbox.root("spotify") + "/accounts.spotify.com/login?allow_password=1")
    page.wait_for_selector("input[data-testid=login-username]")
    assert page.locator("input#login-username").count() == 0 and page.locator("#login-button").count() == 0
    page.fill("input[data-testid=login-username]", OK_USER)
    page.fill("input[data-testid=login-password]", OK_PASSWORD)
    page.click("button[data-testid=login-button]")
    page.wait_for_url(re.compile(r"/account/overview/$"))
    page.goto(sandbox.base_url("spotify", "uk") + "/account/order-history/")
    page.wait_for_selector("[data-testid=payment-history] [role=row][data-id]")
    assert page.locator("[data-testid=invoice-table]").count() == 0
    assert json.loads(page.locator("script#__NEXT_DATA__").text_content())["props"]["pageProps"]["redesign"] is True
