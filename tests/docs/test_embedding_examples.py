"""The async embedding examples (docs/examples/worker_*.py, shown in docs/embedding.md) run as documented.

Each runs as its own program, in a fresh ``DEXTCORE_HOME``, against the BT
sandbox portal it starts itself.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dextcore_bt_business.sandbox_data import seed_accounts

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "examples"
EMBEDDING_MD = REPO / "docs" / "embedding.md"
PYTHON_API_MD = REPO / "docs" / "python-api.md"

# The two demo accounts the examples connect, and the bills the sandbox holds for them
# (27 monthly bills per billing account; "multi-account" has three).
EXPECTED_NEW = {1: 27, 2: 81}


def _run(example: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    home = tmp_path / "home"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "DEXTCORE_HOME": str(home),
        # Alerts must not leave the machine: nothing listens on the discard port.
        "DEXTCORE_SMTP_HOST": "127.0.0.1",
        "DEXTCORE_SMTP_PORT": "9",
    }
    result = subprocess.run([sys.executable, str(EXAMPLES / example)], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120, check=False)
    return result, home


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in output:\n{text}"
    return int(match.group(1))


def _assert_no_secrets(result: subprocess.CompletedProcess[str], home: Path) -> None:
    secrets = [a.password for a in seed_accounts()]
    secrets.append((home / "vault.key").read_text().strip())
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr
    passwords = [a.password.encode() for a in seed_accounts()]
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(p in data for p in passwords), f"a demo password is stored in clear in {path}"


def _assert_documents_stored(home: Path) -> None:
    from dextcore import Dextcore
    from dextcore.config import Config
    from dextcore.plugins import PluginHost

    with Dextcore.open(Config.from_env({"DEXTCORE_HOME": str(home)}), host=PluginHost()) as app:
        for connection_id, count in EXPECTED_NEW.items():
            assert len(app.inbox.list(connection_id)) == count
            assert app.connections.get(connection_id).status.value == "connected"


@pytest.fixture(scope="module")
def worker_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    return _run("worker_async.py", tmp_path_factory.mktemp("worker_async"))


def test_worker_thread_example_fetches_both_connections(worker_run):
    result, home = worker_run
    assert result.returncode == 0, result.stderr
    for connection_id, count in EXPECTED_NEW.items():
        assert f"fetched connection {connection_id}: Connected, {count} new documents" in result.stdout
    _assert_documents_stored(home)


def test_worker_thread_example_hands_events_to_the_asyncio_side(worker_run):
    result, _ = worker_run
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert _number(r"events on the app's loop: (\d+) documents", out) == sum(EXPECTED_NEW.values())
    assert _number(r"(\d+) status changes", out) == 2
    assert _number(r"(\d+) alerts", out) == 2  # taken by the app's alert hook: no e-mail attempted
    # Events reached the app's queue while the fetches were still running, not after.
    assert _number(r"\((\d+) while fetches ran\)", out) > 0
    for connection_id, count in EXPECTED_NEW.items():
        assert (f"connection {connection_id}: {count} documents; statuses: "
                "Connecting to supplier -> Connected") in out
    assert "alert for ops@webapp.example: [dextcore] BT (secure.business.bt.com) — Connected" in out


def test_worker_thread_example_never_blocks_the_app_loop(worker_run):
    result, _ = worker_run
    assert result.returncode == 0, result.stderr
    # A fetch run on the app's loop thread would freeze it: no tick could happen meanwhile.
    assert _number(r"heartbeat: (\d+) ticks while fetching", result.stdout) > 0
    # The two fetches ran at the same time: their documents arrived interleaved.
    assert _number(r"document events switched connection (\d+) times", result.stdout) > 1


def test_worker_thread_example_keeps_secrets_out(worker_run):
    result, home = worker_run
    _assert_no_secrets(result, home)


def test_subprocess_example_fetches_without_blocking(tmp_path):
    result, home = _run("worker_subprocess.py", tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for connection_id, count in EXPECTED_NEW.items():
        assert f"fetched connection {connection_id}: Connected, {count} new documents" in out
        assert (f"  in the store: {count} documents, last status change Connecting to supplier -> Connected"
                in out.split(f"fetched connection {connection_id}:")[1])
    assert _number(r"heartbeat: (\d+) ticks while fetching", out) > 0
    _assert_documents_stored(home)
    _assert_no_secrets(result, home)


@pytest.mark.parametrize("example", ["worker_async.py", "worker_subprocess.py"])
def test_embedding_page_shows_the_examples_verbatim(example):
    page = EMBEDDING_MD.read_text(encoding="utf-8")
    source = (EXAMPLES / example).read_text(encoding="utf-8")
    assert f"```python\n{source}```" in page, f"docs/embedding.md must include docs/examples/{example} verbatim"


def test_python_api_page_links_to_the_embedding_guide():
    page = PYTHON_API_MD.read_text(encoding="utf-8")
    assert "(embedding.md" in page
    assert "planned" not in page
