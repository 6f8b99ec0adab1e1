"""A run that logs in and then fails keeps its session: the next run does
not log in again (for 2FA accounts that would mean another code)."""

from __future__ import annotations

import pytest

import dextcore_bt_business
from dextcore.statuses import Status
from dextcore_bt_business.sandbox import BTPortal


@pytest.fixture
def dextcore_plugins() -> list[object]:
    return [dextcore_bt_business]


def test_session_saved_at_login_survives_a_failed_download(sandbox, connect, fetch):
    server = sandbox(BTPortal(seed=3))
    portal = server.portal("bt")
    cid = connect(server, "bt", "ok")
    # Every PDF fails, every page works: the login succeeds, the downloads do not.
    portal.faults.exempt = lambda request: "downloadBill" not in request.path
    portal.faults.error_rate = 1.0
    first = fetch(cid, settings={"RETRY_TIMES": 1})
    assert first.status is Status.PORTAL_UNAVAILABLE, first.message
    assert len(portal.events_of("login")) == 1

    portal.faults.clear()
    second = fetch(cid, force=True)
    assert second.status is Status.CONNECTED, second.message
    assert second.documents_new == 27
    assert len(portal.events_of("login")) == 1, "the saved session was reused"
