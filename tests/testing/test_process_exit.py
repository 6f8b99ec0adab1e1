"""A pytest process that fetched through the kit exits on its own (the reactor is stopped at exit)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_pytest_run_that_fetched_exits_by_itself():
    selected = "tests/testing/test_kit_tiny.py::test_fetch_collects_through_the_real_runner_and_events_are_recorded"
    # timeout: a process hanging at exit (non-daemon reactor threads) fails the test instead of blocking it.
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", selected], cwd=REPO,
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
