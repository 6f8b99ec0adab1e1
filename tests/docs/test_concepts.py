"""The statuses table of docs/concepts.md matches dextcore.statuses.Status."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dextcore.statuses import Status

CONCEPTS_MD = Path(__file__).resolve().parents[2] / "docs" / "concepts.md"


def _status_rows() -> dict[str, list[str]]:
    """Rows of the table whose first cell is a `status value`, split into cells."""
    rows = {}
    for line in CONCEPTS_MD.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([a-z_]+)` \|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


ROWS = _status_rows()


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.value)
def test_status_row_has_exact_label_attention_and_hint(status):
    assert status.value in ROWS, f"docs/concepts.md has no statuses-table row for `{status.value}`"
    label, attention, retried, _raised, hint = ROWS[status.value]
    assert label == status.label
    assert attention == ("yes" if status.needs_attention else "no")
    assert retried == ("yes" if status.retryable else "no")
    assert hint == (status.hint or "—")


def test_table_lists_no_status_that_does_not_exist():
    statuses = {s.value for s in Status}
    stale = set(ROWS) - statuses
    # Other tables of the page (media, fields) use the same row shape; only
    # rows that look like statuses (they have six cells) are checked.
    stale = {name for name in stale if len(ROWS[name]) == 5}
    assert not stale, f"docs/concepts.md lists unknown statuses: {sorted(stale)}"
