"""The kit's fixtures against the BT plugin and its sandbox (dextcore_bt_business.sandbox.BTPortal)."""

from __future__ import annotations

import datetime as dt

import pytest

import dextcore_bt_business
from dextcore.sandbox import Clock
from dextcore.statuses import Status
from dextcore.testing import OWNER
from dextcore_bt_business.sandbox import BTPortal

FROZEN_AT = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)
OK_ACCOUNT, PHONE = "GP10293847", "+447700900123"


@pytest.fixture
def dextcore_plugins() -> list[object]:
    return [dextcore_bt_business]


@pytest.fixture
def bt(sandbox):
    return sandbox(BTPortal(seed=3), clock=Clock(FROZEN_AT))


def test_fetch_collects_every_bill_and_reports_each_document(bt, connect, fetch, dextcore_app, dextcore_events):
    cid = connect(bt, "bt", "ok")
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    expected = {f"{b.account_number}:{b.invoice_number}" for b in bt.portal("bt").bills(OK_ACCOUNT)}
    assert result.documents_new == len(expected) == 27
    assert {d.stable_id for d in dextcore_app.inbox.list(cid)} == expected
    assert {d.stable_id for d in dextcore_events.documents} == expected
    assert dextcore_events.statuses_of(cid) == [Status.CONNECTED]


def test_connect_uses_the_demo_account_on_the_sandbox_base_url(bt, connect, dextcore_app):
    cid = connect(bt, "bt", "ok", history_from=dt.date(2026, 1, 1))
    connection = dextcore_app.connections.get(cid)
    assert (connection.connector, connection.variant) == ("bt_business", "business")
    assert connection.username == "accounts@acme-trading.example"
    assert connection.base_url == bt.base_url("bt", "business")
    assert connection.history_from == dt.date(2026, 1, 1)
    assert (connection.owner, connection.notify) == (OWNER, OWNER)
    assert dextcore_app.connections.secret(cid, "password") == "Acme-Sandbox-2024"


def test_connect_picks_the_account_of_the_variant_and_can_connect_it_elsewhere(bt, connect, dextcore_app):
    home = dextcore_app.connections.get(connect(bt, "bt", "consumer"))
    assert (home.variant, home.base_url) == ("consumer", bt.base_url("bt", "consumer"))
    mistaken = dextcore_app.connections.get(connect(bt, "bt", "consumer", variant="business"))
    assert (mistaken.variant, mistaken.base_url) == ("business", bt.base_url("bt", "business"))
    assert mistaken.username == home.username


def test_wrong_password_ends_in_incorrect_login_credentials(bt, connect, fetch, dextcore_events):
    cid = connect(bt, "bt", "ok", password="Acme-Sandbox-2023")
    result = fetch(cid)
    assert result.status is Status.INCORRECT_CREDENTIALS
    assert result.status.label == "Incorrect login credentials"
    assert [e.kind for e in bt.portal("bt").events if e.kind.startswith("login")] == ["login_failed"]
    assert [a.connection_id for a in dextcore_events.alerts] == [cid]


def test_an_unattended_fetch_records_the_challenge_it_cannot_answer(bt, connect, fetch, dextcore_events):
    cid = connect(bt, "bt", "sms")
    result = fetch(cid)
    assert result.status is Status.ADDITIONAL_INFO_REQUIRED, result.message
    assert [(c.connection_id, c.interactive) for c in dextcore_events.challenges] == [(cid, False)]


def test_answer_code_submits_the_texted_code_to_the_waiting_fetch(bt, connect, fetch, answer_code, dextcore_events):
    cid = connect(bt, "bt", "sms")
    answerer = answer_code(bt, cid, PHONE)
    result = fetch(cid, wait_for_code=30)
    assert result.status is Status.CONNECTED, result.message
    assert answerer.result() == bt.mailbox.last_code(PHONE)
    assert [(c.connection_id, c.interactive) for c in dextcore_events.challenges] == [(cid, True)]
    assert result.documents_new == 27


def test_an_answerer_without_a_code_times_out(bt, answer_code):
    answerer = answer_code(bt, 1, "+440000000000", timeout=0.5)
    with pytest.raises(TimeoutError, match=r"no code for \+440000000000"):
        answerer.result()
