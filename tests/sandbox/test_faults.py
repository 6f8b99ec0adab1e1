"""Every fault of :class:`Faults`, observed by a real HTTP client."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from dextcore.sandbox import Faults

from .conftest import request


def test_healthy_portal_answers(server, portal):
    status, _, body = request(server.root("echo") + "/page")
    assert status == 200 and body.decode() == portal.BODY


def test_latency_delays_every_response(server, portal):
    portal.faults.latency = 0.3
    started = time.monotonic()
    status, _, _ = request(server.root("echo") + "/page")
    assert status == 200
    assert time.monotonic() - started >= 0.3


def test_error_rate_answers_5xx(server, portal):
    portal.faults.error_rate = 1.0
    statuses = {request(server.root("echo") + f"/page?n={n}")[0] for n in range(12)}
    assert statuses <= {500, 502, 503} and len(statuses) >= 2
    assert [e.detail["fault"] for e in portal.events_of("fault")] == ["error"] * 12


def test_rate_limit_answers_429_with_retry_after(server, portal):
    portal.faults.rate_limit_rate = 1.0
    status, headers, _ = request(server.root("echo") + "/page")
    assert status == 429
    assert headers["Retry-After"] == "1"


def test_reset_aborts_the_connection(server, portal):
    portal.faults.reset_rate = 1.0
    with pytest.raises(ConnectionResetError):
        request(server.root("echo") + "/page")


def test_timeout_hangs_longer_than_the_client_waits(server, portal):
    portal.faults.timeout_rate = 1.0
    portal.faults.hang_seconds = 10
    started = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError)):
        request(server.root("echo") + "/page", timeout=0.3)
    assert time.monotonic() - started < 5


def test_hang_ends_with_a_closed_connection_and_no_answer(server, portal):
    portal.faults.timeout_rate = 1.0
    portal.faults.hang_seconds = 0.2
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        request(server.root("echo") + "/page", timeout=5)


def test_truncation_cuts_the_body_but_keeps_content_length(server, portal):
    portal.faults.truncate_rate = 1.0
    url = server.root("echo") + "/page"
    with pytest.raises(http.client.IncompleteRead) as caught:
        request(url)
    assert 0 < len(caught.value.partial) < len(portal.BODY)
    assert caught.value.expected == len(portal.BODY) - len(caught.value.partial)


def test_redesign_is_read_by_the_portal(server, portal):
    portal.faults.redesign = True
    _, _, body = request(server.root("echo") + "/page")
    assert b'<p class="v2">' in body


def test_rates_are_shares_and_seeded(portal):
    def run(seed: int) -> list[int]:
        portal.faults = Faults(error_rate=0.5, seed=seed)
        from dextcore.sandbox import SandboxServer

        with SandboxServer([portal]) as server:
            return [request(server.root("echo") + "/page")[0] for _ in range(60)]

    first, again, other = run(7), run(7), run(8)
    assert first == again  # same seed, same failures
    assert first != other
    assert 15 <= sum(s >= 500 for s in first) <= 45


def test_admin_routes_and_exempt_requests_are_spared(server, portal):
    portal.faults.error_rate = 1.0
    portal.faults.exempt = lambda req: req.path == "/health"
    assert request(server.root("echo") + "/health")[0] == 200
    assert request(server.root("echo") + "/_admin")[0] == 200
    assert request(server.root("echo") + "/page")[0] >= 500


def test_faults_change_at_run_time_through_the_admin_view(server, portal):
    status, _, body = request(server.admin_url + "/faults/echo", "POST", json.dumps({"rate_limit_rate": 1}).encode(),
                              headers={"Content-Type": "application/json"})
    assert status == 200 and json.loads(body)["rate_limit_rate"] == 1.0
    assert request(server.root("echo") + "/page")[0] == 429
    bad = request(server.admin_url + "/faults/echo", "POST", b'{"nope": 1}', headers={"Content-Type": "application/json"})
    assert bad[0] == 400
    portal.faults.clear()
    assert request(server.root("echo") + "/page")[0] == 200
