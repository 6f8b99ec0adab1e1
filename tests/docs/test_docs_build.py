"""The documentation site builds with mkdocs in strict mode, without a warning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_mkdocs_build_strict(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(REPO / "mkdocs.yml"),
         "--site-dir", str(site)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    for page in ("index.html", "getting-started/index.html", "concepts/index.html", "hooks/index.html",
                 "cli/index.html", "python-api/index.html", "architecture/index.html", "security/index.html",
                 "operations/index.html", "writing-a-plugin/index.html"):
        assert (site / page).is_file(), f"{page} was not built"
    # The example embedded in python-api.md is also published next to it.
    assert (site / "examples" / "embed.py").is_file()
