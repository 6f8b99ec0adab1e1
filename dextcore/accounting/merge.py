"""The list merge tool: after a change of accounting connection, map every
old list entry still referenced by a rule or an unpublished item to an
entry of the new connection's lists.

Proposals match by exact code/number first, then by normalised name
(:func:`~dextcore.accounting.names.normalise`). The admin accepts,
overrides or skips each; a skipped entry (or one without a match) is
cleared from rules and items, so afterwards nothing references the old
connection. Published items keep their references: they record what was
published where.
"""

from __future__ import annotations

from typing import Mapping

import sqlalchemy as sa

from dextcore.accounting.lists import entry, list_entries
from dextcore.accounting.model import ListEntry, MergeProposal
from dextcore.accounting.names import normalise, normalise_code
from dextcore.accounting.records import ListKind
from dextcore.accounting.schema import ENTRY_COLUMNS
from dextcore.accounting.schema import accounting_items as items_t
from dextcore.accounting.schema import accounting_list_entries as entries_t
from dextcore.accounting.schema import supplier_rules as rules_t

__all__ = ["Decision", "apply_merge", "foreign_references", "propose"]

Decision = str | int
"""``"accept"``, ``"skip"`` or the id of the new entry to use instead (an override)."""


def _unpublished() -> sa.ColumnElement[bool]:
    return items_t.c.status != "published"


def foreign_references(conn: sa.Connection, current_id: int) -> dict[int, tuple[int, int]]:
    """Old entry id -> (rules, unpublished items) referencing it, for entries
    not belonging to the current connection."""
    counts: dict[int, list[int]] = {}
    own = sa.select(entries_t.c.id).where(entries_t.c.connection_id == current_id)
    for table, slot, extra in ((rules_t, 0, sa.true()), (items_t, 1, _unpublished())):
        for column in ENTRY_COLUMNS:
            col = table.c[column]
            rows = conn.execute(sa.select(col, sa.func.count()).where(
                col.is_not(None), col.not_in(own), extra).group_by(col))
            for ref, n in rows:
                counts.setdefault(ref, [0, 0])[slot] += n
    return {k: (v[0], v[1]) for k, v in counts.items()}


def best_match(old: ListEntry, candidates: list[ListEntry]) -> tuple[ListEntry | None, str]:
    same_kind = [c for c in candidates if c.kind is old.kind and c.active]
    if old.code:
        by_code = [c for c in same_kind if c.code and normalise_code(c.code) == normalise_code(old.code)]
        if len(by_code) == 1:
            return by_code[0], "code"
    key = normalise(old.name)
    by_name = [c for c in same_kind if normalise(c.name) == key]
    if by_name:
        return by_name[0], "name"
    return None, "none"


def propose(conn: sa.Connection, current_id: int) -> list[MergeProposal]:
    refs = foreign_references(conn, current_id)
    candidates = list_entries(conn, current_id)
    out = []
    for old_id, (n_rules, n_items) in sorted(refs.items()):
        old = entry(conn, old_id)
        if old is None:
            continue
        match, reason = best_match(old, candidates)
        out.append(MergeProposal(old=old, match=match, reason=reason, rules=n_rules, items=n_items))
    return out


def apply_merge(conn: sa.Connection, current_id: int, proposals: list[MergeProposal],
                decisions: Mapping[int, Decision], default: str) -> tuple[dict[int, int], list[int], int, int]:
    """Retarget rules and unpublished items; returns (mapping, cleared, rules changed, items changed)."""
    mapping: dict[int, int] = {}
    cleared: list[int] = []
    for proposal in proposals:
        decision = decisions.get(proposal.old.id, default)
        if decision == "accept":
            target = proposal.match.id if proposal.match is not None else None
        elif decision == "skip":
            target = None
        else:
            new = entry(conn, int(decision))
            if new is None or new.connection_id != current_id:
                raise LookupError(f"entry #{decision} is not in the current accounting connection's lists")
            if new.kind is not proposal.old.kind:
                raise ValueError(f"entry #{new.id} ({new.name}) is a {new.kind.label.lower()} entry, "
                                 f"not {proposal.old.kind.label.lower()}")
            target = new.id
        if target is None:
            cleared.append(proposal.old.id)
        else:
            mapping[proposal.old.id] = target
    rules_changed: set[int] = set()
    items_changed: set[int] = set()
    for table, changed, extra in ((rules_t, rules_changed, sa.true()), (items_t, items_changed, _unpublished())):
        for column, kind in ENTRY_COLUMNS.items():
            for old_id in [p.old.id for p in proposals if p.old.kind is ListKind(kind)]:
                col = table.c[column]
                ids = [r[0] for r in conn.execute(sa.select(table.c.id).where(col == old_id, extra))]
                if not ids:
                    continue
                conn.execute(table.update().where(table.c.id.in_(ids)).values({column: mapping.get(old_id)}))
                changed.update(ids)
    return mapping, cleared, len(rules_changed), len(items_changed)
