"""The fake Bill.com's data: organisations, users, the six lists, bills and
documents, plus the list query language (``max``/``page``/``sort``/``filters``).

Seeded deterministically from the portal seed: the same sandbox gives the
same ids and names on every run. Ids follow Bill.com's shape: 20
characters, a 3-character object prefix (``009`` vendors, ``0ca`` chart of
accounts, ``cls`` classes, ``loc`` locations, ``00p`` payment terms,
``0cu`` customers, ``00n`` bills, ``bli`` bill lines, ``0du`` documents,
``008`` organisations, ``006`` users).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import re
from decimal import Decimal
from typing import Any, Callable, Iterable

import attrs

__all__ = [
    "DEV_KEY",
    "INACTIVE_DEV_KEY",
    "LIST_PATHS",
    "Org",
    "QueryError",
    "SandboxUser",
    "apply_query",
    "seed_orgs",
]

DEV_KEY = "sbx-devkey-0000000000000001"
"""The active developer key of the sandbox."""
INACTIVE_DEV_KEY = "sbx-devkey-0000000000000000"
"""A developer key Bill.com deactivated (``BDC_1103``)."""

# list kind -> (endpoint path template, id prefix)
LIST_PATHS = {
    "vendors": "/v3/vendors",
    "customers": "/v3/customers",
    "chart_of_accounts": "/v3/classifications/chart-of-accounts",
    "accounting_classes": "/v3/classifications/accounting-classes",
    "locations": "/v3/classifications/locations",
    "payment_terms": "/v3/organizations/{organizationId}/payment-terms",
}

LOCKOUT_AFTER = 5
"""Sandbox choice: consecutive wrong passwords before a login is locked."""
_BASE_TIME = dt.datetime(2024, 1, 2, 9, 0, tzinfo=dt.timezone.utc)
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def make_id(prefix: str, *parts: object) -> str:
    """A Bill.com-shaped id (20 characters), stable for the same ``parts``."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    body = "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in digest[:17])
    return prefix + body


def iso(value: dt.datetime) -> str:
    """Bill.com's timestamp format: ``2024-01-02T09:00:00.000+00:00``."""
    return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


@attrs.define
class SandboxUser:
    """A Bill.com user. ``password`` None: the credentials were revoked (the
    "expire this connection" switch) until a new password is set."""

    id: str
    username: str
    password: str | None = attrs.field(repr=False)
    mfa_phone: str | None = None
    remember_me_ids: dict[str, dt.datetime] = attrs.field(factory=dict, repr=False)
    """rememberMeId -> expiry (30 days after validation)."""
    codes_sent: list[dt.datetime] = attrs.field(factory=list)
    failed_logins: int = 0
    """Consecutive refused passwords; at LOCKOUT_AFTER the login is locked (BDC_1110)."""

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_phone is not None


@attrs.define
class Org:
    id: str
    name: str
    users: dict[str, SandboxUser] = attrs.field(factory=dict)
    lists: dict[str, list[dict[str, Any]]] = attrs.field(factory=dict)
    bills: list[dict[str, Any]] = attrs.field(factory=list)
    documents: dict[str, dict[str, Any]] = attrs.field(factory=dict, repr=False)
    """document id -> {id, billId, name, body, createdTime, status_polls}."""
    in_flight: int = 0
    max_in_flight: int = 0
    rejected_concurrent: int = 0

    def find(self, kind: str, object_id: str) -> dict[str, Any] | None:
        for record in self.lists[kind]:
            if record["id"] == object_id:
                return record
        return None


# -- seeding ---------------------------------------------------------------------------

