"""The sandbox walk-through of docs/getting-started.md works as written.

The commands are taken from the page itself — the ``dextcore`` lines of the
"Step by step against the sandbox" section, up to ``dextcore documents`` —
and run as a newcomer would, in fresh processes, against the bundled Amazon
sandbox portal. Only the base URL (its port changes on every start) is
replaced, and the password typed at the prompt is given with
``--secrets-stdin`` instead.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from dextcore.sandbox import SandboxServer

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "getting-started.md"
SECTION = "## Step by step against the sandbox"


def _section() -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:end if end != -1 else None]


def _commands(section: str) -> list[list[str]]:
    """The ``dextcore`` command lines of the section's shell blocks, in order."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("dextcore "):
                commands.append(shlex.split(line)[1:])
    return commands


@pytest.fixture
def amazon_sandbox():
    from dextcore_amazon_uk.sandbox import AmazonPortal

    with SandboxServer([AmazonPortal()]) as server:
        yield server


def test_sandbox_walkthrough_collects_documents(tmp_path, amazon_sandbox):
    section = _section()
    commands = _commands(section)
    steps = commands[: [c[0] for c in commands].index("documents") + 1]
    assert [c[0] for c in steps] == ["sandbox", "connect", "fetch", "list", "documents"]

    portal = amazon_sandbox.portal("amazon")
    account = next(a for a in portal.demo_accounts() if a.scenario == "ok" and a.variant == "co.uk")
    # What the page tells the reader to type must be the sandbox's real demo account.
    assert f"--username {account.username}" in " ".join(steps[1])
    assert f"password `{account.password}`" in section

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "DEXTCORE_HOME": str(tmp_path / "trial"),
        "DEXTCORE_SMTP_HOST": "127.0.0.1",
        "DEXTCORE_SMTP_PORT": "9",  # no mail server: alerts fail quietly, as the page says
    }
    base_url = amazon_sandbox.base_url("amazon", "co.uk")

    def dextcore(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dextcore", *args], input=stdin, capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=120, check=False)

    outputs = {}
    for args in steps[1:]:
        stdin = None
        if args[0] == "connect":
            args = [base_url if a.startswith("http://127.0.0.1:") else a for a in args] + ["--secrets-stdin"]
            stdin = json.dumps({"password": account.password})
        result = dextcore(args, stdin)
        assert result.returncode == 0, f"dextcore {' '.join(args)}: {result.stderr}"
        outputs[args[0]] = result.stdout

    assert outputs["connect"].startswith("Connection 1 created: Amazon (Amazon UK (amazon.co.uk))")
    assert re.match(r"connection 1: Connected — [1-9]\d* new", outputs["fetch"])
    assert "Connected" in outputs["list"] and "buyer@example.co.uk" in outputs["list"]
    documents = json.loads(dextcore(["documents", "--json"]).stdout)
    assert documents and all(Path(d["path"]).read_bytes().startswith(b"%PDF-") for d in documents)
    assert len(documents) == int(re.search(r"— (\d+) new", outputs["fetch"]).group(1))
