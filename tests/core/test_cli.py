"""The CLI as a person uses it: real processes, a real store file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Corr3ct-Horse-Battery"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def cli(tmp_path):
    """Run ``dextcore`` with the toy plugin installed through an entry point."""
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
        # Alerts go to a port nobody listens on: sending fails quietly, as it must.
        "DEXTCORE_SMTP_HOST": "127.0.0.1",
        "DEXTCORE_SMTP_PORT": "9",
    }
    outputs: list[str] = []

    def run(*args: str, stdin: str | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "dextcore", "-vv", *args], input=stdin, capture_output=True, text=True, env=env, check=False
        )
        outputs.extend([result.stdout, result.stderr])
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    run.home = home  # type: ignore[attr-defined]
    run.outputs = outputs  # type: ignore[attr-defined]
    return run


def test_full_session_never_shows_a_secret(cli):
    secrets = json.dumps({"password": PASSWORD, "totp_secret": TOTP_SECRET})
    created = cli(
        "connect", "toy", "--variant", "de", "--owner", "ann@example.com", "--created-by", "ann@example.com",
        "--username", "ann@example.com", "--field", "account_number=42", "--secrets-stdin", "--json", stdin=secrets,
    )
    cid = str(json.loads(created.stdout)["id"])
    listing = json.loads(cli("list", "--json").stdout)
    assert list(listing[0]) == sorted(
        ["id", "supplier", "variant", "connected_as", "status", "status_label", "needs_attention",
         "documents", "last_fetched", "created_by", "notify"]
    )
    assert listing[0]["supplier"] == "Toy Portal" and listing[0]["variant"] == "de"
    assert listing[0]["status_label"] == "Connecting to supplier"
    assert listing[0]["connected_as"] == "ann@example.com"
    cli("list")
    cli("show", cid)
    cli("show", cid, "--json")
    cli("edit", cid, "--password", "--secrets-stdin", stdin=json.dumps({"password": PASSWORD + "2"}))
    cli("notify", cid, "boss@example.com")
    cli("documents")
    cli("plugins")
    cli("vault", "rotate")
    table = cli("list").stdout
    assert "Toy Portal (Toy Germany (toy.de))" in table and "boss@example.com" in table
    cli("delete", cid)

    home: Path = cli.home
    for secret in (PASSWORD, TOTP_SECRET, PASSWORD + "2"):
        for text in cli.outputs:
            assert secret not in text
        for path in home.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path


def test_bad_arguments_give_one_line_and_exit_2(cli):
    for args in (("show", "999"), ("connect", "nope", "--owner", "a", "--created-by", "a", "--username", "u", "--secrets-stdin")):
        result = cli(*args, ok=False, stdin='{"password": "x"}')
        assert result.returncode == 2
        errors = [line for line in result.stderr.splitlines() if line.startswith("dextcore: error:")]
        assert len(errors) == 1, result.stderr
        assert "Traceback" not in result.stderr
    no_secret = cli("connect", "toy", "--owner", "a", "--created-by", "a", "--username", "u", ok=False, stdin="")
    assert no_secret.returncode == 2 and "--secrets-stdin" in no_secret.stderr


def test_schedule_command(cli):
    created = cli("connect", "toy", "--owner", "a@x.com", "--created-by", "a@x.com", "--username", "u",
                  "--timezone", "Europe/London", "--secrets-stdin", "--json", stdin='{"password": "pw"}')
    cid = str(json.loads(created.stdout)["id"])
    shown = json.loads(cli("schedule", cid, "--every", "3d", "--window", "mon-fri 08-18", "--json").stdout)
    assert shown["interval_seconds"] == 3 * 86400
    assert shown["window"] == {"weekdays": [0, 1, 2, 3, 4], "hours": [8, 18]}
    assert "mon, tue, wed, thu, fri 08-18 (Europe/London)" in cli("schedule", cid).stdout
    bad = cli("schedule", cid, "--window", "someday", ok=False)
    assert bad.returncode == 2 and "mon-fri 08-18" in bad.stderr
