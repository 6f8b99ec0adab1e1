"""The hooks of dextcore (pluggy project name ``dextcore``).

Three families:

* **Registration** — :func:`register_connectors`: every plugin declares the
  connectors it offers as :class:`~dextcore.records.Connector` records.
* **Connector hooks** — :func:`authenticate`, :func:`handle_2fa`,
  :func:`list_documents`, :func:`download` (portals) and
  :func:`connect_accounting`, :func:`accounting_2fa`, :func:`sync_lists`,
  :func:`publish_bill` (accounting). The core calls these on the *one*
  plugin that owns the connection's connector (its
  ``Connector.implementation``), never on the others. Implementations may be
  ``async def`` (the core awaits the result) and may raise the outcomes of
  :mod:`dextcore.outcomes`; any other exception marks the connection
  "Plugin broken".
* **Event hooks** — :func:`status_changed`, :func:`document_collected`,
  :func:`challenge_raised`, :func:`alert`: called on every installed plugin
  and on objects an embedding app registers with
  :meth:`dextcore.plugins.PluginHost.register`. Exceptions raised by event
  hooks are logged and never interrupt a fetch.

Every hook is documented in docs/hooks.md; a test fails when one is not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Iterable, Mapping, Sequence

import pluggy

if TYPE_CHECKING:
    import datetime as dt

    from dextcore.accounting import AccountingSession, Bill, ListKind, Organisation, PublishedBill, RemoteEntry
    from dextcore.records import Challenge, Connector, DocumentRef, Downloaded
    from dextcore.portal.session import ConnectionView, PortalSession
    from dextcore.statuses import Status

PROJECT = "dextcore"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["PROJECT", "hookimpl", "hookspec"]


# -- registration ---------------------------------------------------------


@hookspec
def register_connectors() -> Iterable[Connector]:
    """Declare the connectors this plugin offers.

    Called once when plugins are loaded. Return (or yield) the
    :class:`~dextcore.records.Connector` records; their ``implementation``
    is the object whose connector hooks serve them, usually the plugin
    module itself. Connector names are global: a second connector with a
    taken name is refused and reported as a plugin load failure.

    .. versionadded:: 0.1

    Example::

        @hookimpl
        def register_connectors():
            return [Connector(name="acme", label="ACME", kind=ConnectorKind.SUPPLIER,
                              implementation=sys.modules[__name__], ...)]
    """


# -- portal connector hooks -------------------------------------------------


@hookspec(firstresult=True)
def authenticate(session: PortalSession) -> Awaitable[None] | None:
    """Log in to the portal.

    Called at the start of every fetch, after a saved session (cookies or
    browser state) has been restored: first check whether the session is
    still logged in and return at once if so — this is what spares the
    user repeated 2FA. Otherwise run the portal's login flow with
    ``session.username`` and ``session.secret("password")``.

    Return ``None`` once logged in. Raise
    :class:`~dextcore.outcomes.TwoFactorRequired` with a
    :class:`~dextcore.records.Challenge` when the portal asks for a second
    factor (the core then calls :func:`handle_2fa`), or another outcome
    (incorrect credentials, SSO, captcha, action required, portal
    unavailable, layout changed). Try a password once per call: never loop
    on a rejected one.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def handle_2fa(session: PortalSession, challenge: Challenge, code: str | None) -> Awaitable[None] | None:
    """Complete a two-factor challenge raised by :func:`authenticate`.

    ``code`` is the one-time code: generated from the stored TOTP secret
    for ``app`` challenges, typed by a person for ``sms``/``email``, and
    ``None`` for ``push`` challenges, which the plugin polls (bounded) until
    approved. ``challenge.state`` is what the plugin stored when raising it.
    Tick the portal's "remember this device" box where there is one.

    Return ``None`` when logged in; raise
    :class:`~dextcore.outcomes.IncorrectCode` for a rejected code (the core
    may ask again), or any other outcome.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def list_documents(session: PortalSession, since: dt.date | None) -> AsyncIterator[DocumentRef] | None:
    """Yield every document dated on or after ``since`` (all when ``None``).

    An async generator of :class:`~dextcore.records.DocumentRef`, across
    pagination, years and billing accounts. Each ref needs a ``stable_id``
    that does not depend on URLs. The core skips refs it already holds, so
    yield freely; it downloads the rest while listing goes on.

    Distinguish "no documents" from "page not understood": when a page
    cannot be parsed, raise :class:`~dextcore.outcomes.LayoutChanged` with
    the page instead of yielding nothing.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def download(session: PortalSession, document: DocumentRef) -> Awaitable[Downloaded] | None:
    """Fetch the bytes of ``document`` and return a
    :class:`~dextcore.records.Downloaded`.

    The result must be a PDF: print HTML-only documents with
    ``session.print_pdf``. A portal that answers with its sign-in page
    (an expired session) must be detected — re-authenticate once, then
    raise an outcome. The inbox validates the body again before storing.

    .. versionadded:: 0.1
    """


# -- accounting connector hooks ----------------------------------------------
#
# The accounting model (connections, lists, rules, items, publications) is
# the core's (:mod:`dextcore.accounting`); a provider plugin only talks to
# its API through an :class:`~dextcore.accounting.AccountingSession`. The
# core checks expiry and roles before calling these, and maps
# :class:`~dextcore.outcomes.IncorrectCredentials` raised by any of them to
# an Expired connection (the software refused the stored credentials).


