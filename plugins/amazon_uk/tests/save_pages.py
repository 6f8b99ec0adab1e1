"""Regenerate the saved Amazon pages in ``tests/pages/`` from the sandbox.

Run: ``.venv/bin/python plugins/amazon_uk/tests/save_pages.py``. It starts
the sandbox (seed 11, clock frozen at ``FROZEN_AT`` like the tests), walks
every sign-in scenario and the order pages as a browser would, and writes
each page as ``<name>.html`` plus ``index.json`` (URL, status, Location
header of each). The offline tests (``test_pages.py``) build Scrapy
responses from them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from amazon_browser import Browser, Page  # noqa: E402

from dextcore.sandbox import Clock, SandboxServer  # noqa: E402

from dextcore_amazon_uk.sandbox import AmazonPortal  # noqa: E402

SEED = 11
FROZEN_AT = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.timezone.utc)
SIGNIN = "form[name=signIn]"
PAGES = HERE / "pages"


class Recorder:
    def __init__(self, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self.portal: AmazonPortal = sandbox.portal("amazon")  # type: ignore[assignment]
        self.index: dict[str, dict[str, Any]] = {}

    def save(self, name: str, page: Page) -> Page:
        (PAGES / f"{name}.html").write_bytes(page.body)
        entry: dict[str, Any] = {"url": self.stable(page.url), "status": page.status}
        if "Location" in page.headers:
            entry["location"] = self.stable(page.headers["Location"])
        self.index[name] = entry
        return page

    def stable(self, url: str) -> str:
        """The URL with the sandbox's random port replaced by 8000, so saved files do not churn."""
        port = self.sandbox.root("amazon").rsplit(":", 1)[1]
        return url.replace(f":{port}/", ":8000/")

    def base(self, variant: str = "co.uk") -> str:
        return self.sandbox.base_url("amazon", variant)

    def who(self, scenario: str, variant: str = "co.uk") -> Any:
        return next(a for a in self.portal.accounts if a.scenario == scenario and a.variant.startswith(variant))

    async def claim(self, browser: Browser, scenario: str, variant: str = "co.uk", **kw: Any) -> Page:
        page = await browser.get(f"{self.base(variant)}/your-orders/orders")
        return await browser.submit(page, SIGNIN, {"email": self.who(scenario, variant).username}, **kw)

    async def password(self, browser: Browser, scenario: str, variant: str = "co.uk", pw: str | None = None) -> Page:
        page = await self.claim(browser, scenario, variant)
        return await browser.submit(page, SIGNIN, {"password": pw or self.who(scenario, variant).password})


