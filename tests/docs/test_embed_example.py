"""docs/examples/embed.py (shown in docs/python-api.md) runs as documented."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "embed.py"
PYTHON_API_MD = REPO / "docs" / "python-api.md"


def _example_module():
    spec = importlib.util.spec_from_file_location("dextcore_docs_embed", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # main() only runs under __main__
    return module


def _run_example(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    # The toy connector of the core tests, installed through an entry point
    # the way a published plugin is.
    site = tmp_path / "site"
    info = site / "dextcore_toy-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dextcore-toy\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[dextcore]\ntoy = tests.core.toy_plugin\n")
    home = tmp_path / "home"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{site}{os.pathsep}{REPO}",
        "DEXTCORE_HOME": str(home),
        # Nothing may go out by e-mail: the example's alert hook takes every alert.
        "DEXTCORE_SMTP_HOST": "127.0.0.1",
        "DEXTCORE_SMTP_PORT": "9",
    }
    result = subprocess.run([sys.executable, str(EXAMPLE), "toy"], capture_output=True, text=True, env=env,
                            timeout=60, check=False)
    return result, home


def test_embed_example_runs_and_feeds_the_app(tmp_path):
    result, home = _run_example(tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "created connection 1: Connecting to supplier" in out
    assert "invited bob@client.example to connection 2" in out
    assert "client connected connection 2: Connecting to supplier" in out
    # The table has both connections with their status labels.
    table = [line for line in out.splitlines() if line.startswith(("1 ", "2 "))]
    assert len(table) == 2 and all("Toy Portal" in line and "Connecting to supplier" in line for line in table)
    # The history of the invited connection, and the events the app's hooks received.
    assert "Waiting for client to connect -> Connecting to supplier" in out
    assert "feed: connection 2 (Toy Portal): Waiting for client to connect -> Connecting to supplier" in out
    assert "feed: alert for ann@bookkeeping.example: [dextcore] Toy Portal: your client has connected" in out
    assert (home / "dextcore.db").exists()


def test_embed_example_keeps_secrets_out_of_output_and_database(tmp_path):
    example = _example_module()
    result, home = _run_example(tmp_path)
    assert result.returncode == 0, result.stderr
    secrets = [example.STAFF_LOGIN[1], example.CLIENT_LOGIN[1], example.AUTHENTICATOR_SECRET.replace(" ", "")]
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr
        for path in home.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"{secret!r} found in {path}"


def test_python_api_page_shows_the_example_verbatim():
    page = PYTHON_API_MD.read_text(encoding="utf-8")
    assert f"```python\n{EXAMPLE.read_text(encoding='utf-8')}```" in page, (
        "docs/python-api.md must include docs/examples/embed.py verbatim in a ```python block")
