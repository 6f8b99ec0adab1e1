"""The accounting commands end to end: ``dextcore`` in-process against the fake Bill.com."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

import dextcore_billcom
from dextcore.api import Dextcore
from dextcore.cli import main
from dextcore.config import Config
from dextcore.plugins import PluginHost
from dextcore_billcom.sandbox import BillcomPortal
from dextcore_billcom.sandbox_data import DEV_KEY

from billcom_helpers import ADMIN, MEMBER, SupplierPortal, account, add_document


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cli-home"
    monkeypatch.setenv("DEXTCORE_HOME", str(home))
    for name in ("DEXTCORE_DATABASE_URL", "DEXTCORE_INBOX", "DEXTCORE_SECRET_KEY", "DEXTCORE_KEY_FILE",
                 "DEXTCORE_USER"):
        monkeypatch.delenv(name, raising=False)
    return home


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str,
        stdin: str = "") -> tuple[int, str, str]:
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_connect_rules_items_publish_from_the_command_line(home: Path, portal: BillcomPortal, base_url: str,
                                                           capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    acc = account(portal, "ok")
    assert run(capsys, monkeypatch, "users", ADMIN, "--role", "admin")[0] == 0
    assert run(capsys, monkeypatch, "users", MEMBER)[0] == 0
    secrets = json.dumps({"password": acc.password, "dev_key": DEV_KEY})
    connect = ["accounting", "connect", "billcom", "--username", acc.username, "--variant", "sandbox",
               "--field", f"organization_id={acc.fields['organization_id']}", "--secrets-stdin",
               "--base-url", base_url]
    code, out, err = run(capsys, monkeypatch, *connect, "--as", MEMBER, stdin=secrets)
    assert code == 2 and "not an administrator" in err and "Traceback" not in err
    code, out, err = run(capsys, monkeypatch, *connect, "--as", ADMIN, stdin=secrets)
    assert code == 0, err
    assert "Connected Bill.com" in out and acc.password not in out + err and DEV_KEY not in out + err

    code, out, err = run(capsys, monkeypatch, "rules", "set", "Spotify AB", "--category", "6200",
                         "--tax-account", "VAT Control", "--due-days", "30", "--location", "London")
    assert code == 0, err
    code, out, _ = run(capsys, monkeypatch, "rules", "list", "--json")
    [rule] = json.loads(out)
    assert rule["category"] == "6200 Software Subscriptions" and rule["location"] == "London"

    config = Config.from_env()
    with Dextcore.open(config, host=PluginHost(load_entry_points=False,
                                               plugins=[dextcore_billcom, SupplierPortal()])) as app:
        doc = add_document(app, supplier="Spotify AB", number="SP-CLI-1")
        add_document(app, supplier="Unknown Ltd", number="UNK-1")

    code, out, _ = run(capsys, monkeypatch, "items", "list", "--json")
    items = {i["number"]: i for i in json.loads(out)}
    assert items["SP-CLI-1"]["state"] == "ready" and items["UNK-1"]["state"] == "needs details"
    unknown = items["UNK-1"]["id"]
    code, out, _ = run(capsys, monkeypatch, "publish", str(unknown))
    assert code == 1 and "missing: due date" in out
    code, out, err = run(capsys, monkeypatch, "items", "edit", str(unknown), "--category", "6700", "--due-date",
                         "2026-12-01", "--tax-account", "2200")
    assert code == 0 and f"Item {unknown}: ready" in out, out + err
    code, out, err = run(capsys, monkeypatch, "publish", "--all-ready", "--json")
    assert code == 0, out + err
    published = json.loads(out)
    assert [p["published"] for p in published] == [True, True]
    bills = portal.bills(acc.fields["organization_id"])
    assert sorted(b["invoice"]["invoiceNumber"] for b in bills) == ["SP-CLI-1", "UNK-1"]
    spotify_bill = next(b for b in bills if b["invoice"]["invoiceNumber"] == "SP-CLI-1")
    [attached] = portal.bill_documents(acc.fields["organization_id"], spotify_bill["id"])
    assert attached["sha256"] == doc.sha256

    code, out, _ = run(capsys, monkeypatch, "accounting", "status", "--json")
    status: dict[str, Any] = json.loads(out)
    assert status["items"] == {"published": 2} and status["connection"]["status"] == "active"
    code, out, _ = run(capsys, monkeypatch, "accounting", "merge")
    assert code == 0 and "nothing to merge" in out
    code, out, err = run(capsys, monkeypatch, "accounting", "refresh", "--as", ADMIN)
    assert code == 0 and "vendors" in out, err
    code, _, err = run(capsys, monkeypatch, "accounting", "refresh")
    assert code == 2 and "--as EMAIL" in err


def test_change_and_merge_from_the_command_line(home: Path, portal: BillcomPortal, base_url: str,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, monkeypatch, "users", ADMIN, "--role", "admin")[0] == 0

    def connect_args(scenario: str, action: str) -> tuple[list[str], str]:
        acc = account(portal, scenario)
        return (["accounting", action, "billcom", "--as", ADMIN, "--username", acc.username, "--secrets-stdin",
                 "--field", f"organization_id={acc.fields['organization_id']}", "--base-url", base_url],
                json.dumps({"password": acc.password, "dev_key": DEV_KEY}))

    argv, secrets = connect_args("ok", "connect")
    assert run(capsys, monkeypatch, *argv, stdin=secrets)[0] == 0
    assert run(capsys, monkeypatch, "rules", "set", "Office Depot", "--category", "6010", "--location", "Edinburgh",
               "--class", "Legacy")[0] == 0
    argv, secrets = connect_args("new-books", "connect")
    code, _, err = run(capsys, monkeypatch, *argv, stdin=secrets)
    assert code == 2 and "accounting change" in err
    argv, secrets = connect_args("new-books", "change")
    code, out, err = run(capsys, monkeypatch, *argv, stdin=secrets)
    assert code == 0 and "dextcore accounting merge" in out, err
    code, out, _ = run(capsys, monkeypatch, "accounting", "merge", "--json")
    proposals = {p["old_name"]: p for p in json.loads(out)}
    assert proposals["6010 Office Supplies"]["by"] == "code" and proposals["Edinburgh"]["by"] == "code"  # shortName EDI
    code, out, _ = run(capsys, monkeypatch, "accounting", "status", "--lists", "locations", "--json")
    manchester = next(e for e in json.loads(out)["entries"] if e["name"] == "Manchester")
    code, out, err = run(capsys, monkeypatch, "accounting", "merge", "--apply", "--as", ADMIN, "--json",
                         "--map", f"{proposals['Edinburgh']['old']}={manchester['id']}",
                         "--skip", str(proposals["Legacy (inactive)"]["old"]))
    assert code == 0, err
    assert json.loads(out)["rules_changed"] == 1
    code, out, _ = run(capsys, monkeypatch, "rules", "list", "--json")
    [rule] = json.loads(out)
    assert (rule["category"], rule["location"], rule["class"]) == ("6010 Office Supplies", "Manchester", None)
    code, out, _ = run(capsys, monkeypatch, "accounting", "merge")
    assert "nothing to merge" in out
