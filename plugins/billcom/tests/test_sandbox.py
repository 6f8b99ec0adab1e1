"""The fake Bill.com driven over real HTTP as a raw API caller would: field
names, flows, error envelope and codes from billcom-api.md."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from dextcore.sandbox import Clock, InvoiceLine, invoice_pdf
from dextcore_billcom.sandbox import BillcomPortal
from dextcore_billcom.sandbox_data import DEV_KEY, INACTIVE_DEV_KEY

from billcom_helpers import account


async def call(method: str, url: str, *, session_id: str | None = None, dev_key: str = DEV_KEY,
               **kwargs: Any) -> tuple[int, Any]:
    headers = {"devKey": dev_key}
    if session_id:
        headers["sessionId"] = session_id
    async with aiohttp.ClientSession() as http:
        async with http.request(method, url, headers=headers, **kwargs) as response:
            body = await response.read()
            try:
                return response.status, await response.json(content_type=None) if body else None
            except ValueError:
                return response.status, body


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def login(base_url: str, portal: BillcomPortal, scenario: str = "ok", **extra: Any) -> dict[str, Any]:
    acc = account(portal, scenario)
    status, body = run(call("POST", base_url + "/v3/login", json={
        "username": acc.username, "password": acc.password, "organizationId": acc.fields["organization_id"],
        "devKey": DEV_KEY, **extra}))
    assert status == 200, body
    return body


def assert_error(status: int, body: Any, expected_status: int, code: str) -> None:
    assert status == expected_status
    assert isinstance(body, list) and body[0]["code"] == code
    assert set(body[0]) == {"timestamp", "code", "severity", "category", "message"}
    assert body[0]["severity"] == "ERROR" and body[0]["message"]


def test_login_returns_the_documented_fields(base_url: str, portal: BillcomPortal) -> None:
    body = login(base_url, portal)
    assert set(body) == {"organizationId", "sessionId", "trusted", "userId"}
    assert body["trusted"] is False
    status, info = run(call("GET", base_url + "/v3/login/session", session_id=body["sessionId"]))
    assert status == 200 and info["organizationId"] == body["organizationId"] and info["mfaStatus"] == "DISABLED"


def test_login_errors_use_the_v3_envelope(base_url: str, portal: BillcomPortal) -> None:
    acc = account(portal, "ok")
    good = {"username": acc.username, "password": acc.password, "organizationId": acc.fields["organization_id"],
            "devKey": DEV_KEY}
    status, body = run(call("POST", base_url + "/v3/login", json=dict(good, password="wrong")))
    assert_error(status, body, 401, "BDC_1101")
    status, body = run(call("POST", base_url + "/v3/login", json=dict(good, devKey="nope")))
    assert_error(status, body, 401, "BDC_1102")
    status, body = run(call("POST", base_url + "/v3/login", json=dict(good, devKey=INACTIVE_DEV_KEY)))
    assert_error(status, body, 401, "BDC_1103")
    status, body = run(call("GET", base_url + "/v3/vendors", session_id="not-a-session"))
    assert_error(status, body, 401, "BDC_1109")


def test_session_expires_after_35_idle_minutes_and_each_call_resets_the_timer(
        base_url: str, portal: BillcomPortal, clock: Clock) -> None:
    clock.freeze()
    sid = login(base_url, portal)["sessionId"]
    for _ in range(3):  # 3 × 30 minutes, each within the idle window
        clock.advance(dt.timedelta(minutes=30))
        status, _ = run(call("GET", base_url + "/v3/login/session", session_id=sid))
        assert status == 200
    clock.advance(dt.timedelta(minutes=35, seconds=1))
    status, body = run(call("GET", base_url + "/v3/login/session", session_id=sid))
    assert_error(status, body, 401, "BDC_1109")


def test_logout_ends_the_session(base_url: str, portal: BillcomPortal) -> None:
    sid = login(base_url, portal)["sessionId"]
    status, body = run(call("POST", base_url + "/v3/logout", session_id=sid))
    assert status == 200 and body is None
    status, body = run(call("GET", base_url + "/v3/vendors", session_id=sid))
    assert_error(status, body, 401, "BDC_1109")


def test_vendor_pages_follow_next_page_and_filtered_pages_may_be_empty(base_url: str, portal: BillcomPortal) -> None:
    sid = login(base_url, portal)["sessionId"]

    async def walk(params: dict[str, Any]) -> list[list[dict[str, Any]]]:
        pages = []
        while True:
            status, body = await call("GET", base_url + "/v3/vendors", session_id=sid, params=params)
            assert status == 200, body
            pages.append(body["results"])
            if "nextPage" not in body:
                return pages
            params = dict(params, page=body["nextPage"])

    pages = run(walk({"max": 100}))
    assert [len(p) for p in pages] == [100, 100, 30]
    ids = [v["id"] for p in pages for v in p]
    assert len(set(ids)) == 230 and all(i.startswith("009") and len(i) == 20 for i in ids)
    archived = run(walk({"max": 20, "filters": "archived:eq:true"}))
    assert [] in archived, "an empty filtered page with a nextPage is the documented trap"
    assert sum(len(p) for p in archived) == 6
    assert all(v["archived"] for p in archived for v in p)
    status, body = run(call("GET", base_url + "/v3/vendors", session_id=sid, params={"max": 101}))
    assert_error(status, body, 400, "BDC_1000")


def test_lists_have_the_documented_shapes(base_url: str, portal: BillcomPortal) -> None:
    login_body = login(base_url, portal)
    sid, org = login_body["sessionId"], login_body["organizationId"]
    _, accounts = run(call("GET", base_url + "/v3/classifications/chart-of-accounts", session_id=sid,
                           params={"max": 100, "sort": "name:asc"}))
    names = [a["name"] for a in accounts["results"]]
    assert names == sorted(names)
    assert all(a["id"].startswith("0ca") and "number" in a["account"] for a in accounts["results"])
    _, terms = run(call("GET", base_url + f"/v3/organizations/{org}/payment-terms", session_id=sid))
    assert {t["daysDue"] for t in terms["results"]} == {0, 15, 30, 60}
    _, classes = run(call("GET", base_url + "/v3/classifications/accounting-classes", session_id=sid,
                          params={"filters": 'name:sw:"Ad"'}))
    assert [c["name"] for c in classes["results"]] == ["Administration"]
    status, body = run(call("GET", base_url + "/v3/organizations/00800000000000000000/payment-terms",
                            session_id=sid))
    assert_error(status, body, 404, "BDC_1004")


def test_bill_validation_and_creation(base_url: str, portal: BillcomPortal) -> None:
    login_body = login(base_url, portal)
    sid, org_id = login_body["sessionId"], login_body["organizationId"]
    org = portal.org(org_id)
    vendor = next(v for v in org.lists["vendors"] if not v["archived"])
    archived_vendor = next(v for v in org.lists["vendors"] if v["archived"])
    account_id = next(a["id"] for a in org.lists["chart_of_accounts"] if not a["archived"])
    bill = {"vendorId": vendor["id"], "invoice": {"invoiceNumber": "A-1", "invoiceDate": "2026-10-01"},
            "dueDate": "2026-10-31",
            "billLineItems": [{"amount": 149.00, "description": "Desk", "classifications": {"chartOfAccountId": account_id}}]}
    for broken, code in (({**bill, "vendorId": None}, "BDC_1001"),
                         ({**bill, "vendorId": archived_vendor["id"]}, "BDC_1000"),
                         ({**bill, "dueDate": "2026-09-01"}, "BDC_1000"),
                         ({**bill, "invoice": {"invoiceNumber": "A-1", "invoiceDate": "01/10/2026"}}, "BDC_1000"),
                         ({**bill, "billLineItems": [{"amount": 1.234}]}, "BDC_1000"),
                         ({**bill, "billLineItems": [{"amount": 5, "classifications": {"locationId": "loc404"}}]},
                          "BDC_1000")):
        status, body = run(call("POST", base_url + "/v3/bills", session_id=sid, json=broken))
        assert_error(status, body, 400, code)
    assert portal.bills(org_id) == []
    status, made = run(call("POST", base_url + "/v3/bills", session_id=sid, json=bill))
    assert status == 201
    assert made["id"].startswith("00n") and made["amount"] == 149.0 and made["paymentStatus"] == "UNPAID"
    assert made["billLineItems"][0]["id"].startswith("bli") and made["vendorName"] == vendor["name"]
    status, found = run(call("GET", base_url + "/v3/bills", session_id=sid, params={
        "filters": f'vendorId:eq:"{vendor["id"]}",invoice.invoiceNumber:eq:"A-1"'}))
    assert [b["id"] for b in found["results"]] == [made["id"]]


def test_document_upload_is_pdf_only_capped_at_6_mb_and_reports_status(base_url: str, portal: BillcomPortal) -> None:
    login_body = login(base_url, portal)
    sid, org_id = login_body["sessionId"], login_body["organizationId"]
    org = portal.org(org_id)
    vendor = next(v for v in org.lists["vendors"] if not v["archived"])
    _, bill = run(call("POST", base_url + "/v3/bills", session_id=sid, json={
        "vendorId": vendor["id"], "invoice": {"invoiceNumber": "D-1", "invoiceDate": "2026-10-01"},
        "dueDate": "2026-10-01", "billLineItems": [{"amount": 10}]}))
    url = base_url + f"/v3/documents/bills/{bill['id']}"
    status, body = run(call("POST", url, session_id=sid, params={"name": "x.html"}, data=b"<html></html>"))
    assert_error(status, body, 400, "BDC_1291")
    status, body = run(call("POST", url, session_id=sid, params={"name": "big.pdf"},
                            data=b"%PDF-1.4\n" + b"0" * (6 * 1024 * 1024)))
    assert_error(status, body, 400, "BDC_1290")
    pdf = invoice_pdf(number="D-1", date=dt.date(2026, 10, 1), seller="S", buyer="B",
                      lines=[InvoiceLine("x", 1, Decimal("10"), Decimal("0"))])
    status, doc = run(call("POST", url, session_id=sid, params={"name": "D-1.pdf"}, data=pdf))
    assert status == 200 and doc["id"].startswith("0du") and set(doc) == {"id", "name", "createdTime", "downloadLink"}
    statuses = [run(call("GET", base_url + "/v3/documents/upload-status", session_id=sid,
                         params={"ids": doc["id"]}))[1][0]["status"] for _ in range(2)]
    assert statuses == ["IN_PROGRESS", "UPLOADED"]
    status, downloaded = run(call("GET", doc["downloadLink"]))
    assert status == 200 and downloaded == pdf


def test_concurrency_limit_counts_the_most_in_flight(base_url: str, portal: BillcomPortal) -> None:
    sid = login(base_url, portal)["sessionId"]
    org_id = account(portal, "ok").fields["organization_id"]
    portal.work_delay = 0.2
    portal.reset_counters()

    async def burst() -> list[tuple[int, Any]]:
        return await asyncio.gather(*(call("GET", base_url + "/v3/classifications/locations", session_id=sid)
                                      for _ in range(5)))

    answers = run(burst())
    # The 4th concurrent request is refused at once, so how many overlap at
    # most depends on timing: at least 4, the refused one counted.
    assert portal.max_in_flight(org_id) >= 4
    rejected = [body for status, body in answers if status == 429]
    assert len(rejected) >= 1 and sum(1 for status, _ in answers if status == 200) >= 3
    assert all(b[0]["code"] == "BDC_1322" for b in rejected)
    state = run(call("GET", base_url.rsplit("/connect", 1)[0] + "/_admin/billcom"))[1]
    northwind = next(o for o in state["organizations"] if o["id"] == org_id)
    assert northwind["max_in_flight"] == portal.max_in_flight(org_id)
    assert northwind["rejected_concurrent"] == len(rejected)


def test_hourly_limit_answers_bdc_1144(base_url: str, portal: BillcomPortal) -> None:
    sid = login(base_url, portal)["sessionId"]
    portal.hourly_limit = 2
    statuses = [run(call("GET", base_url + "/v3/login/session", session_id=sid)) for _ in range(3)]
    assert [s for s, _ in statuses] == [200, 200, 429]
    assert statuses[2][1][0]["code"] == "BDC_1144"


def test_mfa_challenge_sends_a_code_and_remembers_the_device(base_url: str, portal: BillcomPortal) -> None:
    acc = account(portal, "mfa")
    first = login(base_url, portal, "mfa")
    sid = first["sessionId"]
    assert first["trusted"] is False
    status, body = run(call("GET", base_url + "/v3/bank-accounts", session_id=sid))
    assert_error(status, body, 403, "BDC_1361")
    before = portal.mailbox.count(acc.phone)
    status, challenge = run(call("POST", base_url + "/v3/mfa/challenge", session_id=sid, json={"useBackup": False}))
    assert status == 200
    code = portal.mailbox.wait_for_code(acc.phone, after=before)
    status, body = run(call("POST", base_url + "/v3/mfa/challenge/validate", session_id=sid, json={
        "challengeId": challenge["challengeId"], "token": "000000" if code != "000000" else "111111",
        "device": "d1", "machineName": "m", "rememberMe": True}))
    assert_error(status, body, 400, "BDC_1359")
    status, body = run(call("POST", base_url + "/v3/mfa/challenge/validate", session_id=sid, json={
        "challengeId": challenge["challengeId"], "token": code, "device": "d1", "machineName": "m",
        "rememberMe": True}))
    assert status == 200 and body["rememberMeId"]
    again = login(base_url, portal, "mfa", rememberMeId=body["rememberMeId"], device="d1")
    assert again["trusted"] is True
    assert run(call("GET", base_url + "/v3/bank-accounts", session_id=again["sessionId"]))[0] == 200
    untrusted = login(base_url, portal, "mfa")["sessionId"]
    status, body = run(call("POST", base_url + "/v3/mfa/step-up", session_id=untrusted,
                            json={"rememberMeId": body["rememberMeId"], "device": "d1"}))
    assert status == 200 and body == {"trusted": True}


def test_expire_switch_refuses_the_stored_credentials(base_url: str, portal: BillcomPortal) -> None:
    acc = account(portal, "ok")
    sid = login(base_url, portal)["sessionId"]
    portal.expire_connection(acc.fields["organization_id"])
    status, body = run(call("GET", base_url + "/v3/vendors", session_id=sid))
    assert_error(status, body, 401, "BDC_1109")
    status, body = run(call("POST", base_url + "/v3/login", json={
        "username": acc.username, "password": acc.password, "organizationId": acc.fields["organization_id"],
        "devKey": DEV_KEY}))
    assert_error(status, body, 401, "BDC_1101")
    portal.set_password(acc.fields["organization_id"], acc.username, "A-new-one-1")
    assert login(base_url, portal, password="A-new-one-1")["sessionId"]


@pytest.mark.parametrize("scenario", ["ok", "mfa", "new-books"])
def test_demo_accounts_log_in(base_url: str, portal: BillcomPortal, scenario: str) -> None:
    assert login(base_url, portal, scenario)["organizationId"] == account(portal, scenario).fields["organization_id"]


def test_repeated_wrong_passwords_lock_the_login(base_url: str, portal: BillcomPortal) -> None:
    acc = account(portal, "ok")
    body = {"username": acc.username, "password": "wrong", "organizationId": acc.fields["organization_id"],
            "devKey": DEV_KEY}
    codes = [run(call("POST", base_url + "/v3/login", json=body))[1][0]["code"] for _ in range(6)]
    assert codes == ["BDC_1101"] * 5 + ["BDC_1110"]
    status, answer = run(call("POST", base_url + "/v3/login", json=dict(body, password=acc.password)))
    assert_error(status, answer, 403, "BDC_1110")
    portal.set_password(acc.fields["organization_id"], acc.username, acc.password)
    assert login(base_url, portal)["sessionId"]
