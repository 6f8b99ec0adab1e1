"""Regenerate the saved BT pages in ``tests/pages/`` from the sandbox.

Run: ``.venv/bin/python plugins/bt_business/tests/save_pages.py``. It starts
the BT sandbox (seed 3, clock frozen at ``FROZEN_AT`` like the tests), walks
every sign-in scenario, the two-factor pages, the interruptions, the bills
lists, the consumer site and the redesigned (v2) markup as a browser would,
and writes each answer as ``<name>.html`` (``.pdf``/``.zip`` for files) plus
``index.json`` (URL, status and content headers of each). The offline
tests (``test_pages.py``) rebuild Scrapy responses from them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from conftest import FROZEN_AT, Browser, Page  # noqa: E402

from dextcore.sandbox import Clock, SandboxServer  # noqa: E402

from dextcore_bt_business.sandbox import BTPortal  # noqa: E402

SEED = 3
PAGES = HERE / "pages"
STABLE_PORT = "8000"
OK = ("accounts@acme-trading.example", "Acme-Sandbox-2024")
SMS = ("finance@brightsparks.example", "Bright-Sparks-77")
CHANGE = ("office@oldmill.example", "Old-Mill-Pass-1")
CONTACT = ("admin@harbourlights.example", "Harbour-Lights-9")
CAPTCHA = ("it@quickfix.example", "Quick-Fix-Robot-3")
MULTI = ("ap@northwind-group.example", "Northwind-Multi-5")
CONSUMER = ("jane.smith@homemail.example", "Jane-Home-Pass-8")
PHONE = "+447700900123"


class Recorder:
    def __init__(self, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self.portal: BTPortal = sandbox.portal("bt")  # type: ignore[assignment]
        self.port = sandbox.root("bt").rsplit(":", 1)[1]
        self.base = sandbox.base_url("bt", "business")
        self.home = sandbox.base_url("bt", "consumer")
        self.index: dict[str, dict[str, Any]] = {}

    def stable(self, text: str) -> str:
        """The sandbox's random port and CSRF tokens replaced by fixed ones, so saved files do not churn."""
        text = re.sub(r'(name="csrf_token" value=")[^"]*"', r'\1saved-csrf-token"', text)
        return text.replace(f"127.0.0.1:{self.port}", f"127.0.0.1:{STABLE_PORT}")

    def save(self, name: str, page: Page) -> Page:
        content_type = page.headers.get("Content-Type", "")
        suffix = ".pdf" if "pdf" in content_type else ".zip" if "zip" in content_type else ".html"
        body = page.body if suffix != ".html" else self.stable(page.text).encode()
        (PAGES / f"{name}{suffix}").write_bytes(body)
        entry: dict[str, Any] = {"file": f"{name}{suffix}", "url": self.stable(page.url), "status": page.status,
                                 "content_type": content_type}
        if "Content-Disposition" in page.headers:
            entry["content_disposition"] = page.headers["Content-Disposition"]
        self.index[name] = entry
        return page

    # -- walks ------------------------------------------------------------------------------------

    def step2(self, browser: Browser, username: str) -> Page:
        page = browser.open(self.base + "/Account/LoginRedirect.aspx?tabId=1")
        return browser.submit(page, page.form(id="localAccountForm"), {"signInName": username})

    def sign_in(self, browser: Browser, username: str, password: str) -> Page:
        step2 = self.step2(browser, username)
        return browser.submit(step2, step2.form(id="localAccountForm"), {"Password": password})

    def business(self) -> None:
        b = Browser()
        self.save("signin_step1", b.open(self.base + "/Account/LoginRedirect.aspx?tabId=1"))
        self.save("signin_step2", self.step2(Browser(), OK[0]))
        self.save("signin_wrong_password", self.sign_in(Browser(), OK[0], OK[1] + "x"))
        self.save("signin_unknown_login", self.sign_in(Browser(), *CONSUMER))
        self.save("signin_captcha", self.step2(Browser(), CAPTCHA[0]))
        self.save("signin_captcha_refused", self.sign_in(Browser(), *CAPTCHA))
        legacy = Browser()
        form = self.save("legacy_login", legacy.open(self.base + "/Account/Login.aspx"))
        self.save("legacy_login_error", legacy.submit(form, form.form(name="Login"),
                                                      {"USER": OK[0], "PASSWORD": "nope"}))

        home = self.save("my_account", self.sign_in(b, *OK))
        bills = self.save("bills_single", b.open(self.base + "/eserve/cust/loggedin/previousBills.html"))
        self.save("bills_single_last", b.open(self.base + "/eserve/cust/loggedin/previousBills.html"
                                                          "?accountNumber=GP10293847&page=3"))
        first = self.portal.bills("GP10293847")[0]
        pdf_url = (f"{self.base}/eserve/cust/loggedin/downloadBill.html?accountNumber={first.account_number}"
                   f"&invoiceNumber={first.invoice_number}&format=pdf")
        self.save("bill", b.open(pdf_url))
        self.save("bills_zip", b.open(self.base + "/eserve/cust/loggedin/downloadAllBills.html",
                                      {"accountNumber": "GP10293847"}))
        self.save("bill_not_found", b.open(pdf_url.replace(first.invoice_number, "MB000000000")))
        self.save("expired_pdf", Browser().open(pdf_url))  # no session: the sign-in page, status 200
        self.save("logged_out", b.open(self.base + "/Account/Logout.aspx"))
        assert home and bills

        multi = Browser()
        self.sign_in(multi, *MULTI)
        self.save("bills_multi", multi.open(self.base + "/eserve/cust/loggedin/previousBills.html"))
        self.save("bills_multi_second", multi.open(self.base + "/eserve/cust/loggedin/previousBills.html"
                                                               "?accountNumber=GP70000002"))

        for name, who in (("change_password", CHANGE), ("update_contact", CONTACT)):
            self.save(name, self.sign_in(Browser(), *who))

    def two_factor(self) -> None:
        mailbox = self.sandbox.mailbox
        b = Browser()
        send = self.save("mfa_send", self.sign_in(b, *SMS))
        before = mailbox.count(PHONE)
        code_page = self.save("mfa_code", b.submit(send, send.form(id="attributeVerification"),
                                                   {"mfaMethod": "phone"}))
        wrong = self.save("mfa_wrong_code", b.submit(code_page, code_page.form(id="verifyCodeForm"),
                                                     {"verificationCode": "000000"}))
        self.portal.clock.advance(dt.timedelta(minutes=11))
        right = mailbox.wait_for_code(PHONE, timeout=5, after=before)
        self.save("mfa_expired_code", b.submit(wrong, wrong.form(id="verifyCodeForm"), {"verificationCode": right}))
        self.portal.clock.freeze(FROZEN_AT)

    def consumer(self) -> None:
        b = Browser()
        form = self.save("consumer_login", b.open(self.home + "/login/loginform"))
        self.save("consumer_login_error", b.submit(form, form.form(id="loginForm"),
                                                   {"USER": OK[0], "PASSWORD": OK[1]}))
        self.save("consumer_bills", b.submit(form, form.form(id="loginForm"),
                                             {"USER": CONSUMER[0], "PASSWORD": CONSUMER[1]}))

    def redesign(self) -> None:
        self.portal.faults.redesign = True
        try:
            b = Browser()
            step1 = self.save("v2_signin_step1", b.open(self.base + "/Account/LoginRedirect.aspx?tabId=1"))
            step2 = self.save("v2_signin_step2", b.submit(step1, step1.form(id="signin-form"),
                                                          {"username": MULTI[0]}))
            b.submit(step2, step2.form(id="password-form"), {"currentPassword": MULTI[1]})
            self.save("v2_bills", b.open(self.base + "/eserve/cust/loggedin/previousBills.html"))
            mfa = Browser()
            step1 = mfa.open(self.base + "/Account/LoginRedirect.aspx?tabId=1")
            step2 = mfa.submit(step1, step1.form(id="signin-form"), {"username": SMS[0]})
            self.save("v2_mfa", mfa.submit(step2, step2.form(id="password-form"), {"currentPassword": SMS[1]}))
            self.save("v2_consumer_login", Browser().open(self.home + "/login/loginform"))
        finally:
            self.portal.faults.redesign = False


def main() -> None:
    PAGES.mkdir(exist_ok=True)
    for old in PAGES.iterdir():
        if old.suffix in (".html", ".pdf", ".zip", ".json"):
            old.unlink()
    with SandboxServer([BTPortal(seed=SEED)], clock=Clock(FROZEN_AT)) as sandbox:
        recorder = Recorder(sandbox)
        recorder.business()
        recorder.two_factor()
        recorder.consumer()
        recorder.redesign()
    (PAGES / "index.json").write_text(json.dumps(recorder.index, indent=1, sort_keys=True) + "\n")
    print(f"saved {len(recorder.index)} pages in {PAGES}")


if __name__ == "__main__":
    main()
