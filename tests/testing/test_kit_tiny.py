"""The kit's fixtures with a tiny in-test plugin (tests/testing/tiny_plugin.py) chosen by ``dextcore_plugins``."""

from __future__ import annotations

import pytest

from dextcore.statuses import Status
from dextcore.testing import OWNER
from tests.testing import tiny_plugin


@pytest.fixture
def dextcore_plugins() -> list[object]:
    return [tiny_plugin]


def test_the_app_has_only_the_chosen_plugins_and_a_private_home(dextcore_app, tmp_path):
    assert list(dextcore_app.host.connectors) == ["tiny"]
    assert dextcore_app.config.home.is_relative_to(tmp_path)
    assert dextcore_app.config.inbox_dir.is_relative_to(tmp_path)
    assert dextcore_app.user_role(OWNER) == "member"


def test_sandbox_without_portals_starts_those_of_the_chosen_plugins(sandbox):
    server = sandbox()
    assert [p.name for p in server.portals] == ["tiny"]
    assert server.root("tiny").startswith("http://127.0.0.1:")


def test_fetch_collects_through_the_real_runner_and_events_are_recorded(sandbox, connect, fetch, dextcore_app,
                                                                        dextcore_events):
    server = sandbox()
    cid = connect(server, "tiny", "ok")
    result = fetch(cid)
    assert result.status is Status.CONNECTED, result.message
    assert result.documents_new == 3
    assert sorted(d.number for d in dextcore_app.inbox.list(cid)) == list(tiny_plugin.NUMBERS)
    assert sorted(d.number for d in dextcore_events.documents) == list(tiny_plugin.NUMBERS)
    assert dextcore_events.statuses_of(cid) == [Status.CONNECTED]
    assert dextcore_events.statuses[-1][:3] == (cid, Status.CONNECTING, Status.CONNECTED)
    assert [e.kind for e in server.portal("tiny").events_of("login")] == ["login"]
    assert [(a.recipient, a.subject) for a in dextcore_events.alerts] == [
        (OWNER, "[dextcore] Tiny (tiny.example) — Connected")]  # captured, never e-mailed


def test_wrong_password_is_recorded_and_the_alert_captured(sandbox, connect, fetch, dextcore_events):
    server = sandbox()
    cid = connect(server, "tiny", "ok", password="not-it")
    result = fetch(cid)
    assert result.status is Status.INCORRECT_CREDENTIALS
    assert result.status.label == "Incorrect login credentials"
    assert dextcore_events.statuses_of(cid) == [Status.INCORRECT_CREDENTIALS]
    assert [(a.recipient, a.connection_id) for a in dextcore_events.alerts] == [(OWNER, cid)]
    assert not dextcore_events.documents
    assert len(server.portal("tiny").events_of("login_failed")) == 1


def test_faults_given_to_sandbox_reach_the_portal(sandbox, connect, fetch):
    server = sandbox(tiny_plugin.TinyPortal, error_rate=1.0, seed=4)
    assert server.portal("tiny").faults.error_rate == 1.0
    cid = connect(server, "tiny", "ok")
    result = fetch(cid, settings={"RETRY_TIMES": 0})
    assert result.status is Status.PORTAL_UNAVAILABLE, result.message


def test_an_unknown_fault_is_refused_with_the_known_ones(sandbox):
    with pytest.raises(TypeError, match=r"unknown fault 'eror_rate' \(known: .*error_rate"):
        sandbox(tiny_plugin.TinyPortal, eror_rate=0.5)


def test_connect_names_the_scenarios_a_portal_has(sandbox, connect):
    server = sandbox()
    with pytest.raises(LookupError, match=r"no demo account for scenario 'sms' \(scenarios: ok\)"):
        connect(server, "tiny", "sms")
