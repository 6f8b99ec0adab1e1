"""Regenerate the saved Spotify pages used by test_pages.py.

Runs the sandbox portal (seed 7, clock frozen at 2026-11-21 09:30 UTC) and a
headless Chromium, walks every page the connector must understand and saves
the DOM *after* JavaScript ran (``page.content()``); ``*_initial.html`` files
are the server's HTML as plain HTTP sees it. ``index.json`` maps each file to
the URL it came from. The sandbox root is rewritten to
``http://127.0.0.1:8000`` so files do not change with the port.

    /work/main/.venv/bin/python plugins/spotify/tests/pages/regenerate.py
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable

from playwright.sync_api import sync_playwright

from dextcore.sandbox import Clock, SandboxServer
from dextcore_spotify.sandbox import SpotifyPortal

HERE = Path(__file__).resolve().parent
STABLE_ROOT = "http://127.0.0.1:8000"
FROZEN_AT = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)
SEED = 7
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def main() -> int:
    index: dict[str, dict[str, Any]] = {}
    with SandboxServer([SpotifyPortal(seed=SEED)], clock=Clock(FROZEN_AT)) as sandbox:
        portal = sandbox.portal("spotify")
        root = sandbox.root("spotify")
        accounts = f"{root}/accounts.spotify.com"

        def save(name: str, html: str, url: str, **facts: Any) -> None:
            stable = html.replace(root, STABLE_ROOT).replace(
                urllib.parse.quote(root, safe=""), urllib.parse.quote(STABLE_ROOT, safe=""))
            (HERE / name).write_text(stable, encoding="utf-8")
            index[name] = {"url": url.replace(root, STABLE_ROOT), **facts}
            print("saved", name)

        def login_url(country: str = "uk", page: str = "order-history") -> str:
            target = f"{sandbox.base_url('spotify', country)}/account/{page}/"
            return f"{accounts}/login?allow_password=1&continue={urllib.parse.quote(target, safe='')}"

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)

            def fresh(action: Callable[[Any], None]) -> None:
                context = browser.new_context()
                context.set_default_timeout(10_000)
                try:
                    action(context.new_page())
                finally:
                    context.close()
                    portal.expire_sessions()
                    portal.faults.clear()

            def log_in(page: Any, user: str, password: str, country: str = "uk", v2: bool = False) -> None:
                page.goto(login_url(country))
                prefix = "input[data-testid=login-" if v2 else "input#login-"
                page.fill(prefix + "username" + ("]" if v2 else ""), user)
                page.fill(prefix + "password" + ("]" if v2 else ""), password)
                page.click("button[data-testid=login-button]" if v2 else "#login-button")

            def login_pages(page: Any) -> None:
                page.goto(f"{sandbox.base_url('spotify', 'uk')}/account/order-history/")
                page.wait_for_selector("[data-testid=login-with-password]")
                save("login_code.html", page.content(), page.url, kind="login_code")
                page.goto(login_url())
                page.wait_for_selector("#login-button")
                save("login_password.html", page.content(), page.url, kind="login")
                page.fill("#login-username", "listener@example.com")
                page.fill("#login-password", "wrong-password")
                page.click("#login-button")
                page.wait_for_selector("[data-encore-id=banner]")
                save("login_invalid.html", page.content(), page.url, kind="login", error="invalid_credentials")
                page.fill("#login-username", "google-user@example.com")
                page.fill("#login-password", "whatever")
                page.click("#login-button")
                page.wait_for_selector("[data-encore-id=banner][data-error=errorThirdPartyLogin]")
                save("login_sso_google.html", page.content(), page.url, kind="login", error="sso", provider="google")
                page.click("[data-testid=google-login]")
                page.wait_for_url(re.compile(r"/accounts\.google\.com/"))
                save("google_signin.html", page.content(), page.url, kind="sso", provider="google")

            def login_v2(page: Any) -> None:
                portal.faults.redesign = True
                page.goto(login_url())
                page.wait_for_selector("button[data-testid=login-button]")
                save("login_password_v2.html", page.content(), page.url, kind="login")

            def challenge(page: Any) -> None:
                log_in(page, "suspicious@example.com", "correct-horse-4")
                page.wait_for_selector("[data-testid=recaptcha-challenge]")
                save("challenge_recaptcha.html", page.content(), page.url, kind="challenge")

            def two_factor(page: Any, v2: bool = False) -> None:
                portal.faults.redesign = v2
                before = sandbox.mailbox.count("twofactor@example.com")
                log_in(page, "twofactor@example.com", "correct-horse-3", v2=v2)
                page.wait_for_selector("[data-testid=twofa-digit-input]" if v2 else "input[name=code]")
                sandbox.mailbox.wait_for_code("twofactor@example.com", after=before)
                suffix = "_v2" if v2 else ""
                save(f"twofa_code{suffix}.html", page.content(), page.url, kind="two_factor")
                if not v2:
                    page.fill("input[name=code]", "000000")
                    page.click("[data-testid=twofa-submit]")
                    page.wait_for_selector("[data-encore-id=banner]")
                    save("twofa_wrong_code.html", page.content(), page.url, kind="two_factor",
                         error="incorrect_code")

            def receipts(page: Any, user: str, password: str, country: str, v2: bool = False) -> None:
                portal.faults.redesign = v2
                log_in(page, user, password, country, v2=v2)
                page.wait_for_url(re.compile(r"/account/order-history/$"))
                page.wait_for_selector("[data-testid=payment-history]" if v2 else "[data-testid=invoice-table]")
                name = f"order_history_{country}{'_v2' if v2 else ''}.html"
                save(name, page.content(), page.url, kind="logged_in", user=user, country=country)
                if country != "uk" or v2:
                    return
                request = urllib.request.Request(page.url, headers={"Cookie": "; ".join(
                    f"{c['name']}={c['value']}" for c in page.context.cookies())})
                with urllib.request.urlopen(request, timeout=10) as resp:
                    save("order_history_uk_initial.html", resp.read().decode(), page.url, kind="logged_in",
                         user=user, country=country)
                mine = portal.receipts(user)
                with_pdf = next(r for r in mine if r.has_pdf)
                without_pdf = next(r for r in mine if not r.has_pdf)
                for receipt, name in ((with_pdf, "receipt_page.html"), (without_pdf, "receipt_page_no_pdf.html")):
                    page.goto(f"{sandbox.base_url('spotify', 'uk')}/account/receipt/{receipt.id}/")
                    save(name, page.content(), page.url, kind="unknown", receipt=receipt.id,
                         has_pdf=receipt.has_pdf)
                page.goto(f"{sandbox.base_url('spotify', 'uk')}/account/overview/")
                page.wait_for_selector("button[data-testid=user-widget-link]")
                save("account_overview.html", page.content(), page.url, kind="logged_in")

            fresh(login_pages)
            fresh(login_v2)
            fresh(challenge)
            fresh(two_factor)
            fresh(lambda p: two_factor(p, v2=True))
            for country, user, password in (("uk", "listener@example.com", "correct-horse-1"),
                                            ("de", "hoerer@example.de", "richtiges-pferd-1"),
                                            ("us", "listener@example.us", "correct-horse-2"),
                                            ("fr", "auditeur@example.fr", "bon-cheval-1")):
                fresh(lambda p, c=country, u=user, pw_=password: receipts(p, u, pw_, c))
            fresh(lambda p: receipts(p, "listener@example.com", "correct-horse-1", "uk", v2=True))
            browser.close()
    (HERE / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
