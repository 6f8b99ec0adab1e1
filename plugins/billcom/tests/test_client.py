"""The v3 client against the fake Bill.com over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import pytest

from dextcore.sandbox import Clock
from dextcore_billcom.client import BillComClient, CredentialsRejected, LimitReached, RequestRejected
from dextcore_billcom.sandbox import BillcomPortal
from dextcore_billcom.sandbox_data import DEV_KEY, INACTIVE_DEV_KEY

from billcom_helpers import account


def make_client(base_url: str, portal: BillcomPortal, scenario: str = "ok", **kwargs: Any) -> BillComClient:
    acc = account(portal, scenario)
    options: dict[str, Any] = {"dev_key": DEV_KEY, "organization_id": acc.fields["organization_id"],
                               "username": acc.username, "password": acc.password, "backoff": 0.01,
                               "timeout": 5.0}
    options.update(kwargs)
    return BillComClient(base_url, **options)


async def with_client(client: BillComClient, work: Any) -> Any:
    async with client:
        return await work(client)


def test_list_all_follows_next_page_through_empty_pages(base_url: str, portal: BillcomPortal) -> None:
    client = make_client(base_url, portal)

    async def work(c: BillComClient) -> tuple[list, list, list]:
        pages = [p async for p in c.pages("/v3/vendors", max=20, filters="archived:eq:true")]
        return await c.list_all("/v3/vendors"), pages, await c.list_all("/v3/vendors", max=7)

    everything, archived_pages, small_pages = asyncio.run(with_client(client, work))
    assert len(everything) == 230 and len({v["id"] for v in everything}) == 230
    assert [] in archived_pages and sum(len(p) for p in archived_pages) == 6
    assert [v["id"] for v in small_pages] == [v["id"] for v in everything]


def test_expired_session_is_renewed_once_and_invisibly(base_url: str, portal: BillcomPortal, clock: Clock) -> None:
    clock.freeze()
    client = make_client(base_url, portal)
    renewed: list[str | None] = []
    client._on_session = renewed.append  # noqa: SLF001  (what the plugin wires to the vault)

    async def work(c: BillComClient) -> list[dict[str, Any]]:
        await c.login()
        clock.advance(dt.timedelta(minutes=36))
        return await c.list_all("/v3/classifications/locations")

    locations = asyncio.run(with_client(client, work))
    assert len(locations) == 4
    assert client.logins == 2 and len(renewed) == 2 and renewed[0] != renewed[1]
    assert len(portal.events_of("session_expired")) == 1


def test_never_more_than_three_requests_in_flight(base_url: str, portal: BillcomPortal) -> None:
    org_id = account(portal, "ok").fields["organization_id"]
    portal.work_delay = 0.05
    client = make_client(base_url, portal)

    async def work(c: BillComClient) -> list[Any]:
        await c.login()
        portal.reset_counters()
        return await asyncio.gather(*(c.request("GET", "/v3/classifications/locations") for _ in range(12)))

    answers = asyncio.run(with_client(client, work))
    assert len(answers) == 12
    assert portal.max_in_flight(org_id) == 3, "the semaphore must allow 3 at once, and never more"
    assert portal.org(org_id).rejected_concurrent == 0


def test_backs_off_and_retries_on_bdc_1322(base_url: str, portal: BillcomPortal) -> None:
    portal.concurrent_limit = 1  # e.g. another integration of the organisation is busy
    portal.work_delay = 0.02
    org_id = account(portal, "ok").fields["organization_id"]
    client = make_client(base_url, portal, max_attempts=20)

    async def work(c: BillComClient) -> list[Any]:
        await c.login()
        return await asyncio.gather(*(c.request("GET", "/v3/classifications/accounting-classes") for _ in range(4)))

    answers = asyncio.run(with_client(client, work))
    assert all(len(a["results"]) == 6 for a in answers)
    assert portal.org(org_id).rejected_concurrent >= 1


def test_backs_off_on_429_and_retries_5xx_for_reads(base_url: str, portal: BillcomPortal) -> None:
    portal.faults.retry_after = 0
    portal.faults.rate_limit_rate = 0.3
    portal.faults.error_rate = 0.3
    portal.faults.exempt = lambda request: request.path.endswith("/login")
    client = make_client(base_url, portal, max_attempts=30)
    vendors = asyncio.run(with_client(client, lambda c: c.list_all("/v3/vendors", max=20)))
    assert len(vendors) == 230
    faults = [e.detail["fault"] for e in portal.events_of("fault")]
    assert "rate_limit" in faults and "error" in faults


def test_hourly_limit_becomes_limit_reached_after_backing_off(base_url: str, portal: BillcomPortal) -> None:
    portal.hourly_limit = 1
    client = make_client(base_url, portal, max_attempts=3)
    with pytest.raises(LimitReached, match="hourly API limit"):
        asyncio.run(with_client(client, lambda c: c.list_all("/v3/vendors")))


@pytest.mark.parametrize(("change", "expected"), [
    ({"password": "not-the-password"}, "username, password or organisation"),
    ({"dev_key": INACTIVE_DEV_KEY}, "inactive"),
    ({"dev_key": "sbx-unknown"}, "developer key"),
])
def test_refused_logins_say_why_without_secrets(base_url: str, portal: BillcomPortal, change: dict[str, str],
                                                expected: str) -> None:
    client = make_client(base_url, portal, **change)
    with pytest.raises(CredentialsRejected) as caught:
        asyncio.run(with_client(client, lambda c: c.login()))
    message = str(caught.value)
    assert expected in message and caught.value.code and caught.value.code in message
    for secret in change.values():
        assert secret not in message


def test_validation_errors_carry_the_api_message(base_url: str, portal: BillcomPortal) -> None:
    client = make_client(base_url, portal)
    with pytest.raises(RequestRejected, match="Missing required field: vendorId"):
        asyncio.run(with_client(client, lambda c: c.create_bill({"invoice": {}})))


def test_secrets_stay_out_of_logs_and_repr(base_url: str, portal: BillcomPortal,
                                           caplog: pytest.LogCaptureFixture) -> None:
    acc = account(portal, "ok")
    client = make_client(base_url, portal)
    seen: list[str | None] = []
    client._on_session = seen.append  # noqa: SLF001
    with caplog.at_level(logging.DEBUG):
        asyncio.run(with_client(client, lambda c: c.list_all("/v3/customers")))
    text = caplog.text + repr(client)
    assert seen and seen[0]
    for secret in (acc.password, DEV_KEY, seen[0]):
        assert secret not in text
