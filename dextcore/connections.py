"""Supplier connections: create, invite, edit, delete, statuses.

A connection is one login to one supplier portal for one business. Its
non-secret facts live in the ``connections`` table; its password, TOTP
secret and other secret fields live in the vault only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets as _secrets
import zoneinfo
from typing import Any, Iterable, Mapping

import attrs
import sqlalchemy as sa

from dextcore.totp import InvalidTotpSecret, normalise_secret
from dextcore.records import Connector, ConnectorKind, Direction, FieldType
from dextcore.portal.session import ConnectionView
from dextcore.statuses import Status
from dextcore.store import Store, as_utc, schema, utcnow

__all__ = [
    "Connection",
    "ConnectionError",
    "Connections",
    "Created",
    "Invitation",
    "InvitationError",
    "StatusChange",
    "credential_warnings",
]

SCOPE = "connection"
#: Asked for by the core for every connector. A connector may still declare
#: them, to give them its own label ("BT ID", "E-mail address").
CORE_FIELDS = ("username", "password")
INVITATION_LIFETIME = dt.timedelta(days=7)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConnectionError(ValueError):  # noqa: A001 - the domain's own word
    """A connection request that cannot be honoured; the message says why."""


class InvitationError(ConnectionError):
    pass


@attrs.frozen
class Connection:
    """A connection row (never holds secrets)."""

    id: int
    connector: str
    variant: str | None
    direction: Direction
    owner: str
    created_by: str
    notify: str
    username: str | None
    timezone: str
    history_from: dt.date | None
    fields: Mapping[str, Any]
    base_url: str | None
    status: Status
    status_reason: str
    status_changed_at: dt.datetime
    documents_count: int
    last_fetched_at: dt.datetime | None
    interval_seconds: int
    window: Mapping[str, Any] | None
    next_run_at: dt.datetime | None
    last_run_at: dt.datetime | None
    last_full_run_at: dt.datetime | None
    failures: int
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: Any) -> Connection:
        m = row._mapping
        return cls(
            id=m["id"],
            connector=m["connector"],
            variant=m["variant"],
            direction=Direction(m["direction"]),
            owner=m["owner"],
            created_by=m["created_by"],
            notify=m["notify"],
            username=m["username"],
            timezone=m["timezone"],
            history_from=m["history_from"],
            fields=dict(m["fields"] or {}),
            base_url=m["base_url"],
            status=Status(m["status"]),
            status_reason=m["status_reason"],
            status_changed_at=as_utc(m["status_changed_at"]),  # type: ignore[arg-type]
            documents_count=m["documents_count"],
            last_fetched_at=as_utc(m["last_fetched_at"]),
            interval_seconds=m["interval_seconds"],
            window=m["window"],
            next_run_at=as_utc(m["next_run_at"]),
            last_run_at=as_utc(m["last_run_at"]),
            last_full_run_at=as_utc(m["last_full_run_at"]),
            failures=m["failures"],
            created_at=as_utc(m["created_at"]),  # type: ignore[arg-type]
        )


@attrs.frozen
class Created:
    """A new connection and the entry-hygiene warnings for what was typed."""

    connection: Connection
    warnings: tuple[str, ...] = ()


@attrs.frozen
class Invitation:
    connection: Connection
    token: str = attrs.field(repr=False)
    """Give this to the client once; only its hash is stored."""
    expires_at: dt.datetime


@attrs.frozen
class StatusChange:
    at: dt.datetime
    old: Status | None
    new: Status
    reason: str


def credential_warnings(username: str | None, password: str | None) -> tuple[str, ...]:
    """What looks mistyped in a username/password, without changing either.

    Passwords and usernames are case sensitive and stray spaces are the
    classic mistake (product.md §1). The password itself never appears in a
    warning.
    """
    found: list[str] = []
    if username is not None:
        if username != username.strip():
            found.append("The username starts or ends with a space; portals usually reject that.")
        core = username.strip()
        if _EMAIL.match(core) and core != core.lower():
            found.append(
                "The username is an e-mail address with capital letters; "
                "check they match what the portal expects."
            )
    if password is not None and password != password.strip():
        found.append(
            "The password starts or ends with a space. It was kept exactly as typed; "
            "remove the space if it was not intended."
        )
    return tuple(found)


class Connections:
    """The connection service of one dextcore instance."""

    def __init__(self, store: Store, vault: Any, host: Any, alerter: Any | None = None) -> None:
        self.store = store
        self.vault = vault
        self.host = host
        self.alerter = alerter

    # -- reading -------------------------------------------------------------

    def get(self, connection_id: int) -> Connection:
        with self.store.connect() as conn:
            row = conn.execute(
                sa.select(schema.connections).where(schema.connections.c.id == connection_id)
            ).first()
        if row is None:
            raise ConnectionError(f"there is no connection {connection_id}")
        return Connection.from_row(row)

    def list(self, *, needing_attention: bool = False) -> list[Connection]:
        query = sa.select(schema.connections).order_by(schema.connections.c.id)
        if needing_attention:
            attention = [s.value for s in Status if s.needs_attention]
            query = query.where(schema.connections.c.status.in_(attention))
        with self.store.connect() as conn:
            return [Connection.from_row(r) for r in conn.execute(query)]

    def history(self, connection_id: int) -> list[StatusChange]:
        t = schema.status_history
        with self.store.connect() as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.connection_id == connection_id).order_by(t.c.at, t.c.id)
            )
            return [
                StatusChange(
                    at=as_utc(r.at),  # type: ignore[arg-type]
                    old=Status(r.old) if r.old else None,
                    new=Status(r.new),
                    reason=r.reason,
                )
                for r in rows
            ]

    def view(self, connection: Connection | int) -> ConnectionView:
        """What plugins and event hooks see of a connection."""
        if isinstance(connection, int):
            connection = self.get(connection)
        connector = self.host.connector(connection.connector)
        return ConnectionView(
            id=connection.id,
            connector=connector,
            variant=connector.variant(connection.variant),
            username=connection.username,
            timezone=connection.timezone,
            history_from=connection.history_from,
            fields=connection.fields,
        )

    def secret(self, connection_id: int, name: str) -> str | None:
        return self.vault.get(SCOPE, connection_id, name)

    # -- creating ---------------------------------------------------------------

    def create(
        self,
        *,
        connector: str,
        owner: str,
        created_by: str,
        username: str,
        password: str,
        variant: str | None = None,
        direction: Direction | str = Direction.COST,
        notify: str | None = None,
        timezone: str = "UTC",
        history_from: dt.date | None = None,
        fields: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> Created:
        """Create a connection and schedule its first (full) fetch now."""
        spec = self._supplier(connector)
        variant_name = spec.variant(variant).name if spec.variants else None
        plain, secret_fields = self._split_fields(spec, fields or {}, require=True)
        if not username:
            raise ConnectionError("a username is required")
        if not password:
            raise ConnectionError("a password is required")
        _check_timezone(timezone)
        now = utcnow()
        with self.store.begin() as conn:
            new_id = self._insert(
                conn, now, spec=spec, variant=variant_name, direction=direction, owner=owner, created_by=created_by,
                notify=notify, username=username, timezone=timezone, history_from=history_from, fields=plain,
                base_url=base_url, status=Status.CONNECTING, reason="Waiting for the first fetch.",
                history_reason="Connection created.", next_run_at=now,
            )
        # The row exists before its secrets so the vault can bind them to its id.
        try:
            self.vault.put(SCOPE, new_id, "password", password)
            for name, value in secret_fields.items():
                self.vault.put(SCOPE, new_id, name, value)
        except Exception:
            with self.store.begin() as conn:
                conn.execute(schema.connections.delete().where(schema.connections.c.id == new_id))
            raise
        return Created(self.get(new_id), credential_warnings(username, password))

    def invite(
        self,
        *,
        connector: str,
        owner: str,
        created_by: str,
        variant: str | None = None,
        direction: Direction | str = Direction.COST,
        notify: str | None = None,
        email: str | None = None,
        timezone: str = "UTC",
        history_from: dt.date | None = None,
        lifetime: dt.timedelta = INVITATION_LIFETIME,
        base_url: str | None = None,
    ) -> Invitation:
        """"Ask the client to connect": a connection without credentials and
        a one-time token with which the client enters them."""
        spec = self._supplier(connector)
        variant_name = spec.variant(variant).name if spec.variants else None
        _check_timezone(timezone)
        token = _secrets.token_urlsafe(32)
        now = utcnow()
        expires = now + lifetime
        with self.store.begin() as conn:
            new_id = self._insert(
                conn, now, spec=spec, variant=variant_name, direction=direction, owner=owner, created_by=created_by,
                notify=notify, username=None, timezone=timezone, history_from=history_from, fields={},
                base_url=base_url, status=Status.AWAITING_CLIENT,
                reason="Invitation sent" + (f" to {email}." if email else "."),
                history_reason="Client invited.", next_run_at=None,
            )
            conn.execute(
                schema.invitations.insert().values(
                    token_sha256=_token_hash(token), connection_id=new_id, email=email, expires_at=expires, created_at=now
                )
            )
        return Invitation(self.get(new_id), token, expires)

    def accept(
        self,
        token: str,
        *,
        username: str,
        password: str,
        fields: Mapping[str, str] | None = None,
    ) -> Created:
        """The client enters their credentials with an invitation token.

        The token works once and until it expires; the creator is alerted.
        """
        t = schema.invitations
        now = utcnow()
        with self.store.begin() as conn:
            row = conn.execute(sa.select(t).where(t.c.token_sha256 == _token_hash(token))).first()
            if row is None:
                raise InvitationError("this invitation is not valid")
            if row.accepted_at is not None:
                raise InvitationError("this invitation has already been used")
            if as_utc(row.expires_at) < now:  # type: ignore[operator]
                raise InvitationError("this invitation has expired; ask for a new one")
            # Claim the token inside the transaction so two clients cannot both use it.
            claimed = conn.execute(
                t.update().where(t.c.token_sha256 == row.token_sha256, t.c.accepted_at.is_(None)).values(accepted_at=now)
            ).rowcount
            if claimed != 1:
                raise InvitationError("this invitation has already been used")
            connection_id = row.connection_id
        connection = self.get(connection_id)
        created = self.edit(connection_id, username=username, password=password, fields=fields)
        if self.alerter is not None:
            view = self.view(connection)
            self.alerter.send(
                connection.created_by,
                f"[dextcore] {view.connector.label}: your client has connected",
                f"Your client entered the credentials for {view.connector.label} "
                f"({view.variant.label}) as {username.strip()!r}. The first fetch is scheduled now.",
                view,
            )
        return created

    # -- changing --------------------------------------------------------------

    def edit(
        self,
        connection_id: int,
        *,
        username: str | None = None,
        password: str | None = None,
        timezone: str | None = None,
        history_from: dt.date | None | type[attrs.NOTHING] = attrs.NOTHING,  # type: ignore[valid-type]
        fields: Mapping[str, str] | None = None,
    ) -> Created:
        """Edit credentials (and timezone, history date, plugin fields).

        Changing the username or password drops the saved session and
        schedules a fetch now: it is the user's answer to "Incorrect login
        credentials", which is never retried on its own.
        """
        current = self.get(connection_id)
        spec = self._supplier(current.connector)
        values: dict[str, Any] = {}
        secret_fields: dict[str, str] = {}
        if fields:
            plain, secret_fields = self._split_fields(spec, fields, require=False)
            values["fields"] = {**current.fields, **plain}
        if username is not None:
            if not username:
                raise ConnectionError("the username cannot be empty")
            values["username"] = username
        if password is not None and not password:
            raise ConnectionError("the password cannot be empty")
        if timezone is not None:
            _check_timezone(timezone)
            values["timezone"] = timezone
        if history_from is not attrs.NOTHING:
            values["history_from"] = history_from
        credentials_changed = username is not None or password is not None or bool(secret_fields)
        if credentials_changed:
            values["next_run_at"] = utcnow()
        if values:
            with self.store.begin() as conn:
                conn.execute(
                    schema.connections.update().where(schema.connections.c.id == connection_id).values(**values)
                )
        if password is not None:
            self.vault.put(SCOPE, connection_id, "password", password)
        for name, value in secret_fields.items():
            self.vault.put(SCOPE, connection_id, name, value)
        if credentials_changed:
            self.vault.delete(SCOPE, connection_id, "session")
            self.set_status(connection_id, Status.CONNECTING, "Credentials changed; fetching now.")
        return Created(self.get(connection_id), credential_warnings(username, password))

    def set_notify(self, connection_id: int, user: str) -> Connection:
        """Change who receives this connection's alerts."""
        self.get(connection_id)
        with self.store.begin() as conn:
            self._ensure_users(conn, [user], utcnow())
            conn.execute(
                schema.connections.update().where(schema.connections.c.id == connection_id).values(notify=user)
            )
        return self.get(connection_id)

    def set_schedule(
        self,
        connection_id: int,
        *,
        interval: dt.timedelta | None = None,
        window: Mapping[str, Any] | None | type[attrs.NOTHING] = attrs.NOTHING,  # type: ignore[valid-type]
    ) -> Connection:
        """Change how often a connection is checked (weekly by default) and
        when unattended runs may start: ``window`` is ``{"weekdays": [0..6],
        "hours": [start, end]}`` in the connection's timezone (Monday is 0;
        ``None`` removes it), so 2FA prompts never come at weekends or at night."""
        from dextcore.runner.schedule import next_slot

        current = self.get(connection_id)
        values: dict[str, Any] = {}
        if interval is not None:
            if interval < dt.timedelta(hours=1):
                raise ConnectionError("a connection is checked at most once an hour")
            values["interval_seconds"] = int(interval.total_seconds())
        if window is not attrs.NOTHING:
            values["window"] = _check_window(window)  # type: ignore[arg-type]
        if not values:
            return current
        if current.next_run_at is not None and current.last_run_at is not None:
            # Re-plan the next regular check; a first fetch stays due now.
            values["next_run_at"] = next_slot(
                connection_id, values.get("interval_seconds", current.interval_seconds), utcnow(),
                window=values.get("window", current.window), timezone=current.timezone)
        with self.store.begin() as conn:
            conn.execute(schema.connections.update().where(schema.connections.c.id == connection_id).values(**values))
        return self.get(connection_id)

    def set_base_url(self, connection_id: int, base_url: str | None) -> None:
        """Point a connection at another address of its portal (sandbox, tests)."""
        with self.store.begin() as conn:
            conn.execute(
                schema.connections.update().where(schema.connections.c.id == connection_id).values(base_url=base_url)
            )

    def delete(self, connection_id: int) -> None:
        """Remove a connection and its secrets; its documents stay."""
        self.get(connection_id)
        self.vault.delete(SCOPE, connection_id)
        with self.store.begin() as conn:
            # Explicit for databases where the foreign key's ON DELETE is not enforced.
            conn.execute(
                schema.documents.update()
                .where(schema.documents.c.connection_id == connection_id)
                .values(connection_id=None)
            )
            conn.execute(schema.connections.delete().where(schema.connections.c.id == connection_id))

    # -- statuses ---------------------------------------------------------------

    def set_status(self, connection_id: int, status: Status, reason: str = "", *, alert: bool | None = None) -> bool:
        """Move a connection to ``status``; return whether it changed.

        The change is recorded (from, to, when, why), event hooks hear of it
        and the notify user is alerted. The same status again changes
        nothing and sends nothing. By default there is no alert for a run
        starting (Connecting), for a run ending where it was before it
        started, or for Portal unavailable (retried automatically; pass
        ``alert=True`` once it persists).
        """
        now = utcnow()
        t = schema.connections
        with self.store.begin() as conn:
            row = conn.execute(sa.select(t.c.status).where(t.c.id == connection_id)).first()
            if row is None:
                raise ConnectionError(f"there is no connection {connection_id}")
            old = Status(row.status)
            if old is status:
                if reason:
                    conn.execute(t.update().where(t.c.id == connection_id).values(status_reason=reason))
                return False
            conn.execute(
                t.update()
                .where(t.c.id == connection_id)
                .values(status=status.value, status_reason=reason, status_changed_at=now)
            )
            conn.execute(
                schema.status_history.insert().values(
                    connection_id=connection_id, at=now, old=old.value, new=status.value, reason=reason
                )
            )
            settled = self._settled_before(conn, connection_id) if old is Status.CONNECTING else old
        connection = self.get(connection_id)
        view = self.view(connection)
        self.host.emit("status_changed", connection=view, old=old, new=status, reason=reason)
        if alert is None:
            alert = status not in (Status.CONNECTING, Status.PORTAL_UNAVAILABLE) and status is not settled
        if alert and self.alerter is not None:
            from dextcore.alerts import status_message

            subject, body = status_message(view, old, status, reason)
            self.alerter.send(connection.notify, subject, body, view)
        return True

    # -- helpers -----------------------------------------------------------------

    def _insert(self, conn: Any, now: dt.datetime, *, spec: Connector, variant: str | None,
                direction: Direction | str, owner: str, created_by: str, notify: str | None,
                username: str | None, timezone: str, history_from: dt.date | None, fields: Mapping[str, str],
                base_url: str | None, status: Status, reason: str, history_reason: str,
                next_run_at: dt.datetime | None) -> int:
        """Insert a connection row and its first status-history entry; its id."""
        self._ensure_users(conn, [owner, created_by, notify or created_by], now)
        new_id = conn.execute(
            schema.connections.insert().values(
                connector=spec.name, variant=variant, direction=Direction(direction).value, owner=owner,
                created_by=created_by, notify=notify or created_by, username=username, timezone=timezone,
                history_from=history_from, fields=dict(fields), base_url=base_url, status=status.value,
                status_reason=reason, status_changed_at=now, next_run_at=next_run_at, created_at=now,
            )
        ).inserted_primary_key[0]
        conn.execute(
            schema.status_history.insert().values(
                connection_id=new_id, at=now, old=None, new=status.value, reason=history_reason
            )
        )
        return int(new_id)

    def _settled_before(self, conn: Any, connection_id: int) -> Status | None:
        """The status before the current run started (the last one that was
        not Connecting), to tell a real change from a run ending as it began."""
        h = schema.status_history
        rows = conn.execute(
            sa.select(h.c.old).where(h.c.connection_id == connection_id).order_by(h.c.at.desc(), h.c.id.desc())
        ).fetchall()
        # rows[0] is the change just recorded (old == Connecting); walk back
        # over entries into Connecting to the status that was left.
        for r in rows[1:]:
            if r.old is not None and r.old != Status.CONNECTING.value:
                return Status(r.old)
            if r.old is None:
                return None
        return None

    def _supplier(self, name: str) -> Connector:
        spec = self.host.connector(name)
        if spec.kind is not ConnectorKind.SUPPLIER:
            raise ConnectionError(f"{name!r} is an accounting connector; use `dextcore accounting connect`")
        return spec

    def _split_fields(
        self, spec: Connector, fields: Mapping[str, str], *, require: bool
    ) -> tuple[dict[str, str], dict[str, str]]:
        plain: dict[str, str] = {}
        secret: dict[str, str] = {}
        for name, value in fields.items():
            field = spec.field(name)
            if field is None or name in CORE_FIELDS:
                known = ", ".join(f.name for f in spec.fields) or "none"
                raise ConnectionError(f"{spec.label} has no field {name!r} (fields: {known})")
            if field.type is FieldType.TOTP_SECRET:
                value = _normalise_totp_secret(value, field.label)
            if field.choices and value not in field.choices:
                raise ConnectionError(f"{field.label} must be one of: {', '.join(field.choices)}")
            (secret if field.secret else plain)[name] = value
        if require:
            missing = [
                f.label for f in spec.fields if f.required and f.name not in fields and f.name not in CORE_FIELDS
            ]
            if missing:
                raise ConnectionError(f"missing required field(s): {', '.join(missing)}")
        return plain, secret

    @staticmethod
    def _ensure_users(conn: Any, users: Iterable[str], now: dt.datetime) -> None:
        t = schema.users
        for user in dict.fromkeys(users):
            if conn.execute(sa.select(t.c.id).where(t.c.id == user)).first() is None:
                conn.execute(t.insert().values(id=user, name="", role="member", created_at=now))


def _check_window(window: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if window is None:
        return None
    weekdays = sorted({int(d) for d in window.get("weekdays", range(7))})
    hours = [int(h) for h in window.get("hours", (0, 24))]
    if not weekdays or any(not 0 <= d <= 6 for d in weekdays):
        raise ConnectionError("window weekdays must be numbers 0 (Monday) to 6 (Sunday)")
    if len(hours) != 2 or not 0 <= hours[0] < hours[1] <= 24:
        raise ConnectionError("window hours must be [start, end] with 0 <= start < end <= 24")
    return {"weekdays": weekdays, "hours": hours}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_timezone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConnectionError(f"unknown timezone {name!r} (use an IANA name such as Europe/London)") from None


def _normalise_totp_secret(value: str, label: str) -> str:
    try:
        return normalise_secret(value)
    except InvalidTotpSecret as exc:
        raise ConnectionError(f"{label} is not a valid authenticator secret: {exc}") from None