@hookspec(firstresult=True)
def connect_accounting(session: AccountingSession) -> Awaitable[Organisation] | None:
    """Log in to the accounting software with the connection's credentials.

    Called at the start of every operation: connect and reconnect
    (``session.interactive`` true: log in afresh, a person can type a
    code), refresh and publish (unattended: reuse a kept API session when
    the plugin has one, and never start a second factor nobody will
    answer). Read credentials with ``session.secret(...)`` (``password``
    and the connector's secret fields) and ``session.connection``
    (username, organisation id, non-secret fields). Use a remembered device
    (``session.secret("remember_me_id")``) when there is one, so that MFA
    is not asked again.

    Return the :class:`~dextcore.accounting.Organisation` reached. Raise
    :class:`~dextcore.outcomes.TwoFactorRequired` with a
    :class:`~dextcore.records.Challenge` when the software sent a code (the
    core then calls :func:`accounting_2fa` with the code a person typed),
    :class:`~dextcore.outcomes.IncorrectCredentials` when the login is
    refused, :class:`~dextcore.outcomes.PortalUnavailable` when the API
    cannot be reached.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def accounting_2fa(session: AccountingSession, challenge: Challenge, code: str) -> Awaitable[Organisation] | None:
    """Complete the second factor raised by :func:`connect_accounting`.

    Validate ``code`` against ``challenge`` (its ``state`` is what the
    plugin stored), ask the software to remember the device and keep the
    remembered id with ``session.remember("remember_me_id", ...)`` so the
    next logins skip MFA. Return the :class:`~dextcore.accounting.Organisation`;
    raise :class:`~dextcore.outcomes.IncorrectCode` for a refused code.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def sync_lists(session: AccountingSession) -> Awaitable[Mapping[ListKind, Sequence[RemoteEntry]]] | None:
    """Pull the accounting software's lists: chart of accounts, suppliers
    (vendors), customers, classes, locations, payment terms.

    Return a mapping of :class:`~dextcore.accounting.ListKind` to every
    :class:`~dextcore.accounting.RemoteEntry` currently in the software,
    across all pages, archived ones included with ``active=False``. The
    core upserts them by remote id and marks entries that disappeared
    inactive; it never deletes an entry (rules may point at it). Omit a
    kind the software does not have: its stored entries are left alone.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def publish_bill(session: AccountingSession, bill: Bill) -> Awaitable[PublishedBill] | None:
    """Create ``bill`` in the accounting software and attach its PDF.

    Idempotent from the caller's side — a retry after a timeout or a crash
    never creates a second bill:

    * when ``bill.remote_id`` is set, an earlier attempt created the bill:
      complete it (attach the document if it is not attached yet);
    * otherwise look the bill up (supplier + invoice number) before
      creating it;
    * call ``session.record_bill(bill.item_id, remote_id)`` as soon as the
      bill exists, before uploading the document.

    When ``bill.vendor_id`` is ``None`` find the supplier by name or
    create it first, and return it in ``PublishedBill.vendor``. Return a
    :class:`~dextcore.accounting.PublishedBill`. Raise
    :class:`~dextcore.outcomes.IncorrectCredentials` when the stored
    credentials are refused (the core expires the connection),
    :class:`~dextcore.outcomes.PortalUnavailable` for transient failures,
    :class:`ValueError` with the software's message when it refuses the bill.

    .. versionadded:: 0.1
    """


# -- event hooks ----------------------------------------------------------------


@hookspec
def status_changed(connection: ConnectionView, old: Status | None, new: Status, reason: str) -> None:
    """A connection's status changed (never called for the same status again).

    Called on every plugin and registered app object after the change is
    recorded. Use it to feed an app's own notifications.

    .. versionadded:: 0.1
    """


@hookspec
def document_collected(connection: ConnectionView, document: Any) -> None:
    """A new document was stored in the inbox.

    ``document`` is the stored :class:`dextcore.inbox.StoredDocument` (its
    metadata and the path of the PDF). Called once per document, never for
    duplicates.

    .. versionadded:: 0.1
    """


@hookspec
def challenge_raised(connection: ConnectionView, challenge: Challenge, interactive: bool) -> None:
    """A portal asked for a two-factor code that no stored secret answers.

    ``interactive`` is true when a forced fetch is waiting for the code
    (submit it with ``dextcore 2fa submit`` or
    :meth:`dextcore.api.Dextcore.submit_code`); false when an unattended run
    gave up and recorded "Additional information required".

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def alert(recipient: str, subject: str, body: str, connection: ConnectionView | None) -> bool | None:
    """Deliver an alert to a person through another channel than e-mail.

    Return ``True`` when delivered: the core then skips its own e-mail.
    Return ``None`` to let the next implementation (finally the built-in
    SMTP sender) deliver it.

    .. versionadded:: 0.1
    """


# -- sandbox ---------------------------------------------------------------------


@hookspec
def register_sandbox_portals() -> Iterable[type]:
    """Offer fake portals (subclasses of
    :class:`dextcore.sandbox.SandboxPortal`) standing in for this plugin's
    real sites, for tests, the tutorial and ``dextcore demo``.

    .. versionadded:: 0.1
    """
