"""The Amazon sandbox driven over real HTTP, as a browser would (cookies, forms, redirects)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import re
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs, urljoin, urlsplit

import aiohttp
import pyotp
import pypdf
import pytest

from dextcore.sandbox import SandboxServer

from amazon_browser import Browser, Page
from dextcore_amazon_uk.sandbox import AmazonPortal
from dextcore_amazon_uk.sandbox.data import AmazonAccount

SIGNIN_FORM = "form[name=signIn]"


def run(test: Callable[[Browser], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with Browser() as browser:
            return await test(browser)
    return asyncio.run(main())


def account(portal: AmazonPortal, scenario: str, variant: str = "co.uk") -> AmazonAccount:
    return next(a for a in portal.accounts if a.scenario == scenario and a.variant.startswith(variant))


def orders_url(sandbox: SandboxServer, variant: str = "co.uk", year: int | None = None, start: int = 0) -> str:
    query = f"?timeFilter=year-{year}&startIndex={start}" if year else ""
    return sandbox.base_url("amazon", variant) + "/your-orders/orders" + query


async def claim(browser: Browser, sandbox: SandboxServer, who: AmazonAccount, *, target: str | None = None) -> Page:
    """Open a protected page signed out (redirected to sign-in) and submit the e-mail."""
    page = await browser.get(target or orders_url(sandbox, who.variant.removesuffix("-business")))
    assert urlsplit(page.url).path.endswith("/ap/signin")
    return await browser.submit(page, SIGNIN_FORM, {"email": who.username})


async def sign_in(browser: Browser, sandbox: SandboxServer, who: AmazonAccount, password: str | None = None,
                  **submit: Any) -> Page:
    page = await claim(browser, sandbox, who)
    return await browser.submit(page, SIGNIN_FORM, {"password": password or who.password}, **submit)


def alert(page: Page) -> tuple[str, str]:
    box = page.sel.css("div#auth-error-message-box")
    assert box, "no error box"
    return (box.css("h4.a-alert-heading::text").get("").strip(),
            " ".join(box.css(".a-alert-content ::text").getall()).strip())


async def solve_image(browser: Browser, page: Page, img_css: str) -> str:
    src = page.first(f"{img_css}::attr(src)")
    assert src
    image = await browser.get(urljoin(page.url, src))
    assert image.content_type == "image/svg+xml"
    return "".join(re.findall(r">([A-Z])</text>", image.text))


def logged_in(page: Page, name: str) -> bool:
    return page.first("#nav-link-accountList-nav-line-1::text") == f"Hello, {name.split()[0]}"


# -- sign-in ------------------------------------------------------------------------


def test_sign_in_returns_to_the_orders_page_with_the_region_cookie(sandbox, portal):
    who = account(portal, "ok")

    async def go(browser: Browser) -> None:
        page = await browser.get(orders_url(sandbox))
        query = parse_qs(urlsplit(page.url).query)
        assert query["openid.assoc_handle"] == ["gbflex"] and query["openid.mode"] == ["checkid_setup"]
        form = page.sel.css(SIGNIN_FORM)
        hidden = {i.attrib["name"]: i.attrib.get("value", "") for i in form.css("input[type=hidden]")}
        assert hidden["appAction"] == "SIGNIN_PWD_COLLECT" and hidden["subPageType"] == "SignInClaimCollect"
        assert hidden["create"] == "0" and hidden["openid.return_to"].startswith("ape:")
        assert {"appActionToken", "prevRID", "workflowState"} <= hidden.keys()
        assert form.css("input#ap_email[name=email]") and form.css("#continue")
        step2 = await browser.submit(page, SIGNIN_FORM, {"email": who.username})
        form2 = step2.sel.css(SIGNIN_FORM)
        assert form2.css("input[type=hidden][name=email]::attr(value)").get() == who.username
        assert form2.css("input#ap_password[name=password]") and form2.css("#signInSubmit")
        assert form2.css("input[type=checkbox][name=rememberMe][value=true]")
        assert form2.css("input[type=hidden][name=metadata1]") and form2.css("input[name=passkeyEligible]")
        assert browser.cookie("x-acbuk") is None
        done = await browser.submit(step2, SIGNIN_FORM, {"password": who.password})
        assert urlsplit(done.url).path == "/www.amazon.co.uk/your-orders/orders"
        assert logged_in(done, who.name)
        assert browser.cookie("x-acbuk")
    run(go)
    assert [e.detail["username"] for e in portal.events_of("login")] == [who.username]


@pytest.mark.parametrize(("variant", "handle", "cookie", "date_re", "money_re"), [
    ("de", "deflex", "x-acbde", r"^\d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|"
                                r"November|Dezember) \d{4}$", r"^[\d.]+,\d\d €$"),
    ("com", "usflex", "x-main", r"^[A-Z][a-z]+ \d{1,2}, \d{4}$", r"^\$[\d,]+\.\d\d$"),
    ("co.uk", "gbflex", "x-acbuk", r"^\d{1,2} [A-Z][a-z]+ \d{4}$", r"^£[\d,]+\.\d\d$"),
])
def test_each_region_has_its_handle_cookie_date_and_money(sandbox, portal, variant, handle, cookie, date_re, money_re):
    who = account(portal, "ok", variant)
    labels = {"de": ("Bestellung aufgegeben", "Summe")}.get(variant, ("Order placed", "Total"))

    async def go(browser: Browser) -> None:
        page = await browser.get(orders_url(sandbox, variant, year=2025))
        assert parse_qs(urlsplit(page.url).query)["openid.assoc_handle"] == [handle]
        page = await browser.submit(page, SIGNIN_FORM, {"email": who.username})
        page = await browser.submit(page, SIGNIN_FORM, {"password": who.password})
        assert browser.cookie(cookie)
        card = page.sel.css("div.order-card.js-order-card")[0]
        columns = {c.css(".a-text-caps::text").get("").strip(): c.css(".aok-break-word::text").get("").strip()
                   for c in card.css("li.order-header__header-list-item")}
        assert re.match(date_re, columns[labels[0]]), columns
        assert re.match(money_re, columns[labels[1]]), columns
    run(go)


def test_a_foreign_assoc_handle_is_an_internal_error(sandbox):
    async def go(browser: Browser) -> None:
        page = await browser.get(sandbox.base_url("amazon") + "/ap/signin?openid.assoc_handle=deflex")
        assert "Internal Error" in page.text and not page.sel.css(SIGNIN_FORM)
    run(go)


def test_wrong_password_shows_the_problem_box(sandbox, portal):
    stale = next(d for d in portal.demo_accounts() if d.scenario == "wrong-password")
    who = account(portal, "wrong-password")
    assert stale.password != who.password

    async def go(browser: Browser) -> None:
        page = await sign_in(browser, sandbox, who, stale.password)
        assert alert(page) == ("There was a problem", "Your password is incorrect")
        assert page.sel.css(f"{SIGNIN_FORM} input#ap_password")
        assert browser.cookie("x-acbuk") is None
    run(go)
    assert portal.events_of("login_failed")[0].detail["reason"] == "wrong_password"


def test_unknown_email_gets_the_error_box_or_the_intent_page(sandbox, portal):
    emails = [f"nobody{i}@example.co.uk" for i in range(30)]
    error_email = next(e for e in emails if portal.unknown_email_page(e) == "error")
    intent_email = next(e for e in emails if portal.unknown_email_page(e) == "intent")

    async def go(browser: Browser) -> None:
        page = await browser.get(orders_url(sandbox))
        page = await browser.submit(page, SIGNIN_FORM, {"email": error_email})
        assert alert(page) == ("There was a problem", "We cannot find an account with that e-mail address")
        assert page.sel.css(f"{SIGNIN_FORM} input#ap_email")
        page = await browser.submit(page, SIGNIN_FORM, {"email": intent_email})
        assert page.sel.css("form#intent-confirmation-form")
        assert "Looks like you're new to Amazon" in page.first("#intent-confirmation-container h1::text")
    run(go)


def test_the_wrong_variant_does_not_know_the_account(sandbox, portal):
    demo = next(d for d in portal.demo_accounts() if d.scenario == "wrong-variant")
    assert demo.variant == "de"

    async def go(browser: Browser) -> None:
        page = await browser.get(sandbox.base_url("amazon", demo.variant) + "/ap/signin")
        page = await browser.submit(page, SIGNIN_FORM, {"email": demo.username})
        assert not page.sel.css("input#ap_password")
        assert page.sel.css("div#auth-error-message-box") or page.sel.css("form#intent-confirmation-form")
    run(go)


def test_a_post_without_cookies_asks_to_enable_them(sandbox, portal):
    who = account(portal, "ok")

    async def go(browser: Browser) -> None:
        page = await browser.get(sandbox.base_url("amazon") + "/ap/signin")
        fields = {i.attrib["name"]: i.attrib.get("value", "") for i in page.sel.css(f"{SIGNIN_FORM} input[name]")}
        fields["email"] = who.username
        async with aiohttp.ClientSession() as bare:  # no cookie jar shared with the page
            async with bare.post(sandbox.base_url("amazon") + "/ap/signin", data=fields) as response:
                text = await response.text()
        assert "Please Enable Cookies to Continue" in text and "ap_password" not in text
    run(go)


def test_the_passkey_page_links_to_the_password(sandbox, portal):
    who = account(portal, "passkey-first")

    async def go(browser: Browser) -> None:
        page = await claim(browser, sandbox, who)
        assert not page.sel.css("input#ap_password")
        href = page.first("a[href*='selectedChallengeType=password']::attr(href)")
        page = await browser.get(urljoin(page.url, href))
        page = await browser.submit(page, SIGNIN_FORM, {"password": who.password})
        assert logged_in(page, who.name)
    run(go)


# -- captchas and walls --------------------------------------------------------------------


def test_inline_captcha_on_the_password_page(sandbox, portal):
    who = account(portal, "captcha-inline")

    async def go(browser: Browser) -> None:
        page = await sign_in(browser, sandbox, who)
        assert page.sel.css("img#auth-captcha-image") and page.sel.css("input#auth-captcha-guess")
        assert page.sel.css("div#auth-warning-message-box")
        page = await browser.submit(page, SIGNIN_FORM, {"password": who.password, "guess": "WRONG1"})
        assert "Enter the characters as they are given in the challenge." in alert(page)[1]
        answer = await solve_image(browser, page, "img#auth-captcha-image")
        assert len(answer) == 6
        page = await browser.submit(page, SIGNIN_FORM, {"password": who.password, "guess": answer.lower()})
        assert logged_in(page, who.name)
    run(go)
    assert [e.detail["challenge"] for e in portal.events_of("captcha_shown")] == ["inline"]


def test_cvf_captcha_after_the_password(sandbox, portal):
    who = account(portal, "captcha-cvf")
    form = "form.cvf-widget-form-captcha"

    async def go(browser: Browser) -> None:
        page = await sign_in(browser, sandbox, who)
        assert page.sel.css(f"{form} input[name=cvf_captcha_input]")
        page = await browser.submit(page, form, {"cvf_captcha_input": "NOPE00"})
        assert page.sel.css("div.cvf-widget-alert") and browser.cookie("x-acbuk") is None
        page = await browser.submit(page, form, {"cvf_captcha_input": await solve_image(browser, page, f"{form} img")})
        assert logged_in(page, who.name)
    run(go)


def test_robot_check_after_the_password(sandbox, portal):
    who = account(portal, "captcha-robot")
    form = "form[action$='/errors/validateCaptcha']"

    async def go(browser: Browser) -> None:
        page = await sign_in(browser, sandbox, who)
        assert page.sel.css("input#captchacharacters") and "Enter the characters you see below" in page.text
        page = await browser.submit(page, form, {"field-keywords": "XXXXXX"})
        assert page.sel.css("input#captchacharacters")
        page = await browser.submit(page, form, {"field-keywords": await solve_image(browser, page, f"{form} img")})
        assert logged_in(page, who.name) and "/your-orders/orders" in page.url
    run(go)


def test_javascript_wall_after_the_email(sandbox, portal):
    who = account(portal, "jswall")

    async def go(browser: Browser) -> None:
        page = await claim(browser, sandbox, who)
        assert page.status == 202 and page.headers.get("x-amzn-waf-action") == "challenge"
        assert re.search(r"awswaf\.com/.+/challenge\.js$", page.first("script[src*='awswaf.com']::attr(src)"))
        assert not page.sel.css("input#ap_password")
    run(go)


# -- two-step verification ---------------------------------------------------------------------


def test_totp_code_checked_against_the_secret(sandbox, portal, clock):
    who = account(portal, "totp")
    assert who.totp_secret and " " in who.totp_secret  # shown in groups, as Amazon shows it

    async def go(browser: Browser) -> None:
        page = await sign_in(browser, sandbox, who)
        assert page.first("title::text") == "Two-Step Verification"
        form = page.sel.css("form#auth-mfa-form")
        assert form.css("input[name=appAction]::attr(value)").get() == "SIGNIN_MFA"
        assert form.css("input#auth-mfa-otpcode[name=otpCode]") and form.css("input[name=rememberDevice]")
        assert form.css("input[type=hidden][name=deviceId]") and form.css("#auth-signin-button")
        assert "Authenticator App" in form.css("#auth-mfa-prompt::text").get()
        totp = pyotp.TOTP(who.totp_secret.replace(" ", ""))
        wrong = f"{(int(totp.at(clock.now())) + 1) % 1000000:06d}"
        page = await browser.submit(page, "form#auth-mfa-form", {"otpCode": wrong})
        assert alert(page)[1] == "The One Time Password (OTP) you entered is not valid. Please try again."
        page = await browser.submit(page, "form#auth-mfa-form", {"otpCode": totp.at(clock.now())})
        assert logged_in(page, who.name)
    run(go)


def test_sms_device_choice_then_code_from_the_mailbox(sandbox, portal):
    who = account(portal, "sms")

    async def go(browser: Browser) -> None:
        page = await sign_in(browser, sandbox, who)
        form = page.sel.css("form#auth-select-device-form")
        assert form.css("input[name=appAction]::attr(value)").get() == "MFA_NEW_OTP"
        values = form.css("input[type=radio][name=otpDeviceContext]::attr(value)").getall()
        assert [v.split(",")[-1].strip() for v in values] == ["SMS", "VOICE"]
        assert sandbox.mailbox.count(who.phone) == 0  # nothing sent before the choice
        page = await browser.submit(page, "form#auth-select-device-form", {"otpDeviceContext": values[0]},
                                    click="#auth-send-code")
        code = sandbox.mailbox.wait_for_code(who.phone, timeout=5)
        assert page.sel.css("form#auth-mfa-form") and "ending in 23" in page.first("#auth-mfa-prompt::text")
        page = await browser.submit(page, "form#auth-mfa-form", {"otpCode": "000000" if code != "000000" else "1"})
        assert "not valid" in alert(page)[1]
        page = await browser.submit(page, "form#auth-mfa-form", {"otpCode": code})
        assert logged_in(page, who.name)
    run(go)
    assert portal.events_of("code_sent")[0].detail == {"to": who.phone, "channel": "sms"}


def test_remembered_device_skips_the_code_next_time(sandbox, portal):
    who = account(portal, "sms")

    async def otp_login(browser: Browser, *, remember: bool) -> Page:
        page = await sign_in(browser, sandbox, who)
        page = await browser.submit(page, "form#auth-select-device-form")
        code = sandbox.mailbox.last_code(who.phone)
        return await browser.submit(page, "form#auth-mfa-form", {"otpCode": code},
                                    check=("rememberDevice",) if remember else ())

    async def go(browser: Browser) -> None:
        assert logged_in(await otp_login(browser, remember=True), who.name)
        assert browser.cookie("ap-rd-acbuk")
        assert portal.expire_sessions() == 1
        page = await sign_in(browser, sandbox, who)
        assert logged_in(page, who.name) and not page.sel.css("form#auth-select-device-form")

    run(go)
    assert sandbox.mailbox.count(who.phone) == 1
    assert len(portal.events_of("otp_skipped")) == 1

    async def without(browser: Browser) -> None:  # a browser that did not tick the box is asked again
        await otp_login(browser, remember=False)
        portal.expire_sessions()
        page = await sign_in(browser, sandbox, who)
        assert page.sel.css("form#auth-select-device-form")
    run(without)


def test_too_many_otps_in_a_day(sandbox, portal):
    who = account(portal, "sms")
    portal.max_otps_per_day = 1

    async def go(browser: Browser) -> None:
        page = await sign_in(browser, sandbox, who)
        await browser.submit(page, "form#auth-select-device-form")
        page = await sign_in(browser, sandbox, who)
        page = await browser.submit(page, "form#auth-select-device-form")
        assert "You've requested too many OTPs today" in alert(page)[1]
    run(go)
    assert sandbox.mailbox.count(who.phone) == 1


def test_push_approval_completes_after_polls(sandbox, portal):
    who = account(portal, "push")
    portal.push_polls_to_approve = 2

    async def go(browser: Browser) -> None:
        page = await sign_in(browser, sandbox, who)
        assert page.sel.css("form#verification-code-form[action$='/ap/cvf/approval/verifyOtp']")
        statuses = []
        for _ in range(3):
            poll = await browser.submit(page, "form#pollingForm")
            statuses.append(poll.first("input[name=transactionApprovalStatus]::attr(value)"))
        assert statuses == ["TransactionPending", "TransactionPending", "TransactionCompleted"]
        orders = await browser.get(orders_url(sandbox))
        assert logged_in(orders, who.name)
    run(go)
    assert sandbox.mailbox.count(who.phone) == 1


def test_push_approval_code_and_timeout(sandbox, portal, clock):
    who = account(portal, "push")
    portal.push_behaviour = "ignore"

    async def go(browser: Browser) -> None:
        page = await sign_in(browser, sandbox, who)
        code = sandbox.mailbox.last_code(who.phone)
        clock.advance(dt.timedelta(minutes=11))
        poll = await browser.submit(page, "form#pollingForm")
        assert poll.first("input[name=transactionApprovalStatus]::attr(value)") == "TransactionCompletionTimeout"
        page = await sign_in(browser, sandbox, who)  # a new attempt: its code works instead of the approval
        fresh = sandbox.mailbox.last_code(who.phone)
        assert fresh and sandbox.mailbox.count(who.phone) == 2 and code
        page = await browser.submit(page, "form#verification-code-form", {"otpCode": fresh})
        assert logged_in(page, who.name)
    run(go)


# -- business accounts ---------------------------------------------------------------------


def test_sso_account_is_sent_to_a_foreign_identity_provider(sandbox, portal):
    who = account(portal, "sso")

    async def go(browser: Browser) -> None:
        page = await browser.get(orders_url(sandbox))
        page = await browser.submit(page, SIGNIN_FORM, {"email": who.username}, follow=False)
        assert page.status == 302
        target = urlsplit(page.headers["Location"])
        assert target.hostname == "localhost" and target.hostname != urlsplit(page.url).hostname
        assert parse_qs(target.query)["loginfmt"] == [who.username]
    run(go)
    assert portal.events_of("sso_credentials_received") == []


def test_account_switcher_signs_in_as_the_chosen_profile(sandbox, portal):
    who = account(portal, "account-switcher")

    async def go(browser: Browser) -> None:
        page = await sign_in(browser, sandbox, who)
        assert "/ap/switchaccount" in page.url
        links = page.sel.css("#ap-account-switcher-container a[data-name=switch_account_request]")
        assert [a.css("::text").get() for a in links] == list(who.profiles)
        page = await browser.get(urljoin(page.url, links[1].attrib["href"]))
        assert logged_in(page, who.profiles[1])
    run(go)


# -- orders and documents ----------------------------------------------------------------------


async def signed_in(browser: Browser, sandbox: SandboxServer, who: AmazonAccount) -> None:
    page = await sign_in(browser, sandbox, who)
    assert logged_in(page, who.name)


def test_history_pages_add_up_to_the_announced_count(sandbox, portal):
    who = account(portal, "ok")
    expected = [o.order_id for o in portal.orders(who) if o.placed.year == 2025]
    assert len(expected) > 20

    async def go(browser: Browser) -> None:
        await signed_in(browser, sandbox, who)
        page = await browser.get(orders_url(sandbox, year=2025))
        assert page.first(".num-orders::text") == f"{len(expected)} orders"
        assert "placed in" in " ".join(page.css("label.time-filter__label ::text"))
        seen: list[str] = []
        pages = 0
        while True:
            pages += 1
            ids = page.css("div.order-card.js-order-card .yohtmlc-order-id span[dir=ltr]::text")
            assert len(ids) == (10 if pages < 3 else len(expected) - 20)
            seen += ids
            nxt = page.first("ul.a-pagination li.a-last a::attr(href)")
            if nxt is None:
                assert page.sel.css("ul.a-pagination li.a-disabled.a-last")
                break
            page = await browser.get(urljoin(page.url, nxt))
        assert pages == 3 and seen == expected
        empty = await browser.get(orders_url(sandbox, year=2019))
        assert empty.first(".num-orders::text") == "0 orders" and not empty.sel.css("div.order-card")
    run(go)


def test_history_covers_three_years_with_digital_orders(portal):
    who = account(portal, "ok")
    orders = portal.orders(who)
    assert {o.placed.year for o in orders} == {2024, 2025, 2026}
    assert any(o.digital for o in orders)
    assert any(sum(d.kind == "invoice" for d in o.documents) >= 2 for o in orders)
    assert any(d.kind == "credit_note" for o in orders for d in o.documents)
    assert any(o.missing_invoice_seller for o in orders)
    assert portal.orders(who) == AmazonPortal(seed=11, clock=portal.clock).orders(who)  # seeded, stable


def _popover_url(card: Any) -> str:
    return json.loads(card.css("span[data-a-popover]::attr(data-a-popover)").get())["url"]


def test_popover_links_regenerate_and_old_ones_keep_working(sandbox, portal):
    who = account(portal, "ok")
    order = next(o for o in portal.orders(who) if o.placed.year == 2025 and len(o.documents) >= 2)

    async def go(browser: Browser) -> None:
        await signed_in(browser, sandbox, who)
        page = await browser.get(orders_url(sandbox, year=2025))
        while order.order_id not in page.text:
            page = await browser.get(urljoin(page.url, page.first("ul.a-pagination li.a-last a::attr(href)")))
        card = next(c for c in page.sel.css("div.order-card") if order.order_id in c.get())
        url = urljoin(page.url, _popover_url(card))
        assert "relatedRequestId=" in url and f"orderId={order.order_id}" in url
        first, second = await browser.get(url), await browser.get(url)
        links_1 = first.css("ul.invoice-list a::attr(href)")
        links_2 = second.css("ul.invoice-list a::attr(href)")
        labels = [t.strip() for t in first.css("ul.invoice-list a::text")]
        assert labels[0] == "Printable Order Summary" and "print.html?orderID=" in links_1[0]
        pdfs_1 = [h for h in links_1 if h.endswith("/invoice.pdf")]
        pdfs_2 = [h for h in links_2 if h.endswith("/invoice.pdf")]
        assert len(pdfs_1) == len(order.documents) and set(pdfs_1).isdisjoint(pdfs_2)
        for href in (pdfs_1[0], pdfs_2[0]):
            pdf = await browser.get(urljoin(url, href))
            assert pdf.status == 200 and pdf.content_type == "application/pdf" and pdf.body.startswith(b"%PDF")
    run(go)


def test_popover_labels_credit_notes_and_request_invoice(sandbox, portal):
    who = account(portal, "ok")
    refunded = next(o for o in portal.orders(who) if any(d.kind == "credit_note" for d in o.documents))
    missing = next(o for o in portal.orders(who) if o.missing_invoice_seller)

    async def labels(browser: Browser, order_id: str) -> list[str]:
        page = await browser.get(sandbox.base_url("amazon") +
                                 f"/your-orders/invoice/popover?orderId={order_id}&relatedRequestId=X1")
        return [t.strip() for t in page.css("ul.invoice-list a::text")]

    async def go(browser: Browser) -> None:
        await signed_in(browser, sandbox, who)
        refund_labels = await labels(browser, refunded.order_id)
        assert "Credit note 1" in refund_labels and "Invoice 1" in refund_labels
        assert (await labels(browser, missing.order_id))[-1] == "Request invoice"
    run(go)


def test_pdfs_hold_the_invoice_number_seller_and_vat(sandbox, portal):
    who = account(portal, "ok")
    order = next(o for o in portal.orders(who) if len(o.documents) >= 2)

    async def go(browser: Browser) -> None:
        await signed_in(browser, sandbox, who)
        popover = await browser.get(sandbox.base_url("amazon") +
                                    f"/your-orders/invoice/popover?orderId={order.order_id}&relatedRequestId=X1")
        hrefs = [h for h in popover.css("ul.invoice-list a::attr(href)") if h.endswith(".pdf")]
        for doc, href in zip(order.documents, hrefs):
            pdf = await browser.get(urljoin(popover.url, href))
            text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.body)).pages)
            assert doc.number in text and doc.seller in text and order.order_id in text
            assert "VAT: £" in text and doc.seller_vat in text
    run(go)
    assert len(portal.events_of("file_served")) == len(order.documents)


def test_an_expired_session_gets_the_signin_page_with_status_200(sandbox, portal, clock):
    who = account(portal, "ok")
    order = next(o for o in portal.orders(who) if o.documents)

    async def go(browser: Browser) -> None:
        await signed_in(browser, sandbox, who)
        popover = await browser.get(sandbox.base_url("amazon") +
                                    f"/your-orders/invoice/popover?orderId={order.order_id}&relatedRequestId=X1")
        href = urljoin(popover.url, next(h for h in popover.css("ul.invoice-list a::attr(href)") if h.endswith(".pdf")))
        clock.advance(dt.timedelta(hours=25))
        page = await browser.get(href)
        assert page.status == 200 and page.content_type == "text/html" and page.sel.css(SIGNIN_FORM)
        orders = await browser.get(orders_url(sandbox))
        assert "/ap/signin" in orders.url
    run(go)


def test_us_view_invoice_opens_the_printable_summary(sandbox, portal):
    who = account(portal, "ok", "com")

    async def go(browser: Browser) -> None:
        await signed_in(browser, sandbox, who)
        page = await browser.get(orders_url(sandbox, "com", year=2025))
        card = page.sel.css("div.order-card.js-order-card")[0]
        assert not card.css("span[data-a-popover]")
        href = card.xpath(".//a[normalize-space()='View invoice']/@href").get()
        order_id = card.css(".yohtmlc-order-id span[dir=ltr]::text").get()
        summary = await browser.get(urljoin(page.url, href))
        assert summary.first("[data-component=orderId] span::text") == order_id
        assert summary.content_type == "text/html"
    run(go)


def test_redesign_changes_the_markup(sandbox, portal):
    who = account(portal, "ok")
    order = portal.orders(who)[0]

    async def go(browser: Browser) -> None:
        await signed_in(browser, sandbox, who)
        portal.faults.redesign = True
        page = await browser.get(orders_url(sandbox, year=2026))
        assert page.first(".num-orders::text")  # still announced...
        assert not page.sel.css("div.order-card, .js-order-card, .yohtmlc-order-id")  # ...but the cards changed
        assert page.sel.css("[data-component=orderCard]")
        popover = await browser.get(sandbox.base_url("amazon") +
                                    f"/your-orders/invoice/popover?orderId={order.order_id}&relatedRequestId=X1")
        assert not popover.sel.css("ul.invoice-list") and popover.sel.css("a[data-testid=invoice-link]")
        signin = await browser.get(sandbox.base_url("amazon") + "/ap/signin")
        assert not signin.sel.css(SIGNIN_FORM) and signin.sel.css("form#ap_login_form")
    run(go)


def test_demo_accounts_cover_every_scenario(portal):
    scenarios = {d.scenario for d in portal.demo_accounts()}
    assert scenarios >= {"ok", "totp", "sms", "push", "captcha-inline", "captcha-cvf", "captcha-robot", "jswall",
                         "sso", "account-switcher", "wrong-password", "wrong-variant", "passkey-first"}
    assert {d.variant for d in portal.demo_accounts() if d.scenario == "ok"} == {"co.uk", "de", "com"}
    totp = next(d for d in portal.demo_accounts() if d.scenario == "totp")
    assert totp.totp_secret and totp.totp_secret not in repr(totp)