_ACCOUNTS = [
    # number, name, type, parent number
    ("1200", "Accounts Receivable", "ACCOUNTS_RECEIVABLE", None),
    ("2100", "Accounts Payable", "ACCOUNTS_PAYABLE", None),
    ("2200", "VAT Control", "OTHER_CURRENT_LIABILITY", None),
    ("4000", "Sales", "INCOME", None),
    ("5000", "Cost of Goods Sold", "COST_OF_GOODS_SOLD", None),
    ("6000", "Office Expenses", "EXPENSE", None),
    ("6010", "Office Supplies", "EXPENSE", "6000"),
    ("6020", "Postage & Delivery", "EXPENSE", "6000"),
    ("6100", "Telephone & Internet", "EXPENSE", None),
    ("6200", "Software Subscriptions", "EXPENSE", None),
    ("6300", "Travel", "EXPENSE", None),
    ("6400", "Advertising & Marketing", "EXPENSE", None),
    ("6500", "Rent", "EXPENSE", None),
    ("6600", "Utilities", "EXPENSE", None),
    ("6700", "Professional Fees", "EXPENSE", None),
    ("6800", "Bank Charges", "EXPENSE", None),
    ("6850", "Computer Equipment", "EXPENSE", None),
    ("6900", "Entertainment (old)", "EXPENSE", None),
]
_CLASSES = ["Administration", "Sales", "Operations", "Marketing", "R&D", "Legacy"]
_LOCATIONS = ["London", "Manchester", "Edinburgh", "Bristol (closed)"]
_TERMS = [("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30), ("Net 60", 60)]
_NAMED_VENDORS = ["Amazon EU S.a r.l.", "BT Business", "Spotify AB", "Office Depot", "Royal Mail Group",
                  "WeWork London", "Adobe Systems Software Ireland", "Dell Technologies"]
_WORDS_A = ["Acme", "Apex", "Beacon", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbour", "Iris",
            "Juniper", "Kestrel", "Lumen", "Maple", "Nimbus", "Orchid", "Pioneer", "Quartz", "Riverside",
            "Summit", "Thistle", "Union", "Vertex", "Willow", "Yew", "Zenith"]
_WORDS_B = ["Supplies", "Logistics", "Print", "Cleaning", "Catering", "Consulting", "Electrical",
            "Plumbing", "Security", "Software", "Stationery", "Couriers", "Media", "Recruitment"]
_SUFFIX = ["Ltd", "LLP", "Limited", "& Co", "Group", "plc"]


def _when(i: int) -> str:
    return iso(_BASE_TIME + dt.timedelta(minutes=7 * i))


def _vendor(org_id: str, i: int, name: str, rng: random.Random, *, archived: bool = False,
            terms: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    vid = make_id("009", org_id, "vendor", name)
    term = rng.choice(terms) if terms else None
    short = re.sub(r"[^A-Za-z0-9]", "", name)[:10].upper()
    return {
        "id": vid,
        "archived": archived,
        "name": name,
        "shortName": short,
        "email": f"accounts@{short.lower() or 'vendor'}.example",
        "phone": f"+44 20 7946 {rng.randint(0, 9999):04d}",
        "address": {"line1": f"{rng.randint(1, 250)} High Street", "city": rng.choice(_LOCATIONS[:3]),
                    "zipOrPostalCode": f"EC{rng.randint(1, 4)}A {rng.randint(1, 9)}BB", "country": "GB"},
        "accountNumber": f"ACC-{rng.randint(10000, 99999)}",
        "additionalInfo": {"taxId": f"GB{rng.randint(100000000, 999999999)}",
                           "paymentTermId": term["id"] if term else None, "companyName": name},
        "billCurrency": "USD",
        "createdTime": _when(i),
        "updatedTime": _when(i),
    }


def _seed_lists(org_id: str, rng: random.Random, *, vendors: int, renumber: dict[str, str] | None = None,
                rename: dict[str, str] | None = None, extra_vendor_names: Iterable[str] = ()) -> dict[str, list]:
    renumber = renumber or {}
    rename = rename or {}
    lists: dict[str, list[dict[str, Any]]] = {k: [] for k in LIST_PATHS}
    terms = lists["payment_terms"]
    for i, (name, days) in enumerate(_TERMS):
        terms.append({"id": make_id("00p", org_id, "term", name), "name": name, "daysDue": days,
                      "archived": False, "createdTime": _when(i), "updatedTime": _when(i)})
    by_number: dict[str, str] = {}
    for i, (number, name, kind, parent) in enumerate(_ACCOUNTS):
        number = renumber.get(number, number)
        name = rename.get(name, name)
        aid = make_id("0ca", org_id, "account", number, name)
        by_number[number] = aid
        lists["chart_of_accounts"].append({
            "id": aid, "name": name, "description": f"{name} ({kind.replace('_', ' ').lower()})",
            "parentId": by_number.get(renumber.get(parent, parent)) if parent else None,
            "archived": name.endswith("(old)"), "account": {"type": kind, "number": number},
            "createdTime": _when(i), "updatedTime": _when(i)})
    for i, name in enumerate(_CLASSES):
        name = rename.get(name, name)
        lists["accounting_classes"].append({
            "id": make_id("cls", org_id, "class", name), "name": name, "shortName": name[:4].upper(),
            "parentId": None, "archived": name == "Legacy", "createdTime": _when(i), "updatedTime": _when(i)})
    for i, name in enumerate(_LOCATIONS):
        name = rename.get(name, name)
        lists["locations"].append({
            "id": make_id("loc", org_id, "location", name), "name": name, "shortName": name[:3].upper(),
            "parentId": None, "archived": "closed" in name, "createdTime": _when(i), "updatedTime": _when(i)})
    for i in range(25):
        name = f"{_WORDS_A[i % len(_WORDS_A)]} {('Clients', 'Partners', 'Holdings')[i % 3]} {_SUFFIX[i % 6]}"
        lists["customers"].append({
            "id": make_id("0cu", org_id, "customer", i), "name": name, "companyName": name,
            "email": f"billing{i}@customer.example", "archived": i % 11 == 10,
            "paymentTermId": terms[i % len(terms)]["id"], "createdTime": _when(i), "updatedTime": _when(i)})
    names: list[str] = [rename.get(n, n) for n in _NAMED_VENDORS] + list(extra_vendor_names)
    combos = [f"{a} {b} {s}" for s in _SUFFIX for b in _WORDS_B for a in _WORDS_A]
    rng.shuffle(combos)
    for combo in combos:
        if len(names) >= vendors:
            break
        if combo not in names:
            names.append(combo)
    for i, name in enumerate(names[:vendors]):
        # Archived vendors cluster at both ends of the creation order, leaving
        # whole pages without any: filtered queries then see empty pages.
        archived = i in (13, 19, 21) or i >= vendors - 3
        lists["vendors"].append(_vendor(org_id, i, name, rng, archived=archived, terms=terms))
    return lists


def seed_orgs(seed: int) -> dict[str, Org]:
    """The sandbox's organisations (see :class:`~dextcore_billcom.sandbox.BillcomPortal`)."""
    orgs: dict[str, Org] = {}

    def org(key: str, name: str, **kwargs: Any) -> Org:
        oid = make_id("008", seed, key)
        rng = random.Random(f"{seed}|{key}")
        made = Org(id=oid, name=name, lists=_seed_lists(oid, rng, **kwargs))
        orgs[oid] = made
        return made

    northwind = org("northwind", "Northwind Trading Ltd", vendors=230)
    northwind.users["ap@northwind.example"] = SandboxUser(
        make_id("006", seed, "ap@northwind"), "ap@northwind.example", "Northwind-AP-2024")
    harbour = org("harbour", "Harbour Design Co", vendors=30)
    harbour.users["owner@harbour.example"] = SandboxUser(
        make_id("006", seed, "owner@harbour"), "owner@harbour.example", "Harbour-Owner-77", mfa_phone="+447700900456")
    # Northwind's new books: the same business after a change of accounting
    # connection. Some accounts keep their number, some are renumbered,
    # some renamed; one class is spelt differently.
    books = org("northwind-new", "Northwind Trading Ltd (new books)", vendors=60,
                renumber={"6100": "7100", "6200": "7200", "2200": "2250"},
                rename={"Telephone & Internet": "Telephone and Internet", "Software Subscriptions": "Software subscriptions",
                        "Operations": "OPERATIONS", "Spotify AB": "Spotify A.B."})
    books.users["finance@northwind.example"] = SandboxUser(
        make_id("006", seed, "finance@northwind"), "finance@northwind.example", "Northwind-Finance-9")
    return orgs


# -- list queries ------------------------------------------------------------------------


class QueryError(ValueError):
    """A malformed ``max``, ``page``, ``sort`` or ``filters`` parameter."""


_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "sw")


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double quotes."""
    out, cur, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _value(raw: str) -> Any:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1]
    if raw in ("true", "false"):
        return raw == "true"
    try:
        return Decimal(raw)
    except ArithmeticError:
        return raw
    except Exception:
        return raw


def _field(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if isinstance(value, list):  # e.g. billLineItems.classifications.chartOfAccountId
            value = [v.get(part) if isinstance(v, dict) else None for v in value]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if isinstance(actual, list):
        return any(_compare(a, op, expected) for a in actual)
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        actual = Decimal(str(actual))
    if op in ("in", "nin"):
        found = actual in expected
        return found if op == "in" else not found
    if op == "sw":
        return isinstance(actual, str) and actual.lower().startswith(str(expected).lower())
    if op == "eq":
        return actual == expected
    if op == "ne":
        return actual != expected
    if actual is None:
        return False
    try:
        return {"gt": actual > expected, "gte": actual >= expected,
                "lt": actual < expected, "lte": actual <= expected}[op]
    except TypeError:
        return False


def parse_filters(text: str | None) -> list[Callable[[dict[str, Any]], bool]]:
    """``field:op:value,...`` (strings in double quotes, dotted paths for nested
    fields). Sandbox choice: ``in``/``nin`` values are separated by ``|``
    (``id:in:"009A"|"009B"``) since ``,`` separates filters."""
    if not text:
        return []
    preds: list[Callable[[dict[str, Any]], bool]] = []
    for clause in _split_top(text, ","):
        if not clause.strip():
            continue
        parts = clause.split(":", 2)
        # a value may hold ':' (timestamps), hence maxsplit; ``in`` lists hold ','
        if len(parts) != 3 or parts[1] not in _OPS:
            raise QueryError(f"Invalid filter '{clause}'. Use field:operator:value with operator one of "
                             + ", ".join(_OPS))
        field, op, raw = parts
        expected: Any = [_value(v) for v in _split_top(raw, "|")] if op in ("in", "nin") else _value(raw)
        preds.append(lambda r, f=field, o=op, e=expected: _compare(_field(r, f), o, e))
    return preds


def _encode_page(offset: int, query_key: str) -> str:
    raw = json.dumps({"o": offset, "q": query_key}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_page(token: str, query_key: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = int(data["o"])
    except Exception:
        raise QueryError("Invalid page token") from None
    if data.get("q") != query_key:
        raise QueryError("The page token does not belong to this query (sort and filters must stay the same)")
    return offset


def apply_query(records: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """One page of ``records`` for the query string ``query``.

    Sandbox choice (the docs only say an empty page is not the end): the
    sandbox sorts the whole list, cuts a window of ``max`` records at the
    page token's offset, and applies ``filters`` *within* that window, as a
    search over a paged index would. A filtered page may therefore be short
    or empty while ``nextPage`` still leads on; clients must follow
    ``nextPage`` until it is absent. ``sort`` compares values as text
    (ISO timestamps and names sort right). A page token only serves the
    query (``max``, ``sort``, ``filters``) it was issued for.
    """
    try:
        size = int(query.get("max", "20"))
    except ValueError:
        raise QueryError("max must be a number between 1 and 100") from None
    if not 1 <= size <= 100:
        raise QueryError("max must be a number between 1 and 100")
    sort = query.get("sort") or "createdTime:asc"
    keys = []
    for part in sort.split(","):
        field, _, direction = part.partition(":")
        direction = direction or "asc"
        if direction not in ("asc", "desc") or not field:
            raise QueryError(f"Invalid sort '{part}'. Use field:asc or field:desc")
        keys.append((field, direction == "desc"))
    ordered = list(records)
    for field, desc in reversed(keys):
        ordered.sort(key=lambda r, f=field: (_field(r, f) is None, str(_field(r, f) or "")), reverse=desc)
    preds = parse_filters(query.get("filters"))
    query_key = hashlib.sha256(f"{size}|{sort}|{query.get('filters', '')}".encode()).hexdigest()[:16]
    offset = _decode_page(query["page"], query_key) if query.get("page") else 0
    window = ordered[offset: offset + size]
    results = [r for r in window if all(p(r) for p in preds)]
    page: dict[str, Any] = {"results": results}
    if offset + size < len(ordered):
        page["nextPage"] = _encode_page(offset + size, query_key)
    if offset > 0:
        page["prevPage"] = _encode_page(max(0, offset - size), query_key)
    return page
