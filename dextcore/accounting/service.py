"""The accounting service: connections, lists, rules, items and publishing.

Reached as ``Dextcore.accounting``. Methods that talk to the accounting
software are ``async`` (``aconnect``, ``apublish`` ...) for the runner's
event loop, each with a blocking twin (``connect``, ``publish`` ...) for
scripts and the CLI. Everything else is plain synchronous store work.

Invariants kept here:

* only users with the ``admin`` role connect, reconnect, refresh, change
  or merge (:class:`~dextcore.accounting.NotAdmin` otherwise);
* one connection is *current* (items publish to it); a connection expires
  after ``lifetime_days`` from its last authorisation, or as soon as the
  software refuses its stored credentials — then an alert goes to the
  admins, and publishing answers "connection expired — reconnect" while
  the items wait, intact, as ``queued``; reconnecting publishes them;
* a publication records the remote bill id the moment the bill exists,
  before the document upload, so retries complete that bill.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any, Awaitable, Callable, Coroutine, Iterable, Mapping, TypeVar

import sqlalchemy as sa

from dextcore.accounting import items as item_logic
from dextcore.accounting import merge as merge_logic
from dextcore.accounting.errors import AccountingError, ConnectionExpired, ItemNotReady, NotAdmin, NotConnected
from dextcore.accounting.lists import list_entries, resolve_entry, upsert_lists
from dextcore.accounting.model import (
    AccountingConnection,
    Item,
    ListEntry,
    MergeProposal,
    MergeReport,
    PublishOutcome,
    Rule,
    SyncSummary,
)
from dextcore.accounting.names import normalise
from dextcore.accounting.records import (
    AccountingConnectionView,
    AccountingSession,
    Bill,
    BillLine,
    ListKind,
    Organisation,
    PublishedBill,
)
from dextcore.accounting.schema import ENTRY_COLUMNS
from dextcore.accounting.schema import accounting_connections as conns_t
from dextcore.accounting.schema import accounting_items as items_t
from dextcore.accounting.schema import accounting_list_entries as entries_t
from dextcore.accounting.schema import accounting_publications as pubs_t
from dextcore.accounting.schema import supplier_rules as rules_t
from dextcore.outcomes import ConnectorOutcome, IncorrectCode, IncorrectCredentials, TwoFactorRequired
from dextcore.records import Challenge, ConnectorKind
from dextcore.store import as_utc, schema, utcnow

__all__ = ["AccountingService", "CodeProvider", "VAULT_SCOPE"]

log = logging.getLogger(__name__)

VAULT_SCOPE = "accounting"
CodeProvider = Callable[[Challenge], "str | Awaitable[str]"]
"""Asked for the code when the software sends one (CLI: a prompt; tests: the sandbox mailbox)."""
T = TypeVar("T")
_CODE_ATTEMPTS = 3
_ENTRY_ARGS = {"vendor": "vendor_entry_id", "category": "category_entry_id", "tax_account": "tax_account_entry_id",
               "accounting_class": "class_entry_id", "location": "location_entry_id",
               "payment_terms": "payment_term_entry_id"}
"""Keyword names of :meth:`AccountingService.set_rule`/`edit_item` for list references."""


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code, even inside a running loop
    (then on a helper thread with its own loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # handed back to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="dextcore-accounting")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _dec(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


class AccountingService:
    """Accounting on top of a :class:`~dextcore.api.Dextcore` (or any object
    with ``store``, ``vault``, ``host``, ``alerter`` and optionally ``inbox``/``config``).

    ``clock`` returns the current aware UTC time (injectable for expiry
    tests); ``session_options`` are handed to plugins as
    ``AccountingSession.options`` (timeouts, backoff).
    """

    def __init__(self, app: Any, *, clock: Callable[[], dt.datetime] | None = None,
                 session_options: Mapping[str, Any] | None = None) -> None:
        self.app = app
        self.store = app.store
        self.vault = app.vault
        self.host = app.host
        self.alerter = getattr(app, "alerter", None)
        self.clock = clock or utcnow
        self.session_options = dict(session_options or {})

    def __repr__(self) -> str:
        return f"<AccountingService {self.store!r}>"

    # -- roles -------------------------------------------------------------------------------

    def _require_admin(self, actor: str, action: str) -> None:
        with self.store.connect() as conn:
            role = conn.execute(sa.select(schema.users.c.role).where(schema.users.c.id == actor)).scalar()
        if role != "admin":
            raise NotAdmin(actor, action)

    def _admins(self) -> list[str]:
        with self.store.connect() as conn:
            return [r[0] for r in conn.execute(sa.select(schema.users.c.id).where(schema.users.c.role == "admin"))]

    # -- connections ----------------------------------------------------------------------------

    @staticmethod
    def _to_connection(row: Any) -> AccountingConnection:
        return AccountingConnection(
            id=row.id, connector=row.connector, variant=row.variant, base_url=row.base_url, username=row.username,
            organisation_id=row.organisation_id, organisation_name=row.organisation_name, fields=dict(row.fields or {}),
            created_by=row.created_by, created_at=as_utc(row.created_at), authorised_at=as_utc(row.authorised_at),
            lifetime_days=row.lifetime_days, status=row.status, status_reason=row.status_reason,
            status_changed_at=as_utc(row.status_changed_at), current=bool(row.current), replaced_by=row.replaced_by,
            last_synced_at=as_utc(row.last_synced_at))

    def connections(self) -> list[AccountingConnection]:
        with self.store.connect() as conn:
            return [self._to_connection(r) for r in conn.execute(sa.select(conns_t).order_by(conns_t.c.id))]

    def connection(self, connection_id: int | None = None) -> AccountingConnection:
        """The connection ``connection_id``, or the current one; checks expiry by lifetime."""
        with self.store.connect() as conn:
            query = sa.select(conns_t)
            query = query.where(conns_t.c.id == connection_id) if connection_id is not None \
                else query.where(conns_t.c.current.is_(True))
            row = conn.execute(query).first()
        if row is None:
            raise NotConnected(f"no accounting connection {connection_id}" if connection_id is not None else
                               "no accounting connection: an admin runs `dextcore accounting connect`")
        found = self._to_connection(row)
        if found.status == "active" and self.clock() >= found.expires_at:
            self._expire(found.id, f"it was authorised on {found.authorised_at:%Y-%m-%d} and connections last "
                                   f"{found.lifetime_days} days")
            return self.connection(found.id)
        return found

    def _current_id(self, conn: sa.Connection) -> int | None:
        return conn.execute(sa.select(conns_t.c.id).where(conns_t.c.current.is_(True))).scalar()

    def _view(self, c: AccountingConnection) -> AccountingConnectionView:
        base = c.base_url
        if base is None:
            connector = self.host.connector(c.connector)
            base = connector.variant(c.variant).base_url if connector.variants else None
        return AccountingConnectionView(id=c.id, connector=c.connector, username=c.username,
                                        organisation_id=c.organisation_id, base_url=base, fields=c.fields)

    def _session(self, c: AccountingConnection, *, interactive: bool = False) -> AccountingSession:
        def remember(name: str, value: str | None) -> None:
            if value is None:
                self.vault.delete(VAULT_SCOPE, c.id, name)
            else:
                self.vault.put(VAULT_SCOPE, c.id, name, value)

        def record_bill(item_id: int, remote_id: str) -> None:
            with self.store.begin() as conn:
                conn.execute(pubs_t.update().where(pubs_t.c.item_id == item_id, pubs_t.c.connection_id == c.id)
                             .values(remote_bill_id=remote_id, status="bill_created"))

        return AccountingSession(self._view(c), secrets=lambda name: self.vault.get(VAULT_SCOPE, c.id, name),
                                 remember=remember, record_bill=record_bill, options=self.session_options,
                                 interactive=interactive)

    def _expire(self, connection_id: int, reason: str) -> bool:
        """Mark the connection expired (once) and alert the admins."""
        now = self.clock()
        with self.store.begin() as conn:
            done = conn.execute(conns_t.update().where(conns_t.c.id == connection_id, conns_t.c.status == "active")
                                .values(status="expired", status_reason=reason, status_changed_at=now)).rowcount
            row = conn.execute(sa.select(conns_t).where(conns_t.c.id == connection_id)).first()
        if not done:
            return False
        label = self._label(row.connector)
        log.warning("accounting connection %s (%s) expired: %s", connection_id, label, reason)
        subject = f"{label} connection expired — reconnect to keep publishing"
        body = (f"The accounting connection {connection_id} to {label} (organisation "
                f"{row.organisation_name or row.organisation_id}, user {row.username}) has expired: {reason}.\n\n"
                "Publishing is paused; items stay unpublished and nothing is lost. An administrator reconnects "
                "with `dextcore accounting reconnect` (same or new credentials); queued items are then published. "
                "Lists, supplier rules and settings are kept.\n")
        if self.alerter is not None:
            for recipient in dict.fromkeys([row.created_by, *self._admins()]):
                self.alerter.send(recipient, subject, body)
        return True

    def _label(self, connector: str) -> str:
        try:
            return self.host.connector(connector).label
        except KeyError:
            return connector

    async def _login(self, c: AccountingConnection, session: AccountingSession,
                     code_provider: CodeProvider | None) -> Organisation:
        """connect_accounting, then accounting_2fa with codes from ``code_provider``."""
        try:
            return await self.host.acall(c.connector, "connect_accounting", session=session)
        except TwoFactorRequired as required:
            challenge = required.challenge
        if code_provider is None:
            raise AccountingError(f"{self._label(c.connector)} sent a verification code ({challenge.prompt}); "
                                  "connect interactively to type it")
        for attempt in range(1, _CODE_ATTEMPTS + 1):
            code = code_provider(challenge)
            if inspect.isawaitable(code):
                code = await code
            try:
                return await self.host.acall(c.connector, "accounting_2fa", session=session, challenge=challenge,
                                             code=str(code).strip())
            except IncorrectCode as exc:
                if attempt == _CODE_ATTEMPTS:
                    raise AccountingError(f"the verification code was refused {attempt} times: {exc.message}") from None
                challenge = exc.challenge or challenge
        raise AssertionError("unreachable")

    def _store_credentials(self, connection_id: int, connector: str, password: str | None,
                           fields: Mapping[str, str], *, complete: bool = True) -> dict[str, Any]:
        """Secret fields to the vault; returns the non-secret ones. ``complete``:
        every required field must be given (a reconnect may change only some)."""
        spec = self.host.connector(connector)
        plain: dict[str, Any] = {}
        if password is not None:
            self.vault.put(VAULT_SCOPE, connection_id, "password", password)
        for name, value in fields.items():
            field = spec.field(name)
            if field is None:
                raise ValueError(f"{spec.label} has no field {name!r} (fields: "
                                 f"{', '.join(f.name for f in spec.fields) or 'none'})")
            if field.secret:
                self.vault.put(VAULT_SCOPE, connection_id, name, value)
            else:
                plain[name] = value
        missing = [f.label for f in spec.fields if f.required and f.name not in fields]
        if missing and complete:
            raise ValueError(f"{spec.label} needs: {', '.join(missing)}")
        return plain

    async def aconnect(self, actor: str, connector: str, *, username: str, password: str,
                       fields: Mapping[str, str] | None = None, variant: str | None = None,
                       base_url: str | None = None, code_provider: CodeProvider | None = None,
                       lifetime_days: int = 365, replace: bool = False) -> AccountingConnection:
        """Connect accounting software (admin only): log in (MFA through
        ``code_provider``), sync the lists, make it the current connection.

        With ``replace`` (what :meth:`achange` does) the current connection
        becomes ``replaced``; rules and items keep pointing at its lists
        until :meth:`merge`.
        """
        self._require_admin(actor, "connect")
        spec = self.host.connector(connector)
        if spec.kind is not ConnectorKind.ACCOUNTING:
            raise ValueError(f"{spec.label} is not accounting software")
        if spec.variants:
            spec.variant(variant)  # unknown variants fail early
        if lifetime_days < 1:
            raise ValueError("lifetime_days must be at least 1")
        with self.store.connect() as conn:
            current = self._current_id(conn)
        if current is not None and not replace:
            existing = self.connection(current)
            hint = "reconnect" if existing.status == "expired" else "change"
            raise AccountingError(f"accounting connection {current} ({self._label(existing.connector)}) is already set "
                                  f"up; use `dextcore accounting {hint}`")
        now = self.clock()
        with self.store.begin() as conn:
            cid = conn.execute(conns_t.insert().values(
                connector=connector, variant=variant, base_url=base_url, username=username, fields={},
                created_by=actor, created_at=now, authorised_at=now, lifetime_days=lifetime_days,
                status="connecting", status_reason="", status_changed_at=now, current=False)).inserted_primary_key[0]
        try:
            plain = self._store_credentials(cid, connector, password, fields or {})
            with self.store.begin() as conn:
                conn.execute(conns_t.update().where(conns_t.c.id == cid).values(fields=plain))
            record = self.connection(cid)
            session = self._session(record, interactive=True)
            try:
                org = await self._login(record, session, code_provider)
                with self.store.begin() as conn:
                    conn.execute(conns_t.update().where(conns_t.c.id == cid).values(
                        organisation_id=org.id, organisation_name=org.name))
                await self._sync(self.connection(cid), session)
            finally:
                await session.aclose()
        except BaseException as exc:
            self.vault.delete(VAULT_SCOPE, cid)
            with self.store.begin() as conn:
                conn.execute(entries_t.delete().where(entries_t.c.connection_id == cid))
                conn.execute(conns_t.delete().where(conns_t.c.id == cid))
            if isinstance(exc, ConnectorOutcome):
                raise AccountingError(f"could not connect {spec.label}: {exc.message}") from None
            raise
        now = self.clock()
        with self.store.begin() as conn:
            if current is not None:
                conn.execute(conns_t.update().where(conns_t.c.id == current).values(
                    current=False, status="replaced", status_reason=f"replaced by connection {cid}",
                    status_changed_at=now, replaced_by=cid))
            conn.execute(conns_t.update().where(conns_t.c.id == cid).values(
                status="active", current=True, authorised_at=now, status_changed_at=now))
        log.info("accounting connection %s to %s connected by %s", cid, spec.label, actor)
        return self.connection(cid)

    def connect(self, actor: str, connector: str, **kwargs: Any) -> AccountingConnection:
        return run_blocking(self.aconnect(actor, connector, **kwargs))

    async def achange(self, actor: str, connector: str, **kwargs: Any) -> AccountingConnection:
        """Switch to another accounting connection (admin only); then run :meth:`merge`."""
        self._require_admin(actor, "change")
        return await self.aconnect(actor, connector, replace=True, **kwargs)

    def change(self, actor: str, connector: str, **kwargs: Any) -> AccountingConnection:
        return run_blocking(self.achange(actor, connector, **kwargs))

    async def areconnect(self, actor: str, connection_id: int | None = None, *, username: str | None = None,
                         password: str | None = None, fields: Mapping[str, str] | None = None,
                         code_provider: CodeProvider | None = None) -> tuple[AccountingConnection, list[PublishOutcome]]:
        """Log in again (same or new credentials; admin only). Keeps lists,
        rules and settings; restarts the lifetime; syncs the lists; then
        publishes the items queued while the connection was expired."""
        self._require_admin(actor, "reconnect")
        record = self.connection(connection_id)
        if record.status == "replaced":
            raise AccountingError(f"accounting connection {record.id} was replaced by {record.replaced_by}; "
                                  "reconnect that one")
        if fields or password is not None:
            plain = self._store_credentials(record.id, record.connector, password, dict(fields or {}),
                                            complete=False)
            with self.store.begin() as conn:
                conn.execute(conns_t.update().where(conns_t.c.id == record.id).values(
                    fields={**record.fields, **plain}))
        if username is not None:
            with self.store.begin() as conn:
                conn.execute(conns_t.update().where(conns_t.c.id == record.id).values(username=username))
        self.vault.delete(VAULT_SCOPE, record.id, "api_session")  # a fresh login proves the credentials
        record = self.connection(record.id)
        session = self._session(record, interactive=True)
        try:
            try:
                org = await self._login(record, session, code_provider)
            except ConnectorOutcome as exc:
                raise AccountingError(f"could not reconnect {self._label(record.connector)}: {exc.message}") from None
            now = self.clock()
            with self.store.begin() as conn:
                conn.execute(conns_t.update().where(conns_t.c.id == record.id).values(
                    organisation_id=org.id, organisation_name=org.name or record.organisation_name,
                    status="active", status_reason="", status_changed_at=now, authorised_at=now))
            await self._sync(self.connection(record.id), session)
        finally:
            await session.aclose()
        with self.store.connect() as conn:
            queued = [r[0] for r in conn.execute(sa.select(items_t.c.id).where(items_t.c.status == "queued"))]
        outcomes = await self.apublish(queued) if queued and record.current else []
        return self.connection(record.id), outcomes

    def reconnect(self, actor: str, connection_id: int | None = None, **kwargs: Any) -> tuple[AccountingConnection,
                                                                                               list[PublishOutcome]]:
        return run_blocking(self.areconnect(actor, connection_id, **kwargs))

    async def arefresh(self, actor: str, connection_id: int | None = None) -> SyncSummary:
        """Re-pull every list (admin only); nothing stored is lost."""
        self._require_admin(actor, "refresh")
        record = self._usable(connection_id)
        session = self._session(record)
        try:
            await self._open(record, session)
            return await self._calling(record, self._sync(record, session))
        finally:
            await session.aclose()

    def refresh(self, actor: str, connection_id: int | None = None) -> SyncSummary:
        return run_blocking(self.arefresh(actor, connection_id))

    def _usable(self, connection_id: int | None = None) -> AccountingConnection:
        record = self.connection(connection_id)
        if record.status == "expired":
            raise ConnectionExpired(record.id, record.status_reason)
        if record.status != "active":
            raise AccountingError(f"accounting connection {record.id} is {record.status}")
        return record

    async def _open(self, record: AccountingConnection, session: AccountingSession) -> Organisation:
        """``connect_accounting`` for an unattended operation (no code can be typed)."""
        return await self._calling(record, self._login(record, session, None))

    async def _calling(self, record: AccountingConnection, coro: Awaitable[T]) -> T:
        """Await a plugin call; refused stored credentials expire the connection."""
        try:
            return await coro
        except IncorrectCredentials as exc:
            reason = f"{self._label(record.connector)} refused the stored credentials ({exc.message})"
            self._expire(record.id, reason)
            raise ConnectionExpired(record.id, reason) from None
        except ConnectorOutcome as exc:
            raise AccountingError(f"{self._label(record.connector)}: {exc.message}") from None

    async def _sync(self, record: AccountingConnection, session: AccountingSession) -> SyncSummary:
        lists = await self.host.acall(record.connector, "sync_lists", session=session)
        if lists is None:
            raise AccountingError(f"the plugin of {record.connector} does not implement sync_lists")
        now = self.clock()
        with self.store.begin() as conn:
            counts = upsert_lists(conn, record.id, lists, now)
            conn.execute(conns_t.update().where(conns_t.c.id == record.id).values(last_synced_at=now))
        self._recompute_unpublished()
        return SyncSummary(record.id, counts)

    def status(self, connection_id: int | None = None) -> dict[str, Any]:
        """The connection, its list counts and its items by state (for ``accounting status``)."""
        record = self.connection(connection_id)
        with self.store.connect() as conn:
            counts: dict[str, dict[str, int]] = {}
            for kind, active, n in conn.execute(
                    sa.select(entries_t.c.kind, entries_t.c.active, sa.func.count())
                    .where(entries_t.c.connection_id == record.id).group_by(entries_t.c.kind, entries_t.c.active)):
                slot = counts.setdefault(kind, {"active": 0, "inactive": 0})
                slot["active" if active else "inactive"] += n
        states: dict[str, int] = {}
        for item in self.items():
            states[item.state] = states.get(item.state, 0) + 1
        return {"connection": record.to_json(), "label": self._label(record.connector), "lists": counts,
                "items": states}

    def lists(self, kind: ListKind | str | None = None, connection_id: int | None = None, *,
              active_only: bool = False) -> list[ListEntry]:
        record = self.connection(connection_id)
        with self.store.connect() as conn:
            return list_entries(conn, record.id, ListKind(kind) if kind else None, active_only=active_only)

    # -- merge ---------------------------------------------------------------------------------

    def merge_proposals(self) -> list[MergeProposal]:
        """For each old list entry still used by a rule or unpublished item, the best new match."""
        record = self.connection()
        with self.store.connect() as conn:
            return merge_logic.propose(conn, record.id)

    def merge(self, actor: str, decisions: Mapping[int, merge_logic.Decision] | None = None, *,
              default: str = "accept") -> MergeReport:
        """Apply the merge (admin only). ``decisions`` maps an old entry id to
        ``"accept"``, ``"skip"`` or a new entry id (override); others get ``default``."""
        self._require_admin(actor, "merge")
        if default not in ("accept", "skip"):
            raise ValueError("default must be 'accept' or 'skip'")
        record = self.connection()
        with self.store.begin() as conn:
            proposals = merge_logic.propose(conn, record.id)
            unknown = set(decisions or {}) - {p.old.id for p in proposals}
            if unknown:
                raise LookupError(f"entries {sorted(unknown)} are not waiting for a merge")
            mapping, cleared, n_rules, n_items = merge_logic.apply_merge(conn, record.id, proposals,
                                                                         dict(decisions or {}), default)
        self._recompute_unpublished()
        return MergeReport(mapping, tuple(cleared), n_rules, n_items)

    # -- rules -------------------------------------------------------------------------------------

    @staticmethod
    def _to_rule(row: Any) -> Rule:
        return Rule(id=row.id, supplier=row.supplier, supplier_key=row.supplier_key,
                    vendor_entry_id=row.vendor_entry_id, category_entry_id=row.category_entry_id,
                    tax_account_entry_id=row.tax_account_entry_id, class_entry_id=row.class_entry_id,
                    location_entry_id=row.location_entry_id, payment_term_entry_id=row.payment_term_entry_id,
                    tax_rate=_dec(row.tax_rate), due_days=row.due_days, description=row.description,
                    auto_publish=bool(row.auto_publish), created_at=as_utc(row.created_at),
                    updated_at=as_utc(row.updated_at))

    def rules(self) -> list[Rule]:
        with self.store.connect() as conn:
            return [self._to_rule(r) for r in conn.execute(sa.select(rules_t).order_by(rules_t.c.supplier_key))]

    def rule(self, supplier: str | int) -> Rule:
        with self.store.connect() as conn:
            row = self._rule_row(conn, supplier)
        return self._to_rule(row)

    def _rule_row(self, conn: sa.Connection, supplier: str | int) -> Any:
        query = sa.select(rules_t)
        if isinstance(supplier, int) or (isinstance(supplier, str) and supplier.isdigit()):
            row = conn.execute(query.where(rules_t.c.id == int(supplier))).first()
        else:
            row = conn.execute(query.where(rules_t.c.supplier_key == normalise(supplier))).first()
        if row is None:
            raise LookupError(f"no supplier rule for {supplier!r}")
        return row

    def _resolve(self, conn: sa.Connection, column: str, ref: Any) -> int | None:
        if ref is None:
            return None
        current = self._current_id(conn)
        if current is None:
            raise NotConnected("list references need an accounting connection: an admin runs "
                               "`dextcore accounting connect`")
        return resolve_entry(conn, current, ListKind(ENTRY_COLUMNS[column]), ref).id

    def set_rule(self, supplier: str, **values: Any) -> Rule:
        """Create or update the rule of ``supplier`` and re-apply it to that
        supplier's unpublished items. Keywords: ``vendor``, ``category``,
        ``tax_account``, ``accounting_class``, ``location``, ``payment_terms``
        (entry id ``#12``, remote id, code or name; ``None`` clears),
        ``tax_rate`` (0.2 for 20 %), ``due_days``, ``description``, ``auto_publish``."""
        key = normalise(supplier)
        if not key:
            raise ValueError("a supplier rule needs a supplier name")
        allowed = set(_ENTRY_ARGS) | {"tax_rate", "due_days", "description", "auto_publish"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown rule settings: {', '.join(sorted(unknown))} (known: {', '.join(sorted(allowed))})")
        now = self.clock()
        with self.store.begin() as conn:
            update: dict[str, Any] = {}
            for arg, column in _ENTRY_ARGS.items():
                if arg in values:
                    update[column] = self._resolve(conn, column, values[arg])
            if "tax_rate" in values:
                rate = _dec(values["tax_rate"])
                if rate is not None and not Decimal(0) <= rate < Decimal(1):
                    raise ValueError("tax_rate is a fraction: 0.2 for 20 %")
                update["tax_rate"] = rate
            if "due_days" in values:
                days = values["due_days"]
                if days is not None and not 0 <= int(days) <= 999:
                    raise ValueError("due_days must be between 0 and 999")
                update["due_days"] = None if days is None else int(days)
            if "description" in values:
                update["description"] = values["description"]
            if "auto_publish" in values:
                update["auto_publish"] = bool(values["auto_publish"])
            existing = conn.execute(sa.select(rules_t.c.id).where(rules_t.c.supplier_key == key)).scalar()
            if existing is None:
                conn.execute(rules_t.insert().values(supplier=supplier.strip(), supplier_key=key, created_at=now,
                                                     updated_at=now, **update))
            else:
                conn.execute(rules_t.update().where(rules_t.c.id == existing).values(updated_at=now, **update))
        self._recompute_unpublished(supplier_key=key)
        return self.rule(supplier)

    def delete_rule(self, supplier: str | int) -> None:
        with self.store.begin() as conn:
            row = self._rule_row(conn, supplier)
            conn.execute(items_t.update().where(items_t.c.rule_id == row.id).values(rule_id=None))
            conn.execute(rules_t.delete().where(rules_t.c.id == row.id))
        self._recompute_unpublished(supplier_key=row.supplier_key)

    # -- items ----------------------------------------------------------------------------------------

    def _fallback_supplier(self, connector: str | None) -> str | None:
        return self._label(connector) if connector else None

    def collect_items(self, document_ids: Iterable[int] | None = None) -> list[Item]:
        """Create an item for each cost invoice or receipt in the inbox that has
        none yet (or only for ``document_ids``), applying supplier rules."""
        docs_t = schema.documents
        query = (sa.select(docs_t).outerjoin(items_t, items_t.c.document_id == docs_t.c.id)
                 .where(items_t.c.id.is_(None), docs_t.c.direction == "cost",
                        docs_t.c.kind.in_(("invoice", "receipt"))).order_by(docs_t.c.id))
        if document_ids is not None:
            query = query.where(docs_t.c.id.in_(list(document_ids)))
        now = self.clock()
        created: list[int] = []
        with self.store.begin() as conn:
            for doc in conn.execute(query).all():
                values = item_logic.compute(conn, None, doc, self._fallback_supplier(doc.connector))
                created.append(conn.execute(items_t.insert().values(
                    document_id=doc.id, edited=[], status="new", status_reason="", created_at=now, updated_at=now,
                    **values)).inserted_primary_key[0])
        return [self.item(i) for i in created]

    def items(self, *, state: str | None = None) -> list[Item]:
        """Every item (``state``: published, queued, failed, ready, "needs details")."""
        with self.store.connect() as conn:
            current = self._current_id(conn)
            found = [item_logic.to_item(conn, r, current)
                     for r in conn.execute(sa.select(items_t).order_by(items_t.c.id))]
        return [i for i in found if state is None or i.state == state]

    def item(self, item_id: int) -> Item:
        with self.store.connect() as conn:
            row = conn.execute(sa.select(items_t).where(items_t.c.id == item_id)).first()
            if row is None:
                raise LookupError(f"no item {item_id}")
            return item_logic.to_item(conn, row, self._current_id(conn))

    def edit_item(self, item_id: int, *, reset: Iterable[str] = (), **changes: Any) -> Item:
        """Set accounting details of an unpublished item. Keywords: the
        document fields (``supplier``, ``invoice_number``, ``invoice_date``,
        ``total``, ``tax``, ``currency``), ``due_date``, ``tax_rate``,
        ``description``, ``lines`` (list of ``{amount, description,
        category}``) and the list references of :meth:`set_rule`. Edited
        fields are kept when rules change; ``reset`` hands fields back to the
        document and rules."""
        plain = {"supplier", "invoice_number", "invoice_date", "total", "tax", "currency", "due_date",
                 "tax_rate", "description", "lines"}
        unknown = set(changes) - plain - set(_ENTRY_ARGS)
        if unknown:
            raise ValueError(f"unknown item fields: {', '.join(sorted(unknown))}")
        reset_cols = {_ENTRY_ARGS.get(f, f) for f in reset}
        bad = reset_cols - set(item_logic.EDITABLE)
        if bad:
            raise ValueError(f"cannot reset {', '.join(sorted(bad))}")
        now = self.clock()
        with self.store.begin() as conn:
            row = conn.execute(sa.select(items_t).where(items_t.c.id == item_id)).first()
            if row is None:
                raise LookupError(f"no item {item_id}")
            if row.status == "published":
                raise AccountingError(f"item {item_id} is published; edit the bill in the accounting software")
            update: dict[str, Any] = {}
            for name, value in changes.items():
                if name in _ENTRY_ARGS:
                    update[_ENTRY_ARGS[name]] = self._resolve(conn, _ENTRY_ARGS[name], value)
                elif name in ("invoice_date", "due_date") and isinstance(value, str):
                    update[name] = dt.date.fromisoformat(value)
                elif name in ("total", "tax", "tax_rate"):
                    update[name] = _dec(value)
                elif name == "lines" and value is not None:
                    update[name] = self._lines(conn, value)
                else:
                    update[name] = value
            edited = (set(row.edited or ()) | set(update)) - reset_cols
            conn.execute(items_t.update().where(items_t.c.id == item_id).values(
                edited=sorted(edited), updated_at=now, **update))
            item_logic.recompute(conn, item_id, self._fallback_supplier(self._doc_connector(conn, row.document_id)),
                                 now)
        return self.item(item_id)

    def _lines(self, conn: sa.Connection, lines: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for line in lines:
            amount = _dec(line.get("amount"))
            if amount is None:
                raise ValueError("every line needs an amount")
            category = line.get("category")
            out.append({"amount": str(amount), "description": str(line.get("description") or ""),
                        "category_entry_id": self._resolve(conn, "category_entry_id", category)
                        if category is not None else None})
        return out

    @staticmethod
    def _doc_connector(conn: sa.Connection, document_id: int | None) -> str | None:
        if document_id is None:
            return None
        return conn.execute(sa.select(schema.documents.c.connector).where(
            schema.documents.c.id == document_id)).scalar()

    def _recompute_unpublished(self, *, supplier_key: str | None = None) -> None:
        now = self.clock()
        with self.store.begin() as conn:
            query = sa.select(items_t.c.id, items_t.c.document_id).where(items_t.c.status != "published")
            rows = conn.execute(query).all()
            for item_id, document_id in rows:
                if supplier_key is not None:
                    current_key = conn.execute(sa.select(items_t.c.supplier_key).where(items_t.c.id == item_id)).scalar()
                    if current_key != supplier_key:
                        continue
                item_logic.recompute(conn, item_id, self._fallback_supplier(self._doc_connector(conn, document_id)),
                                     now)

    # -- publishing -------------------------------------------------------------------------------------

    def _bill(self, conn: sa.Connection, row: Any, record: AccountingConnection, remote_id: str | None) -> Bill:
        def remote(entry_id: int | None) -> str | None:
            if entry_id is None:
                return None
            return conn.execute(sa.select(entries_t.c.remote_id).where(entries_t.c.id == entry_id)).scalar()

        vendor_id = remote(row.vendor_entry_id)
        if vendor_id is None:
            vendors = list_entries(conn, record.id, ListKind.VENDORS, active_only=True)
            match = next((v for v in vendors if normalise(v.name) == row.supplier_key), None)
            vendor_id = match.remote_id if match else None
        total, tax = Decimal(str(row.total)), _dec(row.tax) or Decimal(0)
        common = {"class_id": remote(row.class_entry_id), "location_id": remote(row.location_entry_id)}
        description = row.description or f"{row.supplier} {row.invoice_number}"
        if row.lines:
            lines = tuple(BillLine(amount=Decimal(line["amount"]), description=line.get("description") or description,
                                   account_id=remote(line.get("category_entry_id") or row.category_entry_id), **common)
                          for line in row.lines)
        else:
            lines = (BillLine(amount=total - tax, description=description, account_id=remote(row.category_entry_id),
                              **common),)
            if tax > 0:
                lines += (BillLine(amount=tax, description=f"Tax on {row.invoice_number}",
                                   account_id=remote(row.tax_account_entry_id), **common),)
        doc = item_logic.document_row(conn, row.document_id)
        if doc is None:
            raise AccountingError(f"item {row.id} has no document to attach")
        path = self._document_path(doc)
        safe_number = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in row.invoice_number)[:60]
        return Bill(item_id=row.id, vendor_name=row.supplier or "", vendor_id=vendor_id,
                    invoice_number=row.invoice_number, invoice_date=row.invoice_date, due_date=row.due_date,
                    lines=lines, total=total, currency=row.currency, document_path=path,
                    document_name=f"{safe_number}-{doc.sha256[:8]}.pdf", document_sha256=doc.sha256,
                    remote_id=remote_id, description=row.description or "")

    def _document_path(self, doc: Any) -> Path:
        inbox = getattr(self.app, "inbox", None)
        if inbox is not None:
            return Path(inbox.get(doc.id).path)
        return Path(self.app.config.inbox_dir) / doc.path

    async def apublish(self, item_ids: Iterable[int] | None = None, *, all_ready: bool = False) -> list[PublishOutcome]:
        """Publish items to the current connection; returns one outcome per item.

        ``item_ids`` None with ``all_ready``: every ready, queued or failed
        item. An item missing details is refused with the list of what is
        missing. When the connection is expired (by lifetime, or because the
        software refuses the credentials) each outcome says "connection
        expired — reconnect" and the items wait as ``queued``.
        """
        if item_ids is None and not all_ready:
            raise ValueError("name the items to publish, or ask for all ready ones")
        record = self.connection()
        with self.store.connect() as conn:
            if item_ids is None:
                ids = [r[0] for r in conn.execute(sa.select(items_t.c.id).where(items_t.c.status != "published")
                                                  .order_by(items_t.c.id))]
            else:
                ids = list(dict.fromkeys(item_ids))
                known = {r[0] for r in conn.execute(sa.select(items_t.c.id).where(items_t.c.id.in_(ids)))}
                if set(ids) - known:
                    raise LookupError(f"no items {sorted(set(ids) - known)}")
        candidates = [self.item(i) for i in ids]
        if item_ids is None:
            candidates = [i for i in candidates if not i.missing]
        outcomes: dict[int, PublishOutcome] = {}
        todo: list[Item] = []
        for item in candidates:
            if item.status == "published":
                outcomes[item.id] = PublishOutcome(item.id, True, item.remote_bill_id)
            elif item.missing:
                outcomes[item.id] = PublishOutcome(item.id, False, error=str(ItemNotReady(item.id, list(item.missing))))
            else:
                todo.append(item)
        if todo:
            if record.status != "active":
                error = str(ConnectionExpired(record.id, record.status_reason)) if record.status == "expired" \
                    else f"accounting connection {record.id} is {record.status}"
                self._set_items([i.id for i in todo], "queued", error)
                outcomes.update({i.id: PublishOutcome(i.id, False, error=error) for i in todo})
            else:
                session = self._session(record)
                try:
                    try:
                        await self._open(record, session)
                    except ConnectionExpired as exc:
                        self._set_items([i.id for i in todo], "queued", "connection expired — reconnect")
                        results = [PublishOutcome(i.id, False, error=str(exc)) for i in todo]
                    except AccountingError as exc:
                        self._set_items([i.id for i in todo], "failed", str(exc))
                        results = [PublishOutcome(i.id, False, error=str(exc)) for i in todo]
                    else:
                        results = await asyncio.gather(*(self._publish_one(session, record, i.id) for i in todo))
                finally:
                    await session.aclose()
                outcomes.update({o.item_id: o for o in results})
        return [outcomes[i.id] for i in candidates]

    def publish(self, item_ids: Iterable[int] | None = None, *, all_ready: bool = False) -> list[PublishOutcome]:
        return run_blocking(self.apublish(item_ids, all_ready=all_ready))

    def _set_items(self, ids: list[int], status: str, reason: str) -> None:
        with self.store.begin() as conn:
            conn.execute(items_t.update().where(items_t.c.id.in_(ids), items_t.c.status != "published")
                         .values(status=status, status_reason=reason, updated_at=self.clock()))

    async def _publish_one(self, session: AccountingSession, record: AccountingConnection,
                           item_id: int) -> PublishOutcome:
        now = self.clock()
        with self.store.begin() as conn:
            pub = conn.execute(sa.select(pubs_t).where(pubs_t.c.item_id == item_id,
                                                       pubs_t.c.connection_id == record.id)).first()
            if pub is None:
                conn.execute(pubs_t.insert().values(item_id=item_id, connection_id=record.id, status="pending",
                                                    attempts=1, started_at=now, error=""))
                remote_id = None
            else:
                conn.execute(pubs_t.update().where(pubs_t.c.id == pub.id).values(
                    attempts=pub.attempts + 1, started_at=now, finished_at=None))
                remote_id = pub.remote_bill_id
            row = conn.execute(sa.select(items_t).where(items_t.c.id == item_id)).first()
            bill = self._bill(conn, row, record, remote_id)
        try:
            if self.connection(record.id).status != "active":  # another item found the credentials refused
                raise ConnectionExpired(record.id, self.connection(record.id).status_reason)
            result: PublishedBill = await self._calling(
                record, self.host.acall(record.connector, "publish_bill", session=session, bill=bill))
            if result is None:
                raise AccountingError(f"the plugin of {record.connector} does not implement publish_bill")
        except ConnectionExpired as exc:
            return self._failed(record, item_id, "queued", "connection expired — reconnect", str(exc))
        except Exception as exc:  # one item's failure never stops the others
            if not isinstance(exc, (AccountingError, ValueError)):
                log.warning("publishing item %s failed", item_id, exc_info=True)
            message = str(exc) or type(exc).__name__
            return self._failed(record, item_id, "failed", message, message)
        now = self.clock()
        with self.store.begin() as conn:
            vendor_entry_id = None
            if result.vendor is not None:
                upsert_lists_one(conn, record.id, result.vendor, now)
                vendor_entry_id = conn.execute(sa.select(entries_t.c.id).where(
                    entries_t.c.connection_id == record.id, entries_t.c.kind == ListKind.VENDORS.value,
                    entries_t.c.remote_id == result.vendor.remote_id)).scalar()
            conn.execute(pubs_t.update().where(pubs_t.c.item_id == item_id, pubs_t.c.connection_id == record.id)
                         .values(remote_bill_id=result.remote_id, remote_document_id=result.document_id,
                                 status="published", error="", finished_at=now))
            values: dict[str, Any] = {"status": "published", "status_reason": "", "updated_at": now}
            if vendor_entry_id is not None and row.vendor_entry_id is None:
                values["vendor_entry_id"] = vendor_entry_id
            conn.execute(items_t.update().where(items_t.c.id == item_id).values(**values))
        log.info("item %s published as bill %s", item_id, result.remote_id)
        return PublishOutcome(item_id, True, result.remote_id, created=result.created)

    def _failed(self, record: AccountingConnection, item_id: int, status: str, reason: str,
                error: str) -> PublishOutcome:
        now = self.clock()
        with self.store.begin() as conn:
            conn.execute(pubs_t.update().where(pubs_t.c.item_id == item_id, pubs_t.c.connection_id == record.id)
                         .values(status="failed", error=error, finished_at=now))
            conn.execute(items_t.update().where(items_t.c.id == item_id).values(
                status=status, status_reason=reason, updated_at=now))
        return PublishOutcome(item_id, False, error=error)

    async def aafter_fetch(self) -> list[PublishOutcome]:
        """What the runner calls after each fetch: create items for the new
        documents, then publish the ready items whose supplier rule says
        auto-publish. Without a current connection only items are created."""
        self.collect_items()
        with self.store.connect() as conn:
            if self._current_id(conn) is None:
                return []
            auto = {r[0] for r in conn.execute(sa.select(rules_t.c.id).where(rules_t.c.auto_publish.is_(True)))}
        ids = [i.id for i in self.items() if i.rule_id in auto and i.status in ("new", "failed") and not i.missing]
        return await self.apublish(ids) if ids else []

    def after_fetch(self) -> list[PublishOutcome]:
        return run_blocking(self.aafter_fetch())


def upsert_lists_one(conn: sa.Connection, connection_id: int, remote: Any, now: dt.datetime) -> None:
    """Insert or update one entry (a vendor the plugin created while publishing)."""
    row = conn.execute(sa.select(entries_t.c.id).where(
        entries_t.c.connection_id == connection_id, entries_t.c.kind == remote.kind.value,
        entries_t.c.remote_id == remote.remote_id)).first()
    values = {"name": remote.name, "code": remote.code, "active": remote.active, "raw": dict(remote.raw),
              "parent_remote_id": remote.parent_id, "days_due": remote.days_due, "updated_at": now}
    if row is None:
        conn.execute(entries_t.insert().values(connection_id=connection_id, kind=remote.kind.value,
                                               remote_id=remote.remote_id, first_seen_at=now, **values))
    else:
        conn.execute(entries_t.update().where(entries_t.c.id == row.id).values(**values))
