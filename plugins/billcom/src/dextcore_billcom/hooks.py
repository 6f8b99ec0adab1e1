"""The Bill.com connector: registration and the accounting hooks.

Credentials: the username and password, plus the connector fields
``organization_id`` (not secret) and ``dev_key`` (secret). The plugin keeps
in the vault, through :meth:`AccountingSession.remember`, the API session
(``api_session``: Bill.com allows 200 logins an hour, so a session is
reused across runs until it expires) and the MFA ``remember_me_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sys
import time
from typing import Any, Iterator, Mapping, Sequence

from dextcore.accounting import AccountingSession, Bill, ListKind, Organisation, PublishedBill, RemoteEntry
from dextcore.hookspecs import hookimpl
from dextcore.outcomes import IncorrectCode, IncorrectCredentials, PortalUnavailable, TwoFactorRequired
from dextcore.records import (
    Challenge,
    Connector,
    ConnectorKind,
    CredentialField,
    FieldType,
    TwoFactorMedium,
    Variant,
)
from dextcore_billcom.client import (
    ApiUnavailable,
    BillComClient,
    BillComError,
    CredentialsRejected,
    InvalidSession,
    LimitReached,
    MfaCodeRejected,
)

__all__ = ["LIST_ENDPOINTS", "MAX_DOCUMENT_BYTES", "entry_from"]

MAX_DOCUMENT_BYTES = 6 * 1024 * 1024
LIST_ENDPOINTS = {
    ListKind.ACCOUNTS: "/v3/classifications/chart-of-accounts",
    ListKind.VENDORS: "/v3/vendors",
    ListKind.CUSTOMERS: "/v3/customers",
    ListKind.CLASSES: "/v3/classifications/accounting-classes",
    ListKind.LOCATIONS: "/v3/classifications/locations",
    ListKind.PAYMENT_TERMS: "/v3/organizations/{organizationId}/payment-terms",
}
_CLIENT = "billcom.client"


@hookimpl
def register_connectors() -> list[Connector]:
    return [Connector(
        name="billcom",
        label="Bill.com",
        kind=ConnectorKind.ACCOUNTING,
        implementation=sys.modules["dextcore_billcom"],
        variants=(
            Variant("production", "Bill.com (gateway.prod.bill.com)", "https://gateway.prod.bill.com/connect",
                    default=True, currency="USD"),
            Variant("sandbox", "Bill.com developer sandbox (gateway.stage.bill.com)",
                    "https://gateway.stage.bill.com/connect", currency="USD"),
        ),
        fields=(
            CredentialField("organization_id", "Organisation id", FieldType.TEXT, required=True,
                            help="Settings › Sync & Integrations › Manage Developer Keys shows it (starts 008)."),
            CredentialField("dev_key", "Developer key (devKey)", FieldType.PASSWORD, secret=True, required=True,
                            help="The developer key of your Bill.com developer account."),
        ),
        allowed_domains=("bill.com",),
        two_factor=(TwoFactorMedium.SMS,),
        description="Publishes items as Bill.com bills with their PDF attached (v3 API).",
        max_concurrency=1,
    )]


@hookimpl
def register_sandbox_portals() -> list[type]:
    from dextcore_billcom.sandbox import BillcomPortal

    return [BillcomPortal]


# -- helpers -------------------------------------------------------------------------------


def _device(session: AccountingSession) -> str:
    # Stable per connection: Bill.com ties the remembered id to this name.
    return f"dextcore-{session.connection.id}"


def _client(session: AccountingSession) -> BillComClient:
    client = session.state.get(_CLIENT)
    if client is None:
        view = session.connection
        org = view.organisation_id or view.fields.get("organization_id") or ""
        if not session.base_url:
            raise ValueError("the Bill.com connection has no base URL")
        options = session.options
        client = BillComClient(
            session.base_url, dev_key=session.secret("dev_key") or "", organization_id=org,
            username=view.username, password=session.secret("password") or "",
            remember_me_id=session.secret("remember_me_id"), device=_device(session),
            session_id=session.secret("api_session"),
            on_session=lambda sid: session.remember("api_session", sid),
            timeout=float(options.get("timeout", 30.0)), backoff=float(options.get("backoff", 0.5)),
            max_attempts=int(options.get("max_attempts", 5)))
        session.state[_CLIENT] = client
        session.on_close(client.close)
    return client


@contextlib.contextmanager
def _outcomes() -> Iterator[None]:
    """Client errors → the outcomes the core understands."""
    try:
        yield
    except CredentialsRejected as exc:
        raise IncorrectCredentials(exc.message) from None
    except MfaCodeRejected as exc:
        raise IncorrectCode(exc.message) from None
    except (ApiUnavailable, LimitReached, InvalidSession) as exc:
        raise PortalUnavailable(exc.message) from None
    except BillComError as exc:
        raise ValueError(exc.message) from None


def entry_from(kind: ListKind, record: Mapping[str, Any]) -> RemoteEntry:
    """A Bill.com list record as a :class:`RemoteEntry`."""
    code = None
    if kind is ListKind.ACCOUNTS:
        code = (record.get("account") or {}).get("number")
    elif kind in (ListKind.CLASSES, ListKind.LOCATIONS):
        code = record.get("shortName") or None
    days = record.get("daysDue") if kind is ListKind.PAYMENT_TERMS else None
    return RemoteEntry(kind=kind, remote_id=str(record["id"]), name=str(record.get("name") or record["id"]),
                       code=code, active=not record.get("archived", False), parent_id=record.get("parentId"),
                       days_due=int(days) if days is not None else None, raw=record)


# -- hooks -----------------------------------------------------------------------------------


@hookimpl
async def connect_accounting(session: AccountingSession) -> Organisation:
    """Make sure the client holds a session.

    Interactive (connect, reconnect): log in afresh — the credentials are
    being checked — and, when the user has MFA on and no remembered device
    made the session trusted, start a challenge. Unattended (refresh,
    publish): reuse the stored API session (the client logs in again by
    itself if it expired); creating bills needs no trusted session.
    """
    client = _client(session)
    with _outcomes():
        if session.interactive or not client.has_session:
            await client.login()
        info = await client.session_info()
        trusted = bool(info.get("trusted", client.trusted))
        if session.interactive and info.get("mfaStatus") == "ENABLED" and not trusted:
            challenge_id = await client.mfa_challenge()
            raise TwoFactorRequired(Challenge(
                medium=TwoFactorMedium.SMS,
                prompt=f"Bill.com sent a verification code to the phone of {session.connection.username}",
                expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10),
                state={"challengeId": challenge_id}))
    return Organisation(id=str(info.get("organizationId") or client.organization_id), trusted=trusted)


@hookimpl
async def accounting_2fa(session: AccountingSession, challenge: Challenge, code: str) -> Organisation:
    client = _client(session)
    with _outcomes():
        remember = await client.mfa_validate(str(challenge.state["challengeId"]), code, device=_device(session),
                                             machine_name="dextcore")
    if remember:
        session.remember("remember_me_id", remember)
    return Organisation(id=client.organization_id, trusted=True)


@hookimpl
async def sync_lists(session: AccountingSession) -> Mapping[ListKind, Sequence[RemoteEntry]]:
    """The six lists, pulled concurrently (the client keeps 3 in flight at most)."""
    client = _client(session)

    async def pull(kind: ListKind, path: str) -> tuple[ListKind, list[RemoteEntry]]:
        records = await client.list_all(path.format(organizationId=client.organization_id))
        return kind, [entry_from(kind, r) for r in records]

    with _outcomes():
        pulled = await asyncio.gather(*(pull(k, p) for k, p in LIST_ENDPOINTS.items()))
    return dict(pulled)


def _bill_body(bill: Bill, vendor_id: str) -> dict[str, Any]:
    lines = []
    for line in bill.lines:
        classifications = {k: v for k, v in (("chartOfAccountId", line.account_id),
                                             ("accountingClassId", line.class_id),
                                             ("locationId", line.location_id)) if v}
        entry: dict[str, Any] = {"amount": float(line.amount), "description": line.description}
        if classifications:
            entry["classifications"] = classifications
        lines.append(entry)
    return {"vendorId": vendor_id,
            "invoice": {"invoiceNumber": bill.invoice_number, "invoiceDate": bill.invoice_date.isoformat()},
            "dueDate": bill.due_date.isoformat(), "billLineItems": lines}


async def _wait_uploaded(client: BillComClient, document_id: str, *, interval: float, timeout: float) -> None:
    """Poll upload-status until UPLOADED (bounded; the wait doubles up to 2 s)."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = await client.upload_status([document_id])
        if all(s.get("status") == "UPLOADED" for s in statuses):
            return
        if time.monotonic() >= deadline:
            raise ApiUnavailable(f"Bill.com is still processing document {document_id}; publish again later")
        await asyncio.sleep(interval)
        interval = min(interval * 2, 2.0)


