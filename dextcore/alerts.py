"""Alerts: telling a person that a connection needs them.

:class:`Alerter` first offers each alert to the ``alert`` hook (a plugin or
the embedding app may deliver it through chat, SMS, its own notification
centre ...); when no implementation takes it, the alert goes out as an
e-mail through the configured SMTP server. Sending never raises: a failed
alert is logged (without secrets) and reported as ``"failed"``, because a
broken mail server must not break a fetch.

:func:`status_message` writes the alert for a status change: what
happened, why, and what to do.
"""

from __future__ import annotations

import email.utils
import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from dextcore.statuses import Status

if TYPE_CHECKING:
    from dextcore.config import SmtpConfig
    from dextcore.plugins import PluginHost
    from dextcore.portal.session import ConnectionView

__all__ = ["Alerter", "SendResult", "status_message", "supplier_name"]

log = logging.getLogger(__name__)

SendResult = Literal["hook", "email", "failed"]


def _one_line(text: str) -> str:
    # Header injection guard: a reason or label with a line break must not
    # add headers to the e-mail.
    return " ".join(text.split())


class Alerter:
    """Delivers alerts: the ``alert`` hook first, then e-mail."""

    def __init__(self, smtp: SmtpConfig, host: PluginHost, *, timeout: float = 30.0) -> None:
        self.smtp = smtp
        self.host = host
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Alerter(smtp={self.smtp.host}:{self.smtp.port})"

    def send(self, recipient: str, subject: str, body: str, connection: ConnectionView | None = None) -> SendResult:
        """Deliver one alert; return how: ``"hook"``, ``"email"`` or ``"failed"``. Never raises."""
        try:
            delivered = self.host.first("alert", recipient=recipient, subject=subject, body=body,
                                        connection=connection)
        except Exception as exc:
            # A broken alert plugin must not swallow the alert: fall back to e-mail.
            log.warning("alert hook failed (%s); sending e-mail instead", type(exc).__name__, exc_info=True)
            delivered = None
        if delivered:
            return "hook"
        try:
            self._email(recipient, subject, body)
        except Exception as exc:
            log.warning("could not e-mail alert to %s through %s:%s: %s", recipient, self.smtp.host,
                        self.smtp.port, _describe_error(exc))
            return "failed"
        log.info("e-mailed alert %r to %s", _one_line(subject), recipient)
        return "email"

    def _email(self, recipient: str, subject: str, body: str) -> None:
        recipient = recipient.strip()
        if not recipient or any(c in recipient for c in "\r\n,;"):
            raise ValueError("the recipient is not a single e-mail address")
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = recipient
        message["Subject"] = _one_line(subject)
        message["Date"] = email.utils.formatdate(localtime=False)
        message["Message-ID"] = email.utils.make_msgid(domain=self.smtp.sender.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.timeout) as client:
            if self.smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.smtp.user:
                client.login(self.smtp.user, self.smtp.password or "")
            client.send_message(message, from_addr=self.smtp.sender, to_addrs=[recipient])


def _describe_error(exc: BaseException) -> str:
    """An SMTP failure in words, without echoing what the server said back
    about a login (which could quote the credentials)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the server refused the SMTP login (code {exc.smtp_code}); check DEXTCORE_SMTP_USER/PASSWORD"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} (code {exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the server refused the recipient"
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


def supplier_name(view: ConnectionView) -> str:
    """ "Amazon (amazon.co.uk)": the connector and the variant's site."""
    host = urlsplit(view.variant.base_url).hostname or ""
    if host.startswith("www."):
        host = host[4:]
    return f"{view.connector.label} ({host or view.variant.label})"


def status_message(view: ConnectionView, old: Status | None, new: Status, reason: str) -> tuple[str, str]:
    """The subject and body of the alert for a status change of ``view``.

    Says what happened, the reason the portal gave, and what to do. Holds
    nothing secret: the view has no secrets and only the username is shown.
    """
    supplier = supplier_name(view)
    subject = f"[dextcore] {supplier} — {new.label}"
    who = f" (connected as {view.username})" if view.username else ""
    lines = [
        f"The connection to {supplier}{who}, connection {view.id}, "
        + (f"changed from “{old.label}” to “{new.label}”." if old is not None else f"is now “{new.label}”."),
    ]
    if reason.strip():
        lines += ["", f"Reason: {reason.strip()}"]
    todo = _what_to_do(view, new)
    lines += ["", "What to do:", *todo] if todo else []
    lines += ["", "— dextcore"]
    return _one_line(subject), "\n".join(lines) + "\n"


def _what_to_do(view: ConnectionView, new: Status) -> list[str]:
    if new is Status.CONNECTED:
        return ["Nothing: the connection works and documents are being collected again."]
    todo = [new.hint] if new.hint else []
    if new is Status.INCORRECT_CREDENTIALS:
        variant = view.variant
        todo.append(f"This connection uses the variant “{variant.label}”.")
        if variant.hint:
            todo.append(variant.hint)
        others = [v.label for v in view.connector.variants if v.name != variant.name]
        if others:
            todo.append("Other variants of this supplier: " + ", ".join(others) + ".")
    return todo
