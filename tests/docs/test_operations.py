"""docs/operations.md documents every environment variable dextcore/config.py reads."""

from __future__ import annotations

import re
from pathlib import Path

import dextcore.config

OPERATIONS_MD = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_every_configuration_variable_is_documented():
    source = Path(dextcore.config.__file__).read_text(encoding="utf-8")
    # ``env.get("DEXTCORE_...")`` calls: what from_env really reads, not the docstring.
    read = set(re.findall(r"""env\.get\(\s*["'](DEXTCORE_[A-Z_]+)["']""", source))
    assert {"DEXTCORE_HOME", "DEXTCORE_DATABASE_URL", "DEXTCORE_SECRET_KEY", "DEXTCORE_SMTP_HOST"} <= read
    page = OPERATIONS_MD.read_text(encoding="utf-8")
    table_rows = set(re.findall(r"^\| `(DEXTCORE_[A-Z_]+)` \|", page, flags=re.M))
    missing = sorted(read - table_rows)
    assert not missing, f"docs/operations.md has no configuration row for: {missing}"