@hookimpl
async def publish_bill(session: AccountingSession, bill: Bill) -> PublishedBill:
    """Vendor (found or created), bill (found, recorded or created), document (once)."""
    client = _client(session)
    body = bill.document_path.read_bytes()
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"the PDF is {len(body) / 1e6:.1f} MB; Bill.com accepts documents up to 6 MB")
    with _outcomes():
        vendor_entry = None
        vendor_id = bill.vendor_id
        if vendor_id is None:
            found = [v for v in await client.find_vendors(bill.vendor_name) if not v.get("archived")]
            vendor = found[0] if found else await client.create_vendor(bill.vendor_name)
            vendor_id = str(vendor["id"])
            vendor_entry = entry_from(ListKind.VENDORS, vendor)
        remote_id, created = bill.remote_id, False
        if remote_id is None:
            existing = await client.find_bills(vendor_id, bill.invoice_number)
            if existing:
                remote_id = str(existing[0]["id"])
                session.log.info("bill %s already exists in Bill.com; completing it", bill.invoice_number)
            else:
                remote_id = str((await client.create_bill(_bill_body(bill, vendor_id)))["id"])
                created = True
            session.record_bill(bill.item_id, remote_id)
        attached = next((d for d in await client.bill_documents(remote_id) if d.get("name") == bill.document_name),
                        None)
        if attached is None:
            attached = await client.upload_bill_document(remote_id, bill.document_name, body)
            await _wait_uploaded(client, str(attached["id"]), interval=float(session.options.get("poll_interval", 0.25)),
                                 timeout=float(session.options.get("upload_timeout", 60.0)))
    return PublishedBill(remote_id=remote_id, document_id=str(attached["id"]), vendor=vendor_entry, created=created)
