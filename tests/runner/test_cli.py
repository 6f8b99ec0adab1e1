"""The fetch, run and 2fa commands, through dextcore's CLI entry point."""

from __future__ import annotations

import json

import pytest

from dextcore.cli import Context, main
from dextcore.statuses import Status
from tests.runner.helpers import connect, stored_ids
from tests.runner.portal import Account


@pytest.fixture
def cli(app, monkeypatch):
    monkeypatch.setattr(Context, "app", lambda self: app)
    return main


def test_fetch_json_and_quiet_lines(cli, app, sandbox, capsys):
    cid = connect(app, sandbox, Account("cli@example.com", "pw", documents=3))
    assert cli(["fetch", str(cid), "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["status"] == "connected" and data["documents_new"] == 3 and data["interrupted"] is False
    assert err == ""  # --json: no progress output

    assert cli(["fetch", str(cid), "--full"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"connection {cid}: Connected — 0 new, 3 listed")
    # Not a terminal: one plain line per finished connection, no carriage returns.
    assert err == f"connection {cid} (acme_test): Connected — 0 new, 3 listed\n"


def test_fetch_refuses_unforced_run_of_rejected_credentials(cli, app, sandbox, capsys):
    cid = connect(app, sandbox, Account("rej@example.com", "right"))
    app.vault.put("connection", cid, "password", "wrong")
    assert cli(["fetch", str(cid)]) == 1
    assert app.connections.get(cid).status is Status.INCORRECT_CREDENTIALS
    capsys.readouterr()
    assert cli(["fetch", str(cid)]) == 2
    assert "not retried automatically" in capsys.readouterr().err
    assert cli(["fetch", str(cid), "--wait-for-code", "5"]) == 2
    assert "--wait-for-code needs --force" in capsys.readouterr().err
    app.vault.put("connection", cid, "password", "right")
    assert cli(["fetch", str(cid), "--force"]) == 0


def test_run_once_and_2fa_show(cli, app, sandbox, capsys):
    ids = [connect(app, sandbox, Account(f"r{n}@example.com", "pw", documents=2)) for n in range(3)]
    assert cli(["run", "--once", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert sorted(r["connection_id"] for r in results) == ids
    assert all(len(stored_ids(app, cid)) == 2 for cid in ids)
    assert cli(["2fa", "show", str(ids[0])]) == 0
    assert "(no code awaited)" in capsys.readouterr().out


def test_terminal_progress_is_one_live_line():
    import io

    from dextcore.runner import FetchResult, progress_for
    from dextcore.runner.progress import TerminalProgress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    progress = progress_for(stream)
    assert isinstance(progress, TerminalProgress)
    progress.planned(2)
    progress.started(1, "acme_test")
    progress.document(1, True)
    progress.finished(FetchResult(1, "acme_test", Status.CONNECTED, ""))
    progress.started(2, "acme_test")
    progress.finished(FetchResult(2, "acme_test", Status.INCORRECT_CREDENTIALS, "no"))
    progress.close()
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert text.rstrip("\n").split("\r")[-1].startswith("connections 2/2 done, 0 running · 1 documents · 1 needing")
