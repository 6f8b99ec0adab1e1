"""``dextcore new-plugin``: the generated plugin installs into a fresh virtual
environment and its own tests pass there; bad names and existing folders are refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dextcore.cli import main

GENERATED = {
    "README.md", "pyproject.toml",
    "src/dextcore_acme/__init__.py", "src/dextcore_acme/connector.py", "src/dextcore_acme/hooks.py",
    "src/dextcore_acme/pages.py", "src/dextcore_acme/py.typed", "src/dextcore_acme/sandbox.py",
    "src/dextcore_acme/selectors.py",
    "tests/conftest.py", "tests/test_contract.py", "tests/test_e2e.py", "tests/test_pages.py",
    "tests/pages/invoices.html", "tests/pages/login_failed.html", "tests/pages/verify.html",
}

CHECK = """
import json
import dextcore_acme
from dextcore.plugins import PluginHost
from dextcore.testing import check_plugin
host = PluginHost()
print(json.dumps({"problems": check_plugin(dextcore_acme), "connectors": sorted(host.connectors),
                  "failures": [f.error for f in host.failures]}))
"""


def run(*command: object, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.timeout(900)  # the first user of the session's fresh_venv waits for it to be built
def test_the_generated_plugin_passes_its_own_tests_in_a_fresh_venv(tmp_path, fresh_venv):
    created = run(sys.executable, "-m", "dextcore", "new-plugin", "acme", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    plugin = tmp_path / "dextcore-acme"
    assert {str(p.relative_to(plugin)) for p in plugin.rglob("*") if p.is_file()} == GENERATED
    assert f"pip install -e {plugin}" in created.stdout

    python = fresh_venv / "bin" / "python"
    installed = run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-e", plugin)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", plugin / "tests", cwd=plugin)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "8 passed" in tests.stdout, tests.stdout

    checked = run(python, "-c", CHECK)
    assert checked.returncode == 0, checked.stderr
    # Installed through its entry point, the plugin is the only one and keeps the contract.
    assert json.loads(checked.stdout) == {"problems": [], "connectors": ["acme"], "failures": []}


def test_label_and_domain_reach_the_connector(tmp_path):
    assert main(["new-plugin", "acme_uk", "--directory", str(tmp_path / "p"), "--label", "Acme UK",
                 "--domain", "acme.co.uk"]) == 0
    connector = (tmp_path / "p" / "src" / "dextcore_acme_uk" / "connector.py").read_text()
    assert 'name="acme_uk"' in connector and 'label="Acme UK"' in connector
    assert 'allowed_domains=("acme.co.uk",)' in connector and '"https://www.acme.co.uk"' in connector
    assert 'acme_uk = "dextcore_acme_uk"' in (tmp_path / "p" / "pyproject.toml").read_text()
    assert "class AcmeUkPortal(SandboxPortal)" in (tmp_path / "p" / "src" / "dextcore_acme_uk" / "sandbox.py").read_text()


@pytest.mark.parametrize(("argv", "message"), [
    (["Acme"], "invalid plugin name 'Acme': use a lowercase Python identifier such as acme or acme_uk"),
    (["acme-uk"], "invalid plugin name 'acme-uk'"),
    (["2acme"], "invalid plugin name '2acme'"),
    (["class"], "invalid plugin name 'class'"),
    (["acme", "--domain", "not a domain"], "invalid domain 'not a domain'"),
    (["acme", "--label", 'Acme "Best"'], "invalid label 'Acme \"Best\"'"),
])
def test_bad_names_are_refused_in_one_line(tmp_path, capsys, argv, message):
    assert main(["new-plugin", *argv, "--directory", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dextcore: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "p").exists()


def test_an_existing_directory_is_never_overwritten(tmp_path, capsys):
    target = tmp_path / "dextcore-acme"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    assert main(["new-plugin", "acme", "--directory", str(target)]) == 2
    assert capsys.readouterr().err == f"dextcore: error: {target} already exists; choose another --directory\n"
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["dextcore-acme"]  # no staging folder left behind
