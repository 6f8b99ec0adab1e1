"""The mailbox and the clock, shared between the server thread and the test thread."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from dextcore.sandbox import Clock, Mailbox


def test_deliver_and_read_back():
    box = Mailbox()
    box.deliver("+447700900123", "Your code is 123456", code="123456")
    box.deliver("me@example.com", "Hello", channel="email")
    assert [m.text for m in box.messages()] == ["Your code is 123456", "Hello"]
    assert box.messages("me@example.com")[0].channel == "email"
    assert box.last_code("+447700900123") == "123456"
    assert box.last_code("me@example.com") is None
    with pytest.raises(ValueError):
        box.deliver("x", "y", channel="pigeon")


def test_wait_returns_a_code_already_there():
    box = Mailbox()
    box.deliver("+44", "code 1", code="111111")
    assert box.wait_for_code("+44", timeout=1) == "111111"


def test_wait_blocks_until_a_new_code_arrives_from_another_thread():
    box = Mailbox()
    box.deliver("+44", "old", code="000000")
    seen = box.count("+44")
    result: list[str] = []
    waiter = threading.Thread(target=lambda: result.append(box.wait_for_code("+44", timeout=10, after=seen)))
    waiter.start()
    box.deliver("+99", "someone else", code="999999")
    box.deliver("+44", "new", code="424242")
    waiter.join(10)
    assert result == ["424242"]


def test_wait_times_out_without_a_code():
    box = Mailbox()
    box.deliver("+44", "no code here")
    with pytest.raises(TimeoutError):
        box.wait_for_code("+44", timeout=0.05)
    with pytest.raises(TimeoutError):
        box.wait_for_code("+44", timeout=0.05, after=1)


def test_concurrent_deliveries_are_all_kept():
    box = Mailbox()
    threads = [threading.Thread(target=lambda n=n: [box.deliver(f"+{n}", "x", code=str(i)) for i in range(200)])
               for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert box.count() == 800 and box.last_code("+3") == "199"


def test_clock_freezes_and_advances():
    clock = Clock()
    assert clock.now().tzinfo is not None
    at = dt.datetime(2026, 1, 31, 12, 0, tzinfo=dt.timezone.utc)
    clock.freeze(at)
    assert clock.now() == at
    clock.advance(dt.timedelta(days=1))
    assert clock.today() == dt.date(2026, 2, 1)
    clock.freeze(dt.datetime(2025, 6, 1))  # naive means UTC
    assert clock.now() == dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)
    clock.unfreeze()
    assert clock.now() >= dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)
    running = Clock()
    running.advance(dt.timedelta(days=400))
    assert running.now() - dt.datetime.now(dt.timezone.utc) > dt.timedelta(days=399)
