"""docs/tutorial.md cannot rot: its plugin is assembled from the page's own
code blocks, installed into a fresh virtual environment and its tests run.

The fast tests check the page itself (markers, Python that compiles, saved
pages that are still what the Paperbox sandbox serves); the slow one runs
the plugin's test suite in ``fresh_venv`` (tests/conftest.py).
"""

from __future__ import annotations

import ast
import runpy
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.tutorial.assemble import TUTORIAL, TutorialError, extract_files, write_plugin

PLUGIN = "dextcore-paperbox"
LAYOUT = {
    "pyproject.toml",
    "src/dextcore_paperbox/__init__.py",
    "src/dextcore_paperbox/connector.py",
    "src/dextcore_paperbox/documents.py",
    "src/dextcore_paperbox/gate.py",
    "src/dextcore_paperbox/hooks.py",
    "src/dextcore_paperbox/pages.py",
    "src/dextcore_paperbox/selectors.py",
    "src/dextcore_paperbox/signin.py",
    "tests/conftest.py",
    "tests/save_pages.py",
    "tests/test_contract.py",
    "tests/test_pages.py",
    "tests/test_sandbox.py",
    "tests/pages/code.html",
    "tests/pages/invoices_1.html",
    "tests/pages/invoices_3.html",
    "tests/pages/login_refused.html",
    "tests/pages/no_invoices.html",
    "tests/pages/pdf_signed_out.html",
}
# What the tutorial promises, whatever else its tests check: these must have run and passed.
REQUIRED_TESTS = {
    "test_contract.py::test_the_registration_is_complete",
    "test_pages.py::test_a_refused_password_is_the_sign_in_page_with_its_error",
    "test_pages.py::test_an_invoice_page_is_read_with_its_link_to_the_next",
    "test_pages.py::test_no_invoices_is_an_empty_list_not_an_error",
    "test_pages.py::test_a_page_that_is_not_the_invoice_list_is_a_layout_change",
    "test_pages.py::test_a_pdf_link_answering_the_sign_in_page_is_not_taken_for_a_pdf",
    "test_sandbox.py::test_every_invoice_is_collected_once",
    "test_sandbox.py::test_the_history_date_limits_the_first_fetch",
    "test_sandbox.py::test_a_wrong_password_is_incorrect_credentials_tried_once",
    "test_sandbox.py::test_an_emailed_code_is_asked_for_then_typed_in",
    "test_sandbox.py::test_a_session_ended_during_downloads_signs_in_again_once",
    "test_sandbox.py::test_a_redesigned_site_is_plugin_broken_not_zero_invoices",
}
MIN_TESTS = 18


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return extract_files(TUTORIAL.read_text(encoding="utf-8"))


def run(*command: object, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def declared_tests(files: dict[str, str]) -> set[str]:
    """``file::function`` of every test function the tutorial's test modules define."""
    found = set()
    for path, source in files.items():
        name = Path(path).name
        if path.startswith("tests/") and name.startswith("test_") and name.endswith(".py"):
            for node in ast.parse(source).body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                    found.add(f"{name}::{node.name}")
    return found


def junit_results(report: Path) -> dict[str, str]:
    """``file::function`` -> ``passed`` / ``failed`` / ``error`` / ``skipped`` (parametrized cases merged)."""
    results: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        key = f"{module}.py::{case.get('name', '').split('[')[0]}"
        outcome = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")), "passed")
        if results.get(key, "passed") == "passed":
            results[key] = outcome
    return results


# -- the page itself ---------------------------------------------------------------------------


def test_every_file_of_the_plugin_is_on_the_page(files):
    assert set(files) == LAYOUT
    for path, content in files.items():
        assert content.strip(), f"{path} is empty"
        if path.endswith(".py"):
            compile(content, path, "exec")  # a syntax error fails here, before any venv is built
    assert REQUIRED_TESTS <= declared_tests(files)
    assert len(declared_tests(files)) >= MIN_TESTS - 2  # parametrized tests count several times


def test_the_page_layout_tree_lists_every_module(files):
    page = TUTORIAL.read_text(encoding="utf-8")
    for path in files:
        if path.startswith("src/"):
            assert Path(path).name in page.split("## 3.")[0], f"{path} is missing from the layout in section 2"


def test_the_saved_pages_are_what_the_sandbox_serves_today(files, tmp_path):
    """The tutorial's own save_pages.py, run now, writes exactly the pages shown on the page."""
    script = tmp_path / "save_pages.py"
    script.write_text(files["tests/save_pages.py"], encoding="utf-8")
    saver = runpy.run_path(str(script), run_name="tutorial_save_pages")
    saver["main"](tmp_path / "pages")
    saved = {f"tests/pages/{p.name}": p.read_text(encoding="utf-8") for p in (tmp_path / "pages").iterdir()}
    shown = {path: content for path, content in files.items() if path.startswith("tests/pages/")}
    assert saved.keys() == shown.keys()
    for path in shown:
        assert saved[path] == shown[path], f"{path} on the page differs from what the Paperbox sandbox serves"


@pytest.mark.parametrize(("markdown", "message"), [
    ("<!-- file: a.py -->\ntext\n", "not followed by a fenced code block"),
    ("<!-- file: a.py -->\n```python\nx = 1\n", "never closed"),
    ("<!-- file: ../a.py -->\n```python\nx = 1\n```\n", "must be relative"),
    ("<!-- file: a.py -->\n```\n1\n```\n<!-- file: a.py -->\n```\n2\n```\n", "appears twice"),
])
def test_malformed_markers_are_reported_with_their_line(markdown, message):
    with pytest.raises(TutorialError, match=message):
        extract_files(markdown)


def test_blocks_keep_their_text_exactly():
    page = "Intro\n\n<!-- file: pkg/a.py -->\n\n````python\nprint('```')\n\n    indented\n````\n"
    assert extract_files(page) == {"pkg/a.py": "print('```')\n\n    indented\n"}


# -- the plugin, installed like a plugin author's ------------------------------------------------


@pytest.mark.timeout(900)  # the first user of the session's fresh_venv waits for it to be built
def test_the_tutorial_plugin_passes_its_tests_in_a_fresh_venv(tmp_path, fresh_venv, files):
    plugin = tmp_path / PLUGIN
    write_plugin(plugin)
    python = fresh_venv / "bin" / "python"
    installed = run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--no-deps", "-e", plugin)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    try:
        listed = run(python, "-m", "dextcore", "plugins", "--json")
        assert listed.returncode == 0, listed.stderr
        assert '"paperbox"' in listed.stdout and PLUGIN in listed.stdout

        report = tmp_path / "report.xml"
        tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                    plugin / "tests", cwd=plugin)
        assert tests.returncode == 0, tests.stdout[-5000:] + tests.stderr[-3000:]
        results = junit_results(report)
        assert len(list(ET.parse(report).getroot().iter("testcase"))) >= MIN_TESTS, tests.stdout
        not_passed = {name: outcome for name, outcome in results.items() if outcome != "passed"}
        assert not not_passed, not_passed
        assert declared_tests(files) <= results.keys(), "a test on the page was not collected"
        assert REQUIRED_TESTS <= results.keys()
    finally:
        # The venv is shared with other tests (the scaffold's): leave it as it was.
        run(python, "-m", "pip", "uninstall", "--quiet", "--yes", PLUGIN)
