"""`dextcore demo` — the README's first command — run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from dextcore.statuses import Status


def test_demo_collects_from_every_supplier_and_publishes(tmp_path):
    env = {**os.environ, "DEXTCORE_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "dextcore", "demo", "--home", str(tmp_path / "demo"), "--json"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "Invoice Fetch" in out and "Incorrect login credentials" in out
    summary = json.loads(out[out.index("\n{") + 1:])
    by_status: dict[str, list[dict]] = {}
    for row in summary["connections"]:
        by_status.setdefault(row["status"], []).append(row)
    connected = by_status[Status.CONNECTED.value]
    assert {r["connector"] for r in connected} == {"amazon_uk", "bt_business", "spotify"}
    assert all(r["documents"] > 0 for r in connected)
    # The region variant and the SMS-answered connection both collected.
    assert {r["variant"] for r in connected if r["connector"] == "amazon_uk"} == {"co.uk", "de"}
    assert len([r for r in connected if r["connector"] == "bt_business"]) == 2
    (wrong,) = by_status[Status.INCORRECT_CREDENTIALS.value]
    assert wrong["documents"] == 0 and wrong["needs_attention"]
    assert summary["documents"] == sum(r["documents"] for r in summary["connections"])
    published = [p for p in summary["publications"] if p.get("published")]
    assert published, summary["publications"][:3]
    pdfs = list((tmp_path / "demo" / "inbox").rglob("*.pdf"))
    assert len(pdfs) == summary["documents"]
