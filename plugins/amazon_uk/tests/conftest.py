"""Fixtures of the Amazon plugin tests, on the dextcore testing kit (:mod:`dextcore.testing.plugin`).

The kit gives the app (``dextcore_app``, ``dextcore_events``), ``connect``,
``fetch`` and ``answer_code``; what is Amazon's own is here: the plugin the app
loads, the sandbox's seed and its clock frozen at :data:`FROZEN_AT` (tests may
move it). Tests drive the sandbox by hand with :class:`amazon_browser.Browser`
(a cookie-keeping HTML client); this directory is put on ``sys.path`` for that
helper because the project runs pytest in importlib mode.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Callable

import pytest

import dextcore_amazon_uk
from dextcore.sandbox import Clock, SandboxServer

from dextcore_amazon_uk.sandbox import AmazonPortal

sys.path.insert(0, str(Path(__file__).parent))

FROZEN_AT = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def dextcore_plugins() -> list[object]:
    return [dextcore_amazon_uk]


@pytest.fixture
def clock() -> Clock:
    return Clock(FROZEN_AT)


@pytest.fixture
def sandbox(sandbox: Callable[..., SandboxServer], clock: Clock) -> SandboxServer:
    """The running Amazon sandbox (the kit's factory, called once): fresh per test, so state never leaks."""
    return sandbox(AmazonPortal(seed=11), clock=clock)


@pytest.fixture
def portal(sandbox: SandboxServer) -> AmazonPortal:
    amazon = sandbox.portal("amazon")
    assert isinstance(amazon, AmazonPortal)
    return amazon