async def record(rec: Recorder) -> None:
    async with Browser() as b:
        rec.save("home_signed_out", await b.get(rec.base() + "/"))
        page = rec.save("signin_email", await b.get(rec.base() + "/your-orders/orders"))
        page = rec.save("signin_password", await b.submit(page, SIGNIN, {"email": rec.who("ok").username}))
        rec.save("signin_wrong_password", await b.submit(page, SIGNIN, {"password": "not-it"}))
        emails = [f"nobody{i}@example.co.uk" for i in range(30)]
        error_email = next(e for e in emails if rec.portal.unknown_email_page(e) == "error")
        intent_email = next(e for e in emails if rec.portal.unknown_email_page(e) == "intent")
        page = await b.get(rec.base() + "/ap/signin")
        rec.save("signin_unknown_email", await b.submit(page, SIGNIN, {"email": error_email}))
        page = await b.get(rec.base() + "/ap/signin")
        rec.save("intent", await b.submit(page, SIGNIN, {"email": intent_email}))
        rec.save("passkey", await rec.claim(b, "passkey-first"))
        rec.save("captcha_inline", await rec.password(b, "captcha-inline"))
        rec.save("captcha_cvf", await rec.password(b, "captcha-cvf"))
        rec.save("captcha_robot", await rec.password(b, "captcha-robot"))
        rec.save("js_wall", await rec.claim(b, "jswall"))
        sso = rec.save("sso_redirect", await rec.claim(b, "sso", follow=False))
        rec.save("sso_identity_provider", await b.get(sso.headers["Location"]))
        rec.save("account_switcher", await rec.password(b, "account-switcher"))
        page = rec.save("otp_device_choice", await rec.password(b, "sms"))
        page = rec.save("otp_entry_sms", await b.submit(page, "form#auth-select-device-form"))
        rec.save("otp_wrong_code", await b.submit(page, "form#auth-mfa-form", {"otpCode": "000000"}))
        rec.save("otp_entry_totp", await rec.password(b, "totp"))
        page = rec.save("push_approval", await rec.password(b, "push"))
        rec.save("push_pending", await b.submit(page, "form#pollingForm"))
        rec.save("push_pending_2", await b.submit(page, "form#pollingForm"))
        rec.save("push_completed", await b.submit(page, "form#pollingForm"))

    async with Browser() as b:  # plain address: no cookie yet
        page = await b.get(rec.base() + "/ap/signin")
        fields = {i.attrib["name"]: i.attrib.get("value", "") for i in page.sel.css(f"{SIGNIN} input[name]")}
        fresh = Browser()
        async with fresh:
            rec.save("cookies_disabled", await fresh.post(rec.base() + "/ap/signin", fields))

    async with Browser() as b:
        rec.save("signed_in_return", await rec.password(b, "ok"))
        rec.save("home_signed_in", await b.get(rec.base() + "/"))
        rec.save("orders_uk_2025_0", await b.get(rec.base() + "/your-orders/orders?timeFilter=year-2025&startIndex=0"))
        rec.save("orders_uk_2025_20", await b.get(rec.base() + "/your-orders/orders?timeFilter=year-2025&startIndex=20"))
        rec.save("orders_uk_2019", await b.get(rec.base() + "/your-orders/orders?timeFilter=year-2019"))
        orders = rec.portal.orders(rec.who("ok"))
        multi = next(o for o in orders if sum(d.kind == "invoice" for d in o.documents) >= 2)
        refund = next(o for o in orders if any(d.kind == "credit_note" for d in o.documents))
        missing = next(o for o in orders if o.missing_invoice_seller)
        for name, order in (("popover_multi", multi), ("popover_credit_note", refund), ("popover_request", missing)):
            rec.save(name, await b.get(rec.base() + f"/your-orders/invoice/popover?orderId={order.order_id}"
                                                    f"&relatedRequestId=R1"))
        rec.save("print_summary", await b.get(rec.base() + f"/gp/css/summary/print.html?orderID={multi.order_id}"))
        popover = await b.get(rec.base() + f"/your-orders/invoice/popover?orderId={multi.order_id}&relatedRequestId=R2")
        pdf = next(h for h in popover.css("ul.invoice-list a::attr(href)") if h.endswith(".pdf"))
        rec.portal.faults.redesign = True
        rec.save("orders_redesign", await b.get(rec.base() + "/your-orders/orders?timeFilter=year-2025"))
        rec.save("popover_redesign", await b.get(rec.base() + f"/your-orders/invoice/popover?orderId={multi.order_id}"
                                                              f"&relatedRequestId=R3"))
        rec.save("signin_redesign", await b.get(rec.base() + "/ap/signin"))
        rec.portal.faults.redesign = False
        rec.portal.expire_sessions()
        rec.save("expired_pdf", await b.get(rec.base() + pdf.removeprefix("/www.amazon.co.uk")))

    for variant in ("de", "com"):
        async with Browser() as b:
            await rec.password(b, "ok", variant)
            rec.save(f"orders_{variant.replace('.', '')}_2025_0",
                     await b.get(rec.base(variant) + "/your-orders/orders?timeFilter=year-2025"))
            if variant == "de":
                order = next(o for o in rec.portal.orders(rec.who("ok", "de")) if len(o.documents) >= 2)
                rec.save("popover_de", await b.get(rec.base("de") + f"/your-orders/invoice/popover?orderId="
                                                                    f"{order.order_id}&relatedRequestId=R1"))


def main() -> None:
    PAGES.mkdir(exist_ok=True)
    with SandboxServer([AmazonPortal(seed=SEED)], clock=Clock(FROZEN_AT)) as sandbox:
        rec = Recorder(sandbox)
        asyncio.run(record(rec))
    (PAGES / "index.json").write_text(json.dumps(rec.index, indent=1, sort_keys=True) + "\n")
    print(f"saved {len(rec.index)} pages to {PAGES}")


if __name__ == "__main__":
    main()
